"""`Store.openIncident { record { lostRevenue } }` and `Store.incidents { record {
lostRevenue } }` on a page of stores: the records' lost revenue in one engine pass for
the page (a fixed number of queries whatever its size), equal to each incident's own."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.alerts.models import Incident
from monitoring.models import Owner, Store, StoreRevenue
from monitoring.stores.access import token_create

from tests.alert_polls import record
from tests.factories import make_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_read_cache(settings):
    settings.API_READ_CACHE_SECONDS = 0  # every request computed: its queries are counted

PAGE = """{ stores(pagination: {limit: 50}, ordering: [{id: ASC}]) { results { id
  openIncident { lostRevenue { amount } record { id lostRevenue { amount atRisk currency } } } } } }"""
ONE = """query($id: ID!) { incident(id: $id) { id lostRevenue { amount atRisk currency } } }"""
HISTORY = """query($from: DateTime!, $to: DateTime!) { stores(pagination: {limit: 50}, ordering: [{id: ASC}]) { results {
  id incidents(from: $from, to: $to) { record { id lostRevenue { amount atRisk currency } } } } } }"""


def _down_stores(alert_world, count: int, *, start: int = 0) -> None:
    """`count` more of alice's stores, each with expected revenue (its own rate) and an
    outage in progress that started live (an OPEN incident)."""
    alice = Owner.objects.get(name="alice")
    now = timezone.now().replace(microsecond=0)
    for n in range(start, start + count):
        store = make_store(f"d{n:02d}")
        store.owner = alice
        store.save()
        StoreRevenue.objects.bulk_create(
            StoreRevenue(store=store, day_of_week=day, hour=hour, expected_revenue=Decimal(40 + 3 * n + hour), currency="EUR")
            for day in range(7) for hour in range(24)
        )
        record(alert_world["alice"], (store.store_id, now - timedelta(minutes=50 + n), "active"),
               (store.store_id, now - timedelta(minutes=30 + n), "inactive"))


def _page(client, token) -> tuple[list[dict], int]:
    with CaptureQueriesContext(connection) as queries:
        stores = graphql(client, PAGE, token=token)["data"]["stores"]["results"]
    return stores, len(queries.captured_queries)


def test_a_pages_open_incident_records_price_their_lost_revenue_in_one_pass(alert_world):
    token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    client = Client()
    _down_stores(alert_world, 2)
    _page(client, token)  # the first request of a token does some once-only work
    small, small_queries = _page(client, token)
    _down_stores(alert_world, 5, start=2)
    read_at = timezone.now()
    stores, queries = _page(client, token)
    assert queries == small_queries, (small_queries, queries)  # the page's size costs no query
    down = [s for s in stores if s["openIncident"] is not None]
    assert [s["id"] for s in down] == [f"d{n:02d}" for n in range(7)]
    assert Incident.objects.filter(status=Incident.Status.OPEN).count() == 7
    for store in down:
        incident = store["openIncident"]["record"]
        alone = graphql(client, ONE, {"id": incident["id"]}, token=token)["data"]["incident"]
        # Still open, each costs more by the minute: alone, read later, by at most what
        # the time since the page was read costs at the highest hourly rate (81 EUR).
        drift = Decimal(81) * Decimal((timezone.now() - read_at).total_seconds()) / 3600 + Decimal("0.01")
        paged, own = incident["lostRevenue"], alone["lostRevenue"]
        assert (paged["currency"], paged["atRisk"]) == (own["currency"], own["atRisk"]) == ("EUR", "0.00"), store["id"]
        assert Decimal(0) < Decimal(paged["amount"]) <= Decimal(own["amount"]) <= Decimal(paged["amount"]) + drift, store["id"]
    amounts = {s["openIncident"]["record"]["lostRevenue"]["amount"] for s in down}
    assert len(amounts) == len(down)  # each store's own rate and length, not one shared figure


def test_store_incidents_records_price_their_lost_revenue_as_the_incident_does(alert_world):
    token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    client = Client()
    _down_stores(alert_world, 3)
    now = timezone.now()
    variables = {"from": (now - timedelta(hours=2)).isoformat(), "to": now.isoformat()}
    _down_stores(alert_world, 3, start=3)
    for store in Store.objects.filter(store_id__startswith="d"):  # resolved: their figures are final
        record(alert_world["alice"], (store.store_id, now - timedelta(minutes=1), "active"))
    stores = graphql(client, HISTORY, variables, token=token)["data"]["stores"]["results"]
    records = [i["record"] for s in stores if s["incidents"] for i in s["incidents"] if i["record"]]
    assert len(records) == 6
    for incident in records:
        assert graphql(client, ONE, {"id": incident["id"]}, token=token)["data"]["incident"] == incident

"""Incidents as records (docs/rules.md §13): a live STORE_DOWN opens one, the store known up
again resolves it, a historical load opens none; acknowledgements and notes by those who
may write to the store; the caller's `incidents` connection, open first."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from graphql_schema.common.scalars import rfc3339
from monitoring.alerts.incidents import Actor, incident_acknowledge
from monitoring.alerts.models import Incident
from monitoring.alerts.webhooks import webhook_create
from monitoring.models import Owner, Store
from monitoring.stores.access import EVERYTHING, token_create

from tests.alert_polls import record
from tests.factories import add_polls
from tests.graphql_client import graphql

INCIDENTS = """query($first: Int, $after: String, $status: IncidentStatus) {
  incidents(first: $first, after: $after, status: $status) {
    totalCount pageInfo { endCursor hasNextPage }
    edges { cursor node { id status startedAt resolvedAt acknowledgedAt acknowledgedBy store { id }
      notes { author text createdAt } } } } }"""
ACKNOWLEDGE = """mutation($id: ID!, $note: String) { acknowledgeIncident(id: $id, note: $note) {
  incident { id acknowledgedAt acknowledgedBy notes { author text } } userErrors { field message code } } }"""
NOTE = """mutation($id: ID!, $text: String!) { addIncidentNote(id: $id, text: $text) {
  note { author text } incident { notes { text } } userErrors { field message code } } }"""


def incidents(store_id=None):
    rows = Incident.objects.order_by("started_at")
    if store_id:
        rows = rows.filter(store__store_id=store_id)
    return list(rows.values_list("store__store_id", "status"))


def test_a_live_down_poll_opens_one_incident_and_the_store_up_resolves_it(alert_world):
    now = timezone.now()
    down_at = now - timedelta(minutes=3)
    record(alert_world["alice"], ("a1", down_at, "inactive"))
    record(alert_world["alice"], ("a1", now - timedelta(minutes=2), "inactive"))  # the same outage
    assert incidents() == [("a1", "OPEN")]
    incident = Incident.objects.get()
    assert incident.started_at == down_at and incident.resolved_at is None
    up_at = now - timedelta(minutes=1)
    record(alert_world["alice"], ("a1", up_at, "active"))
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("RESOLVED", up_at)
    # The id is stable: a new outage is a new incident, the old one unchanged.
    record(alert_world["alice"], ("a1", now - timedelta(seconds=30), "inactive"))
    assert incidents() == [("a1", "RESOLVED"), ("a1", "OPEN")]
    assert Incident.objects.filter(pk=incident.pk, status="RESOLVED").exists()


def test_a_historical_load_opens_no_incident_and_a_webhook_confirming_later_opens_no_second(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a2", now - timedelta(hours=5), "inactive"))
    assert incidents() == []
    webhook_create(access=alert_world["alice"], url="https://example.com/three", confirm=3)
    for minutes in (3, 2, 1):
        record(alert_world["alice"], ("a1", now - timedelta(minutes=minutes), "inactive"))
    assert incidents() == [("a1", "OPEN")]


def test_an_open_incident_is_resolved_when_a_historical_active_poll_ends_its_run(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a1", now - timedelta(minutes=5), "inactive"))
    # An active poll older than H that still is newer than the state: the run ends silently.
    store = Store.objects.get(store_id="a1")
    add_polls(store, [(now - timedelta(minutes=4), True)])
    from monitoring.alerts.evaluation import alerts_evaluate

    alerts_evaluate(store_pks=[store.pk], now=now + timedelta(hours=3))
    assert incidents() == [("a1", "RESOLVED")]


@pytest.fixture
def incident_world(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a1", now - timedelta(minutes=30), "inactive"), ("a2", now - timedelta(minutes=40), "inactive"))
    record(alert_world["alice"], ("a2", now - timedelta(minutes=20), "active"))
    record(alert_world["bob"], ("b1", now - timedelta(minutes=10), "inactive"))
    alice, bob = Owner.objects.get(name="alice"), Owner.objects.get(name="bob")
    return {
        **alert_world,
        "alice_token": token_create(name="ops", owner=alice)[1],
        "bob_token": token_create(name="bobs", owner=bob)[1],
        "staff_token": token_create(name="root", is_staff=True)[1],
        "a1": Incident.objects.get(store__store_id="a1"),
        "a2": Incident.objects.get(store__store_id="a2"),
        "b1": Incident.objects.get(store__store_id="b1"),
    }


def test_the_incidents_connection_lists_the_callers_incidents_open_first(incident_world):
    client = Client()
    alice = graphql(client, INCIDENTS, token=incident_world["alice_token"])["data"]["incidents"]
    assert alice["totalCount"] == 2
    assert [(e["node"]["store"]["id"], e["node"]["status"]) for e in alice["edges"]] == [("a1", "OPEN"), ("a2", "RESOLVED")]
    staff = graphql(client, INCIDENTS, token=incident_world["staff_token"])["data"]["incidents"]
    # Open ones first (newest started first), then the resolved.
    assert [(e["node"]["store"]["id"], e["node"]["status"]) for e in staff["edges"]] == [
        ("b1", "OPEN"), ("a1", "OPEN"), ("a2", "RESOLVED")
    ]
    # Keyset pages walk the same order.
    seen, after = [], None
    while True:
        page = graphql(client, INCIDENTS, {"first": 1, "after": after}, token=incident_world["staff_token"])["data"]["incidents"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["totalCount"] == 3
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [e["node"]["id"] for e in staff["edges"]]
    resolved = graphql(client, INCIDENTS, {"status": "RESOLVED"}, token=incident_world["staff_token"])["data"]["incidents"]
    assert [e["node"]["id"] for e in resolved["edges"]] == [str(incident_world["a2"].pk)]
    bad = graphql(client, INCIDENTS, {"after": "bm90IG91cnM="}, token=incident_world["staff_token"])
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "after"}


def test_acknowledging_records_who_and_when_and_the_note(incident_world):
    client = Client()
    incident_id = str(incident_world["a1"].pk)
    before = timezone.now()
    answer = graphql(client, ACKNOWLEDGE, {"id": incident_id, "note": " on it "}, token=incident_world["alice_token"])
    result = answer["data"]["acknowledgeIncident"]
    assert result["userErrors"] == []
    assert result["incident"]["acknowledgedBy"] == "token ops (alice)"
    assert result["incident"]["notes"] == [{"author": "token ops (alice)", "text": "on it"}]
    stored = Incident.objects.get(pk=incident_id)
    assert before <= stored.acknowledged_at <= timezone.now()
    # A second acknowledgement keeps the first's who and when; its note is added.
    graphql(client, ACKNOWLEDGE, {"id": incident_id, "note": "staff here"}, token=incident_world["staff_token"])
    again = Incident.objects.get(pk=incident_id)
    assert (again.acknowledged_at, again.acknowledged_by) == (stored.acknowledged_at, "token ops (alice)")
    assert list(again.notes.values_list("author", "text")) == [("token ops (alice)", "on it"), ("token root (staff)", "staff here")]
    added = graphql(client, NOTE, {"id": incident_id, "text": "store called"}, token=incident_world["alice_token"])
    assert added["data"]["addIncidentNote"]["note"] == {"author": "token ops (alice)", "text": "store called"}
    assert [n["text"] for n in added["data"]["addIncidentNote"]["incident"]["notes"]] == ["on it", "staff here", "store called"]


def test_another_owners_incident_and_bad_input_are_refused_with_codes(incident_world):
    client = Client()
    theirs = str(incident_world["b1"].pk)
    refused = graphql(client, ACKNOWLEDGE, {"id": theirs}, token=incident_world["alice_token"])["data"]["acknowledgeIncident"]
    assert refused["incident"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("id", "NOT_FOUND")]
    assert Incident.objects.get(pk=theirs).acknowledged_at is None
    bad_id = graphql(client, ACKNOWLEDGE, {"id": "nope"}, token=incident_world["alice_token"])["data"]["acknowledgeIncident"]
    assert [(e["field"], e["code"]) for e in bad_id["userErrors"]] == [("id", "INVALID_ARGUMENT")]
    mine = str(incident_world["a1"].pk)
    empty = graphql(client, NOTE, {"id": mine, "text": "   "}, token=incident_world["alice_token"])["data"]["addIncidentNote"]
    assert [(e["field"], e["code"]) for e in empty["userErrors"]] == [("text", "INVALID_ARGUMENT")]
    long = graphql(client, ACKNOWLEDGE, {"id": mine, "note": "x" * 2001}, token=incident_world["alice_token"])
    assert [(e["field"], e["code"]) for e in long["data"]["acknowledgeIncident"]["userErrors"]] == [("note", "INVALID_ARGUMENT")]
    assert Incident.objects.get(pk=mine).acknowledged_at is None  # nothing changed
    one = "query($id: ID!) { incident(id: $id) { id status } }"
    assert graphql(client, one, {"id": mine}, token=incident_world["alice_token"])["data"]["incident"] == {"id": mine, "status": "OPEN"}
    hidden = graphql(client, one, {"id": theirs}, token=incident_world["alice_token"])
    assert hidden["errors"][0]["extensions"] == {"code": "NOT_FOUND", "argument": "id"}
    # Without userErrors selected, the refusal is a top-level error with the same code.
    top = graphql(client, "mutation($id: ID!) { acknowledgeIncident(id: $id) { incident { id } } }", {"id": theirs},
                  token=incident_world["alice_token"])
    assert top["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_the_store_shows_its_open_incident(incident_world):
    incident_acknowledge(access=EVERYTHING, incident_id=incident_world["a1"].pk, actor=Actor("user admin"), note="checking")
    query = """{ stores { results { id openIncident { record { id status acknowledgedBy notes { text } } } } } }"""
    stores = graphql(Client(), query, token=incident_world["alice_token"])["data"]["stores"]["results"]
    by_id = {s["id"]: s["openIncident"] for s in stores}
    assert by_id == {
        "a1": {"record": {
            "id": str(incident_world["a1"].pk), "status": "OPEN", "acknowledgedBy": "user admin", "notes": [{"text": "checking"}],
        }},
        "a2": None,
    }


def test_an_incidents_lost_revenue_is_what_store_incidents_prices_for_the_same_outage(alert_world):
    from decimal import Decimal

    from monitoring.models import StoreRevenue

    store = Store.objects.get(store_id="a1")
    StoreRevenue.objects.bulk_create(
        StoreRevenue(store=store, day_of_week=day, hour=hour, expected_revenue=Decimal(100 + 7 * hour), currency="EUR")
        for day in range(7) for hour in range(24)
    )
    now = timezone.now().replace(microsecond=0)
    record(alert_world["alice"], ("a1", now - timedelta(minutes=50), "active"), ("a1", now - timedelta(minutes=40), "inactive"))
    record(alert_world["alice"], ("a1", now - timedelta(minutes=5), "active"))
    token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    client = Client()
    node = graphql(client, "{ incidents { edges { node { startedAt resolvedAt lostRevenue { amount atRisk currency } } } } }",
                   token=token)["data"]["incidents"]["edges"][0]["node"]
    reference = graphql(
        client,
        """query($from: DateTime!, $to: DateTime!) { store(id: "a1") { incidents(from: $from, to: $to) {
             start end lostRevenue { amount atRisk currency } } } }""",
        {"from": (now - timedelta(hours=1)).isoformat(), "to": (now - timedelta(minutes=5)).isoformat()},
        token=token,
    )["data"]["store"]["incidents"]
    assert len(reference) == 1 and reference[0]["lostRevenue"]["currency"] == "EUR"
    assert node["lostRevenue"] == reference[0]["lostRevenue"]
    assert Decimal(node["lostRevenue"]["amount"]) > 0


def test_store_incidents_link_the_outage_to_its_record(alert_world):
    now = timezone.now().replace(microsecond=0)
    # An outage from historical data (no record), then one that started live (recorded).
    record(alert_world["alice"], ("a1", now - timedelta(hours=5), "active"), ("a1", now - timedelta(hours=4, minutes=50), "inactive"))
    record(alert_world["alice"], ("a1", now - timedelta(hours=4, minutes=40), "active"))
    record(alert_world["alice"], ("a1", now - timedelta(minutes=30), "inactive"))
    record(alert_world["alice"], ("a1", now - timedelta(minutes=10), "active"))
    live = Incident.objects.get()
    token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    outages = graphql(
        Client(),
        """query($from: DateTime!, $to: DateTime!) { store(id: "a1") { incidents(from: $from, to: $to) {
             start record { id status resolvedAt } } } }""",
        {"from": (now - timedelta(hours=6)).isoformat(), "to": now.isoformat()},
        token=token,
    )["data"]["store"]["incidents"]
    assert [o["record"] for o in outages] == [
        None, {"id": str(live.pk), "status": "RESOLVED", "resolvedAt": rfc3339(now - timedelta(minutes=10))}
    ]

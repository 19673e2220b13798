"""The fleet page's ranking (monitoring.fleet): kept while the data version
holds; after a write, the kept ranking is shown while it is at most
FLEET_SUMMARY_MAX_AGE_SECONDS old and one refresh is queued for the workers; older than
that, the request computes it. The worker's refresh is shared with every process."""

from datetime import timedelta

import pytest
from django.test import Client
from django_q.models import OrmQ
from monitoring.fleet.models import FleetRanking
from monitoring.fleet.summary import fleet_rankings_forget
from monitoring.fleet.tasks import refresh_fleet_ranking

from tests.factories import add_polls, worked_example_store

pytestmark = pytest.mark.django_db


def shown_as_of(client: Client):
    return client.get("/").context["as_of"]


def test_a_write_is_shown_once_a_worker_has_refreshed_and_never_later_than_the_limit(
    settings, django_capture_on_commit_callbacks
):
    settings.FLEET_SUMMARY_MAX_AGE_SECONDS = 60
    store, noon = worked_example_store("fleet-a")
    worked_example_store("fleet-b")
    client = Client()
    first = shown_as_of(client)
    assert FleetRanking.objects.get(scope="all").store_count == 2

    add_polls(store, [(noon - timedelta(minutes=30), False)])  # a newer poll: as_of and the version move
    queued = OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert shown_as_of(client) == first  # the kept ranking, not computed in the request
        assert shown_as_of(client) == first
    assert OrmQ.objects.count() == queued + 1  # one refresh queued, not two
    assert FleetRanking.objects.get(scope="all").refresh_requested_at is not None

    assert refresh_fleet_ranking("all") == 2  # what the worker runs
    fleet_rankings_forget()  # another web process: it loads the shared ranking
    assert shown_as_of(client) == noon - timedelta(minutes=30)

    settings.FLEET_SUMMARY_MAX_AGE_SECONDS = 0  # too old at once: the request computes it
    add_polls(store, [(noon - timedelta(minutes=20), True)])
    assert shown_as_of(client) == noon - timedelta(minutes=20)


def test_owners_have_rankings_of_their_own(settings):
    from monitoring.models import Owner
    from monitoring.stores.access import token_create

    settings.API_ANONYMOUS_ACCESS = True
    alice = Owner.objects.create(name="alice")
    store, _ = worked_example_store("alice-1")
    worked_example_store("other-1")
    store.owner = alice
    store.save()
    token = token_create(name="t", owner=alice)[1]
    Client().get("/")
    Client().get("/", headers={"Authorization": f"Bearer {token}"})
    counts = dict(FleetRanking.objects.values_list("scope", "store_count"))
    assert counts == {"all": 2, f"owner:{alice.pk}": 1}


def test_columns_round_trip_through_their_blob():
    import numpy as np
    from monitoring.fleet.ranking import FleetColumns

    columns = FleetColumns(
        pk=np.array([3, 1, 2], np.int64),
        store_id=["zürich-1", "a b", "東京"],
        timezone_name=[None, "Europe/Zurich", "Asia/Tokyo"],
        state=np.array([1, 0, 2], np.int8),
        day=np.arange(9, dtype=float).reshape(3, 3),
        week=np.array([[10.0, 0.0, 0.0], [0.0, 0.0, 5.0], [3.0, 1.0, 0.0]]),
        last_poll_us=np.array([5, -1, 7], np.int64),
        last_poll_active=np.array([True, False, False]),
    )
    back = FleetColumns.from_bytes(columns.to_bytes())
    assert [back.row(i) for i in range(3)] == [columns.row(i) for i in range(3)]
    assert back.row(1).last_poll_us is None and back.row(0).timezone_name is None
    # Worst first: down now; then the lowest known weekly uptime; unknown weeks last.
    assert columns.worst_first().store_id == ["zürich-1", "東京", "a b"]
    assert columns.counts() == {"UP": 1, "DOWN": 1, "UNKNOWN": 1, "CLOSED": 0}
    assert columns.select(prefix="a").tolist() == [1] and columns.select(state="DOWN").tolist() == [0]


def test_lost_revenue_round_trips_and_orders_by_currency_then_amount():
    """The week's lost revenue is kept exact with the ranking (docs/rules.md §13): a blob
    written and read back gives the same figures and totals; ordered by lost revenue, the
    currency of the most stores comes first, the largest amount first, no estimate last."""
    import numpy as np
    from monitoring.engine.revenue import HOUR_US, ExactCents
    from monitoring.fleet.ranking import FleetColumns
    from monitoring.history import WindowsLostRevenue

    n = 5
    revenue = WindowsLostRevenue(
        lost=ExactCents(np.array([100, 2500, 0, 700, 0], np.int64), np.array([0, HOUR_US // 2, 0, 1, 0], np.int64)),
        at_risk=ExactCents(np.array([0, 0, 0, 900, 0], np.int64), np.zeros(n, np.int64)),
        currency=["EUR", "USD", None, "USD", "USD"],
        known=np.array([True, True, False, True, True]),
    )
    columns = FleetColumns(
        pk=np.arange(n, dtype=np.int64), store_id=["e", "u-big", "none", "u-mid", "u-zero"], timezone_name=[None] * n,
        state=np.zeros(n, np.int8), day=np.zeros((n, 3)), week=np.zeros((n, 3)), last_poll_us=np.full(n, -1, np.int64),
        last_poll_active=np.zeros(n, bool), revenue=revenue,
    )
    back = FleetColumns.from_bytes(columns.to_bytes())
    assert [back.row(i).lost_revenue for i in range(n)] == [columns.row(i).lost_revenue for i in range(n)]
    assert columns.row(2).lost_revenue is None
    assert str(columns.row(1).lost_revenue.amount) == "25.00"  # 2500.5 cents: half to even
    assert [(t.currency, str(t.amount), str(t.at_risk), t.stores) for t in back.revenue_totals()] == [
        ("EUR", "1.00", "0.00", 1), ("USD", "32.01", "9.00", 3),  # 2500.5 + 700.0000… + 0: 3200.5… cents, up
    ]
    assert columns.by_lost_revenue().store_id == ["u-big", "u-mid", "u-zero", "e", "none"]
    assert columns.take(np.array([0, 1])).revenue_totals()[1].amount == columns.row(1).lost_revenue.amount

"""The default as_of is per caller (docs/rules.md §8): the latest poll among the caller's own
stores, over real HTTP too; an owner without polls gets the present, never another
owner's data."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone
from monitoring.models import Owner, Report
from monitoring.reports import report_run
from monitoring.stores.access import EVERYTHING, Access, token_create
from monitoring.stores.selectors import latest_poll_timestamp

from tests.factories import add_polls, make_store, worked_example_store
from tests.graphql_client import graphql_over_http, live_request

UTC = timezone.utc


# The worked example's polls are 15:14 and 16:15 UTC on 2023-01-25: T is the later one.
T = datetime(2023, 1, 25, 16, 15, tzinfo=UTC)


LATER = T + timedelta(hours=1)


UPTIME_AS_OF = 'query($id: ID!) { store(id: $id) { uptime { asOf } } }'


def uptime_as_of(base: str, token: str, store_id: str) -> str:
    return graphql_over_http(base, UPTIME_AS_OF, token=token, variables={"id": store_id})["store"]["uptime"]["asOf"]


def iso(moment: datetime) -> str:
    """As the API writes an instant (graphql_schema.common.scalars.rfc3339)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def two_owners():
    """Owners A (store a1) and B (stores b1, b2), each with the worked example's polls up
    to T, and a token each, plus a staff token."""
    a, b = Owner.objects.create(name="owner-a"), Owner.objects.create(name="owner-b")
    for store_id, owner in (("a1", a), ("b1", b), ("b2", b)):
        store, _ = worked_example_store(store_id)
        store.owner = owner
        store.save()
    return {
        "a": token_create(name="t", owner=a)[1],
        "b": token_create(name="t", owner=b)[1],
        "staff": token_create(name="t", is_staff=True)[1],
    }


@pytest.mark.django_db(transaction=True)
def test_one_owners_later_poll_moves_only_their_own_as_of(live_server, two_owners):
    base, a, b, staff = live_server.url, two_owners["a"], two_owners["b"], two_owners["staff"]
    assert uptime_as_of(base, b, "b1") == uptime_as_of(base, a, "a1") == iso(T)
    b_page_before = live_request(f"{base}/stores/b1/", token=b, accept="text/html")
    assert b_page_before[0] == 200 and "2023-01-25 16:15:00 UTC" in b_page_before[2]

    # A records a poll an hour later than everything stored (in the past: polls after
    # now + POLL_MAX_FUTURE are refused).
    recorded = graphql_over_http(
        base,
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }",
        token=a,
        variables={"polls": [{"storeId": "a1", "timestampUtc": "2023-01-25 17:15:00 UTC", "status": "active"}]},
    )
    assert recorded["recordPolls"] == {"loaded": 1, "rejected": 0}

    # B's uptime, reports and page keep B's as_of; A's and staff's move.
    assert uptime_as_of(base, b, "b1") == iso(T)
    assert uptime_as_of(base, a, "a1") == iso(LATER)
    assert uptime_as_of(base, staff, "b1") == iso(LATER)  # staff sees every store
    page_of_many = graphql_over_http(base, "{ stores { results { id uptime { asOf } } } }", token=b)["stores"]["results"]
    assert page_of_many == [{"id": "b1", "uptime": {"asOf": iso(T)}}, {"id": "b2", "uptime": {"asOf": iso(T)}}]

    b_graphql_report = graphql_over_http(base, "mutation { triggerReport { id } }", token=b)["triggerReport"]["id"]
    status, _, text = live_request(f"{base}/trigger_report/", token=b, body={})
    assert status == 200, text
    b_rest_report = json.loads(text)["report_id"]
    status, _, text = live_request(f"{base}/store/b1/trigger_report/", token=b)
    assert status == 200, text
    b_store_report = json.loads(text)["report_id"]
    a_report = graphql_over_http(base, "mutation { triggerReport { id } }", token=a)["triggerReport"]["id"]
    for report_id in (b_graphql_report, b_rest_report, b_store_report, a_report):
        assert report_run(report_id=report_id).status == Report.Status.COMPLETE
    report_as_of = 'query($id: ID!) { report(id: $id) { asOf status } }'
    for report_id in (b_graphql_report, b_rest_report, b_store_report):
        answer = graphql_over_http(base, report_as_of, token=b, variables={"id": report_id})["report"]
        assert answer == {"asOf": iso(T), "status": "COMPLETE"}
    answer = graphql_over_http(base, report_as_of, token=a, variables={"id": a_report})["report"]
    assert answer == {"asOf": iso(LATER), "status": "COMPLETE"}

    status, _, b_page = live_request(f"{base}/stores/b1/", token=b, accept="text/html")
    assert status == 200 and "2023-01-25 16:15:00 UTC" in b_page and "2023-01-25 17:15:00 UTC" not in b_page
    status, _, a_page = live_request(f"{base}/stores/a1/", token=a, accept="text/html")
    assert status == 200 and "2023-01-25 17:15:00 UTC" in a_page


@pytest.mark.django_db
def test_latest_poll_among_an_owners_stores():
    a, b, c, quiet = (Owner.objects.create(name=name) for name in ("a", "b", "c", "quiet"))
    for store_id, owner, last in (
        ("c1", c, T + timedelta(hours=6, minutes=-1)),  # within 5 minutes of the latest
        ("a1", a, T + timedelta(hours=5)),
        ("b1", b, T),
        ("b2", b, T + timedelta(hours=4)),  # within the recent window below a's latest
        ("q1", quiet, T - timedelta(days=3)),  # far below: the per-store fallback
        ("nobody", None, T + timedelta(hours=6)),
    ):
        store = make_store(store_id)
        store.owner = owner
        store.save()
        add_polls(store, [(last - timedelta(hours=1), True), (last, False)])
    Owner.objects.create(name="empty")
    assert latest_poll_timestamp() == T + timedelta(hours=6)
    assert latest_poll_timestamp(owner_id=c.pk) == T + timedelta(hours=6, minutes=-1)
    assert latest_poll_timestamp(owner_id=a.pk) == T + timedelta(hours=5)
    assert latest_poll_timestamp(owner_id=b.pk) == T + timedelta(hours=4)
    assert latest_poll_timestamp(owner_id=quiet.pk) == T - timedelta(days=3)
    assert latest_poll_timestamp(owner_id=Owner.objects.get(name="empty").pk) is None


@pytest.mark.django_db
def test_owner_without_polls_defaults_to_the_present_not_to_others_data(client):
    store, _ = worked_example_store("staff-only")  # someone's data, not carol's
    carol = Owner.objects.create(name="carol")
    mine = make_store("carol-1")
    mine.owner = carol
    mine.save()
    _, raw = token_create(name="t", owner=carol)
    before = django_timezone.now()
    response = client.post(
        "/graphql/",
        {"query": '{ store(id: "carol-1") { uptime { asOf } } }'},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    as_of = datetime.fromisoformat(response.json()["data"]["store"]["uptime"]["asOf"])
    assert as_of >= before - timedelta(seconds=1)


@pytest.mark.django_db
def test_page_context_uses_the_access_given():
    from monitoring.web.pages import status_page_context

    a, b = Owner.objects.create(name="a"), Owner.objects.create(name="b")
    a1, _ = worked_example_store("a1")
    b1, _ = worked_example_store("b1")
    for store, owner in ((a1, a), (b1, b)):
        store.owner = owner
        store.save()
    add_polls(a1, [(LATER, True)])
    assert status_page_context(store=b1, access=Access(owner_id=b.pk, all_stores=False))["as_of"] == T
    assert status_page_context(store=b1, access=EVERYTHING)["as_of"] == LATER

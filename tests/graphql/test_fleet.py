"""The fleet over GraphQL (`fleet`) is the home page's ranking: the same stores in the
same order with the same counts, for staff and for an owner, filtered and searched; each
store's currentState, lastPoll and openIncident agree with its timeline and polls as the
reference engine computes them."""

import random
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from monitoring.models import Owner, StatusPoll, Store
from monitoring.stores.access import token_create
from monitoring.stores.selectors import store_schedules

from tests import reference_engine as reference
from tests.factories import FLEET_END, add_polls, make_store
from tests.graphql_client import graphql
from tests.page_html import bearer

pytestmark = pytest.mark.django_db

H = timedelta(hours=2)  # REPORT_HORIZON_MINUTES' default
WEEK = timedelta(days=7)
ZONES = (None, "UTC", "America/New_York", "Asia/Kolkata")
HOURS = {
    "24x7": [],
    "days": [(day, "09:00", "21:00") for day in range(7)],
    "weekdays": [(day, "08:00", "17:00") for day in range(5)],
}


@pytest.fixture
def world():
    """60 stores of two owners and nobody's, in several zones and hours, whose polls make
    every state: hourly with runs of downtime, gaps longer than H, polls stopped a day ago,
    a single poll ten days ago, none at all; the latest poll (as_of) is FLEET_END."""
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    rng = random.Random(20230125)
    kinds = ("hourly", "hourly", "gappy", "stopped", "old", "never", "recent")
    for index in range(60):
        prefix = ("north", "south", "east")[index % 3]
        store = make_store(
            f"{prefix}-{index:02d}", zone=rng.choice(ZONES), hours=HOURS[rng.choice(tuple(HOURS))]
        )
        store.owner = (alice, bob, None)[index % 3 if index % 5 else 0]
        store.save()
        kind = kinds[index % len(kinds)]
        step = {"gappy": 5, "recent": 1, "hourly": 1, "stopped": 1}.get(kind)
        polls, active = [], True
        if step:
            first = 30 if kind == "stopped" else 0
            last = 20 if kind == "recent" else 8 * 24
            for age in range(first, last, step):
                if rng.random() < 0.15:
                    active = not active
                polls.append((FLEET_END - timedelta(hours=age, minutes=rng.choice((0, 10, 35))), active))
        elif kind == "old":
            polls.append((FLEET_END - timedelta(days=10), rng.random() < 0.5))
        add_polls(store, polls)
    add_polls(make_store("clock", zone="UTC"), [(FLEET_END, False)])  # as_of: FLEET_END, down now
    return {
        "staff": token_create(name="t", is_staff=True)[1],
        "alice": token_create(name="t", owner=alice)[1],
    }


FLEET = """query($first: Int, $after: String, $state: SegmentState, $silent: Boolean, $prefix: String) {
  fleet(first: $first, after: $after, state: $state, silent: $silent, idPrefix: $prefix) {
    asOf totalCount silentCount countsByState { state count }
    edges { cursor silent node { id } } pageInfo { hasNextPage endCursor } } }"""

#: The page's filter words and the API's filters that list the same stores.
FILTERS = {
    "": {},
    "down": {"state": "DOWN"},
    "up": {"state": "UP"},
    "closed": {"state": "CLOSED"},
    "silent": {"state": "UNKNOWN", "silent": True},
    "unknown": {"state": "UNKNOWN", "silent": False},
}


def api_fleet(client, token: str, *, first: int, **filters) -> tuple[list[str], dict]:
    """Every page of `fleet`, walked by cursor: the store ids in order and the first page."""
    ids, after, pages = [], None, []
    while True:
        body = graphql(client, FLEET, {"first": first, "after": after, **filters}, token=token)
        assert "errors" not in body, body
        page = body["data"]["fleet"]
        pages.append(page)
        ids += [edge["node"]["id"] for edge in page["edges"]]
        assert len(page["edges"]) <= first
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    # The counts are of the whole list, the same on every page.
    assert all({k: p[k] for k in ("totalCount", "countsByState", "silentCount")}
               == {k: pages[0][k] for k in ("totalCount", "countsByState", "silentCount")} for p in pages)
    return ids, pages[0]


def page_fleet(client, token: str, *, q: str = "", state: str = "") -> tuple[list[str], dict[str, int]]:
    """Every page of the home page: the store ids in order and the filters' counts."""
    ids, number = [], 1
    while True:
        params = {key: value for key, value in (("q", q), ("state", state), ("page", number)) if value}
        html = client.get("/", params, headers=bearer(token)).content.decode()
        ids += [unescape(s) for s in re.findall(r'<tr class="store" data-store="([^"]*)"', html)]
        counts = {
            word: int(count.replace(",", ""))
            for word, count in re.findall(r'data-state="(\w+)"(?: class="on")?>[^<(]*\(([\d,]+)\)<', html)
        }
        if 'rel="next"' not in html:
            return ids, counts
        number += 1


@pytest.mark.parametrize("who", ["staff", "alice"])
def test_the_fleet_is_the_home_page_ranking(client, world, who):
    token = world[who]
    visible = Store.objects.count() if who == "staff" else Store.objects.filter(owner__name="alice").count()
    for prefix in ("", "north", "south-1"):
        for word, filters in FILTERS.items():
            expected, counts = page_fleet(client, token, q=prefix, state=word)
            ids, page = api_fleet(client, token, first=7, prefix=prefix or None, **filters)
            assert ids == expected, (prefix, word)
            assert page["totalCount"] == len(expected)
            by_state = {item["state"]: item["count"] for item in page["countsByState"]}
            assert [item["state"] for item in page["countsByState"]] == ["UP", "DOWN", "UNKNOWN", "CLOSED"]
            assert page["silentCount"] == counts["silent"]
            assert by_state == {
                "UP": counts["up"], "DOWN": counts["down"], "CLOSED": counts["closed"],
                "UNKNOWN": counts["unknown"] + counts["silent"],
            }
            if not prefix and not word:
                assert len(ids) == sum(by_state.values()) == visible
    # The data makes every state, and more than one page of the home page for staff.
    everything, counts = page_fleet(client, world["staff"])
    assert len(everything) == 61 and all(counts[word] for word in ("up", "down", "closed", "silent", "unknown"))
    # Neither state nor silence: every state's stores, worst first.
    ids, _ = api_fleet(client, token, first=500, state="UNKNOWN")
    silent, _ = api_fleet(client, token, first=500, state="UNKNOWN", silent=True)
    assert set(silent) < set(ids)


def test_an_owner_sees_only_their_stores(client, world):
    ids, _ = api_fleet(client, world["alice"], first=100)
    assert set(ids) == set(Store.objects.filter(owner__name="alice").values_list("store_id", flat=True))


def test_cursors_are_stable_and_refused_when_not_ours(client, world):
    token = world["staff"]
    first = graphql(client, FLEET, {"first": 5}, token=token)["data"]["fleet"]
    cursor = first["pageInfo"]["endCursor"]
    again = [graphql(client, FLEET, {"first": 5, "after": cursor}, token=token)["data"]["fleet"] for _ in range(2)]
    assert again[0] == again[1]
    # A cursor names a store of the list: it is refused by a list without it.
    down = graphql(client, FLEET, {"first": 500, "state": "DOWN"}, token=token)["data"]["fleet"]["edges"]
    up_cursor = graphql(client, FLEET, {"first": 1, "state": "UP"}, token=token)["data"]["fleet"]["edges"][0]["cursor"]
    assert down and up_cursor not in {edge["cursor"] for edge in down}
    for bad in ("not a cursor", "%%%", up_cursor, "ZmxlZXQ6eDp5"):  # the last: "fleet:x:y"
        body = graphql(client, FLEET, {"first": 5, "after": bad, "state": "DOWN"}, token=token)
        [error] = body["errors"]
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "after"}, bad
        assert "after" in error["message"]


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"prefix": "a\u0000b"}, "idPrefix"),
        ({"prefix": " north"}, "idPrefix"),
        ({"prefix": "x" * 300}, "idPrefix"),
        ({"first": -1}, "first"),
        ({"first": 501}, "first"),
    ],
)
def test_bad_arguments_are_refused_naming_them(client, world, variables, argument):
    body = graphql(client, FLEET, variables, token=world["staff"])
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert error["extensions"]["argument"] == argument
    assert error["message"].startswith(argument)


def test_a_bad_state_is_refused_naming_it(client, world):
    body = graphql(client, FLEET, {"state": "SIDEWAYS"}, token=world["staff"])
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT" and error["extensions"]["variable"] == "state"
    assert error["extensions"]["argument"] == "state"
    literal = graphql(client, "query { fleet(state: SIDEWAYS) { totalCount } }", token=world["staff"])
    assert literal["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "state"}


NOW = """query($first: Int, $after: String) { fleet(first: $first, after: $after) { asOf
  edges { node { id currentState { state since sinceClipped asOf } lastPoll { timestampUtc state }
    openIncident { start end minutesLost } } } pageInfo { hasNextPage endCursor } } }"""


def reference_now(store: Store, as_of) -> dict:
    """A store now by the reference engine: the timeline over the week before as_of,
    its incidents, and its latest poll read from the table."""
    (schedule,) = store_schedules(stores=[(store.pk, store.store_id, store.timezone_name)])
    polls = [
        (reference.us(when), active)
        for when, active in StatusPoll.objects.filter(store=store).values_list("timestamp_utc", "is_active")
    ]
    start_us, end_us, h_us = reference.us(as_of - WEEK), reference.us(as_of), reference.us(as_of) - reference.us(as_of - H)
    pieces = reference.timeline(schedule, polls, start_us, end_us, h_us)
    incidents = reference.incidents(schedule, polls, start_us, end_us, h_us)
    business = [piece for piece in pieces if piece[2] != "CLOSED"]
    open_incident = incidents[-1] if business and business[-1][2] == "DOWN" else None
    latest = StatusPoll.objects.filter(store=store, timestamp_utc__lte=as_of).order_by("-timestamp_utc").first()
    return {
        "state": pieces[-1][2],
        "since_us": pieces[-1][0],
        "clipped": pieces[-1][0] == start_us,
        "open_incident": open_incident,
        "last_poll": None if latest is None else (latest.timestamp_utc, latest.is_active),
    }


def test_current_state_last_poll_and_open_incident_agree_with_the_reference(client, world):
    nodes, after, as_of = [], None, None
    while True:
        page = graphql(client, NOW, {"first": 25, "after": after}, token=world["staff"])["data"]["fleet"]
        as_of = datetime.fromisoformat(page["asOf"])
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(nodes) == 61
    seen = {"open_down": 0, "open_closed": 0, "clipped": 0, "no_poll": 0, "old_poll": 0}
    for node in nodes:
        store = Store.objects.get(store_id=node["id"])
        expected = reference_now(store, as_of)
        state = node["currentState"]
        assert state["state"] == expected["state"], node["id"]
        assert datetime.fromisoformat(state["asOf"]) == as_of
        assert reference.us(datetime.fromisoformat(state["since"])) == expected["since_us"], node["id"]
        assert state["sinceClipped"] == expected["clipped"]
        if expected["last_poll"] is None:
            assert node["lastPoll"] is None
            seen["no_poll"] += 1
        else:
            at, active = expected["last_poll"]
            assert datetime.fromisoformat(node["lastPoll"]["timestampUtc"]) == at
            assert node["lastPoll"]["state"] == ("ACTIVE" if active else "INACTIVE")
            seen["old_poll"] += at < as_of - WEEK
        incident = expected["open_incident"]
        if incident is None:
            assert node["openIncident"] is None, node["id"]
        else:
            got = node["openIncident"]
            assert reference.us(datetime.fromisoformat(got["start"])) == incident[0]
            assert reference.us(datetime.fromisoformat(got["end"])) == incident[1]
            assert got["minutesLost"] == pytest.approx(round(incident[2] / 60, 2))
            seen["open_down" if expected["state"] == "DOWN" else "open_closed"] += 1
        seen["clipped"] += expected["clipped"]
    # The data exercises every case.
    assert all(seen.values()), seen

    # One batch per page, not one per store: a page of 61 costs about what a page of 5
    # does (at most the week's hours and polls for the stores whose state began before the
    # last day, and one query for the latest polls older than the read).
    def queries(first: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            graphql(client, NOW, {"first": first}, token=world["staff"])
        return len(captured.captured_queries)

    assert queries(61) <= queries(5) + 4


def test_a_store_alone_has_its_state_now_too(client, world):
    """Outside `fleet` (store(id), a `stores` page) the same fields, at the caller's latest poll."""
    as_of = FLEET_END
    for store in Store.objects.order_by("store_id")[:6]:
        body = graphql(
            client, 'query($id: ID!) { store(id: $id) { currentState { state asOf } lastPoll { timestampUtc } } }',
            {"id": store.store_id}, token=world["staff"],
        )
        expected = reference_now(store, as_of)
        assert body["data"]["store"]["currentState"]["state"] == expected["state"]
        assert datetime.fromisoformat(body["data"]["store"]["currentState"]["asOf"]) == as_of
    page = graphql(
        client, "query { stores(pagination: {limit: 20}) { results { id currentState { state } openIncident { start } } } }",
        token=world["staff"],
    )["data"]["stores"]["results"]
    for node in page:
        expected = reference_now(Store.objects.get(store_id=node["id"]), as_of)
        assert node["currentState"]["state"] == expected["state"]
        assert (node["openIncident"] is None) == (expected["open_incident"] is None)


def test_a_page_of_stores_with_their_hours_costs_one_query_for_the_hours(client, world):
    query = """query($first: Int) { fleet(first: $first) { edges { node { id is24x7 ...hours } } } }
               fragment hours on Store { businessHours { dayOfWeek startTimeLocal } }"""
    graphql(client, query, {"first": 1}, token=world["staff"])  # the ranking computed and kept
    counted = []
    for first in (3, 40):
        with CaptureQueriesContext(connection) as captured:
            body = graphql(client, query, {"first": first}, token=world["staff"])
        assert "errors" not in body and len(body["data"]["fleet"]["edges"]) == first
        counted.append(len(captured.captured_queries))
        for edge in body["data"]["fleet"]["edges"]:
            store = Store.objects.get(store_id=edge["node"]["id"])
            assert len(edge["node"]["businessHours"]) == store.business_hours.count()
            assert edge["node"]["is24x7"] == (store.business_hours.count() == 0)
    assert counted[0] == counted[1]

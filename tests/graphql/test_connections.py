"""Lists that grow, as clients cache them (docs/api.md, "Connections"): a store's polls
newest or oldest first with edges and totalCount; an argument refused on one store's
field nulls that field only, with an error at its path, and the rest of the response
answers."""

from datetime import datetime, timedelta, timezone

import pytest

from monitoring.models import StatusPoll

from tests.factories import add_polls, make_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc
START = datetime(2023, 1, 20, tzinfo=UTC)

POLLS = """query($first: Int, $after: String, $order: PollOrder!, $from: DateTime) { store(id: "s1") {
  polls(first: $first, after: $after, order: $order, from: $from) {
    totalCount nodes { id timestampUtc } edges { cursor node { id timestampUtc state } } pageInfo { endCursor hasNextPage }
  } } }"""


def _walk(gql, order: str, first: int, **variables) -> tuple[list[dict], set[int]]:
    seen, after, totals = [], None, set()
    while True:
        page = gql.query(POLLS, {"first": first, "after": after, "order": order, **variables}).data["store"]["polls"]
        assert [edge["node"]["id"] for edge in page["edges"]] == [node["id"] for node in page["nodes"]]
        if page["edges"]:
            assert page["edges"][-1]["cursor"] == page["pageInfo"]["endCursor"]
        totals.add(page["totalCount"])
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, totals
        after = page["pageInfo"]["endCursor"]


def test_polls_walk_newest_first_and_oldest_first_by_cursor(gql):
    store = make_store("s1")
    add_polls(store, [(START + timedelta(minutes=7 * k, microseconds=k), k % 3 == 0) for k in range(23)])
    add_polls(make_store("s2"), [(START + timedelta(minutes=1), True)])  # another store's poll is not listed
    stored = list(StatusPoll.objects.filter(store=store).order_by("timestamp_utc").values_list("timestamp_utc", flat=True))

    oldest, totals = _walk(gql, "OLDEST_FIRST", 5)
    assert [datetime.fromisoformat(p["timestampUtc"]) for p in oldest] == stored and totals == {23}
    newest, totals = _walk(gql, "NEWEST_FIRST", 4)
    assert [datetime.fromisoformat(p["timestampUtc"]) for p in newest] == stored[::-1] and totals == {23}
    assert [p["id"] for p in newest] == [p["id"] for p in oldest][::-1]  # the same stable ids
    # `from` bounds the list and its count alike.
    since = stored[10]
    bounded, totals = _walk(gql, "NEWEST_FIRST", 5, **{"from": since.isoformat()})
    assert [datetime.fromisoformat(p["timestampUtc"]) for p in bounded] == stored[10:][::-1] and totals == {13}
    # The default order is unchanged: oldest first.
    default = gql.query('{ store(id: "s1") { polls(first: 2) { nodes { timestampUtc } } } }').data["store"]["polls"]["nodes"]
    assert [datetime.fromisoformat(p["timestampUtc"]) for p in default] == stored[:2]


def test_a_bad_argument_on_one_field_nulls_that_field_not_the_response(gql):
    for store_id in ("s1", "s2", "s3"):
        add_polls(make_store(store_id, zone="UTC"), [(START, True), (START + timedelta(hours=1), False)])
    query = """query($days: Int) { stores(pagination: {limit: 10}, ordering: [{id: ASC}]) { totalCount results {
        id timezone
        uptimeBetween(from: "2023-01-21T00:00:00Z", to: "2023-01-20T00:00:00Z") { uptimeMinutes }
        timeline(from: "2023-01-20T00:00:00Z", to: "2023-01-20T06:00:00Z") { state }
        polls(first: 501) { totalCount }
        daily(from: "2023-01-20", to: "2023-01-20", horizonMinutes: $days) { date }
        uptime(horizonMinutes: 0) { asOf }
      } } }"""
    result = gql.query(query, {"days": 60}, assert_no_errors=False)
    stores = result.data["stores"]
    assert stores["totalCount"] == 3 and [s["id"] for s in stores["results"]] == ["s1", "s2", "s3"]
    for index, store in enumerate(stores["results"]):
        assert store["timezone"] == "UTC"
        assert store["uptimeBetween"] is None and store["polls"] is None and store["uptime"] is None
        assert [day["date"] for day in store["daily"]] == ["2023-01-20"]
        assert store["timeline"][0]["state"] == "UP"  # the fields next to the refused ones answer
    by_path = {tuple(error["path"]): error["extensions"] for error in result.errors}
    expected = {
        ("stores", "results", index, field): argument
        for index in range(3)
        for field, argument in (("uptimeBetween", "to"), ("polls", "first"), ("uptime", "horizonMinutes"))
    }
    assert set(by_path) == set(expected)
    for path, argument in expected.items():
        assert by_path[path] == {"code": "INVALID_ARGUMENT", "argument": argument}, path


def test_a_bad_argument_on_one_aliased_field_leaves_its_sibling_alias(gql):
    add_polls(make_store("s1", zone="UTC"), [(START, True)])
    result = gql.query(
        """{ store(id: "s1") { id
             good: specialHours(from: "2023-01-01", to: "2023-12-31") { date }
             bad: polls(after: "not a cursor") { totalCount }
             fine: polls(first: 1) { totalCount } } }""",
        assert_no_errors=False,
    )
    assert result.data == {"store": {"id": "s1", "good": [], "bad": None, "fine": {"totalCount": 1}}}
    assert [(error["path"], error["extensions"]["argument"]) for error in result.errors] == [(["store", "bad"], "after")]

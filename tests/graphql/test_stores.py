"""Stores over GraphQL: pages, filters and order, a store's fields, polls, live uptime,
timeline and incidents, and ids looked up exactly as given."""

from datetime import timedelta

import pytest
from graphql_schema.common.scalars import rfc3339
from monitoring.reports import report_compute

from tests.factories import make_store, worked_example_store

pytestmark = pytest.mark.django_db


def test_stores_pagination_filter_and_order(gql):
    for index in range(12):
        make_store(f"s{index:02d}", zone="America/New_York" if index % 2 else None)
    result = gql.query(
        """query { stores(pagination: {offset: 2, limit: 3}, ordering: [{id: DESC}]) {
             totalCount pageInfo { offset limit } results { id timezone timezoneIsDefault } } }"""
    )
    page = result.data["stores"]
    assert page["totalCount"] == 12
    assert page["pageInfo"] == {"offset": 2, "limit": 3}
    assert [store["id"] for store in page["results"]] == ["s09", "s08", "s07"]
    assert page["results"][1] == {"id": "s08", "timezone": "America/Chicago", "timezoneIsDefault": True}

    chicago = gql.query('query { stores(filters: {timezone: "America/Chicago"}) { totalCount } }')
    assert chicago.data["stores"]["totalCount"] == 6
    one = gql.query('query { stores(filters: {id: "s03"}) { results { id timezone } } }')
    assert one.data["stores"]["results"] == [{"id": "s03", "timezone": "America/New_York"}]


def test_page_size_is_capped(gql):
    """Above the cap (500) a page size is refused, saying the cap, not silently cut."""
    make_store("only")
    result = gql.query("query { stores(pagination: {limit: 500}) { pageInfo { limit } } }")
    assert result.data["stores"]["pageInfo"]["limit"] == 500
    for query in (
        "query { stores(pagination: {limit: 1000}) { pageInfo { limit } } }",
        'query { store(id: "only") { statusPolls(pagination: {limit: 1000}) { totalCount } } }',
        "query { reports(pagination: {limit: 1000}) { totalCount } }",
    ):
        result = gql.query(query, assert_no_errors=False)
        assert [error["message"] for error in result.errors] == ["pagination.limit must be ≤ 500 (got 1000)"], query
    result = gql.query(
        "query($p: OffsetPaginationInput) { stores(pagination: $p) { totalCount } }",
        {"p": {"offset": 0, "limit": 501}},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"] == "pagination.limit must be ≤ 500 (got 501)"


def test_store_fields_polls_and_live_uptime(gql):
    store, noon = worked_example_store()
    make_store("always-open")
    result = gql.query(
        """query($id: ID!, $asOf: DateTime!, $from: DateTime!) {
             store(id: $id) {
               id timezone is24x7
               businessHours { dayOfWeek startTimeLocal endTimeLocal runsPastMidnight }
               statusPolls(from: $from, pagination: {limit: 10}) { totalCount results { timestampUtc status } }
               uptime(asOf: $asOf) { asOf horizonMinutes windows { window uptimeMinutes downtimeMinutes unknownMinutes } }
             }
             open: store(id: "always-open") { is24x7 timezoneIsDefault }
           }""",
        {"id": store.store_id, "asOf": noon.isoformat(), "from": (noon - timedelta(hours=1, minutes=30)).isoformat()},
    )
    data = result.data["store"]
    assert data["timezone"] == "America/New_York" and data["is24x7"] is False
    assert len(data["businessHours"]) == 7
    assert data["businessHours"][0] == {
        "dayOfWeek": 0, "startTimeLocal": "09:00:00", "endTimeLocal": "12:00:00", "runsPastMidnight": False
    }
    # Only the 11:15 poll is at or after 10:30 local.
    assert data["statusPolls"]["totalCount"] == 1
    assert data["statusPolls"]["results"][0]["status"] == "inactive"
    day = {w["window"]: w for w in data["uptime"]["windows"]}["day"]
    assert day["uptimeMinutes"] == pytest.approx(104.5)
    assert day["downtimeMinutes"] == pytest.approx(75.5)
    assert data["uptime"]["horizonMinutes"] == 120
    assert result.data["open"] == {"is24x7": True, "timezoneIsDefault": True}


def test_unknown_store_is_a_clear_error(gql):
    result = gql.query('query { store(id: "nope") { id } }', assert_no_errors=False)
    assert result.errors[0]["message"] == "store not found: nope"


def test_timeline_and_incidents_agree_with_the_report(gql):
    store, noon = worked_example_store()
    start = noon - timedelta(days=7)
    data = gql.query(
        """query($from: DateTime!, $to: DateTime!) { store(id: "worked-example") {
             timeline(from: $from, to: $to) { start end state }
             incidents(from: $from, to: $to) { start end minutesLost } } }""",
        {"from": start.isoformat(), "to": noon.isoformat()},
    ).data["store"]
    segments = data["timeline"]
    assert segments[0]["start"] == rfc3339(start) and segments[-1]["end"] == rfc3339(noon)
    assert all(a["end"] == b["start"] for a, b in zip(segments, segments[1:]))

    from datetime import datetime

    def minutes(state):
        return sum(
            (datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"])).total_seconds() / 60
            for s in segments if s["state"] == state
        )

    row = report_compute(as_of=noon).rows[0]
    assert minutes("UP") == pytest.approx(row["uptime_last_week"] * 60)
    assert minutes("DOWN") == pytest.approx(row["downtime_last_week"] * 60)
    assert minutes("UNKNOWN") == pytest.approx(row["unknown_last_week"] * 60)
    assert data["incidents"] == [
        {"start": rfc3339(noon - timedelta(minutes=75.5)), "end": rfc3339(noon), "minutesLost": 75.5}
    ]


def test_timeline_range_is_capped(gql):
    store, noon = worked_example_store()
    result = gql.query(
        """query($from: DateTime!, $to: DateTime!) { store(id: "worked-example") { timeline(from: $from, to: $to) { state } } }""",
        {"from": (noon - timedelta(days=40)).isoformat(), "to": noon.isoformat()},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"] == "to: may be at most 31 days after from"


def test_negative_pagination_is_a_clear_error(gql):
    make_store("s1")
    result = gql.query("query { stores(pagination: {offset: -5}) { results { id } } }", assert_no_errors=False)
    assert result.errors[0]["message"] == "pagination.offset must be ≥ 0 (got -5)"
    result = gql.query("query { stores(pagination: {limit: -1}) { results { id } } }", assert_no_errors=False)
    assert result.errors[0]["message"] == "pagination.limit must be ≥ 0 (got -1)"
    nested = gql.query(
        "query { stores { results { statusPolls(pagination: {offset: -1}) { totalCount } } } }", assert_no_errors=False
    )
    assert nested.errors[0]["message"] == "pagination.offset must be ≥ 0 (got -1)"
    for query in ("reports", "stores"):
        result = gql.query(f"query {{ {query}(pagination: {{offset: -1}}) {{ totalCount }} }}", assert_no_errors=False)
        assert result.errors[0]["message"] == "pagination.offset must be ≥ 0 (got -1)"
    assert gql.query("query { stores(pagination: {offset: 0, limit: 0}) { results { id } } }").errors is None


def test_store_ids_are_looked_up_exactly_as_given(gql):
    make_store("s1")
    for given in ("s1 ", " s1", "S1", "s1\u00a0"):
        result = gql.query("query($id: ID!) { store(id: $id) { id } }", {"id": given}, assert_no_errors=False)
        assert result.data == {"store": None} and result.errors[0]["message"] != "Unexpected error."
        assert result.errors[0]["extensions"]["code"] in ("NOT_FOUND", "INVALID_ARGUMENT")
    refused = gql.query("query($id: ID!) { store(id: $id) { id } }", {"id": "s1\r"}, assert_no_errors=False)
    assert refused.errors[0]["message"] == "id: holds a control character (U+000D) at character 3"
    nul = gql.query("query($id: ID!) { store(id: $id) { id } }", {"id": "\x00"}, assert_no_errors=False)
    assert nul.errors[0]["message"].startswith("id: holds a control character (U+0000)")
    ids = gql.query(
        "query($f: StoreFilter) { stores(filters: $f) { totalCount } }", {"f": {"ids": ["s1", "\ufeffs1"]}},
        assert_no_errors=False,
    )
    assert ids.errors[0]["message"] == "filters.ids[1]: holds a format character (U+FEFF) at character 1"
    exact = gql.query("query($f: StoreFilter) { stores(filters: $f) { totalCount } }", {"f": {"ids": ["s1", "s1 x"]}})
    assert exact.data["stores"]["totalCount"] == 1
    zone = gql.query(
        'query { stores(filters: {timezone: "Mars/Olympus"}) { totalCount } }', assert_no_errors=False
    )
    assert zone.errors[0]["message"].startswith("filters.timezone: unknown time zone 'Mars/Olympus'")

from datetime import timedelta
from pathlib import Path

import pytest
from strawberry_django.test.client import TestClient

from graphql_schema.common.scalars import rfc3339
from graphql_schema.schema import MAX_ALIASES, MAX_DEPTH, schema
from monitoring.models import Report
from monitoring.reports import report_compute, report_run
from tests.factories import add_polls, make_store, worked_example_store

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gql() -> TestClient:
    return TestClient("/graphql/")


def test_schema_file_is_current():
    """schema.graphql is the exported contract for frontend teams: regenerate it with
    `python manage.py export_schema`."""
    assert (ROOT / "schema.graphql").read_text().strip() == str(schema).strip()


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


def test_trigger_report_then_read_it(gql):
    store, noon = worked_example_store()
    triggered = gql.query(
        "mutation($asOf: DateTime) { triggerReport(asOf: $asOf) { id status } }", {"asOf": noon.isoformat()}
    ).data["triggerReport"]
    assert triggered["status"] == "PENDING"
    query = """query($id: ID!) { report(id: $id) { id status asOf storeCount downloadUrl
                 rows(filters: {storeId: "worked-example"}) { totalCount results { storeId uptimeLastDay unknownLastWeek incidentsLastHour incidentsLastDay } } } }"""
    pending = gql.query(query, {"id": triggered["id"]}).data["report"]
    assert pending["downloadUrl"] is None and pending["rows"]["totalCount"] == 0

    report_run(report_id=triggered["id"])
    done = gql.query(query, {"id": triggered["id"]}).data["report"]
    assert done["status"] == "COMPLETE" and done["storeCount"] == 1
    expected = report_compute(as_of=noon).rows[0]
    # The deprecated fields keep SPEC §5's units (hours for the day), rounded as every Float.
    assert done["rows"]["results"] == [
        {"storeId": "worked-example", "uptimeLastDay": round(expected["uptime_last_day"], 2),
         "unknownLastWeek": round(expected["unknown_last_week"], 2),
         # One outage: 10:44:30 to closing at 12:00, inside both windows.
         "incidentsLastHour": 1, "incidentsLastDay": 1}
    ]
    assert done["downloadUrl"].startswith("http://testserver/reports/download/")
    listed = gql.query("query { reports { totalCount results { id status } } }").data["reports"]
    assert listed["results"] == [{"id": triggered["id"], "status": "COMPLETE"}]


def test_trigger_report_validation_errors(gql):
    make_store("known")
    result = gql.query('mutation { triggerReport(storeIds: ["known", "ghost"]) { id } }', assert_no_errors=False)
    # The shared grammar's and the engine's names are shown as the client wrote them.
    assert result.errors[0]["message"] == "unknown storeIds: ghost"
    result = gql.query("mutation { triggerReport(horizonMinutes: 0) { id } }", assert_no_errors=False)
    assert "horizonMinutes must be between" in result.errors[0]["message"]
    result = gql.query('mutation { triggerReport(storeIds: ["known", "a\\r"]) { id } }', assert_no_errors=False)
    assert result.errors[0]["message"] == "storeIds[1]: storeId holds a control character (U+000D) at character 2"
    result = gql.query(
        "mutation($asOf: DateTime) { triggerReport(asOf: $asOf) { id } }", {"asOf": "2101-01-01T00:00:00Z"},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"].startswith("asOf: asOf must be in the years 2000")
    assert Report.objects.count() == 0


def test_unknown_and_malformed_report_ids(gql):
    result = gql.query('query { report(id: "not-a-uuid") { id } }', assert_no_errors=False)
    assert result.errors[0]["message"] == "report not found: not-a-uuid"


def test_depth_limit_refuses_deep_queries(gql):
    make_store("x")

    def nested(levels: int) -> str:
        inner = "id"
        for _ in range(levels):
            inner = f"statusPolls {{ results {{ store {{ {inner} }} }} }}"
        return f'query {{ store(id: "x") {{ {inner} }} }}'

    assert gql.query(nested(2)).errors is None
    result = gql.query(nested(MAX_DEPTH), assert_no_errors=False)
    assert "exceeds maximum operation depth" in result.errors[0]["message"]
    assert result.errors[0]["extensions"] == {"code": "TOO_COSTLY"}
    assert result.data is None


def test_alias_and_token_limits(gql):
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))
    result = gql.query(f"query {{ {aliases} }}", assert_no_errors=False)
    assert "aliases" in result.errors[0]["message"].lower()
    assert result.errors[0]["extensions"] == {"code": "TOO_COSTLY"}
    tokens = " ".join("__typename" for _ in range(2100))
    result = gql.query(f"query {{ {tokens} }}", assert_no_errors=False)
    assert "token" in result.errors[0]["message"].lower()
    assert result.errors[0]["extensions"] == {"code": "TOO_COSTLY"}
    # Other validation errors that mention aliases are the client's document, not its size.
    conflict = gql.query('query { stores { totalCount } stores(pagination: {limit: 1}) { totalCount } }', assert_no_errors=False)
    assert "aliases" in conflict.errors[0]["message"] and conflict.errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_a_document_is_validated_once(gql, monkeypatch):
    """The limits' rules are made once, so ValidationCache hits on a repeated document
    (limit errors included): validation was most of the CPU of a small request."""
    import strawberry.schema.schema as strawberry_schema

    calls = []
    real_validate = strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "validate", lambda *a, **kw: calls.append(1) or real_validate(*a, **kw))
    aliases = " ".join(f"once{i}: __typename" for i in range(MAX_ALIASES + 1))  # documents no other test sends
    for _ in range(3):
        assert gql.query("query ValidatedOnce { stores { totalCount } }").errors is None
        result = gql.query(f"query {{ {aliases} }}", assert_no_errors=False)
        assert "aliases" in result.errors[0]["message"].lower()
    assert len(calls) == 2


def test_internal_errors_are_masked(gql, monkeypatch):
    import graphql_schema.reports.schema as report_schema

    def explode(**kwargs):
        raise RuntimeError("secret connection string postgres://admin:pw@db")

    monkeypatch.setattr(report_schema, "report_create", explode)
    result = gql.query("mutation { triggerReport { id } }", assert_no_errors=False)
    assert result.errors[0]["message"] == "Unexpected error."


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
    assert result.errors[0]["message"] == "the range may span at most 31 days"


def test_record_polls_validates_like_the_loader(gql):
    from monitoring.models import StatusPoll

    store, noon = worked_example_store()
    mutation = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) {
        received loaded replaced unchanged superseded rejected rejections { index field reason } userErrors { field } } }"""
    polls = [
        {"storeId": "worked-example", "timestampUtc": "2023-01-25 18:00:00.5 UTC", "status": "ACTIVE"},
        {"storeId": "worked-example", "timestampUtc": "2099-01-25T18:00:00Z", "status": "active"},
        {"storeId": "new-store", "timestampUtc": "2023-01-25T18:05:00Z", "status": "sleeping"},
        {"storeId": "worked-example", "timestampUtc": "2023-01-25T16:15:00+00:00", "status": "active"},
    ]
    result = gql.query(mutation, {"polls": polls}).data["recordPolls"]
    assert result["received"] == 4 and result["loaded"] == 1 and result["replaced"] == 1
    assert result["rejected"] == 2 and result["userErrors"] == []
    # The rejected field in PollInput's own spelling.
    assert [(r["index"], r["field"]) for r in result["rejections"]] == [(1, "timestampUtc"), (2, "status")]
    # 16:15 UTC is 11:15 New York: the stored inactive poll was replaced (later wins).
    assert StatusPoll.objects.get(store=store, timestamp_utc=noon - timedelta(minutes=45)).is_active is True
    again = gql.query(mutation, {"polls": polls[:1]}).data["recordPolls"]
    assert again["unchanged"] == 1 and again["loaded"] == 0


def test_record_polls_time_is_a_date_time(gql):
    """PollInput.timestampUtc is the DateTime scalar: text it cannot read refuses the
    request (nothing stored), naming the poll and its field."""
    from monitoring.models import StatusPoll

    worked_example_store()
    before = StatusPoll.objects.count()
    for text in ("not a time", "2023-01-25T18:00:00"):
        polls = [
            {"storeId": "worked-example", "timestampUtc": "2023-01-25T17:00:00Z", "status": "active"},
            {"storeId": "worked-example", "timestampUtc": text, "status": "active"},
        ]
        result = gql.query(
            "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded } }", {"polls": polls},
            assert_no_errors=False,
        )
        (error,) = result.errors
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "variable": "polls", "argument": "polls[1].timestampUtc"}
        assert text in error["message"]
    assert StatusPoll.objects.count() == before


def test_record_polls_batch_is_capped(gql):
    polls = [{"storeId": "s", "timestampUtc": "2023-01-25 18:00:00 UTC", "status": "active"}] * 5001
    result = gql.query(
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { received } }", {"polls": polls},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"] == "at most 5000 polls per request"
    assert result.errors[0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "polls"}
    selected = gql.query(
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { received loaded userErrors { field message code } } }",
        {"polls": polls},
    ).data["recordPolls"]
    assert selected == {"received": 5001, "loaded": 0, "userErrors": [
        {"field": "polls", "message": "at most 5000 polls per request", "code": "INVALID_ARGUMENT"}]}


UPTIME = "query($id: ID!, $asOf: DateTime) { store(id: $id) { uptime(asOf: $asOf) { asOf } } }"


def test_naive_instants_are_refused_with_how_to_write_an_offset(gql):
    """Every DateTime argument is read by monitoring.kernel.values.instant (SPEC §7)."""
    store, noon = worked_example_store()
    result = gql.query(UPTIME, {"id": store.store_id, "asOf": "2023-01-25T12:00:00"}, assert_no_errors=False)
    message = result.errors[0]["message"]
    assert message.startswith("Variable '$asOf' has invalid value: DateTime '2023-01-25T12:00:00' has no offset")
    assert "2023-01-25T18:13:22Z" in message  # says how to write one
    inline = gql.query('query { store(id: "worked-example") { uptime(asOf: "2023-01-25 12:00") { asOf } } }',
                       assert_no_errors=False)
    assert "has no offset" in inline.errors[0]["message"]
    for text in ("2023-01-25T17:00:00Z", "2023-01-25 17:00:00 UTC", "2023-01-25T12:00:00-05:00"):
        data = gql.query(UPTIME, {"id": store.store_id, "asOf": text}).data
        assert data["store"]["uptime"]["asOf"] == rfc3339(noon)
    timeline = gql.query(
        """query($from: DateTime!, $to: DateTime!) { store(id: "worked-example") { timeline(from: $from, to: $to) { state } } }""",
        {"from": "2023-01-24T12:00:00", "to": noon.isoformat()},
        assert_no_errors=False,
    )
    assert "has no offset" in timeline.errors[0]["message"]
    wrong = gql.query(UPTIME, {"id": store.store_id, "asOf": 20230125}, assert_no_errors=False)
    assert wrong.errors[0]["message"] == "Variable '$asOf' has invalid value: DateTime must be text"


def test_as_of_outside_2000_to_2100_names_as_of(gql):
    store, _ = worked_example_store()
    result = gql.query(UPTIME, {"id": store.store_id, "asOf": "9999-01-01T00:00:00Z"}, assert_no_errors=False)
    assert result.errors[0]["message"] == "asOf: asOf must be in the years 2000–2100, not 9999-01-01T00:00:00+00:00"
    result = gql.query(UPTIME, {"id": store.store_id, "asOf": "1999-12-31T23:59:59Z"}, assert_no_errors=False)
    assert result.errors[0]["message"].startswith("asOf: asOf must be in the years 2000–2100")


def test_variables_of_the_wrong_type_are_not_masked(gql):
    make_store("s1")
    result = gql.query(
        'query($h: Int) { store(id: "s1") { uptime(horizonMinutes: $h) { asOf } } }', {"h": "abc"},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"] == "Variable '$h' has invalid value: Int cannot represent non-integer value: 'abc'"
    result = gql.query('query { store(id: "s1") { uptime(horizonMinutes: -3) { asOf } } }', assert_no_errors=False)
    assert result.errors[0]["message"].startswith("horizonMinutes must be between 1 and")


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
    assert refused.errors[0]["message"] == "id: storeId holds a control character (U+000D) at character 3"
    nul = gql.query("query($id: ID!) { store(id: $id) { id } }", {"id": "\x00"}, assert_no_errors=False)
    assert nul.errors[0]["message"].startswith("id: storeId holds a control character (U+0000)")
    ids = gql.query(
        "query($f: StoreFilter) { stores(filters: $f) { totalCount } }", {"f": {"ids": ["s1", "\ufeffs1"]}},
        assert_no_errors=False,
    )
    assert ids.errors[0]["message"] == "filters.ids[1]: storeId holds a format character (U+FEFF) at character 1"
    exact = gql.query("query($f: StoreFilter) { stores(filters: $f) { totalCount } }", {"f": {"ids": ["s1", "s1 x"]}})
    assert exact.data["stores"]["totalCount"] == 1
    zone = gql.query(
        'query { stores(filters: {timezone: "Mars/Olympus"}) { totalCount } }', assert_no_errors=False
    )
    assert zone.errors[0]["message"].startswith("filters.timezone: unknown time zone 'Mars/Olympus'")


@pytest.mark.parametrize(
    "body",
    [b"1", b'"abc"', b"null", b"[]", b"[1]", b"\xff\xfe{}", b"[" * 100_000, b'{"query": 5}', b'{"query": "{ __typename }", "variables": 1}'],
)
def test_unreadable_bodies_answer_400_json(client, body):
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_http_errors_of_the_endpoint_are_json(client):
    response = client.put("/graphql/", "{}", content_type="application/json")
    assert response.status_code == 405 and "error" in response.json()
    response = client.post("/graphql/", "query { __typename }", content_type="text/plain")
    assert response.status_code == 400 and response.json()["error"] == "Unsupported content type"
    response = client.get("/graphql/", {"query": "{ __typename }", "variables": "[" * 100_000})
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]


# --------------------------------------------------------------------------- special hours (SPEC §9)

SPECIAL = """query($id: ID!, $from: Date, $to: Date) { store(id: $id) {
    specialHours(from: $from, to: $to) { date startTimeLocal endTimeLocal closed } } }"""
SET_SPECIAL = """mutation($id: ID!, $date: Date!, $shifts: [ShiftInput!]!) {
    setSpecialHours(storeId: $id, date: $date, shifts: $shifts) { specialHours { date startTimeLocal endTimeLocal closed } } }"""
CLEAR_SPECIAL = "mutation($id: ID!, $date: Date!) { clearSpecialHours(storeId: $id, date: $date) { cleared } }"
DAY_UPTIME = """query($asOf: DateTime!) { store(id: "worked-example") { uptime(asOf: $asOf) {
    windows { window businessMinutes uptimeMinutes } } } }"""


def _day_window(gql, noon):
    windows = gql.query(DAY_UPTIME, {"asOf": noon.isoformat()}).data["store"]["uptime"]["windows"]
    return {w["window"]: w for w in windows}["day"]


def test_special_hours_set_read_and_clear(gql):
    store, noon = worked_example_store()  # open 09:00–12:00 every day, New York; noon on 2023-01-25
    assert _day_window(gql, noon)["businessMinutes"] == pytest.approx(180)

    closed = gql.query(SET_SPECIAL, {"id": "worked-example", "date": "2023-01-25", "shifts": []}).data
    assert closed["setSpecialHours"]["specialHours"] == [
        {"date": "2023-01-25", "startTimeLocal": None, "endTimeLocal": None, "closed": True}
    ]
    # the read cache was told: the same query now sees the closed day (the day window is 2023-01-24
    # 12:00 .. 2023-01-25 12:00 local: nothing open on the 24th after noon, the 25th closed)
    assert _day_window(gql, noon) == {"window": "day", "businessMinutes": 0, "uptimeMinutes": 0}

    short = gql.query(SET_SPECIAL, {
        "id": "worked-example", "date": "2023-01-25",
        "shifts": [{"startTimeLocal": "10:00", "endTimeLocal": "11:00"}, {"startTimeLocal": "22:00", "endTimeLocal": "24:00"}],
    }).data["setSpecialHours"]["specialHours"]
    assert short == [
        {"date": "2023-01-25", "startTimeLocal": "10:00:00", "endTimeLocal": "11:00:00", "closed": False},
        {"date": "2023-01-25", "startTimeLocal": "22:00:00", "endTimeLocal": "00:00:00", "closed": False},
    ]
    day = _day_window(gql, noon)
    assert day["businessMinutes"] == pytest.approx(60)
    # the 11:15 inactive poll is outside the special 10:00–11:00: not evidence; 10:14 active covers it all
    assert day["uptimeMinutes"] == pytest.approx(60)
    gql.query(SET_SPECIAL, {"id": "worked-example", "date": "2023-12-25", "shifts": []})

    rows = gql.query(SPECIAL, {"id": "worked-example"}).data["store"]["specialHours"]
    assert [(r["date"], r["closed"]) for r in rows] == [("2023-01-25", False), ("2023-01-25", False), ("2023-12-25", True)]
    ranged = gql.query(SPECIAL, {"id": "worked-example", "from": "2023-02-01", "to": "2023-12-25"}).data
    assert [r["date"] for r in ranged["store"]["specialHours"]] == ["2023-12-25"]

    assert gql.query(CLEAR_SPECIAL, {"id": "worked-example", "date": "2023-01-25"}).data == {"clearSpecialHours": {"cleared": True}}
    assert gql.query(CLEAR_SPECIAL, {"id": "worked-example", "date": "2023-01-25"}).data == {"clearSpecialHours": {"cleared": False}}
    assert _day_window(gql, noon)["businessMinutes"] == pytest.approx(180)  # the weekly hours again


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"date": "2023-02-30"}, "Date out of range '2023-02-30' (no such date)"),
        ({"date": "20230125"}, "unparsable Date '20230125' (expected YYYY-MM-DD)"),
        ({"date": "1999-12-31"}, "Date must be in the years 2000–2100, not 1999-12-31"),
        ({"shifts": [{"startTimeLocal": "24:00", "endTimeLocal": "10:00"}]},
         "shifts[0].startTimeLocal: 24:00 is only allowed as an end time"),
        ({"shifts": [{"startTimeLocal": "09:00", "endTimeLocal": "9h"}]},
         "shifts[0].endTimeLocal: unparsable shifts[0].endTimeLocal '9h' (expected HH:MM or HH:MM:SS)"),
        ({"shifts": [{"startTimeLocal": f"{h:02d}:00", "endTimeLocal": f"{h:02d}:30"} for h in range(11)]},
         "shifts: at most 10 shifts a date"),
        ({"id": "nope"}, "store not found: nope"),
    ],
)
def test_set_special_hours_refusals_name_the_argument(gql, variables, message):
    worked_example_store()
    sent = {"id": "worked-example", "date": "2023-01-25", "shifts": [], **variables}
    result = gql.query(SET_SPECIAL, sent, assert_no_errors=False)
    assert message in result.errors[0]["message"]
    if "date" not in variables:  # a Date the scalar refuses refuses the request; the rest are userErrors
        with_errors = SET_SPECIAL.replace("closed } }", "closed } userErrors { field message code } }")
        (user_error,) = gql.query(with_errors, sent).data["setSpecialHours"]["userErrors"]
        assert message in user_error["message"] and user_error["field"] == message.split(":")[0].replace("store not found", "storeId")
        assert user_error["code"] == ("NOT_FOUND" if "id" in variables else "INVALID_ARGUMENT")
    from monitoring.models import SpecialHours

    assert not SpecialHours.objects.exists()


def test_special_hours_are_owner_scoped(client, settings):
    from monitoring.stores.access import token_create
    from monitoring.models import Owner, SpecialHours

    settings.API_ANONYMOUS_ACCESS = False
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, _ = worked_example_store("a1")
    b1, _ = worked_example_store("b1")
    a1.owner, b1.owner = alice, bob
    a1.save(), b1.save()
    token = token_create(name="t", owner=alice)[1]

    def call(query, variables):
        return client.post("/graphql/", {"query": query, "variables": variables}, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"}).json()

    mine = call(SET_SPECIAL, {"id": "a1", "date": "2023-01-25", "shifts": []})
    assert mine["data"]["setSpecialHours"]["specialHours"][0]["closed"] is True
    for query, variables in ((SET_SPECIAL, {"id": "b1", "date": "2023-01-25", "shifts": []}),
                             (CLEAR_SPECIAL, {"id": "b1", "date": "2023-01-25"}),
                             (SPECIAL, {"id": "b1"})):
        assert call(query, variables)["errors"][0]["message"] == "store not found: b1"
    assert list(SpecialHours.objects.values_list("store__store_id", flat=True)) == ["a1"]


def test_special_hours_range_holding_too_many_rows_is_refused(gql):
    from datetime import date

    from graphql_schema.stores.types import SPECIAL_HOURS_MAX_ROWS
    from monitoring.models import SpecialHours

    store, _ = worked_example_store()
    first = date(2024, 1, 1)
    SpecialHours.objects.bulk_create(
        SpecialHours(store=store, date=first + timedelta(days=k)) for k in range(SPECIAL_HOURS_MAX_ROWS + 1)
    )
    result = gql.query(SPECIAL, {"id": "worked-example"}, assert_no_errors=False)
    assert result.errors[0]["message"] == "more than 100 special-hours rows in this range: narrow from/to"
    last = (first + timedelta(days=SPECIAL_HOURS_MAX_ROWS - 1)).isoformat()
    rows = gql.query(SPECIAL, {"id": "worked-example", "to": last}).data["store"]["specialHours"]
    assert len(rows) == SPECIAL_HOURS_MAX_ROWS


# --------------------------------------------------------------------------- the server log


def test_client_errors_are_logged_in_one_line_without_traceback(gql, caplog):
    """A GraphQL error the client can fix (UserError, InvalidValue, validation) is one
    WARNING line in the server log, not strawberry's ERROR with a traceback."""
    make_store("only")
    with caplog.at_level("WARNING", logger="strawberry.execution"):
        gql.query('query { store(id: "ghost") { id } }', assert_no_errors=False)
        gql.query('query { store(id: "only") { uptime(asOf: "2023-01-25T12:00:00") { asOf } } }', assert_no_errors=False)
        gql.query("query { stores(pagination: {limit: 1000}) { totalCount } }", assert_no_errors=False)
        gql.query("query { nope }", assert_no_errors=False)
    records = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert [r.levelname for r in records] == ["WARNING"] * 4
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    messages = [r.getMessage() for r in records]
    assert messages[0] == "GraphQL error at store [NOT_FOUND]: store not found: ghost"
    assert messages[1].startswith("GraphQL error at line 1:42 [INVALID_ARGUMENT]: asOf: DateTime '2023-01-25T12:00:00' has no offset")
    assert messages[2] == "GraphQL error at stores [INVALID_ARGUMENT]: pagination.limit must be ≤ 500 (got 1000)"
    assert messages[3] == "GraphQL error at line 1:9 [INVALID_ARGUMENT]: Cannot query field 'nope' on type 'Query'."


def test_log_lines_are_always_valid_utf8(gql, caplog):
    """graphql-core quotes an unknown input field's name raw: a lone surrogate in it is
    logged escaped (a line that cannot be encoded breaks log shipping and pytest-xdist)."""
    with caplog.at_level("WARNING", logger="strawberry.execution"):
        gql.query("query($f: StoreFilter) { stores(filters: $f) { totalCount } }", {"f": {"\ud800x": 1}},
                  assert_no_errors=False)
    (record,) = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert "\\ud800x" in record.getMessage()
    record.getMessage().encode("utf-8")


def test_unexpected_errors_keep_their_traceback(caplog):
    """A masked error ("Unexpected error." for the client) is logged by strawberry with
    its traceback, for the operator."""
    from graphql.error import GraphQLError

    try:
        raise RuntimeError("the engine fell over")
    except RuntimeError as error:
        failure = GraphQLError("the engine fell over", original_error=error, path=["store", "uptime"])
    with caplog.at_level("WARNING", logger="strawberry.execution"):
        schema.process_errors([failure])
    (record,) = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert record.levelname == "ERROR" and record.exc_info[1] is failure.original_error

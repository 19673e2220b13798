"""GraphQL history (docs/rules.md §11): `Store.uptimeBetween`, `Store.daily` against the
reference engine (DST dates included), `triggerReport(from, to)` through the worker path
to its CSV, the refusals with their codes, and the price of `daily`."""

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from strawberry_django.test.client import TestClient

from monitoring.kernel.storage import report_storage
from monitoring.models import Owner, Report
from monitoring.reports import report_chunk_run, report_run
from monitoring.stores.access import token_create
from monitoring.stores.summaries import summaries_bring_up_to_date
from tests.factories import add_polls, make_store
from tests.history.generated import UTC, generate

pytestmark = pytest.mark.django_db

FIGURES = "uptimeMinutes downtimeMinutes unknownMinutes businessMinutes"
KEYS = {"uptimeMinutes": "up", "downtimeMinutes": "down", "unknownMinutes": "unknown", "businessMinutes": "business"}
TOLERANCE = 0.005 + 1e-9  # 2 decimals


@pytest.fixture
def gql() -> TestClient:
    return TestClient("/graphql/")


def assert_figures(got: dict, expected: dict, where) -> None:
    for name, key in KEYS.items():
        assert abs(got[name] - expected[key]) <= TOLERANCE, (where, name, got[name], expected[key])


UPTIME_BETWEEN = f"""query($id: ID!, $from: DateTime!, $to: DateTime!) {{
  store(id: $id) {{ uptimeBetween(from: $from, to: $to) {{ from to horizonMinutes {FIGURES} }} }} }}"""


@pytest.mark.parametrize(
    "start, end",
    [
        (datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 4, 1, tzinfo=UTC)),  # 90 days
        (datetime(2023, 3, 11, 5, 0, tzinfo=UTC), datetime(2023, 3, 13, 5, 0, tzinfo=UTC)),  # New York's spring forward
        (datetime(2023, 3, 26, 0, 59, 30, tzinfo=UTC), datetime(2023, 3, 26, 1, 0, 30, tzinfo=UTC)),  # London's, 1 minute
    ],
)
@pytest.mark.parametrize("kept", [False, True], ids=["from polls", "from kept days"])
def test_uptime_between_matches_the_reference(gql, start, end, kept):
    data = generate()
    if kept:
        assert summaries_bring_up_to_date() > 0
    for store_id in data.schedules:
        got = gql.query(
            UPTIME_BETWEEN, {"id": store_id, "from": start.isoformat(), "to": end.isoformat()}
        ).data["store"]["uptimeBetween"]
        assert got["from"] == start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert got["to"] == end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert got["horizonMinutes"] == 120
        assert_figures(got, data.range_minutes(store_id, start, end), store_id)


DAILY = f"""query($id: ID!, $from: Date!, $to: Date!) {{
  store(id: $id) {{ daily(from: $from, to: $to) {{ date from to {FIGURES} }} }} }}"""


@pytest.mark.parametrize(
    "first, last",
    [
        (date(2023, 3, 10), date(2023, 3, 14)),  # New York and Chicago spring forward on the 12th
        (date(2023, 3, 25), date(2023, 3, 27)),  # London on the 26th
        (date(2023, 4, 1), date(2023, 4, 3)),  # Lord Howe falls back 30 minutes on the 2nd; polls end on the 3rd
    ],
)
@pytest.mark.parametrize("kept", [False, True], ids=["from polls", "from kept days"])
def test_daily_matches_the_reference_on_dst_dates(gql, first, last, kept):
    data = generate()
    if kept:
        assert summaries_bring_up_to_date() > 0
    for store_id, schedule in data.schedules.items():
        days = gql.query(DAILY, {"id": store_id, "from": first.isoformat(), "to": last.isoformat()}).data["store"]["daily"]
        assert [d["date"] for d in days] == [
            date.fromordinal(o).isoformat() for o in range(first.toordinal(), last.toordinal() + 1)
        ]
        for day in days:
            assert_figures(day, data.day_minutes(store_id, date.fromisoformat(day["date"])), (store_id, day["date"]))
    # The day's length follows the wall clock: 23 hours in New York on 2023-03-12, 24.5 at Lord Howe on 2023-04-02.
    b = gql.query(DAILY, {"id": "b", "from": "2023-03-12", "to": "2023-03-12"}).data["store"]["daily"][0]  # 24x7, Chicago
    assert b["from"] == "2023-03-12T06:00:00.000000Z" and b["to"] == "2023-03-13T05:00:00.000000Z"
    assert b["businessMinutes"] == 23 * 60


def test_trigger_report_with_from_and_to_completes_with_the_range_csv(gql, client):
    data = generate()
    start, end = datetime(2023, 2, 25, 12, tzinfo=UTC), datetime(2023, 3, 28, 6, 30, tzinfo=UTC)
    triggered = gql.query(
        "mutation($from: DateTime, $to: DateTime) { triggerReport(from: $from, to: $to) { id status } }",
        {"from": start.isoformat(), "to": end.isoformat()},
    ).data["triggerReport"]
    assert triggered["status"] == "PENDING"
    report_run(report_id=triggered["id"])
    done = gql.query(
        'query($id: ID!) { report(id: $id) { status from to asOf storeCount downloadUrl } }', {"id": triggered["id"]}
    ).data["report"]
    assert done["status"] == "COMPLETE" and done["storeCount"] == len(data.schedules)
    assert done["from"] == "2023-02-25T12:00:00.000000Z" and done["to"] == done["asOf"] == "2023-03-28T06:30:00.000000Z"
    response = client.get(done["downloadUrl"].removeprefix("http://testserver"))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    lines = text.splitlines()
    assert lines[0] == "store_id,uptime_minutes,downtime_minutes,unknown_minutes,business_minutes"
    rows = list(csv.reader(lines[1:]))
    ids = sorted(data.schedules)
    assert [r[0] for r in rows] == ["'" + i if i.startswith("-") else i for i in ids]
    for store_id, row in zip(ids, rows):
        expected = data.range_minutes(store_id, start, end)
        for cell, key in zip(row[1:], ("up", "down", "unknown", "business")):
            assert abs(float(cell) - expected[key]) <= TOLERANCE, (store_id, key)
    # The same bytes as the command writes.
    out = io.StringIO()
    call_command("generate_report", "--from", start.isoformat(), "--to", end.isoformat(), stdout=out)
    assert out.getvalue() == text
    report = Report.objects.get(pk=triggered["id"])
    assert report.range_start == start and report.range_rows.count() == len(ids) and not report.rows.exists()
    assert report_storage().exists(report.csv_file.name)


def test_a_range_report_in_chunks_and_to_by_default(gql, settings):
    data = generate()
    settings.REPORT_CHUNK_SIZE = 4  # a 30-day range: 1 store per chunk, 6 chunks run by hand
    latest = max(t for polls in data.polls.values() for t, _ in polls)
    triggered = gql.query('mutation { triggerReport(from: "2023-03-01T00:00:00Z") { id } }').data["triggerReport"]
    report = report_run(report_id=triggered["id"])
    assert report.chunks.count() == len(data.schedules)
    for chunk in report.chunks.all():
        report_chunk_run(chunk_id=chunk.pk)
    report.refresh_from_db()
    assert report.status == "COMPLETE"
    assert report.as_of == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=latest)
    lines = report.csv.splitlines()
    assert len(lines) == 1 + len(data.schedules)
    row = dict(zip(lines[0].split(","), lines[1 + sorted(data.schedules).index("b")].split(",")))
    expected = data.range_minutes("b", datetime(2023, 3, 1, tzinfo=UTC), report.as_of)
    assert abs(float(row["uptime_minutes"]) - expected["up"]) <= TOLERANCE


def _error(result) -> tuple[str, dict]:
    (error,) = result.errors
    return error["message"], error["extensions"]


@pytest.mark.parametrize(
    "start, end, argument, message",
    [
        ("2023-03-02T00:00:00Z", "2023-03-01T00:00:00Z", "to", "to: must be after from (2023-03-01T00:00:00.000000Z is not after"),
        ("2023-03-01T00:00:00Z", "2023-03-01T00:00:00Z", "to", "must be after from"),
        ("2022-01-01T00:00:00Z", "2023-03-01T00:00:00Z", "from", "from: is 424 days before to: a range spans at most 400 days"),
        ("1999-12-31T00:00:00Z", "2000-01-02T00:00:00Z", "from", "from: must be in the years 2000–2100"),
    ],
)
def test_uptime_between_refusals(gql, start, end, argument, message):
    make_store("s")
    result = gql.query(UPTIME_BETWEEN, {"id": "s", "from": start, "to": end}, assert_no_errors=False)
    text, extensions = _error(result)
    assert message in text
    assert extensions == {"code": "INVALID_ARGUMENT", "argument": argument}


def test_instants_without_an_offset_are_refused(gql):
    make_store("s")
    result = gql.query(UPTIME_BETWEEN, {"id": "s", "from": "2023-03-01T00:00:00", "to": "2023-03-02T00:00:00Z"},
                       assert_no_errors=False)
    text, extensions = _error(result)
    assert "has no offset" in text and extensions["code"] == "INVALID_ARGUMENT"
    result = gql.query('query { store(id: "s") { uptimeBetween(from: "2023-03-01 00:00", to: "2023-03-02T00:00:00Z") { uptimeMinutes } } }',
                       assert_no_errors=False)
    text, extensions = _error(result)
    assert "has no offset" in text and extensions["code"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    "first, last, argument, message",
    [
        ("2023-03-02", "2023-03-01", "to", "to: must not be before from (2023-03-01 is before 2023-03-02)"),
        ("2023-01-01", "2024-01-02", "from", "from–to holds 367 dates: at most 366 are answered at once"),
    ],
)
def test_daily_refusals(gql, first, last, argument, message):
    make_store("s")
    result = gql.query(DAILY, {"id": "s", "from": first, "to": last}, assert_no_errors=False)
    text, extensions = _error(result)
    assert message in text
    assert extensions == {"code": "INVALID_ARGUMENT", "argument": argument}


def test_trigger_report_range_refusals(gql):
    make_store("s")
    cases = [
        ('triggerReport(from: "2023-03-02T00:00:00Z", to: "2023-03-01T00:00:00Z")', "to", "must be after from"),
        ('triggerReport(from: "2022-01-01T00:00:00Z", to: "2023-03-01T00:00:00Z")', "from", "at most 400 days"),
        ('triggerReport(to: "2023-03-01T00:00:00Z")', "from", "to needs from"),
        ('triggerReport(from: "2023-03-01T00:00:00Z", asOf: "2023-03-02T00:00:00Z")', "asOf", "asOf is the weekly"),
    ]
    for call, field, message in cases:
        result = gql.query(f"mutation {{ {call} {{ id userErrors {{ field message code }} }} }}")
        (error,) = result.data["triggerReport"]["userErrors"]
        assert error["field"] == field and message in error["message"] and error["code"] == "INVALID_ARGUMENT", call
        # Without userErrors selected: a top-level error with the same code and argument.
        result = gql.query(f"mutation {{ {call} {{ id }} }}", assert_no_errors=False)
        assert result.errors[0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": field}, call
    assert Report.objects.count() == 0


def test_daily_is_priced_by_its_cap(client):
    make_store("s")
    body = client.post(
        "/graphql/",
        json.dumps({"query": 'query { store(id: "s") { daily(from: "2023-03-01", to: "2023-03-02") { date } } }'}),
        content_type="application/json",
    ).json()
    assert "errors" not in body and len(body["data"]["store"]["daily"]) == 2
    assert body["extensions"]["cost"]["nodes"] == 1 + 366  # the store, then its most dates
    # A page of 500 stores' daily figures is above the limit, refused before it runs.
    body = client.post(
        "/graphql/",
        json.dumps({"query": 'query { stores(pagination: {limit: 500}) { results { daily(from: "2023-03-01", to: "2023-03-02") { date } } } }'}),
        content_type="application/json",
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "TOO_COSTLY"


def test_an_owner_reads_only_their_stores_history(client):
    """An owner's range report covers their stores, `to` by default their latest poll;
    another owner's store is not found (docs/rules.md §8)."""
    mine, theirs = Owner.objects.create(name="me"), Owner.objects.create(name="them")
    own = make_store("own")
    other = make_store("other")
    own.owner, other.owner = mine, theirs
    own.save(), other.save()
    add_polls(own, [(datetime(2023, 3, 1, h, tzinfo=UTC), True) for h in range(10)])
    add_polls(other, [(datetime(2023, 3, 5, h, tzinfo=UTC), False) for h in range(10)])
    _, raw = token_create(name="me", owner=mine)

    def post(query):
        return client.post(
            "/graphql/", json.dumps({"query": query}), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        ).json()

    body = post('mutation { triggerReport(from: "2023-02-28T00:00:00Z") { id } }')
    report = report_run(report_id=body["data"]["triggerReport"]["id"])
    assert report.as_of == datetime(2023, 3, 1, 9, tzinfo=UTC)  # my latest poll, not theirs
    assert [line.split(",")[0] for line in report.csv.splitlines()[1:]] == ["own"]
    body = post('query { store(id: "other") { uptimeBetween(from: "2023-03-01T00:00:00Z", to: "2023-03-06T00:00:00Z") { uptimeMinutes } } }')
    assert body["data"]["store"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = post('query { store(id: "own") { uptimeBetween(from: "2023-03-01T00:00:00Z", to: "2023-03-06T00:00:00Z") { uptimeMinutes } } }')
    # 24x7: up from 00:00 (the first poll) to 11:00 (H after the last).
    assert body["data"]["store"]["uptimeBetween"]["uptimeMinutes"] == 11 * 60


def test_a_range_report_whose_default_to_falls_before_from_fails_with_the_reason():
    """`to` by default is resolved when the report runs: if the latest poll is then no
    longer after `from` (polls deleted meanwhile), the report fails saying why."""
    from monitoring.models import StatusPoll
    from monitoring.reports import report_create

    store = make_store("s")
    add_polls(store, [(datetime(2023, 3, 1, h, tzinfo=UTC), True) for h in range(10)])
    report = report_create(range_start=datetime(2023, 3, 1, 5, 30, tzinfo=UTC))
    StatusPoll.objects.filter(timestamp_utc__gte=datetime(2023, 3, 1, 5, tzinfo=UTC)).delete()
    report = report_run(report_id=report.id)
    assert report.status == "FAILED"
    assert report.error == "to: must be after from (2023-03-01T04:00:00.000000Z is not after 2023-03-01T05:30:00.000000Z)"

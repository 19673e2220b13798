"""`generate_report --from --to`: the range CSV (docs/rules.md §11) on generated data,
against the reference engine; its refusals; the weekly report unchanged without them."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from monitoring import history
from monitoring.reports import report_compute, report_csv
from tests.history.generated import POLLS_FROM, POLLS_TO, UTC, generate

pytestmark = pytest.mark.django_db

HEADER = "store_id,uptime_minutes,downtime_minutes,unknown_minutes,business_minutes"
CELL_TOLERANCE = 0.005 + 1e-9  # a figure written with 2 decimals


def run(*args) -> str:
    out = io.StringIO()
    call_command("generate_report", *args, stdout=out)
    return out.getvalue()


def check_against_reference(text: str, data, start: datetime, end: datetime) -> None:
    lines = text.splitlines()
    assert lines[0] == HEADER
    rows = list(csv.reader(lines[1:]))
    ids = sorted(data.schedules)  # code-point order
    assert [row[0] for row in rows] == ["'" + i if i.startswith("-") else i for i in ids]
    for store_id, row in zip(ids, rows):
        expected = data.range_minutes(store_id, start, end)
        for cell, key in zip(row[1:], ("up", "down", "unknown", "business")):
            assert len(cell.split(".")[1]) == 2, cell
            assert abs(float(cell) - expected[key]) <= CELL_TOLERANCE, (store_id, key, cell, expected[key])
        assert float(row[4]) > 0 or expected["business"] == 0


@pytest.mark.parametrize(
    "start, end",
    [
        # the whole data and more: a 90-day range
        (datetime(2023, 1, 20, tzinfo=UTC), datetime(2023, 4, 20, tzinfo=UTC)),
        # across New York's and Chicago's spring forward, odd bounds
        (datetime(2023, 3, 11, 3, 17, 5, tzinfo=UTC), datetime(2023, 3, 13, 22, 0, 1, tzinfo=UTC)),
        # one minute
        (datetime(2023, 3, 1, 15, 0, tzinfo=UTC), datetime(2023, 3, 1, 15, 1, tzinfo=UTC)),
    ],
)
def test_range_csv_matches_the_reference(start, end):
    data = generate()
    text = run("--from", start.isoformat(), "--to", end.isoformat())
    check_against_reference(text, data, start, end)


def test_range_csv_in_small_chunks_equals_one_chunk(settings, tmp_path):
    """Chunks (here 2 stores each) follow one another in store_id order: the same file."""
    generate()
    start, end = datetime(2023, 3, 5, tzinfo=UTC), datetime(2023, 3, 19, tzinfo=UTC)
    whole = run("--from", start.isoformat(), "--to", end.isoformat())
    settings.REPORT_CHUNK_SIZE = 2
    target = tmp_path / "range.csv"
    run("--from", start.isoformat(), "--to", end.isoformat(), "--output", str(target))
    assert target.read_text() == whole
    assert history.range_chunk_size(start=start, end=end, horizon=timedelta(hours=2)) == 1  # 14 days: half of 2


def test_to_defaults_to_the_latest_poll_and_offsets_are_kept():
    data = generate()
    latest = max(t for polls in data.polls.values() for t, _ in polls)
    start = datetime(2023, 3, 20, 9, 30, tzinfo=UTC)
    # The same instant written with an offset: 05:30-04:00 is 09:30 UTC.
    text = run("--from", "2023-03-20T05:30:00-04:00")
    end = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=latest)
    check_against_reference(text, data, start, end)


def test_named_stores_only():
    data = generate()
    start, end = POLLS_FROM, POLLS_TO
    text = run("--from", start.isoformat(), "--to", end.isoformat(), "--store", "b", "a2")
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["a2", "b"]
    expected = data.range_minutes("b", start, end)
    assert abs(float(text.splitlines()[2].split(",")[1]) - expected["up"]) <= CELL_TOLERANCE


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2023-03-02T00:00:00Z", "--to", "2023-03-01T00:00:00Z"], "--to: must be after from (2023-03-01T00:00:00.000000Z is not after"),
        (["--from", "2023-03-01T00:00:00Z", "--to", "2023-03-01T00:00:00Z"], "must be after from"),
        (["--from", "2022-01-01T00:00:00Z", "--to", "2023-03-01T00:00:00Z"], "--from: is 424 days before to: a range spans at most 400 days"),
        (["--from", "2023-03-01T00:00:00", "--to", "2023-03-02T00:00:00Z"], "--from: '2023-03-01T00:00:00' has no offset"),
        (["--from", "2023-03-01T00:00:00Z", "--to", "2023-03-02 00:00"], "--to: '2023-03-02 00:00' has no offset"),
        (["--to", "2023-03-02T00:00:00Z"], "--to needs --from"),
        (["--from", "2023-03-01T00:00:00Z", "--as-of", "2023-03-02T00:00:00Z"], "--as-of is the weekly report's"),
        (["--from", "1999-03-01T00:00:00Z", "--to", "2000-03-02T00:00:00Z"], "--from: must be in the years 2000–2100"),
        (["--from", "2023-03-01T00:00:00Z", "--store", "nope"], "store_ids: no such store: nope"),
    ],
)
def test_refusals(args, message):
    generate()
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert message in str(refused.value)


def test_the_retention_setting_bounds_the_range(settings):
    generate()
    settings.HISTORY_RETENTION_DAYS = 30
    with pytest.raises(CommandError, match="at most 30 days"):
        run("--from", "2023-02-01T00:00:00Z", "--to", "2023-03-04T00:00:00Z")
    assert run("--from", "2023-02-01T00:00:00Z", "--to", "2023-03-03T00:00:00Z").startswith(HEADER)


def test_without_from_and_to_the_weekly_report_is_unchanged():
    generate()
    assert run() == report_csv(rows=report_compute().rows)
    assert run().splitlines()[0].startswith("store_id,uptime_last_hour,")


def test_range_csv_matches_the_reference_from_kept_days_before_and_after_late_writes():
    """With every closed day kept, the range CSV still equals the reference; late, new and
    conflicting polls (the live path) make the days they touch stale, and the CSV equals
    the reference over the new polls before and after those days are kept again."""
    from monitoring.engine import from_us
    from monitoring.ingest import polls_record
    from monitoring.models import DaySummary
    from monitoring.stores.access import EVERYTHING
    from monitoring.stores.summaries import summaries_bring_up_to_date
    from tests import reference_engine as ref

    data = generate()
    assert summaries_bring_up_to_date() > 6 * 30
    ranges = [
        (datetime(2023, 1, 20, tzinfo=UTC), datetime(2023, 4, 20, tzinfo=UTC)),
        (datetime(2023, 3, 11, 3, 17, 5, tzinfo=UTC), datetime(2023, 3, 13, 22, 0, 1, tzinfo=UTC)),
        (datetime(2023, 2, 27, 16, tzinfo=UTC), datetime(2023, 3, 29, 2, 30, tzinfo=UTC)),
    ]
    for start, end in ranges:
        check_against_reference(run("--from", start.isoformat(), "--to", end.isoformat()), data, start, end)

    late = []
    for store_id, polls in data.polls.items():
        when, active = polls[len(polls) // 3]  # a conflicting status at a stored instant
        late.append((store_id, from_us(when), not active))
        late.append((store_id, from_us(polls[len(polls) // 2][0] + 17 * 60 * 1_000_000), False))  # a new one between
    result = polls_record(polls=[(s, w.isoformat(), "active" if a else "inactive") for s, w, a in late], access=EVERYTHING)
    assert result.rejected == 0
    for store_id, when, active in late:
        kept = dict(data.polls[store_id])
        kept[ref.us(when)] = active
        data.polls[store_id] = sorted(kept.items())
    assert DaySummary.objects.filter(stale=True).exists()
    for start, end in ranges:
        check_against_reference(run("--from", start.isoformat(), "--to", end.isoformat()), data, start, end)
    summaries_bring_up_to_date()
    assert not DaySummary.objects.filter(stale=True).exists()
    for start, end in ranges:
        check_against_reference(run("--from", start.isoformat(), "--to", end.isoformat()), data, start, end)

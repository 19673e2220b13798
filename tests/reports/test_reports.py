"""Reports through the database: the worked example, the first and last polls, the
default and explicit as_of, the CSV, reruns, stores with no polls, chunked equals whole,
stale reports retried then failed, a lost connection retried."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.db import connection
from monitoring.models import Report, Store
from monitoring.reports import (
    CSV_HEADER,
    ReportInputError,
    report_compute,
    report_create,
    report_csv,
    report_run,
)
from monitoring.stores.selectors import earliest_poll_timestamp, latest_poll_timestamp

from tests.factories import UTC, add_polls, make_store, worked_example_store
from tests.report_rows import rows_by_store

pytestmark = pytest.mark.django_db


def test_worked_example_through_the_database():
    store, noon = worked_example_store()
    computed = report_compute(as_of=noon)
    (row,) = computed.rows
    # Day window: up 09:00–10:44:30 = 104.5 min, down 10:44:30–12:00 = 75.5 min.
    assert row["uptime_last_day"] == pytest.approx(104.5 / 60)
    assert row["downtime_last_day"] == pytest.approx(75.5 / 60)
    # Hour window [11:00, 12:00): nearest poll is 11:15 inactive throughout.
    assert row["uptime_last_hour"] == pytest.approx(0)
    assert row["downtime_last_hour"] == pytest.approx(60)
    # The six earlier days are open 3 h each with no evidence: unknown.
    assert row["unknown_last_week"] == pytest.approx(6 * 3)
    assert row["uptime_last_week"] + row["downtime_last_week"] == pytest.approx(3)


def _poll_instants_bulk(store, instants) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO monitoring_statuspoll (store_id, timestamp_utc, is_active)"
            " SELECT %s, unnest(%s::timestamptz[]), true",
            [store.pk, list(instants)],
        )


@pytest.mark.parametrize("where", ["in time order", "max and min mid-table", "edge pages emptied"])
def test_first_and_last_poll_instants_are_exact(where):
    """The BRIN-assisted min()/max() agree with a plain scan wherever the extremes lie
    (the table spans far more than the edge pages read first)."""
    store = make_store("s")
    start = datetime(2023, 1, 1, tzinfo=UTC)
    instants = [start + timedelta(seconds=i) for i in range(30_000)]
    if where == "max and min mid-table":  # the extremes far from the table's ends
        instants[15_000] = start + timedelta(days=400)
        instants[15_001] = start - timedelta(days=400)
    _poll_instants_bulk(store, instants)
    if where == "edge pages emptied":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM monitoring_statuspoll WHERE timestamp_utc < %s OR timestamp_utc >= %s",
                [instants[8_000], instants[22_000]],
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(timestamp_utc), max(timestamp_utc) FROM monitoring_statuspoll")
        expected = cursor.fetchone()
    assert (earliest_poll_timestamp(), latest_poll_timestamp()) == expected
    assert expected[0] < expected[1]


def test_as_of_defaults_to_latest_poll_across_stores():
    store, noon = worked_example_store()
    other = make_store("other")
    later = noon + timedelta(hours=5)
    add_polls(other, [(later, True)])
    assert report_compute().as_of == later


def test_explicit_earlier_as_of_ignores_later_polls():
    store, noon = worked_example_store()
    # At 11:00 local only the 10:14 active poll exists: up from 09:00 to 11:00 minus nothing
    # (10:14 + 2 h horizon covers to 12:14), so 120 minutes up, no downtime.
    eleven = noon - timedelta(hours=1)
    (row,) = report_compute(as_of=eleven).rows
    assert row["uptime_last_day"] == pytest.approx(2.0)
    assert row["downtime_last_day"] == pytest.approx(0)


def test_csv_header_order_and_rounding():
    for store_id in ("b", "a9", "a10"):
        make_store(store_id)
    store, noon = worked_example_store("a2")
    text = report_csv(rows=report_compute(as_of=noon).rows)
    lines = text.splitlines()
    assert lines[0] == ",".join(CSV_HEADER)
    assert [line.split(",")[0] for line in lines[1:]] == ["a10", "a2", "a9", "b"]
    row = rows_by_store(text)["a2"]
    assert row["uptime_last_day"] == f"{104.5 / 60:.2f}"
    assert row["downtime_last_hour"] == "60.00"
    assert all(value.count(".") == 1 and len(value.split(".")[1]) == 2 for value in list(row.values())[1:])


@pytest.mark.parametrize(
    "as_of",
    [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1999, 12, 31, 23, 59)],
)
def test_as_of_out_of_range_is_refused_before_a_report_exists(as_of):
    worked_example_store()
    with pytest.raises(ReportInputError) as refused:
        report_create(as_of=as_of)
    assert refused.value.field == "as_of" and "as_of" in str(refused.value)
    assert not Report.objects.exists()


@pytest.mark.parametrize("bad_id", ["", "a\rb", "nul\x00", "\ufeffbom", "end\u00a0", 7])
def test_invalid_store_ids_are_refused_and_named(bad_id):
    worked_example_store()
    with pytest.raises(ReportInputError, match=r"^store_ids\[1\]: ") as refused:
        report_create(store_ids=["worked-example", bad_id])
    assert refused.value.field == "store_ids[1]"
    assert not Report.objects.exists()


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_report_csv_neutralises_formulas_and_keeps_numbers():
    """docs/rules.md §7: a cell a spreadsheet would run as a formula gets an apostrophe; the
    figures are numbers and are written as they are."""
    ids = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTAB", "plain", "mid=dle"]
    for store_id in ids:
        Store.objects.create(store_id=store_id)
    report = report_run(report_id=report_create(as_of=datetime(2023, 1, 25, 12, tzinfo=UTC)).id)
    assert report.status == Report.Status.COMPLETE
    rows = read_csv(report.csv)
    assert rows[0] == list(CSV_HEADER)
    cells = {row[0] for row in rows[1:]}
    assert "'=HYPERLINK(\"x\")" in cells
    assert cells == {"'" + i if i[0] in "=+-@\t" else i for i in ids}
    assert all(cell.replace(".", "").isdigit() for row in rows[1:] for cell in row[1:])
    # The API's rows keep the id as stored.
    assert set(report.rows.values_list("store_id", flat=True)) == set(ids)


def test_report_over_older_data_with_hostile_ids_completes_and_round_trips():
    """Ids the grammar now refuses (a CR, an LF) may be in older data: a report over
    them completes (binary COPY), and its CSV reads back to the same ids."""
    ids = ["cr\rinside", "lf\ninside", "crlf\r\nin", 'quote"comma,', "back\\slash", "tab\tinside", "ünï©ødé"]
    store, noon = worked_example_store("worked-example")
    for store_id in ids:
        Store.objects.create(store_id=store_id)  # the ORM, as older data was written
    report = report_run(report_id=report_create(as_of=noon).id)
    assert report.status == Report.Status.COMPLETE, report.error
    assert sorted(report.rows.values_list("store_id", flat=True)) == sorted([*ids, "worked-example"])
    rows = read_csv(report.csv)
    assert sorted(row[0] for row in rows[1:]) == sorted([*ids, "worked-example"])
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["worked-example"][1:4] == ["0.00", "1.74", "1.74"]
    # The synchronous path writes the same CSV.
    assert report.csv == report_csv(rows=report_compute(as_of=noon).rows)


def test_report_run_completes_and_is_safe_to_rerun():
    store, noon = worked_example_store()
    report = report_create(as_of=noon)
    assert report.status == Report.Status.PENDING
    report_run(report_id=report.id)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE
    assert report.as_of == noon
    assert report.store_count == 1 == report.rows.count()
    assert report.csv == report_csv(rows=report_compute(as_of=noon).rows)
    finished = report.finished_at
    report_run(report_id=report.id)  # a second delivery of the same task changes nothing
    report.refresh_from_db()
    assert report.finished_at == finished and report.rows.count() == 1


def test_report_for_some_stores_only():
    worked_example_store("one")
    worked_example_store("two")
    report = report_create(store_ids=["two"])
    report_run(report_id=report.id)
    report.refresh_from_db()
    assert list(report.rows.values_list("store_id", flat=True)) == ["two"]


def test_report_left_running_by_a_dead_worker_is_computed_again():
    store, noon = worked_example_store()
    report = report_create(as_of=noon)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, started_at=noon)
    report_run(report_id=report.id)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE and report.rows.count() == 1


def test_store_with_no_polls_is_all_unknown_or_closed():
    make_store("silent", zone="Asia/Kolkata", hours=[(0, "09:00", "17:00")])
    (row,) = report_compute(as_of=datetime(2023, 1, 25, 12, tzinfo=UTC)).rows
    assert row["uptime_last_week"] == row["downtime_last_week"] == 0
    assert row["unknown_last_week"] == pytest.approx(8)  # one Monday, 8 business hours


def test_chunked_report_equals_single_task_report(settings):
    from monitoring.models import ReportChunk
    from monitoring.reports import report_chunk_run

    noon = None
    for index in range(7):
        _, noon = worked_example_store(f"store-{index}")
    make_store("24x7-no-polls")
    single = report_run(report_id=report_create(as_of=noon).id)

    settings.REPORT_CHUNK_SIZE = 3
    chunked = report_create(as_of=noon)
    report_run(report_id=chunked.id)  # computes the first chunk, queues 2 (no worker here: run them by hand)
    chunks = list(ReportChunk.objects.filter(report=chunked).order_by("index"))
    assert [len(chunk.store_pks) for chunk in chunks] == [3, 3, 2]
    assert [chunk.finished_at is not None for chunk in chunks] == [True, False, False]
    for chunk in reversed(chunks[1:]):
        chunked.refresh_from_db()
        assert chunked.status == Report.Status.RUNNING
        report_chunk_run(chunk_id=chunk.pk)
    report_chunk_run(chunk_id=chunks[0].pk)  # a duplicate delivery changes nothing
    chunked.refresh_from_db()
    assert chunked.status == Report.Status.COMPLETE
    assert chunked.csv == single.csv and chunked.rows.count() == 8


def test_stale_reports_are_retried_then_failed(settings):
    from monitoring.reports import reports_recover_stale

    store, noon = worked_example_store()
    report = report_create(as_of=noon)
    long_ago = noon - timedelta(days=1)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, attempts=1, progress_at=long_ago)
    assert reports_recover_stale(now=noon) == 1  # queued again: on a worker, report_run resumes it
    assert reports_recover_stale(now=noon) == 0  # not picked twice in a row
    report_run(report_id=report.id)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE and report.attempts == 2

    exhausted = report_create(as_of=noon)
    Report.objects.filter(pk=exhausted.pk).update(
        status=Report.Status.RUNNING, attempts=settings.REPORT_MAX_ATTEMPTS, progress_at=long_ago
    )
    reports_recover_stale(now=noon)
    exhausted.refresh_from_db()
    assert exhausted.status == Report.Status.FAILED
    assert exhausted.error == f"the report did not finish after {settings.REPORT_MAX_ATTEMPTS} attempts"


@pytest.mark.django_db(transaction=True)
def test_lost_database_connection_is_retried(monkeypatch):
    """A real dropped connection: the backend is terminated in the middle of the task."""
    from django.db import OperationalError, connection
    from monitoring.reports import compute, queue

    store, noon = worked_example_store()
    report = report_create(as_of=noon)
    real_compute = compute.range_totals
    queued = []

    def compute_then_lose_connection(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real_compute(**kwargs)

    monkeypatch.setattr(compute, "range_totals", compute_then_lose_connection)
    monkeypatch.setattr(queue, "report_enqueue", lambda *, report: queued.append(report.pk))
    with pytest.raises(OperationalError):
        report_run(report_id=report.id)
    assert queued == [report.pk]  # queued again, on a fresh connection
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING and report.attempts == 1

"""A report's file is the header and its chunks' CSV parts, each written by the chunk with
its rows: the same bytes as the file written from the stored rows (hostile ids, a range
with lost revenue), and a chunk finished without its part falls back to the stored rows."""

import pytest

from monitoring.models import Report, ReportChunk, Store
from monitoring.reports import files, report_chunk_run, report_create, report_run
from tests.factories import worked_example_store
from tests.history.test_range_report_revenue import END, START, with_revenue

pytestmark = pytest.mark.django_db

HOSTILE_IDS = ["cr\rinside", "lf\ninside", 'quote"comma,', "=formula", "-minus", "ünï©ødé", "tab\tinside"]


def _run_chunks(report: Report) -> Report:
    report_run(report_id=report.id)  # queues the chunk tasks (no worker here: run them by hand)
    for chunk in ReportChunk.objects.filter(report=report).order_by("-index"):
        report_chunk_run(chunk_id=chunk.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE, report.error
    return report


def _from_stored_rows(report: Report) -> tuple[bytes, int]:
    name, count = files.csv_file_save(report=report)
    return files.csv_file_bytes(name=name), count


def test_weekly_file_from_parts_equals_the_file_from_stored_rows(settings):
    _, noon = worked_example_store("worked-example")
    for store_id in HOSTILE_IDS:
        Store.objects.create(store_id=store_id)  # the ORM, as older data was written
    settings.REPORT_CHUNK_SIZE = 3
    report = _run_chunks(report_create(as_of=noon))
    assert report.chunks.count() == 3
    assert not report.chunks.filter(csv_part__isnull=False).exists()  # cleared once the file is written
    from_parts = files.csv_file_bytes(name=report.csv_file.name)
    assert report.store_count == 1 + len(HOSTILE_IDS)
    assert _from_stored_rows(report) == (from_parts, report.store_count)


def test_range_file_with_revenue_from_parts_equals_the_file_from_stored_rows(settings):
    with_revenue()
    settings.REPORT_CHUNK_SIZE = 8
    report = _run_chunks(report_create(range_start=START, as_of=END))
    assert report.revenue_columns and report.chunks.count() > 1
    from_parts = files.csv_file_bytes(name=report.csv_file.name)
    assert _from_stored_rows(report) == (from_parts, report.store_count)


def test_a_chunk_finished_without_its_part_completes_from_stored_rows(settings):
    noon = None
    for index in range(5):
        _, noon = worked_example_store(f"store-{index}")
    single = report_run(report_id=report_create(as_of=noon).id)
    settings.REPORT_CHUNK_SIZE = 2
    report = report_create(as_of=noon)
    report_run(report_id=report.id)
    chunks = list(ReportChunk.objects.filter(report=report).order_by("index"))
    for chunk in chunks[:-1]:
        report_chunk_run(chunk_id=chunk.pk)
    ReportChunk.objects.filter(pk=chunks[0].pk).update(csv_part=None, rows_written=None)  # finished before parts
    report_chunk_run(chunk_id=chunks[-1].pk)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE and report.store_count == 5
    assert report.csv == single.csv

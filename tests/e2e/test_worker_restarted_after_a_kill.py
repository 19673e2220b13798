"""Faults with real processes: a worker SIGKILLed in the middle of a chunked report."""

import io
import signal

import pytest
from django.core.management import call_command
from monitoring.models import Report, ReportChunk
from monitoring.reports import report_create
from monitoring.tools.processes import stop_process_group

from tests.factories import worked_example_store
from tests.processes import running_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Short timeouts so that a task held by a dead worker is handed out again quickly.
FAST_RETRY = {
    "Q_WORKERS": "1", "Q_TIMEOUT": "5", "Q_RETRY": "6", "REPORT_CHUNK_SIZE": "2",
    # The failover sweep, quick (tests/reports/test_chunk_failover.py runs it with its defaults).
    "REPORT_HEARTBEAT_SECONDS": "0.5", "REPORT_SWEEP_SECONDS": "1", "REPORT_CHUNK_STALE_AFTER": "4",
}


def test_worker_killed_mid_report_then_restarted(tmp_path, settings):
    noon = None
    for index in range(40):
        _, noon = worked_example_store(f"store-{index:02d}")
    settings.REPORT_CHUNK_SIZE = 2
    report = report_create(as_of=noon)  # queued when the (autocommit) transaction ends

    with running_worker(tmp_path / "first.log", **FAST_RETRY) as worker:
        def some_chunks_done():
            done = ReportChunk.objects.filter(report=report, finished_at__isnull=False).count()
            return 0 < done < 20 and done

        done_before_kill = wait_for(some_chunks_done, timeout=60, interval=0.01, what="the first chunks")
        stop_process_group(worker, sig=signal.SIGKILL, timeout=5)
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING, "the report finished before the kill: nothing was tested"
    assert done_before_kill < 20

    with running_worker(tmp_path / "second.log", **FAST_RETRY):
        def finished():
            report.refresh_from_db()
            return report.status in (Report.Status.COMPLETE, Report.Status.FAILED)

        wait_for(finished, timeout=120, what="the restarted worker to finish the report")
    assert report.status == Report.Status.COMPLETE, report.error
    store_ids = list(report.rows.values_list("store_id", flat=True))
    assert sorted(store_ids) == [f"store-{index:02d}" for index in range(40)]  # exactly one row per store
    expected = io.StringIO()
    call_command("generate_report", "--as-of", noon.isoformat(), stdout=expected)
    assert report.csv == expected.getvalue()

"""Fast failover of report chunks: heartbeats, the sweep, a chunk computed
twice committing once, and a worker SIGKILLed mid-report with django-q2's own retry
left at its default (6 minutes) — the report still completes within 90 s."""

import signal
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone
from monitoring.models import Report, ReportChunk, ReportRow
from monitoring.reports import (
    compute,
    failover,
    lifecycle,
    queue,
    report_chunk_run,
    report_compute,
    report_create,
    report_csv,
    report_run,
)
from monitoring.tools.processes import stop_process_group
from monitoring.worker import thread as worker_thread

from tests.factories import add_polls, make_store, worked_example_store
from tests.processes import running_worker, wait_for

LONG_AGO = timedelta(minutes=5)


@pytest.fixture
def queued(monkeypatch):
    """Chunks queued (no worker in these tests: they run by hand)."""
    chunks: list[int] = []
    monkeypatch.setattr(queue, "chunk_enqueue", lambda *, chunk_id, report_id: chunks.append(chunk_id))
    return chunks


def _chunked_report(settings, *, stores: int, size: int):
    """A report of `size` + `stores` stores in chunks of `size`: report_run computes the
    first chunk at once and queues the others, which are returned (none run yet)."""
    noon = None
    for index in range(size + stores):
        _, noon = worked_example_store(f"store-{index:02d}")
    settings.REPORT_CHUNK_SIZE = size
    report = report_create(as_of=noon)
    report_run(report_id=report.id)
    done, *queued = ReportChunk.objects.filter(report=report).order_by("index")
    assert done.finished_at is not None and all(chunk.finished_at is None for chunk in queued)
    return report, noon, queued


@pytest.mark.django_db
def test_a_chunk_computed_twice_commits_once(settings, queued, worker_report_files, monkeypatch):
    report, noon, (first, second) = _chunked_report(settings, stores=4, size=2)
    real_compute = compute.range_totals
    takeovers = []

    def first_run_freezes_and_is_taken_over(**kwargs):
        if not takeovers:
            takeovers.append(first.pk)
            # This run looks dead (silent for longer than REPORT_CHUNK_STALE_AFTER): a
            # second worker takes the chunk, computes it and commits, before the first
            # run wakes up and tries to commit the same chunk.
            ReportChunk.objects.filter(pk=first.pk).update(heartbeat_at=django_timezone.now() - LONG_AGO)
            report_chunk_run(chunk_id=first.pk)
        return real_compute(**kwargs)

    monkeypatch.setattr(compute, "range_totals", first_run_freezes_and_is_taken_over)
    report_chunk_run(chunk_id=first.pk)
    first.refresh_from_db()
    assert takeovers == [first.pk] and first.attempts == 2
    assert ReportRow.objects.filter(report=report).count() == 4  # the chunk's two stores, once, after the first two

    report_chunk_run(chunk_id=second.pk)
    report_chunk_run(chunk_id=second.pk)  # a duplicate delivery: skipped, nothing written
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE
    assert sorted(report.rows.values_list("store_id", flat=True)) == [f"store-{i:02d}" for i in range(6)]
    assert report.csv == report_csv(rows=report_compute(as_of=noon).rows)


@pytest.mark.django_db
def test_a_chunk_held_by_a_live_run_is_not_taken(settings, queued, worker_report_files):
    report, _, (first, _second) = _chunked_report(settings, stores=4, size=2)
    ReportChunk.objects.filter(pk=first.pk).update(heartbeat_at=django_timezone.now(), attempts=1)
    report_chunk_run(chunk_id=first.pk)
    first.refresh_from_db()
    assert first.finished_at is None and first.attempts == 1


@pytest.mark.django_db
def test_sweep_requeues_silent_chunks_only(settings, queued, worker_report_files):
    report, _, chunks = _chunked_report(settings, stores=6, size=2)
    first, second, third = chunks
    queued.clear()
    now = django_timezone.now()
    # Just queued, none started: nothing is due.
    assert failover.chunks_sweep(now=now) == 0

    later = now + timedelta(seconds=settings.REPORT_CHUNK_STALE_AFTER + 1)
    ReportChunk.objects.filter(pk=first.pk).update(heartbeat_at=now)  # started, then its worker died
    ReportChunk.objects.filter(pk=second.pk).update(heartbeat_at=later)  # alive
    Report.objects.filter(pk=report.pk).update(progress_at=now)
    # The third never started, but the report is alive (the second beats): it is waiting its turn.
    assert failover.chunks_sweep(now=later) == 1 and queued == [first.pk]
    assert failover.chunks_sweep(now=later) == 0  # not queued twice within the stale window

    # Everything silent: the dead one (once stale again) and the never-started one.
    much_later = later + timedelta(seconds=2 * settings.REPORT_CHUNK_STALE_AFTER + 1)
    ReportChunk.objects.filter(pk=second.pk).update(finished_at=later)
    assert failover.chunks_sweep(now=much_later) == 2 and sorted(queued[1:]) == [first.pk, third.pk]


@pytest.mark.django_db
def test_sweep_requeues_a_chunk_overtaken_in_the_queue(settings, queued, worker_report_files):
    """A dead worker had fetched the first chunks ahead; a live one has started later
    chunks queued at the same time: the skipped ones are queued again without waiting
    for the report to go quiet."""
    report, _, (first, second, third) = _chunked_report(settings, stores=6, size=2)
    queued.clear()
    now = django_timezone.now()
    later = now + timedelta(seconds=settings.REPORT_CHUNK_STALE_AFTER + 1)
    ReportChunk.objects.filter(pk=third.pk).update(heartbeat_at=later)  # running, alive
    Report.objects.filter(pk=report.pk).update(progress_at=later)
    assert failover.chunks_sweep(now=later) == 2 and sorted(queued) == [first.pk, second.pk]

    # A chunk that killed its worker REPORT_MAX_ATTEMPTS times fails the report.
    ReportChunk.objects.filter(pk=first.pk).update(attempts=settings.REPORT_MAX_ATTEMPTS, heartbeat_at=now - LONG_AGO)
    report_chunk_run(chunk_id=first.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED and "did not finish" in report.error


@pytest.mark.django_db(transaction=True)
def test_worker_thread_beats_for_the_running_chunk(settings, queued, worker_report_files):
    settings.REPORT_HEARTBEAT_SECONDS = 0.1
    _, _, (first, _second) = _chunked_report(settings, stores=4, size=2)
    started = django_timezone.now()
    worker_thread.start()
    try:
        with failover.beating(chunk_id=first.pk):
            beat = wait_for(
                lambda: ReportChunk.objects.filter(pk=first.pk, heartbeat_at__gt=started).exists(),
                timeout=10,
                what="a heartbeat from the failover thread",
            )
    finally:
        worker_thread.stop()
    assert beat


def _fleet(count: int, *, days: int = 7) -> datetime:
    """`count` stores open 24×7 with a poll every 20 minutes for `days` days; returns
    the last poll's instant."""
    end = datetime(2023, 1, 25, 12, tzinfo=timezone.utc)
    instants = [end - timedelta(minutes=20 * step) for step in range(days * 24 * 3)]
    for index in range(count):
        store = make_store(f"fleet-{index:04d}")
        add_polls(store, [(when, (index + step) % 5 != 0) for step, when in enumerate(instants)])
    return end


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_report_completes_within_90_seconds(tmp_path, settings, worker_report_files):
    """Default Q_RETRY (360 s) and Q_TIMEOUT: only the heartbeat sweep can bring the
    report back in time."""
    as_of = _fleet(300)
    settings.REPORT_CHUNK_SIZE = 10
    env = {"Q_WORKERS": "1", "REPORT_CHUNK_SIZE": "10", "REPORT_FILES_DIR": str(worker_report_files)}
    report = report_create(as_of=as_of)

    with running_worker(tmp_path / "first.log", **env) as worker:
        def mid_report():
            done = ReportChunk.objects.filter(report=report, finished_at__isnull=False).count()
            running = ReportChunk.objects.filter(report=report, finished_at__isnull=True, heartbeat_at__isnull=False)
            return 0 < done < 25 and running.exists() and done

        wait_for(mid_report, timeout=60, interval=0.01, what="a chunk running after the first ones")
        stop_process_group(worker, sig=signal.SIGKILL, timeout=5)
    killed_at = time.monotonic()
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING, "the report finished before the kill: nothing was tested"

    with running_worker(tmp_path / "second.log", **env):
        def finished():
            report.refresh_from_db()
            return report.status in (Report.Status.COMPLETE, Report.Status.FAILED)

        wait_for(finished, timeout=90, what="the new worker to finish the report")
    recovered = time.monotonic() - killed_at
    print(f"COMPLETE {recovered:.1f} s after the kill")  # shown with pytest -s
    assert recovered < 90
    assert report.status == Report.Status.COMPLETE, report.error
    store_ids = list(report.rows.values_list("store_id", flat=True))
    assert sorted(store_ids) == [f"fleet-{index:04d}" for index in range(300)]  # exactly one row per store
    assert report.csv == report_csv(rows=report_compute(as_of=as_of).rows)


@pytest.mark.django_db
def test_sweep_requeues_a_pending_report_overtaken_in_the_queue(settings, monkeypatch):
    enqueued = []
    monkeypatch.setattr(queue, "report_enqueue", lambda *, report: enqueued.append(report.pk))
    _, noon = worked_example_store()
    lost = report_create(as_of=noon)  # its task fetched by a worker that died
    now = django_timezone.now()
    later = now + timedelta(seconds=settings.REPORT_CHUNK_STALE_AFTER + 1)
    assert failover.chunks_sweep(now=later) == 0  # nothing after it has started: it is waiting its turn
    newer = report_create(as_of=noon)
    Report.objects.filter(pk=newer.pk).update(status=Report.Status.RUNNING, started_at=now)
    assert failover.chunks_sweep(now=later) == 1 and enqueued == [lost.pk]
    assert failover.chunks_sweep(now=later) == 0  # not twice within the stale window


@pytest.mark.django_db
def test_a_report_whose_chunk_still_beats_is_not_stale(settings, queued, worker_report_files, monkeypatch):
    """A long chunk: no progress for REPORT_STALE_AFTER, but its run beats: left alone."""
    enqueued = []
    monkeypatch.setattr(queue, "report_enqueue", lambda *, report: enqueued.append(report.pk))
    report, _, (first, _second) = _chunked_report(settings, stores=4, size=2)
    now = django_timezone.now()
    long_ago = now - timedelta(seconds=settings.REPORT_STALE_AFTER + 1)
    Report.objects.filter(pk=report.pk).update(progress_at=long_ago)
    ReportChunk.objects.filter(pk=first.pk).update(heartbeat_at=now)
    assert lifecycle.reports_recover_stale(now=now) == 0 and enqueued == []
    ReportChunk.objects.filter(pk=first.pk).update(heartbeat_at=long_ago)
    assert lifecycle.reports_recover_stale(now=now) == 1 and enqueued == [report.pk]

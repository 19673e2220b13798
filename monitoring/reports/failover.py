"""Fast failover of report chunks: a running chunk beats; a sweep queues
again a chunk whose run went silent, within REPORT_CHUNK_STALE_AFTER +
REPORT_SWEEP_SECONDS of its last beat (30 + 10 s by default) instead of django-q2's
retry (Q_RETRY, 6 minutes), which stays as the backstop.

Why a thread in each worker process and not a django-q2 schedule: schedules are
minute-grained and the cluster's scheduler looks at them every 30 s; the sweep must run
at least every 15 s. The thread starts when django-q2 spawns a worker process (the
post_spawn signal), so a cluster started to replace a dead one sweeps at once. It does
two cheap things: it beats for the chunk this process computes (the main thread is
busy computing), and it sweeps. Several processes sweeping is harmless: the sweep takes
the chunks it queues with SKIP LOCKED and marks them queued. A chunk's completion wakes
the sweep too (work just freed up)."""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone as django_timezone

from monitoring.models import Report, ReportChunk

logger = logging.getLogger(__name__)

#: The chunk this process's main thread is computing (None: none).
_running_chunk: int | None = None
_wake = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
#: Other sweeps the same thread runs every REPORT_SWEEP_SECONDS (registered by apps at
#: start-up, e.g. the alerts' retries that are due: monitoring.alerts.apps).
_extra_sweeps: list = []


def register_worker_sweep(sweep) -> None:
    """Runs `sweep()` in every worker's failover thread, every REPORT_SWEEP_SECONDS."""
    if sweep not in _extra_sweeps:
        _extra_sweeps.append(sweep)
_stop = threading.Event()


def stale_cutoff(now: datetime | None = None) -> datetime:
    """Beats older than this are from a dead (or frozen) run."""
    return (now or django_timezone.now()) - timedelta(seconds=settings.REPORT_CHUNK_STALE_AFTER)


def beat(*, chunk_id: int) -> None:
    ReportChunk.objects.filter(pk=chunk_id, finished_at__isnull=True).update(heartbeat_at=django_timezone.now())


@contextmanager
def beating(*, chunk_id: int):
    """While the block runs, the failover thread (when this process has one) beats for
    the chunk every REPORT_HEARTBEAT_SECONDS."""
    global _running_chunk
    _running_chunk = chunk_id
    try:
        yield
    finally:
        _running_chunk = None


def sweep_soon() -> None:
    _wake.set()


_SWEEP_SQL = f"""
UPDATE {ReportChunk._meta.db_table} AS c SET queued_at = %(now)s
WHERE c.id IN (
    SELECT c.id FROM {ReportChunk._meta.db_table} c JOIN {Report._meta.db_table} r ON r.id = c.report_id
    WHERE r.status = %(running)s AND c.finished_at IS NULL
      AND (c.queued_at IS NULL OR c.queued_at < %(cutoff)s)
      AND (
        c.heartbeat_at < %(cutoff)s
        -- Never started: lost with a dead worker's prefetched tasks, or still waiting in
        -- the queue. Queued again when a chunk queued with it and after it in the queue
        -- has started (the queue is first in, first out: it was skipped), or once the
        -- whole report has gone quiet.
        OR (c.heartbeat_at IS NULL AND (
            EXISTS (
                SELECT 1 FROM {ReportChunk._meta.db_table} later
                WHERE later.report_id = c.report_id AND later.index > c.index
                  AND later.heartbeat_at IS NOT NULL AND later.queued_at <= c.queued_at)
            OR (r.progress_at < %(cutoff)s AND NOT EXISTS (
                SELECT 1 FROM {ReportChunk._meta.db_table} live
                WHERE live.report_id = r.id AND live.finished_at IS NULL AND live.heartbeat_at >= %(cutoff)s))
        ))
      )
    ORDER BY c.report_id, c.index
    FOR UPDATE OF c SKIP LOCKED
)
RETURNING c.id, c.report_id
"""


_PENDING_SWEEP_SQL = f"""
UPDATE {Report._meta.db_table} AS r SET progress_at = %(now)s
WHERE r.id IN (
    SELECT r.id FROM {Report._meta.db_table} r
    WHERE r.status = %(pending)s AND coalesce(r.progress_at, r.created_at) < %(cutoff)s
      -- a report asked for after it has started: its task was skipped (a dead worker's)
      AND EXISTS (
          SELECT 1 FROM {Report._meta.db_table} later
          WHERE later.created_at > r.created_at AND later.started_at IS NOT NULL)
    FOR UPDATE SKIP LOCKED
)
RETURNING r.id
"""


def chunks_sweep(*, now: datetime | None = None) -> int:
    """Queue again the unfinished chunks of running reports whose run went silent for
    REPORT_CHUNK_STALE_AFTER seconds, the chunks that never started while later ones
    did (or the report went quiet), and the reports left PENDING that long while later
    ones started; returns how many. What is queued here is not queued again before it
    is stale once more."""
    from monitoring.reports.lifecycle import chunk_enqueue, report_enqueue

    now = now or django_timezone.now()
    parameters = {
        "now": now,
        "cutoff": stale_cutoff(now),
        "running": Report.Status.RUNNING,
        "pending": Report.Status.PENDING,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SWEEP_SQL, parameters)
        due = cursor.fetchall()
        cursor.execute(_PENDING_SWEEP_SQL, parameters)
        skipped = [report_id for (report_id,) in cursor.fetchall()]
    for chunk_id, report_id in due:
        logger.warning("report %s: chunk %s went silent; queued again", report_id, chunk_id)
        chunk_enqueue(chunk_id=chunk_id, report_id=report_id)
    for report_id in skipped:
        logger.warning("report %s: still pending while later reports run; queued again", report_id)
        report_enqueue(report=Report(id=report_id))
    return len(due) + len(skipped)


def start_worker_thread(**_signal_arguments) -> None:
    """Start this process's failover thread (once): a django-q2 post_spawn receiver."""
    global _thread, _stop
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return
        _stop = threading.Event()
        _thread = threading.Thread(target=_loop, args=(_stop,), name="report-failover", daemon=True)
        _thread.start()


def stop_worker_thread() -> None:
    """Stop the failover thread (tests; a worker process just exits)."""
    global _thread
    with _thread_lock:
        if _thread is None:
            return
        _stop.set()
        _wake.set()
        _thread.join(timeout=10)
        _thread = None


def _loop(stop: threading.Event) -> None:
    last_sweep = float("-inf")
    while not stop.is_set():
        try:
            chunk_id = _running_chunk
            if chunk_id is not None:
                beat(chunk_id=chunk_id)
            if _wake.is_set() or time.monotonic() - last_sweep >= settings.REPORT_SWEEP_SECONDS:
                _wake.clear()
                last_sweep = time.monotonic()
                chunks_sweep()
                for sweep in _extra_sweeps:
                    sweep()
        except Exception:  # the database away for a while: try again on a fresh connection
            logger.warning("report failover: beat or sweep failed", exc_info=True)
            connection.close()
        _wake.wait(settings.REPORT_HEARTBEAT_SECONDS)
    connection.close()

"""Fast failover of report chunks: a running chunk beats (through the worker's background
thread, monitoring.worker.thread); a sweep, registered with that thread, queues again a
chunk whose run went silent, within REPORT_CHUNK_STALE_AFTER + REPORT_SWEEP_SECONDS of
its last beat (30 + 10 s by default) instead of django-q2's retry (Q_RETRY, 6 minutes),
which stays as the backstop. Several processes sweeping is harmless: the sweep takes the
chunks it queues with SKIP LOCKED and marks them queued."""

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone as django_timezone

from monitoring.models import Report, ReportChunk
from monitoring.reports import queue
from monitoring.worker import thread as worker_thread

logger = logging.getLogger(__name__)


def stale_cutoff(now: datetime | None = None) -> datetime:
    """Beats older than this are from a dead (or frozen) run."""
    return (now or django_timezone.now()) - timedelta(seconds=settings.REPORT_CHUNK_STALE_AFTER)


def beat(*, chunk_id: int) -> None:
    ReportChunk.objects.filter(pk=chunk_id, finished_at__isnull=True).update(heartbeat_at=django_timezone.now())


@contextmanager
def beating(*, chunk_id: int):
    """While the block runs, the worker's background thread beats for the chunk."""
    with worker_thread.beating(lambda: beat(chunk_id=chunk_id)):
        yield


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
        queue.chunk_enqueue(chunk_id=chunk_id, report_id=report_id)
    for report_id in skipped:
        logger.warning("report %s: still pending while later reports run; queued again", report_id)
        queue.report_enqueue(report=Report(id=report_id))
    return len(due) + len(skipped)

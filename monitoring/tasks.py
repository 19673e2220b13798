"""django-q2 task entry points: thin wrappers over the report and retention services.

Report work is batch work: a worker process lowers its own CPU priority
(REPORT_WORKER_NICE) before its first report, so that on a machine it shares with the
web process, API requests go first and reports take the spare CPU."""

import logging
import os

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone

from monitoring.stores.partitions import partitions_ensure_ahead
from monitoring.reports import chunks_sweep, report_chunk_run, report_run, reports_prune, reports_recover_stale
from monitoring.stores.retention import polls_prune_by_retention
from monitoring.stores.summaries import summaries_bring_up_to_date

logger = logging.getLogger(__name__)
_niced = False


def _batch_priority() -> None:
    global _niced
    if not _niced and settings.REPORT_WORKER_NICE > 0:
        os.nice(settings.REPORT_WORKER_NICE)
    _niced = True


def _healthy_connection() -> None:
    """Start a task on a connection that works: a kept one the server dropped since the
    last task (restart, failover, pg_terminate_backend) would fail the task's first query
    and leave its report to the stale sweep. One probe; if it fails, the connection is
    closed and the task's first query opens a new one. Inside a transaction (a task run
    inline, django-q2's sync mode) the caller's connection is left alone."""
    if connection.in_atomic_block:
        return
    close_old_connections()  # with CONN_HEALTH_CHECKS: the next query checks it first
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except (OperationalError, InterfaceError):
        connection.close()


def _once_more_on_a_lost_connection(work):
    """Runs `work()`; if the database connection is lost midway (a server restart,
    pg_terminate_backend), runs it once more on a new connection instead of leaving its
    report to the stale sweep (tens of seconds). Report work is safe to run again: a
    report or a chunk is claimed first, and a chunk commits its rows once."""
    try:
        return work()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.warning("report task lost its database connection; running it once more", exc_info=True)
        connection.close()
        return work()


def run_report(report_id: str) -> None:
    _batch_priority()
    _healthy_connection()
    _once_more_on_a_lost_connection(lambda: report_run(report_id=report_id))


def run_report_chunk(chunk_id: int) -> None:
    _batch_priority()
    _healthy_connection()
    _once_more_on_a_lost_connection(lambda: report_chunk_run(chunk_id=chunk_id))


def recover_stale_reports() -> int:
    # The minute's backstop: also the chunk sweep, should a worker's failover thread be gone.
    _healthy_connection()
    return reports_recover_stale() + chunks_sweep()


def prune_old_reports() -> int:
    return reports_prune()


def prune_old_polls() -> int:
    return polls_prune_by_retention(now=timezone.now())


def create_poll_partitions() -> int:
    """Daily: the poll table's weekly partitions, this week's and WEEKS_AHEAD after."""
    return len(partitions_ensure_ahead(now=timezone.now()))


def keep_daily_figures() -> int:
    """Every minute: kept days marked stale are computed again, and the days that closed
    since are kept (docs/rules.md §11), at most HISTORY_KEEP_BUDGET days a run."""
    _batch_priority()
    _healthy_connection()
    return summaries_bring_up_to_date(budget=settings.HISTORY_KEEP_BUDGET)

"""Poll retention (issue #15): polls stamped before a cut are deleted; a poll at or after
the cut is never touched. `python manage.py prune_polls --before ISO8601` cuts where it
is told; the daily schedule (monitoring.tasks.prune_old_polls) keeps POLL_RETENTION_DAYS
before the latest poll stored (the data's own clock: historical data such as the demo's
is never wiped because the wall clock moved on; live polls are never later than now).

Whole weekly partitions before the cut are dropped (a catalog operation, whatever
their size: monitoring.stores.partitions); inside the boundary partition (and the DEFAULT
partition's strays) the polls before the cut are deleted, a slice of time per
transaction, found by the BRIN index (each DELETE bumps the data version and holds the
writer lock only for its slice). A DROP fires no trigger: the version is bumped here."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from monitoring.stores.data_version import writer_lock
from monitoring.models import StatusPoll
from monitoring.stores.partitions import partitions_list
from monitoring.stores.selectors import earliest_poll_timestamp, latest_poll_timestamp

#: Polls deleted per transaction: one slice of time.
PRUNE_SLICE = timedelta(hours=6)


def retention_cut(*, now: datetime) -> datetime | None:
    """Where the daily prune cuts: POLL_RETENTION_DAYS before the latest poll (or now,
    if earlier); None with no polls."""
    latest = latest_poll_timestamp()
    if latest is None:
        return None
    return min(latest, now) - timedelta(days=settings.POLL_RETENTION_DAYS)


def partitions_drop(*, before: datetime) -> tuple[list[str], int]:
    """Drops the weekly partitions wholly before `before`, in one transaction; returns
    (their names, the polls they held)."""
    with transaction.atomic(), connection.cursor() as cursor:
        writer_lock(cursor)
        doomed = [name for name, _low, high in partitions_list(cursor=cursor) if high <= before]
        if not doomed:
            return [], 0
        # Their exact count, for the report (a count of what is dropped, no DELETE).
        cursor.execute(" UNION ALL ".join(f"SELECT count(*) FROM {name}" for name in doomed))
        held = sum(row[0] for row in cursor.fetchall())
        for name in doomed:
            cursor.execute(f"DROP TABLE {name}")
        cursor.execute("SELECT nextval('monitoring_data_version')")
    return doomed, held


def polls_prune(*, before: datetime) -> int:
    """Delete every poll stamped before `before`; returns how many."""
    _dropped, deleted = partitions_drop(before=before)
    earliest = earliest_poll_timestamp()
    if earliest is None or earliest >= before:
        return deleted
    table = StatusPoll._meta.db_table
    # What is left before the cut sits in one boundary partition (and strays in the
    # DEFAULT): strays older than the boundary week go in one statement, the rest by slices.
    boundary = max(earliest, before - timedelta(days=7))
    if earliest < boundary:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE timestamp_utc < %s", [boundary])
            deleted += cursor.rowcount
    low = boundary
    while low < before:
        high = min(low + PRUNE_SLICE, before)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE timestamp_utc >= %s AND timestamp_utc < %s", [low, high])
            deleted += cursor.rowcount
        low = high
    return deleted


def polls_prune_by_retention(*, now: datetime) -> int:
    cut = retention_cut(now=now)
    return 0 if cut is None else polls_prune(before=cut)

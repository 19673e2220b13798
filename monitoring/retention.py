"""Poll retention (issue #15): polls stamped before a cut are deleted; a poll at or after
the cut is never touched. `python manage.py prune_polls --before ISO8601` cuts where it
is told; the daily schedule (monitoring.tasks.prune_old_polls) keeps POLL_RETENTION_DAYS
before the latest poll stored (the data's own clock: historical data such as the demo's
is never wiped because the wall clock moved on; live polls are never later than now).

The table is stored in time order and indexed by BRIN on time, so each slice of time is
found in a few block ranges and deleted in a short transaction of its own (each
DELETE bumps the data version and holds the writer lock only for its slice)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from monitoring.models import StatusPoll
from monitoring.selectors import earliest_poll_timestamp, latest_poll_timestamp

#: Polls deleted per transaction: one slice of time.
PRUNE_SLICE = timedelta(hours=6)


def retention_cut(*, now: datetime) -> datetime | None:
    """Where the daily prune cuts: POLL_RETENTION_DAYS before the latest poll (or now,
    if earlier); None with no polls."""
    latest = latest_poll_timestamp()
    if latest is None:
        return None
    return min(latest, now) - timedelta(days=settings.POLL_RETENTION_DAYS)


def polls_prune(*, before: datetime) -> int:
    """Delete every poll stamped before `before`; returns how many."""
    earliest = earliest_poll_timestamp()
    if earliest is None or earliest >= before:
        return 0
    deleted = 0
    low = earliest
    while low < before:
        high = min(low + PRUNE_SLICE, before)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {StatusPoll._meta.db_table} WHERE timestamp_utc >= %s AND timestamp_utc < %s",
                [low, high],
            )
            deleted += cursor.rowcount
        low = high
    return deleted


def polls_prune_by_retention(*, now: datetime) -> int:
    cut = retention_cut(now=now)
    return 0 if cut is None else polls_prune(before=cut)

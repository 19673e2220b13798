"""Weekly time partitions of the poll table (migration 0017).

`monitoring_statuspoll` is partitioned by range of `timestamp_utc`, one partition per
UTC week (Monday 00:00 to Monday 00:00), named `monitoring_statuspoll_pYYYYwWW` (ISO
year and week), plus a DEFAULT partition. Partitions are created ahead by the daily
schedule "create poll partitions" (migration 0018) and on demand by every poll write
for the weeks it is about to write (`poll_writes`, `bulk_path`): an operator's file load
for any of its weeks, a live or API write (`recordPolls`) only for the current weeks
(`current_weeks`: the retention period before now to the weeks created ahead). The
DEFAULT partition holds what no partition covers: a live poll of an older week (stored
and read as any), or a row of a write that could not know its range before it started
(a file streamed in time order into the empty table); `partitions_ensure` moves such
rows into their week's partition when that week is created.

Why a DEFAULT at all: the bulk path streams a file into the table while it is still
being parsed, so its time range is only known at the end; without a DEFAULT such a
load would fail on the first row of a week not created yet. The price: creating a
partition scans the DEFAULT (normally empty or small: what live writes sent for old weeks).

Creating, attaching or dropping a partition takes an ACCESS EXCLUSIVE lock on the
poll table: these functions take the writer lock first (`data_version.writer_lock`),
as every poll writer does, so they queue behind writers instead of deadlocking."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection

from monitoring.stores.data_version import writer_lock
from monitoring.models import POLL_TIME_INDEX, StatusPoll

WEEK = timedelta(days=7)
#: The schedule creates partitions this many weeks past the current one.
WEEKS_AHEAD = 4
#: At most this many partitions are created by one write (the newest weeks first); rows of
#: older weeks wait in the DEFAULT partition until a later write or load places them.
MAX_NEW_PARTITIONS = 60
#: Weekly partitions the poll table may hold in all (ten years of weeks): past it, rows of
#: weeks outside the current ones (`current_weeks`) wait in the DEFAULT partition and the
#: operator is told. Every partition costs every plan of a poll query without a time bound.
MAX_PARTITIONS = 520

logger = logging.getLogger(__name__)


def parent_table() -> str:
    return StatusPoll._meta.db_table


def default_partition() -> str:
    return f"{parent_table()}_default"


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the week holding `moment`."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC) - timedelta(days=moment.weekday())


def partition_name(*, week: datetime) -> str:
    year, number, _ = week.isocalendar()
    return f"{parent_table()}_p{year:04d}w{number:02d}"


def partitions_list(*, cursor=None) -> list[tuple[str, datetime, datetime]]:
    """(name, from, to) of the weekly partitions, oldest first (not the DEFAULT)."""
    if cursor is None:
        with connection.cursor() as cursor:
            return partitions_list(cursor=cursor)
    # The bound's text carries its offset: the cast is exact whatever the session's zone.
    cursor.execute(
        "SELECT c.relname, b[1]::timestamptz, b[2]::timestamptz FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid"
        " CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') b"
        " WHERE i.inhparent = %s::regclass AND b IS NOT NULL ORDER BY 2",
        [parent_table()],
    )
    return [tuple(row) for row in cursor.fetchall()]


def weeks_between(start: datetime, end: datetime) -> list[datetime]:
    """The week starts of [start, end], both included."""
    weeks, week = [], week_start(start)
    while week <= end:
        weeks.append(week)
        week += WEEK
    return weeks


def partitions_ensure(*, start: datetime, end: datetime, cursor=None) -> list[str]:
    """Creates the weekly partitions missing for [start, end] (both included; the
    caller's transaction); returns the names created. For a range known to be filled
    (the schedule, a file in time order); writes of scattered rows name their weeks
    (`partitions_ensure_weeks`)."""
    return partitions_ensure_weeks(weeks=weeks_between(start, end), cursor=cursor)


def current_weeks(*, now: datetime) -> tuple[datetime, datetime]:
    """(first, last) week start of the weeks live writes use: from POLL_RETENTION_DAYS
    before `now` to the last week the schedule creates ahead. A live or API write creates
    partitions only for these (`partitions_ensure_weeks(within=…)`), and the ceiling
    (MAX_PARTITIONS) never keeps them from being created."""
    return (
        week_start(now - timedelta(days=settings.POLL_RETENTION_DAYS)),
        week_start(now) + WEEKS_AHEAD * WEEK,
    )


def partitions_ensure_weeks(*, weeks, cursor=None, within: tuple[datetime, datetime] | None = None) -> list[str]:
    """Creates the missing partitions of `weeks` (week starts), the newest first, at most
    MAX_NEW_PARTITIONS in one call: rows of older weeks wait in the DEFAULT partition
    (a write that spans decades creates no thousand tables in one request, and stays
    correct). With `within` (first, last week start), only weeks in it are created: what
    a live or API write passes (`current_weeks`), so that no caller adds shared structure
    for the weeks of its choosing. Past MAX_PARTITIONS in all, only weeks among the
    current ones are created. Rows of a week that wait in the DEFAULT are moved into its
    new partition. Returns the names created."""
    if cursor is None:
        with connection.cursor() as cursor:
            return partitions_ensure_weeks(weeks=weeks, cursor=cursor, within=within)
    existing = {low for _name, low, _high in partitions_list(cursor=cursor)}
    wanted = {week_start(week) for week in weeks} - existing
    if within is not None:
        wanted = {week for week in wanted if within[0] <= week <= within[1]}
    newest_first = sorted(wanted, reverse=True)[:MAX_NEW_PARTITIONS]
    first, last = current_weeks(now=datetime.now(UTC))
    current = [week for week in newest_first if first <= week <= last]
    others = [week for week in newest_first if not first <= week <= last]
    room = max(MAX_PARTITIONS - len(existing) - len(current), 0)
    if len(others) > room:
        logger.warning(
            "poll partitions: %d exist, the ceiling is %d (partitions.MAX_PARTITIONS); the polls of %d older"
            " weeks stay in the DEFAULT partition (stored and read as any). Prune old polls"
            " (manage.py prune_polls) or raise the ceiling.",
            len(existing), MAX_PARTITIONS, len(others) - room,
        )
    missing = sorted(current + others[:room])
    if not missing:
        return []
    writer_lock(cursor)
    parent, default = parent_table(), default_partition()
    created = []
    for week in missing:
        name = partition_name(week=week)
        bounds = [week, week + WEEK]
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {default} WHERE timestamp_utc >= %s AND timestamp_utc < %s)", bounds
        )
        if cursor.fetchone()[0]:
            # The week's strays leave the DEFAULT first (a partition cannot be created
            # over rows the DEFAULT holds); the CHECK spares ATTACH a scan of them.
            cursor.execute(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS)")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {default} WHERE timestamp_utc >= %s AND timestamp_utc < %s"
                f" RETURNING store_id, timestamp_utc, is_active)"
                f" INSERT INTO {name} (store_id, timestamp_utc, is_active)"
                f" SELECT store_id, timestamp_utc, is_active FROM moved ORDER BY timestamp_utc",
                bounds,
            )
            cursor.execute(
                f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound"
                f" CHECK (timestamp_utc >= %s AND timestamp_utc < %s)", bounds
            )
            cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", bounds)
            cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound")
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {parent} FOR VALUES FROM (%s) TO (%s)", bounds
            )
        created.append(name)
    return created


def weeks_of(cursor, source: str) -> list[datetime]:
    """The distinct UTC weeks of the instants `ts` in `source` (a query or table)."""
    cursor.execute(f"SELECT DISTINCT date_trunc('week', ts, 'UTC') FROM ({source}) src WHERE ts IS NOT NULL")
    return [row[0] for row in cursor.fetchall()]


def partitions_ensure_ahead(*, now: datetime, weeks: int = WEEKS_AHEAD) -> list[str]:
    """What the daily schedule runs: this week's partition and `weeks` after it."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        return partitions_ensure(start=now, end=now + weeks * WEEK, cursor=cursor)


def strays_place(*, cursor) -> list[str]:
    """Rows that landed in the DEFAULT partition moved into weekly partitions (created
    for the weeks that have rows, at most MAX_NEW_PARTITIONS at a time); the names created."""
    weeks = weeks_of(cursor, f"SELECT timestamp_utc AS ts FROM {default_partition()}")
    return partitions_ensure_weeks(weeks=weeks, cursor=cursor) if weeks else []


def brin_summarize(*, cursor) -> None:
    """`brin_summarize_new_values` on every partition's time index (the function does
    not take the parent's partitioned index); a partition with nothing new costs
    nothing."""
    cursor.execute(
        "SELECT brin_summarize_new_values(relid) FROM pg_partition_tree(%s::regclass) WHERE isleaf",
        [POLL_TIME_INDEX],
    )

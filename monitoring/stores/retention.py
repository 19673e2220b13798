"""Poll retention: polls stamped before a cut are deleted; a poll at or after the cut is
never touched. `python manage.py prune_polls --before ISO8601` cuts everyone's polls
where the operator says; the daily schedule (monitoring.tasks.prune_old_polls) keeps,
per store, POLL_RETENTION_DAYS before that store's own latest poll (or now, if earlier):
each store's own clock, so that no tenant's write moves another tenant's cut (a live
2026 poll does not wipe another owner's 2023 history), and historical data such as the
demo's is not wiped because the wall clock moved on.

Whole weekly partitions are dropped (a catalog operation, whatever their size:
monitoring.stores.partitions) when no row in them is at or after its store's cut; inside the
others (and the DEFAULT partition) the polls before their store's cut are deleted, a
slice of time per transaction, found by the BRIN index (each DELETE bumps the data
version and holds the writer lock only for its slice). A DROP fires no trigger: the
version is bumped here.

Before any poll goes, the daily figures it made are kept and frozen
(`summaries_freeze_before_pruning`): ranges over pruned days are answered from them
(docs/rules.md §11). Kept days go after HISTORY_RETENTION_DAYS."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from monitoring.stores.data_version import writer_lock
from monitoring.models import StatusPoll, Store
from monitoring.stores.partitions import default_partition, partitions_list
from monitoring.stores.selectors import earliest_poll_timestamp
from monitoring.stores.summaries import summaries_freeze_before_pruning, summaries_prune

#: Polls deleted per transaction: one slice of time.
PRUNE_SLICE = timedelta(hours=6)


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
    """Delete every poll stamped before `before`; returns how many. The daily figures
    their polls made are kept first (docs/rules.md §11)."""
    summaries_freeze_before_pruning(cuts_sql=f"SELECT id AS store_id, %s::timestamptz AS cut FROM {Store._meta.db_table}",
                                    params=[before])
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


#: The per-store cuts of one prune, in a temporary table of the session.
CUTS = "monitoring_prune_cuts"


def _cuts_make(cursor, *, now: datetime) -> tuple[datetime, datetime] | None:
    """Fills CUTS with (store_id, cut) of every store with polls: POLL_RETENTION_DAYS
    before its latest poll (or now, if earlier); returns (smallest cut, largest cut),
    None with no polls. Each store's latest is one descent of each partition's primary
    key (store, time), not a scan of the table."""
    cursor.execute(f"DROP TABLE IF EXISTS {CUTS}")
    cursor.execute(
        f"CREATE TEMP TABLE {CUTS} AS SELECT s.id AS store_id, least(l.latest, %s) - %s AS cut"
        f" FROM {Store._meta.db_table} s CROSS JOIN LATERAL"
        f" (SELECT max(timestamp_utc) AS latest FROM {StatusPoll._meta.db_table} p WHERE p.store_id = s.id) l"
        f" WHERE l.latest IS NOT NULL",
        [now, timedelta(days=settings.POLL_RETENTION_DAYS)],
    )
    cursor.execute(f"CREATE UNIQUE INDEX ON {CUTS} (store_id)")
    cursor.execute(f"ANALYZE {CUTS}")
    cursor.execute(f"SELECT min(cut), max(cut) FROM {CUTS}")
    low, high = cursor.fetchone()
    return None if low is None else (low, high)


def _partition_drop_if_past(*, name: str, low: datetime, high: datetime) -> int | None:
    """Drops the partition if no row in it is at or after its store's cut (checked under
    the writer lock: no write lands in it meanwhile); returns the polls it held, None if
    kept. Only stores whose cut falls before the partition's end can hold such a row:
    one probe of its primary key for each."""
    with transaction.atomic(), connection.cursor() as cursor:
        writer_lock(cursor)
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {CUTS} c WHERE c.cut < %s AND EXISTS"
            f" (SELECT 1 FROM {name} p WHERE p.store_id = c.store_id AND p.timestamp_utc >= greatest(c.cut, %s)))",
            [high, low],
        )
        if cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT count(*) FROM {name}")
        held = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {name}")
        cursor.execute("SELECT nextval('monitoring_data_version')")
    return held


def _delete_before_cuts(*, table: str, low: datetime, high: datetime, slice_by: timedelta | None = PRUNE_SLICE) -> int:
    """Deletes the polls of `table` in [low, high) stamped before their store's cut, a
    `slice_by` of time per transaction (None: one statement); returns how many. A table
    with none to delete (a week every store still keeps) costs one read, no slices."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {table} p JOIN {CUTS} c ON c.store_id = p.store_id"
            f" WHERE p.timestamp_utc < c.cut AND p.timestamp_utc >= %s AND p.timestamp_utc < %s)",
            [low, high],
        )
        if not cursor.fetchone()[0]:
            return 0
    deleted, start = 0, low
    while start < high:
        end = high if slice_by is None else min(start + slice_by, high)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} p USING {CUTS} c WHERE c.store_id = p.store_id AND c.cut > %s"
                f" AND p.timestamp_utc < c.cut AND p.timestamp_utc >= %s AND p.timestamp_utc < %s",
                [start, start, end],
            )
            deleted += cursor.rowcount
        start = end
    return deleted


def polls_prune_by_retention(*, now: datetime) -> int:
    """What the daily schedule runs: deletes, for every store, the polls older than
    POLL_RETENTION_DAYS before that store's latest poll (or now, if earlier); returns how
    many. Weekly partitions wholly past their stores' cuts are dropped, the rest deleted
    inside the partitions (and the DEFAULT) that hold any."""
    with connection.cursor() as cursor:
        bounds = _cuts_make(cursor, now=now)
    try:
        if bounds is None:
            return 0
        summaries_freeze_before_pruning(cuts_sql=f"SELECT store_id, cut FROM {CUTS}")
        # Kept days live HISTORY_RETENTION_DAYS before each store's latest poll (or now).
        summaries_prune(
            cuts_sql=f"SELECT store_id, cut + %s AS cut FROM {CUTS}",
            params=[timedelta(days=settings.POLL_RETENTION_DAYS - settings.HISTORY_RETENTION_DAYS)],
        )
        smallest, largest = bounds
        # Weeks wholly before every store's cut go as a whole, without a look at their rows.
        _dropped, deleted = partitions_drop(before=smallest)
        for name, low, high in partitions_list():
            if low >= largest:
                break  # no store cuts into this week or any later one
            held = _partition_drop_if_past(name=name, low=low, high=high)
            if held is not None:
                deleted += held
            else:
                deleted += _delete_before_cuts(table=name, low=low, high=min(high, largest))
        # The DEFAULT's rows (live polls of old weeks, strays): as many as were written,
        # scattered over any years: one statement, not a slice per 6 hours of their range.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(timestamp_utc) FROM {default_partition()} WHERE timestamp_utc < %s", [largest])
            oldest = cursor.fetchone()[0]
        if oldest is not None:
            deleted += _delete_before_cuts(table=default_partition(), low=oldest, high=largest, slice_by=None)
        return deleted
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {CUTS}")

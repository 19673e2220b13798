"""The empty table's fast path: its primary key, other constraints and indexes are
dropped, the rows go straight into it, then all of them are rebuilt. For polls the
file's rows stream in as binary COPY (parsed as they go), one row per key (the
latest line wins: a key twice is found from the rows kept as arrays, before the
primary key is rebuilt), in time order, and the table is analysed; business hours
use `prepare` and `rebuild` too (`small_files`)."""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, transaction

from monitoring.kernel.copy_format import PG_EPOCH
from monitoring.ingest.poll_arrays import PollArrays, RowsInTimeOrder, instants_repeat
from monitoring.ingest.poll_writes import CHUNK_BYTES
from monitoring.models import StatusPoll
from monitoring.stores.partitions import partitions_ensure, strays_place


@dataclass
class BulkState:
    constraints: list[tuple[str, str, str]]  # name, definition, type ('p', 'u' or 'f')
    indexes: list[tuple[str, str]]  # name, CREATE INDEX statement


def prepare(cursor, timings: dict, table: str | None = None) -> BulkState | None:
    """If `table` (the poll table by default) is empty: lock it, drop its indexes and
    its primary-key, unique and foreign-key constraints (definitions kept from the
    catalog, so they come back exactly as they were; check constraints stay). None
    when the table has rows or cannot be altered now (in use by another transaction,
    or pending trigger events in an enclosing transaction)."""
    table = table or StatusPoll._meta.db_table
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    if not cursor.fetchone()[0]:
        return None
    try:
        with transaction.atomic():
            # NOWAIT: a reader, or a writer queued for the writer lock, would otherwise
            # wait for us while we wait for it.
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), contype, confrelid::regclass::text FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC, conname",
                [table],
            )
            rows = cursor.fetchall()
            constraints = [(name, definition, kind) for name, definition, kind, _referenced in rows]
            for referenced in sorted({referenced for *_, kind, referenced in rows if kind == "f"}):
                # What dropping and adding a foreign key takes on the table it refers to
                # (readers go on; writers of it wait for the writer lock anyway).
                cursor.execute(f"LOCK TABLE {referenced} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = %s::regclass AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)"
                " ORDER BY i.relname",
                [table],
            )
            indexes = [tuple(row) for row in cursor.fetchall()]
            for name, _definition, _type in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) not in ("55006", "55P03"):  # in use; lock not available
            raise
        timings["bulk_path_refused"] = 1.0
        return None
    return BulkState(constraints=constraints, indexes=indexes)


def load(cursor, bulk: BulkState, stream, timings: dict, *, tail_latest=lambda: None) -> tuple:
    """The empty poll table, its indexes dropped: the file streams straight into it
    (binary COPY, parsed as it goes), then its indexes are rebuilt. A key twice never
    reaches the table: a file read whole (not in time order) is written once, the
    latest line per key only; a file streamed as read is checked at its end, and
    written again, de-duplicated and sorted, if it held a key twice or was not in time
    order after all. The weekly partitions of the file's range are created before the
    COPY (`tail_latest`: where a file in time order ends). Returns (loaded, replaced,
    unchanged, superseded)."""
    polls = StatusPoll._meta.db_table
    t0 = time_module.perf_counter()
    time_range = stream.time_range_ahead(tail_latest=tail_latest())
    timings["read_before_copy"] = time_module.perf_counter() - t0
    t0 = time_module.perf_counter()
    _partitions_for(cursor, time_range)
    _leaves_emptied(cursor, polls)
    timings["partitions"] = time_module.perf_counter() - t0
    t0 = time_module.perf_counter()
    cursor.copy_expert(
        f"COPY {polls} (store_id, timestamp_utc, is_active) FROM STDIN WITH (FORMAT binary)", stream, CHUNK_BYTES
    )
    inserted, superseded = cursor.rowcount, stream.superseded
    timings["bulk_copy"] = time_module.perf_counter() - t0
    if not stream.written_in_time_order:
        t0 = time_module.perf_counter()
        # A key twice needs an instant twice: the instants alone are sorted first.
        twice = instants_repeat([kept.moment for kept in stream.kept])
        in_order = RowsInTimeOrder(PollArrays.concatenate(stream.kept), latest_only=True) if twice else None
        timings["dedupe"] = time_module.perf_counter() - t0
        if (in_order is not None and in_order.superseded) or not stream.in_time_order():
            if in_order is None:
                in_order = RowsInTimeOrder(PollArrays.concatenate(stream.kept), latest_only=True)
            # Written again, before the indexes exist: the primary key needs one row
            # per key, the BRIN time index is only as good as the table's time order.
            t0 = time_module.perf_counter()
            cursor.execute(f"TRUNCATE {polls}")
            _partitions_for(cursor, (int(in_order.polls.moment.min()), int(in_order.polls.moment.max())))
            cursor.copy_expert(
                f"COPY {polls} (store_id, timestamp_utc, is_active) FROM STDIN WITH (FORMAT binary)", in_order,
                CHUNK_BYTES,
            )
            inserted, superseded = cursor.rowcount, in_order.superseded
            timings["time_order"] = time_module.perf_counter() - t0
    # A file streamed as read: the rows of weeks with no partition wait in the DEFAULT
    # partition, moved now into new partitions (before the indexes are rebuilt).
    t0 = time_module.perf_counter()
    strays_place(cursor=cursor)
    timings["partitions"] += time_module.perf_counter() - t0
    rebuild(cursor, polls, bulk, timings)
    t0 = time_module.perf_counter()
    cursor.execute(f"ANALYZE {polls}")
    timings["analyze"] = time_module.perf_counter() - t0
    return inserted, 0, 0, superseded


def rebuild(cursor, table: str, bulk: BulkState, timings: dict) -> None:
    """The constraints (primary key first) and indexes `prepare` dropped, as they were."""
    for name, definition, _type in sorted(bulk.constraints, key=lambda c: "pufc".index(c[2])):
        t0 = time_module.perf_counter()
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        timings[f"rebuild {name}"] = time_module.perf_counter() - t0
    for name, definition in bulk.indexes:
        t0 = time_module.perf_counter()
        # A partitioned table's index is defined "ON ONLY" the parent: without ONLY it
        # is created on every partition too.
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
        timings[f"rebuild {name}"] = time_module.perf_counter() - t0


def _leaves_emptied(cursor, table: str) -> None:
    """The table has no rows, but a partition that existed before may still hold pages
    (of deleted or rolled-back rows) with free space in its free-space map: COPY fills
    those where the map points before it appends, so the rows would not be stored in
    the order they come in. Such partitions are truncated (new, empty files); TRUNCATE
    of a partition fires none of the parent's statement triggers."""
    cursor.execute(
        "SELECT relid::regclass::text FROM pg_partition_tree(%s::regclass)"
        " WHERE isleaf AND pg_relation_size(relid) > 0 ORDER BY 1",
        [table],
    )
    leaves = [name for (name,) in cursor.fetchall()]
    if leaves:
        cursor.execute(f"TRUNCATE {', '.join(leaves)}")


def _partitions_for(cursor, time_range: tuple[int, int] | None) -> None:
    """The weekly partitions for a range of PostgreSQL microseconds (None: nothing)."""
    if time_range is not None:
        first, last = (PG_EPOCH + timedelta(microseconds=moment) for moment in time_range)
        partitions_ensure(start=first, end=last, cursor=cursor)

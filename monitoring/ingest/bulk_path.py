"""The empty poll table's fast path: its primary key and indexes are dropped, the
file's rows stream straight into it (binary COPY, parsed as they go), then the key
and indexes are rebuilt and the table analysed. Optimistic: a key twice in the file
makes the key's rebuild fail, and the latest poll per key (kept as arrays) is
written instead."""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction

from monitoring.ingest.poll_arrays import PollArrays, RowsInTimeOrder
from monitoring.ingest.poll_writes import CHUNK_BYTES
from monitoring.models import StatusPoll


@dataclass
class BulkState:
    constraints: list[tuple[str, str, str]]  # name, definition, type ('p', 'u' or 'f')
    indexes: list[tuple[str, str]]  # name, CREATE INDEX statement


def prepare(cursor, timings: dict) -> BulkState | None:
    """If the poll table is empty: lock it, drop its indexes and constraints
    (definitions kept from the catalog, so they come back exactly as they were). None
    when the table has rows or cannot be altered now (in use by another transaction,
    or pending trigger events in an enclosing transaction)."""
    polls = StatusPoll._meta.db_table
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {polls})")
    if not cursor.fetchone()[0]:
        return None
    try:
        with transaction.atomic():
            # NOWAIT: a reader, or a writer queued for the writer lock, would otherwise
            # wait for us while we wait for it.
            cursor.execute(f"LOCK TABLE {polls} IN ACCESS EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC, conname",
                [polls],
            )
            constraints = [tuple(row) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = %s::regclass AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)"
                " ORDER BY i.relname",
                [polls],
            )
            indexes = [tuple(row) for row in cursor.fetchall()]
            for name, _definition, _type in constraints:
                cursor.execute(f'ALTER TABLE {polls} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) not in ("55006", "55P03"):  # in use; lock not available
            raise
        timings["bulk_path_refused"] = 1.0
        return None
    return BulkState(constraints=constraints, indexes=indexes)


def load(cursor, bulk: BulkState, stream, timings: dict) -> tuple:
    """The empty poll table, its indexes dropped: the file streams straight into it
    (binary COPY, parsed as it goes), then the primary key is rebuilt. Optimistic: no
    de-duplication, as the rebuilt primary key proves there was no key twice; if
    there was, roll back to a savepoint and write the latest poll per key."""
    try:
        with transaction.atomic():
            loaded = _write(cursor, bulk, stream, timings)
        return loaded, 0, 0, 0
    except IntegrityError as error:
        if getattr(error.__cause__, "pgcode", None) != "23505":
            raise
    t0 = time_module.perf_counter()
    polls = PollArrays.concatenate(stream.kept)
    latest = polls.latest_per_key()
    timings["dedupe"] = time_module.perf_counter() - t0
    loaded = _write(cursor, bulk, RowsInTimeOrder(latest), timings)
    return loaded, 0, 0, len(polls) - len(latest)


def _write(cursor, bulk: BulkState, stream, timings: dict) -> int:
    polls = StatusPoll._meta.db_table
    t0 = time_module.perf_counter()
    cursor.copy_expert(
        f"COPY {polls} (store_id, timestamp_utc, is_active) FROM STDIN WITH (FORMAT binary)", stream, CHUNK_BYTES
    )
    inserted = cursor.rowcount
    timings["bulk_copy"] = time_module.perf_counter() - t0
    if hasattr(stream, "in_time_order") and not stream.in_time_order():
        # Its first chunk was in time order, the rest was not: written again sorted,
        # before the indexes exist (the BRIN time index is only as good as the
        # table's time order).
        t0 = time_module.perf_counter()
        cursor.execute(f"TRUNCATE {polls}")
        in_order = RowsInTimeOrder(PollArrays.concatenate(stream.kept))
        cursor.copy_expert(
            f"COPY {polls} (store_id, timestamp_utc, is_active) FROM STDIN WITH (FORMAT binary)", in_order, CHUNK_BYTES
        )
        timings["time_order"] = time_module.perf_counter() - t0
    # The primary key first: it fails on a key twice.
    for name, definition, _type in sorted(bulk.constraints, key=lambda c: "pufc".index(c[2])):
        t0 = time_module.perf_counter()
        cursor.execute(f'ALTER TABLE {polls} ADD CONSTRAINT "{name}" {definition}')
        timings[f"rebuild {name}"] = time_module.perf_counter() - t0
    for name, definition in bulk.indexes:
        t0 = time_module.perf_counter()
        cursor.execute(definition)
        timings[f"rebuild {name}"] = time_module.perf_counter() - t0
    t0 = time_module.perf_counter()
    cursor.execute(f"ANALYZE {polls}")
    timings["analyze"] = time_module.perf_counter() - t0
    return inserted

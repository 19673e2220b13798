"""How polls and stores are written to PostgreSQL, for files and live polls alike:
store keys, the staging table, and the one merge (the later line wins per key, only
what differs from the stored poll is written).

Every writer first takes the writer lock (`monitoring.stores.data_version`), so no other
transaction writes stores or polls until it commits: new keys are plain inserts and
changed ones plain updates, without ON CONFLICT's per-row speculative insertion."""

from __future__ import annotations

import time as time_module
import uuid
from collections.abc import Iterable

import numpy as np

from monitoring.ingest.fast_parse import StoreIdCodes
from monitoring.models import StatusPoll, Store
from monitoring.stores.partitions import brin_summarize, partitions_ensure_weeks, weeks_of

#: Bytes per read of a COPY stream.
CHUNK_BYTES = 4 << 20


def staging_name(kind: str) -> str:
    return f"monitoring_load_{kind}_{uuid.uuid4().hex[:12]}"


def tune_session(cursor, *, bulk: bool) -> None:
    cursor.execute("SET LOCAL TIME ZONE 'UTC'")
    if bulk:
        # A lost commit after a crash is reloaded from the file; no corruption risk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 1")


def insert_store_ids(cursor, store_ids: Iterable[str]) -> int:
    """Creates the stores of these ids that do not exist yet; returns how many. The ids
    have passed `values.store_id`."""
    ids = sorted(set(store_ids))
    if not ids:
        return 0
    cursor.execute(
        f"INSERT INTO {Store._meta.db_table} (store_id) SELECT unnest(%s::text[]) ON CONFLICT (store_id) DO NOTHING",
        [ids],
    )
    return cursor.rowcount


def insert_store_ids_keyed(cursor, store_ids: Iterable[str]) -> tuple[dict[str, int], int]:
    """As `insert_store_ids`, in one statement that also returns the primary keys:
    ({store_id: primary key} of every one of these ids, how many were created)."""
    ids = sorted(set(store_ids))
    if not ids:
        return {}, 0
    store = Store._meta.db_table
    cursor.execute(
        f"WITH ids AS (SELECT unnest(%s::text[]) AS store_id),"
        f" created AS (INSERT INTO {store} (store_id) SELECT store_id FROM ids"
        f" ON CONFLICT (store_id) DO NOTHING RETURNING store_id, id)"
        # The statement's snapshot: the stores that existed before it.
        f" SELECT store_id, id, true FROM created"
        f" UNION ALL SELECT s.store_id, s.id, false FROM {store} s JOIN ids USING (store_id)",
        [ids],
    )
    rows = cursor.fetchall()
    return {store_id: pk for store_id, pk, _new in rows}, sum(1 for *_, new in rows if new)


def store_pks(cursor, store_ids: Iterable[str]) -> dict[str, int]:
    """{store_id: primary key} of existing stores."""
    cursor.execute(f"SELECT store_id, id FROM {Store._meta.db_table} WHERE store_id = ANY(%s)", [list(set(store_ids))])
    return dict(cursor.fetchall())


class StoreKeys:
    """Store ids -> store primary keys for one file load, while COPY has the
    connection: existing stores are read once (the writer lock keeps other writers
    out until the load commits), new ones get keys from a block drawn from the
    store sequence and are inserted after the polls, in the same transaction.

    `pks` maps the codes of `codes` (the `StoreIdCodes` of the canonical rows, which
    a reading thread may be filling: only its list of ids is read here, up to the
    codes asked for); `pk_of` an id read row by row."""

    def __init__(self, cursor, codes: StoreIdCodes | None = None) -> None:
        store = Store._meta.db_table
        self.codes = codes if codes is not None else StoreIdCodes()
        cursor.execute(f"SELECT store_id, id FROM {store}")
        self._pk_by_id = {store_id.encode(): pk for store_id, pk in cursor.fetchall()}  # and the new ones
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [store])
        self._sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [self._sequence])
        self._next = cursor.fetchone()[0]
        self._pk_of_code = np.empty(0, np.int64)
        self._new: list[tuple[int, str]] = []

    def _pk(self, store_id: bytes) -> int:
        pk = self._pk_by_id.get(store_id)
        if pk is None:
            pk, self._next = self._next, self._next + 1
            self._pk_by_id[store_id] = pk
            self._new.append((pk, store_id.decode("utf-8")))
        return pk

    def pks(self, codes: np.ndarray) -> np.ndarray:
        known, needed = len(self._pk_of_code), int(codes.max()) + 1 if len(codes) else 0
        if needed > known:
            added = [self._pk(store_id) for store_id in self.codes.store_ids[known:needed]]
            self._pk_of_code = np.concatenate((self._pk_of_code, np.array(added, np.int64)))
        return self._pk_of_code[codes]

    def pk_of(self, store_id: str) -> int:
        return self._pk(store_id.encode("utf-8"))

    def insert_new(self, cursor) -> int:
        """Inserts the stores first met in this file; moves the sequence past their keys."""
        if self._new:
            pks, store_ids = zip(*self._new)
            cursor.execute(
                f"INSERT INTO {Store._meta.db_table} (id, store_id) SELECT unnest(%s::bigint[]), unnest(%s::text[])",
                [list(pks), list(store_ids)],
            )
            cursor.execute("SELECT setval(%s, %s)", [self._sequence, self._next - 1])
        return len(self._new)


def _latest_sql(source: str) -> str:
    """One row per key, the status of its latest line: max(line * 2 + status) keeps
    the latest line and carries its status in the low bit, so a hash aggregate does
    it (a DISTINCT ON … ORDER BY line DESC sort took twice as long)."""
    return (
        f"SELECT store_pk, ts, tag % 2 = 1 AS is_active, tag / 2 AS line FROM"
        f" (SELECT store_pk, ts, max(line * 2 + is_active::int) AS tag FROM ({source}) src GROUP BY store_pk, ts) g"
    )


def _time_range_sql(cursor, source: str, *, new_weeks_within) -> str:
    """`BETWEEN first AND last` of the instants in source, as literals: bounds the
    stored polls a merge compares with to the partitions and block ranges holding them
    (a day's file no longer scans the whole table). The weekly partitions of that range
    are created first if missing (`partitions_ensure_weeks`, only for weeks in
    `new_weeks_within` when given): the merge inserts into them, or into the DEFAULT."""
    cursor.execute(f"SELECT min(ts), max(ts) FROM ({source}) src")
    first, last = cursor.fetchone()
    if first is not None:
        # The weeks that have rows, not every week between the first and the last: two
        # polls decades apart must not create a thousand partitions.
        partitions_ensure_weeks(weeks=weeks_of(cursor, source), cursor=cursor, within=new_weeks_within)
    return cursor.mogrify("BETWEEN %s AND %s", (first, last)).decode()


def merge_polls(cursor, source: str, *, keys_distinct: bool, new_weeks_within=None) -> tuple[int, int, int]:
    """The upsert of polls from `source` (store_pk, ts, is_active, line), the writer
    lock held: the later line wins per key; new keys are inserted in time order,
    changed ones updated, identical ones left alone. When no key came twice
    (`keys_distinct`) the aggregate that picks each key's latest line is skipped (1.5 s
    of a 2 M-row reload). `new_weeks_within`: the weeks it may create partitions for
    (None: any week its rows have). Returns (distinct keys, inserted, updated)."""
    polls = StatusPoll._meta.db_table
    in_range = _time_range_sql(cursor, source, new_weeks_within=new_weeks_within)
    cursor.execute(
        f"WITH latest AS ({source if keys_distinct else _latest_sql(source)}),"
        f" compared AS MATERIALIZED ("
        f" SELECT n.store_pk, n.ts, n.is_active, p.is_active AS stored FROM latest n"
        f" LEFT JOIN {polls} p ON p.store_id = n.store_pk AND p.timestamp_utc = n.ts AND p.timestamp_utc {in_range}),"
        f" updated AS ("
        f" UPDATE {polls} p SET is_active = c.is_active FROM compared c"
        f" WHERE p.store_id = c.store_pk AND p.timestamp_utc = c.ts AND p.timestamp_utc {in_range}"
        f" AND c.stored <> c.is_active RETURNING 1),"
        f" inserted AS ("
        f" INSERT INTO {polls} (store_id, timestamp_utc, is_active)"
        f" SELECT store_pk, ts, is_active FROM compared WHERE stored IS NULL ORDER BY ts RETURNING 1)"
        f" SELECT (SELECT count(*) FROM compared), (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)"
    )
    return tuple(cursor.fetchone())


def polls_write_staged(
    cursor, stream, *, keys_distinct, timings: dict, temporary: bool, summarize: bool, new_weeks_within=None
) -> tuple[int, int, int, int]:
    """Polls into a table that may hold some: `stream` (a binary COPY stream of
    store_pk, ts, is_active, line) goes into a staging table, then one `merge_polls`.
    `keys_distinct` is a bool or a callable asked once the stream is read;
    `new_weeks_within` bounds the partitions it creates (`merge_polls`). Returns
    (loaded, replaced, unchanged, superseded)."""
    staging = staging_name("polls")
    cursor.execute(
        f"CREATE {'TEMP' if temporary else 'UNLOGGED'} TABLE {staging}"
        f" (store_pk bigint, ts timestamptz, is_active boolean, line bigint)"
        + (" ON COMMIT DROP" if temporary else " WITH (autovacuum_enabled = off)")
    )
    t0 = time_module.perf_counter()
    cursor.copy_expert(f"COPY {staging} FROM STDIN WITH (FORMAT binary)", stream, CHUNK_BYTES)
    valid = cursor.rowcount
    timings["copy"] = time_module.perf_counter() - t0
    t0 = time_module.perf_counter()
    distinct, loaded, replaced = 0, 0, 0
    if valid:
        distinct, loaded, replaced = merge_polls(
            cursor,
            f"SELECT store_pk, ts, is_active, line FROM {staging}",
            keys_distinct=keys_distinct() if callable(keys_distinct) else keys_distinct,
            new_weeks_within=new_weeks_within,
        )
    timings["merge"] = time_module.perf_counter() - t0
    if summarize and loaded:
        # The BRIN ranges the new polls filled, summarized now rather than by autovacuum
        # later: until then every query of a time range reads all of them.
        t0 = time_module.perf_counter()
        brin_summarize(cursor=cursor)
        timings["summarize"] = time_module.perf_counter() - t0
    cursor.execute(f"DROP TABLE {staging}")
    return loaded, replaced, distinct - loaded - replaced, valid - distinct

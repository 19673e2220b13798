"""The expected-revenue file (docs/rules.md §13): `store_revenue.csv`, one row per store,
weekday and local hour, authoritative per store (a store's stored rows become exactly
the file's), in one transaction. Each value is read by the grammar (`values`), the
few distinct days, hours, amounts and codes once each.

One currency per store: the first valid row of a store names it (an empty cell, or no
`currency` column, is USD); a later row of the same store with another code is rejected,
naming that first line. Of two rows for the same store, weekday and hour the later wins
(the earlier counts as `superseded`), as for polls.

The valid rows are held as numpy arrays (a fleet's file has a million rows), go to a
staging table as one binary COPY (store keys, amounts as whole cents, so nothing is
rounded on the way) and are merged in three statements: the store's rows the file no
longer names are removed, changed ones updated, new ones inserted."""

from __future__ import annotations

import io
import time as time_module
from pathlib import Path

import numpy as np
from django.db import connection, transaction

from monitoring.ingest import bulk_path
from monitoring.ingest.csv_files import REVENUE, read_header
from monitoring.ingest.poll_writes import insert_store_ids_keyed, staging_name, tune_session
from monitoring.ingest.results import FileLoadResult, Rejection, load_envelope
from monitoring.ingest.small_files import checked_rows, gc_paused, memo
from monitoring.kernel.copy_format import HEADER, TRAILER, binary_rows
from monitoring.kernel.values import DEFAULT_CURRENCY, currency, day_of_week, hour_of_day, money_amount, store_id
from monitoring.models import StoreRevenue
from monitoring.stores.data_version import writer_lock

#: An empty revenue table takes the bulk path from this many rows on (as hours do).
REVENUE_BULK_MIN_ROWS = 2_000


def load_store_revenue_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads an expected-revenue file: for every store with a valid row, the file's rows
    replace the stored ones (see docs/loading.md)."""
    header = read_header(path=path, kind=REVENUE)
    pos = header.positions
    day_field = header.names[pos["day"]] or "day"
    checks = [
        (pos["store_id"], memo(lambda text: store_id(text, trim=True))),
        (pos["day"], memo(lambda text: day_of_week(text, trim=True, field=day_field))),
        (pos["hour"], memo(lambda text: hour_of_day(text, trim=True, field="hour"))),
        # Whole cents: exact (the grammar allows at most two decimals).
        (pos["expected_revenue"], memo(lambda text: int(money_amount(text, trim=True, field="expected_revenue") * 100))),
    ]
    if "currency" in pos:
        checks.append((pos["currency"], memo(lambda text: currency(text, trim=True, empty_ok=True))))
    name = header.path.name
    with gc_paused(), load_envelope(kind=REVENUE, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink, timings = load.result, load.rejects, load.result.timings
        t0 = time_module.perf_counter()
        rows = checked_rows(header, load, tuple(checks), with_lines=True)
        columns = list(zip(*rows)) or [(), (), (), (), ()]
        del rows
        lines = np.fromiter(columns[0], np.int64, len(columns[0]))
        sids, store = _indexes(columns[1])
        day = np.fromiter(columns[2], np.int64, len(lines))
        hour = np.fromiter(columns[3], np.int64, len(lines))
        cents = np.fromiter(columns[4], np.int64, len(lines))
        codes, code = _indexes(columns[5] if len(columns) > 5 else [DEFAULT_CURRENCY] * len(lines))
        del columns
        # One currency per store: its first valid row's (rows are in line order).
        stores_seen, first = np.unique(store, return_index=True)
        store_code = np.zeros(len(sids), np.int64)
        store_code[stores_seen] = code[first]
        store_line = np.zeros(len(sids), np.int64)
        store_line[stores_seen] = lines[first]
        conflict = code != store_code[store]
        if conflict.any():
            wrong = np.flatnonzero(conflict)
            raw_of = _raw_lines(header.path, set(lines[wrong].tolist()))
            for i in wrong.tolist():
                sid = sids[store[i]]
                sink.add(
                    Rejection(
                        name, int(lines[i]), "currency",
                        f"{codes[code[i]]} differs from {codes[store_code[store[i]]]}, given for this store on line"
                        f" {store_line[store[i]]}: a store's rows have one currency",
                        raw_of.get(int(lines[i]), ""),
                    ),
                    sid,
                )
            keep = ~conflict
            store, day, hour, cents, code = store[keep], day[keep], hour[keep], cents[keep], code[keep]
        # Of two rows for one store, day and hour, the later line wins.
        key = (store * 7 + day) * 24 + hour
        last = len(key) - 1 - np.unique(key[::-1], return_index=True)[1]
        result.superseded += len(key) - len(last)
        store, day, hour, cents, code = store[last], day[last], hour[last], cents[last], code[last]
        timings["read"] = time_module.perf_counter() - t0
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            t0 = time_module.perf_counter()
            revenue = StoreRevenue._meta.db_table
            # The empty table (the first load): its key, constraints and index dropped now,
            # before any store is inserted (bulk_path.prepare says why), rebuilt after.
            bulk = bulk_path.prepare(cursor, timings, revenue) if len(store) >= REVENUE_BULK_MIN_ROWS else None
            pks, result.stores_created = insert_store_ids_keyed(cursor, set(sids) | sink.store_ids)
            staging = staging_name("revenue")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} (store_pk bigint, day integer, hour integer, cents bigint, code integer)"
                " ON COMMIT DROP"
            )
            store_pk = np.fromiter((pks[sid] for sid in sids), np.int64, len(sids))[store]
            data = binary_rows([store_pk, day.astype(np.int32), hour.astype(np.int32), cents, code.astype(np.int32)])
            cursor.copy_expert(
                f"COPY {staging} (store_pk, day, hour, cents, code) FROM STDIN WITH (FORMAT binary)",
                io.BytesIO(HEADER + data + TRAILER),
            )
            cursor.execute(f"ANALYZE {staging}")
            timings["copy"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
            code_of = "(%s::text[])[n.code + 1]"  # the staging table holds each code's index
            # The file is authoritative for the stores it names.
            cursor.execute(
                f"DELETE FROM {revenue} r WHERE r.store_id IN (SELECT DISTINCT store_pk FROM {staging})"
                f" AND NOT EXISTS (SELECT 1 FROM {staging} n"
                f" WHERE n.store_pk = r.store_id AND n.day = r.day_of_week AND n.hour = r.hour)"
            )
            result.removed = cursor.rowcount
            timings["delete"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
            cursor.execute(
                f"UPDATE {revenue} r SET expected_revenue = n.cents / 100.0, currency = {code_of}"
                f" FROM {staging} n WHERE r.store_id = n.store_pk AND r.day_of_week = n.day AND r.hour = n.hour"
                f" AND (r.expected_revenue <> n.cents / 100.0 OR r.currency <> {code_of})",
                [codes, codes],
            )
            result.replaced = cursor.rowcount
            timings["update"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
            # Only the new rows: one hash join (a reload probes no index a million times);
            # into the empty table of the bulk path (no key to conflict with), all of them.
            new_only = "" if bulk is not None else (
                f" WHERE NOT EXISTS (SELECT 1 FROM {revenue} r"
                f" WHERE r.store_id = n.store_pk AND r.day_of_week = n.day AND r.hour = n.hour)"
            )
            on_conflict = "" if bulk is not None else " ON CONFLICT (store_id, day_of_week, hour) DO NOTHING"
            cursor.execute(
                f"INSERT INTO {revenue} (store_id, day_of_week, hour, expected_revenue, currency)"
                f" SELECT n.store_pk, n.day, n.hour, n.cents / 100.0, {code_of} FROM {staging} n{new_only}"
                f" ORDER BY n.store_pk, n.day, n.hour{on_conflict}",
                [codes],
            )
            result.loaded = cursor.rowcount
            result.unchanged = len(store) - result.loaded - result.replaced
            cursor.execute(f"DROP TABLE {staging}")
            timings["insert"] = time_module.perf_counter() - t0
            if bulk is not None:
                bulk_path.rebuild(cursor, revenue, bulk, timings)
            t0 = time_module.perf_counter()
        timings["commit"] = time_module.perf_counter() - t0
    return load.result


def _indexes(values) -> tuple[list, np.ndarray]:
    """(the distinct values in order of first appearance, each value's index among them)."""
    found: dict = {}
    index = np.fromiter((found.setdefault(value, len(found)) for value in values), np.int64, len(values))
    return list(found), index


def _raw_lines(path: Path, wanted: set[int]) -> dict[int, str]:
    """{line number: its text} of the `wanted` physical lines (the header is line 1)."""
    found: dict[int, str] = {}
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            if line_no in wanted:
                found[line_no] = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
                if len(found) == len(wanted):
                    break
    return found

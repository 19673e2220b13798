"""The expected-revenue file (docs/rules.md §13): `store_revenue.csv`, one row per store,
weekday and local hour, authoritative per store (a store's stored rows become exactly
the file's), in one transaction. Each value is read by the grammar (`values`), the
few distinct days, hours, amounts and codes once each.

One currency per store: the first valid row of a store names it (an empty cell, or no
`currency` column, is USD); a later row of the same store with another code is rejected,
naming that first line. Of two rows for the same store, weekday and hour the later wins
(the earlier counts as `superseded`), as for polls.

The rows go to a staging table as binary COPY (amounts as whole cents, so nothing is
rounded on the way) and are merged in three statements: the store's rows the file no
longer names are removed, changed ones updated, new ones inserted."""

from __future__ import annotations

import time as time_module
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction

from monitoring.ingest.csv_files import REVENUE, read_header
from monitoring.ingest.poll_writes import insert_store_ids, staging_name, tune_session
from monitoring.ingest.results import FileLoadResult, Rejection, load_envelope
from monitoring.ingest.small_files import checked_rows, gc_paused, memo
from monitoring.kernel.copy_format import copy_rows_in
from monitoring.kernel.values import DEFAULT_CURRENCY, currency, day_of_week, hour_of_day, money_amount, store_id
from monitoring.models import Store, StoreRevenue
from monitoring.stores.data_version import writer_lock

_CENTS = Decimal(100)


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
        (pos["expected_revenue"], memo(lambda text: money_amount(text, trim=True, field="expected_revenue"))),
    ]
    if "currency" in pos:
        checks.append((pos["currency"], memo(lambda text: currency(text, trim=True, empty_ok=True))))
    name = header.path.name
    with gc_paused(), load_envelope(kind=REVENUE, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink, timings = load.result, load.rejects, load.result.timings
        t0 = time_module.perf_counter()
        rows = checked_rows(header, load, tuple(checks), with_lines=True)
        first_of_store: dict[str, tuple[str, int]] = {}  # store id -> (its currency, the line naming it)
        kept: dict[tuple[str, int, int], tuple[int, int, str]] = {}  # (store, day, hour) -> (line, cents, currency)
        conflicts: list[tuple[int, str, str, int]] = []  # (line, store id, code, the first line's)
        for line_no, sid, day, hour, amount, *code in rows:
            code = code[0] if code else DEFAULT_CURRENCY
            named = first_of_store.setdefault(sid, (code, line_no))
            if named[0] != code:
                conflicts.append((line_no, sid, code, named[1]))
                continue
            key = (sid, day, hour)
            if key in kept:
                result.superseded += 1
            kept[key] = (line_no, int(amount * _CENTS), code)
        if conflicts:
            raw_of = _raw_lines(header.path, {line for line, *_ in conflicts})
            for line_no, sid, code, first_line in conflicts:
                store_code = first_of_store[sid][0]
                sink.add(
                    Rejection(
                        name, line_no, "currency",
                        f"{code} differs from {store_code}, given for this store on line {first_line}:"
                        " a store's rows have one currency",
                        raw_of.get(line_no, ""),
                    ),
                    sid,
                )
        timings["read"] = time_module.perf_counter() - t0
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            t0 = time_module.perf_counter()
            revenue, store = StoreRevenue._meta.db_table, Store._meta.db_table
            result.stores_created = insert_store_ids(cursor, {sid for sid, _, _ in kept} | sink.store_ids)
            staging = staging_name("revenue")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} (sid text, day smallint, hour smallint, cents bigint, currency text)"
                " ON COMMIT DROP"
            )
            copy_rows_in(
                cursor, staging, ("sid", "day", "hour", "cents", "currency"),
                ("text", "smallint", "smallint", "bigint", "text"),
                ((sid, day, hour, cents, code) for (sid, day, hour), (_, cents, code) in kept.items()),
            )
            # The file is authoritative for the stores it names.
            cursor.execute(
                f"DELETE FROM {revenue} r USING {store} s"
                f" WHERE r.store_id = s.id AND s.store_id IN (SELECT sid FROM {staging})"
                f" AND NOT EXISTS (SELECT 1 FROM {staging} n"
                f" WHERE n.sid = s.store_id AND n.day = r.day_of_week AND n.hour = r.hour)"
            )
            result.removed = cursor.rowcount
            cursor.execute(
                f"UPDATE {revenue} r SET expected_revenue = n.cents / 100.0, currency = n.currency"
                f" FROM {staging} n JOIN {store} s ON s.store_id = n.sid"
                f" WHERE r.store_id = s.id AND r.day_of_week = n.day AND r.hour = n.hour"
                f" AND (r.expected_revenue <> n.cents / 100.0 OR r.currency <> n.currency)"
            )
            result.replaced = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {revenue} (store_id, day_of_week, hour, expected_revenue, currency)"
                f" SELECT s.id, n.day, n.hour, n.cents / 100.0, n.currency FROM {staging} n"
                f" JOIN {store} s ON s.store_id = n.sid ORDER BY s.id, n.day, n.hour"
                f" ON CONFLICT (store_id, day_of_week, hour) DO NOTHING"
            )
            result.loaded = cursor.rowcount
            result.unchanged = len(kept) - result.loaded - result.replaced
            cursor.execute(f"DROP TABLE {staging}")
            timings["write"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
        timings["commit"] = time_module.perf_counter() - t0
    return load.result


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

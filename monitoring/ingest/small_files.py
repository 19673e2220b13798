"""The small files: business hours (authoritative per store: a store's shifts become
exactly the file's), special hours (authoritative per store and date: that date's
special rows become exactly the file's) and time zones (upsert per store). Each row is validated alone
(`values`; a text met before is not validated again: the few distinct days and
times, and each store id, are read once), in one transaction per file.

Business hours go to a staging table as binary COPY (any text round-trips) and are
merged in one statement; into an empty table (the first load) they are written
straight in, its key, constraints and indexes dropped and rebuilt (`bulk_path`), as
row-by-row index and deferred foreign-key checks cost more than the rest of the
load. Time zones: the stored zones of the file's stores are read (the writer lock
keeps other writers out), new stores are inserted with their zone and only changed
zones updated."""

from __future__ import annotations

import gc
import io
import struct
import time as time_module
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import time
from pathlib import Path

import numpy as np
from django.db import connection, transaction

from monitoring.stores.data_version import writer_lock
from monitoring.ingest import bulk_path
from monitoring.kernel.copy_format import HEADER, TRAILER, copy_rows_in
from monitoring.ingest.csv_files import (
    HOURS,
    SPECIAL_HOURS,
    TIMEZONES,
    plain_columns,
    read_header,
    small_file_records,
)
from monitoring.ingest.poll_writes import insert_store_ids, insert_store_ids_keyed, staging_name, tune_session
from monitoring.ingest.results import FileLoadResult, Rejection, load_envelope
from monitoring.kernel.values import CSV_BLANKS, InvalidValue, day_of_week, local_date, local_time, store_id, zone
from monitoring.models import BusinessHours, SpecialHours, Store

#: An empty business-hours table takes the bulk path from this many shifts on.
HOURS_BULK_MIN_ROWS = 2_000
_MISSING = object()


def memo(function: Callable[[str], object]) -> Callable[[str], object]:
    """`function` of a text, remembered per text: it is a pure function of the text
    (a refusal is not remembered: it is raised again, the same)."""
    cache: dict[str, object] = {}

    def read(text: str) -> object:
        value = cache.get(text, _MISSING)
        if value is _MISSING:
            value = cache[text] = function(text)
        return value

    return read


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: reading a file makes a tuple or list per
    row, and each allocation burst would start a collection that walks them all (a
    third of the time of a 100,000-row file). Nothing read here forms a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def valid_texts(column: list[str], check: Callable[[str], object]) -> dict[str, object] | None:
    """{text: value} of each distinct text of a column, by `check` (a `memo`); None if
    `check` refuses one of them."""
    try:
        return {text: check(text) for text in set(column)}
    except InvalidValue:
        return None


def checked_rows(
    header, load, checks: tuple[tuple[int, Callable[[str], object]], ...], *, with_lines: bool = False
) -> list[tuple]:
    """The values of every valid row, in line order: cell `at` read by `check`, for each
    (at, check) of `checks`, the store id first (`with_lines`: after the row's line
    number). When every line is plain, each distinct text of a column is checked once;
    otherwise (or when some text is refused) row by row, and a row with a refused value
    is rejected with its line, field and reason (its store id kept when that one was
    valid)."""
    columns = plain_columns(header, load.result, load.progress)
    if columns is not None:
        found = [valid_texts(columns[at], check) for at, check in checks]
        if all(values is not None for values in found):
            cells = [map(values.__getitem__, columns[at]) for (at, _), values in zip(checks, found)]
            if with_lines:
                cells.insert(0, range(2, len(columns[0]) + 2))  # the header is line 1
            return list(zip(*cells))
    records = (
        small_file_records(header, load.rejects, load.result, load.progress) if columns is None
        else ((index, ",".join(fields), fields) for index, fields in enumerate(zip(*columns), 2))
    )
    rows = []
    for line_no, raw, fields in records:
        row: list[object] = []
        try:
            for at, check in checks:
                row.append(check(fields[at]))
        except InvalidValue as error:
            load.rejects.add(Rejection(header.path.name, line_no, error.field, error.reason, raw), row[0] if row else None)
            continue
        rows.append((line_no, *row) if with_lines else tuple(row))
    return rows


def load_business_hours_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a business-hours file: for every store with a valid row, the file's
    shifts replace the stored ones (see docs/loading.md)."""
    header = read_header(path=path, kind=HOURS)
    pos = header.positions
    at_sid, at_day, at_start, at_end = pos["store_id"], pos["day"], pos["start_time_local"], pos["end_time_local"]
    day_field = header.names[at_day] or "day"
    sid_of = memo(lambda text: store_id(text, trim=True))
    day_of = memo(lambda text: day_of_week(text, trim=True, field=day_field))
    start_of = memo(lambda text: local_time(text, end=False, trim=True, field="start_time_local"))
    end_of = memo(lambda text: local_time(text, end=True, trim=True, field="end_time_local"))
    with gc_paused(), load_envelope(kind=HOURS, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink, timings = load.result, load.rejects, load.result.timings
        t0 = time_module.perf_counter()
        rows = checked_rows(header, load, ((at_sid, sid_of), (at_day, day_of), (at_start, start_of), (at_end, end_of)))
        shifts = dict.fromkeys(rows)  # in the order of their first line
        result.superseded += len(rows) - len(shifts)
        timings["read"] = time_module.perf_counter() - t0
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            hours, store = BusinessHours._meta.db_table, Store._meta.db_table
            # Before any store is inserted: dropping the foreign key alters the store
            # table too, which PostgreSQL refuses while it has pending trigger events.
            bulk = bulk_path.prepare(cursor, timings, hours) if len(shifts) >= HOURS_BULK_MIN_ROWS else None
            t0 = time_module.perf_counter()
            store_ids = {sid for sid, *_ in shifts} | sink.store_ids
            if bulk is not None:
                pks, result.stores_created = insert_store_ids_keyed(cursor, store_ids)
            else:
                result.stores_created = insert_store_ids(cursor, store_ids)
            timings["stores"] = time_module.perf_counter() - t0
            if bulk is not None:
                # The empty table: the shifts straight in, by store, day and start.
                t0 = time_module.perf_counter()
                data = _shift_rows(shifts, pks)
                timings["bulk_rows"] = time_module.perf_counter() - t0
                t0 = time_module.perf_counter()
                cursor.copy_expert(
                    f"COPY {hours} (store_id, day_of_week, start_time_local, end_time_local)"
                    " FROM STDIN WITH (FORMAT binary)",
                    io.BytesIO(data),
                )
                result.loaded = cursor.rowcount
                timings["bulk_copy"] = time_module.perf_counter() - t0
                bulk_path.rebuild(cursor, hours, bulk, timings)
            else:
                t0 = time_module.perf_counter()
                staging = staging_name("hours")
                cursor.execute(
                    f"CREATE TEMP TABLE {staging} (sid text, day smallint, start_time time, end_time time)"
                    " ON COMMIT DROP"
                )
                _copy_shifts(cursor, staging, ("sid", "day", "start_time", "end_time"), shifts, _text)
                cursor.execute(
                    f"DELETE FROM {hours} h USING {store} s"
                    f" WHERE h.store_id = s.id AND s.store_id IN (SELECT sid FROM {staging})"
                    f" AND NOT EXISTS (SELECT 1 FROM {staging} n WHERE n.sid = s.store_id AND n.day = h.day_of_week"
                    f" AND n.start_time = h.start_time_local AND n.end_time = h.end_time_local)"
                )
                result.removed = cursor.rowcount
                cursor.execute(
                    f"INSERT INTO {hours} (store_id, day_of_week, start_time_local, end_time_local)"
                    f" SELECT s.id, n.day, n.start_time, n.end_time FROM {staging} n JOIN {store} s ON s.store_id = n.sid"
                    f" ORDER BY s.id, n.day, n.start_time"
                    f" ON CONFLICT (store_id, day_of_week, start_time_local, end_time_local) DO NOTHING"
                )
                result.loaded = cursor.rowcount
                result.unchanged = len(shifts) - result.loaded
                cursor.execute(f"DROP TABLE {staging}")
                timings["merge"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
        timings["commit"] = time_module.perf_counter() - t0
    return load.result


_FIELD_COUNT_4 = struct.pack(">h", 4)
#: A shift's day (smallint), start and end (time: µs since midnight), each with its length.
_SHIFT = struct.Struct(">ihiqiq")


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return struct.pack(">i", len(data)) + data


def _micros(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


#: A binary COPY row of a shift: store key (bigint), day (smallint), start and end
#: (time: µs since midnight), each value after its length.
_SHIFT_ROW = np.dtype([
    ("fields", ">i2"), ("store_length", ">i4"), ("store_pk", ">i8"), ("day_length", ">i4"), ("day", ">i2"),
    ("start_length", ">i4"), ("start", ">i8"), ("end_length", ">i4"), ("end", ">i8"),
])


def _shift_rows(shifts, pks: dict[str, int]) -> bytes:
    """A binary COPY stream of the shifts (sid, day, start, end) with their stores'
    keys, ordered by store, day, start and end (built as one numpy record array)."""
    count = len(shifts)
    micros = memo(_micros)
    store_pk = np.fromiter((pks[sid] for sid, _, _, _ in shifts), np.int64, count)
    day = np.fromiter((day for _, day, _, _ in shifts), np.int16, count)
    start = np.fromiter((micros(start) for _, _, start, _ in shifts), np.int64, count)
    end = np.fromiter((micros(end) for _, _, _, end in shifts), np.int64, count)
    order = np.lexsort((end, start, day, store_pk))
    rows = np.zeros(count, _SHIFT_ROW)
    rows["fields"] = 4
    rows["store_length"], rows["start_length"], rows["end_length"], rows["day_length"] = 8, 8, 8, 2
    rows["store_pk"], rows["day"], rows["start"], rows["end"] = store_pk[order], day[order], start[order], end[order]
    return HEADER + rows.tobytes() + TRAILER


def _copy_shifts(cursor, table: str, columns: tuple[str, ...], rows, encode_store) -> int:
    """Shifts (store, day, start, end) into `table` as one binary COPY: the store
    encoded by `encode_store` (its id as text), day smallint, times as time. Each
    distinct store and (day, start, end) is encoded once. Returns the row count."""
    stores = memo(encode_store)
    shift = memo(lambda key: _SHIFT.pack(2, key[0], 8, _micros(key[1]), 8, _micros(key[2])))
    parts = [HEADER]
    for sid, day, start, end in rows:
        parts += (_FIELD_COUNT_4, stores(sid), shift((day, start, end)))
    parts.append(TRAILER)
    count = (len(parts) - 2) // 3
    if count:
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(b"".join(parts))
        )
    return count


def special_shift_times(start: object, end: object, *, trim: bool = False) -> tuple[time | None, time | None]:
    """A special-hours row's (start, end) local times by the grammar (`local_time`):
    both given, or both empty (None, None: closed all day)."""

    def empty(value: object) -> bool:
        return value is None or (isinstance(value, str) and not value.strip(CSV_BLANKS if trim else ""))

    if empty(start) and empty(end):
        return None, None
    if empty(start) or empty(end):
        missing = "start_time_local" if empty(start) else "end_time_local"
        raise InvalidValue(missing, "missing (a day closed all day leaves both times empty)")
    return (
        local_time(start, end=False, trim=trim, field="start_time_local"),
        local_time(end, end=True, trim=trim, field="end_time_local"),
    )


def load_special_hours_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a special-hours file (docs/rules.md §9): for every store and date with a valid row,
    that date's stored special rows become exactly the file's (other dates, and the
    weekly hours, untouched). A closed-all-day row next to shifts of the same store and
    date is rejected (the shifts decide the day)."""
    header = read_header(path=path, kind=SPECIAL_HOURS)
    pos = header.positions
    at_sid, at_date, at_start, at_end = pos["store_id"], pos["date"], pos["start_time_local"], pos["end_time_local"]
    sid_of = memo(lambda text: store_id(text, trim=True))
    date_of = memo(lambda text: local_date(text, trim=True, field="date"))
    times_of = memo(lambda texts: special_shift_times(*texts, trim=True))
    name = header.path.name
    with gc_paused(), load_envelope(kind=SPECIAL_HOURS, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink, timings = load.result, load.rejects, load.result.timings
        t0 = time_module.perf_counter()
        rows: dict[tuple, tuple[int, str]] = {}  # (sid, date, start, end) -> its first line and raw text
        for line_no, raw, fields in small_file_records(header, sink, result, load.progress):
            sid = None
            try:
                sid = sid_of(fields[at_sid])
                key = (sid, date_of(fields[at_date]), *times_of((fields[at_start], fields[at_end])))
            except InvalidValue as error:
                sink.add(Rejection(name, line_no, error.field, error.reason, raw), sid)
                continue
            if key in rows:
                result.superseded += 1
            else:
                rows[key] = (line_no, raw)
        open_dates = {(sid, day) for sid, day, start, _ in rows if start is not None}
        for key in [key for key in rows if key[2] is None and key[:2] in open_dates]:
            line_no, raw = rows.pop(key)
            sink.add(
                Rejection(name, line_no, "start_time_local",
                          "closed all day, but the file also has shifts for this store and date (they decide the day)",
                          raw),
                key[0],
            )
        timings["read"] = time_module.perf_counter() - t0
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            t0 = time_module.perf_counter()
            special, store = SpecialHours._meta.db_table, Store._meta.db_table
            result.stores_created = insert_store_ids(cursor, {sid for sid, *_ in rows} | sink.store_ids)
            staging = staging_name("special")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} (sid text, day date, start_time time, end_time time) ON COMMIT DROP"
            )
            copy_rows_in(cursor, staging, ("sid", "day", "start_time", "end_time"), ("text", "date", "time", "time"), rows)
            # The file is authoritative for the (store, date) pairs it names.
            cursor.execute(
                f"DELETE FROM {special} h USING {store} s"
                f" WHERE h.store_id = s.id AND (s.store_id, h.date) IN (SELECT sid, day FROM {staging})"
                f" AND NOT EXISTS (SELECT 1 FROM {staging} n WHERE n.sid = s.store_id AND n.day = h.date"
                f" AND n.start_time IS NOT DISTINCT FROM h.start_time_local"
                f" AND n.end_time IS NOT DISTINCT FROM h.end_time_local)"
            )
            result.removed = cursor.rowcount
            cursor.execute(
                f"INSERT INTO {special} (store_id, date, start_time_local, end_time_local)"
                f" SELECT s.id, n.day, n.start_time, n.end_time FROM {staging} n JOIN {store} s ON s.store_id = n.sid"
                f" ORDER BY s.id, n.day, n.start_time"
                f" ON CONFLICT (store_id, date, start_time_local, end_time_local) DO NOTHING"
            )
            result.loaded = cursor.rowcount
            result.unchanged = len(rows) - result.loaded
            cursor.execute(f"DROP TABLE {staging}")
            timings["write"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
        timings["commit"] = time_module.perf_counter() - t0
    return load.result


def load_timezones_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a time-zone file: upsert per store (the later row wins); an empty name
    is no row (the store is created, its zone left as it was)."""
    header = read_header(path=path, kind=TIMEZONES)
    pos = header.positions
    at_sid, at_zone = pos["store_id"], pos["timezone_str"]
    sid_of = memo(lambda text: store_id(text, trim=True))
    zone_of = memo(lambda text: zone(text, trim=True, empty_ok=True))
    with gc_paused(), load_envelope(kind=TIMEZONES, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink, timings = load.result, load.rejects, load.result.timings
        t0 = time_module.perf_counter()
        pairs = checked_rows(header, load, ((at_sid, sid_of), (at_zone, zone_of)))
        named = [(sid, name) for sid, name in pairs if name is not None]
        empty = {sid for sid, name in pairs if name is None}
        zones = dict(named)  # the later row wins
        result.skipped += len(pairs) - len(named)
        result.superseded += len(named) - len(zones)
        timings["read"] = time_module.perf_counter() - t0
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            store = Store._meta.db_table
            t0 = time_module.perf_counter()
            # The writer lock is held: no other transaction writes stores until commit.
            named = set(zones) | sink.store_ids | empty
            cursor.execute(f"SELECT store_id, timezone_name FROM {store} WHERE store_id = ANY(%s)", [list(named)])
            stored = dict(cursor.fetchall())
            new = sorted(named.difference(stored))
            if new:
                cursor.execute(
                    f"INSERT INTO {store} (store_id, timezone_name) SELECT * FROM unnest(%s::text[], %s::text[])",
                    [new, [zones.get(sid) for sid in new]],
                )
            changed = sorted((sid, name) for sid, name in zones.items() if sid in stored and stored[sid] != name)
            if changed:
                cursor.execute(
                    f"UPDATE {store} s SET timezone_name = n.zone FROM unnest(%s::text[], %s::text[]) n (sid, zone)"
                    f" WHERE s.store_id = n.sid",
                    [[sid for sid, _ in changed], [name for _, name in changed]],
                )
            result.stores_created = len(new)
            result.replaced = sum(1 for sid, _ in changed if stored[sid] is not None)
            result.loaded = len(changed) - result.replaced + sum(1 for sid in new if sid in zones)
            result.unchanged = len(zones) - result.loaded - result.replaced
            timings["write"] = time_module.perf_counter() - t0
            t0 = time_module.perf_counter()
        timings["commit"] = time_module.perf_counter() - t0
    return load.result

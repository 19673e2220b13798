"""The small files: business hours (authoritative per store: a store's shifts become
exactly the file's) and time zones (upsert per store). Each row is validated alone
(`values`); the valid ones go to a staging table as binary COPY (any text
round-trips) and are merged in one statement, in one transaction."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from django.db import connection, transaction

from monitoring.data_version import writer_lock
from monitoring.ingest.copy_format import copy_rows_in
from monitoring.ingest.csv_files import HOURS, TIMEZONES, read_header, small_file_records
from monitoring.ingest.poll_writes import insert_store_ids, staging_name, tune_session
from monitoring.ingest.results import FileLoadResult, Rejection, load_envelope
from monitoring.ingest.values import InvalidValue, day_of_week, local_time, store_id, zone
from monitoring.models import BusinessHours, Store


def load_business_hours_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a business-hours file: for every store with a valid row, the file's
    shifts replace the stored ones (see docs/loading.md)."""
    header = read_header(path=path, kind=HOURS)
    pos = header.positions
    day_field = header.names[pos["day"]] or "day"
    with load_envelope(kind=HOURS, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink = load.result, load.rejects
        shifts: dict[tuple[str, int, time, time], int] = {}
        for line_no, raw, fields in small_file_records(header, sink, result, load.progress):
            sid = None
            try:
                sid = store_id(fields[pos["store_id"]], trim=True)
                day = day_of_week(fields[pos["day"]], trim=True, field=day_field)
                start = local_time(fields[pos["start_time_local"]], end=False, trim=True, field="start_time_local")
                end = local_time(fields[pos["end_time_local"]], end=True, trim=True, field="end_time_local")
            except InvalidValue as error:
                sink.add(Rejection(header.path.name, line_no, error.field, error.reason, raw), sid)
                continue
            key = (sid, day, start, end)
            if key in shifts:
                result.superseded += 1
            shifts[key] = line_no
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            staging = staging_name("hours")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} (sid text, day smallint, start_time time, end_time time)"
                " ON COMMIT DROP"
            )
            copy_rows_in(
                cursor, staging, ("sid", "day", "start_time", "end_time"), ("text", "smallint", "time", "time"),
                shifts.keys(),
            )
            result.stores_created = insert_store_ids(cursor, {sid for sid, *_ in shifts} | sink.store_ids)
            hours, store = BusinessHours._meta.db_table, Store._meta.db_table
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
    return load.result


def load_timezones_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a time-zone file: upsert per store (the later row wins); an empty name
    is no row (the store is created, its zone left as it was)."""
    header = read_header(path=path, kind=TIMEZONES)
    pos = header.positions
    with load_envelope(kind=TIMEZONES, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        result, sink = load.result, load.rejects
        zones: dict[str, str] = {}
        empty: set[str] = set()
        for line_no, raw, fields in small_file_records(header, sink, result, load.progress):
            sid = None
            try:
                sid = store_id(fields[pos["store_id"]], trim=True)
                name = zone(fields[pos["timezone_str"]], trim=True, empty_ok=True)
            except InvalidValue as error:
                sink.add(Rejection(header.path.name, line_no, error.field, error.reason, raw), sid)
                continue
            if name is None:
                result.skipped += 1
                empty.add(sid)
                continue
            if sid in zones:
                result.superseded += 1
            zones[sid] = name
        load.progress.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            writer_lock(cursor)
            staging = staging_name("zones")
            cursor.execute(f"CREATE TEMP TABLE {staging} (sid text PRIMARY KEY, zone text) ON COMMIT DROP")
            copy_rows_in(cursor, staging, ("sid", "zone"), ("text", "text"), zones.items())
            result.stores_created = insert_store_ids(cursor, set(zones) | sink.store_ids | empty)
            store = Store._meta.db_table
            cursor.execute(
                f"WITH changed AS ("
                f" UPDATE {store} s SET timezone_name = n.zone"
                f" FROM (SELECT n.sid, n.zone, o.timezone_name AS old FROM {staging} n"
                f" JOIN {store} o ON o.store_id = n.sid) n"
                f" WHERE s.store_id = n.sid AND s.timezone_name IS DISTINCT FROM n.zone"
                f" RETURNING n.old IS NULL AS was_unset)"
                f" SELECT count(*) FILTER (WHERE was_unset), count(*) FILTER (WHERE NOT was_unset) FROM changed"
            )
            result.loaded, result.replaced = cursor.fetchone()
            result.unchanged = len(zones) - result.loaded - result.replaced
            cursor.execute(f"DROP TABLE {staging}")
    return load.result

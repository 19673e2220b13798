"""CSV loading (SPEC §1–§2) against the real PostgreSQL, through the real code paths."""

import csv
import io
import json
import os
import random
import re
import subprocess
import sys
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.stores.access import EVERYTHING
from monitoring.ingest import (
    BULK_MIN_BYTES,
    LoadError,
    find_input_files,
    load_business_hours_file,
    load_files,
    load_special_hours_file,
    load_status_file,
    load_timezones_file,
    polls_record,
)
from monitoring.ingest import poll_arrays, status_file
from monitoring.kernel import values
from monitoring.models import BusinessHours, SpecialHours, StatusPoll, Store
from monitoring.stores.partitions import partition_name, week_start
from monitoring.ingest.csv_files import STRAY_QUOTE, UNTERMINATED_QUOTE
from monitoring.ingest.fast_parse import StoreIdCodes, parse_lines
from tests.partition_plans import indexes_used

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
T0 = datetime(2023, 1, 22, 12, 9, 39, 388884, tzinfo=UTC)


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def polls() -> list[tuple[str, datetime, bool]]:
    return sorted(StatusPoll.objects.values_list("store__store_id", "timestamp_utc", "is_active"))


def poll_rows_with_versions() -> list[tuple]:
    """The stored polls with their row versions (xmin): unchanged rows were not rewritten."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT store_id, timestamp_utc, is_active, xmin::text FROM monitoring_statuspoll")
        return sorted(cursor.fetchall())


def hours() -> list[tuple[str, int, time, time]]:
    return sorted(
        BusinessHours.objects.values_list("store__store_id", "day_of_week", "start_time_local", "end_time_local")
    )


def zones() -> dict[str, str | None]:
    return dict(Store.objects.values_list("store_id", "timezone_name"))


def rejections(result) -> list[tuple[int, str]]:
    return [(r.line, r.field) for r in result.rejections]


# --------------------------------------------------------------------------- status: accepted forms

PLAIN = "store_id,timestamp_utc,status\n1,2023-01-22 12:09:39.388884 UTC,active\n2,2023-01-22 13:00:00 UTC,inactive\n"
EXPECTED = [
    ("1", T0, True),
    ("2", datetime(2023, 1, 22, 13, tzinfo=UTC), False),
]
VARIANTS = {
    "plain": PLAIN,
    "status before timestamp": "store_id,status,timestamp_utc\n1,active,2023-01-22 12:09:39.388884 UTC\n"
    "2,inactive,2023-01-22 13:00:00 UTC\n",
    "columns in another order": "status,store_id,timestamp_utc\nactive,1,2023-01-22 12:09:39.388884 UTC\n"
    "inactive,2,2023-01-22 13:00:00 UTC\n",
    "BOM": "\ufeff" + PLAIN,
    "spaces around headers and values": " store_id , timestamp_utc ,\tstatus \n 1 , 2023-01-22 12:09:39.388884 UTC ,active\n"
    "2,2023-01-22 13:00:00 UTC , inactive \n",
    "CRLF": PLAIN.replace("\n", "\r\n"),
    "no final newline": PLAIN.rstrip("\n"),
    "CRLF and no final newline": PLAIN.replace("\n", "\r\n").rstrip("\r\n"),
    "mixed line ends": "store_id,timestamp_utc,status\r\n1,2023-01-22 12:09:39.388884 UTC,active\n"
    "2,2023-01-22 13:00:00 UTC,inactive\r\n",
    "quoted values": 'store_id,timestamp_utc,status\n"1","2023-01-22 12:09:39.388884 UTC","active"\n'
    '2,"2023-01-22 13:00:00 UTC",inactive\n',
    "status in any case": "store_id,timestamp_utc,status\n1,2023-01-22 12:09:39.388884 UTC,ACTIVE\n"
    "2,2023-01-22 13:00:00 UTC,InActive\n",
    "header in another case": "Store_ID,TIMESTAMP_UTC,Status\n1,2023-01-22 12:09:39.388884 UTC,active\n"
    "2,2023-01-22 13:00:00 UTC,inactive\n",
    "an extra column": "store_id,timestamp_utc,status,note\n1,2023-01-22 12:09:39.388884 UTC,active,x\n"
    "2,2023-01-22 13:00:00 UTC,inactive,\n",
    "ISO 8601": "store_id,timestamp_utc,status\n1,2023-01-22T12:09:39.388884Z,active\n"
    "2,2023-01-22T14:00:00+01:00,inactive\n",
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_status_file_forms_all_load_the_same(db, tmp_path, variant):
    result = load_status_file(path=write(tmp_path, "store_status.csv", VARIANTS[variant]))
    assert polls() == EXPECTED
    assert (result.rows, result.loaded, result.rejected, result.stores_created) == (2, 2, 0, 2)


TIMESTAMPS = {
    "2023-01-22 12:09:39 UTC": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22 12:09:39.3 UTC": datetime(2023, 1, 22, 12, 9, 39, 300000, tzinfo=UTC),
    "2023-01-22 12:09:39.38 UTC": datetime(2023, 1, 22, 12, 9, 39, 380000, tzinfo=UTC),
    "2023-01-22 12:09:39.388 UTC": datetime(2023, 1, 22, 12, 9, 39, 388000, tzinfo=UTC),
    "2023-01-22 12:09:39.3888 UTC": datetime(2023, 1, 22, 12, 9, 39, 388800, tzinfo=UTC),
    "2023-01-22 12:09:39.38888 UTC": datetime(2023, 1, 22, 12, 9, 39, 388880, tzinfo=UTC),
    "2023-01-22 12:09:39.388884 UTC": T0,
    "2023-01-22 12:09:39.000001 UTC": datetime(2023, 1, 22, 12, 9, 39, 1, tzinfo=UTC),
    "2023-01-22T12:09:39Z": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22T12:09:39.5Z": datetime(2023, 1, 22, 12, 9, 39, 500000, tzinfo=UTC),
    "2023-01-22T12:09:39+00:00": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22 12:09:39+05:30": datetime(2023, 1, 22, 6, 39, 39, tzinfo=UTC),
    "2023-01-22T12:09:39.25-08:00": datetime(2023, 1, 22, 20, 9, 39, 250000, tzinfo=UTC),
    "2023-01-22T12:09:39": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22 12:09:39 utc": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22 12:09:39 GMT": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22t12:09:39z": datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC),
    "2023-01-22 12:09:39 +0530": datetime(2023, 1, 22, 6, 39, 39, tzinfo=UTC),
    "2023-01-22 12:09:39-08": datetime(2023, 1, 22, 20, 9, 39, tzinfo=UTC),
    "2023-01-22 12:09 UTC": datetime(2023, 1, 22, 12, 9, tzinfo=UTC),
    "2024-02-29 00:00:00 UTC": datetime(2024, 2, 29, tzinfo=UTC),
    "2000-02-29 23:59:59.999999 UTC": datetime(2000, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
    "2000-01-01 00:00:00 UTC": datetime(2000, 1, 1, tzinfo=UTC),
}


@pytest.mark.parametrize("padded", [False, True], ids=["as is", "padded with spaces"])
def test_timestamp_forms(db, tmp_path, padded):
    """Padded values take the Python path, the others mostly the COPY fast path: same result."""
    lines = ["store_id,timestamp_utc,status"]
    for index, text in enumerate(TIMESTAMPS):
        lines.append(f"s{index},{' ' + text + ' ' if padded else text},active")
    result = load_status_file(path=write(tmp_path, "store_status.csv", "\n".join(lines) + "\n"))
    assert result.rejected == 0, result.rejections
    stored = {store: when for store, when, _ in polls()}
    assert stored == {f"s{index}": when for index, when in enumerate(TIMESTAMPS.values())}


def test_store_ids_are_opaque_text(db, tmp_path):
    ids = ["9222367421889482050", "54515546588432327", "00042", "1e5", "9.2e18", "e5b3c3a4-53c1-4c0e-9b73-0f2e3c8f1a11"]
    body = "".join(f"{sid},2023-01-22 12:00:00 UTC,active\n" for sid in ids)
    load_status_file(path=write(tmp_path, "s.csv", "store_id,timestamp_utc,status\n" + body))
    assert sorted(Store.objects.values_list("store_id", flat=True)) == sorted(ids)


# --------------------------------------------------------------------------- status: rejections

BAD_STATUS_FILE = (
    b"store_id,timestamp_utc,status\n"  # 1
    b"a,2023-01-22 12:00:00 UTC,active\n"  # 2 ok
    b"b,2023-01-22 12:00:00 UTC,sleeping\n"  # 3 unknown status
    b"c,yesterday,active\n"  # 4 unparsable timestamp
    b"d,2023-02-29 12:00:00 UTC,active\n"  # 5 not a leap year
    b"e,2023-01-22 24:00:00 UTC,active\n"  # 6 hour out of range
    b",2023-01-22 12:00:00 UTC,active\n"  # 7 missing store_id
    b"g,,active\n"  # 8 missing timestamp
    b"h,2023-01-22 12:00:00 UTC,\n"  # 9 missing status
    b"i,2023-01-22 12:00:00 UTC\n"  # 10 too few fields
    b"j,2023-01-22 12:00:00 UTC,active,extra\n"  # 11 too many fields
    b"k\xff,2023-01-22 12:00:00 UTC,active\n"  # 12 invalid UTF-8
    b"l\x00,2023-01-22 12:00:00 UTC,active\n"  # 13 NUL
    b"\n"  # 14 blank: skipped
    b'"m\nn",2023-01-22 12:00:00 UTC,active\n'  # 15 unterminated quote, 16 misplaced quote
    b'o,2023-01-22 12:00:00 UTC,"act\nive"\n'  # 17 unterminated quote, 18 misplaced quote
    b"p,2023-01-22 12:00:60 UTC,active\n"  # 19 leap second
    b"q,2023-13-01 12:00:00 UTC,active\n"  # 20 month 13
    b"r,1899-12-31 12:00:00 UTC,active\n"  # 21 year out of range
    b"s,2023-01-22 12:00:00.1234567 UTC,active\n"  # 22 seven fraction digits
    b"t,2023-01-22 12:00:00 UTC,active\n"  # 23 ok
    b'u,2023-01-22 12:00:00 UTC,"active\n'  # 24 unterminated quote: this line only
    b"v,2023-01-22 12:00:00 UTC,active\n"  # 25 ok
)


def test_bad_rows_are_rejected_with_their_line_and_reason(db, tmp_path):
    rejects = tmp_path / "out" / "store_status.rejects.csv"
    result = load_status_file(path=write(tmp_path, "store_status.csv", BAD_STATUS_FILE), rejects_path=rejects)
    assert rejections(result) == [
        (3, "status"),
        (4, "timestamp_utc"),
        (5, "timestamp_utc"),
        (6, "timestamp_utc"),
        (7, "store_id"),
        (8, "timestamp_utc"),
        (9, "status"),
        (10, ""),
        (11, ""),
        (12, ""),
        (13, ""),
        (15, ""),
        (16, ""),
        (17, ""),
        (18, ""),
        (19, "timestamp_utc"),
        (20, "timestamp_utc"),
        (21, "timestamp_utc"),
        (22, "timestamp_utc"),
        (24, ""),
    ]
    reasons = {r.line: r.reason for r in result.rejections}
    assert reasons[3] == "unknown status 'sleeping' (expected active or inactive)"
    assert reasons[4].startswith("unparsable timestamp_utc 'yesterday' (write e.g. 2023-01-25T18:13:22Z")
    assert reasons[5] == "timestamp_utc out of range '2023-02-29 12:00:00 UTC' (no such date or time)"
    assert reasons[15] == reasons[17] == reasons[24] == UNTERMINATED_QUOTE
    assert reasons[16] == reasons[18] == STRAY_QUOTE
    assert reasons[21] == "timestamp_utc 1899-12-31T12:00:00+00:00 is before 2000"
    assert reasons[7] == "missing store_id"
    assert reasons[8] == "missing timestamp_utc"
    assert reasons[9] == "missing status"
    assert reasons[10] == "expected 3 fields, found 2"
    assert reasons[11] == "expected 3 fields, found 4"
    assert reasons[12].startswith("invalid UTF-8")
    assert reasons[13] == "NUL character in the row"
    assert all(r.file == "store_status.csv" for r in result.rejections)
    assert [p[0] for p in polls()] == ["a", "t", "v"]
    assert result.rejected == 20 and result.skipped == 1 and result.loaded == 3
    assert result.rows == result.loaded + result.skipped + result.rejected
    # Stores of rows rejected for another field still exist (they appear in the input).
    assert {"b", "c", "d", "h"} <= set(Store.objects.values_list("store_id", flat=True))
    with rejects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["line"]) for row in rows] == [line for line, _ in rejections(result)]
    assert rows[0] == {
        "file": "store_status.csv",
        "line": "3",
        "field": "status",
        "reason": "unknown status 'sleeping' (expected active or inactive)",
        "raw": "b,2023-01-22 12:00:00 UTC,sleeping",
    }


def test_no_rejects_file_when_nothing_is_rejected(db, tmp_path):
    rejects = write(tmp_path, "store_status.rejects.csv", "stale")
    result = load_status_file(path=write(tmp_path, "store_status.csv", PLAIN), rejects_path=rejects)
    assert result.rejects_path is None and not rejects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"store_id,status\n1,active\n", "missing required column 'timestamp_utc'"),
        (b"store_id,timestamp_utc,status,status\n", "column 'status' appears twice"),
        (b"store_id,timestamp_utc,st\xffatus\n", "header line is not valid UTF-8"),
        (b"store_id,timestamp_utc,status\r1,2023-01-22 12:00:00 UTC,active\r", "lone CR"),
        (b'store_id,"timestamp_utc,status\n', "unreadable header line"),
    ],
)
def test_a_bad_header_rejects_the_whole_file(db, tmp_path, content, message):
    path = write(tmp_path, "store_status.csv", content)
    with pytest.raises(LoadError) as error:
        load_status_file(path=path)
    assert message in str(error.value) and str(path) in str(error.value)
    assert not Store.objects.exists()


def test_missing_file(db, tmp_path):
    with pytest.raises(LoadError, match="cannot read"):
        load_status_file(path=tmp_path / "nope.csv")


# --------------------------------------------------------------------------- status: upserts


def test_reloading_the_same_file_changes_nothing(db, tmp_path):
    path = write(tmp_path, "store_status.csv", BAD_STATUS_FILE)
    first = load_status_file(path=path)
    before = poll_rows_with_versions(), sorted(Store.objects.values_list("id", "store_id", "timezone_name"))
    again = load_status_file(path=path)
    assert (poll_rows_with_versions(), sorted(Store.objects.values_list("id", "store_id", "timezone_name"))) == before
    assert (again.loaded, again.replaced, again.stores_created) == (0, 0, 0)
    assert again.unchanged == first.loaded and again.rejected == first.rejected


def test_a_later_poll_replaces_a_stored_one(db, tmp_path):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    second = write(
        tmp_path,
        "b.csv",
        "store_id,status,timestamp_utc\n"
        "1,inactive,2023-01-22T12:09:39.388884Z\n"  # same instant as stored, status changed
        "2,inactive,2023-01-22 13:00:00 UTC\n"  # identical
        "3,active,2023-01-22 13:00:00 UTC\n",  # new
    )
    result = load_status_file(path=second)
    assert (result.loaded, result.replaced, result.unchanged) == (1, 1, 1)
    assert polls() == [("1", T0, False), ("2", EXPECTED[1][1], False), ("3", EXPECTED[1][1], True)]


def test_within_a_file_the_later_line_wins(db, tmp_path):
    content = (
        "store_id,timestamp_utc,status\n"
        "1,2023-01-22 12:00:00 UTC,active\n"
        "1,2023-01-22T12:00:00Z,inactive\n"  # same instant, later line: wins
        "2,2023-01-22 12:00:00 UTC,inactive\n"
        "2,2023-01-22 12:00:00 UTC,active\n"
        "2,2023-01-22 12:00:00 UTC,inactive\n"
    )
    result = load_status_file(path=write(tmp_path, "s.csv", content))
    noon = datetime(2023, 1, 22, 12, tzinfo=UTC)
    assert polls() == [("1", noon, False), ("2", noon, False)]
    assert (result.loaded, result.superseded) == (2, 3)
    # Stored = inactive; the file says active then inactive: the later (= stored) wins.
    again = load_status_file(path=write(tmp_path, "t.csv", content))
    assert polls() == [("1", noon, False), ("2", noon, False)]
    assert (again.loaded, again.replaced, again.unchanged, again.superseded) == (0, 0, 2, 3)


def _big_status_file(
    directory: Path, rows: int, *, duplicate: bool = False, shuffled_from: int | None = None
) -> tuple[Path, set]:
    start = datetime(2023, 1, 18, tzinfo=UTC)
    lines = ["store_id,timestamp_utc,status"]
    expected = {}
    order = list(range(rows))
    if shuffled_from is not None:  # no time order from that row on, as in the public release
        rest = order[shuffled_from:]
        random.Random(7).shuffle(rest)
        order[shuffled_from:] = rest
    for i in order:
        store = f"store-{i % 97}"
        when = start + timedelta(minutes=i, microseconds=i)
        active = i % 5 != 0
        lines.append(f"{store},{when:%Y-%m-%d %H:%M:%S.%f} UTC,{'active' if active else 'inactive'}")
        expected[(store, when)] = active
    if duplicate:  # the first key again, status flipped, at the end: it wins
        store, when = "store-0", start
        lines.append(f"{store},{when:%Y-%m-%dT%H:%M:%S}Z,active")
        expected[(store, when)] = True
    path = write(directory, "store_status.csv", "\n".join(lines) + "\n")
    return path, {(store, when, active) for (store, when), active in expected.items()}


def _poll_table_schema() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monitoring_statuspoll'"
            " UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'monitoring_statuspoll'::regclass ORDER BY 1"
        )
        return cursor.fetchall()


def _stored_in_time_order() -> bool:
    """Whether the poll table's rows, in their physical order, are in time order: within
    each weekly partition (a ctid is a place in one partition; the BRIN index of each
    partition needs its own rows in order), none left in the DEFAULT partition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(later) AND NOT EXISTS (SELECT 1 FROM monitoring_statuspoll_default)"
            " FROM (SELECT timestamp_utc >= lag(timestamp_utc, 1, '-infinity')"
            " OVER (PARTITION BY tableoid ORDER BY ctid) AS later FROM monitoring_statuspoll) rows"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("order", ["in time order", "shuffled", "shuffled after the first chunk"])
@pytest.mark.parametrize("duplicate", [False, True], ids=["distinct keys", "a key twice"])
def test_bulk_path_into_an_empty_table(db, tmp_path, monkeypatch, duplicate, order):
    schema = _poll_table_schema()
    rows = BULK_MIN_BYTES // 40
    shuffled_from = {"in time order": None, "shuffled": 0, "shuffled after the first chunk": rows // 4}[order]
    path, expected = _big_status_file(tmp_path, rows, duplicate=duplicate, shuffled_from=shuffled_from)
    if order == "shuffled after the first chunk":
        monkeypatch.setattr(status_file, "CHUNK_BYTES", 64 << 10)  # a first chunk of ~1,300 rows in order
    monkeypatch.setattr(poll_arrays, "SORTED_ROWS_PER_READ", 1_000)  # sorted rows go in several slices
    result = load_status_file(path=path)
    assert "bulk_copy" in result.timings  # the path this test is about
    assert set(polls()) == expected
    assert (result.loaded, result.superseded) == (len(expected), 1 if duplicate else 0)
    assert _poll_table_schema() == schema
    # Stored in time order (the BRIN index's premise). A file in it, or out of it from
    # its first chunk, is written once; one found out of it later is written again.
    assert _stored_in_time_order()
    if not duplicate:
        assert ("time_order" in result.timings) is (order == "shuffled after the first chunk")
    again = load_status_file(path=path)
    assert (again.loaded, again.replaced, again.unchanged) == (0, 0, len(expected))


def test_a_merged_file_leaves_the_time_index_summarized(db, tmp_path):
    """New polls merged into a loaded table fill new BRIN ranges; summarized at once, a
    query for the latest minute reads a range or two, not every page the file added."""
    load_status_file(path=_big_status_file(tmp_path, 2_000)[0])
    later = datetime(2023, 2, 1, tzinfo=UTC)
    lines = ["store_id,timestamp_utc,status"] + [
        f"store-{i % 97},{later + timedelta(seconds=i):%Y-%m-%d %H:%M:%S} UTC,active" for i in range(30_000)
    ]
    result = load_status_file(path=write(tmp_path, "next.csv", "\n".join(lines) + "\n"))
    assert "merge" in result.timings and result.loaded == 30_000  # the merge path
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_statuspoll")  # as autovacuum would after such a file
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT max(timestamp_utc) FROM monitoring_statuspoll"
            " WHERE timestamp_utc >= %s",
            [later + timedelta(seconds=29_940)],
        )
        plan = json.dumps(cursor.fetchone()[0])
    pages_read = sum(int(n) for n in re.findall(r'"(?:Lossy|Exact) Heap Blocks": (\d+)', plan))
    # The week's partition's copy of the BRIN index (the one partition that can hold it).
    assert indexes_used(plan, "status_poll_time_brin") == {partition_name(week=week_start(later))}
    assert 0 < pages_read <= 64  # the file added ~170 pages


# --------------------------------------------------------------------------- atomicity


def test_a_file_missing_a_column_leaves_stored_data_intact(db, tmp_path):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    before = poll_rows_with_versions()
    with pytest.raises(LoadError):
        load_status_file(path=write(tmp_path, "b.csv", "store_id,timestamp\n1,2023-01-22 12:00:00 UTC\n"))
    assert poll_rows_with_versions() == before


TRAP_TIME = "2001-02-03 04:05:06"


@pytest.fixture
def poll_trap():
    """A real trigger that fails any write of a poll at TRAP_TIME (immediate or at
    commit), to make a load fail half-way."""
    def install(*, deferred: bool):
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION test_poll_trap() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN IF NEW.timestamp_utc = '{TRAP_TIME}+00'"
                " THEN RAISE EXCEPTION 'trapped poll'; END IF; RETURN NEW; END $$"
            )
            timing = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER test_poll_trap AFTER INSERT OR UPDATE ON monitoring_statuspoll"
                f" {timing} FOR EACH ROW EXECUTE FUNCTION test_poll_trap()"
            )

    yield install
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_poll_trap ON monitoring_statuspoll")
        cursor.execute("DROP FUNCTION IF EXISTS test_poll_trap()")


def test_a_failure_mid_load_leaves_stored_data_intact(db, tmp_path, poll_trap):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    load_timezones_file(path=write(tmp_path, "tz.csv", "store_id,timezone_str\n1,Asia/Tokyo\n"))
    before = poll_rows_with_versions(), zones()
    poll_trap(deferred=False)
    content = PLAIN.replace("active\n", "inactive\n", 1) + f"new,2023-01-22 12:00:00 UTC,active\ntrap,{TRAP_TIME} UTC,active\n"
    with pytest.raises(Exception, match="trapped poll"):
        load_status_file(path=write(tmp_path, "b.csv", content))
    assert (poll_rows_with_versions(), zones()) == before  # no poll changed, no store created


@pytest.mark.django_db(transaction=True)
def test_a_failure_at_commit_leaves_stored_data_intact(tmp_path, poll_trap):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    before = poll_rows_with_versions(), zones()
    poll_trap(deferred=True)
    content = f"store_id,timestamp_utc,status\n1,2023-01-22 12:09:39.388884 UTC,inactive\ntrap,{TRAP_TIME} UTC,active\n"
    with pytest.raises(Exception, match="trapped poll"):
        load_status_file(path=write(tmp_path, "b.csv", content))
    assert (poll_rows_with_versions(), zones()) == before
    with connection.cursor() as cursor:  # no staging table left behind
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'monitoring_load_%'")
        assert cursor.fetchone()[0] == 0


# --------------------------------------------------------------------------- business hours

HOURS_FILE = (
    "store_id,dayOfWeek,start_time_local,end_time_local\n"
    "1,0,09:00,17:00\n"  # 2
    "1,1,09:00:00,12:00:00\n"  # 3 split shift
    "1,1,13:30:00.500000,24:00\n"  # 4 … until the end of the day
    "1,2,22:00:00,02:00:00\n"  # 5 past midnight
    "1,3,00:00,24:00:00\n"  # 6 the whole day
    "2,6,7:00,23:59:59\n"  # 7 one-digit hour
    "3,7,09:00,17:00\n"  # 8 day out of range
    "3,Mon,09:00,17:00\n"  # 9 not a number
    "3,1,24:00,17:00\n"  # 10 24:00 as a start
    "3,1,9h,17:00\n"  # 11 unparsable
    "3,1,09:00,25:00\n"  # 12 out of range
    "3,,09:00,17:00\n"  # 13 missing day
    "1,0,09:00,17:00\n"  # 14 exact duplicate of line 2
)


def test_business_hours_file(db, tmp_path):
    result = load_business_hours_file(path=write(tmp_path, "menu_hours.csv", HOURS_FILE))
    assert hours() == [
        ("1", 0, time(9), time(17)),
        ("1", 1, time(9), time(12)),
        ("1", 1, time(13, 30, 0, 500000), time(0)),
        ("1", 2, time(22), time(2)),
        ("1", 3, time(0), time(0)),
        ("2", 6, time(7), time(23, 59, 59)),
    ]
    assert rejections(result) == [
        (8, "dayOfWeek"),
        (9, "dayOfWeek"),
        (10, "start_time_local"),
        (11, "start_time_local"),
        (12, "end_time_local"),
        (13, "dayOfWeek"),
    ]
    assert result.rejections[2].reason == "24:00 is only allowed as an end time"
    assert (result.rows, result.loaded, result.superseded, result.rejected) == (13, 6, 1, 6)
    assert set(zones()) == {"1", "2", "3"}  # store 3 exists though all its rows were rejected


def test_business_hours_day_column_may_be_named_day(db, tmp_path):
    load_business_hours_file(path=write(tmp_path, "h.csv", "store_id,day,start_time_local,end_time_local\nx,4,00:00:00,00:10:00\n"))
    assert hours() == [("x", 4, time(0), time(0, 10))]


def test_business_hours_file_is_authoritative_per_store(db, tmp_path):
    load_business_hours_file(path=write(tmp_path, "a.csv", HOURS_FILE))
    ids_before = dict(BusinessHours.objects.values_list("store__store_id", "id").filter(store__store_id="2"))
    second = write(
        tmp_path,
        "b.csv",
        "store_id,day,start_time_local,end_time_local\n"
        "1,0,09:00,17:00\n"  # kept
        "1,4,10:00,18:00\n"  # new; store 1's other shifts go
        "3,bad,09:00,17:00\n",  # store 3: nothing valid, nothing replaced
    )
    result = load_business_hours_file(path=second)
    assert [h for h in hours() if h[0] == "1"] == [("1", 0, time(9), time(17)), ("1", 4, time(10), time(18))]
    assert [h for h in hours() if h[0] == "2"] == [("2", 6, time(7), time(23, 59, 59))]  # not in the file
    assert dict(BusinessHours.objects.values_list("store__store_id", "id").filter(store__store_id="2")) == ids_before
    assert (result.loaded, result.unchanged, result.removed, result.rejected) == (1, 1, 4, 1)
    before = sorted(BusinessHours.objects.values_list("id", "store_id", "day_of_week", "start_time_local", "end_time_local"))
    again = load_business_hours_file(path=second)
    assert (again.loaded, again.removed, again.unchanged) == (0, 0, 2)
    assert sorted(BusinessHours.objects.values_list("id", "store_id", "day_of_week", "start_time_local", "end_time_local")) == before


# --------------------------------------------------------------------------- special hours (SPEC §9)


def specials() -> list[tuple]:
    return sorted(
        SpecialHours.objects.values_list("store__store_id", "date", "start_time_local", "end_time_local"),
        key=lambda row: (row[0], row[1], row[2] or time(0), row[3] or time(0)),
    )


SPECIAL_FILE = (
    "\ufeffstore_id , date,start_time_local,end_time_local\r\n"
    "1,2023-12-25,,\r\n"  # 2 closed all day
    "1,2023-12-24,10:00,14:00\r\n"  # 3 short day
    "1,2023-12-24,20:00,24:00\r\n"  # 4 split, to the end of the day
    "2,2023-12-31,22:00,02:00\r\n"  # 5 overnight
    "2,2023-12-31,22:00,02:00\r\n"  # 6 exact duplicate of line 5
    "3,2023-02-30,10:00,12:00\r\n"  # 7 no such date
    "3,23-12-25,10:00,12:00\r\n"  # 8 not YYYY-MM-DD
    "3,1999-12-31,10:00,12:00\r\n"  # 9 before 2000
    "3,2023-12-25,10:00,\r\n"  # 10 one time only
    "3,2023-12-25,24:00,12:00\r\n"  # 11 24:00 as a start
    "4,2024-01-01,,\r\n"  # 12 closed, next to a shift of the same date: rejected
    "4,2024-01-01,09:00,12:00\r\n"  # 13
    "\r\n"  # 14 blank
    "5,2024-01-01, , \r\n"  # 15 spaces only: closed
)


def test_special_hours_file(db, tmp_path):
    result = load_special_hours_file(path=write(tmp_path, "special_hours.csv", SPECIAL_FILE))
    assert specials() == [
        ("1", date(2023, 12, 24), time(10), time(14)),
        ("1", date(2023, 12, 24), time(20), time(0)),
        ("1", date(2023, 12, 25), None, None),
        ("2", date(2023, 12, 31), time(22), time(2)),
        ("4", date(2024, 1, 1), time(9), time(12)),
        ("5", date(2024, 1, 1), None, None),
    ]
    assert rejections(result) == [
        (7, "date"), (8, "date"), (9, "date"), (10, "end_time_local"), (11, "start_time_local"),
        (12, "start_time_local"),
    ]
    reasons = [r.reason for r in result.rejections]
    assert reasons[0] == "date out of range '2023-02-30' (no such date)"
    assert reasons[1] == "unparsable date '23-12-25' (expected YYYY-MM-DD)"
    assert reasons[2] == "date must be in the years 2000–2100, not 1999-12-31"
    assert reasons[3] == "missing end_time_local (a day closed all day leaves both times empty)"
    assert "shifts for this store and date" in reasons[5]
    assert (result.rows, result.loaded, result.superseded, result.skipped, result.rejected) == (14, 6, 1, 1, 6)
    assert set(zones()) == {"1", "2", "3", "4", "5"}  # store 3 exists though all its rows were rejected
    assert "removed 0" in result.summary()


def test_special_hours_file_is_authoritative_per_store_and_date(db, tmp_path):
    load_special_hours_file(path=write(tmp_path, "a.csv", SPECIAL_FILE))
    BusinessHours.objects.create(store=Store.objects.get(store_id="1"), day_of_week=0, start_time_local=time(9),
                                 end_time_local=time(17))
    kept_id = SpecialHours.objects.get(store__store_id="1", date=date(2023, 12, 25)).id
    second = write(
        tmp_path,
        "b.csv",
        "store_id,date,start_time_local,end_time_local\n"
        "1,2023-12-24,10:00,14:00\n"  # kept; the 20:00 shift of that date goes
        "1,2024-01-06,,\n"  # a new date for store 1; 2023-12-25 (not in the file) stays
        "2,2023-12-31,,\n"  # store 2's overnight special becomes a closed day
        "3,2023-12-25,bad,12:00\n",  # store 3: nothing valid, nothing replaced
    )
    result = load_special_hours_file(path=second)
    assert specials() == [
        ("1", date(2023, 12, 24), time(10), time(14)),
        ("1", date(2023, 12, 25), None, None),
        ("1", date(2024, 1, 6), None, None),
        ("2", date(2023, 12, 31), None, None),
        ("4", date(2024, 1, 1), time(9), time(12)),
        ("5", date(2024, 1, 1), None, None),
    ]
    assert SpecialHours.objects.get(store__store_id="1", date=date(2023, 12, 25)).id == kept_id
    assert BusinessHours.objects.count() == 1  # the weekly hours are another file's
    assert (result.loaded, result.unchanged, result.removed, result.rejected) == (2, 1, 2, 1)
    before = sorted(SpecialHours.objects.values_list("id", "store_id", "date", "start_time_local", "end_time_local"))
    again = load_special_hours_file(path=second)
    assert (again.loaded, again.removed, again.unchanged) == (0, 0, 3)
    assert sorted(SpecialHours.objects.values_list("id", "store_id", "date", "start_time_local", "end_time_local")) == before


def test_special_hours_header_is_checked_first(db, tmp_path):
    bad = write(tmp_path, "special_hours.csv", "store_id,start_time_local,end_time_local\n1,09:00,10:00\n")
    with pytest.raises(LoadError, match="missing required column 'date' for a special_hours file"):
        load_files(files={"special_hours": bad})
    assert not Store.objects.exists()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-03-12", date(2023, 3, 12)),
        ("2000-01-01", date(2000, 1, 1)),
        ("2100-12-31", date(2100, 12, 31)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2023-02-29", None),
        ("2101-01-01", None),
        ("20230312", None),
        ("2023-3-12", None),
        ("2023-03-12T00:00", None),
        ("\u0662023-03-12", None),  # a non-ASCII digit
        (" 2023-03-12", None),  # untrimmed outside a CSV cell
        ("", None),
    ],
)
def test_local_date_grammar(text, expected):
    if expected is None:
        with pytest.raises(values.InvalidValue):
            values.local_date(text)
    else:
        assert values.local_date(text) == expected
    assert values.local_date(" 2023-03-12\t", trim=True) == date(2023, 3, 12)


# --------------------------------------------------------------------------- time zones


def test_timezones_file(db, tmp_path):
    content = (
        "\ufefftimezone_str,store_id\r\n"
        "America/New_York,1\r\n"
        ",2\r\n"  # empty: no row, the store exists
        "Mars/Olympus,3\r\n"  # unknown
        "asia/kolkata,4\r\n"  # any case: stored canonical
        "Europe/Paris,5\r\n"
        "Europe/Berlin,5"  # later row wins
    )
    result = load_timezones_file(path=write(tmp_path, "bq-results-20230125-202210-1674678181880.csv", content))
    assert zones() == {"1": "America/New_York", "2": None, "3": None, "4": "Asia/Kolkata", "5": "Europe/Berlin"}
    assert rejections(result) == [(4, "timezone_str")]
    assert result.rejections[0].reason == "unknown time zone 'Mars/Olympus' (expected an IANA name such as America/Chicago)"
    assert (result.loaded, result.skipped, result.superseded, result.rejected) == (3, 1, 1, 1)
    # Upsert per store; an empty name does not clear a zone.
    result = load_timezones_file(path=write(tmp_path, "t2.csv", "store_id,timezone_str\n1,America/Chicago\n4,\n5,Europe/Berlin\n"))
    assert zones() == {"1": "America/Chicago", "2": None, "3": None, "4": "Asia/Kolkata", "5": "Europe/Berlin"}
    assert (result.loaded, result.replaced, result.unchanged, result.skipped) == (0, 1, 1, 1)


def test_every_store_of_every_file_exists(db, tmp_path):
    load_status_file(path=write(tmp_path, "s.csv", "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\n"))
    load_business_hours_file(path=write(tmp_path, "h.csv", "store_id,day,start_time_local,end_time_local\nb,1,09:00,17:00\n"))
    load_timezones_file(path=write(tmp_path, "t.csv", "store_id,timezone_str\nc,Asia/Tokyo\nd,\n"))
    assert zones() == {"a": None, "b": None, "c": "Asia/Tokyo", "d": None}


# --------------------------------------------------------------------------- record_polls


def test_record_polls_validates_and_upserts_like_the_files(db):
    result = polls_record(
        access=EVERYTHING,
        polls=[
            ("s1", "2023-01-22 12:09:39.388884 UTC", "active"),  # 0
            ("s1", "2023-01-22T12:09:39.388884Z", "INACTIVE"),  # 1 same key: later wins
            ("s2", "2023-02-30 00:00:00 UTC", "active"),  # 2
            ("s3", "2023-01-22 12:00:00 UTC", "down"),  # 3
            ("", "2023-01-22 12:00:00 UTC", "active"),  # 4
            ("s4", "2023-01-22 12:00:00 UTC"),  # 5
            (" s5 ", "2023-01-22 12:00:00+01:00", "Active"),  # 6: not trimmed (only CSV cells are)
            ("s6", None, "active"),  # 7
            ("s7", "2023-01-22 12:00:00", "active"),  # 8: no offset
            ("s8", "2023-01-22 12:00:00+01:00", "Active"),  # 9
        ],
    )
    assert [(r.index, r.line, r.field) for r in result.rejections] == [
        (2, None, "timestamp_utc"),
        (3, None, "status"),
        (4, None, "store_id"),
        (5, None, ""),
        (6, None, "store_id"),
        (7, None, "timestamp_utc"),
        (8, None, "timestamp_utc"),
    ]
    assert result.rejections[1].reason == "unknown status 'down' (expected active or inactive)"
    assert result.rejections[4].reason == "store_id starts with a space (U+0020)"
    assert "has no offset" in result.rejections[6].reason
    assert polls() == [("s1", T0, False), ("s8", datetime(2023, 1, 22, 11, tzinfo=UTC), True)]
    assert (result.rows, result.loaded, result.superseded, result.rejected) == (10, 2, 1, 7)
    # A refused poll stores nothing, not even its store.
    assert not Store.objects.filter(store_id__in=["s2", "s3", "s6", "s7"]).exists()
    again = polls_record(access=EVERYTHING, polls=[("s1", "2023-01-22 12:09:39.388884 UTC", "active")])
    assert (again.loaded, again.replaced) == (0, 1) and polls()[0] == ("s1", T0, True)
    assert polls_record(access=EVERYTHING, polls=[]).rows == 0


def test_record_polls_inside_a_transaction_twice(db):
    with transaction.atomic():
        polls_record(access=EVERYTHING, polls=[("a", "2023-01-22 12:00:00 UTC", "active")])
        polls_record(access=EVERYTHING, polls=[("a", "2023-01-22 13:00:00 UTC", "active")])
    assert len(polls()) == 2


@settings(max_examples=25)
@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2025, 12, 31)), min_size=1, max_size=20
    ),
    style=st.sampled_from(["{d:%Y-%m-%d %H:%M:%S}.{f} UTC", "{d:%Y-%m-%dT%H:%M:%S}.{f}Z", "{d:%Y-%m-%d %H:%M:%S}", "{d:%Y-%m-%dT%H:%M:%S}.{f}-05:30"]),
    digits=st.integers(min_value=1, max_value=6),
)
def test_fast_path_and_python_path_agree(db, tmp_path_factory, moments, style, digits):
    """The vectorised path (canonical lines) and the Python path (live polls,
    non-canonical lines) read every timestamp the same way (a live poll must say its
    offset: a text without one is given ' UTC')."""
    texts = [style.format(d=m, f=f"{m.microsecond:06d}"[:digits]) for m in moments]
    path = tmp_path_factory.mktemp("agree") / "s.csv"
    path.write_text("store_id,timestamp_utc,status\n" + "".join(f"f{i},{t},active\n" for i, t in enumerate(texts)))
    lines = "".join(f"f{i},{t},active\n" for i, t in enumerate(texts)).encode()
    columns = {"width": 3, "store_id": 0, "timestamp": 1, "status": 2, "crlf": False,
               "latest_us": (datetime(2026, 1, 1, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)}
    assert parse_lines(lines, len(lines), store_codes=StoreIdCodes(), **columns).canonical.all()
    load_status_file(path=path)
    live = [t if t.endswith(("UTC", "Z", "-05:30")) else t + " UTC" for t in texts]
    polls_record(access=EVERYTHING, polls=[(f"p{i}", t, "active") for i, t in enumerate(live)])
    stored = dict(((s, w) for s, w, _ in polls()))
    for i, text in enumerate(texts):
        assert stored[f"f{i}"] == stored[f"p{i}"] == values.instant(text, field="t", naive_utc=True), text
    StatusPoll.objects.all().delete()


# --------------------------------------------------------------------------- folders and the command


def _folder(tmp_path: Path, names=("store status.csv", "Menu hours.csv", "bq-results-20230125-202210.csv")) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, names[0], "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\nb,x,active\n")
    write(folder, names[1], "store_id,dayOfWeek,start_time_local,end_time_local\na,0,09:00,17:00\n")
    write(folder, names[2], "store_id,timezone_str\na,Asia/Tokyo\n")
    if len(names) > 3:
        write(folder, names[3], "store_id,date,start_time_local,end_time_local\na,2023-01-23,,\n")
    write(folder, "store_status.rejects.csv", "old\n")
    write(folder, "notes.txt", "x")
    return folder


def test_find_input_files_by_their_names_in_any_case(tmp_path):
    folder = _folder(tmp_path)
    assert {k: p.name for k, p in find_input_files(directory=folder).items()} == {
        "status": "store status.csv",
        "hours": "Menu hours.csv",
        "timezones": "bq-results-20230125-202210.csv",
    }
    write(folder, "STORE_STATUS.CSV", "store_id,timestamp_utc,status\n")
    with pytest.raises(LoadError, match="more than one status file"):
        find_input_files(directory=folder)


def test_load_directory_with_special_hours(db, tmp_path):
    names = ("store_status.csv", "menu_hours.csv", "timezones.csv", "Special Hours.csv")
    results = load_files(files=find_input_files(directory=_folder(tmp_path, names)))
    assert [r.kind for r in results] == ["timezones", "hours", "special_hours", "status"]
    assert specials() == [("a", date(2023, 1, 23), None, None)]


def test_load_directory(db, tmp_path):
    results = load_files(
        files=find_input_files(directory=_folder(tmp_path)),
        rejects_path_of=lambda path: tmp_path / "rejects" / (path.stem + ".rejects.csv"),
    )
    assert [r.kind for r in results] == ["timezones", "hours", "status"]
    assert zones() == {"a": "Asia/Tokyo", "b": None}
    assert (tmp_path / "rejects" / "store status.rejects.csv").exists()


def test_load_data_command(db, tmp_path):
    folder = _folder(tmp_path, ("store_status.csv", "menu_hours.csv", "timezones.csv"))
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", str(folder), stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("timezones.csv (timezones): 1 row: loaded 1, replaced 0,")
    assert lines[2].startswith("store_status.csv (status): 2 rows: loaded 1, replaced 0, unchanged 0, rejected 1,")
    assert "store_status.csv:3: timestamp_utc: unparsable timestamp_utc 'x' (write e.g." in err.getvalue()
    rejects = folder / "store_status.rejects.csv"  # default: next to the input
    assert "unparsable timestamp_utc" in rejects.read_text()
    assert not (folder / "menu_hours.rejects.csv").exists()
    # --if-empty: there are stores now, nothing happens.
    out = io.StringIO()
    call_command("load_data", str(folder), "--if-empty", stdout=out)
    assert "skipped (--if-empty)" in out.getvalue()


def test_load_data_command_explicit_files_and_errors(db, tmp_path):
    status = write(tmp_path, "polls.csv", PLAIN)
    out = io.StringIO()
    call_command("load_data", "--status", str(status), "--rejects", str(tmp_path / "r"), stdout=out)
    assert out.getvalue().startswith("polls.csv (status): 2 rows: loaded 2")
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_data", "--status", str(tmp_path / "missing.csv"))
    bad = write(tmp_path, "hours.csv", "store_id,start_time_local,end_time_local\n")
    with pytest.raises(CommandError, match="missing required column 'dayOfWeek' or 'day'"):
        call_command("load_data", "--status", str(status), "--hours", str(bad))
    with pytest.raises(CommandError, match="give a directory"):
        call_command("load_data")


@pytest.mark.slow
def test_load_data_exit_codes(tmp_path):
    """A real process: a missing column is a clear one-line error and exit code 1."""
    bad = write(tmp_path, "s.csv", "store_id,timestamp\n1,2023-01-22 12:00:00 UTC\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "load_data", "--status", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "missing required column 'timestamp_utc'" in done.stderr and str(bad) in done.stderr
    assert "Traceback" not in done.stderr


def test_load_data_folder_without_any_input_file_lists_the_names(db, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    write(folder, "notes.txt", "x")
    with pytest.raises(CommandError) as refused:
        call_command("load_data", str(folder))
    message = str(refused.value)
    assert message.startswith(f"{folder}: no input file found; expected ")
    for name in ("store_status.csv", "'store status.csv'", "menu_hours.csv", "'menu hours.csv'", "timezones.csv",
                 "bq-results-*.csv"):
        assert name in message
    # Some of the files: a warning, and the ones present load.
    write(folder, "timezones.csv", "store_id,timezone_str\na,Asia/Tokyo\n")
    err = io.StringIO()
    call_command("load_data", str(folder), stdout=io.StringIO(), stderr=err)
    assert re.search(rf"load_data: no status, hours\b.* file in {re.escape(str(folder))}", err.getvalue())
    assert zones() == {"a": "Asia/Tokyo"}


def test_load_data_strict_fails_after_loading_the_good_rows(db, tmp_path):
    folder = _folder(tmp_path, ("store_status.csv", "menu_hours.csv", "timezones.csv"))
    with pytest.raises(CommandError) as refused:
        call_command("load_data", str(folder), "--strict", stdout=io.StringIO(), stderr=io.StringIO())
    rejects = folder / "store_status.rejects.csv"  # <input name without .csv>.rejects.csv
    assert str(refused.value) == f"--strict: 1 row rejected (see {rejects}); the other rows are loaded"
    assert polls() == [("a", datetime(2023, 1, 22, 12, tzinfo=UTC), True)]
    assert "unparsable timestamp_utc" in rejects.read_text()
    # Nothing rejected: --strict is silent.
    clean = tmp_path / "clean"
    clean.mkdir()
    write(clean, "store_status.csv", PLAIN)
    call_command("load_data", str(clean), "--strict", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.slow
def test_load_data_into_an_unmigrated_database_migrates_first(tmp_path):
    """A fresh database (e.g. after `rm -rf .data`): one line, then the data, exit 0 and
    no traceback."""
    import psycopg2
    from django.conf import settings

    conf = settings.DATABASES["default"]
    name = f"load_unmigrated_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(
        dbname="postgres", user=conf["USER"], password=conf["PASSWORD"], host=conf["HOST"], port=conf["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{conf['USER']}@{conf['HOST']}:{conf['PORT'] or 5432}/{name}"
        if conf["PASSWORD"]:
            url = f"postgres://{conf['USER']}:{conf['PASSWORD']}@{conf['HOST']}:{conf['PORT'] or 5432}/{name}"
        env = {**os.environ, "DATABASE_URL": url}
        done = subprocess.run(
            [sys.executable, "manage.py", "load_data", "csv_data", "--no-rejects-file"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        assert "database not migrated: migrating first…" in done.stderr.splitlines()
        assert "store_status.csv (status):" in done.stdout
        check = psycopg2.connect(dbname=name, user=conf["USER"], password=conf["PASSWORD"], host=conf["HOST"],
                                 port=conf["PORT"] or 5432)
        try:
            with check.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM monitoring_store")
                assert cursor.fetchone()[0] > 0
                cursor.execute("SELECT count(*) FROM monitoring_statuspoll")
                assert cursor.fetchone()[0] > 0
        finally:
            check.close()
        # Migrated now: a second load says nothing about migrations.
        again = subprocess.run(
            [sys.executable, "manage.py", "load_data", "csv_data", "--no-rejects-file"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
        )
        assert again.returncode == 0 and "migrating" not in again.stderr
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.parametrize(
    ("as_of", "warning"),
    [
        ("2030-01-01T00:00:00Z", "--as-of 2030-01-01T00:00:00Z is after the latest poll stored "
                                 "(2023-01-25 16:15:00 UTC): the windows hold no polls"),
        ("2020-01-01T00:00:00Z", "--as-of 2020-01-01T00:00:00Z is before the earliest poll stored "
                                 "(2023-01-25 15:14:00 UTC): the windows hold no polls"),
        ("2023-01-27T00:00:00Z", "--as-of 2023-01-27T00:00:00Z is after the latest poll stored "
                                 "(2023-01-25 16:15:00 UTC): the last hour and the last day hold no polls (all 0)"),
        ("2023-01-25T17:00:00Z", None),  # within the horizon of the last poll
        ("2023-01-25T17:00:00+01:00", None),
    ],
)
def test_generate_report_warns_when_as_of_misses_the_stored_polls(db, tmp_path, as_of, warning):
    from tests.factories import worked_example_store

    worked_example_store()
    err = io.StringIO()
    call_command("generate_report", "--as-of", as_of, "--output", str(tmp_path / "r.csv"), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[-1].startswith("wrote 1 store to")
    assert lines[:-1] == ([f"warning: {warning}"] if warning else [])


# --------------------------------------------------------------------------- the public data


def _distinct(path: Path, *columns: str) -> set[tuple]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {tuple(row[c].strip() for c in columns) for row in csv.DictReader(handle)}


def test_public_sample_files(db, tmp_path, shared_data):
    status, hours_file, zones_file = (
        shared_data / "store_status_sample.csv",
        shared_data / "menu_hours.csv",
        shared_data / "timezones.csv",
    )
    out = io.StringIO()
    call_command(
        "load_data", "--status", str(status), "--hours", str(hours_file), "--timezones", str(zones_file),
        "--rejects", str(tmp_path), stdout=out,
    )
    assert " rejected 0," in out.getvalue() and out.getvalue().count(" rejected 0,") == 3
    store_ids = {s for (s,) in _distinct(status, "store_id") | _distinct(hours_file, "store_id") | _distinct(zones_file, "store_id")}
    assert Store.objects.count() == len(store_ids)
    assert StatusPoll.objects.count() == len(_distinct(status, "store_id", "timestamp_utc"))
    assert BusinessHours.objects.count() == len(_distinct(hours_file, "store_id", "day", "start_time_local", "end_time_local"))
    with_zone = {s: z for s, z in _distinct(zones_file, "store_id", "timezone_str") if z}
    assert dict(Store.objects.exclude(timezone_name=None).values_list("store_id", "timezone_name")) == with_zone
    sid, stamp, state = next(iter(_distinct(status, "store_id", "timestamp_utc", "status")))
    poll = StatusPoll.objects.get(store__store_id=sid, timestamp_utc=values.instant(stamp, field="t", naive_utc=True))
    assert poll.is_active == (state == "active")
    # Loading everything again changes nothing.
    out = io.StringIO()
    call_command(
        "load_data", "--status", str(status), "--hours", str(hours_file), "--timezones", str(zones_file),
        "--no-rejects-file", stdout=out,
    )
    assert out.getvalue().count("loaded 0, replaced 0") == 3


def test_bulk_path_with_stores_created_in_the_same_transaction(db, tmp_path):
    """The poll table has no database-level foreign key (so no deferred checks queue up
    when stores are created first): the empty-table bulk path still applies."""
    Store.objects.create(store_id="made-by-the-orm")
    path, expected = _big_status_file(tmp_path, BULK_MIN_BYTES // 40)
    result = load_status_file(path=path)
    assert "bulk_copy" in result.timings and "bulk_path_refused" not in result.timings
    assert set(polls()) == expected and result.loaded == len(expected)




def test_chunk_boundaries_do_not_change_what_is_loaded(db, tmp_path, monkeypatch):
    """Lines cut by chunk boundaries, a quote left open at a chunk's end, a
    line longer than a chunk and a last line without its line end: the same polls,
    counts and rejections whatever the chunk size."""
    lines = ["store_id,timestamp_utc,status"]
    for i in range(40):
        lines.append(f"s{i % 7},2023-01-18 {i % 24:02d}:{i:02d}:04.{i:03d} UTC,{'active' if i % 3 else 'inactive'}")
    lines[10] = '"s1","2023-01-18 03:09:04 UTC","act\nive"'  # two lines: both rejected
    lines[20] = "x" * 300 + ",2023-01-18 05:00:00 UTC,active"  # longer than a small chunk (and 255)
    lines[30] = "s2,2023-01-18 06:00:00 UTC,sleeping"
    path = write(tmp_path, "s.csv", "\n".join(lines))  # no final line end
    results = []
    for chunk in (1 << 22, 64, 100):
        monkeypatch.setattr(status_file, "CHUNK_BYTES", chunk)
        result = load_status_file(path=path)
        results.append((polls(), result.rows, result.loaded + result.unchanged, rejections(result)))
        StatusPoll.objects.all().delete()
    assert results[0] == results[1] == results[2]
    assert results[0][1] == 41 and [line for line, _ in results[0][3]] == [11, 12, 22, 32]


# --------------------------------------------------------------------------- issue #11: the whole load, fast


@settings(max_examples=60)
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 4), st.integers(0, 6), st.booleans()), min_size=0, max_size=60
    ),
    wide=st.booleans(),
)
def test_time_order_and_the_latest_line_per_key(rows, wide):
    """RowsInTimeOrder(latest_only=True): every key once, from its latest line, in time
    order; the packed sort and np.argsort (instants too far apart to pack) agree."""
    scale = 2**60 if wide else 1_000  # 6 * 2**60 and the row index do not fit in 64 bits together
    line = list(range(2, 2 + len(rows)))
    random.Random(len(rows)).shuffle(line)
    polls_in = poll_arrays.PollArrays(
        store_pk=np.array([pk for pk, _, _ in rows], np.int64),
        moment=np.array([moment * scale for _, moment, _ in rows], np.int64),
        is_active=np.array([active for *_, active in rows], bool),
        line=np.array(line, np.int64),
    )
    latest = {}
    for (pk, moment, active), line_no in sorted(zip(rows, line), key=lambda item: item[1]):
        latest[(pk, moment * scale)] = (active, line_no)
    in_order = poll_arrays.RowsInTimeOrder(polls_in, with_line=True, latest_only=True)
    written = in_order.read() + in_order.read()
    decoded = np.frombuffer(written[19:-2], np.dtype([
        ("n", ">i2"), ("l0", ">i4"), ("pk", ">i8"), ("l1", ">i4"), ("moment", ">i8"), ("l2", ">i4"), ("active", "u1"),
        ("l3", ">i4"), ("line", ">i8"),
    ]))
    assert sorted((int(r["pk"]), int(r["moment"]), bool(r["active"]), int(r["line"])) for r in decoded) == sorted(
        (pk, moment, active, line_no) for (pk, moment), (active, line_no) in latest.items()
    )
    assert list(decoded["moment"]) == sorted(decoded["moment"])
    assert in_order.superseded == len(rows) - len(latest)


def _records_line_by_line(path: Path, width: int):
    """What the reading of a small file was before issue #11: every physical line
    through RecordReader."""
    from monitoring.ingest.csv_files import BLANK, RecordReader
    from monitoring.ingest.results import Rejection

    reader, out = RecordReader(path.name, width), []
    with path.open("rb") as handle:
        eol = b"\r\n" if handle.readline().endswith(b"\r\n") else b"\n"
        lines = list(handle)
    for line_no, raw in enumerate(lines, 2):
        if not raw.endswith(b"\n"):
            raw += eol
        record = reader.feed(line_no, raw)
        if record is BLANK:
            out.append(("blank", line_no))
        elif isinstance(record, Rejection):
            out.append(("rejected", record.line, record.reason, record.raw))
        else:
            out.append(("record", *record))
    return out


@settings(max_examples=150)
@given(
    lines=st.lists(
        st.lists(st.sampled_from(["1", "ab", " ", "\t", ",", '"', "\r", "\x00", "é", "\x0b", "09:00", ""]), max_size=6)
        .map("".join),
        max_size=8,
    ),
    crlf=st.booleans(),
    final_eol=st.booleans(),
    width=st.integers(2, 4),
)
def test_small_files_read_as_csv_reads_them(tmp_path_factory, lines, crlf, final_eol, width):
    """The whole-file reading of the small files (`plain_columns`: all lines plain;
    `small_file_records`: plain lines split on commas, others through RecordReader)
    gives exactly the records, rejections and blank lines RecordReader gives line by
    line."""
    from monitoring.ingest.csv_files import plain_columns, read_header, small_file_records
    from monitoring.ingest.results import FileLoadResult, Progress, RejectSink

    eol = "\r\n" if crlf else "\n"
    names = ["store_id", "timezone_str", "x", "y"][:width]
    text = ",".join(names) + eol + eol.join(lines) + (eol if final_eol and lines else "")
    path = tmp_path_factory.mktemp("small") / "timezones.csv"
    path.write_bytes(text.encode("utf-8"))
    header = read_header(path=path, kind="timezones")
    expected = _records_line_by_line(path, width)
    counted = sum(1 for item in expected)

    result, sink = FileLoadResult(kind="timezones", file=None), RejectSink(None, keep_all=True)
    got = [("record", *record) for record in small_file_records(header, sink, result, Progress(enabled=False, total=0, desc=""))]
    got += [("rejected", r.line, r.reason, r.raw) for r in sink.kept]
    got += [("blank", None)] * result.skipped
    key = lambda item: (item[0], str(item[1:]))  # noqa: E731
    assert sorted(got, key=key) == sorted(
        [item if item[0] != "blank" else ("blank", None) for item in expected], key=key
    )
    assert result.rows == counted

    result = FileLoadResult(kind="timezones", file=None)
    columns = plain_columns(header, result, Progress(enabled=False, total=0, desc=""))
    if columns is not None:
        assert all(item[0] == "record" for item in expected)
        assert [("record", i, ",".join(f), list(f)) for i, f in enumerate(zip(*columns), 2)] == expected
        assert result.rows == counted


def _hours_schema() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monitoring_businesshours'"
            " UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'monitoring_businesshours'::regclass ORDER BY 1, 2"
        )
        return cursor.fetchall()


def _fire_deferred_checks() -> None:
    """The test's transaction has written hours and stores: their deferred foreign-key
    checks are run now (as a commit would), or PostgreSQL refuses to alter the tables
    (the bulk path would step aside: `bulk_path_refused`)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.parametrize("quoted", [False, True], ids=["plain file", "a quoted line"])
def test_business_hours_bulk_path_loads_what_the_merge_loads(db, tmp_path, monkeypatch, quoted):
    """Into an empty table the shifts go straight in (constraints and indexes dropped
    and rebuilt, as they were): the same shifts, counts and rejections as the merge,
    and the foreign key holds again after."""
    from monitoring.ingest import small_files

    content = HOURS_FILE + "".join(f"s{i % 50},{i % 7},{i % 24:02d}:00,{(i + 5) % 24:02d}:30\n" for i in range(300))
    if quoted:
        content += '"s1",6,"23:00",01:00\n'
    path = write(tmp_path, "menu_hours.csv", content)
    schema = _hours_schema()
    seen = []
    for threshold in (10**9, 1):  # the merge, then the bulk path
        monkeypatch.setattr(small_files, "HOURS_BULK_MIN_ROWS", threshold)
        _fire_deferred_checks()
        result = load_business_hours_file(path=path)
        seen.append((hours(), rejections(result), result.rows, result.loaded, result.superseded, result.unchanged))
        assert ("bulk_copy" in result.timings) is (threshold == 1)
        assert _hours_schema() == schema
        BusinessHours.objects.all().delete()
    assert seen[0] == seen[1]
    assert seen[1][2] == 13 + 300 + quoted
    _fire_deferred_checks()
    assert "bulk_copy" in load_business_hours_file(path=path).timings  # the bulk path again, then the key
    with pytest.raises(Exception, match="foreign key"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "INSERT INTO monitoring_businesshours (store_id, day_of_week, start_time_local, end_time_local)"
            " VALUES (-1, 0, '09:00', '10:00')"
        )


def _status_with_odd_lines(directory: Path, rows: int) -> Path:
    lines = ["store_id,timestamp_utc,status"]
    start = datetime(2023, 1, 18, tzinfo=UTC)
    order = list(range(rows))
    random.Random(3).shuffle(order)
    for i in order:
        lines.append(f"st-{i % 89},{start + timedelta(minutes=i, microseconds=i):%Y-%m-%d %H:%M:%S.%f} UTC,active")
    lines[5] = '"st-1","2023-01-19 03:09:04 UTC","act\nive"'  # over two lines: both rejected
    lines[9] = '"st-2","2023-01-19 03:09:05 UTC",inactive'  # quoted: read row by row
    lines[12] = "new-store,2023-01-19 03:09:06Z,Active"
    lines[14] = lines[15].replace("active", "inactive")  # a key twice: the later line wins
    lines[20] = "st-3,yesterday,active"
    return write(directory, "store_status.csv", "\n".join(lines) + "\n")


def test_the_status_file_read_ahead_loads_what_a_plain_read_loads(db, tmp_path, monkeypatch):
    """`load_data DIR` reads the status file in a thread while the zones and hours
    load: the same polls, stores, counts and rejections as `load_files` alone."""
    folder = tmp_path / "in"
    folder.mkdir()
    _status_with_odd_lines(folder, 3_000)
    write(folder, "menu_hours.csv", "store_id,dayOfWeek,start_time_local,end_time_local\nst-1,0,09:00,17:00\n")
    write(folder, "timezones.csv", "store_id,timezone_str\nst-2,Asia/Tokyo\n")
    monkeypatch.setattr(status_file, "BULK_MIN_BYTES", 1)
    monkeypatch.setattr(status_file, "CHUNK_BYTES", 16 << 10)  # several parts
    seen = []
    for ahead in (False, True):
        if ahead:
            out = io.StringIO()
            call_command("load_data", str(folder), "--no-rejects-file", "-v", "2", stdout=out, stderr=io.StringIO())
            assert "read_ahead" in out.getvalue() and "bulk_copy" in out.getvalue()
            summary = out.getvalue().splitlines()[-2]
        else:
            results = load_files(files=find_input_files(directory=folder))
            assert "read_ahead" not in results[-1].timings
            summary = results[-1].summary()
        seen.append((polls(), zones(), hours(), re.sub(r" in [0-9.]+ s$", "", summary)))
        StatusPoll.objects.all().delete()
        BusinessHours.objects.all().delete()
        Store.objects.all().delete()
    assert seen[0] == seen[1]
    assert "rejected 3," in seen[0][3] and "superseded 1," in seen[0][3]
    assert status_file._READ_AHEADS == {}


def test_a_read_ahead_of_a_changed_file_is_not_used(db, tmp_path, monkeypatch):
    monkeypatch.setattr(status_file, "BULK_MIN_BYTES", 1)
    path = _status_with_odd_lines(tmp_path, 500)
    with status_file.reading_ahead(path) as started:
        assert started
        path.write_text("store_id,timestamp_utc,status\nonly,2023-01-19 00:00:00 UTC,active\n")
        result = load_status_file(path=path)
    assert polls() == [("only", datetime(2023, 1, 19, tzinfo=UTC), True)] and result.rows == 1
    with status_file.reading_ahead(path) as started:  # the table has polls: no bulk path, no read-ahead
        assert not started
    assert status_file._READ_AHEADS == {}


def test_load_data_special_option(db, tmp_path):
    special = write(tmp_path, "holidays.csv", "store_id,date,start_time_local,end_time_local\na,2023-12-25,,\na,2023-12-26,x,\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", "--special", str(special), "--no-rejects-file", stdout=out, stderr=err)
    assert out.getvalue().startswith("holidays.csv (special_hours): 2 rows: loaded 1, replaced 0, unchanged 0,")
    assert "removed 0, rejected 1" in out.getvalue()
    assert "holidays.csv:3: end_time_local: missing end_time_local" in err.getvalue()
    assert specials() == [("a", date(2023, 12, 25), None, None)]
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_data", "--special", str(tmp_path / "missing.csv"))

"""The bulk path of big files into an empty table (status file and business hours), its
time order and latest line per key, chunk boundaries, and `load_data`'s read ahead of
the status file."""

import io
import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from monitoring.ingest import (
    BULK_MIN_BYTES,
    find_input_files,
    load_business_hours_file,
    load_files,
    load_status_file,
    poll_arrays,
    status_file,
)
from monitoring.models import BusinessHours, StatusPoll, Store
from monitoring.stores.partitions import partition_name, partitions_ensure, week_start

from tests.ingest_data import HOURS_FILE, UTC, hours, polls, rejections, write, zones
from tests.partition_plans import indexes_used
from tests.status_files import (
    big_status_file,
    poll_table_schema,
    time_order_faults,
)


@pytest.mark.parametrize("order", ["in time order", "shuffled", "shuffled after the first chunk"])
@pytest.mark.parametrize("duplicate", [False, True], ids=["distinct keys", "a key twice"])
def test_bulk_path_into_an_empty_table(db, tmp_path, monkeypatch, duplicate, order):
    schema = poll_table_schema()
    rows = BULK_MIN_BYTES // 40
    shuffled_from = {"in time order": None, "shuffled": 0, "shuffled after the first chunk": rows // 4}[order]
    path, expected = big_status_file(tmp_path, rows, duplicate=duplicate, shuffled_from=shuffled_from)
    if order == "shuffled after the first chunk":
        monkeypatch.setattr(status_file, "CHUNK_BYTES", 64 << 10)  # a first chunk of ~1,300 rows in order
    monkeypatch.setattr(poll_arrays, "SORTED_ROWS_PER_READ", 1_000)  # sorted rows go in several slices
    result = load_status_file(path=path)
    assert "bulk_copy" in result.timings  # the path this test is about
    assert set(polls()) == expected
    assert (result.loaded, result.superseded) == (len(expected), 1 if duplicate else 0)
    assert poll_table_schema() == schema
    # Stored in time order (the BRIN index's premise). A file in it, or out of it from
    # its first chunk, is written once; one found out of it later is written again.
    assert time_order_faults() == {}
    if not duplicate:
        assert ("time_order" in result.timings) is (order == "shuffled after the first chunk")
    again = load_status_file(path=path)
    assert (again.loaded, again.replaced, again.unchanged) == (0, 0, len(expected))


def test_a_merged_file_leaves_the_time_index_summarized(db, tmp_path):
    """New polls merged into a loaded table fill new BRIN ranges; summarized at once, a
    query for the latest minute reads a range or two, not every page the file added."""
    load_status_file(path=big_status_file(tmp_path, 2_000)[0])
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


def test_bulk_path_with_stores_created_in_the_same_transaction(db, tmp_path):
    """The poll table has no database-level foreign key (so no deferred checks queue up
    when stores are created first): the empty-table bulk path still applies."""
    Store.objects.create(store_id="made-by-the-orm")
    path, expected = big_status_file(tmp_path, BULK_MIN_BYTES // 40)
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
            summary = next(line for line in out.getvalue().splitlines() if line.startswith("store_status.csv"))
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


class _RolledBack(Exception):
    pass


def test_bulk_path_into_partitions_that_hold_pages(db, tmp_path, monkeypatch):
    """Weekly partitions that existed before the load and still hold pages (here of
    loads rolled back, as a failed load leaves them): the rows are still stored in
    time order, not first into the free space those pages have."""
    monkeypatch.setattr(poll_arrays, "SORTED_ROWS_PER_READ", 1_000)
    rows = BULK_MIN_BYTES // 40
    partitions_ensure(start=datetime(2023, 1, 18, tzinfo=UTC), end=datetime(2023, 1, 28, tzinfo=UTC))
    for name, shuffled_from in (("in order", None), ("shuffled", 0), ("shuffled later", rows // 4)):
        folder = tmp_path / name
        folder.mkdir()
        with monkeypatch.context() as patch, pytest.raises(_RolledBack), transaction.atomic():
            if name == "shuffled later":
                patch.setattr(status_file, "CHUNK_BYTES", 64 << 10)
            load_status_file(path=big_status_file(folder, rows, shuffled_from=shuffled_from)[0])
            raise _RolledBack
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s)", [partition_name(week=datetime(2023, 1, 23, tzinfo=UTC))])
        assert cursor.fetchone()[0] > 0  # the premise: pages and no rows
    path, expected = big_status_file(tmp_path, rows, duplicate=True)
    result = load_status_file(path=path)
    assert "bulk_copy" in result.timings and set(polls()) == expected
    assert time_order_faults() == {}

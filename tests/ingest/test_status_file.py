"""The status file (docs/rules.md §1–§2): the forms it is accepted in, its rejections line by
line, and how a reload or a later line replaces a stored poll."""

import csv
from datetime import datetime

import pytest
from monitoring.ingest import (
    LoadError,
    load_status_file,
)
from monitoring.ingest.csv_files import STRAY_QUOTE, UNTERMINATED_QUOTE
from monitoring.models import Store

from tests.ingest_data import (
    PLAIN,
    T0,
    UTC,
    poll_rows_with_versions,
    polls,
    rejections,
    write,
)

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
    assert reasons[3] == "unknown 'sleeping' (expected active or inactive)"
    assert reasons[4].startswith("unparsable 'yesterday' (write e.g. 2023-01-25T18:13:22Z")
    assert reasons[5] == "out of range '2023-02-29 12:00:00 UTC' (no such date or time)"
    assert reasons[15] == reasons[17] == reasons[24] == UNTERMINATED_QUOTE
    assert reasons[16] == reasons[18] == STRAY_QUOTE
    assert reasons[21] == "1899-12-31T12:00:00+00:00 is before 2000"
    assert reasons[7] == reasons[8] == reasons[9] == "missing"
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
        "reason": "unknown 'sleeping' (expected active or inactive)",
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

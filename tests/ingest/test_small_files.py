"""The small files (business hours, special hours, time zones): their grammar, each
authoritative for what it names, and read line by line exactly as the csv module reads
them."""

from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from monitoring.ingest import (
    LoadError,
    load_business_hours_file,
    load_files,
    load_special_hours_file,
    load_status_file,
    load_timezones_file,
)
from monitoring.kernel import values
from monitoring.models import BusinessHours, SpecialHours, Store

from tests.ingest_data import HOURS_FILE, hours, rejections, specials, write, zones


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
    assert reasons[0] == "out of range '2023-02-30' (no such date)"
    assert reasons[1] == "unparsable '23-12-25' (expected YYYY-MM-DD)"
    assert reasons[2] == "must be in the years 2000–2100, not 1999-12-31"
    assert reasons[3] == "missing (a day closed all day leaves both times empty)"
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


def _records_line_by_line(path: Path, width: int):
    """What the reading of a small file was before the fast path: every physical line
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
    from monitoring.ingest.csv_files import (
        plain_columns,
        read_header,
        small_file_records,
    )
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

"""A quoted value ends on its own line (docs/rules.md §1: no input has a value over several
lines): a line whose quote is left open is rejected alone, with its line number and
reason, and the next line is read as a row of its own, in every kind of file and on
every path that reads one (whole small files, small files line by line, the status
file through staging, the status file's bulk path into an empty table, read ahead by
`load_data`, and chunk by chunk)."""

import csv
import io
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from monitoring.ingest import (
    BULK_MIN_BYTES,
    load_special_hours_file,
    load_status_file,
    load_timezones_file,
    status_file,
)
from monitoring.ingest.csv_files import (
    BLANK,
    STRAY_QUOTE,
    UNTERMINATED_QUOTE,
    RecordReader,
)
from monitoring.ingest.results import Rejection
from monitoring.models import BusinessHours, SpecialHours, StatusPoll, Store

pytestmark = pytest.mark.django_db

UTC = timezone.utc


def write(directory: Path, name: str, content: str) -> Path:
    path = directory / name
    path.write_bytes(content.encode())
    return path


def rejects_of(path: Path) -> list[tuple[int, str, str]]:
    """(line, field, reason) of each row of a rejects file."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(int(row["line"]), row["field"], row["reason"]) for row in csv.DictReader(handle)]


def test_load_data_keeps_every_valid_row_after_an_unterminated_quote(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "store_status.csv", (
        "store_id,timestamp_utc,status\n"
        "1,2023-01-22 12:00:00 UTC,active\n"
        '2,"active,2023-01-22 12:00:00 UTC\n'  # line 3: the quote never closes
        "3,2023-01-22 13:00:00 UTC,inactive\n"
        '"4",2023-01-22 14:00:00 UTC,"active"\n'  # quoted values that close: fine
        "5,2023-01-22 15:00:00 UTC,active\n"
    ))
    write(folder, "menu_hours.csv", (
        "store_id,dayOfWeek,start_time_local,end_time_local\n"
        '1,0,"09:00,17:00\n'  # line 2
        "2,1,09:00,17:00\n"
        "3,2,10:00,18:00\n"
    ))
    write(folder, "timezones.csv", (
        "store_id,timezone_str\n"
        "1,Asia/Tokyo\n"
        '2,"America/New_York\n'  # line 3
        "3,Europe/Paris\n"
    ))
    write(folder, "special_hours.csv", (
        "store_id,date,start_time_local,end_time_local\n"
        '1,"2023-01-23,10:00,11:00\n'  # line 2
        "2,2023-01-24,,\n"
        "3,2023-01-25,12:00,13:00\n"
    ))
    rejects = tmp_path / "rejects"
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", str(folder), "--rejects", str(rejects), stdout=out, stderr=err)

    assert sorted(StatusPoll.objects.values_list("store__store_id", "is_active")) == [
        ("1", True), ("3", False), ("4", True), ("5", True),
    ]
    assert sorted(BusinessHours.objects.values_list("store__store_id", "day_of_week")) == [("2", 1), ("3", 2)]
    assert dict(Store.objects.values_list("store_id", "timezone_name")) == {
        "1": "Asia/Tokyo", "2": None, "3": "Europe/Paris", "4": None, "5": None,
    }
    assert sorted(SpecialHours.objects.values_list("store__store_id", "date", "start_time_local")) == [
        ("2", date(2023, 1, 24), None), ("3", date(2023, 1, 25), time(12)),
    ]
    expected = {
        "store_status": [(3, "", UNTERMINATED_QUOTE)],
        "menu_hours": [(2, "", UNTERMINATED_QUOTE)],
        "timezones": [(3, "", UNTERMINATED_QUOTE)],
        "special_hours": [(2, "", UNTERMINATED_QUOTE)],
    }
    for stem, rows in expected.items():
        assert rejects_of(rejects / f"{stem}.rejects.csv") == rows, stem
    assert f"rejected store_status.csv:3: {UNTERMINATED_QUOTE}" in err.getvalue()


def test_time_zone_file_with_crlf_and_no_final_line_end(tmp_path):
    """The lines after an open quote, plain or quoted, are rows of their own; a row
    rejected for its framing has no store id (no store is made of it)."""
    path = write(tmp_path, "timezones.csv", (
        "store_id,timezone_str\r\n"
        'a,"Asia/Tokyo\r\n'  # line 2
        '"b","Europe/Paris"\r\n'
        "c,America/Denver\r\n"
        'd"x,Asia/Tokyo\r\n'  # line 5: a quote inside an unquoted value
        '"e,Asia/Tokyo'  # line 6: the last line, no line end
    ))
    result = load_timezones_file(path=path)
    assert [(r.line, r.reason) for r in result.rejections] == [
        (2, UNTERMINATED_QUOTE), (5, STRAY_QUOTE), (6, UNTERMINATED_QUOTE),
    ]
    assert result.rows == 5 and result.loaded == 2 and result.rejected == 3
    assert result.rejections[0].raw == 'a,"Asia/Tokyo'
    assert dict(Store.objects.values_list("store_id", "timezone_name")) == {
        "b": "Europe/Paris", "c": "America/Denver",
    }


def test_special_hours_file_after_an_unterminated_quote(tmp_path):
    path = write(tmp_path, "special_hours.csv", (
        "store_id,date,start_time_local,end_time_local\n"
        's,2023-01-23,"10:00,11:00\n'  # line 2
        "s,2023-01-23,12:00,13:00\n"
        's,2023-01-24,09:00,"10:00""\n'  # line 4: the doubled quote is text, the value stays open
    ))
    result = load_special_hours_file(path=path)
    assert [(r.line, r.reason) for r in result.rejections] == [(2, UNTERMINATED_QUOTE), (4, UNTERMINATED_QUOTE)]
    assert result.loaded == 1
    assert list(SpecialHours.objects.values_list("date", "start_time_local")) == [(date(2023, 1, 23), time(12))]


def _status_lines(count: int) -> list[str]:
    return [
        f"s{i % 50},2023-01-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}:00 UTC,{'active' if i % 3 else 'inactive'}"
        for i in range(count)
    ]


@pytest.mark.parametrize("chunk", [1 << 22, 97])
def test_status_file_through_staging(tmp_path, monkeypatch, chunk):
    """The staging path (small file, or polls already stored), whatever the chunks: a
    small chunk puts the open quote at a chunk's end."""
    StatusPoll.objects.create(
        store=Store.objects.create(store_id="old"), timestamp_utc=datetime(2023, 1, 1, tzinfo=UTC), is_active=True
    )
    monkeypatch.setattr(status_file, "CHUNK_BYTES", chunk)
    lines = _status_lines(30)
    lines[4] = 's4,"2023-01-01 00:04:00 UTC,active'  # line 6
    lines[5] = '"s5","2023-01-01 00:05:00 UTC","active"'  # quoted, closed: a row
    path = write(tmp_path, "store_status.csv", "store_id,timestamp_utc,status\n" + "\n".join(lines) + "\n")
    result = load_status_file(path=path)
    assert [(r.line, r.reason) for r in result.rejections] == [(6, UNTERMINATED_QUOTE)]
    assert result.rows == 30 and result.loaded == 29
    assert StatusPoll.objects.exclude(store__store_id="old").count() == 29


def test_status_file_bulk_path_read_ahead_by_load_data(tmp_path):
    """A large file into an empty poll table (the bulk path), read ahead in a thread by
    `load_data`: every valid line is loaded, each open quote costs its line."""
    lines = _status_lines(BULK_MIN_BYTES // 40 + 2000)
    bad = {10: 's10,"2023-01-01 00:10:00 UTC,active', len(lines) // 2: f'"s7,{lines[len(lines) // 2][3:]}'}
    for index, line in bad.items():
        lines[index] = line
    folder = tmp_path / "in"
    folder.mkdir()
    path = write(folder, "store_status.csv", "store_id,timestamp_utc,status\n" + "\n".join(lines) + "\n")
    assert path.stat().st_size >= BULK_MIN_BYTES
    write(folder, "timezones.csv", "store_id,timezone_str\ns1,Asia/Tokyo\n")  # so the status file is read ahead
    rejects = tmp_path / "rejects"
    call_command("load_data", str(folder), "--rejects", str(rejects), "-v", "2", stdout=(out := io.StringIO()),
                 stderr=io.StringIO())
    assert "bulk_copy" in out.getvalue()
    assert rejects_of(rejects / "store_status.rejects.csv") == [
        (index + 2, "", UNTERMINATED_QUOTE) for index in sorted(bad)
    ]
    assert StatusPoll.objects.count() == len(lines) - len(bad)


@settings(max_examples=300)
@given(
    line=st.text(alphabet='a,"\r ', max_size=12),
    following=st.text(alphabet='a,"', max_size=6),
)
def test_a_record_is_its_line_whatever_follows(line, following):
    """What the line reader accepts is what csv reads of that line when another line
    follows it: csv never reads on into the next line; what it refuses as an open
    quote is one csv would have read on past the line end."""
    reader = RecordReader("f.csv", 2)
    record = reader.feed(2, f"{line}\n".encode())
    assert record is BLANK or isinstance(record, (tuple, Rejection))  # every line answered at once
    try:
        first = next(csv.reader(io.StringIO(f"{line}\n{following}\n", newline=""), strict=True), None)
    except csv.Error:
        first = None
    if isinstance(record, tuple):
        assert first == record[2]
    elif isinstance(record, Rejection) and record.reason == UNTERMINATED_QUOTE:
        with pytest.raises(csv.Error):  # alone, csv finds the line ends inside a quoted value
            list(csv.reader(io.StringIO(f"{line}\n", newline=""), strict=True))

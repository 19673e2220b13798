"""Loading the three CSV inputs of SPEC §1 (and live polls) into PostgreSQL.

Public services (keyword-only): `load_status_file`, `load_business_hours_file`,
`load_timezones_file`, `load_directory`, `find_input_files`, `read_header` and
`record_polls` (live polls from the API). Each returns a `FileLoadResult` with the
counts and the rejected rows.

Decisions (the README copies these):

- Columns are found by header name, case-insensitively, in any order; extra columns
  are ignored. A UTF-8 BOM, spaces/tabs around headers and values, CRLF line ends and
  a missing final newline are accepted. Hours files may name the day column
  `dayOfWeek` or `day` (`dayOfWeek` wins when both are present). A missing required
  column, a duplicated column, an empty file or an unreadable header rejects the
  whole file (`LoadError`, naming the file and the column); nothing is written.
- `store_id` is opaque text, trimmed, 1–255 characters; never parsed as a number.
- status: `active` / `inactive`, any case. timestamp: `YYYY-MM-DD HH:MM[:SS[.f]]`
  with `T` or a space, 0–6 fraction digits, then optionally ` UTC`, `GMT`, `Z` or an
  offset `±HH[:MM]` (no zone = UTC); year 1900–2999, real calendar dates, hours
  00–23, seconds 00–59 (no leap seconds).
- Business hours: day 0–6 (0 = Monday); times `HH:MM` or `HH:MM:SS[.ffffff]`
  (one-digit hours accepted); `24:00` (`24:00:00`) only as an end time, meaning the
  end of the day: it is stored as 00:00, which SPEC §3 makes the same instants.
- Time zones: names valid for Python's `zoneinfo` (the engine converts with it);
  matched case-insensitively and stored in their canonical spelling. An empty name
  counts as no row: the store exists, its zone (default America/Chicago) is left as
  it was.
- A bad row (unknown status, unparsable time or day, unknown time zone, missing
  field, wrong number of columns, invalid UTF-8, NUL byte, unterminated quote) is
  rejected with its file, physical line number (header = line 1; a quoted value
  spanning lines is reported at its first line), field and reason, and written to
  the rejects CSV (`file,line,field,reason,raw`); the good rows of the file still
  load. Blank lines carry no data and are skipped (counted as `skipped`).
- Every store_id of a well-formed row in any file becomes a Store, even when the row
  is rejected for another field (its store still appears in the inputs).
- Polls: the key is (store, instant). A poll with the key of a stored one replaces
  it; within one file (or one `record_polls` batch) the later line wins and the
  earlier ones count as `superseded`. `replaced` counts only polls whose status
  changed; identical polls count as `unchanged` and are not written, so reloading a
  file changes nothing.
- Business hours: for every store with at least one valid row in the file, the file
  is authoritative: the store's stored shifts become exactly the file's (shifts
  already stored stay untouched, `unchanged`; the others are `removed`). Stores
  whose rows were all rejected keep their previous hours. Exact duplicate rows
  count as `superseded`.
- Time zones: upsert per store; the later row of the file wins.
- One transaction per file: a failure anywhere (bad file, crash, constraint) leaves
  the previously stored data exactly as it was. The rejects CSV is written only
  once the transaction has committed; with nothing rejected, no file is written
  (and a stale one at that path is removed). `manage.py load_data` checks every
  file's header before loading any, and writes `<input name>.rejects.csv` next to
  each input (or into `--rejects DIR`; `*.rejects.csv` is gitignored).
- Counts per file: loaded (new), replaced (changed), unchanged, superseded (earlier
  duplicates in the same file), skipped (blank lines, empty zone names), rejected;
  they add up to the file's rows. Hours also report `removed` shifts.
  `record_polls` rejections carry `index` (the item's position from 0), not `line`.

How the status file goes fast (~2 M rows; measured with bench/load.py):

- Python reads the file in 4 MB chunks and `monitoring.status_parsing` reads each
  chunk as numpy arrays: which lines are canonical (plain ASCII, the usual value
  shapes, checked byte by byte: real dates, hours, offsets), and their store ids,
  instants and statuses (~1 µs per row on this machine, against ~2 µs for a regular
  expression alone). Store ids are hashed and looked up in a table of the ids met
  so far, verified word for word (exact). Any other line goes through the same
  precise validation as `record_polls` (`parse_timestamp` & co.), which loads or
  rejects it. Canonical lines read exactly as that validation reads them
  (tests/test_status_parsing.py, property-based).
- Store keys: a file load first takes the writer lock (`monitoring.data_version`), so
  no other transaction writes stores or polls until it commits; the
  existing stores are read once, and new ones get keys from a block of the store
  sequence; they are inserted after the polls, in the same transaction. So every
  poll row is complete while the file is being read.
- The rows go to PostgreSQL as binary COPY (store key, instant, status[, line]),
  streamed: the server writes one chunk while Python reads the next.
- Existing poll table: they stream into an UNLOGGED staging table; one statement
  keeps the latest line per (store, instant) with a hash aggregate, compares with
  what is stored (hash join) and writes only what differs. Other writers wait for
  the load (readers do not), so new keys are plain inserts and changed ones plain
  updates.
  `record_polls` takes no lock and sends the differing rows to `INSERT … ON
  CONFLICT (store_id, timestamp_utc) DO UPDATE … WHERE is_active IS DISTINCT FROM
  excluded.is_active` (an identical row never reaches ON CONFLICT, which would lock
  and rewrite it).
- Empty poll table and a file of ≥ 512 KB: the table is locked (if no one is using
  it at that moment: otherwise the path above), its primary key and
  index dropped (definitions read from the catalog), the rows stream straight into
  it, then the key and index are rebuilt and the table analysed. A key twice in the
  file makes the primary-key rebuild fail: the attempt rolls back to a savepoint and
  the latest poll per key (kept in memory as arrays) is written instead.
- Polls are stored in time order, which the BRIN time index relies on. On the
  empty-table path, a file whose first chunk is not in it (blocks of rows spanning
  more than a day, as in the public release) is read whole and written sorted; one
  found out of order only later is written again sorted. Merges insert their new
  rows sorted, compare only with the stored polls of the file's time range (which
  the BRIN index finds) and summarize the index's new ranges before they commit.
- `SET LOCAL synchronous_commit = off` for file loads (a crash may lose the last
  load, which is reloaded from its file; it cannot corrupt anything), larger
  `work_mem` / `maintenance_work_mem` for the hash aggregate and index builds, one
  parallel worker per index build (two were no faster on 2 cores).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import time as time_module
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import numpy as np

from django.db import DatabaseError, IntegrityError, connection, transaction

from monitoring.data_version import writer_lock
from monitoring.models import POLL_TIME_INDEX, BusinessHours, StatusPoll, Store
from monitoring.status_parsing import (
    COPY_BINARY_HEADER,
    PARSE_PADDING,
    COPY_BINARY_TRAILER,
    StoreIdCodes,
    binary_copy_rows,
    parse_lines,
)

__all__ = [
    "FileLoadResult",
    "LoadError",
    "Rejection",
    "find_input_files",
    "load_business_hours_file",
    "load_directory",
    "load_status_file",
    "load_timezones_file",
    "read_header",
    "record_polls",
]

STATUS = "status"
HOURS = "hours"
TIMEZONES = "timezones"
KINDS = (STATUS, HOURS, TIMEZONES)

#: Required columns per kind: canonical name -> accepted header names (lowercase).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    STATUS: {"store_id": ("store_id",), "timestamp_utc": ("timestamp_utc",), "status": ("status",)},
    HOURS: {
        "store_id": ("store_id",),
        "day": ("dayofweek", "day"),
        "start_time_local": ("start_time_local",),
        "end_time_local": ("end_time_local",),
    },
    TIMEZONES: {"store_id": ("store_id",), "timezone_str": ("timezone_str",)},
}

#: File names of SPEC §1, lowercase; a name matches case-insensitively.
FILE_NAMES: dict[str, tuple[str, ...]] = {
    STATUS: ("store_status.csv", "store status.csv"),
    HOURS: ("menu_hours.csv", "menu hours.csv"),
    TIMEZONES: ("timezones.csv",),
}
TIMEZONES_PREFIX = "bq-results-"
REJECTS_SUFFIX = ".rejects.csv"

MAX_STORE_ID_LENGTH = 255
#: Rejections kept in memory on a result (all of them go to the rejects file).
MAX_REJECTIONS_KEPT = 1000
#: An empty poll table takes the bulk path (indexes rebuilt) for files from this size
#: on (~10,000 polls).
BULK_MIN_BYTES = 512 * 1024
CHUNK_BYTES = 4 << 20
# Time order as the BRIN index sees it: blocks of this many rows (its 32-page ranges
# hold ~5,400) are wide when they span more than a day and more than half the file's
# time span; a file is in time order when at most TIME_ORDER_WIDE_SHARE of its
# blocks are wide (in the public release every block spans the whole week).
TIME_ORDER_BLOCK_ROWS = 5_000
TIME_ORDER_SPAN_US = 86_400_000_000
TIME_ORDER_WIDE_SHARE = 0.1
SORTED_ROWS_PER_READ = 1 << 17
REJECTS_HEADER = ("file", "line", "field", "reason", "raw")


class LoadError(Exception):
    """The whole file is refused (unreadable, empty, missing or duplicated column)."""


@dataclass(frozen=True)
class Rejection:
    """One rejected row. `line` is the physical line in the file (header = 1);
    `index` is the item's position (from 0) for `record_polls`."""

    file: str | None
    line: int | None
    field: str
    reason: str
    raw: str = ""
    index: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"item {self.index}"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"


@dataclass
class FileLoadResult:
    """What one load did. Rows: loaded + replaced + unchanged + superseded + skipped +
    rejected = rows read (for hours, `removed` counts stored shifts deleted)."""

    kind: str
    file: str | None
    rows: int = 0
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0
    skipped: int = 0
    rejected: int = 0
    removed: int = 0
    stores_created: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    rejects_path: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        name = Path(self.file).name if self.file else "recordPolls"
        parts = [f"loaded {self.loaded}", f"replaced {self.replaced}", f"unchanged {self.unchanged}"]
        if self.superseded:
            parts.append(f"superseded {self.superseded}")
        if self.skipped:
            parts.append(f"skipped {self.skipped}")
        if self.kind == HOURS:
            parts.append(f"removed {self.removed}")
        parts.append(f"rejected {self.rejected}")
        parts.append(f"new stores {self.stores_created}")
        return f"{name} ({self.kind}): {self.rows} rows: " + ", ".join(parts) + f" in {self.seconds:.1f} s"


# --------------------------------------------------------------------------- values


_TS_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r" ?(?:(UTC|GMT|Z)|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.IGNORECASE,
)
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_STRIP = " \t"


class _Invalid(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _show(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def clean_store_id(value: str | None) -> str:
    text = (value or "").strip(_STRIP)
    if not text:
        raise _Invalid("store_id", "missing store_id")
    if len(text) > MAX_STORE_ID_LENGTH:
        raise _Invalid("store_id", f"store_id longer than {MAX_STORE_ID_LENGTH} characters")
    return text


def parse_timestamp(value: str | None) -> datetime:
    """A poll timestamp (SPEC §1) as an aware UTC datetime; `_Invalid` otherwise."""
    text = (value or "").strip(_STRIP)
    if not text:
        raise _Invalid("timestamp_utc", "missing timestamp_utc")
    match = _TS_RE.fullmatch(text)
    if not match:
        raise _Invalid("timestamp_utc", f"unparsable timestamp_utc {_show(text)}")
    year, month, day, hour, minute, second, fraction, _utc, sign, off_h, off_m = match.groups()
    try:
        if not 1900 <= int(year) <= 2999:
            raise ValueError
        if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
            raise ValueError
        offset = timedelta()
        if sign:
            hours, minutes = int(off_h), int(off_m or 0)
            if hours > 14 or minutes > 59:
                raise ValueError
            offset = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
        micro = int((fraction or "").ljust(6, "0"))
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro,
            tzinfo=timezone(offset),
        )
    except ValueError:
        raise _Invalid("timestamp_utc", f"timestamp_utc out of range {_show(text)}") from None
    return moment.astimezone(timezone.utc)


def parse_status(value: str | None) -> bool:
    text = (value or "").strip(_STRIP).lower()
    if text == "active":
        return True
    if text == "inactive":
        return False
    if not text:
        raise _Invalid("status", "missing status")
    raise _Invalid("status", f"unknown status {_show((value or '').strip(_STRIP))} (expected active or inactive)")


def parse_day(value: str | None, field_name: str = "day") -> int:
    text = (value or "").strip(_STRIP)
    if not text:
        raise _Invalid(field_name, f"missing {field_name}")
    if len(text) != 1 or text not in "0123456":
        raise _Invalid(field_name, f"invalid {field_name} {_show(text)} (expected 0-6, 0 = Monday)")
    return int(text)


def parse_local_time(value: str | None, field_name: str, *, end: bool) -> time:
    """`HH:MM` or `HH:MM:SS[.ffffff]`; `24:00` only as an end time, returned as 00:00."""
    text = (value or "").strip(_STRIP)
    if not text:
        raise _Invalid(field_name, f"missing {field_name}")
    match = _TIME_RE.fullmatch(text)
    if not match:
        raise _Invalid(field_name, f"unparsable {field_name} {_show(text)} (expected HH:MM or HH:MM:SS)")
    hour, minute = int(match.group(1)), int(match.group(2))
    second, fraction = int(match.group(3) or 0), int((match.group(4) or "").ljust(6, "0"))
    if hour == 24 and minute == 0 and second == 0 and fraction == 0:
        if end:
            return time(0, 0)
        raise _Invalid(field_name, "24:00 is only allowed as an end time")
    if hour > 23 or minute > 59 or second > 59:
        raise _Invalid(field_name, f"{field_name} out of range {_show(text)}")
    return time(hour, minute, second, fraction)


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(value: str | None) -> str | None:
    """A canonical IANA name, or None for an empty value (no row)."""
    text = (value or "").strip(_STRIP)
    if not text:
        return None
    name = _zone_names().get(text.lower())
    if name is None:
        raise _Invalid("timezone_str", f"unknown time zone {_show(text)}")
    return name


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class Header:
    path: Path
    kind: str
    names: tuple[str, ...]  # as written (trimmed)
    positions: dict[str, int]  # canonical column -> index
    length: int  # bytes of the header line, newline included
    eol: bytes  # b"\r\n" or b"\n"


def read_header(*, path: Path | str, kind: str) -> Header:
    """Reads and checks the header line; `LoadError` names the file and the column."""
    path = Path(path)
    if kind not in COLUMNS:
        raise ValueError(f"unknown kind {kind!r}")
    try:
        with path.open("rb") as handle:
            raw = handle.readline(1 << 20)
    except OSError as error:
        raise LoadError(f"{path}: cannot read: {error.strerror or error}") from None
    if not raw.strip():
        raise LoadError(f"{path}: empty file (expected a header line)")
    eol = b"\r\n" if raw.endswith(b"\r\n") else b"\n"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LoadError(f"{path}: the header line is not valid UTF-8") from None
    text = text.lstrip("\ufeff").rstrip("\r\n")
    if "\r" in text:
        raise LoadError(f"{path}: lines must end with LF or CRLF (the header line holds a lone CR)")
    try:
        names = tuple(name.strip(_STRIP).lstrip("\ufeff") for name in next(csv.reader([text], strict=True), []))
    except csv.Error as error:
        raise LoadError(f"{path}: unreadable header line: {error}") from None
    lowered = [name.lower() for name in names]
    seen: set[str] = set()
    for name in lowered:
        if name and name in seen:
            raise LoadError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    positions: dict[str, int] = {}
    for column, aliases in COLUMNS[kind].items():
        index = next((lowered.index(alias) for alias in aliases if alias in lowered), None)
        if index is None:
            wanted = " or ".join(repr(a if a != "dayofweek" else "dayOfWeek") for a in aliases)
            raise LoadError(
                f"{path}: missing required column {wanted} for a {kind} file"
                f" (header: {','.join(names)})"
            )
        positions[column] = index
    return Header(path=path, kind=kind, names=names, positions=positions, length=len(raw), eol=eol)


# --------------------------------------------------------------------------- records


class _Records:
    """Physical lines -> CSV records, exact line numbers, structural rejections.

    Fed one physical line at a time (bytes, line end included); returns a finished
    record `(line, raw_bytes, fields)`, a `Rejection`, `None` while a quoted value is
    still open, or `_BLANK`."""

    def __init__(self, file_name: str, width: int) -> None:
        self.file_name = file_name
        self.width = width
        self.pending: list[bytes] = []
        self.pending_line = 0
        self.quotes = 0

    def feed(self, line_no: int, raw: bytes):
        if not self.pending:
            if not raw.strip(b" \t\r\n"):
                return _BLANK
            quotes = raw.count(b'"')
            if quotes % 2:
                self.pending, self.pending_line, self.quotes = [raw], line_no, quotes
                return None
            return self._finish(line_no, raw)
        self.pending.append(raw)
        self.quotes += raw.count(b'"')
        if self.quotes % 2:
            return None
        joined, first = b"".join(self.pending), self.pending_line
        self.pending, self.quotes = [], 0
        return self._finish(first, joined)

    def close(self):
        if not self.pending:
            return None
        joined, first = b"".join(self.pending), self.pending_line
        self.pending = []
        return self._reject(first, "", "unterminated quoted value", joined)

    def _reject(self, line_no: int, field_name: str, reason: str, raw: bytes | str) -> Rejection:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "backslashreplace")
        return Rejection(self.file_name, line_no, field_name, reason, raw.rstrip("\r\n"))

    def _finish(self, line_no: int, raw: bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return self._reject(line_no, "", f"invalid UTF-8 (byte {error.start + 1} of the row)", raw)
        if "\x00" in text:
            return self._reject(line_no, "", "NUL character in the row", text.replace("\x00", "\\x00"))
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as error:
            return self._reject(line_no, "", f"malformed CSV: {error}", text)
        if len(rows) != 1:
            return self._reject(line_no, "", "malformed CSV row", text)
        fields = rows[0]
        if len(fields) != self.width:
            return self._reject(line_no, "", f"expected {self.width} fields, found {len(fields)}", text)
        return (line_no, text.rstrip("\r\n"), fields)


_BLANK = object()


def _physical_lines(handle, first_line: int) -> Iterator[tuple[int, bytes]]:
    line_no = first_line
    for raw in handle:
        yield line_no, raw
        line_no += 1


# --------------------------------------------------------------------------- helpers


def _copy_rows(cursor, table: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> int:
    """COPY Python rows into a table through an in-memory CSV (values quoted, so any
    text is safe; None is written as an unquoted empty value = NULL)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        count += 1
    if not count:
        return 0
    data = buffer.getvalue()
    # csv writes "" for an empty string and nothing for None: both would be NULL; we
    # never need empty strings in these staging tables.
    cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", io.StringIO(data), CHUNK_BYTES
    )
    return count


def _staging_name(kind: str) -> str:
    return f"monitoring_load_{kind}_{uuid.uuid4().hex[:12]}"


def _tune_session(cursor, *, bulk: bool) -> None:
    cursor.execute("SET LOCAL TIME ZONE 'UTC'")
    if bulk:
        # A lost commit after a crash is reloaded from the file; no corruption risk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 1")


class _Progress:
    def __init__(self, *, enabled: bool, total: int, desc: str) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr, leave=False)

    def update(self, amount: int) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def phase(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _RejectSink:
    """Collects rejections: a count, the first few in memory, all in a temporary
    CSV that becomes the rejects file once the transaction has committed."""

    def __init__(self, path: Path | None, *, keep_all: bool = False) -> None:
        self.path = Path(path) if path else None
        self.keep = sys.maxsize if keep_all else MAX_REJECTIONS_KEPT
        self.count = 0
        self.kept: list[Rejection] = []
        self.store_ids: set[str] = set()
        self._tmp: Path | None = None
        self._handle = None
        self._writer = None

    def add(self, rejection: Rejection, store_id: str | None = None) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(rejection)
        if store_id:
            self.store_ids.add(store_id)
        if self.path is not None:
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._tmp = self.path.with_name(self.path.name + f".{uuid.uuid4().hex[:8]}.tmp")
                self._handle = self._tmp.open("w", newline="", encoding="utf-8")
                self._writer = csv.writer(self._handle)
                self._writer.writerow(REJECTS_HEADER)
            index_or_line = rejection.line if rejection.line is not None else rejection.index
            self._writer.writerow(
                [rejection.file or "", index_or_line, rejection.field, rejection.reason, rejection.raw]
            )

    def commit(self) -> Path | None:
        """Publishes the rejects file (or removes a stale one when nothing was rejected)."""
        if self.path is None:
            return None
        if self._handle is None:
            if self.path.exists():
                self.path.unlink()
            return None
        self._handle.close()
        self._tmp.replace(self.path)
        return self.path

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._tmp.unlink(missing_ok=True)


def _finished(result: FileLoadResult, sink: _RejectSink, started: float) -> FileLoadResult:
    """Once the transaction has committed: the rejections, the rejects file, the time."""
    result.rejected = sink.count
    result.rejections = sink.kept
    result.rejects_path = sink.commit()
    result.seconds = time_module.perf_counter() - started
    return result


def _insert_stores(cursor, select_sql: str) -> int:
    store = Store._meta.db_table
    cursor.execute(
        f"INSERT INTO {store} (store_id) {select_sql} ON CONFLICT (store_id) DO NOTHING"
    )
    return cursor.rowcount


def _insert_store_ids(cursor, store_ids: Iterable[str]) -> int:
    ids = sorted(set(store_ids))
    if not ids:
        return 0
    cursor.execute(
        f"INSERT INTO {Store._meta.db_table} (store_id) SELECT unnest(%s::text[]) ON CONFLICT (store_id) DO NOTHING",
        [ids],
    )
    return cursor.rowcount


# --------------------------------------------------------------------------- status polls

class _StorePks:
    """Store ids -> store primary keys for one file load, while COPY has the
    connection: existing stores are read once (the writer lock keeps other writers
    out until the load commits), new ones get keys from a block drawn from the
    store sequence and are inserted after the polls, in the same transaction."""

    def __init__(self, cursor) -> None:
        store = Store._meta.db_table
        self.codes = StoreIdCodes()
        cursor.execute(f"SELECT store_id, id FROM {store}")
        self._existing = {store_id.encode(): pk for store_id, pk in cursor.fetchall()}
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [store])
        self._sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [self._sequence])
        self._next = cursor.fetchone()[0]
        self._pk_of_code = np.empty(0, np.int64)
        self._new: list[tuple[int, str]] = []

    def pks(self, codes: np.ndarray) -> np.ndarray:
        known = len(self._pk_of_code)
        if len(self.codes.store_ids) > known:
            added = []
            for store_id in self.codes.store_ids[known:]:
                pk = self._existing.get(store_id)
                if pk is None:
                    pk, self._next = self._next, self._next + 1
                    self._new.append((pk, store_id.decode("utf-8")))
                added.append(pk)
            self._pk_of_code = np.concatenate((self._pk_of_code, np.array(added, np.int64)))
        return self._pk_of_code[codes]

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


@dataclass
class _PollArrays:
    """Parsed, valid polls: store key, instant (µs since 2000-01-01 UTC), status, line."""

    store_pk: np.ndarray
    moment: np.ndarray
    is_active: np.ndarray
    line: np.ndarray

    @classmethod
    def concatenate(cls, parts: list[_PollArrays]) -> _PollArrays:
        if not parts:
            return cls(*(np.empty(0, dtype) for dtype in (np.int64, np.int64, np.bool_, np.int64)))
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in _POLL_ARRAY_FIELDS))

    def latest_per_key(self) -> _PollArrays:
        """One poll per (store, instant), the one of the latest line, in key order."""
        order = np.lexsort((self.line, self.moment, self.store_pk))
        rows = _PollArrays(*(getattr(self, name)[order] for name in _POLL_ARRAY_FIELDS))
        last = np.ones(len(order), bool)
        last[:-1] = (rows.store_pk[1:] != rows.store_pk[:-1]) | (rows.moment[1:] != rows.moment[:-1])
        return _PollArrays(*(getattr(rows, name)[last] for name in _POLL_ARRAY_FIELDS))

    def copy_rows(self, *, with_line: bool) -> bytes:
        columns = [self.store_pk, self.moment, self.is_active] + ([self.line] if with_line else [])
        return binary_copy_rows(columns)


_POLL_ARRAY_FIELDS = ("store_pk", "moment", "is_active", "line")
_KEY_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def _poll_arrays(rows: list[tuple[int, str, datetime, bool]], stores) -> _PollArrays:
    """Rows validated one by one, (line, store_id, instant, is_active), as arrays."""
    codes = np.fromiter((stores.codes.code_of(row[1].encode("utf-8")) for row in rows), np.int64, len(rows))
    return _PollArrays(
        store_pk=stores.pks(codes),
        moment=np.fromiter(((row[2] - _PG_EPOCH) // _MICROSECOND for row in rows), np.int64, len(rows)),
        is_active=np.fromiter((row[3] for row in rows), np.bool_, len(rows)),
        line=np.fromiter((row[0] for row in rows), np.int64, len(rows)),
    )


class _PollStream:
    """The file object handed to `COPY … FROM STDIN (FORMAT binary)`: reads the status
    file in chunks; whole chunks of canonical lines are parsed as arrays
    (`status_parsing`), any other line one by one by `on_record` (which rejects or
    returns a valid row); returns the valid polls as binary COPY rows. For the
    empty-table path (`with_line` False) it also keeps them as arrays, for a second
    pass if the file holds a key twice or is not in time order; the staging path
    de-duplicates in SQL."""

    def __init__(self, handle, header: Header, records: _Records, on_record, progress: _Progress,
                 stores: _StorePks, *, with_line: bool) -> None:
        self.handle = handle
        self.header = header
        self.records = records
        self.on_record = on_record
        self.progress = progress
        self.stores = stores
        self.with_line = with_line
        self.columns = {
            "width": len(header.names),
            "store_id": header.positions["store_id"],
            "timestamp": header.positions["timestamp_utc"],
            "status": header.positions["status"],
            "crlf": header.eol == b"\r\n",
        }
        self.next_line = 2
        self.canonical = 0  # rows parsed as arrays
        self.kept: list[_PollArrays] = []  # the empty-table path only
        self.time_spans: list[np.ndarray] = []  # the empty-table path only: per block of rows
        self.time_bounds: list[tuple[int, int]] = []  # and per chunk
        self.written_in_time_order = False  # all rows read first, then written sorted
        self.sorted_rows: _RowsInTimeOrder | None = None  # while they are being written
        self.key_hashes: list[np.ndarray] = []  # the staging path only: a hash of each row's key
        self.state = "header"  # header -> rows -> trailer -> done
        self.python_seconds = 0.0

    def read(self, size: int = -1) -> bytes:
        prefix = COPY_BINARY_HEADER if self.state == "header" else b""
        if self.state == "header":
            self.state = "rows"
        if self.sorted_rows is not None:
            rows = self._next_sorted_rows()
            if rows:
                return prefix + rows
        while self.state == "rows":
            polls = self._next_polls()
            if polls is None:
                continue
            if not self.with_line and len(self.kept) == 1 and not self.in_time_order():
                # The first chunk is not in time order (nor, then, the file, as a rule):
                # all of it is read first and written once, sorted.
                while self.state == "rows":
                    self._next_polls()
                self.kept = [_PollArrays.concatenate(self.kept)]
                self.sorted_rows = _RowsInTimeOrder(self.kept[0])
                self.written_in_time_order = True
                return prefix + self._next_sorted_rows()
            return prefix + polls.copy_rows(with_line=self.with_line)
        if self.state == "trailer":
            self.state = "done"
            return prefix + COPY_BINARY_TRAILER
        return b""

    def _next_sorted_rows(self) -> bytes:
        started = time_module.perf_counter()
        rows = self.sorted_rows.next_rows()
        if not rows:
            self.sorted_rows = None
        self.python_seconds += time_module.perf_counter() - started
        return rows

    def _next_polls(self) -> _PollArrays | None:
        """The valid polls of the next chunk (None when it has none), kept and noted on
        the empty-table path."""
        started = time_module.perf_counter()
        data, lines_end = self._next_chunk()
        polls = self._process(data, lines_end) if lines_end else None
        if self.state == "trailer":
            closing = self.records.close()
            if closing is not None:
                self.on_record(closing)
        if polls is not None and len(polls.line) and not self.with_line:
            self.kept.append(polls)
            self._note_time_order(polls.moment)
        elif polls is not None and len(polls.line):
            self.key_hashes.append(polls.store_pk.astype(np.uint64) * _KEY_MULTIPLIER ^ polls.moment.astype(np.uint64))
        self.python_seconds += time_module.perf_counter() - started
        return polls if polls is not None and len(polls.line) else None

    def _note_time_order(self, moments: np.ndarray) -> None:
        edges = np.arange(0, len(moments), TIME_ORDER_BLOCK_ROWS)
        self.time_spans.append(np.maximum.reduceat(moments, edges) - np.minimum.reduceat(moments, edges))
        self.time_bounds.append((int(moments.min()), int(moments.max())))

    def keys_distinct(self) -> bool:
        """On the staging path: whether no (store, instant) came twice. Distinct hashes
        prove it; equal ones (a key twice, or ~never two keys with one hash) say no."""
        hashes = np.sort(np.concatenate(self.key_hashes)) if self.key_hashes else np.empty(0, np.uint64)
        return not (hashes[1:] == hashes[:-1]).any()

    def in_time_order(self) -> bool:
        """Whether the rows kept so far are in time order as the BRIN index needs it."""
        if self.written_in_time_order or not self.time_spans:
            return True
        lows, highs = zip(*self.time_bounds)
        wide = np.concatenate(self.time_spans) > max(TIME_ORDER_SPAN_US, (max(highs) - min(lows)) // 2)
        return wide.mean() <= TIME_ORDER_WIDE_SHARE

    def _next_chunk(self) -> tuple[bytes, int]:
        """(data, n): the next whole lines are data[:n]; data holds at least
        PARSE_PADDING bytes more (the following bytes of the file, or zeros), so the
        parser reads past the last line without a copy. The file is left at data[n]."""
        data = self.handle.read(CHUNK_BYTES + PARSE_PADDING)
        at_end = len(data) < CHUNK_BYTES + PARSE_PADDING
        lines_end = data.rfind(b"\n", 0, CHUNK_BYTES) + 1
        while lines_end == 0 and not at_end:  # a line longer than a chunk
            more = self.handle.read(CHUNK_BYTES)
            data += more
            at_end = len(more) < CHUNK_BYTES
            lines_end = data.rfind(b"\n", 0, len(data) - PARSE_PADDING) + 1
        if not at_end:
            self.handle.seek(lines_end - len(data), io.SEEK_CUR)
            self.progress.update(lines_end)
            return data, lines_end
        # The end of the file: the rest, whose last line may lack its line end.
        self.state = "trailer"
        self.progress.update(len(data))
        if data and not data.endswith(b"\n"):
            data += self.header.eol
        return data + bytes(PARSE_PADDING), len(data)

    def _process(self, data: bytes, lines_end: int) -> _PollArrays:
        parsed = parse_lines(
            data, lines_end, in_quote=bool(self.records.pending), store_codes=self.stores.codes, **self.columns
        )
        lines = np.arange(self.next_line, self.next_line + len(parsed.line_ends))
        self.next_line += len(lines)
        self.canonical += len(parsed.codes)
        parts = [_PollArrays(self.stores.pks(parsed.codes), parsed.moments, parsed.is_active, lines[parsed.canonical])]
        others: list[tuple[int, str, datetime, bool]] = []
        for index in np.flatnonzero(~parsed.canonical).tolist():
            raw = data[parsed.line_starts[index] : parsed.line_ends[index] + 1]
            record = self.records.feed(int(lines[index]), raw)
            if record is not None:
                row = self.on_record(record)
                if row is not None:
                    others.append(row)
        if others:
            parts.append(_poll_arrays(others, self.stores))
        return _PollArrays.concatenate(parts)


class _RowsInTimeOrder:
    """Polls in memory, written in time order as binary COPY rows, a slice at a time
    (PostgreSQL stores one slice while the next is gathered): `next_rows` for a stream
    that frames them itself, `read` as a whole COPY stream (a second pass)."""

    def __init__(self, polls: _PollArrays) -> None:
        self.polls = polls
        self.order = np.argsort(polls.moment)  # not stable: one row per key is stored, whatever the order of ties
        self.written = 0
        self.state = "header"  # header -> rows -> done

    def next_rows(self) -> bytes:
        """The next slice of rows; b"" once all are written."""
        rows = self.order[self.written : self.written + SORTED_ROWS_PER_READ]
        self.written += len(rows)
        if not len(rows):
            return b""
        return _PollArrays(*(getattr(self.polls, name)[rows] for name in _POLL_ARRAY_FIELDS)).copy_rows(with_line=False)

    def read(self, size: int = -1) -> bytes:
        if self.state == "header":
            self.state = "rows"
            return COPY_BINARY_HEADER + self.next_rows()
        if self.state == "rows":
            rows = self.next_rows()
            if rows:
                return rows
            self.state = "done"
            return COPY_BINARY_TRAILER
        return b""


def load_status_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a status-poll file (SPEC §1) in one transaction; see the module docstring."""
    started = time_module.perf_counter()
    header = read_header(path=path, kind=STATUS)
    path = header.path
    result = FileLoadResult(kind=STATUS, file=str(path))
    sink = _RejectSink(Path(rejects_path) if rejects_path else None)
    bar = _Progress(enabled=progress, total=path.stat().st_size, desc=path.name)
    records = _Records(path.name, len(header.names))

    def on_record(record):
        """A record read one by one: its valid poll, or None (counted or rejected)."""
        result.rows += 1
        if record is _BLANK:
            result.skipped += 1
            return None
        if isinstance(record, Rejection):
            sink.add(record)
            return None
        line_no, raw, fields = record
        parsed = _parse_poll_fields(
            fields[header.positions["store_id"]],
            fields[header.positions["timestamp_utc"]],
            fields[header.positions["status"]],
        )
        if isinstance(parsed, _Invalid):
            sink.add(Rejection(path.name, line_no, parsed.field, parsed.reason, raw), parsed.store_id)
            return None
        return (line_no, *parsed)

    timings = result.timings
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _tune_session(cursor, bulk=True)
            t0 = time_module.perf_counter()
            # Other writers of stores, hours and polls wait for this load (their first
            # write waits for the writer lock); readers do not.
            writer_lock(cursor)
            stores = _StorePks(cursor)
            bulk = _prepare_bulk_path(cursor, timings) if path.stat().st_size >= BULK_MIN_BYTES else None
            timings["prepare"] = time_module.perf_counter() - t0
            with path.open("rb") as handle:
                handle.seek(header.length)
                stream = _PollStream(handle, header, records, on_record, bar, stores, with_line=bulk is None)
                if bulk is not None:
                    counts = _bulk_load(cursor, bulk, stream, timings)
                else:
                    counts = _staged_merge(cursor, stream, timings)
            timings["python"] = stream.python_seconds
            result.rows += stream.canonical
            result.loaded, result.replaced, result.unchanged, result.superseded = counts
            result.stores_created = stores.insert_new(cursor)
            result.stores_created += _insert_store_ids(cursor, sink.store_ids)
            t0 = time_module.perf_counter()
    except BaseException:
        sink.discard()
        raise
    finally:
        bar.close()
    timings["commit"] = time_module.perf_counter() - t0
    return _finished(result, sink, started)


def _parse_poll_fields(store_id: Any, timestamp: Any, status: Any):
    """(store_id, UTC instant, is_active) or an `_Invalid` carrying the store id when
    that one was fine (its store is still created)."""
    sid = None
    try:
        sid = clean_store_id(store_id)
        moment = parse_timestamp(timestamp)
        active = parse_status(status)
    except _Invalid as error:
        error.store_id = sid
        return error
    return sid, moment, active


def _staged_merge(cursor, stream: _PollStream, timings: dict) -> tuple[int, int, int, int]:
    """Polls into a table already holding some: streamed into an unlogged staging
    table, then one set-based merge (`_merge_locked`)."""
    staging = _staging_name("polls")
    cursor.execute(
        f"CREATE UNLOGGED TABLE {staging} (store_pk bigint, ts timestamptz, is_active boolean, line bigint)"
        " WITH (autovacuum_enabled = off)"
    )
    t0 = time_module.perf_counter()
    cursor.copy_expert(f"COPY {staging} FROM STDIN WITH (FORMAT binary)", stream, CHUNK_BYTES)
    valid = cursor.rowcount
    timings["copy"] = time_module.perf_counter() - t0
    t0 = time_module.perf_counter()
    distinct, loaded, replaced = _merge_locked(
        cursor, f"SELECT store_pk, ts, is_active, line FROM {staging}", keys_distinct=stream.keys_distinct()
    )
    timings["merge"] = time_module.perf_counter() - t0
    # The BRIN ranges the new polls filled, summarized now rather than by autovacuum
    # later: until then every query of a time range reads all of them.
    t0 = time_module.perf_counter()
    cursor.execute("SELECT brin_summarize_new_values(%s::regclass)", [POLL_TIME_INDEX])
    timings["summarize"] = time_module.perf_counter() - t0
    cursor.execute(f"DROP TABLE {staging}")
    return loaded, replaced, distinct - loaded - replaced, valid - distinct


@dataclass
class _BulkState:
    constraints: list[tuple[str, str, str]]  # name, definition, type ('p', 'u' or 'f')
    indexes: list[tuple[str, str]]  # name, CREATE INDEX statement


def _prepare_bulk_path(cursor, timings: dict) -> _BulkState | None:
    """If the poll table is empty: lock it, drop its indexes and constraints
    (definitions kept from the catalog, so they come back exactly as they were). None
    when the table has rows or cannot be altered now (in use by another transaction,
    or pending trigger events in an enclosing transaction)."""
    polls = StatusPoll._meta.db_table
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {polls})")
    if not cursor.fetchone()[0]:
        return None
    try:
        with transaction.atomic():
            # NOWAIT: a reader, or a writer queued for the writer lock, would otherwise
            # wait for us while we wait for it.
            cursor.execute(f"LOCK TABLE {polls} IN ACCESS EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC, conname",
                [polls],
            )
            constraints = [tuple(row) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = %s::regclass AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)"
                " ORDER BY i.relname",
                [polls],
            )
            indexes = [tuple(row) for row in cursor.fetchall()]
            for name, _definition, _type in constraints:
                cursor.execute(f'ALTER TABLE {polls} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) not in ("55006", "55P03"):  # in use; lock not available
            raise
        timings["bulk_path_refused"] = 1.0
        return None
    return _BulkState(constraints=constraints, indexes=indexes)


def _bulk_load(cursor, bulk: _BulkState, stream: _PollStream, timings: dict) -> tuple:
    """The empty poll table, its indexes dropped: the file streams straight into it
    (binary COPY, parsed as it goes), then the primary key is rebuilt. Optimistic: no
    de-duplication, as the rebuilt primary key proves there was no key twice; if
    there was, roll back to a savepoint and write the latest poll per key."""
    try:
        with transaction.atomic():
            loaded = _bulk_write(cursor, bulk, stream, timings)
        return loaded, 0, 0, 0
    except IntegrityError as error:
        if getattr(error.__cause__, "pgcode", None) != "23505":
            raise
    t0 = time_module.perf_counter()
    polls = _PollArrays.concatenate(stream.kept)
    latest = polls.latest_per_key()
    timings["dedupe"] = time_module.perf_counter() - t0
    loaded = _bulk_write(cursor, bulk, _RowsInTimeOrder(latest), timings)
    return loaded, 0, 0, len(polls.line) - len(latest.line)


def _bulk_write(cursor, bulk: _BulkState, stream, timings: dict) -> int:
    polls = StatusPoll._meta.db_table
    t0 = time_module.perf_counter()
    cursor.copy_expert(
        f"COPY {polls} (store_id, timestamp_utc, is_active) FROM STDIN WITH (FORMAT binary)", stream, CHUNK_BYTES
    )
    inserted = cursor.rowcount
    timings["bulk_copy"] = time_module.perf_counter() - t0
    if isinstance(stream, _PollStream) and not stream.in_time_order():
        # Its first chunk was in time order, the rest was not: written again sorted,
        # before the indexes exist (the BRIN time index is only as good as the
        # table's time order).
        t0 = time_module.perf_counter()
        cursor.execute(f"TRUNCATE {polls}")
        in_order = _RowsInTimeOrder(_PollArrays.concatenate(stream.kept))
        cursor.copy_expert(
            f"COPY {polls} (store_id, timestamp_utc, is_active) FROM STDIN WITH (FORMAT binary)", in_order, CHUNK_BYTES
        )
        timings["time_order"] = time_module.perf_counter() - t0
    # The primary key first: it fails on a key twice.
    for name, definition, _type in sorted(bulk.constraints, key=lambda c: "pufc".index(c[2])):
        t0 = time_module.perf_counter()
        cursor.execute(f'ALTER TABLE {polls} ADD CONSTRAINT "{name}" {definition}')
        timings[f"rebuild {name}"] = time_module.perf_counter() - t0
    for name, definition in bulk.indexes:
        t0 = time_module.perf_counter()
        cursor.execute(definition)
        timings[f"rebuild {name}"] = time_module.perf_counter() - t0
    t0 = time_module.perf_counter()
    cursor.execute(f"ANALYZE {polls}")
    timings["analyze"] = time_module.perf_counter() - t0
    return inserted


def _latest_sql(source: str) -> str:
    """One row per key, the status of its latest line: max(line * 2 + status) keeps
    the latest line and carries its status in the low bit, so a hash aggregate does
    it (a DISTINCT ON … ORDER BY line DESC sort took twice as long)."""
    return (
        f"SELECT store_pk, ts, tag % 2 = 1 AS is_active, tag / 2 AS line FROM"
        f" (SELECT store_pk, ts, max(line * 2 + is_active::int) AS tag FROM ({source}) src GROUP BY store_pk, ts) g"
    )


def _time_range_sql(cursor, source: str) -> str:
    """`BETWEEN first AND last` of the instants in source, as literals: bounds the
    stored polls a merge compares with to the block ranges the BRIN index finds (a
    day's file no longer scans the whole table)."""
    cursor.execute(f"SELECT min(ts), max(ts) FROM ({source}) src")
    return cursor.mogrify("BETWEEN %s AND %s", cursor.fetchone()).decode()


def _merge_locked(cursor, source: str, *, keys_distinct: bool) -> tuple[int, int, int]:
    """The file path of the upsert: with other writers locked out for the rest of the
    transaction, new keys are plain inserts and changed ones plain updates, without
    ON CONFLICT's per-row speculative insertion (~2x faster for new polls). When no key
    came twice (`keys_distinct`), every line is its key's latest and the aggregate
    that picks it is skipped (1.5 s of a 2 M-row reload). Returns (distinct keys,
    inserted, updated)."""
    polls = StatusPoll._meta.db_table
    in_range = _time_range_sql(cursor, source)
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


def _merge(cursor, source: str) -> tuple[int, int, int]:
    """One set-based upsert: the later line wins per key, and only rows that differ
    from what is stored reach the INSERT (an ON CONFLICT that meets an identical row
    would still lock and rewrite it). Returns (distinct keys, inserted, updated)."""
    polls = StatusPoll._meta.db_table
    in_range = _time_range_sql(cursor, source)
    cursor.execute(
        f"WITH latest AS ({_latest_sql(source)}),"
        f" compared AS MATERIALIZED ("
        f" SELECT n.store_pk, n.ts, n.is_active, p.is_active AS stored FROM latest n"
        f" LEFT JOIN {polls} p ON p.store_id = n.store_pk AND p.timestamp_utc = n.ts AND p.timestamp_utc {in_range}),"
        f" ins AS ("
        f" INSERT INTO {polls} (store_id, timestamp_utc, is_active)"
        f" SELECT store_pk, ts, is_active FROM compared WHERE stored IS DISTINCT FROM is_active ORDER BY ts"
        f" ON CONFLICT (store_id, timestamp_utc) DO UPDATE SET is_active = EXCLUDED.is_active"
        f" WHERE {polls}.is_active IS DISTINCT FROM EXCLUDED.is_active"
        f" RETURNING (xmax = 0) AS inserted)"
        f" SELECT (SELECT count(*) FROM compared), count(*) FILTER (WHERE inserted),"
        f" count(*) FILTER (WHERE NOT inserted) FROM ins"
    )
    return tuple(cursor.fetchone())


def record_polls(*, polls: Iterable[tuple[str, str, str]]) -> FileLoadResult:
    """Live polls (e.g. the GraphQL `recordPolls` mutation): each item is
    (store_id, timestamp_utc, status) as text, validated exactly like a CSV row and
    upserted the same way, in one transaction. Rejections carry the item's `index`
    (from 0), its field and reason; the good items are stored."""
    started = time_module.perf_counter()
    result = FileLoadResult(kind="polls", file=None)
    sink = _RejectSink(None, keep_all=True)
    rows: list[tuple[int, str, str, bool]] = []
    for index, item in enumerate(polls):
        result.rows += 1
        try:
            values = tuple(item)
        except TypeError:
            values = ()
        raw = ",".join("" if v is None else str(v) for v in values)
        if len(values) != 3:
            sink.add(Rejection(None, None, "", f"expected 3 values, found {len(values)}", raw, index))
            continue
        texts = ["" if v is None else str(v) for v in values]
        if any("\x00" in text for text in texts):
            sink.add(Rejection(None, None, "", "NUL character", raw.replace("\x00", "\\x00"), index))
            continue
        parsed = _parse_poll_fields(*texts)
        if isinstance(parsed, _Invalid):
            sink.add(Rejection(None, None, parsed.field, parsed.reason, raw, index), parsed.store_id)
        else:
            rows.append((index, parsed[0], parsed[1].isoformat(), parsed[2]))
    with transaction.atomic(), connection.cursor() as cursor:
        _tune_session(cursor, bulk=False)
        staging = _staging_name("polls")
        cursor.execute(f"CREATE TEMP TABLE {staging} (line bigint, sid text, ts timestamptz, is_active boolean) ON COMMIT DROP")
        _copy_rows(cursor, staging, ("line", "sid", "ts", "is_active"), rows)
        result.stores_created = _insert_stores(cursor, f"SELECT DISTINCT sid FROM {staging}")
        result.stores_created += _insert_store_ids(cursor, sink.store_ids)
        if rows:
            store = Store._meta.db_table
            distinct, result.loaded, result.replaced = _merge(
                cursor,
                f"SELECT s.id AS store_pk, n.ts, n.is_active, n.line FROM {staging} n JOIN {store} s ON s.store_id = n.sid",
            )
            result.unchanged = distinct - result.loaded - result.replaced
            result.superseded = len(rows) - distinct
        cursor.execute(f"DROP TABLE {staging}")
    return _finished(result, sink, started)


# --------------------------------------------------------------------------- small files


def _read_small_file(header: Header, sink: _RejectSink, result: FileLoadResult, bar: _Progress):
    """Every record of a small file: yields (line, raw, fields); rejects the rest."""
    records = _Records(header.path.name, len(header.names))
    with header.path.open("rb") as handle:
        handle.seek(header.length)
        for line_no, raw in _physical_lines(handle, 2):
            bar.update(len(raw))
            if not raw.endswith(b"\n"):
                raw += header.eol
            record = records.feed(line_no, raw)
            if record is None:
                continue
            if record is _BLANK:
                result.rows += 1
                result.skipped += 1
            elif isinstance(record, Rejection):
                result.rows += 1
                sink.add(record)
            else:
                result.rows += 1
                yield record
    closing = records.close()
    if closing is not None:
        result.rows += 1
        sink.add(closing)


def load_business_hours_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a business-hours file: for every store with a valid row, the file's
    shifts replace the stored ones (see the module docstring)."""
    started = time_module.perf_counter()
    header = read_header(path=path, kind=HOURS)
    path = header.path
    result = FileLoadResult(kind=HOURS, file=str(path))
    sink = _RejectSink(Path(rejects_path) if rejects_path else None)
    bar = _Progress(enabled=progress, total=path.stat().st_size, desc=path.name)
    pos = header.positions
    day_field = header.names[pos["day"]] or "day"
    shifts: dict[tuple[str, int, time, time], int] = {}
    try:
        for line_no, raw, fields in _read_small_file(header, sink, result, bar):
            sid = None
            try:
                sid = clean_store_id(fields[pos["store_id"]])
                day = parse_day(fields[pos["day"]], day_field)
                start = parse_local_time(fields[pos["start_time_local"]], "start_time_local", end=False)
                end = parse_local_time(fields[pos["end_time_local"]], "end_time_local", end=True)
            except _Invalid as error:
                sink.add(Rejection(path.name, line_no, error.field, error.reason, raw), sid)
                continue
            key = (sid, day, start, end)
            if key in shifts:
                result.superseded += 1
            shifts[key] = line_no
        bar.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            _tune_session(cursor, bulk=True)
            staging = _staging_name("hours")
            cursor.execute(
                f"CREATE TEMP TABLE {staging} (sid text, day smallint, start_time time, end_time time)"
                " ON COMMIT DROP"
            )
            _copy_rows(cursor, staging, ("sid", "day", "start_time", "end_time"), shifts.keys())
            result.stores_created = _insert_stores(cursor, f"SELECT DISTINCT sid FROM {staging}")
            result.stores_created += _insert_store_ids(cursor, sink.store_ids)
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
    except BaseException:
        sink.discard()
        raise
    finally:
        bar.close()
    return _finished(result, sink, started)


def load_timezones_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a time-zone file: upsert per store (the later row wins); an empty name
    is no row (the store is created, its zone left as it was)."""
    started = time_module.perf_counter()
    header = read_header(path=path, kind=TIMEZONES)
    path = header.path
    result = FileLoadResult(kind=TIMEZONES, file=str(path))
    sink = _RejectSink(Path(rejects_path) if rejects_path else None)
    bar = _Progress(enabled=progress, total=path.stat().st_size, desc=path.name)
    pos = header.positions
    zones: dict[str, str] = {}
    empty: set[str] = set()
    try:
        for line_no, raw, fields in _read_small_file(header, sink, result, bar):
            sid = None
            try:
                sid = clean_store_id(fields[pos["store_id"]])
                zone = parse_zone(fields[pos["timezone_str"]])
            except _Invalid as error:
                sink.add(Rejection(path.name, line_no, error.field, error.reason, raw), sid)
                continue
            if zone is None:
                result.skipped += 1
                empty.add(sid)
                continue
            if sid in zones:
                result.superseded += 1
            zones[sid] = zone
        bar.phase("writing")
        with transaction.atomic(), connection.cursor() as cursor:
            _tune_session(cursor, bulk=True)
            staging = _staging_name("zones")
            cursor.execute(f"CREATE TEMP TABLE {staging} (sid text PRIMARY KEY, zone text) ON COMMIT DROP")
            _copy_rows(cursor, staging, ("sid", "zone"), zones.items())
            result.stores_created = _insert_stores(cursor, f"SELECT sid FROM {staging}")
            result.stores_created += _insert_store_ids(cursor, sink.store_ids | empty)
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
    except BaseException:
        sink.discard()
        raise
    finally:
        bar.close()
    return _finished(result, sink, started)


# --------------------------------------------------------------------------- directories

LOADERS = {
    STATUS: load_status_file,
    HOURS: load_business_hours_file,
    TIMEZONES: load_timezones_file,
}


def _kind_of(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(REJECTS_SUFFIX):
        return None
    for kind, names in FILE_NAMES.items():
        if lowered in names:
            return kind
    if lowered.startswith(TIMEZONES_PREFIX) and lowered.endswith(".csv"):
        return TIMEZONES
    return None


def find_input_files(*, directory: Path | str) -> dict[str, Path]:
    """The input files of a folder by their SPEC §1 names (case-insensitive):
    {kind: path} for the kinds present. `LoadError` if the folder cannot be read or
    holds two candidates for one kind."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LoadError(f"{directory}: not a directory")
    found: dict[str, list[Path]] = {}
    try:
        entries = sorted(directory.iterdir())
    except OSError as error:
        raise LoadError(f"{directory}: cannot list: {error.strerror or error}") from None
    for entry in entries:
        kind = _kind_of(entry.name)
        if kind and entry.is_file():
            found.setdefault(kind, []).append(entry)
    files: dict[str, Path] = {}
    for kind, paths in found.items():
        if len(paths) > 1:
            raise LoadError(
                f"{directory}: more than one {kind} file: {', '.join(p.name for p in paths)}; name one explicitly"
            )
        files[kind] = paths[0]
    return files


def default_rejects_path(path: Path, rejects_dir: Path | None = None) -> Path:
    """`<name without .csv>.rejects.csv`, in `rejects_dir` or next to the input."""
    stem = path.name[:-4] if path.name.lower().endswith(".csv") else path.name
    return (rejects_dir or path.parent) / f"{stem}{REJECTS_SUFFIX}"


def load_directory(
    *, directory: Path | str, rejects_dir: Path | str | None = None, progress: bool = False
) -> list[FileLoadResult]:
    """Loads the files `find_input_files` finds (time zones, hours, then polls), each
    in its own transaction; rejects files go to `rejects_dir` (None: no files)."""
    files = find_input_files(directory=directory)
    if not files:
        raise LoadError(f"{directory}: no input file found (expected names: {', '.join(_expected_names())})")
    for kind, path in files.items():
        read_header(path=path, kind=kind)  # refuse a bad file before loading any
    results = []
    for kind in (TIMEZONES, HOURS, STATUS):
        if kind in files:
            rejects = default_rejects_path(files[kind], Path(rejects_dir)) if rejects_dir else None
            results.append(LOADERS[kind](path=files[kind], rejects_path=rejects, progress=progress))
    return results


def _expected_names() -> list[str]:
    return [*(n for names in FILE_NAMES.values() for n in names), f"{TIMEZONES_PREFIX}*.csv"]

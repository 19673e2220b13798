"""CSV framing of the input files: kinds and their columns (docs/rules.md §1), file names
and discovery in a folder, the header line, and physical lines -> records with exact
line numbers, where a row that is not well-formed CSV is rejected alone.

A record is one physical line: a quoted value ends on the line it starts on. No input
of docs/rules.md §1 has a value over several lines, and a quote left open must cost its own
line only, not swallow every line after it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitoring.ingest.results import FileLoadResult, LoadError, Rejection, RejectSink, Progress
from monitoring.kernel.values import CSV_BLANKS

STATUS = "status"
HOURS = "hours"
TIMEZONES = "timezones"
SPECIAL_HOURS = "special_hours"
REVENUE = "revenue"
KINDS = (STATUS, HOURS, TIMEZONES, SPECIAL_HOURS, REVENUE)
#: The order files load in: zones and hours first, so the polls find their stores.
LOAD_ORDER = (TIMEZONES, HOURS, SPECIAL_HOURS, REVENUE, STATUS)

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
    SPECIAL_HOURS: {
        "store_id": ("store_id",),
        "date": ("date",),
        "start_time_local": ("start_time_local",),
        "end_time_local": ("end_time_local",),
    },
    REVENUE: {
        "store_id": ("store_id",),
        "day": ("dayofweek", "day"),
        "hour": ("hour",),
        "expected_revenue": ("expected_revenue",),
    },
}
#: Optional columns per kind, found when the header has them.
OPTIONAL_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {REVENUE: {"currency": ("currency",)}}

#: File names of docs/rules.md §1, lowercase; a name matches case-insensitively.
FILE_NAMES: dict[str, tuple[str, ...]] = {
    STATUS: ("store_status.csv", "store status.csv"),
    HOURS: ("menu_hours.csv", "menu hours.csv"),
    TIMEZONES: ("timezones.csv",),
    SPECIAL_HOURS: ("special_hours.csv", "special hours.csv"),
    REVENUE: ("store_revenue.csv", "store revenue.csv"),
}
TIMEZONES_PREFIX = "bq-results-"
REJECTS_SUFFIX = ".rejects.csv"
_STRIP = CSV_BLANKS


@dataclass(frozen=True)
class Header:
    path: Path
    kind: str
    names: tuple[str, ...]  # as written (trimmed)
    positions: dict[str, int]  # canonical column -> index (optional columns only when present)
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
    for column, aliases in OPTIONAL_COLUMNS.get(kind, {}).items():
        index = next((lowered.index(alias) for alias in aliases if alias in lowered), None)
        if index is not None:
            positions[column] = index
    return Header(path=path, kind=kind, names=names, positions=positions, length=len(raw), eol=eol)


# --------------------------------------------------------------------------- records


#: A value as RFC 4180 quotes it: whole, between quotes (a quote inside written twice),
#: or holding no quote at all. Possessive (`*+`): no backtracking, so a 10 MB line of
#: quotes and commas is checked in linear time.
_VALUE = r'(?:"[^"]*+(?:""[^"]*+)*+"|[^,"]*+)'
#: A line (without its line end) whose quotes are all in their places.
_QUOTING = re.compile(rf"{_VALUE}(?:,{_VALUE})*+")
#: A line that ends inside a quoted value: its closing quote is missing.
_UNTERMINATED = re.compile(rf'(?:{_VALUE},)*+"[^"]*+(?:""[^"]*+)*+')
UNTERMINATED_QUOTE = "unterminated quoted value (a quoted value must end on its own line)"
STRAY_QUOTE = 'misplaced quote (quote a whole value; a quote inside a quoted value is written "")'


class RecordReader:
    """Physical lines -> CSV records, exact line numbers, structural rejections.

    Fed one physical line at a time (bytes, line end included); returns a finished
    record `(line, raw_text, fields)`, a `Rejection` or `BLANK`. Each line is read
    alone: a quoted value left open at the line end is rejected with its line, and
    the next line is a record of its own."""

    def __init__(self, file_name: str, width: int) -> None:
        self.file_name = file_name
        self.width = width

    def feed(self, line_no: int, raw: bytes):
        if not raw.strip(b" \t\r\n"):
            return BLANK
        return self._finish(line_no, raw)

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
        if '"' in text:
            # Checked here rather than left to csv: csv would read on past the line end
            # (or take a quote inside an unquoted value as text).
            body = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
            if _QUOTING.fullmatch(body) is None:
                reason = UNTERMINATED_QUOTE if _UNTERMINATED.fullmatch(body) else STRAY_QUOTE
                return self._reject(line_no, "", reason, text)
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


BLANK = object()


def small_file_records(header: Header, sink: RejectSink, result: FileLoadResult, bar: Progress):
    """Every record of a small file: yields (line, raw, fields); rejects the rest.

    The file is read whole. A plain line (ASCII, no quote, no NUL, no CR but in its
    line end) is split on commas: exactly what `RecordReader` makes of it (csv reads
    nothing else into such a line; tests/ingest/test_small_files.py checks the two agree); any
    other line goes through `RecordReader`."""
    records = RecordReader(header.path.name, len(header.names))
    width = len(header.names)
    with header.path.open("rb") as handle:
        handle.seek(header.length)
        data = handle.read()
    bar.update(len(data))
    lines = data.split(b"\n")
    last = lines.pop()  # after the last line end: b"", or a last line without one
    if last:
        lines.append(last)
    final = len(lines) + 1  # the last line's number (the header is line 1)
    for line_no, piece in enumerate(lines, 2):
        # A last line without its line end is read with the header's.
        raw = piece + (header.eol if line_no == final and last else b"\n")
        if raw.isascii() and b'"' not in raw and b"\x00" not in raw:
            body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            if b"\r" not in body:
                result.rows += 1
                if not body.strip(b" \t"):
                    result.skipped += 1
                    continue
                text = body.decode("ascii")
                fields = text.split(",")
                if len(fields) == width:
                    yield (line_no, text, fields)
                    continue
                result.rows -= 1  # counted again below
        record = records.feed(line_no, raw)
        result.rows += 1
        if record is BLANK:
            result.skipped += 1
        elif isinstance(record, Rejection):
            sink.add(record)
        else:
            yield record


def plain_columns(header: Header, result: FileLoadResult, bar: Progress) -> list[list[str]] | None:
    """A small file's fields as columns (one list per column, a row's fields at the
    same index: its line is index + 2), when every line after the header is plain
    (ASCII, no quote, no NUL, no CR but in CRLF line ends), not blank, and has the
    header's width: then csv reads exactly these fields (split on commas), and every
    line is a record (counted in `result.rows`). None otherwise (read nothing then):
    `small_file_records` reads the file line by line."""
    with header.path.open("rb") as handle:
        handle.seek(header.length)
        data = handle.read()
    size = len(data)
    if not data.isascii() or b'"' in data or b"\x00" in data or len(header.names) < 2:
        return None
    if not data:
        return [[] for _ in header.names]
    if not data.endswith(b"\n"):
        data += header.eol  # a last line without its line end is read with the header's
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None
    width = len(header.names)
    # Every line has width - 1 commas, then its line end (with two columns or more, a
    # blank line, empty or spaces and tabs only, has none: it is not plain); then the
    # fields of all lines, in one list, hold each column at a stride of `width`.
    buffer = np.frombuffer(data, np.uint8)
    delimiters = buffer[(buffer == ord(",")) | (buffer == ord("\n"))]
    lines = len(delimiters) // width
    if len(delimiters) != lines * width:
        return None
    grid = delimiters.reshape(lines, width)
    if not ((grid[:, :-1] == ord(",")).all() and (grid[:, -1] == ord("\n")).all()):
        return None
    fields = data[:-1].decode("ascii").replace("\n", ",").split(",")
    bar.update(size)
    result.rows += lines
    return [fields[column::width] for column in range(width)]


def kind_of(name: str) -> str | None:
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
    """The input files of a folder by their docs/rules.md §1 names (case-insensitive):
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
        kind = kind_of(entry.name)
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


#: A kind's usual names without `.csv`: a file whose name starts with one of them
#: (`store_status_sample.csv`, `menu_hours (1).csv`) is a close name for that kind.
_STEMS: dict[str, tuple[str, ...]] = {kind: tuple(name[:-4] for name in names) for kind, names in FILE_NAMES.items()}


def close_kind_of(name: str) -> str | None:
    """The kind whose usual name `name` starts with, for a `.csv` that has no usual
    name itself (not a rejects file); None otherwise."""
    lowered = name.lower()
    if not lowered.endswith(".csv") or lowered.endswith(REJECTS_SUFFIX) or kind_of(name):
        return None
    for kind, stems in _STEMS.items():
        if any(lowered.startswith(stem) for stem in stems):
            return kind
    return None


@dataclass(frozen=True)
class FolderSurvey:
    """What a folder holds for each kind: `files` ({kind: path}, what to load: usual
    names first, else a single close name), `close` (the kinds taken by a close name),
    `ambiguous` ({kind: close names} when several compete and none is taken), `others`
    (CSV files of no kind)."""

    directory: Path
    files: dict[str, Path]
    close: frozenset[str]
    ambiguous: dict[str, tuple[Path, ...]]
    others: tuple[Path, ...]


def folder_survey(*, directory: Path | str) -> FolderSurvey:
    """`find_input_files`, and for a kind with no file of its usual name, the one file
    whose name starts with it (`store_status_sample.csv` for the status file): taken,
    and said so by the caller. Two such files for one kind are both left: the caller
    names them. `LoadError` as `find_input_files`."""
    directory = Path(directory)
    files = find_input_files(directory=directory)
    near: dict[str, list[Path]] = {}
    others: list[Path] = []
    for entry in sorted(directory.iterdir()):
        if not entry.is_file() or kind_of(entry.name) or entry.name.lower().endswith(REJECTS_SUFFIX):
            continue
        kind = close_kind_of(entry.name)
        if kind is not None and kind not in files:
            near.setdefault(kind, []).append(entry)
        elif kind is None and entry.name.lower().endswith(".csv"):
            others.append(entry)
    close = {kind for kind, paths in near.items() if len(paths) == 1}
    files.update({kind: near[kind][0] for kind in close})
    ambiguous = {kind: tuple(paths) for kind, paths in near.items() if len(paths) > 1}
    return FolderSurvey(directory, files, frozenset(close), ambiguous, tuple(others))


def default_rejects_path(path: Path, rejects_dir: Path | None = None) -> Path:
    """`<name without .csv>.rejects.csv`, in `rejects_dir` or next to the input."""
    stem = path.name[:-4] if path.name.lower().endswith(".csv") else path.name
    return (rejects_dir or path.parent) / f"{stem}{REJECTS_SUFFIX}"


def expected_names() -> list[str]:
    return [*(n for names in FILE_NAMES.values() for n in names), f"{TIMEZONES_PREFIX}*.csv"]

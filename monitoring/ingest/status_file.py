"""A status-poll file (docs/rules.md §1) into PostgreSQL in one transaction: read in chunks
(`ChunkReader`), canonical lines parsed as arrays (`fast_parse`), any other line
validated alone (`values.poll`), streamed as binary COPY while the next chunk is
read. Into an empty poll table the rows go straight in (`bulk_path`): in time order,
one row per key (the later line wins); otherwise through a staging table and one
merge (`poll_writes`). The reading and parsing touch no database: `load_data` has
them done in a thread (`reading_ahead`) while the files loaded before it load. See
docs/loading.md."""

from __future__ import annotations

import io
import queue
import threading
import time as time_module
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from django.db import connection, transaction

from monitoring.stores.data_version import writer_lock
from monitoring.ingest import bulk_path
from monitoring.kernel.copy_format import HEADER, TRAILER, pg_microseconds
from monitoring.ingest.csv_files import BLANK, STATUS, Header, RecordReader, read_header
from monitoring.ingest.fast_parse import PARSE_PADDING, StoreIdCodes, parse_lines
from monitoring.ingest.poll_arrays import PollArrays, RowsInTimeOrder, keys_distinct
from monitoring.ingest.poll_writes import CHUNK_BYTES, StoreKeys, insert_store_ids, polls_write_staged, tune_session
from monitoring.ingest.results import FileLoadResult, Load, LoadError, Progress, Rejection, load_envelope
from monitoring.kernel.values import InvalidPoll, poll, poll_time_limit
from monitoring.models import StatusPoll

#: A file streamed into the empty table has partitions created up to its last lines'
#: instant when that is at most this far past its first chunk (else: only what that
#: chunk covers, the rest moved from the DEFAULT partition after the COPY).
STREAMED_RANGE_MAX_US = 5 * 366 * 86_400_000_000

#: An empty poll table takes the bulk path (indexes rebuilt) for files from this size
#: on (~10,000 polls).
BULK_MIN_BYTES = 512 * 1024
# Time order as the BRIN index sees it: blocks of this many rows (its 32-page ranges
# hold ~5,400) are wide when they span more than a day and more than half the file's
# time span; a file is in time order when at most TIME_ORDER_WIDE_SHARE of its
# blocks are wide (in the public release every block spans the whole week).
TIME_ORDER_BLOCK_ROWS = 5_000
TIME_ORDER_SPAN_US = 86_400_000_000
TIME_ORDER_WIDE_SHARE = 0.1


@dataclass
class ReadPart:
    """A chunk of a status file as read: its canonical rows as arrays (store ids as
    codes of `StoreIdCodes`, not store keys yet), and what `RecordReader` made of its
    other lines (records, `Rejection`s, `BLANK`s, in line order)."""

    codes: np.ndarray
    moments: np.ndarray
    is_active: np.ndarray
    lines: np.ndarray  # of the canonical rows
    records: list
    size: int  # bytes of the file
    last: bool


class ChunkReader:
    """A status file's lines after its header, read and parsed a chunk at a time:
    whole chunks of canonical lines as arrays (`fast_parse`), other lines through
    `RecordReader`. Pure (no database, no settings): it may run ahead in a thread
    (`ReadAhead`)."""

    def __init__(self, header: Header, *, latest_us: int) -> None:
        self.header = header
        self.codes = StoreIdCodes()
        self.records = RecordReader(header.path.name, len(header.names))
        self.columns = {
            "width": len(header.names),
            "store_id": header.positions["store_id"],
            "timestamp": header.positions["timestamp_utc"],
            "status": header.positions["status"],
            "crlf": header.eol == b"\r\n",
            "latest_us": latest_us,
        }
        self.next_line = 2

    def parts(self) -> Iterator[ReadPart]:
        with self.header.path.open("rb") as handle:
            handle.seek(self.header.length)
            last = False
            while not last:
                data, lines_end, size, last = self._next_chunk(handle)
                yield self._parse(data, lines_end, size, last)

    def _next_chunk(self, handle) -> tuple[bytes, int, int, bool]:
        """(data, n, bytes read, at the end): the next whole lines are data[:n]; data
        holds at least PARSE_PADDING bytes more (the following bytes of the file, or
        zeros), so the parser reads past the last line without a copy. The file is
        left at data[n]."""
        data = handle.read(CHUNK_BYTES + PARSE_PADDING)
        at_end = len(data) < CHUNK_BYTES + PARSE_PADDING
        lines_end = data.rfind(b"\n", 0, CHUNK_BYTES) + 1
        while lines_end == 0 and not at_end:  # a line longer than a chunk
            more = handle.read(CHUNK_BYTES)
            data += more
            at_end = len(more) < CHUNK_BYTES
            lines_end = data.rfind(b"\n", 0, len(data) - PARSE_PADDING) + 1
        if not at_end:
            handle.seek(lines_end - len(data), io.SEEK_CUR)
            return data, lines_end, lines_end, False
        # The end of the file: the rest, whose last line may lack its line end.
        size = len(data)
        if data and not data.endswith(b"\n"):
            data += self.header.eol
        return data + bytes(PARSE_PADDING), len(data), size, True

    def tail_latest(self, tail_bytes: int = 1 << 18) -> int | None:
        """The latest instant (PostgreSQL microseconds) among the canonical lines of the
        file's last bytes, or None: for a file in time order, where its rows end (a
        hint only: the partitions are created from it before the rows are read)."""
        with self.header.path.open("rb") as handle:
            end = handle.seek(0, io.SEEK_END)
            start = max(self.header.length, end - tail_bytes)
            handle.seek(start)
            data = handle.read()
        if start > self.header.length:
            data = data[data.find(b"\n") + 1 :]
        if data and not data.endswith(b"\n"):
            data += self.header.eol
        if not data:
            return None
        parsed = parse_lines(
            data + bytes(PARSE_PADDING), len(data), store_codes=StoreIdCodes(), **self.columns
        )
        return int(parsed.moments.max()) if len(parsed.moments) else None

    def _parse(self, data: bytes, lines_end: int, size: int, last: bool) -> ReadPart:
        records: list = []
        if lines_end:
            parsed = parse_lines(data, lines_end, store_codes=self.codes, **self.columns)
            lines = np.arange(self.next_line, self.next_line + len(parsed.line_ends))
            self.next_line += len(lines)
            for index in np.flatnonzero(~parsed.canonical).tolist():
                raw = data[parsed.line_starts[index] : parsed.line_ends[index] + 1]
                records.append(self.records.feed(int(lines[index]), raw))
            arrays = (parsed.codes, parsed.moments, parsed.is_active, lines[parsed.canonical])
        else:
            arrays = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool), np.empty(0, np.int64))
        return ReadPart(*arrays, records=records, size=size, last=last)


class ReadAhead:
    """A status file read and parsed (`ChunkReader`) in a background thread, while
    the files before it load (`reading_ahead`); its parts wait in a queue for the
    `load_status_file` of the same file, which validates the other lines, gives
    the stores their keys and writes, as it would have reading the file itself."""

    def __init__(self, header: Header, latest: datetime) -> None:
        self.header = header
        self.latest = latest
        self.identity = _identity(header.path)
        self.reader = ChunkReader(header, latest_us=pg_microseconds(latest))
        self.seconds = 0.0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name=f"read ahead {header.path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time_module.perf_counter()
        try:
            for part in self.reader.parts():
                if self._cancelled:
                    return
                self._queue.put(part)
        except BaseException as error:  # raised again by `parts`, in the loading thread
            self._queue.put(error)
        finally:
            self.seconds = time_module.perf_counter() - started

    def parts(self) -> Iterator[ReadPart]:
        while True:
            part = self._queue.get()
            if isinstance(part, BaseException):
                raise part
            yield part
            if part.last:
                return

    def cancel(self) -> None:
        self._cancelled = True


#: Read-aheads started, by file, until their `load_status_file` takes them.
_READ_AHEADS: dict[Path, ReadAhead] = {}


def _identity(path: Path) -> tuple:
    stat = path.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@contextmanager
def reading_ahead(path: Path | str | None) -> Iterator[bool]:
    """Within this block, the status file `path` is read and parsed in a background
    thread (`ReadAhead`), for a `load_status_file` of it in the block (`load_data`
    loads the time zones and hours first: the reading overlaps their loads). Only
    where the bulk path is expected (a large file, an empty poll table), which keeps
    the file's polls in memory anyway; yields whether it started. What is not taken
    by the end of the block is dropped."""
    ahead = None
    if path is not None:
        try:
            header = read_header(path=path, kind=STATUS)
            large = header.path.stat().st_size >= BULK_MIN_BYTES
        except (LoadError, OSError):
            large = False
        if large and header.path.resolve() not in _READ_AHEADS:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {StatusPoll._meta.db_table})")
                empty = cursor.fetchone()[0]
            if empty:
                ahead = _READ_AHEADS[header.path.resolve()] = ReadAhead(header, poll_time_limit())
    try:
        yield ahead is not None
    finally:
        if ahead is not None:
            ahead.cancel()
            if _READ_AHEADS.get(ahead.header.path.resolve()) is ahead:
                del _READ_AHEADS[ahead.header.path.resolve()]


def _taken_read_ahead(header: Header) -> ReadAhead | None:
    """The read-ahead of this file, if one was started and the file has not changed
    since (else it is dropped)."""
    ahead = _READ_AHEADS.pop(header.path.resolve(), None)
    if ahead is not None and (ahead.header != header or ahead.identity != _identity(header.path)):
        ahead.cancel()
        return None
    return ahead


class PollStream:
    """The file object handed to `COPY … FROM STDIN (FORMAT binary)`: takes the parts
    of the status file (`ChunkReader`, maybe ahead in a thread), the canonical rows
    as arrays, any other line validated one by one by `on_record` (which rejects or
    returns a valid row); returns the valid polls as binary COPY rows. For the
    empty-table path (`with_line` False) it also keeps them as arrays: a file not in
    time order from its first chunk is read whole and written once, sorted, the latest
    line per key only; a file streamed as read is checked for a key twice and for time
    order at its end (`bulk_path`). The staging path de-duplicates in SQL."""

    def __init__(self, parts: Iterator[ReadPart], on_record, progress: Progress, stores: StoreKeys, *,
                 with_line: bool) -> None:
        self.parts = parts
        self.on_record = on_record
        self.progress = progress
        self.stores = stores
        self.with_line = with_line
        self.canonical = 0  # rows parsed as arrays
        self.kept: list[PollArrays] = []  # the empty-table path only
        self.time_spans: list[np.ndarray] = []  # the empty-table path only: per block of rows
        self.time_bounds: list[tuple[int, int]] = []  # and per chunk
        self.written_in_time_order = False  # all rows read first, then written sorted
        self.superseded = 0  # rows not written as their key comes again on a later line
        self.sorted_rows: RowsInTimeOrder | None = None  # while they are being written
        self.key_hashes: list[np.ndarray] = []  # the staging path only: a hash of each row's key
        self.state = "rows"  # rows -> trailer -> done
        self.header_sent = False
        self.primed: PollArrays | None = None  # read by `time_range_ahead`, not yet written
        self.python_seconds = 0.0

    def read(self, size: int = -1) -> bytes:
        prefix = b"" if self.header_sent else HEADER
        self.header_sent = True
        if self.sorted_rows is not None:
            rows = self._next_sorted_rows()
            if rows:
                return prefix + rows
        if self.primed is not None:
            polls, self.primed = self.primed, None
            return prefix + polls.copy_rows(with_line=self.with_line)
        while self.state == "rows":
            polls = self._next_polls()
            if polls is None:
                continue
            if self._read_whole_if_unordered():
                return prefix + self._next_sorted_rows()
            return prefix + polls.copy_rows(with_line=self.with_line)
        if self.state == "trailer":
            self.state = "done"
            return prefix + TRAILER
        return b""

    def _read_whole_if_unordered(self) -> bool:
        """Empty-table path, after the first chunk: if it is not in time order (nor,
        then, the file, as a rule), all of it is read now and written once, sorted."""
        if self.with_line or len(self.kept) != 1 or self.in_time_order():
            return False
        while self.state == "rows":
            self._next_polls()
        started = time_module.perf_counter()
        self.kept = [PollArrays.concatenate(self.kept)]
        # A key twice is written once, from its latest line: the primary key,
        # rebuilt after, then holds.
        self.sorted_rows = RowsInTimeOrder(self.kept[0], latest_only=True)
        self.superseded = self.sorted_rows.superseded
        self.written_in_time_order = True
        self.python_seconds += time_module.perf_counter() - started
        return True

    def time_range_ahead(self, *, tail_latest: int | None) -> tuple[int, int] | None:
        """Empty-table path, before the COPY: the first chunk is read; a file not in
        time order is then read whole (as `read` would at once), and the range of its
        instants (PostgreSQL microseconds) returned, so its weekly partitions exist
        before it is written. A file streamed as read is in time order: from its first
        chunk's start to `tail_latest`, where its last lines end (a row outside lands in
        the DEFAULT partition, moved to its week after the COPY)."""
        while self.state == "rows" and not self.kept:
            self.primed = self._next_polls()
        if not self.kept:
            return None
        if self._read_whole_if_unordered():
            self.primed = None
            return int(self.kept[0].moment.min()), int(self.kept[0].moment.max())
        first, last = int(self.kept[0].moment.min()), int(self.kept[0].moment.max())
        if tail_latest is not None and 0 <= tail_latest - last <= STREAMED_RANGE_MAX_US:
            last = tail_latest
        return first, last

    def _next_sorted_rows(self) -> bytes:
        started = time_module.perf_counter()
        rows = self.sorted_rows.next_rows()
        if not rows:
            self.sorted_rows = None
        self.python_seconds += time_module.perf_counter() - started
        return rows

    def _next_polls(self) -> PollArrays | None:
        """The valid polls of the next part (None when it has none), kept and noted on
        the empty-table path."""
        started = time_module.perf_counter()
        part = next(self.parts)
        self.progress.update(part.size)
        if part.last:
            self.state = "trailer"
        polls = self._polls_of(part)
        if len(polls) and not self.with_line:
            self.kept.append(polls)
            self._note_time_order(polls.moment)
        elif len(polls):
            self.key_hashes.append(polls.key_hashes())
        self.python_seconds += time_module.perf_counter() - started
        return polls if len(polls) else None

    def _polls_of(self, part: ReadPart) -> PollArrays:
        self.canonical += len(part.codes)
        polls = PollArrays(self.stores.pks(part.codes), part.moments, part.is_active, part.lines)
        others: list[tuple[int, int, object, bool]] = []
        for record in part.records:
            row = self.on_record(record)
            if row is not None:
                line_no, store_id, moment, active = row
                others.append((line_no, self.stores.pk_of(store_id), moment, active))
        return PollArrays.concatenate([polls, PollArrays.from_rows(others)]) if others else polls

    def _note_time_order(self, moments: np.ndarray) -> None:
        edges = np.arange(0, len(moments), TIME_ORDER_BLOCK_ROWS)
        self.time_spans.append(np.maximum.reduceat(moments, edges) - np.minimum.reduceat(moments, edges))
        self.time_bounds.append((int(moments.min()), int(moments.max())))

    def keys_distinct(self) -> bool:
        """On the staging path: whether no (store, instant) came twice."""
        return keys_distinct(self.key_hashes)

    def in_time_order(self) -> bool:
        """Whether the rows kept so far are in time order as the BRIN index needs it."""
        if self.written_in_time_order or not self.time_spans:
            return True
        lows, highs = zip(*self.time_bounds)
        wide = np.concatenate(self.time_spans) > max(TIME_ORDER_SPAN_US, (max(highs) - min(lows)) // 2)
        return wide.mean() <= TIME_ORDER_WIDE_SHARE


def load_status_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a status-poll file (docs/rules.md §1) in one transaction; see docs/loading.md."""
    header = read_header(path=path, kind=STATUS)
    with load_envelope(kind=STATUS, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        _load(load, header)
    return load.result


def _load(load: Load, header: Header) -> None:
    path, result, timings = header.path, load.result, load.result.timings
    positions = header.positions
    ahead = _taken_read_ahead(header)
    latest = ahead.latest if ahead is not None else poll_time_limit()

    def on_record(record):
        """A record read one by one: (line, store_id, instant, is_active), or None
        (counted or rejected)."""
        result.rows += 1
        if record is BLANK:
            result.skipped += 1
            return None
        if isinstance(record, Rejection):
            load.rejects.add(record)
            return None
        line_no, raw, fields = record
        try:
            values = poll(
                fields[positions["store_id"]], fields[positions["timestamp_utc"]], fields[positions["status"]],
                latest=latest, from_csv=True,
            )
        except InvalidPoll as error:
            load.rejects.add(Rejection(path.name, line_no, error.field, error.reason, raw), error.store_id)
            return None
        return (line_no, *values)

    reader = ahead.reader if ahead is not None else ChunkReader(header, latest_us=pg_microseconds(latest))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=True)
            t0 = time_module.perf_counter()
            # Other writers of stores, hours and polls wait for this load (their first
            # write waits for the writer lock); readers do not.
            writer_lock(cursor)
            stores = StoreKeys(cursor, reader.codes)
            bulk = bulk_path.prepare(cursor, timings) if path.stat().st_size >= BULK_MIN_BYTES else None
            timings["prepare"] = time_module.perf_counter() - t0
            stream = PollStream(
                ahead.parts() if ahead is not None else reader.parts(), on_record, load.progress, stores,
                with_line=bulk is None,
            )
            if bulk is not None:
                counts = bulk_path.load(cursor, bulk, stream, timings, tail_latest=reader.tail_latest)
            else:
                counts = polls_write_staged(
                    cursor, stream, keys_distinct=stream.keys_distinct, timings=timings, temporary=False,
                    summarize=True,
                )
            timings["python"] = stream.python_seconds
            if ahead is not None:
                timings["read_ahead"] = ahead.seconds
            result.rows += stream.canonical
            result.loaded, result.replaced, result.unchanged, result.superseded = counts
            result.stores_created = stores.insert_new(cursor)
            result.stores_created += insert_store_ids(cursor, load.rejects.store_ids)
            t0 = time_module.perf_counter()
    finally:
        if ahead is not None:
            ahead.cancel()
    timings["commit"] = time_module.perf_counter() - t0

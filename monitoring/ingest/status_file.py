"""A status-poll file (SPEC §1) into PostgreSQL in one transaction: read in chunks,
canonical lines parsed as arrays (`fast_parse`), any other line validated alone
(`values.poll`), streamed as binary COPY while the next chunk is read. Into an empty
poll table the rows go straight in (`bulk_path`); otherwise through a staging table
and one merge (`poll_writes`). See docs/loading.md."""

from __future__ import annotations

import io
import time as time_module
from pathlib import Path

import numpy as np

from django.db import connection, transaction

from monitoring.data_version import writer_lock
from monitoring.ingest import bulk_path
from monitoring.ingest.copy_format import HEADER, TRAILER, pg_microseconds
from monitoring.ingest.csv_files import BLANK, STATUS, Header, RecordReader, read_header
from monitoring.ingest.fast_parse import PARSE_PADDING, parse_lines
from monitoring.ingest.poll_arrays import PollArrays, RowsInTimeOrder, keys_distinct
from monitoring.ingest.poll_writes import CHUNK_BYTES, StoreKeys, insert_store_ids, polls_write_staged, tune_session
from monitoring.ingest.results import FileLoadResult, Load, Progress, Rejection, load_envelope
from monitoring.ingest.values import InvalidPoll, poll, poll_time_limit

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


class PollStream:
    """The file object handed to `COPY … FROM STDIN (FORMAT binary)`: reads the status
    file in chunks; whole chunks of canonical lines are parsed as arrays
    (`fast_parse`), any other line one by one by `on_record` (which rejects or
    returns a valid row); returns the valid polls as binary COPY rows. For the
    empty-table path (`with_line` False) it also keeps them as arrays, for a second
    pass if the file holds a key twice or is not in time order; the staging path
    de-duplicates in SQL."""

    def __init__(self, handle, header: Header, records: RecordReader, on_record, progress: Progress,
                 stores: StoreKeys, *, with_line: bool, latest_us: int) -> None:
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
            "latest_us": latest_us,
        }
        self.next_line = 2
        self.canonical = 0  # rows parsed as arrays
        self.kept: list[PollArrays] = []  # the empty-table path only
        self.time_spans: list[np.ndarray] = []  # the empty-table path only: per block of rows
        self.time_bounds: list[tuple[int, int]] = []  # and per chunk
        self.written_in_time_order = False  # all rows read first, then written sorted
        self.sorted_rows: RowsInTimeOrder | None = None  # while they are being written
        self.key_hashes: list[np.ndarray] = []  # the staging path only: a hash of each row's key
        self.state = "header"  # header -> rows -> trailer -> done
        self.python_seconds = 0.0

    def read(self, size: int = -1) -> bytes:
        prefix = HEADER if self.state == "header" else b""
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
                self.kept = [PollArrays.concatenate(self.kept)]
                self.sorted_rows = RowsInTimeOrder(self.kept[0])
                self.written_in_time_order = True
                return prefix + self._next_sorted_rows()
            return prefix + polls.copy_rows(with_line=self.with_line)
        if self.state == "trailer":
            self.state = "done"
            return prefix + TRAILER
        return b""

    def _next_sorted_rows(self) -> bytes:
        started = time_module.perf_counter()
        rows = self.sorted_rows.next_rows()
        if not rows:
            self.sorted_rows = None
        self.python_seconds += time_module.perf_counter() - started
        return rows

    def _next_polls(self) -> PollArrays | None:
        """The valid polls of the next chunk (None when it has none), kept and noted on
        the empty-table path."""
        started = time_module.perf_counter()
        data, lines_end = self._next_chunk()
        polls = self._process(data, lines_end) if lines_end else None
        if self.state == "trailer":
            closing = self.records.close()
            if closing is not None:
                self.on_record(closing)
        if polls is not None and len(polls) and not self.with_line:
            self.kept.append(polls)
            self._note_time_order(polls.moment)
        elif polls is not None and len(polls):
            self.key_hashes.append(polls.key_hashes())
        self.python_seconds += time_module.perf_counter() - started
        return polls if polls is not None and len(polls) else None

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

    def _process(self, data: bytes, lines_end: int) -> PollArrays:
        parsed = parse_lines(
            data, lines_end, in_quote=bool(self.records.pending), store_codes=self.stores.codes, **self.columns
        )
        lines = np.arange(self.next_line, self.next_line + len(parsed.line_ends))
        self.next_line += len(lines)
        self.canonical += len(parsed.codes)
        parts = [PollArrays(self.stores.pks(parsed.codes), parsed.moments, parsed.is_active, lines[parsed.canonical])]
        others: list[tuple[int, int, object, bool]] = []
        for index in np.flatnonzero(~parsed.canonical).tolist():
            raw = data[parsed.line_starts[index] : parsed.line_ends[index] + 1]
            record = self.records.feed(int(lines[index]), raw)
            if record is not None:
                row = self.on_record(record)
                if row is not None:
                    line_no, store_id, moment, active = row
                    others.append((line_no, self.stores.pk_of(store_id), moment, active))
        if others:
            parts.append(PollArrays.from_rows(others))
        return PollArrays.concatenate(parts)


def load_status_file(
    *, path: Path | str, rejects_path: Path | str | None = None, progress: bool = False
) -> FileLoadResult:
    """Loads a status-poll file (SPEC §1) in one transaction; see docs/loading.md."""
    header = read_header(path=path, kind=STATUS)
    with load_envelope(kind=STATUS, path=header.path, rejects_path=rejects_path, progress=progress) as load:
        _load(load, header)
    return load.result


def _load(load: Load, header: Header) -> None:
    path, result, timings = header.path, load.result, load.result.timings
    positions = header.positions
    latest = poll_time_limit()

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

    with transaction.atomic(), connection.cursor() as cursor:
        tune_session(cursor, bulk=True)
        t0 = time_module.perf_counter()
        # Other writers of stores, hours and polls wait for this load (their first
        # write waits for the writer lock); readers do not.
        writer_lock(cursor)
        stores = StoreKeys(cursor)
        bulk = bulk_path.prepare(cursor, timings) if path.stat().st_size >= BULK_MIN_BYTES else None
        timings["prepare"] = time_module.perf_counter() - t0
        with path.open("rb") as handle:
            handle.seek(header.length)
            stream = PollStream(
                handle, header, RecordReader(path.name, len(header.names)), on_record, load.progress, stores,
                with_line=bulk is None, latest_us=pg_microseconds(latest),
            )
            if bulk is not None:
                counts = bulk_path.load(cursor, bulk, stream, timings)
            else:
                counts = polls_write_staged(
                    cursor, stream, keys_distinct=stream.keys_distinct, timings=timings, temporary=False,
                    summarize=True,
                )
        timings["python"] = stream.python_seconds
        result.rows += stream.canonical
        result.loaded, result.replaced, result.unchanged, result.superseded = counts
        result.stores_created = stores.insert_new(cursor)
        result.stores_created += insert_store_ids(cursor, load.rejects.store_ids)
        t0 = time_module.perf_counter()
    timings["commit"] = time_module.perf_counter() - t0

"""PostgreSQL's binary COPY format, both ways: polls go in as binary rows (no text to
escape, so any value round-trips), and the report reads them back the same way.

A row is a field count, then per field a length and the value, big-endian; the stream
is framed by a header and a trailer. A timestamptz travels as int64 microseconds since
2000-01-01 UTC, so PostgreSQL does no per-row arithmetic.
"""

from __future__ import annotations

import io
import struct
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Sequence

import numpy as np

from monitoring.kernel.periods import PG_EPOCH, PG_EPOCH_DATE, PG_EPOCH_UNIX_US

MICROSECOND = timedelta(microseconds=1)

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
#: The framing of `COPY … (FORMAT binary)` data around its rows.
HEADER = SIGNATURE + bytes(8)  # signature, flags, no header extension
TRAILER = b"\xff\xff"  # a field count of -1


def pg_microseconds(moment: datetime) -> int:
    """An aware instant as PostgreSQL's timestamptz value."""
    return (moment - PG_EPOCH) // MICROSECOND


#: The wire type of each numpy dtype `binary_rows` takes.
_WIRE = {np.dtype(np.bool_): "u1", np.dtype(np.int32): ">i4", np.dtype(np.int64): ">i8", np.dtype(np.float64): ">f8"}


def binary_rows(columns: list[np.ndarray]) -> bytes:
    """Binary COPY rows (no header or trailer) of non-null columns: bigint or timestamptz
    (int64; a timestamptz as µs since 2000-01-01 UTC), integer or date (int32; a date as
    days since 2000-01-01), double precision (float64), boolean."""
    return _field_records(columns, with_count=True).tobytes()


def _field_records(columns: Sequence[np.ndarray], *, with_count: bool) -> np.ndarray:
    """One record per row: (the field count, when asked,) then each column's length and value."""
    fields = [("count", ">i2")] if with_count else []
    for index, column in enumerate(columns):
        fields += [(f"length{index}", ">i4"), (f"value{index}", _WIRE[column.dtype])]
    # The field count and lengths are the same in every row: a template row, repeated
    # (much faster than filling those fields column by column).
    template = np.zeros(1, np.dtype(fields))
    if with_count:
        template["count"] = len(columns)
    for index in range(len(columns)):
        template[f"length{index}"] = template.dtype[f"value{index}"].itemsize
    records = np.tile(template, len(columns[0]))
    for index, column in enumerate(columns):
        records[f"value{index}"] = column
    return records


#: Encoders of Python values by PostgreSQL type, for `encode_rows`.
_INT4, _INT8, _FLOAT8 = struct.Struct(">ii"), struct.Struct(">iq"), struct.Struct(">id")


def _text(value: Any) -> bytes:
    data = str(value).encode("utf-8")
    return struct.pack(">i", len(data)) + data


def _time(value: time) -> bytes:
    micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    return _INT8.pack(8, micros)


ENCODERS = {
    "text": _text,
    "smallint": lambda value: struct.pack(">ih", 2, value),
    "integer": lambda value: _INT4.pack(4, value),
    "bigint": lambda value: _INT8.pack(8, value),
    "float8": lambda value: _FLOAT8.pack(8, value),
    "boolean": lambda value: struct.pack(">iB", 1, bool(value)),
    "time": _time,
    "date": lambda value: _INT4.pack(4, (value - PG_EPOCH_DATE).days),
    "timestamptz": lambda value: _INT8.pack(8, pg_microseconds(value)),
    "uuid": lambda value: struct.pack(">i", 16) + value.bytes,
}
_NULL = struct.pack(">i", -1)


def encode_rows(
    rows: Iterable[Sequence[Any]], types: Sequence[str], *, tail: Sequence[np.ndarray] = ()
) -> tuple[bytes, int]:
    """(a whole binary COPY stream, its row count) of Python rows whose columns have
    the given PostgreSQL types (keys of ENCODERS); None is NULL. Any text round-trips:
    nothing is quoted or escaped. `tail`: more columns after those, non-null and of
    fixed width (as `binary_rows` takes them), one value per row, encoded at once."""
    encoders = [ENCODERS[name] for name in types]
    count_field = struct.pack(">h", len(types) + len(tail))
    ends = b""
    size = 0
    if tail:
        records = _field_records(tail, with_count=False)
        ends, size = records.tobytes(), records.dtype.itemsize
    parts = [HEADER]
    count = 0
    for row in rows:
        parts.append(count_field)
        parts.extend(_NULL if value is None else encode(value) for encode, value in zip(encoders, row))
        if size:
            parts.append(ends[count * size : (count + 1) * size])
        count += 1
    parts.append(TRAILER)
    return b"".join(parts), count


def copy_rows_in(cursor, table: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY Python rows into a table as binary COPY; returns the row count."""
    data, count = encode_rows(rows, types)
    if count:
        copy_in(cursor, table, columns, data)
    return count


def copy_in(cursor, table: str, columns: Sequence[str], data: bytes) -> None:
    """COPY a whole binary COPY stream (`encode_rows`) into these columns of a table."""
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(data))


#: A binary COPY row of (bigint store pk, timestamptz, boolean).
POLL_RECORD = np.dtype(
    [
        ("fields", ">i2"),
        ("store_len", ">i4"),
        ("store_pk", ">i8"),
        ("ts_len", ">i4"),
        ("timestamp_us", ">i8"),
        ("active_len", ">i4"),
        ("is_active", "u1"),
    ]
)


def decode_records(data: memoryview, record: np.dtype = POLL_RECORD) -> np.ndarray:
    """The rows of a binary COPY stream of fixed-width non-null columns, as a
    structured array of `record` (no copy)."""
    if bytes(data[: len(SIGNATURE)]) != SIGNATURE:
        raise ValueError("unexpected COPY BINARY header")
    extension_length = int.from_bytes(data[15:19], "big")
    offset = 19 + extension_length
    count = (len(data) - offset - len(TRAILER)) // record.itemsize
    return np.frombuffer(data, dtype=record, count=count, offset=offset)

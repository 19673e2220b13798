"""Valid polls as numpy arrays (store key, instant, status, line), and their binary
COPY rows, optionally in time order a slice at a time, optionally the latest line
per key only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from monitoring.kernel.copy_format import HEADER, TRAILER, binary_rows, pg_microseconds

FIELDS = ("store_pk", "moment", "is_active", "line")
#: Rows per slice when polls are written in time order.
SORTED_ROWS_PER_READ = 1 << 17
_KEY_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class PollArrays:
    """Parsed, valid polls: store key, instant (µs since 2000-01-01 UTC), status, and the
    line (or, for live polls, the item's position) it came from."""

    store_pk: np.ndarray
    moment: np.ndarray
    is_active: np.ndarray
    line: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[tuple[int, int, datetime, bool]]) -> PollArrays:
        """Rows validated one by one: (line, store pk, instant, is_active)."""
        count = len(rows)
        return cls(
            store_pk=np.fromiter((row[1] for row in rows), np.int64, count),
            moment=np.fromiter((pg_microseconds(row[2]) for row in rows), np.int64, count),
            is_active=np.fromiter((row[3] for row in rows), np.bool_, count),
            line=np.fromiter((row[0] for row in rows), np.int64, count),
        )

    @classmethod
    def concatenate(cls, parts: list[PollArrays]) -> PollArrays:
        if not parts:
            return cls(*(np.empty(0, dtype) for dtype in (np.int64, np.int64, np.bool_, np.int64)))
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in FIELDS))

    def __len__(self) -> int:
        return len(self.line)

    def take(self, rows: np.ndarray) -> PollArrays:
        return PollArrays(*(getattr(self, name)[rows] for name in FIELDS))

    def key_hashes(self) -> np.ndarray:
        """A hash of each row's (store, instant): distinct hashes prove distinct keys."""
        return self.store_pk.astype(np.uint64) * _KEY_MULTIPLIER ^ self.moment.astype(np.uint64)

    def copy_rows(self, *, with_line: bool) -> bytes:
        columns = [self.store_pk, self.moment, self.is_active] + ([self.line] if with_line else [])
        return binary_rows(columns)


def keys_distinct(hashes: list[np.ndarray]) -> bool:
    """Whether no (store, instant) came twice, from the key hashes of every part.
    Distinct hashes prove it; equal ones (a key twice, or ~never two keys with one
    hash) say no."""
    joined = np.sort(np.concatenate(hashes)) if hashes else np.empty(0, np.uint64)
    return not (joined[1:] == joined[:-1]).any()


def time_order(moment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row indices in time order, ties by row; the instants in that order). Each
    row's instant (relative to the first) and index are packed into one uint64 and
    sorted as values, several times faster than an argsort; np.argsort when they do
    not fit in 64 bits (a time span of more than ~12 days at 2**22 rows)."""
    count = len(moment)
    if count == 0:
        return np.empty(0, np.intp), moment.copy()
    first = int(moment.min())
    span = int(moment.max()) - first
    index_bits = max(1, (count - 1).bit_length())
    if span.bit_length() + index_bits > 64:
        order = np.argsort(moment, kind="stable")
        return order, moment[order]
    keys = (moment - first).astype(np.uint64) << np.uint64(index_bits)
    keys |= np.arange(count, dtype=np.uint64)
    keys.sort()
    order = (keys & np.uint64((1 << index_bits) - 1)).astype(np.intp)
    keys >>= np.uint64(index_bits)
    return order, keys.view(np.int64) + first


def instants_repeat(moments: list[np.ndarray]) -> bool:
    """Whether an instant comes twice among these (as it does for a key twice): one
    sort of the instants alone, cheaper than `time_order`."""
    if not moments:
        return False
    joined = np.concatenate(moments)
    joined.sort()
    return bool((joined[1:] == joined[:-1]).any())


def superseded_rows(polls: PollArrays, order: np.ndarray, sorted_moment: np.ndarray) -> np.ndarray:
    """The rows whose key (store, instant) comes again on a later line, given the rows
    in time order: only rows of equal instants (next to each other in that order:
    with microsecond instants, rare but for a key twice) are compared."""
    tied = sorted_moment[1:] == sorted_moment[:-1]
    if not tied.any():
        return np.empty(0, np.intp)
    at = np.flatnonzero(tied)
    rows = order[np.union1d(at, at + 1)]
    rows = rows[np.lexsort((polls.line[rows], polls.store_pk[rows], polls.moment[rows]))]
    store_pk, moment = polls.store_pk[rows], polls.moment[rows]
    again = (store_pk[1:] == store_pk[:-1]) & (moment[1:] == moment[:-1])
    return rows[:-1][again]


class RowsInTimeOrder:
    """Polls in memory, written in time order as binary COPY rows, a slice at a time
    (PostgreSQL stores one slice while the next is gathered): `next_rows` for a stream
    that frames them itself, `read` as a whole COPY stream. With `latest_only`, a key
    that comes twice is written once, from its latest line (`superseded` counts the
    others): the rows can then go into a table whose primary key is rebuilt after."""

    def __init__(self, polls: PollArrays, *, with_line: bool = False, latest_only: bool = False) -> None:
        self.polls = polls
        self.with_line = with_line
        self.order, self.sorted_moment = time_order(polls.moment)
        self.superseded = 0
        if latest_only:
            dropped = superseded_rows(polls, self.order, self.sorted_moment)
            if len(dropped):
                keep = np.ones(len(polls), bool)
                keep[dropped] = False
                kept = keep[self.order]
                self.order, self.sorted_moment = self.order[kept], self.sorted_moment[kept]
                self.superseded = len(dropped)
        self.written = 0
        self.state = "header"  # header -> rows -> done

    def __len__(self) -> int:
        return len(self.order)

    def next_rows(self) -> bytes:
        """The next slice of rows; b"" once all are written."""
        first = self.written
        rows = self.order[first : first + SORTED_ROWS_PER_READ]
        self.written += len(rows)
        if not len(rows):
            return b""
        columns = [self.polls.store_pk[rows], self.sorted_moment[first : self.written], self.polls.is_active[rows]]
        return binary_rows(columns + ([self.polls.line[rows]] if self.with_line else []))

    def read(self, size: int = -1) -> bytes:
        if self.state == "header":
            self.state = "rows"
            return HEADER + self.next_rows()
        if self.state == "rows":
            rows = self.next_rows()
            if rows:
                return rows
            self.state = "done"
            return TRAILER
        return b""

"""Valid polls as numpy arrays (store key, instant, status, line), and their binary
COPY rows, optionally in time order a slice at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from monitoring.ingest.copy_format import HEADER, TRAILER, binary_rows, pg_microseconds

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

    def latest_per_key(self) -> PollArrays:
        """One poll per (store, instant), the one of the latest line, in key order."""
        rows = self.take(np.lexsort((self.line, self.moment, self.store_pk)))
        last = np.ones(len(rows), bool)
        last[:-1] = (rows.store_pk[1:] != rows.store_pk[:-1]) | (rows.moment[1:] != rows.moment[:-1])
        return rows.take(last)

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


class RowsInTimeOrder:
    """Polls in memory, written in time order as binary COPY rows, a slice at a time
    (PostgreSQL stores one slice while the next is gathered): `next_rows` for a stream
    that frames them itself, `read` as a whole COPY stream."""

    def __init__(self, polls: PollArrays, *, with_line: bool = False) -> None:
        self.polls = polls
        self.with_line = with_line
        self.order = np.argsort(polls.moment)  # not stable: one row per key is stored, whatever the order of ties
        self.written = 0
        self.state = "header"  # header -> rows -> done

    def next_rows(self) -> bytes:
        """The next slice of rows; b"" once all are written."""
        rows = self.order[self.written : self.written + SORTED_ROWS_PER_READ]
        self.written += len(rows)
        if not len(rows):
            return b""
        return self.polls.take(rows).copy_rows(with_line=self.with_line)

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

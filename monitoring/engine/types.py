"""The engine's constants and data types: shifts, schedules, polls, results, segments,
incidents. Instants are int64 microseconds since the Unix epoch inside the engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone  # date: SpecialShift.date
from typing import NamedTuple

import numpy as np


from monitoring.kernel.periods import DEFAULT_HORIZON, DEFAULT_TIMEZONE, UNIX_EPOCH, WINDOWS
from monitoring.kernel.states import MEASURED as STATES
from monitoring.kernel.states import STATES as TIMELINE_STATES

UTC = timezone.utc
EPOCH = UNIX_EPOCH
ONE_US = timedelta(microseconds=1)
US = 1_000_000
DAY_US = 86_400 * US
I64 = np.int64
# Keys are store * K + t; keep every key (and sums of lengths) well inside int64.
KEY_LIMIT = 1 << 62


# --------------------------------------------------------------------------- data types


class Shift(NamedTuple):
    """A NamedTuple rather than a dataclass: the selector builds ~100k of them per
    report, and a tuple is 3x cheaper to make."""

    day_of_week: int  # 0 = Monday … 6 = Sunday (local)
    start: time  # local
    end: time  # local; end <= start => runs past midnight into the next day; end == start => 24 h


@dataclass(frozen=True, eq=False)
class WeeklyShiftArrays:
    """Many stores' weekly shifts as arrays, as a selector reads them in bulk: row k is
    a shift on `day_of_week[k]` from `start_us[k]` to `end_us[k]` (µs after local
    midnight; the same rule as `Shift`)."""

    day_of_week: np.ndarray  # int64
    start_us: np.ndarray  # int64
    end_us: np.ndarray  # int64


def _time_of_us(us: int) -> time:
    seconds, micro = divmod(us, US)
    minutes, second = divmod(seconds, 60)
    return time(minutes // 60, minutes % 60, second, micro)


class ShiftRows(Sequence):
    """One store's weekly shifts: rows [lo, hi) of a `WeeklyShiftArrays`. It reads as a
    tuple of `Shift` (made when asked for); the engine takes the arrays as they are
    (`schedules.shift_table`), so a fleet's schedules cost no object per shift."""

    __slots__ = ("arrays", "lo", "hi")

    def __init__(self, arrays: WeeklyShiftArrays, lo: int, hi: int) -> None:
        self.arrays, self.lo, self.hi = arrays, lo, hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def _shifts(self) -> tuple[Shift, ...]:
        return tuple(
            Shift(int(self.arrays.day_of_week[k]), _time_of_us(int(self.arrays.start_us[k])),
                  _time_of_us(int(self.arrays.end_us[k])))
            for k in range(self.lo, self.hi)
        )

    def __getitem__(self, index):
        return self._shifts()[index]

    def __iter__(self) -> Iterator[Shift]:
        return iter(self._shifts())

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


class SpecialShift(NamedTuple):
    """One special-hours row (docs/rules.md §9).  On a local date with at least one special row, the
    store's shifts are exactly its special rows; the weekly shifts do not apply that date."""

    date: date  # local calendar date
    start: time | None  # local; None (with end None) => closed all day
    end: time | None  # as Shift.end: end <= start => runs past midnight; end == start => 24 h

    @property
    def closed(self) -> bool:
        return self.start is None


@dataclass(frozen=True)
class StoreSchedule:
    store_id: str
    timezone_name: str | None  # None => DEFAULT_TIMEZONE
    # Empty => open 24x7 (docs/rules.md §2); a weekday with no shift is closed. A tuple, or
    # the selector's `ShiftRows` (the same shifts, held as arrays).
    shifts: tuple[Shift, ...] | ShiftRows
    # Special dates (docs/rules.md §9), any order.  With no weekly shifts, the other dates are open all day.
    special_shifts: tuple[SpecialShift, ...] = ()


@dataclass(frozen=True)
class Polls:
    store_index: np.ndarray  # int64, index into the schedules sequence
    timestamp_us: np.ndarray  # int64, microseconds since the Unix epoch, UTC
    is_active: np.ndarray  # bool

    @classmethod
    def empty(cls) -> Polls:
        return cls(np.zeros(0, I64), np.zeros(0, I64), np.zeros(0, bool))


_ROW_KEYS = tuple(
    (f"{state}_last_{name}", s, w, 60.0 if name == "hour" else 3600.0)
    for s, state in enumerate(("uptime", "downtime", "unknown"))
    for w, (name, _) in enumerate(WINDOWS)
)
_INCIDENT_KEYS = tuple((f"incidents_last_{name}", w) for w, (name, _) in enumerate(WINDOWS))


@dataclass
class UptimeResult:
    store_ids: list[str]
    seconds: np.ndarray  # float64 (n_stores, 3 windows [hour, day, week], 3 states [up, down, unknown])
    business_seconds: np.ndarray  # float64 (n_stores, 3): business time per window (== up+down+unknown)
    # int64 (n_stores, 3 windows): outage incidents per window, as store_incidents(start=as_of - window,
    # end=as_of) counts them.  None (the default) means zeros.
    incident_counts: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.incident_counts is None:
            self.incident_counts = np.zeros((len(self.store_ids), len(WINDOWS)), I64)

    def spec_figures(self) -> np.ndarray:
        """float64 (n_stores, 9): the figures of `spec_rows` in its key order (uptime,
        downtime, unknown; each for the hour in minutes, the day and the week in hours)."""
        if not len(self.store_ids):
            return np.zeros((0, len(_ROW_KEYS)))
        return np.stack([self.seconds[:, w, s] / div for _, s, w, div in _ROW_KEYS], axis=1)

    def spec_rows(self) -> Iterator[dict]:
        """One dict per store, in schedule order: hour values in minutes, day and week in hours."""
        keys = [key for key, *_ in _ROW_KEYS]
        incident_keys = [key for key, _ in _INCIDENT_KEYS]
        # Python numbers read once (`tolist`): indexing numpy per figure cost more than the rest.
        rows = zip(self.store_ids, self.spec_figures().tolist(), self.incident_counts.tolist())
        for store_id, figures, counts in rows:
            yield {"store_id": store_id, **dict(zip(keys, figures)), **dict(zip(incident_keys, counts))}


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    state: str  # "UP" | "DOWN" | "UNKNOWN" | "CLOSED"


@dataclass(frozen=True)
class Incident:
    start: datetime
    end: datetime
    business_seconds_lost: float

"""Lost revenue (docs/rules.md §13): how much business time of each window was down, and
how much unknown, in each local wall-clock hour of the week; and those times priced
at each hour's expected revenue, exactly.

A *window* is as in `ranges` (a store's ``[start, end)`` with the polls at or before its
as_of as evidence), and its pieces are the ones `ranges.window_pieces` makes for uptime,
so a window's down time over all hours is its downtime, and its unknown time its
unknown time, to the microsecond.

**Local hours.** The hour of an instant is the wall-clock hour of the store's zone at
that instant, with its weekday (0 = Monday): ``hour of week = weekday * 24 + hour``.
Per zone, the UTC instants where that hour changes (`hour_cells`) are every instant
whose wall time is a whole hour, and every offset change: on a fall-back night the
hour 01 runs twice (two real hours, both 01's), on a spring-forward night 02 never
runs; a 30-minute change (Lord Howe) makes one hour 30 or 90 minutes long. Business
time is measured per cell with the axis's cumulative business time, so what is closed
counts nothing wherever the cells fall.

**Which time.** Down time: the DOWN pieces clipped to the window, cut at the cells.
Unknown time: the window's stretches outside every piece (before the first, between
two, after the last; a window without pieces is one stretch), cut the same way. Only
the stretches holding business time are cut, so the work follows the open hours.

**Money, exactly.** Amounts are cents (an hour's expected revenue is at most
9,999,999,999.99, a whole number of cents). Per window, ``Σ µs × cents per hour`` is
summed in integers (int64 when the bound proves it cannot overflow, Python integers
otherwise) and kept as ``whole`` cents plus ``part`` / 3,600,000,000 of a cent, so
nothing is rounded until a figure is shown: `ExactCents.rounded` rounds half to even,
once, and totals add the exact amounts before rounding.

No Django here; numpy, zoneinfo (through `zones`) and integers only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from monitoring.engine.ranges import window_pieces
from monitoring.engine.schedules import shift_table
from monitoring.engine.types import DAY_US, DEFAULT_HORIZON, I64, US, Polls, StoreSchedule
from monitoring.engine.zones import td_us, zone_table

HOURS_OF_WEEK = 7 * 24
HOUR_US = 3600 * US
#: int64 products and sums stay below this (a margin under 2**63).
_INT64_SAFE = 1 << 62


# --------------------------------------------------------------------------- local hours


@functools.lru_cache(maxsize=512)
def hour_cells(name: str, lo_day: int, hi_day: int) -> tuple[np.ndarray, np.ndarray]:
    """(bounds, hour_of_week) of zone `name` over the UTC days [lo_day, hi_day] (days
    since the epoch) and a day either side: cell i is ``[bounds[i], bounds[i + 1])``
    (UTC µs), and all of it has the local hour of the week ``hour_of_week[i]``."""
    thresholds, offsets = zone_table(name, lo_day - 1, hi_day + 1)
    # zone_table's thresholds are wall times; the offset changes at this UTC instant.
    changes = thresholds - np.maximum(offsets[:-1], offsets[1:])
    seg_start = np.concatenate(([(lo_day - 1) * DAY_US], changes)).astype(I64)
    seg_end = np.concatenate((changes, [(hi_day + 2) * DAY_US])).astype(I64)
    parts = [seg_start]
    for start, end, offset in zip(seg_start.tolist(), seg_end.tolist(), offsets.tolist()):
        first = -((-(start + offset)) // HOUR_US) * HOUR_US - offset  # the first whole wall hour at or after start
        parts.append(np.arange(first, end, HOUR_US, dtype=I64))
    bounds = np.unique(np.concatenate(parts))
    wall = bounds + offsets[np.searchsorted(seg_start, bounds, side="right") - 1]
    day = wall // DAY_US
    weekday = (day + 3) % 7  # 1970-01-01 (day 0) was a Thursday (weekday 3)
    return bounds, (weekday * 24 + (wall - day * DAY_US) // HOUR_US).astype(I64)


@dataclass
class _Cells:
    """Every zone's hour cells on one key line: zone z's bound b is at ``z * span + b - t0``."""

    keys: np.ndarray
    hour_of_week: np.ndarray
    span: int
    t0: int

    @classmethod
    def of(cls, zone_names: Sequence[str], lo_us: int, hi_us: int) -> _Cells:
        lo_day, hi_day = lo_us // DAY_US - 1, hi_us // DAY_US + 1
        found = [hour_cells(name, lo_day, hi_day) for name in zone_names]
        t0 = min(int(bounds[0]) for bounds, _ in found)
        span = max(int(bounds[-1]) for bounds, _ in found) - t0 + 1
        keys = np.concatenate([z * span + bounds - t0 for z, (bounds, _) in enumerate(found)])
        return cls(keys, np.concatenate([how for _, how in found]), span, t0)


def _by_hour(cells: _Cells, lo: np.ndarray, hi: np.ndarray, zone: np.ndarray, to_key: np.ndarray, measure):
    """Intervals [lo, hi) (UTC µs, hi > lo) cut at their zone's hour cells: (interval
    index, hour of week, business µs) of each cut with business time, `measure(keys)`
    being the axis's cumulative business time at axis keys (`to_key` turns an instant
    of the interval's store into its key)."""
    line = zone * cells.span - cells.t0
    first = np.searchsorted(cells.keys, lo + line, side="right") - 1
    last = np.searchsorted(cells.keys, hi - 1 + line, side="right") - 1
    count = last - first + 1
    total = int(count.sum())
    owner = np.repeat(np.arange(len(lo), dtype=I64), count)
    cell = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(total, dtype=I64)
    cut_lo = np.maximum(lo[owner], cells.keys[cell] - line[owner])
    cut_hi = np.minimum(hi[owner], cells.keys[np.minimum(cell + 1, len(cells.keys) - 1)] - line[owner])
    business = measure(cut_hi + to_key[owner]) - measure(cut_lo + to_key[owner])
    keep = business > 0
    return owner[keep], cells.hour_of_week[cell[keep]], business[keep]


# --------------------------------------------------------------------------- exposure


@dataclass
class HourExposure:
    """Business µs down and unknown per window and local hour of the week, sparse:
    entry i is window ``window[i]``, hour ``hour_of_week[i]`` (weekday * 24 + hour,
    0 = Monday 00:00–01:00); sorted by (window, hour), each pair once, windows and
    hours with neither left out."""

    window: np.ndarray
    hour_of_week: np.ndarray
    down_us: np.ndarray
    unknown_us: np.ndarray


def window_hour_exposure(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    window_store: np.ndarray,
    window_start_us: np.ndarray,
    window_end_us: np.ndarray,
    window_as_of_us: np.ndarray | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
) -> HourExposure:
    """Down and unknown business time of each window (as `ranges.window_figures` takes
    them: store index, start, end, as_of at or after the end, default the end) per
    local hour of the week of its store's zone."""
    table = shift_table(schedules)
    H = td_us(horizon)
    ends = np.asarray(window_end_us, dtype=I64)
    as_ofs = ends if window_as_of_us is None else np.asarray(window_as_of_us, dtype=I64)
    stores = np.asarray(window_store, dtype=I64)
    keys_down, us_down, keys_unknown, us_unknown = [], [], [], []
    cells = None
    for chunk in window_pieces(table, polls, stores, window_start_us, ends, as_ofs, H):
        axis, wi, local = chunk.axis, chunk.windows, chunk.local
        if cells is None:
            cells = _Cells.of(table.zone_names, axis.r0 - axis.P, axis.r0 + axis.K)
        store = stores[wi]
        to_key = axis.key(store, 0)  # an instant t of the window's store is at key t + to_key
        zone = table.store_zone[store]
        key_a, key_b = chunk.key_a, chunk.key_b
        # DOWN pieces with business time, clipped to their window.
        down = np.flatnonzero(chunk.down & (chunk.b > chunk.a))
        d_local = local[down]
        d_lo = np.maximum(chunk.lo[down], key_a[d_local]) - to_key[d_local]
        d_hi = np.minimum(chunk.hi[down], key_b[d_local]) - to_key[d_local]
        # The stretches outside every piece: before each piece (from the previous one's end,
        # or the window's start), after each window's last piece, and windows without any.
        w_a, w_b = key_a[local], key_b[local]
        p_lo = np.clip(chunk.lo, w_a, w_b)
        p_hi = np.clip(chunk.hi, w_a, w_b)
        follows = np.zeros(len(local), bool)  # the piece before is of the same window
        follows[1:] = local[1:] == local[:-1]
        last = np.ones(len(local), bool)  # the window's last piece
        last[:-1] = local[1:] != local[:-1]
        before = np.where(follows, np.roll(p_hi, 1), w_a)  # where the stretch before each piece begins
        gap = np.flatnonzero(p_lo > before)  # most pieces meet the one before: no stretch
        has_pieces = np.zeros(len(wi), bool)
        has_pieces[local] = True
        bare = np.flatnonzero(~has_pieces)
        g_local = np.concatenate((local[gap], local[last], bare))
        g_lo = np.concatenate((before[gap], p_hi[last], key_a[bare]))
        g_hi = np.concatenate((p_lo[gap], key_b[local[last]], key_b[bare]))
        busy = g_hi > g_lo
        busy[busy] = axis.measure_to(g_hi[busy]) > axis.measure_to(g_lo[busy])  # with business time
        g_local, g_lo, g_hi = g_local[busy], g_lo[busy] - to_key[g_local[busy]], g_hi[busy] - to_key[g_local[busy]]
        for lo, hi, owner_local, keys, sums in ((d_lo, d_hi, d_local, keys_down, us_down),
                                                (g_lo, g_hi, g_local, keys_unknown, us_unknown)):
            if not len(lo):
                continue
            owner, how, business = _by_hour(cells, lo, hi, zone[owner_local], to_key[owner_local], axis.measure_to)
            keys.append(wi[owner_local[owner]] * HOURS_OF_WEEK + how)
            sums.append(business)
    down_key, down_us = _summed(keys_down, us_down)
    unknown_key, unknown_us = _summed(keys_unknown, us_unknown)
    key = np.union1d(down_key, unknown_key)
    down = np.zeros(len(key), I64)
    unknown = np.zeros(len(key), I64)
    down[np.searchsorted(key, down_key)] = down_us
    unknown[np.searchsorted(key, unknown_key)] = unknown_us
    return HourExposure(key // HOURS_OF_WEEK, key % HOURS_OF_WEEK, down, unknown)


def _summed(keys: list[np.ndarray], amounts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(unique keys, sorted; the int64 sum of the amounts of each)."""
    if not keys:
        return np.zeros(0, I64), np.zeros(0, I64)
    key, amount = np.concatenate(keys), np.concatenate(amounts).astype(I64)
    order = np.argsort(key, kind="stable")
    key, amount = key[order], amount[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return key[first], np.add.reduceat(amount, first)


# --------------------------------------------------------------------------- money


@dataclass
class ExactCents:
    """Amounts in cents, exactly: ``whole + part / HOUR_US`` with ``0 <= part < HOUR_US``
    (µs × cents per hour, divided by the µs of an hour)."""

    whole: np.ndarray
    part: np.ndarray

    @classmethod
    def zeros(cls, count: int) -> ExactCents:
        return cls(np.zeros(count, I64), np.zeros(count, I64))

    def rounded(self) -> np.ndarray:
        """Whole cents, rounded half to even (once: every sum is made before)."""
        twice = 2 * self.part
        up = (twice > HOUR_US) | ((twice == HOUR_US) & (self.whole % 2 == 1))
        return self.whole + up

    def total(self, index: np.ndarray | None = None) -> ExactCents:
        """The exact sum of the amounts (of `index`), as one amount."""
        whole = self.whole if index is None else self.whole[index]
        part = self.part if index is None else self.part[index]
        carry, rest = divmod(int(part.sum()), HOUR_US)
        return ExactCents(np.array([int(whole.sum()) + carry], I64), np.array([rest], I64))

    def take(self, index: np.ndarray) -> ExactCents:
        return ExactCents(self.whole[index], self.part[index])


def priced(exposure: HourExposure, *, rates_cents: np.ndarray, window_store: np.ndarray, windows: int) -> tuple[ExactCents, ExactCents]:
    """(lost, at risk) of each of `windows` windows: Σ over its hours of down (unknown)
    µs × that hour's expected revenue (``rates_cents[store, hour of week]``, whole cents)
    / HOUR_US, exactly."""
    rate = np.asarray(rates_cents, dtype=I64)[np.asarray(window_store, dtype=I64)[exposure.window], exposure.hour_of_week]
    return (
        _exact_sums(exposure.window, exposure.down_us, rate, windows),
        _exact_sums(exposure.window, exposure.unknown_us, rate, windows),
    )


def _exact_sums(window: np.ndarray, us: np.ndarray, rate: np.ndarray, windows: int) -> ExactCents:
    out = ExactCents.zeros(windows)
    keep = (us > 0) & (rate > 0)
    window, us, rate = window[keep], us[keep], rate[keep]
    if not len(window):
        return out
    first = np.flatnonzero(np.r_[True, window[1:] != window[:-1]])
    # At most HOURS_OF_WEEK entries per window: int64 is exact while this bound holds.
    if int(us.max()) * int(rate.max()) * HOURS_OF_WEEK < _INT64_SAFE:
        sums = np.add.reduceat(us * rate, first)
        out.whole[window[first]], out.part[window[first]] = sums // HOUR_US, sums % HOUR_US
        return out
    products = us.astype(object) * rate.astype(object)  # Python integers: no overflow
    for at, total in zip(window[first].tolist(), np.add.reduceat(products, first).tolist()):
        out.whole[at], out.part[at] = divmod(total, HOUR_US)
    return out

"""Business hours as UTC intervals: weekly shifts and special hours per store, vectorised
per time zone, merged, and laid out on one global axis (`Axis`) with a cumulative
business-time function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from operator import attrgetter

import numpy as np

from monitoring.kernel.periods import zone_name
from monitoring.engine.types import ShiftRows, SpecialShift, StoreSchedule, DAY_US, I64, KEY_LIMIT
from monitoring.engine.zones import time_us, wall_to_utc, zone_info, zone_table


# --------------------------------------------------------------------------- schedules


@dataclass
class ShiftTable:
    n_stores: int
    zone_names: list[str]
    store_zone: np.ndarray  # int64 per store
    always_open: np.ndarray  # bool per store (no shifts at all: 24x7)
    sh_store: np.ndarray  # per shift row
    sh_zone: np.ndarray
    sh_dow: np.ndarray
    sh_start: np.ndarray  # µs after local midnight
    sh_dur: np.ndarray  # µs, in (0, 24 h]
    special: _SpecialTable | None = None  # None: no store has special hours


@dataclass
class _SpecialTable:
    has_special: np.ndarray  # bool per store
    keys: np.ndarray  # sorted unique special (store, local date) keys, see _special_key
    sp_store: np.ndarray  # per special shift that opens (closed-all-day rows only mark their date)
    sp_zone: np.ndarray
    sp_day: np.ndarray  # local date, days since 1970-01-01
    sp_start: np.ndarray  # µs after local midnight
    sp_dur: np.ndarray  # µs, in (0, 24 h]


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _special_key(store: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (store << 32) + (day + (1 << 31))


class _TimeUs(dict):
    """time -> µs after midnight, memoised (a few hundred distinct values at most)."""

    def __missing__(self, t: time) -> int:
        v = self[t] = time_us(t)
        return v


_GET_DOW, _GET_START, _GET_END = attrgetter("day_of_week"), attrgetter("start"), attrgetter("end")


def shift_table(schedules: Sequence[StoreSchedule]) -> ShiftTable:
    n = len(schedules)
    zone_ids: dict[str, int] = {}
    store_zone = np.fromiter(
        (zone_ids.setdefault(zone_name(s.timezone_name), len(zone_ids)) for s in schedules), I64, n
    )
    for name in zone_ids:
        zone_info(name)  # unknown zone names fail here, loudly
    counts = np.fromiter((len(s.shifts) for s in schedules), I64, n)
    cache = _TimeUs()
    arrays = _shift_arrays(schedules, counts)
    if arrays is not None:
        sh_dow, sh_start, sh_end = arrays
        m = len(sh_dow)
    else:
        flat = [sh for s in schedules for sh in s.shifts]
        m = len(flat)
        sh_dow = np.fromiter(map(_GET_DOW, flat), I64, m)
        sh_start = np.fromiter(map(cache.__getitem__, map(_GET_START, flat)), I64, m)
        sh_end = np.fromiter(map(cache.__getitem__, map(_GET_END, flat)), I64, m)
    if m and (sh_dow.min() < 0 or sh_dow.max() > 6):
        raise ValueError("day_of_week must be 0 (Monday) … 6 (Sunday)")
    sh_dur = sh_end - sh_start
    sh_dur[sh_dur <= 0] += DAY_US
    sh_store = np.repeat(np.arange(n, dtype=I64), counts)
    always_open = counts == 0
    special = None
    flat_special = [(i, sp) for i, s in enumerate(schedules) if s.special_shifts for sp in s.special_shifts]
    if flat_special:
        special = _special_table(flat_special, n, store_zone, cache)
        # 24x7 stores with special dates: open all day on every other date.
        all_day = np.flatnonzero(always_open & special.has_special).astype(I64)
        if len(all_day):
            always_open = always_open & ~special.has_special
            sh_store = np.concatenate((sh_store, np.repeat(all_day, 7)))
            sh_dow = np.concatenate((sh_dow, np.tile(np.arange(7, dtype=I64), len(all_day))))
            sh_start = np.concatenate((sh_start, np.zeros(7 * len(all_day), I64)))
            sh_dur = np.concatenate((sh_dur, np.full(7 * len(all_day), DAY_US, I64)))
    return ShiftTable(
        n_stores=n,
        zone_names=list(zone_ids),
        store_zone=store_zone,
        always_open=always_open,
        sh_store=sh_store,
        sh_zone=store_zone[sh_store],
        sh_dow=sh_dow,
        sh_start=sh_start,
        sh_dur=sh_dur,
        special=special,
    )


def _shift_arrays(schedules: Sequence[StoreSchedule], counts: np.ndarray):
    """(day_of_week, start µs, end µs) of every shift in store order, taken from the
    arrays when every schedule's shifts are `ShiftRows` of the same arrays (or none:
    24x7); else None."""
    base = next((s.shifts.arrays for s in schedules if isinstance(s.shifts, ShiftRows)), None)
    if base is None:
        return None
    if not all((isinstance(s.shifts, ShiftRows) and s.shifts.arrays is base) or not s.shifts for s in schedules):
        return None
    lo = np.fromiter((s.shifts.lo if s.shifts else 0 for s in schedules), I64, len(schedules))
    ends = np.cumsum(counts)
    index = np.repeat(lo - (ends - counts), counts) + np.arange(int(ends[-1]) if len(ends) else 0, dtype=I64)
    return base.day_of_week[index], base.start_us[index], base.end_us[index]


def _special_table(flat: list[tuple[int, SpecialShift]], n: int, store_zone: np.ndarray, cache: _TimeUs) -> _SpecialTable:
    m = len(flat)
    store = np.fromiter((i for i, _ in flat), I64, m)
    day = np.fromiter((sp.date.toordinal() - _EPOCH_ORDINAL for _, sp in flat), I64, m)
    opens = np.fromiter((sp.start is not None for _, sp in flat), bool, m)
    if any((sp.start is None) != (sp.end is None) for _, sp in flat):
        raise ValueError("a special shift needs both times, or neither (closed all day)")
    start = np.fromiter((cache[sp.start] if sp.start is not None else 0 for _, sp in flat), I64, m)
    end = np.fromiter((cache[sp.end] if sp.end is not None else 0 for _, sp in flat), I64, m)
    dur = end - start
    dur[dur <= 0] += DAY_US
    has_special = np.zeros(n, bool)
    has_special[store] = True
    return _SpecialTable(
        has_special=has_special,
        keys=np.unique(_special_key(store, day)),
        sp_store=store[opens],
        sp_zone=store_zone[store[opens]],
        sp_day=day[opens],
        sp_start=start[opens],
        sp_dur=dur[opens],
    )


def _on_special_date(special: _SpecialTable, store: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where (store, local date) is one of the special dates."""
    hit = np.zeros(len(store), bool)
    candidates = np.flatnonzero(special.has_special[store])
    if len(candidates):
        keys = _special_key(store[candidates], day[candidates])
        pos = np.minimum(np.searchsorted(special.keys, keys), len(special.keys) - 1)
        hit[candidates[special.keys[pos] == keys]] = True
    return hit


def _raw_intervals(table: ShiftTable, r0: int, r1: int, s_lo: int, s_hi: int):
    """Unmerged UTC business intervals of stores [s_lo, s_hi) that may touch [r0, r1)."""
    st_parts, s_parts, e_parts = [], [], []
    in_chunk = (table.sh_store >= s_lo) & (table.sh_store < s_hi)
    special = table.special
    if special is not None:
        sp_in_chunk = (special.sp_store >= s_lo) & (special.sp_store < s_hi)
    lo_day = r0 // DAY_US - 4
    hi_day = r1 // DAY_US + 4
    for z, name in enumerate(table.zone_names):
        sel = in_chunk & (table.sh_zone == z)
        sp_sel = sp_in_chunk & (special.sp_zone == z) if special is not None else None
        weekly, special_shifts = sel.any(), sp_sel is not None and sp_sel.any()
        if not (weekly or special_shifts):
            continue
        ztab = zone_table(name, lo_day, hi_day)
        omin, omax = int(ztab[1].min()), int(ztab[1].max())
        # A shift starting on local date D covers wall times within [D, D + 2 days).
        dmin = (r0 + omin) // DAY_US - 2
        dmax = (r1 + omax) // DAY_US + 1
        if weekly:
            store, dow, start, dur = table.sh_store[sel], table.sh_dow[sel], table.sh_start[sel], table.sh_dur[sel]
            first = dmin + (dow - (dmin + 3) % 7) % 7  # 1970-01-01 (day 0) was a Thursday (weekday 3)
            count = np.maximum((dmax - first) // 7 + 1, 0)
            total = int(count.sum())
            row = np.repeat(np.arange(len(first)), count)
            k = np.arange(total, dtype=I64) - np.repeat(np.cumsum(count) - count, count)
            day = first[row] + 7 * k
            st = store[row]
            if special is not None:  # the weekly shifts do not apply on a special date (docs/rules.md §9)
                weekday = ~_on_special_date(special, st, day)
                if not weekday.all():
                    row, day, st = row[weekday], day[weekday], st[weekday]
            wall_start = day * DAY_US + start[row]
            wall_end = wall_start + dur[row]
            st_parts.append(st)
            s_parts.append(wall_to_utc(wall_start, ztab))
            e_parts.append(wall_to_utc(wall_end, ztab))
        if special_shifts:
            day = special.sp_day
            sp_sel &= (day >= dmin) & (day <= dmax)
            wall_start = day[sp_sel] * DAY_US + special.sp_start[sp_sel]
            wall_end = wall_start + special.sp_dur[sp_sel]
            st_parts.append(special.sp_store[sp_sel])
            s_parts.append(wall_to_utc(wall_start, ztab))
            e_parts.append(wall_to_utc(wall_end, ztab))
    open_all = np.flatnonzero(table.always_open[s_lo:s_hi]).astype(I64) + s_lo
    st_parts.append(open_all)
    s_parts.append(np.full(len(open_all), r0, I64))
    e_parts.append(np.full(len(open_all), r1, I64))
    return np.concatenate(st_parts), np.concatenate(s_parts), np.concatenate(e_parts)


@dataclass
class Axis:
    """Merged business intervals of stores [s_lo, s_hi) laid out on one int64 key axis.

    key(store, t) = (store - s_lo) * K + (t - r0 + P): each store owns K consecutive keys, and any
    t in [r0 - P, r0 + K - P) stays inside its store's block (P pads for t ± horizon).  ks/ke/cum
    carry a zero-length sentinel interval at each end, so every key >= -1 locates an interval.
    """

    r0: int
    K: int
    P: int
    s_lo: int
    ks: np.ndarray  # merged start keys, sorted (with sentinels)
    ke: np.ndarray  # merged end keys
    cum: np.ndarray  # cum[j] = total business time of the intervals before j

    def key(self, store, t):
        return (store - self.s_lo) * self.K + (t - self.r0 + self.P)

    def locate(self, keys: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ks, keys, side="right") - 1

    def locate_sorted(self, keys: np.ndarray) -> np.ndarray:
        """locate() for non-decreasing keys: search the (fewer) interval starts among the keys instead."""
        if len(keys) < 4 * len(self.ks):
            return self.locate(keys)
        pos = np.searchsorted(keys, self.ks, side="left")  # keys[p] >= ks[i]  <=>  p >= pos[i]
        return np.cumsum(np.bincount(pos, minlength=len(keys) + 1)[: len(keys)]) - 1

    def measure_at(self, keys: np.ndarray, j: np.ndarray) -> np.ndarray:
        """C(keys) given j = locate(keys) (or any j with ks[j] <= keys < ks[j + 1])."""
        ks = self.ks[j]
        return self.cum[j] + np.minimum(keys - ks, self.ke[j] - ks)

    def measure_to(self, keys: np.ndarray) -> np.ndarray:
        """Global cumulative business time C(key): differences within one store are measures."""
        return self.measure_at(keys, self.locate(keys))

    def intervals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(store_index, start_us, end_us), absolute, sentinels dropped."""
        ks, ke = self.ks[1:-1], self.ke[1:-1]
        store = ks // self.K
        base = store * self.K + self.P - self.r0
        return store + self.s_lo, ks - base, ke - base


def business_axis(table: ShiftTable, r0: int, r1: int, s_lo: int, s_hi: int, pad: int = 0) -> Axis:
    """Business intervals of stores [s_lo, s_hi), clipped to [r0, r1) and merged."""
    K = max(r1 - r0, 0) + 2 * pad + 1
    store, s, e = _raw_intervals(table, r0, r1, s_lo, s_hi)
    s = np.maximum(s, r0)
    e = np.minimum(e, r1)
    keep = s < e
    base = (store[keep] - s_lo) * K + (pad - r0)
    ks = s[keep] + base
    ke = e[keep] + base
    order = np.argsort(ks, kind="stable")
    ks, ke = ks[order], ke[order]
    if len(ks):
        run_end = np.maximum.accumulate(ke)
        new = np.empty(len(ks), bool)
        new[0] = True
        np.greater(ks[1:], run_end[:-1], out=new[1:])  # adjacent intervals merge too
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, len(ks) - 1)
        ks, ke = ks[first], run_end[last]
    top = (s_hi - s_lo + 1) * K
    ks = np.concatenate(([-1], ks, [top]))
    ke = np.concatenate(([-1], ke, [top]))
    cum = np.zeros(len(ks), I64)
    np.cumsum(ke[:-1] - ks[:-1], out=cum[1:])
    return Axis(r0=r0, K=K, P=pad, s_lo=s_lo, ks=ks, ke=ke, cum=cum)


def chunks(n_stores: int, K: int) -> list[tuple[int, int]]:
    """Store ranges small enough that (stores + 1) * K fits the key space."""
    per = max(1, KEY_LIMIT // (K + 1) - 1)
    return [(lo, min(lo + per, n_stores)) for lo in range(0, n_stores, per)] or [(0, 0)]

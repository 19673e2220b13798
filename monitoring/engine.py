"""The pure report engine: business hours, interpolation and uptime (SPEC §2–§5).

No Django here: stdlib, numpy and zoneinfo only, so the engine can be tested and
benchmarked on plain arrays.

Internally every instant is an ``int64`` count of microseconds since the Unix epoch
(UTC).  The outputs are float seconds.

How `compute_uptime` stays fast (no Python loop over polls or stores):

1. Business hours as UTC intervals, vectorised per time zone.  For each distinct
   zone the UTC-offset transitions around the report range are found once (hourly
   probes of ``ZoneInfo`` refined by bisection to the second).  A local wall time
   ``w`` (µs, "as if UTC") converts with the offset in force before a transition at
   UTC instant ``T`` when ``w < T + max(o_before, o_after)`` and with the offset after
   it otherwise: that single rule is exactly zoneinfo's ``fold=0`` for both the
   spring-forward gap (02:30 -> the instant it would have been under the old offset)
   and the fall-back fold (the first occurrence).  Wall-clock starts and ends for
   every (store, local date, shift) are built with numpy and converted with
   ``searchsorted`` over the thresholds, then merged per store (sort + running max).
2. Each store's intervals are laid out on one global int64 axis,
   ``key = store * K + (t - r0 + P)`` (``K`` larger than the range plus twice the padding
   ``P = H``, with a zero-length sentinel interval at each end), and a global cumulative
   business-time function ``C(key)`` makes the business measure of any ``[a, b)`` of one
   store ``C(b) - C(a)``.
3. Evidence polls are those inside a business interval: their sorted keys are located
   among the interval starts by searching the (far fewer) interval starts among the poll
   keys and counting.  Each evidence poll owns
   ``[max(mid(prev), t - H), min(mid(next), t + H))`` (mids between consecutive evidence
   polls of the same store); these pieces are disjoint and are exactly the instants whose
   nearest evidence poll is that poll and is within ``H``.  ``C`` at a piece's ends is
   linear inside the poll's own interval, so only pieces crossing an interval bound need
   a ``searchsorted``.  Uptime in a window is the business measure of the active polls'
   pieces inside the window; since ``C`` is monotone, clipping to a window is clipping
   the ``C`` values.  Per-store sums use ``np.bincount``.
4. Incident counts (what ``store_incidents`` returns for ``[as_of - window, as_of)``) come from
   the same pieces clipped to the week: walking each store's pieces *with business time* in
   order, a DOWN piece continues the incident of the one before iff that one is DOWN too and
   no business time lies between them (``C`` equal at the two ends: only closed time, so no
   UNKNOWN).  Each incident's end ``C`` is kept, and a window counts the incidents ending
   after its start (``C(end) > C(ws)``); see ``_incident_ends``.

With ~14,000 stores and ~2 million polls the cost is a few dozen numpy passes over the
poll arrays plus one Python pass over the shift objects (see bench/engine.py).

A change point half-way between two polls is rounded down to the microsecond (the
resolution of the inputs); everything else is exact.

Special hours (SPEC §9) are a correction applied only to the stores that have them: the
weekly occurrences of such a store whose local date is one of its special dates are
dropped (one ``searchsorted`` among the special (store, date) keys), and the special
shifts of the dates near the range are converted with the same per-zone table and added
before the merge.  A store without special rows costs nothing more.  A store with special
rows but no weekly rows is open 24 hours on every other date (SPEC §2's 24x7), built as
seven 00:00–00:00 weekly shifts.

A shift whose converted UTC end is not after its converted UTC start (possible only
for a shift lying inside a spring-forward gap, e.g. 02:30–03:00 on the day clocks go
from 02:00 to 03:00) is empty: SPEC §3 maps both ends with the rule above and the
resulting interval has no length.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_HORIZON = timedelta(hours=2)
WINDOWS = (("hour", timedelta(hours=1)), ("day", timedelta(days=1)), ("week", timedelta(days=7)))
STATES = ("up", "down", "unknown")

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_US = 1_000_000
_DAY_US = 86_400 * _US
_I64 = np.int64
# Keys are store * K + t; keep every key (and sums of lengths) well inside int64.
_KEY_LIMIT = 1 << 62


# --------------------------------------------------------------------------- data types


class Shift(NamedTuple):
    """A NamedTuple rather than a dataclass: the selector builds ~100k of them per
    report, and a tuple is 3x cheaper to make."""

    day_of_week: int  # 0 = Monday … 6 = Sunday (local)
    start: time  # local
    end: time  # local; end <= start => runs past midnight into the next day; end == start => 24 h


class SpecialShift(NamedTuple):
    """One special-hours row (SPEC §9).  On a local date with at least one special row, the
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
    shifts: tuple[Shift, ...]  # empty => open 24x7 (SPEC §2); a weekday with no shift is closed
    # Special dates (SPEC §9), any order.  With no weekly shifts, the other dates are open all day.
    special_shifts: tuple[SpecialShift, ...] = ()


@dataclass(frozen=True)
class Polls:
    store_index: np.ndarray  # int64, index into the schedules sequence
    timestamp_us: np.ndarray  # int64, microseconds since the Unix epoch, UTC
    is_active: np.ndarray  # bool

    @classmethod
    def empty(cls) -> Polls:
        return cls(np.zeros(0, _I64), np.zeros(0, _I64), np.zeros(0, bool))


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
            self.incident_counts = np.zeros((len(self.store_ids), len(WINDOWS)), _I64)

    def spec_rows(self) -> Iterator[dict]:
        """One dict per store, in schedule order: hour values in minutes, day and week in hours."""
        for i, store_id in enumerate(self.store_ids):
            row = {"store_id": store_id}
            sec = self.seconds[i]
            for key, s, w, div in _ROW_KEYS:
                row[key] = float(sec[w, s]) / div
            counts = self.incident_counts[i]
            for key, w in _INCIDENT_KEYS:
                row[key] = int(counts[w])
            yield row


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


# --------------------------------------------------------------------------- conversions


def _to_us(dt: datetime) -> int:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: the engine needs timezone-aware datetimes")
    return (dt - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _td_us(td: timedelta) -> int:
    us = td // _ONE_US
    if us < 0:
        raise ValueError("horizon must not be negative")
    return us


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US + t.microsecond


# --------------------------------------------------------------------------- time zones


@functools.lru_cache(maxsize=None)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset_us(zone: ZoneInfo, t_s: int) -> int:
    """UTC offset (µs) in force at the UTC instant t_s (seconds since the epoch)."""
    return datetime.fromtimestamp(t_s, tz=zone).utcoffset() // _ONE_US


@functools.lru_cache(maxsize=512)
def _zone_table(name: str, lo_day: int, hi_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock -> UTC conversion table for days [lo_day, hi_day] (days since the epoch, UTC).

    Returns (thresholds, offsets): a wall time w (µs) maps to
    ``w - offsets[searchsorted(thresholds, w, "right")]``.
    """
    zone = _zone(name)
    lo_s, hi_s = lo_day * 86_400, (hi_day + 1) * 86_400
    probes = range(lo_s, hi_s + 3600, 3600)
    offsets = [_offset_us(zone, lo_s)]
    thresholds: list[int] = []
    prev_t, prev_o = lo_s, offsets[0]
    for t in probes[1:]:
        o = _offset_us(zone, t)
        while o != prev_o:  # at least one transition in (prev_t, t]: find the first one
            a, b = prev_t, t
            while b - a > 1:
                m = (a + b) // 2
                if _offset_us(zone, m) == prev_o:
                    a = m
                else:
                    b = m
            new_o = _offset_us(zone, b)
            thresholds.append(b * _US + max(prev_o, new_o))
            offsets.append(new_o)
            prev_t, prev_o = b, new_o
        prev_t = t
    return np.asarray(thresholds, _I64), np.asarray(offsets, _I64)


def _wall_to_utc(wall: np.ndarray, table: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    thresholds, offsets = table
    if len(thresholds) == 0:
        return wall - offsets[0]
    return wall - offsets[np.searchsorted(thresholds, wall, side="right")]


# --------------------------------------------------------------------------- schedules


@dataclass
class _ShiftTable:
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
        v = self[t] = _time_us(t)
        return v


_GET_DOW, _GET_START, _GET_END = attrgetter("day_of_week"), attrgetter("start"), attrgetter("end")


def _shift_table(schedules: Sequence[StoreSchedule]) -> _ShiftTable:
    n = len(schedules)
    zone_ids: dict[str, int] = {}
    store_zone = np.fromiter(
        (zone_ids.setdefault(s.timezone_name or DEFAULT_TIMEZONE, len(zone_ids)) for s in schedules), _I64, n
    )
    for name in zone_ids:
        _zone(name)  # unknown zone names fail here, loudly
    counts = np.fromiter((len(s.shifts) for s in schedules), _I64, n)
    flat = [sh for s in schedules for sh in s.shifts]
    m = len(flat)
    cache = _TimeUs()
    sh_dow = np.fromiter(map(_GET_DOW, flat), _I64, m)
    sh_start = np.fromiter(map(cache.__getitem__, map(_GET_START, flat)), _I64, m)
    sh_end = np.fromiter(map(cache.__getitem__, map(_GET_END, flat)), _I64, m)
    if m and (sh_dow.min() < 0 or sh_dow.max() > 6):
        raise ValueError("day_of_week must be 0 (Monday) … 6 (Sunday)")
    sh_dur = sh_end - sh_start
    sh_dur[sh_dur <= 0] += _DAY_US
    sh_store = np.repeat(np.arange(n, dtype=_I64), counts)
    always_open = counts == 0
    special = None
    flat_special = [(i, sp) for i, s in enumerate(schedules) if s.special_shifts for sp in s.special_shifts]
    if flat_special:
        special = _special_table(flat_special, n, store_zone, cache)
        # 24x7 stores with special dates: open all day on every other date.
        all_day = np.flatnonzero(always_open & special.has_special).astype(_I64)
        if len(all_day):
            always_open = always_open & ~special.has_special
            sh_store = np.concatenate((sh_store, np.repeat(all_day, 7)))
            sh_dow = np.concatenate((sh_dow, np.tile(np.arange(7, dtype=_I64), len(all_day))))
            sh_start = np.concatenate((sh_start, np.zeros(7 * len(all_day), _I64)))
            sh_dur = np.concatenate((sh_dur, np.full(7 * len(all_day), _DAY_US, _I64)))
    return _ShiftTable(
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


def _special_table(flat: list[tuple[int, SpecialShift]], n: int, store_zone: np.ndarray, cache: _TimeUs) -> _SpecialTable:
    m = len(flat)
    store = np.fromiter((i for i, _ in flat), _I64, m)
    day = np.fromiter((sp.date.toordinal() - _EPOCH_ORDINAL for _, sp in flat), _I64, m)
    opens = np.fromiter((sp.start is not None for _, sp in flat), bool, m)
    if any((sp.start is None) != (sp.end is None) for _, sp in flat):
        raise ValueError("a special shift needs both times, or neither (closed all day)")
    start = np.fromiter((cache[sp.start] if sp.start is not None else 0 for _, sp in flat), _I64, m)
    end = np.fromiter((cache[sp.end] if sp.end is not None else 0 for _, sp in flat), _I64, m)
    dur = end - start
    dur[dur <= 0] += _DAY_US
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


def _raw_intervals(table: _ShiftTable, r0: int, r1: int, s_lo: int, s_hi: int):
    """Unmerged UTC business intervals of stores [s_lo, s_hi) that may touch [r0, r1)."""
    st_parts, s_parts, e_parts = [], [], []
    in_chunk = (table.sh_store >= s_lo) & (table.sh_store < s_hi)
    special = table.special
    if special is not None:
        sp_in_chunk = (special.sp_store >= s_lo) & (special.sp_store < s_hi)
    lo_day = r0 // _DAY_US - 4
    hi_day = r1 // _DAY_US + 4
    for z, name in enumerate(table.zone_names):
        sel = in_chunk & (table.sh_zone == z)
        sp_sel = sp_in_chunk & (special.sp_zone == z) if special is not None else None
        weekly, special_shifts = sel.any(), sp_sel is not None and sp_sel.any()
        if not (weekly or special_shifts):
            continue
        ztab = _zone_table(name, lo_day, hi_day)
        omin, omax = int(ztab[1].min()), int(ztab[1].max())
        # A shift starting on local date D covers wall times within [D, D + 2 days).
        dmin = (r0 + omin) // _DAY_US - 2
        dmax = (r1 + omax) // _DAY_US + 1
        if weekly:
            store, dow, start, dur = table.sh_store[sel], table.sh_dow[sel], table.sh_start[sel], table.sh_dur[sel]
            first = dmin + (dow - (dmin + 3) % 7) % 7  # 1970-01-01 (day 0) was a Thursday (weekday 3)
            count = np.maximum((dmax - first) // 7 + 1, 0)
            total = int(count.sum())
            row = np.repeat(np.arange(len(first)), count)
            k = np.arange(total, dtype=_I64) - np.repeat(np.cumsum(count) - count, count)
            day = first[row] + 7 * k
            st = store[row]
            if special is not None:  # the weekly shifts do not apply on a special date (SPEC §9)
                weekday = ~_on_special_date(special, st, day)
                if not weekday.all():
                    row, day, st = row[weekday], day[weekday], st[weekday]
            wall_start = day * _DAY_US + start[row]
            wall_end = wall_start + dur[row]
            st_parts.append(st)
            s_parts.append(_wall_to_utc(wall_start, ztab))
            e_parts.append(_wall_to_utc(wall_end, ztab))
        if special_shifts:
            day = special.sp_day
            sp_sel &= (day >= dmin) & (day <= dmax)
            wall_start = day[sp_sel] * _DAY_US + special.sp_start[sp_sel]
            wall_end = wall_start + special.sp_dur[sp_sel]
            st_parts.append(special.sp_store[sp_sel])
            s_parts.append(_wall_to_utc(wall_start, ztab))
            e_parts.append(_wall_to_utc(wall_end, ztab))
    open_all = np.flatnonzero(table.always_open[s_lo:s_hi]).astype(_I64) + s_lo
    st_parts.append(open_all)
    s_parts.append(np.full(len(open_all), r0, _I64))
    e_parts.append(np.full(len(open_all), r1, _I64))
    return np.concatenate(st_parts), np.concatenate(s_parts), np.concatenate(e_parts)


@dataclass
class _Axis:
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


def _axis(table: _ShiftTable, r0: int, r1: int, s_lo: int, s_hi: int, pad: int = 0) -> _Axis:
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
    cum = np.zeros(len(ks), _I64)
    np.cumsum(ke[:-1] - ks[:-1], out=cum[1:])
    return _Axis(r0=r0, K=K, P=pad, s_lo=s_lo, ks=ks, ke=ke, cum=cum)


def _chunks(n_stores: int, K: int) -> list[tuple[int, int]]:
    """Store ranges small enough that (stores + 1) * K fits the key space."""
    per = max(1, _KEY_LIMIT // (K + 1) - 1)
    return [(lo, min(lo + per, n_stores)) for lo in range(0, n_stores, per)] or [(0, 0)]


# --------------------------------------------------------------------------- polls


def _as_i64_us(a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind == "M":
        return a.astype("datetime64[us]").view(_I64)
    return a.astype(_I64, copy=False)


def _normalised_polls(store, t, active, n_stores: int):
    """Sorted by (store, t), unique (the last given wins), valid store indexes only."""
    store = np.asarray(store).astype(_I64, copy=False)
    t = _as_i64_us(t)
    active = np.asarray(active).astype(bool, copy=False)
    if not (len(store) == len(t) == len(active)):
        raise ValueError("polls arrays must have equal lengths")
    if len(store) and (store.min() < 0 or store.max() >= n_stores):
        raise ValueError("poll store_index out of range")
    if len(store) < 2:
        return store, t, active
    t_lo = int(t.min())
    span = int(t.max()) - t_lo + 1
    if n_stores * span < _KEY_LIMIT:
        key = store * span + (t - t_lo)
        ordered = bool(np.all(key[1:] > key[:-1]))
    else:
        ds = np.diff(store)
        ordered = bool(np.all((ds > 0) | ((ds == 0) & (np.diff(t) > 0))))
    if not ordered:
        order = np.lexsort((t, store))  # stable: among equal keys, input order is kept
        store, t, active = store[order], t[order], active[order]
        last = np.ones(len(store), bool)
        last[:-1] = (store[1:] != store[:-1]) | (t[1:] != t[:-1])
        store, t, active = store[last], t[last], active[last]
    return store, t, active


def _owned(axis: _Axis, store, t, horizon_us: int):
    """Evidence polls and the business measure C at both ends of the piece of time each one owns.

    Polls must be sorted by (store, t), with t in [r0, r0 + K - 2P) and horizon_us <= P.
    Returns (evidence mask, C(lo), C(hi)) for the evidence polls.
    """
    pk = axis.key(store, t)
    j = axis.locate_sorted(pk)
    ev = pk < axis.ke[j]
    if not ev.all():
        idx = np.flatnonzero(ev)
        pk, j, store = pk[idx], j[idx], store[idx]
    lo = pk - horizon_us
    hi = pk + horizon_us
    if len(pk) > 1:
        same = store[1:] == store[:-1]
        mid = (pk[:-1] + pk[1:]) >> 1  # floor: the change point is rounded down to the µs
        np.maximum(lo[1:], mid, out=lo[1:], where=same)
        np.minimum(hi[:-1], mid, out=hi[:-1], where=same)
    # Most pieces lie inside the poll's own business interval j: C is then linear there.
    ksj = axis.ks[j]
    cum = axis.cum[j]
    length = axis.ke[j] - ksj
    c_lo = cum + np.minimum(lo - ksj, length)  # right where lo >= ks[j]
    c_hi = cum + np.minimum(hi - ksj, length)  # right where hi < ks[j + 1]
    bad = np.flatnonzero(lo < ksj)
    if len(bad):
        c_lo[bad] = axis.measure_to(lo[bad])
    bad = np.flatnonzero(hi >= axis.ks[j + 1])
    if len(bad):
        c_hi[bad] = axis.measure_to(hi[bad])
    return ev, c_lo, c_hi


# --------------------------------------------------------------------------- public API


def business_intervals(
    *, schedules: Sequence[StoreSchedule], start: datetime, end: datetime
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(store_index, start_us, end_us): merged, non-overlapping, sorted by (store, start), clipped to [start, end)."""
    r0, r1 = _to_us(start), _to_us(end)
    table = _shift_table(schedules)
    if r1 <= r0 or not schedules:
        z = np.zeros(0, _I64)
        return z, z.copy(), z.copy()
    parts = [_axis(table, r0, r1, lo, hi).intervals() for lo, hi in _chunks(len(schedules), r1 - r0 + 1)]
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def compute_uptime(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    as_of: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> UptimeResult:
    """Up/down/unknown business seconds per store for the last hour, day and week before as_of."""
    n = len(schedules)
    H = _td_us(horizon)
    t1 = _to_us(as_of)
    win_starts = [t1 - _td_us(w) for _, w in WINDOWS]
    w0 = min(win_starts)
    table = _shift_table(schedules)

    store, t, active = polls.store_index, _as_i64_us(polls.timestamp_us), polls.is_active
    # Only polls in [w0 - H, as_of] can matter (the owned piece of an earlier one ends before w0,
    # and it cannot narrow a later poll's piece inside the week either).
    keep = (t >= w0 - H) & (t <= t1)
    if not keep.all():
        store, t, active = np.asarray(store)[keep], t[keep], np.asarray(active)[keep]
    store, t, active = _normalised_polls(store, t, active, n)
    r0 = min(w0, max(w0 - H, int(t.min()) if len(t) else w0))
    r1 = t1 + 1  # a poll exactly at as_of is evidence if as_of is in business hours
    H = min(H, r1 - r0 + 1)  # a longer horizon changes nothing inside [r0, r1)

    seconds = np.zeros((n, len(WINDOWS), len(STATES)))
    business = np.zeros((n, len(WINDOWS)))
    incident_counts = np.zeros((n, len(WINDOWS)), _I64)
    for s_lo, s_hi in _chunks(n, r1 - r0 + 2 * H + 1):
        if s_hi <= s_lo:
            continue
        m = s_hi - s_lo
        axis = _axis(table, r0, r1, s_lo, s_hi, pad=H)
        if (s_lo, s_hi) == (0, n):
            cs, ct, ca = store, t, active
        else:
            a, b = np.searchsorted(store, [s_lo, s_hi])
            cs, ct, ca = store[a:b], t[a:b], active[a:b]
        ev, c_lo, c_hi = _owned(axis, cs, ct, H)
        if not ev.all():
            cs, ct, ca = cs[ev], ct[ev], ca[ev]
        loc = cs - s_lo
        down = ~ca
        slot = loc * 2 + down  # 2 * store + (0 up | 1 down)
        base_keys = axis.key(np.arange(s_lo, s_hi, dtype=_I64), 0)  # key of t = 0, per store
        c_end = axis.measure_to(base_keys + t1)
        c_starts = []
        for w, ws in enumerate(win_starts):
            c_start = axis.measure_to(base_keys + ws)
            c_starts.append(c_start)
            business[s_lo:s_hi, w] = c_end - c_start
            if ws > w0:  # shorter windows: only pieces that may reach into them
                sub = np.flatnonzero(ct >= ws - H)
                lo_b, hi_b = c_start[loc[sub]], c_end[loc[sub]]
                piece = np.clip(c_hi[sub], lo_b, hi_b) - np.clip(c_lo[sub], lo_b, hi_b)
                sums = np.bincount(slot[sub], piece, minlength=2 * m)
            else:
                lo_b, hi_b = c_start[loc], c_end[loc]
                a_w0, b_w0 = np.clip(c_lo, lo_b, hi_b), np.clip(c_hi, lo_b, hi_b)
                piece = b_w0 - a_w0
                sums = np.bincount(slot, piece, minlength=2 * m)
                week_piece = piece
            seconds[s_lo:s_hi, w, :2] = sums.reshape(m, 2)
        end_loc, end_c = _incident_ends(loc, down, a_w0, b_w0, week_piece)
        for w, c_start in enumerate(c_starts):
            incident_counts[s_lo:s_hi, w] = np.bincount(end_loc[end_c > c_start[end_loc]], minlength=m)
    business /= _US
    seconds /= _US
    seconds[:, :, 2] = business - seconds[:, :, 0] - seconds[:, :, 1]
    np.maximum(seconds[:, :, 2], 0.0, out=seconds[:, :, 2])  # float rounding only; exact in µs
    return UptimeResult(
        store_ids=[s.store_id for s in schedules],
        seconds=seconds,
        business_seconds=business,
        incident_counts=incident_counts,
    )


def _incident_ends(loc, down, a, b, piece):
    """Outage incidents of the longest window, one entry per incident: (store, C at its end).

    Inputs are per evidence poll, sorted by (store, t): its owned piece clipped to the longest
    window [w0, as_of) in C space, ``[a, b)``, and ``piece = b - a`` (> 0 iff the piece holds
    business time in that window).  Pieces of one store are disjoint and in time order, so their
    clipped C values never decrease.  Two consecutive pieces *with business time* that are both
    DOWN belong to one incident iff ``a(next) == b(prev)``: then everything between them is closed
    (pieces with no business time, and gaps with no business time); otherwise there is business
    time between them that no piece owns, i.e. UNKNOWN, which ends the incident.  Pieces with no
    business time are skipped: they lie in closed time (or before w0) and neither start nor break
    an incident.  An UP piece with business time ends one.

    A window [ws, as_of) with ws >= w0 sees exactly the incidents whose last DOWN business instant
    is after ws, i.e. ``C(end) > C(ws)``, each once (clipped at ws): the continuation rule between
    two pieces with business time inside it is the same as in the longest window.
    """
    n = len(piece)
    positive = piece > 0
    i = np.flatnonzero(down & positive)  # DOWN pieces with business time
    # nxt: the next piece with business time after each (n if none).  Pieces without any are few
    # (empty pieces, and pieces before w0), so i + 1 almost always is it; the others skip the
    # run of consecutive pieces without business time that follows them.
    nxt = i + 1
    skip = np.flatnonzero(~positive[np.minimum(nxt, n - 1)] & (nxt < n))
    if len(skip):
        zero = np.flatnonzero(~positive)
        run = zero - np.arange(len(zero))  # constant along a run of consecutive indexes, increasing across
        p = np.searchsorted(zero, nxt[skip])  # zero[p] == nxt[skip]
        last = np.searchsorted(run, run[p], side="right") - 1  # the run's last index in zero
        nxt[skip] = zero[last] + 1
    has_next = nxt < n
    nxt = np.minimum(nxt, n - 1)
    cont = has_next & down[nxt] & (loc[nxt] == loc[i]) & (a[nxt] == b[i])
    ends = i[~cont]
    return loc[ends], b[ends]


def _timeline_us(schedule: StoreSchedule, timestamps_us, is_active, start: datetime, end: datetime, horizon):
    """Pieces of [start, end): (bounds µs array, state codes) with codes 0 UP, 1 DOWN, 2 UNKNOWN, 3 CLOSED."""
    s0, s1 = _to_us(start), _to_us(end)
    H = _td_us(horizon)
    table = _shift_table([schedule])
    t = _as_i64_us(timestamps_us)
    keep = (t >= s0 - H) & (t <= s1)
    store, t, active = _normalised_polls(np.zeros(int(keep.sum()), _I64), t[keep], np.asarray(is_active)[keep], 1)
    r0 = min(s0, max(s0 - H, int(t.min()) if len(t) else s0))
    r1 = s1 + 1
    H = min(H, r1 - r0 + 1)
    axis = _axis(table, r0, r1, 0, 1, pad=H)
    # store 0: key = t - r0 + P; work in those keys and shift back at the end
    off = axis.key(0, 0)
    pk = t + off
    j = axis.locate(pk)
    ev = pk < axis.ke[j]
    pk, ea = pk[ev], active[ev]
    lo, hi = pk - H, pk + H
    if len(pk) > 1:
        mid = (pk[:-1] + pk[1:]) >> 1
        lo[1:] = np.maximum(lo[1:], mid)
        hi[:-1] = np.minimum(hi[:-1], mid)
    S, E = s0 + off, s1 + off
    bs, be = np.maximum(axis.ks[1:-1], S), np.minimum(axis.ke[1:-1], E)
    kb = bs < be
    bs, be = bs[kb], be[kb]
    lo, hi = np.maximum(lo, S), np.minimum(hi, E)
    ko = lo < hi
    lo, hi, ea = lo[ko], hi[ko], ea[ko]
    bounds = np.unique(np.concatenate(([S, E], bs, be, lo, hi)))
    left = bounds[:-1]
    code = np.full(len(left), 3, np.int8)
    if len(bs):
        jb = np.searchsorted(bs, left, side="right") - 1
        code[(jb >= 0) & (left < be[np.maximum(jb, 0)])] = 2
    if len(lo):
        jo = np.searchsorted(lo, left, side="right") - 1
        jj = np.maximum(jo, 0)
        owned = (jo >= 0) & (left < hi[jj]) & (code == 2)
        code[owned] = np.where(ea[jj[owned]], 0, 1)
    if len(code):  # merge adjacent equal states
        change = np.ones(len(code), bool)
        change[1:] = code[1:] != code[:-1]
        idx = np.flatnonzero(change)
        bounds = np.append(bounds[idx], bounds[-1])
        code = code[idx]
    return bounds - off, code


_STATE_NAMES = ("UP", "DOWN", "UNKNOWN", "CLOSED")


def store_timeline(
    *,
    schedule: StoreSchedule,
    timestamps_us: np.ndarray,
    is_active: np.ndarray,
    start: datetime,
    end: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> list[Segment]:
    """Ordered segments covering [start, end) exactly, adjacent equal states merged; polls <= end only."""
    if _to_us(end) <= _to_us(start):
        return []
    bounds, code = _timeline_us(schedule, timestamps_us, is_active, start, end, horizon)
    return [
        Segment(start=_from_us(bounds[i]), end=_from_us(bounds[i + 1]), state=_STATE_NAMES[code[i]])
        for i in range(len(code))
    ]


def store_incidents(
    *,
    schedule: StoreSchedule,
    timestamps_us: np.ndarray,
    is_active: np.ndarray,
    start: datetime,
    end: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> list[Incident]:
    """Maximal DOWN runs in business hours; CLOSED time alone does not end a run."""
    if _to_us(end) <= _to_us(start):
        return []
    bounds, code = _timeline_us(schedule, timestamps_us, is_active, start, end, horizon)
    incidents: list[Incident] = []
    run_start = run_end = None
    lost = 0
    for i, c in enumerate(code.tolist()):
        if c == 1:
            if run_start is None:
                run_start, lost = int(bounds[i]), 0
            run_end = int(bounds[i + 1])
            lost += int(bounds[i + 1] - bounds[i])
        elif c != 3 and run_start is not None:
            incidents.append(Incident(_from_us(run_start), _from_us(run_end), lost / _US))
            run_start = None
    if run_start is not None:
        incidents.append(Incident(_from_us(run_start), _from_us(run_end), lost / _US))
    return incidents

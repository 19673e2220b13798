"""One store's timeline (UP / DOWN / UNKNOWN / CLOSED segments) and outage incidents over
a range, from the same schedules and pieces as the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitoring.engine.types import DEFAULT_HORIZON, KEY_LIMIT, TIMELINE_STATES, Incident, Segment, StoreSchedule, I64, US
from monitoring.engine.zones import from_us, td_us, to_us
from monitoring.engine.schedules import business_axis, shift_table
from monitoring.engine.uptime import as_i64_us, normalised_polls



def _piece_states(left, bs, be, lo, hi, ea) -> np.ndarray:
    """The state code of each piece starting at `left` (0 UP, 1 DOWN, 2 UNKNOWN, 3 CLOSED):
    inside business intervals [bs, be) UNKNOWN unless a poll's reach [lo, hi) covers it
    (active: UP, else DOWN); outside them CLOSED."""
    code = np.full(len(left), 3, np.int8)
    if len(bs):
        jb = np.searchsorted(bs, left, side="right") - 1
        code[(jb >= 0) & (left < be[np.maximum(jb, 0)])] = 2
    if len(lo):
        jo = np.searchsorted(lo, left, side="right") - 1
        jj = np.maximum(jo, 0)
        owned = (jo >= 0) & (left < hi[jj]) & (code == 2)
        code[owned] = np.where(ea[jj[owned]], 0, 1)
    return code

def _timeline_us(schedule: StoreSchedule, timestamps_us, is_active, start: datetime, end: datetime, horizon):
    """Pieces of [start, end): (bounds µs array, state codes) with codes 0 UP, 1 DOWN, 2 UNKNOWN, 3 CLOSED."""
    s0, s1 = to_us(start), to_us(end)
    H = td_us(horizon)
    table = shift_table([schedule])
    t = as_i64_us(timestamps_us)
    keep = (t >= s0 - H) & (t <= s1)
    store, t, active = normalised_polls(np.zeros(int(keep.sum()), I64), t[keep], np.asarray(is_active)[keep], 1)
    r0 = min(s0, max(s0 - H, int(t.min()) if len(t) else s0))
    r1 = s1 + 1
    H = min(H, r1 - r0 + 1)
    axis = business_axis(table, r0, r1, 0, 1, pad=H)
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
    code = _piece_states(left, bs, be, lo, hi, ea)
    if len(code):  # merge adjacent equal states
        change = np.ones(len(code), bool)
        change[1:] = code[1:] != code[:-1]
        idx = np.flatnonzero(change)
        bounds = np.append(bounds[idx], bounds[-1])
        code = code[idx]
    return bounds - off, code


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
    if to_us(end) <= to_us(start):
        return []
    bounds, code = _timeline_us(schedule, timestamps_us, is_active, start, end, horizon)
    return [
        Segment(start=from_us(bounds[i]), end=from_us(bounds[i + 1]), state=TIMELINE_STATES[code[i]])
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
    if to_us(end) <= to_us(start):
        return []
    bounds, code = _timeline_us(schedule, timestamps_us, is_active, start, end, horizon)
    return _incidents_of(bounds, code)


def _incidents_of(bounds: np.ndarray, code: np.ndarray) -> list[Incident]:
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
            incidents.append(Incident(from_us(run_start), from_us(run_end), lost / US))
            run_start = None
    if run_start is not None:
        incidents.append(Incident(from_us(run_start), from_us(run_end), lost / US))
    return incidents


@dataclass(frozen=True)
class StoreNow:
    """A store at the end of a range: the timeline's last segment and the incident in
    progress (the last outage with only closed time after it: closed time does not end
    an incident, store_incidents), or None."""

    state: str  # "UP" | "DOWN" | "UNKNOWN" | "CLOSED"
    since: datetime  # where the last segment begins; the range's start when it covers the whole range
    open_incident: Incident | None


def store_now(
    *,
    schedule: StoreSchedule,
    timestamps_us: np.ndarray,
    is_active: np.ndarray,
    start: datetime,
    end: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> StoreNow:
    """The state just before `end` as store_timeline over [start, end) ends, and the
    incident in progress as store_incidents over it finds it: one pass for both."""
    if to_us(end) <= to_us(start):
        raise ValueError("end must be after start")
    bounds, code = _timeline_us(schedule, timestamps_us, is_active, start, end, horizon)
    business = np.flatnonzero(code != 3)
    in_progress = len(business) and code[business[-1]] == 1
    return StoreNow(
        state=TIMELINE_STATES[code[-1]],
        since=from_us(bounds[-2]),
        open_incident=_incidents_of(bounds, code)[-1] if in_progress else None,
    )


def stores_now(
    *,
    schedules: list[StoreSchedule],
    store_index: np.ndarray,
    timestamps_us: np.ndarray,
    is_active: np.ndarray,
    start: datetime,
    end: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> list[StoreNow]:
    """`store_now` of every store of `schedules` over the same [start, end), in one pass
    over all of them (polls as engine arrays: `store_index` into `schedules`). The pieces
    are those of `_timeline_us`, each store in its own block of one key axis."""
    n = len(schedules)
    s0, s1 = to_us(start), to_us(end)
    H = td_us(horizon)
    if s1 <= s0:
        raise ValueError("end must be after start")
    r0, r1 = s0 - H, s1 + 1
    if n == 0:
        return []
    if H > s1 - s0 or (n + 1) * ((r1 - r0) + 2 * H + 1) >= KEY_LIMIT:
        # Where _timeline_us shortens H to its range, or the keys would not fit: store by store.
        bounds = np.searchsorted(store_index, np.arange(n + 1))
        return [
            store_now(schedule=schedules[i], timestamps_us=timestamps_us[bounds[i]:bounds[i + 1]],
                      is_active=is_active[bounds[i]:bounds[i + 1]], start=start, end=end, horizon=horizon)
            for i in range(n)
        ]
    t = as_i64_us(timestamps_us)
    keep = (t >= s0 - H) & (t <= s1)
    store, t, active = normalised_polls(np.asarray(store_index)[keep], t[keep], np.asarray(is_active)[keep], n)
    axis = business_axis(shift_table(schedules), r0, r1, 0, n, pad=H)
    off = axis.key(np.arange(n, dtype=I64), 0)  # store i's key of t is t + off[i]
    S, E = s0 + off, s1 + off
    # Evidence polls (inside business hours) and the span each owns: ±H, cut half-way to
    # its store's neighbours.
    pk = t + off[store]
    ev = pk < axis.ke[axis.locate(pk)]
    pk, ea, ps = pk[ev], active[ev], store[ev]
    lo, hi = pk - H, pk + H
    if len(pk) > 1:
        same = ps[1:] == ps[:-1]
        mid = (pk[:-1] + pk[1:]) >> 1
        lo[1:] = np.where(same, np.maximum(lo[1:], mid), lo[1:])
        hi[:-1] = np.where(same, np.minimum(hi[:-1], mid), hi[:-1])
    lo, hi = np.maximum(lo, S[ps]), np.minimum(hi, E[ps])
    ko = lo < hi
    lo, hi, ea = lo[ko], hi[ko], ea[ko]
    ks, ke = axis.ks[1:-1], axis.ke[1:-1]
    bstore = ks // axis.K
    bs, be = np.maximum(ks, S[bstore]), np.minimum(ke, E[bstore])
    kb = bs < be
    bs, be = bs[kb], be[kb]
    bounds = np.unique(np.concatenate((S, E, bs, be, lo, hi)))
    left = bounds[:-1]
    code = _piece_states(left, bs, be, lo, hi, ea)
    first = np.searchsorted(bounds, S)  # each store's first piece
    last = np.searchsorted(bounds, E) - 1  # and its last, ending at E
    k = np.arange(len(code))
    # Where each run of one state begins (a store's first piece begins one).
    begins = np.ones(len(code), bool)
    begins[1:] = code[1:] != code[:-1]
    begins[first] = True
    run_start = np.maximum.accumulate(np.where(begins, k, 0))
    # Per store: its last business piece, its last UP/UNKNOWN piece, its first DOWN piece after that.
    business = np.flatnonzero(code != 3)
    breaker = np.flatnonzero((code == 0) | (code == 2))
    down = np.flatnonzero(code == 1)
    down_cum = np.concatenate(([0], np.cumsum(np.where(code == 1, bounds[1:] - left, 0))))
    found = []
    for i in range(n):
        a, b = int(first[i]), int(last[i])
        since = max(int(run_start[b]), a)
        incident = None
        at = np.searchsorted(business, b, side="right") - 1
        if at >= 0 and business[at] >= a and code[business[at]] == 1:
            last_down = int(business[at])
            at = np.searchsorted(breaker, b, side="right") - 1
            after = int(breaker[at]) if at >= 0 and breaker[at] >= a else a - 1
            first_down = int(down[np.searchsorted(down, after, side="right")])
            incident = Incident(
                from_us(int(bounds[first_down] - off[i])), from_us(int(bounds[last_down + 1] - off[i])),
                int(down_cum[last_down + 1] - down_cum[first_down]) / US,
            )
        found.append(
            StoreNow(state=TIMELINE_STATES[code[b]], since=from_us(int(bounds[since] - off[i])), open_incident=incident)
        )
    return found

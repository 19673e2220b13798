"""One store's timeline (UP / DOWN / UNKNOWN / CLOSED segments) and outage incidents over
a range, from the same schedules and pieces as the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitoring.engine.types import DEFAULT_HORIZON, TIMELINE_STATES, Incident, Segment, StoreSchedule, I64, US
from monitoring.engine.zones import from_us, td_us, to_us
from monitoring.engine.schedules import business_axis, shift_table
from monitoring.engine.uptime import as_i64_us, normalised_polls


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

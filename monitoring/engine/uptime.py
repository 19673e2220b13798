"""Polls on the axis: evidence polls, the pieces each one owns, and the public
`business_intervals` and `compute_uptime` (uptime, downtime, unknown and incident counts
per window for every store at once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from monitoring.engine.types import (
    DEFAULT_HORIZON,
    Polls,
    STATES,
    StoreSchedule,
    UptimeResult,
    WINDOWS,
    I64,
    KEY_LIMIT,
    US,
)
from monitoring.engine.zones import td_us, to_us
from monitoring.engine.schedules import Axis, business_axis, chunks, shift_table


# --------------------------------------------------------------------------- polls


def as_i64_us(a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind == "M":
        return a.astype("datetime64[us]").view(I64)
    return a.astype(I64, copy=False)


def normalised_polls(store, t, active, n_stores: int):
    """Sorted by (store, t), unique (the last given wins), valid store indexes only."""
    store = np.asarray(store).astype(I64, copy=False)
    t = as_i64_us(t)
    active = np.asarray(active).astype(bool, copy=False)
    if not (len(store) == len(t) == len(active)):
        raise ValueError("polls arrays must have equal lengths")
    if len(store) and (store.min() < 0 or store.max() >= n_stores):
        raise ValueError("poll store_index out of range")
    if len(store) < 2:
        return store, t, active
    t_lo = int(t.min())
    span = int(t.max()) - t_lo + 1
    if n_stores * span < KEY_LIMIT:
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


def _owned(axis: Axis, store, t, horizon_us: int):
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
    r0, r1 = to_us(start), to_us(end)
    table = shift_table(schedules)
    if r1 <= r0 or not schedules:
        z = np.zeros(0, I64)
        return z, z.copy(), z.copy()
    parts = [business_axis(table, r0, r1, lo, hi).intervals() for lo, hi in chunks(len(schedules), r1 - r0 + 1)]
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def inside_intervals(
    intervals: tuple[np.ndarray, np.ndarray, np.ndarray], store_index, timestamps_us
) -> np.ndarray:
    """For each (store, instant): is the instant inside one of that store's intervals
    (`business_intervals`' output: sorted by store, then start; half-open [start, end))?
    An evidence poll (docs/rules.md §4) is a poll inside its store's business hours."""
    stores, starts, ends = intervals
    store_index, t = np.asarray(store_index, dtype=I64), np.asarray(timestamps_us, dtype=I64)
    if not len(t) or not len(starts):
        return np.zeros(len(t), dtype=bool)
    base = int(min(starts.min(), t.min()))
    span = int(max(ends.max(), t.max())) - base + 2  # one store's axis: keys of two stores never meet
    keys = store_index * span + (t - base)
    index = np.searchsorted(stores * span + (starts - base), keys, side="right") - 1
    inside = index >= 0
    inside[inside] = keys[inside] < (stores * span + (ends - base))[index[inside]]
    return inside


def compute_uptime(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    as_of: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> UptimeResult:
    """Up/down/unknown business seconds per store for the last hour, day and week before as_of."""
    n = len(schedules)
    H = td_us(horizon)
    t1 = to_us(as_of)
    win_starts = [t1 - td_us(w) for _, w in WINDOWS]
    w0 = min(win_starts)
    table = shift_table(schedules)

    store, t, active = polls.store_index, as_i64_us(polls.timestamp_us), polls.is_active
    # Only polls in [w0 - H, as_of] can matter (the owned piece of an earlier one ends before w0,
    # and it cannot narrow a later poll's piece inside the week either).
    keep = (t >= w0 - H) & (t <= t1)
    if not keep.all():
        store, t, active = np.asarray(store)[keep], t[keep], np.asarray(active)[keep]
    store, t, active = normalised_polls(store, t, active, n)
    r0 = min(w0, max(w0 - H, int(t.min()) if len(t) else w0))
    r1 = t1 + 1  # a poll exactly at as_of is evidence if as_of is in business hours
    H = min(H, r1 - r0 + 1)  # a longer horizon changes nothing inside [r0, r1)

    seconds = np.zeros((n, len(WINDOWS), len(STATES)))
    business = np.zeros((n, len(WINDOWS)))
    incident_counts = np.zeros((n, len(WINDOWS)), I64)
    for s_lo, s_hi in chunks(n, r1 - r0 + 2 * H + 1):
        if s_hi <= s_lo:
            continue
        m = s_hi - s_lo
        axis = business_axis(table, r0, r1, s_lo, s_hi, pad=H)
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
        base_keys = axis.key(np.arange(s_lo, s_hi, dtype=I64), 0)  # key of t = 0, per store
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
        end_loc, end_c = incident_ends(loc, down, a_w0, b_w0, week_piece)
        for w, c_start in enumerate(c_starts):
            incident_counts[s_lo:s_hi, w] = np.bincount(end_loc[end_c > c_start[end_loc]], minlength=m)
    business /= US
    seconds /= US
    seconds[:, :, 2] = business - seconds[:, :, 0] - seconds[:, :, 1]
    np.maximum(seconds[:, :, 2], 0.0, out=seconds[:, :, 2])  # float rounding only; exact in µs
    return UptimeResult(
        store_ids=[s.store_id for s in schedules],
        seconds=seconds,
        business_seconds=business,
        incident_counts=incident_counts,
    )


def incident_ends(loc, down, a, b, piece):
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

"""Business minutes up, down and unknown over any windows: one range for many stores, and
the local calendar days of each store (docs/rules.md §11).

A *window* is ``[start, end)`` of one store with ``end`` as its as_of: only polls at or
before ``end`` are evidence, as in the report (docs/rules.md §4, §5). So a day's figures
never depend on a poll taken after that day, and a range's figures are the report's rule
with ``as_of = to``.

How it stays vectorised (no Python loop over stores or windows):

1. Business hours of every store over ``[min start - H, max end]`` on one axis
   (``schedules.business_axis``) with its cumulative business time ``C``; evidence polls are the
   polls inside an interval, found once.
2. A poll older than ``start - H`` cannot tell anything inside a window (every instant of
   it is then more than H from that poll, so nearer polls decide or it is unknown), and a
   poll after ``end`` is not evidence for it: each window takes the evidence polls of its
   store with ``start - H <= t <= end``, a contiguous run of the sorted polls. The runs are
   laid end to end (``np.repeat``); a poll near a day boundary is in two runs.
3. Within a run each poll owns ``[max(mid(prev), t - H), min(mid(next), t + H))`` as in
   ``compute_uptime``; the business measure of that piece clipped to the window is
   ``clip(C(hi)) - clip(C(lo))``, summed per (window, up | down) with ``np.bincount``.
   Business time is ``C(end) - C(start)``; unknown is the rest.

Daily windows are ``[d 00:00 local, d+1 00:00 local)``: local midnights are converted per
zone with the same wall-clock table as business hours (zoneinfo's ``fold=0`` rule, so a
midnight that does not exist maps as 02:30 does on a spring-forward day). A day is then
23 or 25 hours long across a DST change, as the wall clock says.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from monitoring.engine.schedules import Axis, ShiftTable, business_axis, chunks, shift_table
from monitoring.engine.types import DEFAULT_HORIZON, Polls, StoreSchedule, DAY_US, I64, US
from monitoring.engine.uptime import as_i64_us, incident_ends, normalised_polls
from monitoring.engine.zones import td_us, wall_to_utc, zone_table, to_us

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass
class RangeFigures:
    """Seconds per window: ``seconds[..., k]`` for k = up, down, unknown (engine.STATES),
    and ``business_seconds`` (== up + down + unknown). For `range_uptime` the leading
    shape is (n_stores,); for `daily_uptime` (n_stores, n_days)."""

    store_ids: list[str]
    seconds: np.ndarray
    business_seconds: np.ndarray
    starts_us: np.ndarray  # int64, each window's start (µs since the epoch, UTC)
    ends_us: np.ndarray  # int64, each window's end
    dates: list[date] | None = None  # daily_uptime: the local dates, in order


@dataclass
class WindowFigures:
    """Per window: ``seconds`` (m, 3) up/down/unknown, ``business`` (m,); ``incidents``
    (m,) the outage incidents (maximal DOWN runs of business time, docs/rules.md §5) seen
    in the window, each clipped to it; ``starts_down`` / ``ends_down`` (m,) whether the
    window's business time begins / ends inside a DOWN piece with no unknown time before /
    after it, so that an incident crossing from one window into the next one with
    business time is one incident (`incidents_joined`)."""

    seconds: np.ndarray
    business: np.ndarray
    incidents: np.ndarray
    starts_down: np.ndarray
    ends_down: np.ndarray


def window_uptime(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    window_store: np.ndarray,
    window_start_us: np.ndarray,
    window_end_us: np.ndarray,
    horizon: timedelta = DEFAULT_HORIZON,
) -> tuple[np.ndarray, np.ndarray]:
    """(seconds (m, 3) up/down/unknown, business seconds (m,)) for m windows, window i
    being ``[window_start_us[i], window_end_us[i])`` of store ``window_store[i]`` (an index
    into `schedules`) with the polls at or before its end as evidence. Any order, any
    overlap; an empty or reversed window counts nothing."""
    figures = window_figures(
        schedules=schedules, polls=polls, window_store=window_store, window_start_us=window_start_us,
        window_end_us=window_end_us, horizon=horizon,
    )
    return figures.seconds, figures.business


def window_figures(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    window_store: np.ndarray,
    window_start_us: np.ndarray,
    window_end_us: np.ndarray,
    window_as_of_us: np.ndarray | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
) -> WindowFigures:
    """`window_uptime` with incidents, and with each window's evidence cut at its own
    as_of (``window_as_of_us[i] >= window_end_us[i]``; default its end). A poll after
    ``end + H`` can change nothing inside ``[start, end)``, so an as_of of ``end + H`` or
    later gives the figures of the window with every poll as evidence."""
    table = shift_table(schedules)
    return _window_figures(
        table, polls, window_store, window_start_us, window_end_us,
        window_end_us if window_as_of_us is None else window_as_of_us, td_us(horizon),
    )


def incidents_joined(figures: WindowFigures, order: np.ndarray) -> np.ndarray:
    """Incidents over consecutive windows: `order` (k, w) holds, per row, window indexes
    that tile one store's time in order (-1 for none); returns (k,) the incidents of
    their union, an incident that crosses from one window into the next window with
    business time counted once."""
    order = np.asarray(order, dtype=I64)
    k, w = order.shape
    total = np.zeros(k, I64)
    open_down = np.zeros(k, bool)  # the last window with business time ended inside a DOWN run
    for column in range(w):
        index = order[:, column]
        there = index >= 0
        safe = np.where(there, index, 0)
        busy = there & (figures.business[safe] > 0)
        joined = busy & open_down & figures.starts_down[safe]
        total += np.where(there, figures.incidents[safe], 0) - joined
        open_down = np.where(busy, figures.ends_down[safe], open_down)
    return total


def range_uptime(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    start: datetime,
    end: datetime,
    horizon: timedelta = DEFAULT_HORIZON,
) -> RangeFigures:
    """Every store's business seconds up, down and unknown over ``[start, end)``, with the
    polls at or before `end` as evidence."""
    n = len(schedules)
    a, b = to_us(start), to_us(end)
    stores = np.arange(n, dtype=I64)
    starts, ends = np.full(n, a, I64), np.full(n, b, I64)
    seconds, business = window_uptime(
        schedules=schedules, polls=polls, window_store=stores, window_start_us=starts, window_end_us=ends,
        horizon=horizon,
    )
    return RangeFigures([s.store_id for s in schedules], seconds, business, starts, ends)


def local_midnights(*, schedules: Sequence[StoreSchedule], first: date, last: date) -> np.ndarray:
    """int64 (n_stores, days + 1): the UTC instant (µs) of 00:00 local on each date from
    `first` to the day after `last`, in each store's zone (fold=0: a missing midnight maps
    to the instant it would have been under the offset before the change)."""
    return _local_midnights(shift_table(schedules), first, last)


def daily_uptime(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    first: date,
    last: date,
    horizon: timedelta = DEFAULT_HORIZON,
) -> RangeFigures:
    """Every store's figures for each local date from `first` to `last` (both included):
    ``[d 00:00, d+1 00:00)`` in the store's zone, with the polls at or before the end of
    that day as evidence."""
    n = len(schedules)
    days = (last - first).days + 1
    if days < 1:
        raise ValueError("last must not be before first")
    table = shift_table(schedules)
    midnights = _local_midnights(table, first, last)
    starts, ends = midnights[:, :-1], midnights[:, 1:]
    stores = np.repeat(np.arange(n, dtype=I64), days)
    figures = _window_figures(table, polls, stores, starts.ravel(), ends.ravel(), ends.ravel(), td_us(horizon))
    seconds, business = figures.seconds, figures.business
    return RangeFigures(
        store_ids=[s.store_id for s in schedules],
        seconds=seconds.reshape(n, days, 3),
        business_seconds=business.reshape(n, days),
        starts_us=starts.copy(),
        ends_us=ends.copy(),
        dates=[first + timedelta(days=k) for k in range(days)],
    )


# --------------------------------------------------------------------------- internals


def _local_midnights(table: ShiftTable, first: date, last: date) -> np.ndarray:
    d0 = first.toordinal() - _EPOCH_ORDINAL
    d1 = last.toordinal() - _EPOCH_ORDINAL + 1
    wall = np.arange(d0, d1 + 1, dtype=I64) * DAY_US
    out = np.empty((table.n_stores, len(wall)), I64)
    for z, name in enumerate(table.zone_names):
        rows = table.store_zone == z
        if rows.any():
            # Days in UTC around the wall dates: offsets are within ±1 day.
            out[rows] = wall_to_utc(wall, zone_table(name, d0 - 2, d1 + 2))
    return out


@dataclass
class ChunkPieces:
    """The pieces of one chunk of stores' windows (`window_pieces`): ``windows`` are
    the indexes of the windows asked for, ``key_a`` / ``key_b`` their bounds on the
    chunk's ``axis`` and ``c_a`` / ``c_b`` its cumulative business time there. Per
    piece (an evidence poll's own time, in the order of the windows, then of time):
    ``local`` its window (an index into ``windows``), ``lo`` / ``hi`` its bounds (axis
    keys, not clipped), ``a`` / ``b`` its business measure clipped to the window (so
    ``b - a`` is its business time there) and ``down`` its status. Pieces of one window
    are disjoint and in time order; the window's business time outside every piece is
    unknown."""

    axis: Axis
    windows: np.ndarray
    key_a: np.ndarray
    key_b: np.ndarray
    c_a: np.ndarray
    c_b: np.ndarray
    local: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    a: np.ndarray
    b: np.ndarray
    down: np.ndarray


def window_pieces(table: ShiftTable, polls: Polls, ws, wa, wb, wz, H: int) -> Iterator[ChunkPieces]:
    """The pieces of every window, a chunk of stores at a time (``ws`` store index,
    ``[wa, wb)`` the window, ``wz`` its as_of, µs; ``H`` the horizon in µs). Empty and
    reversed windows are in no chunk."""
    n = table.n_stores
    ws, wa, wb, wz = (np.asarray(x, dtype=I64) for x in (ws, wa, wb, wz))
    m = len(ws)
    if not (len(wa) == len(wb) == len(wz) == m):
        raise ValueError("window arrays must have equal lengths")
    if m and (ws.min() < 0 or ws.max() >= n):
        raise ValueError("window store index out of range")
    wb = np.maximum(wa, wb)  # a reversed window is empty
    wz = np.maximum(wz, wb)  # evidence reaches at least the window's end
    live = np.flatnonzero(wb > wa)
    if not len(live):
        return
    r0 = int(wa[live].min()) - H  # polls down to the earliest start - H may be evidence
    r1 = int(wz[live].max()) + 1  # a poll exactly at an as_of is evidence

    store, t, active = polls.store_index, as_i64_us(polls.timestamp_us), polls.is_active
    keep = (t >= r0) & (t < r1)
    if not keep.all():
        store, t, active = np.asarray(store)[keep], t[keep], np.asarray(active)[keep]
    store, t, active = normalised_polls(store, t, active, n)

    order = live[np.argsort(ws[live], kind="stable")]  # windows by store, for the chunks
    w_store = ws[order]
    for s_lo, s_hi in chunks(n, r1 - r0 + 2 * H + 1):
        if s_hi <= s_lo:
            continue
        wi = order[np.searchsorted(w_store, s_lo) : np.searchsorted(w_store, s_hi)]
        if not len(wi):
            continue
        axis = business_axis(table, r0, r1, s_lo, s_hi, pad=H)
        p0, p1 = np.searchsorted(store, [s_lo, s_hi])
        pk = axis.key(store[p0:p1], t[p0:p1])
        j = axis.locate_sorted(pk)
        ev = pk < axis.ke[j]  # evidence: inside a business interval
        pk, up = pk[ev], active[p0:p1][ev]

        key_a = axis.key(ws[wi], wa[wi])
        key_b = axis.key(ws[wi], wb[wi])
        key_z = axis.key(ws[wi], wz[wi])
        c_a, c_b = axis.measure_to(key_a), axis.measure_to(key_b)
        # Each window's run of evidence polls: start - H <= t <= as_of.
        first = np.searchsorted(pk, key_a - H, side="left")
        count = np.searchsorted(pk, key_z, side="right") - first
        total = int(count.sum())
        local = np.repeat(np.arange(len(wi), dtype=I64), count)
        poll = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(total, dtype=I64)
        k = pk[poll]
        lo, hi = k - H, k + H
        if total > 1:
            same = local[1:] == local[:-1]
            mid = (k[:-1] + k[1:]) >> 1  # floor: the change point is rounded down to the µs
            np.maximum(lo[1:], mid, out=lo[1:], where=same)
            np.minimum(hi[:-1], mid, out=hi[:-1], where=same)
        lo_c, hi_c = c_a[local], c_b[local]
        a = np.clip(axis.measure_to(lo), lo_c, hi_c)
        b = np.clip(axis.measure_to(hi), lo_c, hi_c)
        yield ChunkPieces(axis, wi, key_a, key_b, c_a, c_b, local, lo, hi, a, b, ~up[poll])


def _window_figures(table: ShiftTable, polls: Polls, ws, wa, wb, wz, H: int) -> WindowFigures:
    m = len(ws)
    seconds = np.zeros((m, 3))
    business = np.zeros(m)
    incidents = np.zeros(m, I64)
    starts_down = np.zeros(m, bool)
    ends_down = np.zeros(m, bool)
    result = WindowFigures(seconds, business, incidents, starts_down, ends_down)
    for chunk in window_pieces(table, polls, ws, wa, wb, wz, H):
        wi, local, a, b, down = chunk.windows, chunk.local, chunk.a, chunk.b, chunk.down
        business[wi] = chunk.c_b - chunk.c_a
        if not len(local):
            continue
        piece = b - a
        slot = local * 2 + down  # 2 * window + (0 up | 1 down)
        seconds[wi, :2] = np.bincount(slot, piece, minlength=2 * len(wi)).reshape(len(wi), 2)
        end_local, _end_c = incident_ends(local, down, a, b, piece)
        incidents[wi] = np.bincount(end_local, minlength=len(wi))
        busy = np.flatnonzero(piece > 0)
        if len(busy):
            owner = local[busy]
            head = busy[np.r_[True, owner[1:] != owner[:-1]]]
            tail = busy[np.r_[owner[1:] != owner[:-1], True]]
            starts_down[wi[local[head]]] = down[head] & (a[head] == chunk.c_a[local[head]])
            ends_down[wi[local[tail]]] = down[tail] & (b[tail] == chunk.c_b[local[tail]])
    business /= US
    seconds /= US
    seconds[:, 2] = np.maximum(business - seconds[:, 0] - seconds[:, 1], 0.0)  # float rounding only
    return result

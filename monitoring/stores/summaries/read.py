"""Reading figures of ranges and of local dates from kept days (`DaySummary`) and raw polls.

A range ``[from, to)`` of a store is tiled by the kept days that lie wholly inside it and
end at least H before `to` (then no poll after `to` could have changed them, so their
every-poll reading is the range's reading), and by the gaps between them, computed from
the raw polls with evidence up to `to` (docs/rules.md §11). Minutes add up over the
tiles; incidents add up with one subtracted where a DOWN run crosses from one tile into
the next (`engine.incidents_joined`). Only the polls near the gaps are read: for a
week, about a day and a half of seven; for a quarter, the same.

Local dates asked alone (`daily_totals`) use the rows' day-alone reading.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.db import connection

from monitoring.engine import WindowFigures, from_us, incidents_joined, local_midnights, to_us, window_figures
from monitoring.engine.types import DAY_US
from monitoring.engine.zones import td_us
from monitoring.kernel.copy_format import PG_EPOCH_UNIX_US, decode_records
from monitoring.kernel.periods import default_horizon
from monitoring.models import DaySummary, Store
from monitoring.stores.selectors import polls_in_bands, store_positions, store_schedules, store_scope

_TABLE = DaySummary._meta.db_table
#: Time bands of polls read for one computation, at most (nearer ones are merged).
_MAX_BANDS = 12
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("store_len", ">i4"), ("store_pk", ">i8"),
        ("start_len", ">i4"), ("start", ">i8"),
        ("end_len", ">i4"), ("end", ">i8"),
        ("up_len", ">i4"), ("up", ">f8"),
        ("down_len", ">i4"), ("down", ">f8"),
        ("business_len", ">i4"), ("business", ">f8"),
        ("incidents_len", ">i4"), ("incidents", ">i4"),
        ("starts_down_len", ">i4"), ("starts_down", "u1"),
        ("ends_down_len", ">i4"), ("ends_down", "u1"),
    ]
)


@dataclass
class RangeTotals:
    """Per store (in the order given): seconds (n, 3) up/down/unknown, business (n,),
    incidents (n,) when asked for, and how many kept days were read."""

    seconds: np.ndarray
    business: np.ndarray
    incidents: np.ndarray | None
    days_kept: int
    #: (n,) bool: part of the range lay where the store's polls are pruned, so the
    #: figures there are those of the whole kept days inside it (docs/rules.md §11).
    whole_days: np.ndarray | None = None
    #: The windows [end - tail, end) asked for as `tails`: seconds (n, k, 3), business
    #: (n, k), incidents (n, k) each clipped to its window.
    tail_seconds: np.ndarray | None = None
    tail_business: np.ndarray | None = None
    tail_incidents: np.ndarray | None = None


@dataclass
class _Kept:
    store: np.ndarray  # index into the stores given
    start: np.ndarray  # µs
    end: np.ndarray
    up: np.ndarray
    down: np.ndarray
    business: np.ndarray
    incidents: np.ndarray
    starts_down: np.ndarray
    ends_down: np.ndarray

    def __len__(self) -> int:
        return len(self.store)

    def take(self, keep: np.ndarray) -> _Kept:
        return _Kept(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def _kept_rows(
    *, stores: Sequence[tuple[int, str, str | None]], start: datetime, end: datetime, horizon: timedelta,
    day_alone: bool,
) -> _Kept:
    """Rows of these stores that are current, kept for `horizon`, inside [start, end) and,
    for a range's reading (not `day_alone`), ending at least H before `end`; sorted by
    (store, start), none overlapping another."""
    pks = np.array([pk for pk, _, _ in stores], dtype=np.int64)
    empty = _Kept(*(np.empty(0, t) for t in (np.int64, np.int64, np.int64, float, float, float, np.int64, bool, bool)))
    if not len(pks) or horizon != default_horizon():
        return empty
    up, down = ("day_up_seconds", "day_down_seconds") if day_alone else ("up_seconds", "down_seconds")
    within = "end_utc <= %s" if day_alone else "evidence_to <= %s"
    scope, params = store_scope(pks)
    sql = (
        f"SELECT store_id, start_utc, end_utc, {up}, {down}, business_seconds, incidents, starts_down, ends_down"
        f" FROM {_TABLE} WHERE {scope} AND day BETWEEN %s AND %s AND NOT stale"
        f" AND horizon_us = %s AND start_utc >= %s AND {within}"
    )
    params += [(start - timedelta(days=1)).date(), (end + timedelta(days=1)).date(), td_us(horizon), start, end]
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY ({cursor.mogrify(sql, params).decode()}) TO STDOUT WITH (FORMAT binary)", buffer)
    records = decode_records(buffer.getbuffer(), _ROW)
    if not len(records):
        return empty
    store = store_positions(pks, records["store_pk"])
    asked = store >= 0  # not the scope's other stores
    records, store = records[asked], store[asked]
    if not len(records):
        return empty
    kept = _Kept(
        store=store,
        start=records["start"].astype(np.int64) + PG_EPOCH_UNIX_US,
        end=records["end"].astype(np.int64) + PG_EPOCH_UNIX_US,
        up=records["up"].astype(float),
        down=records["down"].astype(float),
        business=records["business"].astype(float),
        incidents=records["incidents"].astype(np.int64),
        starts_down=records["starts_down"].astype(bool),
        ends_down=records["ends_down"].astype(bool),
    )
    kept = kept.take(np.lexsort((kept.start, kept.store)))
    same = kept.store[1:] == kept.store[:-1]
    if (same & (kept.start[1:] < kept.end[:-1])).any():
        # Rows of two zones (a zone changed after some were frozen): keep the earlier of each overlap.
        keep, last_store, last_end = [], -1, None
        for j in range(len(kept)):
            if kept.store[j] != last_store or kept.start[j] >= last_end:
                keep.append(j)
                last_store, last_end = kept.store[j], kept.end[j]
        kept = kept.take(np.array(keep, dtype=np.int64))
    return kept


def _pruned_before(stores: Sequence[tuple[int, str, str | None]]) -> np.ndarray | None:
    """(n,) µs: each store's poll cut (`Store.polls_pruned_before`; the far past when
    none); None when no store given has one."""
    scope, params = store_scope([pk for pk, _, _ in stores], column="id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, polls_pruned_before FROM {Store._meta.db_table}"
            f" WHERE {scope} AND polls_pruned_before IS NOT NULL",
            params,
        )
        found = dict(cursor.fetchall())
    if not found:
        return None
    return np.array([to_us(found[pk]) if pk in found else np.iinfo(np.int64).min // 2 for pk, _, _ in stores],
                    dtype=np.int64)


def _bands(lo: np.ndarray, hi: np.ndarray) -> list[tuple[datetime, datetime]]:
    """The union of the intervals [lo, hi] (µs) as at most _MAX_BANDS bands, merging the
    nearest when there are more."""
    if not len(lo):
        return []
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], np.maximum.accumulate(hi[order])
    breaks = np.flatnonzero(lo[1:] > hi[:-1])  # a band ends before each break
    starts = np.r_[lo[0], lo[breaks + 1]]
    ends = np.r_[hi[breaks], hi[-1]]
    while len(starts) > _MAX_BANDS:
        k = int(np.argmin(starts[1:] - ends[:-1]))
        starts = np.delete(starts, k + 1)
        ends = np.delete(ends, k)
    return [(from_us(int(a)), from_us(int(b))) for a, b in zip(starts, ends)]


def range_totals(
    *, stores: Sequence[tuple[int, str, str | None]], start: datetime, end: datetime, horizon: timedelta,
    incidents: bool = False, tails: Sequence[timedelta] = (),
) -> RangeTotals:
    """Business seconds up, down and unknown over [start, end) of each store (pk,
    store_id, zone), with the polls at or before `end` as evidence, from kept days and raw
    polls; with `incidents`, the outage incidents in the range too (docs/rules.md §5);
    `tails`: shorter windows ending at `end` computed from raw polls alongside (the
    report's last hour and day)."""
    n = len(stores)
    A, Z, H = to_us(start), to_us(end), td_us(horizon)
    kept = _kept_rows(stores=stores, start=start, end=end, horizon=horizon, day_alone=False)
    # The gaps: before each kept row (from the previous one's end, or from A), and after
    # each store's last row (to Z); a store without rows is one gap.
    first_of_store = np.r_[True, kept.store[1:] != kept.store[:-1]] if len(kept) else np.empty(0, bool)
    last_of_store = np.r_[kept.store[1:] != kept.store[:-1], True] if len(kept) else np.empty(0, bool)
    prev_end = np.where(first_of_store, A, np.r_[A, kept.end[:-1]]) if len(kept) else np.empty(0, np.int64)
    has_kept = np.zeros(n, bool)
    has_kept[kept.store] = True
    bare = np.flatnonzero(~has_kept).astype(np.int64)
    g_store = np.concatenate((kept.store, kept.store[last_of_store], bare))
    g_start = np.concatenate((prev_end, kept.end[last_of_store], np.full(len(bare), A, np.int64)))
    g_end = np.concatenate((kept.start, np.full(int(last_of_store.sum()), Z, np.int64), np.full(len(bare), Z, np.int64)))
    real = g_end > g_start
    g_store, g_start, g_end = g_store[real], g_start[real], g_end[real]
    # Where polls are pruned only kept days answer: a gap whose evidence reaches before
    # its store's cut is left out, and the store's figures say so.
    whole_days = np.zeros(n, bool)
    cuts = _pruned_before(stores)
    if cuts is not None:
        pruned = g_start - H < cuts[g_store]
        whole_days[g_store[pruned]] = True
        g_store, g_start, g_end = g_store[~pruned], g_start[~pruned], g_end[~pruned]
    g_as_of = np.minimum(Z, g_end + H)
    m = len(g_store)
    t_lengths = np.array([td_us(tail) for tail in tails], dtype=np.int64)
    t_store = np.repeat(np.arange(n, dtype=np.int64), len(t_lengths))
    t_start = Z - np.tile(t_lengths, n)
    t_end = np.full(len(t_store), Z, np.int64)

    seconds = np.zeros((n, 3))
    business = np.zeros(n)
    tail_figures = (np.zeros((n, len(t_lengths), 3)), np.zeros((n, len(t_lengths))),
                    np.zeros((n, len(t_lengths)), np.int64))
    if m or len(t_store):
        w_store = np.concatenate((g_store, t_store))
        w_start = np.concatenate((g_start, t_start))
        w_end = np.concatenate((g_end, t_end))
        w_as_of = np.concatenate((g_as_of, t_end))
        bands = _bands(w_start - H, w_as_of)
        # Polls first: PostgreSQL's work, which another report thread's hours read overlaps.
        polls = polls_in_bands(stores=stores, bands=bands)
        schedules = store_schedules(stores=stores, start=bands[0][0], end=bands[-1][1])
        both = window_figures(
            schedules=schedules, polls=polls, window_store=w_store, window_start_us=w_start, window_end_us=w_end,
            window_as_of_us=w_as_of, horizon=horizon,
        )
        raw = WindowFigures(*(getattr(both, f)[:m] for f in ("seconds", "business", "incidents", "starts_down",
                                                              "ends_down")))
        k = len(t_lengths)
        tail_figures = (
            both.seconds[m:].reshape(n, k, 3), both.business[m:].reshape(n, k), both.incidents[m:].reshape(n, k)
        )
        for k in range(2):
            seconds[:, k] += np.bincount(g_store, raw.seconds[:, k], minlength=n)
        business += np.bincount(g_store, raw.business, minlength=n)
    else:
        raw = WindowFigures(*(np.empty(0, t) for t in (float, float, np.int64, bool, bool)))
    if len(kept):
        seconds[:, 0] += np.bincount(kept.store, kept.up, minlength=n)
        seconds[:, 1] += np.bincount(kept.store, kept.down, minlength=n)
        business += np.bincount(kept.store, kept.business, minlength=n)
    seconds[:, 2] = np.maximum(business - seconds[:, 0] - seconds[:, 1], 0.0)

    counted = None
    if incidents:
        tiles = WindowFigures(
            seconds=np.empty((0, 3)),
            business=np.concatenate((raw.business, kept.business)),
            incidents=np.concatenate((raw.incidents, kept.incidents)),
            starts_down=np.concatenate((raw.starts_down, kept.starts_down)),
            ends_down=np.concatenate((raw.ends_down, kept.ends_down)),
        )
        t_store = np.concatenate((g_store, kept.store))
        t_start = np.concatenate((g_start, kept.start))
        order = np.lexsort((t_start, t_store))
        s = t_store[order]
        rank = np.arange(len(s)) - np.searchsorted(s, s, side="left")
        width = int(rank.max()) + 1 if len(rank) else 1
        matrix = np.full((n, width), -1, np.int64)
        matrix[s, rank] = order
        counted = incidents_joined(tiles, matrix)
    totals = RangeTotals(seconds=seconds, business=business, incidents=counted, days_kept=len(kept),
                         whole_days=whole_days)
    if tails:
        totals.tail_seconds, totals.tail_business, totals.tail_incidents = tail_figures
    return totals


def daily_totals(
    *, stores: Sequence[tuple[int, str, str | None]], first: date, last: date, horizon: timedelta
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(midnights (n, days + 1) µs, seconds (n, days, 3), business (n, days), answered
    (n, days) bool) of each local date from `first` to `last`, each with the polls at or
    before its end as evidence: kept rows where current, the rest from raw polls; a date
    with no kept row whose polls are pruned is not answered (zeros)."""
    n, days = len(stores), (last - first).days + 1
    bounds_lo = datetime.combine(first, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    bounds_hi = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    schedules = store_schedules(stores=stores, start=bounds_lo - horizon, end=bounds_hi)
    midnights = local_midnights(schedules=schedules, first=first, last=last)
    seconds = np.zeros((n, days, 3))
    business = np.zeros((n, days))
    have = np.zeros((n, days), bool)
    kept = _kept_rows(stores=stores, start=bounds_lo, end=bounds_hi, horizon=horizon, day_alone=True)
    if len(kept):
        # A kept row is a local date of its store when its start is one of that store's midnights.
        base = int(midnights.min()) - 2 * DAY_US
        span = int(midnights.max()) - base + 2 * DAY_US
        keys = (midnights - base) + np.arange(n, dtype=np.int64)[:, None] * span
        k = np.searchsorted(keys.ravel(), (kept.start - base) + kept.store * span) - kept.store * (days + 1)
        k = np.clip(k, 0, days)
        match = (k < days) & (midnights[kept.store, np.minimum(k, days)] == kept.start)
        match &= midnights[kept.store, np.minimum(k + 1, days)] == kept.end
        i, k = kept.store[match], k[match]
        seconds[i, k, 0] = kept.up[match]
        seconds[i, k, 1] = kept.down[match]
        business[i, k] = kept.business[match]
        have[i, k] = True
    answered = have.copy()
    w_store, w_day = np.nonzero(~have)
    cuts = _pruned_before(stores)
    if cuts is not None and len(w_store):
        clear = midnights[w_store, w_day] - td_us(horizon) >= cuts[w_store]
        w_store, w_day = w_store[clear], w_day[clear]
    answered[w_store, w_day] = True
    if len(w_store):
        H = td_us(horizon)
        starts, ends = midnights[w_store, w_day], midnights[w_store, w_day + 1]
        polls = polls_in_bands(stores=stores, bands=_bands(starts - H, ends))
        raw = window_figures(
            schedules=schedules, polls=polls, window_store=w_store, window_start_us=starts, window_end_us=ends,
            horizon=horizon,
        )
        seconds[w_store, w_day, :2] = raw.seconds[:, :2]
        business[w_store, w_day] = raw.business
    seconds[:, :, 2] = np.maximum(business - seconds[:, :, 0] - seconds[:, :, 1], 0.0)
    return midnights, seconds, business, answered

"""Weekly shifts held as arrays (`ShiftRows`, what the selector reads for a fleet) are
the same shifts as tuples of `Shift`: they read back equal, and the engine computes
the same figures from either."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.engine import Polls, Shift, ShiftRows, StoreSchedule, WeeklyShiftArrays, window_figures
from monitoring.engine.schedules import shift_table
from monitoring.engine.zones import time_us

UTC = timezone.utc
ZONES = ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", None]


def _time():
    return st.builds(lambda s: time(s // 3600, s // 60 % 60, s % 60), st.integers(0, 86_399))


_SHIFT = st.builds(Shift, st.integers(0, 6), _time(), _time())


def _as_rows(per_store: list[tuple[Shift, ...]]) -> list:
    """The same shifts as `ShiftRows` of one set of arrays (a store without shifts: ())."""
    flat = [shift for shifts in per_store for shift in shifts]
    arrays = WeeklyShiftArrays(
        day_of_week=np.array([s.day_of_week for s in flat], np.int64),
        start_us=np.array([time_us(s.start) for s in flat], np.int64),
        end_us=np.array([time_us(s.end) for s in flat], np.int64),
    )
    rows, lo = [], 0
    for shifts in per_store:
        rows.append(ShiftRows(arrays, lo, lo + len(shifts)) if shifts else ())
        lo += len(shifts)
    return rows


@settings(max_examples=60, deadline=None)
@given(
    per_store=st.lists(st.lists(_SHIFT, max_size=6).map(tuple), min_size=1, max_size=6),
    zones=st.lists(st.sampled_from(ZONES), min_size=6, max_size=6),
    seed=st.integers(0, 2**31),
)
def test_shift_rows_are_the_same_shifts(per_store, zones, seed):
    rows = _as_rows(per_store)
    assert [tuple(r) for r in rows] == [tuple(s) for s in per_store]
    assert all(r == s for r, s in zip(rows, per_store))
    tuples = [StoreSchedule(f"s{i}", zones[i], shifts) for i, shifts in enumerate(per_store)]
    arrays = [StoreSchedule(f"s{i}", zones[i], r) for i, r in enumerate(rows)]
    a, b = shift_table(tuples), shift_table(arrays)
    for field in ("store_zone", "always_open", "sh_store", "sh_zone", "sh_dow", "sh_start", "sh_dur"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field

    rng = np.random.default_rng(seed)
    n = len(per_store)
    start = int(datetime(2023, 3, 10, tzinfo=UTC).timestamp()) * 1_000_000
    times = np.sort(rng.integers(start, start + 7 * 86_400_000_000, 40 * n))
    store = rng.integers(0, n, len(times))
    order = np.lexsort((times, store))
    polls = Polls(store[order].astype(np.int64), times[order].astype(np.int64), rng.random(len(times))[order] < 0.7)
    w_store = np.arange(n, dtype=np.int64)
    w_start = np.full(n, start + 86_400_000_000, np.int64)
    w_end = w_start + 5 * 86_400_000_000
    kwargs = dict(polls=polls, window_store=w_store, window_start_us=w_start, window_end_us=w_end,
                  horizon=timedelta(hours=2))
    one, two = window_figures(schedules=tuples, **kwargs), window_figures(schedules=arrays, **kwargs)
    assert np.array_equal(one.seconds, two.seconds) and np.array_equal(one.business, two.business)
    assert np.array_equal(one.incidents, two.incidents)

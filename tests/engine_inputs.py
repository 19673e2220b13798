"""The engine's inputs written by hand (instants, shifts, schedules, polls) and its
calls as the engine tests make them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from monitoring import engine
from monitoring.engine import (
    DEFAULT_HORIZON,
    Polls,
    Shift,
    SpecialShift,
    StoreSchedule,
    business_intervals,
    compute_uptime,
    store_incidents,
    store_timeline,
)

UTC = timezone.utc


H, D = 3600.0, 86400.0  # seconds


HOUR, DAY, WEEK = 0, 1, 2


UP, DOWN, UNKNOWN = 0, 1, 2


# 2023-01-22 is a Sunday; 2023-01-23 a Monday; 2023-01-25 a Wednesday.
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def us(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def shift(dow, start, end) -> Shift:
    return Shift(dow, time(*start) if isinstance(start, tuple) else time(start),
                 time(*end) if isinstance(end, tuple) else time(end))


def store(shifts=(), tz="UTC", store_id="s", special=()) -> StoreSchedule:
    return StoreSchedule(store_id=store_id, timezone_name=tz, shifts=tuple(shifts), special_shifts=tuple(special))


def special(day: date, start=None, end=None) -> SpecialShift:
    """A special-hours row; no times = closed all day."""
    as_time = lambda t: None if t is None else (time(*t) if isinstance(t, tuple) else time(t))  # noqa: E731
    return SpecialShift(day, as_time(start), as_time(end))


def polls_of(rows) -> Polls:
    """rows: (store_index, datetime, is_active); sorted here as callers do."""
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    return Polls(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([us(r[1]) for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=bool),
    )


def uptime(schedules, rows, as_of, horizon=DEFAULT_HORIZON):
    result = compute_uptime(schedules=schedules, polls=polls_of(rows), as_of=as_of, horizon=horizon)
    # docs/rules.md §5: up + down + unknown == business time, for every store and window.
    assert result.seconds.shape == (len(schedules), 3, 3)
    np.testing.assert_allclose(result.seconds.sum(axis=2), result.business_seconds, atol=1e-6)
    assert (result.seconds >= 0).all()
    return result


def intervals(schedule, start, end):
    _, s, e = business_intervals(schedules=[schedule], start=start, end=end)
    return [(datetime.fromtimestamp(a / 1e6, UTC), datetime.fromtimestamp(b / 1e6, UTC)) for a, b in zip(s, e)]


def timeline(schedule, rows, start, end, horizon=DEFAULT_HORIZON):
    rows = [(0, t, a) for t, a in rows]
    p = polls_of(rows)
    return store_timeline(schedule=schedule, timestamps_us=p.timestamp_us, is_active=p.is_active,
                          start=start, end=end, horizon=horizon)


def incidents(schedule, rows, start, end, horizon=DEFAULT_HORIZON):
    p = polls_of([(0, t, a) for t, a in rows])
    return store_incidents(schedule=schedule, timestamps_us=p.timestamp_us, is_active=p.is_active,
                           start=start, end=end, horizon=horizon)


def incident_counts(schedules, rows, as_of, horizon=DEFAULT_HORIZON):
    """compute_uptime's counts, each checked against len(store_incidents(as_of - window, as_of))."""
    r = uptime(schedules, rows, as_of, horizon)
    assert r.incident_counts.dtype == np.int64 and r.incident_counts.shape == (len(schedules), 3)
    for i, sched in enumerate(schedules):
        own = [(t, a) for s, t, a in rows if s == i]
        for w, (_, length) in enumerate(engine.WINDOWS):
            assert r.incident_counts[i, w] == len(incidents(sched, own, as_of - length, as_of, horizon)), (i, w)
    for row, counts in zip(r.spec_rows(), r.incident_counts.tolist()):
        assert [row["incidents_last_hour"], row["incidents_last_day"], row["incidents_last_week"]] == counts
        assert all(type(row[k]) is int for k in ("incidents_last_hour", "incidents_last_day", "incidents_last_week"))
    return r.incident_counts.tolist()

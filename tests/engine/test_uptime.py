"""Named cases for the pure engine (SPEC §2–§5). Expected values are worked out by hand in each test."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pytest

from monitoring import engine
from monitoring.engine import schedules as engine_schedules
from monitoring.engine import uptime as engine_uptime
from monitoring.engine import (
    DEFAULT_HORIZON,
    Incident,
    Polls,
    Segment,
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
    # SPEC §5: up + down + unknown == business time, for every store and window.
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


# --------------------------------------------------------------------------- SPEC §4 worked example


@pytest.mark.parametrize("horizon", [timedelta(hours=2), timedelta(hours=10)])
def test_worked_example_to_the_second(horizon):
    # Open 09:00–12:00 (Chicago, January: UTC-6 -> 15:00–18:00 UTC); polls 10:14 active, 11:15 inactive.
    sched = store([shift(WED, 9, 12)], tz="America/Chicago")
    rows = [(0, utc(2023, 1, 25, 16, 14), True), (0, utc(2023, 1, 25, 17, 15), False)]
    r = uptime([sched], rows, as_of=utc(2023, 1, 25, 18), horizon=horizon)
    # mid-point of 10:14 and 11:15 is 10:44:30: up 09:00–10:44:30, down 10:44:30–12:00.
    assert r.seconds[0, WEEK, UP] == 104.5 * 60
    assert r.seconds[0, WEEK, DOWN] == 75.5 * 60
    assert r.seconds[0, WEEK, UNKNOWN] == 0
    assert r.seconds[0, DAY].tolist() == [104.5 * 60, 75.5 * 60, 0]
    # last hour = 11:00–12:00 local, all after the change point
    assert r.seconds[0, HOUR].tolist() == [0, 3600, 0]
    row = next(r.spec_rows())
    assert row == {
        "store_id": "s",
        "uptime_last_hour": 0.0, "uptime_last_day": 104.5 / 60, "uptime_last_week": 104.5 / 60,
        "downtime_last_hour": 60.0, "downtime_last_day": 75.5 / 60, "downtime_last_week": 75.5 / 60,
        "unknown_last_hour": 0.0, "unknown_last_day": 0.0, "unknown_last_week": 0.0,
        "incidents_last_hour": 1, "incidents_last_day": 1, "incidents_last_week": 1,
    }
    # one incident, 10:44:30 to closing; the hour window (11:00–12:00) sees it clipped
    assert r.incident_counts.dtype == np.int64
    assert r.incident_counts.tolist() == [[1, 1, 1]]


def test_worked_example_timeline_and_incident():
    sched = store([shift(WED, 9, 12)])
    rows = [(utc(2023, 1, 25, 10, 14), True), (utc(2023, 1, 25, 11, 15), False)]
    segs = timeline(sched, rows, utc(2023, 1, 25, 8), utc(2023, 1, 25, 13))
    assert segs == [
        Segment(utc(2023, 1, 25, 8), utc(2023, 1, 25, 9), "CLOSED"),
        Segment(utc(2023, 1, 25, 9), utc(2023, 1, 25, 10, 44, 30), "UP"),
        Segment(utc(2023, 1, 25, 10, 44, 30), utc(2023, 1, 25, 12), "DOWN"),
        Segment(utc(2023, 1, 25, 12), utc(2023, 1, 25, 13), "CLOSED"),
    ]
    assert incidents(sched, rows, utc(2023, 1, 25, 8), utc(2023, 1, 25, 13)) == [
        Incident(utc(2023, 1, 25, 10, 44, 30), utc(2023, 1, 25, 12), 75.5 * 60)
    ]


# --------------------------------------------------------------------------- business hours as instants


def test_new_york_spring_forward():
    # 2023-03-12 (Sunday): 02:00 EST -> 03:00 EDT (07:00 UTC). Nonexistent times take the offset before.
    start, end = utc(2023, 3, 11), utc(2023, 3, 14)
    assert intervals(store([shift(SUN, (1, 30), (3, 30))], tz="America/New_York"), start, end) == [
        (utc(2023, 3, 12, 6, 30), utc(2023, 3, 12, 7, 30))  # 01:30 EST .. 03:30 EDT: one real hour
    ]
    assert intervals(store([shift(SUN, (2, 30), 5)], tz="America/New_York"), start, end) == [
        (utc(2023, 3, 12, 7, 30), utc(2023, 3, 12, 9))  # 02:30 -> 07:30 UTC (= 03:30 EDT); 05:00 EDT
    ]
    # a shift lying wholly inside the gap maps to an end before its start: it is empty
    assert intervals(store([shift(SUN, (2, 30), 3)], tz="America/New_York"), start, end) == []
    # the whole Sunday (00:00–00:00) is 23 hours long
    assert intervals(store([shift(SUN, 0, 0)], tz="America/New_York"), start, end) == [
        (utc(2023, 3, 12, 5), utc(2023, 3, 13, 4))
    ]
    r = uptime([store([shift(SUN, 0, 0)], tz="America/New_York")], [], as_of=utc(2023, 3, 15))
    assert r.business_seconds[0, WEEK] == 23 * H
    assert r.seconds[0, WEEK, UNKNOWN] == 23 * H


def test_new_york_fall_back():
    # 2023-11-05 (Sunday): 02:00 EDT -> 01:00 EST (06:00 UTC). Ambiguous times take the first occurrence.
    start, end = utc(2023, 11, 4), utc(2023, 11, 7)
    assert intervals(store([shift(SUN, (1, 30), 3)], tz="America/New_York"), start, end) == [
        (utc(2023, 11, 5, 5, 30), utc(2023, 11, 5, 8))  # 01:30 EDT (05:30 UTC) .. 03:00 EST: 2.5 hours
    ]
    assert intervals(store([shift(SUN, 0, (1, 30))], tz="America/New_York"), start, end) == [
        (utc(2023, 11, 5, 4), utc(2023, 11, 5, 5, 30))
    ]
    assert intervals(store([shift(SUN, 1, 2)], tz="America/New_York"), start, end) == [
        (utc(2023, 11, 5, 5), utc(2023, 11, 5, 7))  # 01:00 EDT .. 02:00 EST: two real hours
    ]
    assert intervals(store([shift(SUN, 0, 0)], tz="America/New_York"), start, end) == [
        (utc(2023, 11, 5, 4), utc(2023, 11, 6, 5))  # a 25-hour day
    ]
    # one active poll inside it; a large horizon covers the whole shift: 2.5 hours up.
    sched = store([shift(SUN, (1, 30), 3)], tz="America/New_York")
    r = uptime([sched], [(0, utc(2023, 11, 5, 6), True)], as_of=utc(2023, 11, 5, 12), horizon=timedelta(hours=10))
    assert r.seconds[0, WEEK].tolist() == [2.5 * H, 0, 0]


def test_past_midnight_and_24_hour_shifts():
    mon = utc(2023, 1, 23)
    # 22:00–02:00 Monday runs into Tuesday
    assert intervals(store([shift(MON, 22, 2)]), mon, mon + timedelta(days=7)) == [
        (utc(2023, 1, 23, 22), utc(2023, 1, 24, 2))
    ]
    # 18:00–00:00 ends at the end of the day
    assert intervals(store([shift(MON, 18, 0)]), mon, mon + timedelta(days=7)) == [
        (utc(2023, 1, 23, 18), utc(2023, 1, 24))
    ]
    # 05:00–05:00 is 24 hours
    assert intervals(store([shift(MON, 5, 5)]), mon, mon + timedelta(days=7)) == [
        (utc(2023, 1, 23, 5), utc(2023, 1, 24, 5))
    ]
    # Sunday 22:00–02:00 of the week before reaches into the range start (clipped there)
    assert intervals(store([shift(SUN, 22, 2)]), mon, mon + timedelta(days=1)) == [(mon, utc(2023, 1, 23, 2))]
    # in a zone: Kolkata (+05:30) Monday 22:00 IST = 16:30 UTC .. Tuesday 02:00 IST = Monday 20:30 UTC
    assert intervals(store([shift(MON, 22, 2)], tz="Asia/Kolkata"), mon, mon + timedelta(days=2)) == [
        (utc(2023, 1, 23, 16, 30), utc(2023, 1, 23, 20, 30))
    ]


def test_overlapping_and_split_shifts_are_merged_never_double_counted():
    sched = store([
        shift(MON, 9, 12), shift(MON, 11, 14), shift(MON, 13, (13, 30)),  # -> 09:00–14:00
        shift(MON, 17, 20),  # split shift
        shift(MON, 22, 2), shift(TUE, 1, 3),  # -> Mon 22:00–Tue 03:00
        shift(TUE, 3, 4),  # adjacent -> Mon 22:00–Tue 04:00
    ])
    mon = utc(2023, 1, 23)
    assert intervals(sched, mon, mon + timedelta(days=2)) == [
        (utc(2023, 1, 23, 9), utc(2023, 1, 23, 14)),
        (utc(2023, 1, 23, 17), utc(2023, 1, 23, 20)),
        (utc(2023, 1, 23, 22), utc(2023, 1, 24, 4)),
    ]
    # active polls every 30 minutes all day Monday and Tuesday: everything open is up, once.
    rows = [(0, mon + timedelta(minutes=30 * k), True) for k in range(96)]
    r = uptime([sched], rows, as_of=utc(2023, 1, 25))
    assert r.business_seconds[0, WEEK] == (5 + 3 + 6) * H
    assert r.seconds[0, WEEK].tolist() == [14 * H, 0, 0]


def test_closed_weekday_and_24x7_and_default_zone():
    as_of = utc(2023, 1, 30)  # Monday 00:00 UTC; the week is Mon 23rd .. Sun 29th
    weekdays = store([shift(d, 9, 17) for d in (MON, TUE, WED, THU, FRI)], store_id="weekdays")
    always = store([], store_id="always")
    chicago = StoreSchedule(store_id="chicago", timezone_name=None, shifts=(shift(MON, 9, 17),))
    # Saturday inactive poll for `weekdays` is not evidence: the store is closed on Saturday.
    r = uptime([weekdays, always, chicago], [(0, utc(2023, 1, 28, 12), False)], as_of=as_of)
    assert r.business_seconds[0].tolist() == [0, 0, 40 * H]
    assert r.seconds[0, WEEK].tolist() == [0, 0, 40 * H]
    assert r.business_seconds[1].tolist() == [H, D, 7 * D]  # no hours at all: open 24x7
    assert r.seconds[1, WEEK].tolist() == [0, 0, 7 * D]
    # no time zone: America/Chicago (UTC-6 in January): Monday 09:00–17:00 = 15:00–23:00 UTC
    assert intervals(chicago, utc(2023, 1, 23), utc(2023, 1, 24)) == [(utc(2023, 1, 23, 15), utc(2023, 1, 23, 23))]
    assert r.business_seconds[2, WEEK] == 8 * H
    assert r.store_ids == ["weekdays", "always", "chicago"]


def test_empty_timezone_string_means_default():
    a = StoreSchedule("a", "", (shift(MON, 9, 17),))
    assert intervals(a, utc(2023, 1, 23), utc(2023, 1, 24)) == [(utc(2023, 1, 23, 15), utc(2023, 1, 23, 23))]


def test_lord_howe_half_hour_dst():
    # DST ends 2023-04-02 02:00 (+11:00 -> +10:30, at 15:00 UTC on the 1st): 01:30–02:00 happens twice.
    lh = "Australia/Lord_Howe"
    assert intervals(store([shift(SUN, 1, 3)], tz=lh), utc(2023, 3, 31), utc(2023, 4, 4)) == [
        (utc(2023, 4, 1, 14), utc(2023, 4, 1, 16, 30))  # 01:00 +11 .. 03:00 +10:30: 2.5 hours
    ]
    assert intervals(store([shift(SUN, (1, 45), 4)], tz=lh), utc(2023, 3, 31), utc(2023, 4, 4)) == [
        (utc(2023, 4, 1, 14, 45), utc(2023, 4, 1, 17, 30))  # first occurrence of 01:45 (+11)
    ]
    # DST starts 2023-10-01 02:00 -> 02:30 (+10:30 -> +11): 02:15 does not exist, maps with +10:30.
    assert intervals(store([shift(SUN, (2, 15), 4)], tz=lh), utc(2023, 9, 29), utc(2023, 10, 3)) == [
        (utc(2023, 9, 30, 15, 45), utc(2023, 9, 30, 17))  # 02:15 +10:30 .. 04:00 +11
    ]


# --------------------------------------------------------------------------- special hours (SPEC §9)

EVERY_DAY_9_17 = [shift(d, 9, 17) for d in range(7)]


def test_special_closed_day_replaces_the_weekly_shifts():
    sched = store(EVERY_DAY_9_17, special=[special(date(2023, 1, 25))])  # Wednesday closed
    assert intervals(sched, utc(2023, 1, 24), utc(2023, 1, 27)) == [
        (utc(2023, 1, 24, 9), utc(2023, 1, 24, 17)),
        (utc(2023, 1, 26, 9), utc(2023, 1, 26, 17)),
    ]
    # an inactive poll on the closed day is not evidence; the week has 6 open days
    r = uptime([sched], [(0, utc(2023, 1, 25, 12), False)], as_of=utc(2023, 1, 30))
    assert r.business_seconds[0, WEEK] == 6 * 8 * H
    assert r.seconds[0, WEEK, DOWN] == 0
    # without the special row, the same poll is evidence and the week has 7 open days
    r = uptime([store(EVERY_DAY_9_17)], [(0, utc(2023, 1, 25, 12), False)], as_of=utc(2023, 1, 30))
    assert r.business_seconds[0, WEEK] == 7 * 8 * H
    assert r.seconds[0, WEEK, DOWN] == 4 * H


def test_special_short_day_and_split_special_shifts():
    sched = store(EVERY_DAY_9_17, special=[special(date(2023, 1, 25), 10, 12), special(date(2023, 1, 25), 14, 15)])
    assert intervals(sched, utc(2023, 1, 25), utc(2023, 1, 26)) == [
        (utc(2023, 1, 25, 10), utc(2023, 1, 25, 12)),
        (utc(2023, 1, 25, 14), utc(2023, 1, 25, 15)),
    ]
    # the poll at 09:30 is before the special opening: not evidence
    r = uptime([sched], [(0, utc(2023, 1, 25, 9, 30), False), (0, utc(2023, 1, 25, 11), True)],
               as_of=utc(2023, 1, 25, 16))
    # the day window starts at Tuesday 16:00: Tuesday 16–17 (weekly, no poll: unknown), then 10–12
    # on the special date (within 2 h of the 11:00 poll: up) and 14–15 (beyond it: unknown)
    assert r.business_seconds[0, DAY] == 4 * H
    assert r.seconds[0, DAY].tolist() == [2 * H, 0, 2 * H]


def test_special_overnight_shift_runs_into_the_next_date():
    sched = store(EVERY_DAY_9_17, special=[special(date(2023, 1, 25), 20, 2)])
    assert intervals(sched, utc(2023, 1, 25), utc(2023, 1, 27)) == [
        (utc(2023, 1, 25, 20), utc(2023, 1, 26, 2)),  # the special, past midnight
        (utc(2023, 1, 26, 9), utc(2023, 1, 26, 17)),  # the next date's weekly shift still applies
    ]
    # 24-hour and end-of-day specials as in SPEC §3
    assert intervals(store(EVERY_DAY_9_17, special=[special(date(2023, 1, 25), 6, 6)]),
                     utc(2023, 1, 25), utc(2023, 1, 26, 12)) == [(utc(2023, 1, 25, 6), utc(2023, 1, 26, 6)),
                                                                (utc(2023, 1, 26, 9), utc(2023, 1, 26, 12))]
    assert intervals(store([], special=[special(date(2023, 1, 25), 18, 0)]), utc(2023, 1, 25), utc(2023, 1, 26)) == [
        (utc(2023, 1, 25, 18), utc(2023, 1, 26))
    ]


def test_weekly_overnight_shift_spills_into_a_special_date():
    # Tuesday 22:00–02:00 every week; Wednesday 2023-01-25 is closed: Tuesday's shift still
    # covers Wednesday 00:00–02:00 (it belongs to Tuesday), Wednesday's own shift does not apply.
    sched = store([shift(TUE, 22, 2), shift(WED, 22, 2)], special=[special(date(2023, 1, 25))])
    assert intervals(sched, utc(2023, 1, 24), utc(2023, 1, 27)) == [(utc(2023, 1, 24, 22), utc(2023, 1, 25, 2))]
    # and a special on the date before does not cut the weekly shift of the special date
    sched = store([shift(WED, 22, 2)], special=[special(date(2023, 1, 24), 23, 3)])
    assert intervals(sched, utc(2023, 1, 24), utc(2023, 1, 27)) == [
        (utc(2023, 1, 24, 23), utc(2023, 1, 25, 3)),
        (utc(2023, 1, 25, 22), utc(2023, 1, 26, 2)),
    ]
    # a special overlapping the weekly shift spilling into it: merged, never counted twice
    sched = store([shift(TUE, 22, 3)], special=[special(date(2023, 1, 25), 1, 4)])
    assert intervals(sched, utc(2023, 1, 24), utc(2023, 1, 27)) == [(utc(2023, 1, 24, 22), utc(2023, 1, 25, 4))]


def test_special_rows_without_weekly_rows_mean_24x7_on_other_dates():
    sched = store([], tz="America/Chicago", special=[special(date(2023, 1, 25), 10, 12)])
    assert intervals(sched, utc(2023, 1, 24), utc(2023, 1, 28)) == [
        (utc(2023, 1, 24), utc(2023, 1, 25, 6)),  # 24x7 up to local midnight (UTC-6)
        (utc(2023, 1, 25, 16), utc(2023, 1, 25, 18)),  # 10:00–12:00 local
        (utc(2023, 1, 26, 6), utc(2023, 1, 28)),
    ]
    closed = store([], special=[special(date(2023, 1, 25))], store_id="closed")
    r = uptime([closed, store([], store_id="always")], [], as_of=utc(2023, 1, 30))
    assert r.business_seconds[:, WEEK].tolist() == [6 * D, 7 * D]


def test_closed_row_next_to_a_shift_the_shift_decides():
    sched = store(EVERY_DAY_9_17, special=[special(date(2023, 1, 25)), special(date(2023, 1, 25), 10, 11)])
    assert intervals(sched, utc(2023, 1, 25), utc(2023, 1, 26)) == [(utc(2023, 1, 25, 10), utc(2023, 1, 25, 11))]


def test_special_on_new_york_dst_days():
    ny = "America/New_York"
    # 2023-03-12 spring forward: 01:00 EST (06:00 UTC) .. 04:00 EDT (08:00 UTC) = 2 real hours
    sched = store([shift(SUN, 9, 17)], tz=ny, special=[special(date(2023, 3, 12), 1, 4)])
    assert intervals(sched, utc(2023, 3, 11), utc(2023, 3, 14)) == [(utc(2023, 3, 12, 6), utc(2023, 3, 12, 8))]
    # a special ending in the gap after its start's instant is empty (02:30 EST = 07:30 UTC, 03:00 EDT =
    # 07:00 UTC): the date is closed
    sched = store([shift(SUN, 9, 17)], tz=ny, special=[special(date(2023, 3, 12), (2, 30), 3)])
    assert intervals(sched, utc(2023, 3, 11), utc(2023, 3, 14)) == []
    # 2023-11-05 fall back: 01:30 is its first occurrence (EDT, 05:30 UTC) .. 03:00 EST (08:00 UTC)
    sched = store([shift(SUN, 9, 17)], tz=ny, special=[special(date(2023, 11, 5), (1, 30), 3)])
    assert intervals(sched, utc(2023, 11, 4), utc(2023, 11, 7)) == [(utc(2023, 11, 5, 5, 30), utc(2023, 11, 5, 8))]
    # closed all day on the 25-hour day, for a 24x7 store: 04:00 .. 05:00 UTC next day
    sched = store([], tz=ny, special=[special(date(2023, 11, 5))])
    assert intervals(sched, utc(2023, 11, 4), utc(2023, 11, 7)) == [
        (utc(2023, 11, 4), utc(2023, 11, 5, 4)), (utc(2023, 11, 6, 5), utc(2023, 11, 7))
    ]
    r = uptime([sched], [], as_of=utc(2023, 11, 8))
    assert r.business_seconds[0, WEEK] == 7 * D - 25 * H


def test_special_on_lord_howe_half_hour_dst_day():
    lh = "Australia/Lord_Howe"
    # 2023-04-02: 02:00 +11 -> 01:30 +10:30. 01:00 +11 (14:00 UTC) .. 03:00 +10:30 (16:30 UTC)
    sched = store([shift(SUN, 9, 17)], tz=lh, special=[special(date(2023, 4, 2), 1, 3)])
    assert intervals(sched, utc(2023, 3, 31), utc(2023, 4, 4)) == [(utc(2023, 4, 1, 14), utc(2023, 4, 1, 16, 30))]
    # 2023-10-01: 02:00 -> 02:30 (+10:30 -> +11); an overnight special from the day before runs across it
    sched = store([shift(SAT, 9, 17)], tz=lh, special=[special(date(2023, 9, 30), 22, 4)])
    assert intervals(sched, utc(2023, 9, 29), utc(2023, 10, 3)) == [
        (utc(2023, 9, 30, 11, 30), utc(2023, 9, 30, 17))  # 22:00 +10:30 .. 04:00 +11: 5.5 hours
    ]


def test_special_closed_day_in_timeline_and_incidents():
    sched = store(EVERY_DAY_9_17, special=[special(date(2023, 1, 25))])
    rows = [(utc(2023, 1, 24, 16), False), (utc(2023, 1, 26, 10), False)]
    start, end = utc(2023, 1, 24, 12), utc(2023, 1, 26, 12)
    assert timeline(sched, rows, start, end) == [
        Segment(start, utc(2023, 1, 24, 14), "UNKNOWN"),
        Segment(utc(2023, 1, 24, 14), utc(2023, 1, 24, 17), "DOWN"),
        Segment(utc(2023, 1, 24, 17), utc(2023, 1, 26, 9), "CLOSED"),
        Segment(utc(2023, 1, 26, 9), end, "DOWN"),
    ]
    # down at Tuesday's closing, still down when it reopens on Thursday: one incident
    assert incidents(sched, rows, start, end) == [Incident(utc(2023, 1, 24, 14), end, 6 * H)]


def test_special_shift_with_one_time_is_refused():
    with pytest.raises(ValueError, match="both times"):
        business_intervals(schedules=[store([], special=[SpecialShift(date(2023, 1, 25), time(9), None)])],
                           start=utc(2023, 1, 24), end=utc(2023, 1, 26))


def test_specials_far_from_the_range_change_nothing():
    far = store(EVERY_DAY_9_17, special=[special(date(2022, 1, 25)), special(date(2024, 1, 25), 1, 2)])
    assert intervals(far, utc(2023, 1, 24), utc(2023, 1, 26)) == intervals(
        store(EVERY_DAY_9_17), utc(2023, 1, 24), utc(2023, 1, 26)
    )


def test_kolkata_half_hour_offset():
    r = uptime(
        [store([shift(MON, 9, 17)], tz="Asia/Kolkata")],
        [(0, utc(2023, 1, 23, 7, 30), True)],  # 13:00 IST
        as_of=utc(2023, 1, 24),
    )
    # open 03:30–11:30 UTC; the poll at 07:30 covers 05:30–09:30 (H = 2 h)
    assert r.business_seconds[0, WEEK] == 8 * H
    assert r.seconds[0, WEEK].tolist() == [4 * H, 0, 4 * H]


# --------------------------------------------------------------------------- interpolation


def test_store_with_one_poll_and_horizon_parameter():
    sched = store([shift(MON, 8, 20)])
    rows = [(0, utc(2023, 1, 23, 12), True)]
    as_of = utc(2023, 1, 24)
    assert uptime([sched], rows, as_of).seconds[0, WEEK].tolist() == [4 * H, 0, 8 * H]
    assert uptime([sched], rows, as_of, horizon=timedelta(minutes=30)).seconds[0, WEEK].tolist() == [H, 0, 11 * H]
    assert uptime([sched], rows, as_of, horizon=timedelta(0)).seconds[0, WEEK].tolist() == [0, 0, 12 * H]
    assert uptime([sched], rows, as_of, horizon=timedelta(days=1)).seconds[0, WEEK].tolist() == [12 * H, 0, 0]


def test_store_silent_for_days_is_unknown_beyond_the_horizon():
    as_of = utc(2023, 1, 29)
    rows = [(0, utc(2023, 1, 22) + timedelta(hours=k), True) for k in range(25)]  # first day only
    r = uptime([store()], rows, as_of)
    # up from the window start to the last poll + 2 h (Mon 02:00) = 26 h; the rest is unknown
    assert r.seconds[0, WEEK].tolist() == [26 * H, 0, (168 - 26) * H]
    assert r.seconds[0, DAY].tolist() == [0, 0, D]


def test_polls_outside_business_hours_are_not_evidence():
    sched = store([shift(WED, 9, 12)])
    rows = [
        (0, utc(2023, 1, 25, 8, 59, 59), False),  # before opening
        (0, utc(2023, 1, 25, 10), True),
        (0, utc(2023, 1, 25, 12), False),  # at closing: [09:00, 12:00) is half-open
        (0, utc(2023, 1, 24, 10), False),  # Tuesday: closed all day
    ]
    r = uptime([sched], rows, as_of=utc(2023, 1, 26))
    assert r.seconds[0, WEEK].tolist() == [3 * H, 0, 0]


def test_explicit_earlier_as_of_ignores_later_polls():
    rows = [(0, utc(2023, 1, 25, 10), True), (0, utc(2023, 1, 25, 10, 30), False)]
    early = uptime([store()], rows, as_of=utc(2023, 1, 25, 10, 20))
    assert early.seconds[0, HOUR].tolist() == [3600, 0, 0]  # the 10:30 poll does not exist yet
    late = uptime([store()], rows, as_of=utc(2023, 1, 25, 11))
    assert late.seconds[0, HOUR].tolist() == [15 * 60, 45 * 60, 0]  # change at 10:15


def test_poll_exactly_at_as_of():
    as_of = utc(2023, 1, 25, 12)
    rows = [(0, as_of - timedelta(hours=1), True), (0, as_of, False)]
    r = uptime([store()], rows, as_of)
    assert r.seconds[0, HOUR].tolist() == [1800, 1800, 0]
    # when the store closes at as_of, that poll is outside business hours
    r = uptime([store([shift(WED, 9, 12)])], rows, as_of)
    assert r.seconds[0, HOUR].tolist() == [3600, 0, 0]


def test_closed_time_between_polls_does_not_stretch_the_horizon():
    # open 09:00–10:00 and 13:00–14:00; one active poll at 09:30; H = 2 h reaches 11:30 only.
    sched = store([shift(WED, 9, 10), shift(WED, 13, 14)])
    r = uptime([sched], [(0, utc(2023, 1, 25, 9, 30), True)], as_of=utc(2023, 1, 26))
    assert r.seconds[0, WEEK].tolist() == [H, 0, H]
    # nearest poll in plain time: 09:30 active, 13:10 inactive -> mid 11:20 (closed): 09–10 up, 13–14 down
    rows = [(0, utc(2023, 1, 25, 9, 30), True), (0, utc(2023, 1, 25, 13, 10), False)]
    r = uptime([sched], rows, as_of=utc(2023, 1, 26))
    assert r.seconds[0, WEEK].tolist() == [H, H, 0]


def test_superset_of_polls_unsorted_and_duplicates():
    sched = [store(store_id="a"), store([shift(WED, 9, 17)], store_id="b")]
    as_of = utc(2023, 1, 25, 18)
    base = [(0, utc(2023, 1, 25, 12), True), (1, utc(2023, 1, 25, 12), False), (1, utc(2023, 1, 25, 15), True)]
    expected = uptime(sched, base, as_of).seconds
    old = [(0, utc(2023, 1, 10), False), (1, utc(2023, 1, 18, 9, 59), False), (0, utc(2023, 1, 18, 15, 59), False)]
    future = [(0, utc(2023, 1, 25, 18, 0, 1), False), (1, utc(2023, 2, 1, 12), False)]
    rows = base + old + future
    np.testing.assert_array_equal(uptime(sched, rows, as_of).seconds, expected)
    # unsorted input, with a duplicate (store, timestamp): the later one given wins
    shuffled = [rows[i] for i in np.random.default_rng(1).permutation(len(rows))]
    dup = (0, utc(2023, 1, 25, 12), False)
    arr = shuffled + [dup, (0, utc(2023, 1, 25, 12), True)]
    p = Polls(np.array([r[0] for r in arr]), np.array([us(r[1]) for r in arr]), np.array([r[2] for r in arr]))
    r = compute_uptime(schedules=sched, polls=p, as_of=as_of)
    np.testing.assert_array_equal(r.seconds, expected)


def test_no_stores_and_no_polls():
    r = compute_uptime(schedules=[], polls=Polls.empty(), as_of=utc(2023, 1, 25))
    assert r.seconds.shape == (0, 3, 3) and list(r.spec_rows()) == []
    r = uptime([store()], [], as_of=utc(2023, 1, 25))
    assert r.seconds[0, :, UNKNOWN].tolist() == [H, D, 7 * D]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        compute_uptime(schedules=[store()], polls=Polls.empty(), as_of=datetime(2023, 1, 25))


# --------------------------------------------------------------------------- timeline and incidents


def test_timeline_covers_range_and_agrees_with_week_figures():
    sched = store([shift(d, 9, 17) for d in range(5)] + [shift(SAT, 22, 2)], tz="America/New_York")
    as_of = utc(2023, 11, 8, 12)  # the week contains the fall-back Sunday
    rng = np.random.default_rng(3)
    times = sorted({as_of - timedelta(minutes=int(m)) for m in rng.integers(0, 7 * 24 * 60 + 200, 150)})
    rows = [(t, bool(rng.random() < 0.7)) for t in times]
    segs = timeline(sched, rows, as_of - timedelta(days=7), as_of)
    assert segs[0].start == as_of - timedelta(days=7) and segs[-1].end == as_of
    for a, b in zip(segs, segs[1:]):
        assert a.end == b.start and a.state != b.state and a.start < a.end
    totals = {s: sum((g.end - g.start).total_seconds() for g in segs if g.state == s)
              for s in ("UP", "DOWN", "UNKNOWN", "CLOSED")}
    r = uptime([sched], [(0, t, a) for t, a in rows], as_of)
    assert [totals["UP"], totals["DOWN"], totals["UNKNOWN"]] == pytest.approx(r.seconds[0, WEEK].tolist(), abs=1e-6)
    assert totals["CLOSED"] == pytest.approx(7 * D - r.business_seconds[0, WEEK], abs=1e-6)


def test_incident_across_lunch_break_is_one_incident():
    sched = store([shift(MON, 9, 12), shift(MON, 13, 17)])
    rows = [(utc(2023, 1, 23, 9, 30), True), (utc(2023, 1, 23, 11), False),
            (utc(2023, 1, 23, 13, 30), False), (utc(2023, 1, 23, 15), True)]
    # change points 10:15 (down) and 14:15 (up); 12:00–13:00 is closed
    got = incidents(sched, rows, utc(2023, 1, 23), utc(2023, 1, 24))
    assert got == [Incident(utc(2023, 1, 23, 10, 15), utc(2023, 1, 23, 14, 15), (1.75 + 1.25) * H)]


def test_outage_at_closing_continuing_next_morning_is_one_incident():
    sched = store([shift(MON, 9, 17), shift(TUE, 9, 17)])
    rows = [(utc(2023, 1, 23, 12), True), (utc(2023, 1, 23, 16), False),
            (utc(2023, 1, 24, 10), False), (utc(2023, 1, 24, 14), True)]
    # down Mon 14:00–17:00 and Tue 09:00–12:00
    got = incidents(sched, rows, utc(2023, 1, 23), utc(2023, 1, 25))
    assert got == [Incident(utc(2023, 1, 23, 14), utc(2023, 1, 24, 12), 6 * H)]
    # if Tuesday opens unknown (first poll 11:30: unknown before 09:30), that ends the incident
    rows[2] = (utc(2023, 1, 24, 11, 30), False)
    got = incidents(sched, rows, utc(2023, 1, 23), utc(2023, 1, 25))
    assert got == [
        Incident(utc(2023, 1, 23, 14), utc(2023, 1, 23, 17), 3 * H),
        Incident(utc(2023, 1, 24, 9, 30), utc(2023, 1, 24, 12, 45), 3.25 * H),
    ]


def test_one_poll_blip_is_a_short_incident():
    rows = [(utc(2023, 1, 23, h), h != 12) for h in range(8, 17)]
    got = incidents(store(), rows, utc(2023, 1, 23, 8), utc(2023, 1, 23, 17))
    assert got == [Incident(utc(2023, 1, 23, 11, 30), utc(2023, 1, 23, 12, 30), H)]


def test_an_up_poll_splits_incidents():
    rows = [(utc(2023, 1, 23, 10), False), (utc(2023, 1, 23, 11), False), (utc(2023, 1, 23, 12), True),
            (utc(2023, 1, 23, 13), False), (utc(2023, 1, 23, 14), False)]
    start, end = utc(2023, 1, 23, 10), utc(2023, 1, 23, 14)
    assert incidents(store(), rows, start, end) == [
        Incident(start, utc(2023, 1, 23, 11, 30), 1.5 * H),
        Incident(utc(2023, 1, 23, 12, 30), end, 1.5 * H),
    ]
    assert timeline(store(), rows, start, end) == [
        Segment(start, utc(2023, 1, 23, 11, 30), "DOWN"),
        Segment(utc(2023, 1, 23, 11, 30), utc(2023, 1, 23, 12, 30), "UP"),
        Segment(utc(2023, 1, 23, 12, 30), end, "DOWN"),
    ]


def test_timeline_uses_only_polls_up_to_its_end():
    rows = [(utc(2023, 1, 23, 10), True), (utc(2023, 1, 23, 11), False)]
    segs = timeline(store(), rows, utc(2023, 1, 23, 10), utc(2023, 1, 23, 10, 45))
    assert segs == [Segment(utc(2023, 1, 23, 10), utc(2023, 1, 23, 10, 45), "UP")]
    assert timeline(store(), rows, utc(2023, 1, 23, 11), utc(2023, 1, 23, 11)) == []


# --------------------------------------------------------------------------- incident counts per window


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


def test_incident_counts_outage_across_lunch_break_is_one():
    sched = store([shift(MON, 9, 12), shift(MON, 13, 17)])
    rows = [(0, utc(2023, 1, 23, 9, 30), True), (0, utc(2023, 1, 23, 11), False),
            (0, utc(2023, 1, 23, 13, 30), False), (0, utc(2023, 1, 23, 15), True)]
    # down 10:15–14:15 across the closed 12:00–13:00; the last hour (16:00–17:00) is up
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 23, 17)) == [[0, 1, 1]]
    # at 14:00 the outage is still going: the last hour (13:00–14:00) holds it, clipped
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 23, 14)) == [[1, 1, 1]]


def test_incident_counts_outage_at_closing_continuing_next_morning_is_one():
    sched = store([shift(MON, 9, 17), shift(TUE, 9, 17)])
    rows = [(0, utc(2023, 1, 23, 12), True), (0, utc(2023, 1, 23, 16), False),
            (0, utc(2023, 1, 24, 10), False), (0, utc(2023, 1, 24, 14), True)]
    # down Mon 14:00–17:00 and Tue 09:00–12:00: one incident; the last day (Tue) holds its second part
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 25)) == [[0, 1, 1]]
    # the day window starts in Monday night's closed time: the part before it and the part inside it
    # are still one incident, counted once in the day
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 24, 20)) == [[0, 1, 1]]
    # as_of Tue 10:30: the incident is ongoing (09:30–10:30 down)
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 24, 10, 30)) == [[1, 1, 1]]
    # Tuesday opening unknown (first poll 11:30, unknown before 09:30) ends the incident: two
    rows[2] = (0, utc(2023, 1, 24, 11, 30), False)
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 25)) == [[0, 1, 2]]


def test_incident_counts_ended_at_closing_before_the_window_start_is_not_in_the_window():
    # down Mon 14:00–17:00, closed until Tue 09:00, up from then: no business time separates the
    # incident's end from the day window's start (Mon 20:00), yet it has no downtime in the window.
    sched = store([shift(MON, 9, 17), shift(TUE, 9, 17)])
    rows = [(0, utc(2023, 1, 23, 16), False), (0, utc(2023, 1, 24, 10), True)]
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 24, 20)) == [[0, 0, 1]]


def test_incident_counts_up_poll_between_two_down_runs_is_two():
    rows = [(0, utc(2023, 1, 23, 10), False), (0, utc(2023, 1, 23, 11), False), (0, utc(2023, 1, 23, 12), True),
            (0, utc(2023, 1, 23, 13), False), (0, utc(2023, 1, 23, 14), False)]
    # down 08:00–11:30, up 11:30–12:30, down 12:30–14:00 (as_of)
    assert incident_counts([store()], rows, as_of=utc(2023, 1, 23, 14)) == [[1, 2, 2]]


def test_incident_counts_unknown_gap_between_two_down_runs_is_two():
    sched = store([shift(MON, 8, 20)])
    rows = [(0, utc(2023, 1, 23, 9), False), (0, utc(2023, 1, 23, 15), False)]
    # H = 2 h: down 08:00–11:00, unknown 11:00–13:00, down 13:00–17:00, unknown 17:00–20:00
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 23, 20)) == [[0, 2, 2]]
    # H = 3 h: the two pieces meet at 12:00, no unknown time between them: one incident
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 23, 20), horizon=timedelta(hours=3)) == [[0, 1, 1]]
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 23, 20), horizon=timedelta(0)) == [[0, 0, 0]]


def test_incident_counts_run_started_before_the_window_counts_once_in_it():
    # 24x7, down polls hourly from Sunday 00:00 to Monday 12:00: one incident from Sat 22:00 on
    rows = [(0, utc(2023, 1, 22) + timedelta(hours=k), False) for k in range(37)]
    assert incident_counts([store()], rows, as_of=utc(2023, 1, 23, 12)) == [[1, 1, 1]]


def test_incident_counts_down_poll_outside_business_hours_is_not_an_incident():
    sched = store([shift(MON, 9, 12)])
    rows = [(0, utc(2023, 1, 23, 8), False), (0, utc(2023, 1, 23, 12), False),
            (0, utc(2023, 1, 23, 13), False), (0, utc(2023, 1, 21, 10), False)]  # Saturday: closed
    r = uptime([sched], rows, as_of=utc(2023, 1, 24))
    assert r.seconds[0, WEEK].tolist() == [0, 0, 3 * H]
    assert incident_counts([sched], rows, as_of=utc(2023, 1, 24)) == [[0, 0, 0]]


def test_incident_counts_24x7_store():
    # hourly polls Sun 00:00 .. Mon 23:00, down at Sun 03, 04, 23 and Mon 00, 01, 15
    down = {3, 4, 23, 24, 25, 39}
    rows = [(0, utc(2023, 1, 22) + timedelta(hours=k), k not in down) for k in range(48)]
    # incidents Sun 02:30–04:30, Sun 22:30–Mon 01:30 (never closed: midnight changes nothing),
    # Mon 14:30–15:30; the last day (Monday) holds the second (clipped) and the third
    assert incident_counts([store()], rows, as_of=utc(2023, 1, 24)) == [[0, 2, 3]]


def test_incident_counts_store_closed_in_the_last_hour_reopening_at_as_of():
    # open 09:00–10:00 and 12:00–13:00; H = 3 h: the 09:30 down poll owns 06:30–12:30, reaching past
    # as_of (12:00, the reopening instant); the last hour (11:00–12:00) is closed: nothing in it.
    sched = store([shift(MON, 9, 10), shift(MON, 12, 13)])
    rows = [(0, utc(2023, 1, 23, 9, 30), False)]
    got = incident_counts([sched], rows, as_of=utc(2023, 1, 23, 12), horizon=timedelta(hours=3))
    assert got == [[0, 1, 1]]


def test_incident_counts_never_continue_from_one_store_to_the_next():
    # Both open Mondays 09:00–17:00 only.  Store a is down until its closing and closed until as_of;
    # store b is down from its first business instant in the week: nothing lies between the two on
    # the engine's shared axis, yet they are two stores' incidents.
    a = store([shift(MON, 9, 17)], store_id="a")
    b = store([shift(MON, 9, 17)], store_id="b")
    rows = [(0, utc(2023, 1, 30, 16), False), (1, utc(2023, 1, 30, 10), False), (1, utc(2023, 1, 30, 15), True)]
    assert incident_counts([a, b], rows, as_of=utc(2023, 1, 31)) == [[0, 1, 1], [0, 1, 1]]


def test_incident_counts_pieces_without_business_time_neither_start_nor_continue_an_incident():
    # open 09:00–10:00 and 12:00–13:00; down poll at 09:30 (down 09:00–10:00).
    sched = store([shift(MON, 9, 10), shift(MON, 12, 13)])
    noon = utc(2023, 1, 23, 12)
    # A down poll exactly at as_of = the reopening instant is evidence, but the piece it owns
    # ([10:45, 14:00)) has no business time before as_of: still one incident, ended at 10:00.
    rows = [(0, utc(2023, 1, 23, 9, 30), False), (0, noon, False)]
    assert incident_counts([sched], rows, as_of=noon) == [[0, 1, 1]]
    # A down poll at 12:00 followed by an up poll 1 µs later owns [10:45, 12:00): closed time only.
    # The up poll owns 12:00 itself; the incident 09:00–10:00 must not run through the empty piece.
    tick = noon + timedelta(microseconds=1)
    rows = [(0, utc(2023, 1, 23, 9, 30), False), (0, noon, False), (0, tick, True)]
    assert incident_counts([sched], rows, as_of=tick) == [[0, 1, 1]]
    assert timeline(sched, [(t, a) for _, t, a in rows], noon, tick) == [Segment(noon, tick, "UP")]


def test_uptime_result_without_incident_counts_defaults_to_zeros():
    r = engine.UptimeResult(store_ids=["a", "b"], seconds=np.zeros((2, 3, 3)), business_seconds=np.zeros((2, 3)))
    assert r.incident_counts.dtype == np.int64 and r.incident_counts.tolist() == [[0, 0, 0], [0, 0, 0]]
    assert [row["incidents_last_week"] for row in r.spec_rows()] == [0, 0]


def test_constants():
    assert engine.DEFAULT_TIMEZONE == "America/Chicago"
    assert engine.DEFAULT_HORIZON == timedelta(hours=2)
    assert [w for _, w in engine.WINDOWS] == [timedelta(hours=1), timedelta(days=1), timedelta(days=7)]
    assert engine.STATES == ("up", "down", "unknown")


# --------------------------------------------------------------------------- internals worth pinning


def test_chunked_key_space_gives_identical_results(monkeypatch):
    rng = np.random.default_rng(11)
    zones = ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", None, "Europe/London"]
    scheds = [
        store([shift(int(d), int(h), int(e)) for d, h, e in rng.integers([0, 0, 0], [7, 24, 24], (int(k), 3))],
              tz=zones[i % len(zones)], store_id=f"s{i}")
        for i, k in enumerate(rng.integers(0, 8, 7))
    ]
    # special dates on some stores (closed, short, overnight; one store with no weekly rows)
    specials = {1: [special(date(2023, 11, 5))], 3: [special(date(2023, 11, 6), 10, 12)],
                4: [special(date(2023, 11, 2), 20, 2), special(date(2023, 11, 7))], 6: [special(date(2023, 11, 4))]}
    scheds[6] = store([], tz="America/New_York", store_id="s6")
    scheds = [StoreSchedule(s.store_id, s.timezone_name, s.shifts, tuple(specials.get(i, ()))) for i, s in enumerate(scheds)]
    as_of = utc(2023, 11, 8, 3, 17)
    rows = sorted({(int(s), as_of - timedelta(seconds=int(o)), bool(a))
                   for s, o, a in zip(rng.integers(0, 7, 600), rng.integers(-600, 8 * 86400, 600),
                                      rng.integers(0, 2, 600))}, key=lambda r: (r[0], r[1]))
    rows = [r for i, r in enumerate(rows) if i == 0 or r[:2] != rows[i - 1][:2]]
    whole = uptime(scheds, rows, as_of)
    week = (as_of - timedelta(days=8), as_of)
    whole_iv = business_intervals(schedules=scheds, start=week[0], end=week[1])
    monkeypatch.setattr(engine_schedules, "_KEY_LIMIT", 2 * 10**12)  # a couple of stores per chunk
    assert len(engine_schedules._chunks(len(scheds), 7 * 86400 * 10**6)) > 2
    chunked = uptime(scheds, rows, as_of)
    np.testing.assert_array_equal(chunked.seconds, whole.seconds)
    np.testing.assert_array_equal(chunked.incident_counts, whole.incident_counts)
    assert whole.incident_counts[:, 2].sum() > 0
    for a, b in zip(business_intervals(schedules=scheds, start=week[0], end=week[1]), whole_iv):
        np.testing.assert_array_equal(a, b)


def test_incident_ends_matches_a_plain_walk_over_the_pieces():
    """_incident_ends on synthetic pieces (many without business time, in runs) against a plain loop."""
    rng = np.random.default_rng(17)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        loc = np.sort(rng.integers(0, 4, n))
        down = rng.random(n) < 0.6
        length = np.where(rng.random(n) < 0.4, 0, rng.integers(1, 4, n))  # 40 % without business time
        gap = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 3, n))  # unknown business time before
        b = np.cumsum(gap + length)
        a = b - length
        ends = []
        prev = None  # (store, down, b) of the last piece with business time
        for k in range(n):
            if length[k] == 0:
                continue
            if prev is not None and prev[1] and not (down[k] and prev[0] == loc[k] and a[k] == prev[2]):
                ends.append((prev[0], prev[2]))
            prev = (loc[k], down[k], b[k])
        if prev is not None and prev[1]:
            ends.append((prev[0], prev[2]))
        got_loc, got_c = engine_uptime._incident_ends(loc, down, a, b, b - a)
        assert list(zip(got_loc.tolist(), got_c.tolist())) == [(int(x), int(y)) for x, y in ends]


def test_locate_sorted_matches_searchsorted():
    rng = np.random.default_rng(5)
    ks = np.unique(rng.integers(0, 10_000, 50))
    axis = engine_schedules._Axis(r0=0, K=10**6, P=0, s_lo=0, ks=np.concatenate(([-1], ks, [10**6])),
                        ke=np.concatenate(([-1], ks + 1, [10**6])), cum=np.zeros(len(ks) + 2, np.int64))
    keys = np.sort(np.concatenate((rng.integers(0, 10_000, 5000), ks, ks[:10])))  # ties and duplicates
    np.testing.assert_array_equal(axis.locate_sorted(keys), axis.locate(keys))


def test_inside_intervals_is_half_open_and_per_store():
    import numpy as np

    from monitoring.engine import inside_intervals

    # Store 0 open [10, 20) and [30, 40); store 1 open [15, 25).
    hours = (np.array([0, 0, 1]), np.array([10, 30, 15]), np.array([20, 40, 25]))
    stores = np.array([0, 0, 0, 0, 1, 1, 1])
    times = np.array([10, 19, 20, 35, 14, 15, 30])
    assert inside_intervals(hours, stores, times).tolist() == [True, True, False, True, False, True, False]
    assert inside_intervals(hours, np.array([], int), np.array([], int)).tolist() == []

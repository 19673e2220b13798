"""Special hours (docs/rules.md §9) in the engine: a date's special rows replace its weekly
shifts, closed days, overnight shifts either way, DST days."""

from __future__ import annotations

from datetime import date, time

import pytest
from monitoring.engine import (
    Incident,
    Segment,
    SpecialShift,
    business_intervals,
)

from tests.engine_inputs import (
    DAY,
    DOWN,
    SAT,
    SUN,
    TUE,
    WED,
    WEEK,
    D,
    H,
    incidents,
    intervals,
    shift,
    special,
    store,
    timeline,
    uptime,
    utc,
)

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
    # 24-hour and end-of-day specials as in docs/rules.md §3
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

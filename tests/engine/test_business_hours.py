"""Weekly business hours as instants (docs/rules.md §2–§3): time zones and their DST days, shifts
past midnight, 24-hour, overlapping and split shifts, closed days, the default zone."""

from __future__ import annotations

from datetime import timedelta

from monitoring.engine import (
    StoreSchedule,
)

from tests.engine_inputs import (
    FRI,
    MON,
    SUN,
    THU,
    TUE,
    UNKNOWN,
    WED,
    WEEK,
    D,
    H,
    intervals,
    shift,
    store,
    uptime,
    utc,
)


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


def test_kolkata_half_hour_offset():
    r = uptime(
        [store([shift(MON, 9, 17)], tz="Asia/Kolkata")],
        [(0, utc(2023, 1, 23, 7, 30), True)],  # 13:00 IST
        as_of=utc(2023, 1, 24),
    )
    # open 03:30–11:30 UTC; the poll at 07:30 covers 05:30–09:30 (H = 2 h)
    assert r.business_seconds[0, WEEK] == 8 * H
    assert r.seconds[0, WEEK].tolist() == [4 * H, 0, 4 * H]

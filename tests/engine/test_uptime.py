"""Uptime per window (docs/rules.md §4–§5), named cases worked out by hand: the worked example to
the second, the horizon, the as-of instant, evidence only in business hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from monitoring import engine
from monitoring.engine import (
    Polls,
    StoreSchedule,
    business_intervals,
    compute_uptime,
)
from monitoring.engine import schedules as engine_schedules

from tests.engine_inputs import (
    DAY,
    DOWN,
    HOUR,
    MON,
    UNKNOWN,
    UP,
    WED,
    WEEK,
    D,
    H,
    shift,
    special,
    store,
    uptime,
    us,
    utc,
)


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


def test_uptime_result_without_incident_counts_defaults_to_zeros():
    r = engine.UptimeResult(store_ids=["a", "b"], seconds=np.zeros((2, 3, 3)), business_seconds=np.zeros((2, 3)))
    assert r.incident_counts.dtype == np.int64 and r.incident_counts.tolist() == [[0, 0, 0], [0, 0, 0]]
    assert [row["incidents_last_week"] for row in r.spec_rows()] == [0, 0]


def test_constants():
    assert engine.DEFAULT_TIMEZONE == "America/Chicago"
    assert engine.DEFAULT_HORIZON == timedelta(hours=2)
    assert [w for _, w in engine.WINDOWS] == [timedelta(hours=1), timedelta(days=1), timedelta(days=7)]
    assert engine.STATES == ("up", "down", "unknown")


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
    monkeypatch.setattr(engine_schedules, "KEY_LIMIT", 2 * 10**12)  # a couple of stores per chunk
    assert len(engine_schedules.chunks(len(scheds), 7 * 86400 * 10**6)) > 2
    chunked = uptime(scheds, rows, as_of)
    np.testing.assert_array_equal(chunked.seconds, whole.seconds)
    np.testing.assert_array_equal(chunked.incident_counts, whole.incident_counts)
    assert whole.incident_counts[:, 2].sum() > 0
    for a, b in zip(business_intervals(schedules=scheds, start=week[0], end=week[1]), whole_iv):
        np.testing.assert_array_equal(a, b)

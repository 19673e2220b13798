"""Property tests: ranges and daily figures of the engine (monitoring.engine.ranges)
against the one-day-at-a-time reference (tests/reference_engine.py), on random hours,
special hours and polls, around DST changes, for ranges from one minute to 90 days.

Poll timestamps are whole seconds, so every change point is a whole number of
microseconds; the tolerance only absorbs float rounding.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.engine import Polls, Shift, SpecialShift, StoreSchedule
from monitoring.engine import compute_uptime
from monitoring.engine.ranges import (
    daily_uptime,
    incidents_joined,
    local_midnights,
    range_uptime,
    window_figures,
    window_uptime,
)
from tests import reference_engine as ref

UTC = timezone.utc
SEC = 1_000_000
TOL = 1e-6  # seconds
ZONES = ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/London", "America/Chicago", None]
# Around DST changes of the zones above (and one quiet date).
EVENTS = [
    datetime(2023, 3, 12, 7, tzinfo=UTC),  # New York spring forward
    datetime(2023, 11, 5, 6, tzinfo=UTC),  # New York fall back
    datetime(2023, 3, 12, 8, tzinfo=UTC),  # Chicago
    datetime(2023, 11, 5, 7, tzinfo=UTC),
    datetime(2023, 3, 26, 1, tzinfo=UTC),  # London
    datetime(2023, 10, 29, 1, tzinfo=UTC),
    datetime(2023, 4, 1, 15, tzinfo=UTC),  # Lord Howe (30-minute change)
    datetime(2023, 9, 30, 15, 30, tzinfo=UTC),
    datetime(2023, 1, 25, 12, tzinfo=UTC),
]
HORIZONS = [0, 60, 1800, 7200, 5 * 3600, 2 * 86_400]
LENGTHS = [60, 61, 3600, 86_400 - 1, 86_400, 86_401, 7 * 86_400, 31 * 86_400, 90 * 86_400]


def _times():
    minute = st.one_of(
        st.integers(0, 24 * 60 - 1), st.integers(0, 3 * 60), st.sampled_from([0, 30, 90, 150, 22 * 60, 23 * 60 + 30])
    )
    return st.builds(lambda m, s: time(m // 60, m % 60, s), minute, st.one_of(st.just(0), st.integers(0, 59)))


@st.composite
def shifts(draw):
    start = draw(_times())
    end = draw(st.one_of(_times(), st.just(start), st.just(time(0))))  # overnight, 24 h, to midnight
    return Shift(draw(st.integers(0, 6)), start, end)


@st.composite
def special_dates(draw, anchor: date):
    out = []
    for offset in sorted(draw(st.sets(st.integers(-3, 3), max_size=3))):
        day = anchor + timedelta(days=offset)
        if draw(st.booleans()):
            out.append(SpecialShift(day, None, None))  # closed all day
        else:
            for sh in draw(st.lists(shifts(), min_size=1, max_size=2)):
                out.append(SpecialShift(day, sh.start, sh.end))
    return tuple(out)


@st.composite
def stores(draw, anchor: datetime, max_stores: int = 3):
    return [
        StoreSchedule(
            store_id=f"s{i}",
            timezone_name=draw(st.sampled_from(ZONES)),
            shifts=tuple(draw(st.lists(shifts(), max_size=5))),
            special_shifts=draw(st.one_of(st.just(()), special_dates(anchor.date()))),
        )
        for i in range(draw(st.integers(1, max_stores)))
    ]


def _polls_near(draw, n_stores: int, lo_s: int, hi_s: int, marks: list[int], horizon_s: int):
    """Polls of every store: spread over [lo, hi], and close to the marks (window bounds,
    DST changes) within the horizon, exactly on them too."""
    polls = []
    for i in range(n_stores):
        near = st.builds(
            lambda m, d: m + d, st.sampled_from(marks), st.integers(-horizon_s - 60, horizon_s + 60) | st.just(0)
        )
        offsets = draw(st.sets(st.integers(lo_s, hi_s) | near, max_size=30))
        polls.extend((i, s * SEC, draw(st.booleans())) for s in sorted(offsets))
    return polls


def _engine_polls(polls) -> Polls:
    arr = np.array(polls, dtype=np.int64).reshape(-1, 3)
    return Polls(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].astype(bool))


def _close(got_seconds, got_business, expected) -> None:
    for k, state in enumerate(("up", "down", "unknown")):
        assert abs(got_seconds[k] - expected[state]) <= TOL, (state, got_seconds[k], expected[state])
    assert abs(got_business - expected["business"]) <= TOL


@st.composite
def range_case(draw):
    event = draw(st.sampled_from(EVENTS))
    scheds = draw(stores(event))
    length = draw(st.sampled_from(LENGTHS) | st.integers(60, 90 * 86_400))
    start_s = int(event.timestamp()) - draw(st.integers(0, length)) + draw(st.sampled_from([0, 0, 1, 37]))
    end_s = start_s + length
    horizon_s = draw(st.sampled_from(HORIZONS))
    marks = [start_s, end_s, int(event.timestamp())]
    polls = _polls_near(draw, len(scheds), start_s - 2 * horizon_s - 3600, end_s + 3600, marks, horizon_s)
    return scheds, polls, start_s, end_s, horizon_s


@settings(max_examples=120)
@given(range_case())
def test_range_matches_reference(case):
    scheds, polls, start_s, end_s, horizon_s = case
    start = datetime.fromtimestamp(start_s, UTC)
    end = datetime.fromtimestamp(end_s, UTC)
    got = range_uptime(
        schedules=scheds, polls=_engine_polls(polls), start=start, end=end, horizon=timedelta(seconds=horizon_s)
    )
    assert got.store_ids == [s.store_id for s in scheds]
    for i, sched in enumerate(scheds):
        own = [(t, a) for s, t, a in polls if s == i]
        expected = ref.range_figures(sched, own, start_s * SEC, end_s * SEC, horizon_s * SEC)
        _close(got.seconds[i], got.business_seconds[i], expected)


@st.composite
def daily_case(draw):
    event = draw(st.sampled_from(EVENTS))
    scheds = draw(stores(event, max_stores=2))
    first = event.date() - timedelta(days=draw(st.integers(0, 3)))
    days = draw(st.sampled_from([1, 2, 3, 5]) | st.integers(1, 40))
    last = first + timedelta(days=days - 1)
    horizon_s = draw(st.sampled_from(HORIZONS))
    lo_s = int(datetime.combine(first, time(0), UTC).timestamp()) - 86_400
    hi_s = int(datetime.combine(last, time(0), UTC).timestamp()) + 2 * 86_400
    # Local midnights are where a day's evidence ends: polls close to them matter most.
    marks = [
        ref.local_midnight_us(first + timedelta(days=k), z) // SEC
        for k in range(min(days + 1, 6))
        for z in {s.timezone_name for s in scheds}
    ]
    polls = _polls_near(draw, len(scheds), lo_s, hi_s, marks, horizon_s)
    return scheds, polls, first, last, horizon_s


@settings(max_examples=80)
@given(daily_case())
def test_daily_matches_reference(case):
    scheds, polls, first, last, horizon_s = case
    got = daily_uptime(
        schedules=scheds, polls=_engine_polls(polls), first=first, last=last, horizon=timedelta(seconds=horizon_s)
    )
    days = (last - first).days + 1
    assert got.dates == [first + timedelta(days=k) for k in range(days)]
    assert got.seconds.shape == (len(scheds), days, 3)
    for i, sched in enumerate(scheds):
        own = [(t, a) for s, t, a in polls if s == i]
        expected = ref.daily_figures(sched, own, first, last, horizon_s * SEC)
        for k, (day, figures) in enumerate(expected):
            assert day == got.dates[k]
            assert got.starts_us[i, k] == ref.local_midnight_us(day, sched.timezone_name)
            _close(got.seconds[i, k], got.business_seconds[i, k], figures)


def test_dst_days_are_23_and_25_hours_long():
    """New York: 2023-03-12 has 23 hours, 2023-11-05 has 25; Lord Howe's change is 30 minutes."""
    scheds = [
        StoreSchedule("ny", "America/New_York", ()),
        StoreSchedule("lh", "Australia/Lord_Howe", ()),
        StoreSchedule("kol", "Asia/Kolkata", ()),
    ]
    got = daily_uptime(schedules=scheds, polls=Polls.empty(), first=date(2023, 3, 11), last=date(2023, 3, 13))
    assert (got.business_seconds[0] / 3600).tolist() == [24, 23, 24]
    assert (got.business_seconds[2] / 3600).tolist() == [24, 24, 24]
    fall = daily_uptime(schedules=scheds, polls=Polls.empty(), first=date(2023, 11, 5), last=date(2023, 11, 5))
    assert fall.business_seconds[0, 0] == 25 * 3600
    assert (fall.seconds[0, 0] == [0, 0, 25 * 3600]).all()  # no polls: all unknown
    lord_howe = daily_uptime(schedules=scheds, polls=Polls.empty(), first=date(2023, 4, 2), last=date(2023, 4, 2))
    assert lord_howe.business_seconds[1, 0] == 24.5 * 3600


def test_a_day_ignores_polls_after_it_ends():
    """A poll just after midnight is not evidence for the day before (its as_of is its
    end), while a range over both days uses it for the last minutes of the first."""
    sched = [StoreSchedule("s", "UTC", ())]
    midnight = datetime(2023, 1, 26, tzinfo=UTC)
    polls = Polls(
        np.zeros(2, np.int64),
        np.array([(midnight - timedelta(minutes=60)).timestamp(), (midnight + timedelta(minutes=20)).timestamp()],
                 dtype=np.int64) * SEC,
        np.array([True, False]),
    )
    day = daily_uptime(schedules=sched, polls=polls, first=date(2023, 1, 25), last=date(2023, 1, 25))
    assert day.seconds[0, 0, 1] == 0  # no downtime: the 00:20 poll is the next day's
    assert day.seconds[0, 0, 0] == 3 * 3600  # 21:00 (H before the 23:00 poll) to midnight
    both = range_uptime(schedules=sched, polls=polls, start=midnight - timedelta(days=1), end=midnight + timedelta(days=1))
    assert both.seconds[0, 1] == 160 * 60  # down from 23:40 (half-way) to 02:20 (H after 00:20)


def test_windows_in_any_order_and_empty_ones():
    sched = [StoreSchedule("a", None, ()), StoreSchedule("b", "Asia/Kolkata", ())]
    t = int(datetime(2023, 1, 25, 12, tzinfo=UTC).timestamp()) * SEC
    polls = Polls(np.array([1, 0]), np.array([t, t]), np.array([True, False]))
    seconds, business = window_uptime(
        schedules=sched, polls=polls,
        window_store=np.array([1, 0, 1]),
        window_start_us=np.array([t - 3600 * SEC, t, t]),
        window_end_us=np.array([t + 3600 * SEC, t - 1, t]),
    )
    assert seconds.tolist() == [[7200.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert business.tolist() == [7200.0, 0.0, 0.0]


def test_local_midnights_follow_zoneinfo():
    scheds = [StoreSchedule(str(z), z, ()) for z in ZONES]
    got = local_midnights(schedules=scheds, first=date(2023, 3, 10), last=date(2023, 4, 3))
    for i, s in enumerate(scheds):
        for k in range(got.shape[1]):
            assert got[i, k] == ref.local_midnight_us(date(2023, 3, 10) + timedelta(days=k), s.timezone_name)


@st.composite
def split_week_case(draw):
    event = draw(st.sampled_from(EVENTS))
    scheds = draw(stores(event))
    end_s = int(event.timestamp()) + draw(st.integers(0, 3 * 86_400))
    start_s = end_s - 7 * 86_400
    horizon_s = draw(st.sampled_from(HORIZONS))
    cuts = sorted(draw(st.sets(st.integers(start_s + 1, end_s - 1), max_size=8)))
    marks = [start_s, end_s, *cuts]
    polls = _polls_near(draw, len(scheds), start_s - 2 * horizon_s - 3600, end_s + 3600, marks, horizon_s)
    return scheds, polls, start_s, end_s, cuts, horizon_s


@settings(max_examples=120)
@given(split_week_case())
def test_a_week_split_anywhere_adds_up_to_the_report_week(case):
    """Windows that tile the week, each with its evidence cut at min(week end, its end + H),
    add up to the report's week (docs/rules.md §5): seconds by sum, incidents joined
    across the cuts (`incidents_joined`)."""
    scheds, polls, start_s, end_s, cuts, horizon_s = case
    bounds = [start_s, *cuts, end_s]
    n, w = len(scheds), len(bounds) - 1
    store = np.repeat(np.arange(n), w)
    starts = np.tile(np.array(bounds[:-1], np.int64) * SEC, n)
    ends = np.tile(np.array(bounds[1:], np.int64) * SEC, n)
    as_of = np.minimum(ends + horizon_s * SEC, end_s * SEC)
    engine_polls = _engine_polls(polls)
    horizon = timedelta(seconds=horizon_s)
    parts = window_figures(
        schedules=scheds, polls=engine_polls, window_store=store, window_start_us=starts, window_end_us=ends,
        window_as_of_us=as_of, horizon=horizon,
    )
    week = compute_uptime(schedules=scheds, polls=engine_polls, as_of=datetime.fromtimestamp(end_s, UTC), horizon=horizon)
    joined = incidents_joined(parts, np.arange(n * w).reshape(n, w))
    for i in range(n):
        got = parts.seconds[i * w : (i + 1) * w].sum(axis=0)
        assert np.allclose(got, week.seconds[i, 2], atol=TOL), (got, week.seconds[i, 2])
        assert abs(parts.business[i * w : (i + 1) * w].sum() - week.business_seconds[i, 2]) <= TOL
        assert joined[i] == week.incident_counts[i, 2]

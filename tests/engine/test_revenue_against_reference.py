"""Lost revenue of the engine (monitoring.engine.revenue) against the independent reference
(tests/reference_revenue.py), to the cent, on random weekly and special hours (overnight
shifts, 24-hour shifts, closed days), zones with DST changes (New York, London, Lord
Howe's 30 minutes, Kolkata without DST), polls near every bound and change, horizons
and expected revenue (small and near the largest amount a row holds), over the last
week, a 90-day range and single local days, DST days included; and the engine's time
per hour against its own uptime figures, to the microsecond.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.engine import Polls, Shift, SpecialShift, StoreSchedule, window_figures
from monitoring.engine.revenue import HOURS_OF_WEEK, ExactCents, hour_cells, priced, window_hour_exposure
from tests import reference_revenue as ref

UTC = timezone.utc
SEC = 1_000_000
DAY_S = 86_400
ZONES = ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/London", None]
EVENTS = [
    datetime(2023, 3, 12, 7, tzinfo=UTC),  # New York spring forward
    datetime(2023, 11, 5, 6, tzinfo=UTC),  # New York fall back
    datetime(2023, 3, 26, 1, tzinfo=UTC),  # London
    datetime(2023, 10, 29, 1, tzinfo=UTC),
    datetime(2023, 4, 1, 15, tzinfo=UTC),  # Lord Howe (30 minutes back)
    datetime(2023, 9, 30, 15, 30, tzinfo=UTC),  # Lord Howe (30 minutes forward)
    datetime(2023, 1, 25, 12, tzinfo=UTC),
]
HORIZONS = [0, 60, 1800, 7200, 5 * 3600]


def _times():
    minute = st.one_of(st.integers(0, 24 * 60 - 1), st.sampled_from([0, 30, 90, 120, 150, 22 * 60, 23 * 60 + 30]))
    return st.builds(lambda m, s: time(m // 60, m % 60, s), minute, st.one_of(st.just(0), st.integers(0, 59)))


@st.composite
def shifts(draw):
    start = draw(_times())
    end = draw(st.one_of(_times(), st.just(start), st.just(time(0))))  # overnight, 24 h, to midnight
    return Shift(draw(st.integers(0, 6)), start, end)


@st.composite
def special_dates(draw, anchor: date):
    out = []
    for offset in sorted(draw(st.sets(st.integers(-2, 2), max_size=2))):
        day = anchor + timedelta(days=offset)
        if draw(st.booleans()):
            out.append(SpecialShift(day, None, None))
        else:
            out.extend(SpecialShift(day, sh.start, sh.end) for sh in draw(st.lists(shifts(), min_size=1, max_size=2)))
    return tuple(out)


AMOUNTS = st.one_of(
    st.integers(0, 500_00),
    st.integers(1, 99),
    st.just(999_999_999_999),  # 9,999,999,999.99: the largest a row holds
)


@st.composite
def rates(draw):
    hours = st.tuples(st.integers(0, 6), st.integers(0, 23))
    if draw(st.booleans()):
        cents = draw(st.dictionaries(hours, AMOUNTS, max_size=30))
    else:  # every hour: an hour's rate is what matters, not only the rows written
        base = draw(AMOUNTS)
        cents = {(d, h): base + 7 * h + d for d in range(7) for h in range(24)}
    return {hour: Decimal(amount) / 100 for hour, amount in cents.items()}


@st.composite
def case(draw):
    event = draw(st.sampled_from(EVENTS))
    n = draw(st.integers(1, 3))
    schedules = [
        StoreSchedule(
            store_id=f"s{i}",
            timezone_name=draw(st.sampled_from(ZONES)),
            shifts=tuple(draw(st.lists(shifts(), max_size=4))),
            special_shifts=draw(st.one_of(st.just(()), special_dates(event.date()))),
        )
        for i in range(n)
    ]
    horizon_s = draw(st.sampled_from(HORIZONS))
    end_s = int(event.timestamp()) + draw(st.integers(0, 3 * DAY_S)) + draw(st.sampled_from([0, 1, 37]))
    marks = [end_s, end_s - 7 * DAY_S, int(event.timestamp())]
    polls = []
    for i in range(n):
        near = st.builds(lambda m, d: m + d, st.sampled_from(marks), st.integers(-horizon_s - 3600, horizon_s + 3600))
        spread = st.integers(end_s - 90 * DAY_S - horizon_s, end_s + 3600)
        for s in sorted(draw(st.sets(spread | near, max_size=40))):
            polls.append((i, s * SEC, draw(st.booleans())))
    return schedules, polls, [draw(rates()) for _ in range(n)], end_s, horizon_s


def _engine(schedules, polls, store_rates, windows, horizon_s):
    """Lost revenue and revenue at risk of each window (store, start, end, as_of, µs) by
    the engine, as Decimals."""
    arr = np.array(polls, dtype=np.int64).reshape(-1, 3)
    engine_polls = Polls(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].astype(bool))
    cents = np.zeros((len(schedules), HOURS_OF_WEEK), np.int64)
    for i, own in enumerate(store_rates):
        for (day, hour), amount in own.items():
            cents[i, day * 24 + hour] = int(amount * 100)
    store, start, end, as_of = (np.array(column, dtype=np.int64) for column in zip(*windows))
    exposure = window_hour_exposure(
        schedules=schedules, polls=engine_polls, window_store=store, window_start_us=start, window_end_us=end,
        window_as_of_us=as_of, horizon=timedelta(seconds=horizon_s),
    )
    lost, at_risk = priced(exposure, rates_cents=cents, window_store=store, windows=len(windows))
    as_decimal = lambda amounts: [Decimal(int(c)) / 100 for c in amounts.rounded()]  # noqa: E731
    figures = window_figures(
        schedules=schedules, polls=engine_polls, window_store=store, window_start_us=start, window_end_us=end,
        window_as_of_us=as_of, horizon=timedelta(seconds=horizon_s),
    )
    # The time per hour adds up to the window's own downtime and unknown time.
    down = np.bincount(exposure.window, exposure.down_us, minlength=len(windows))
    unknown = np.bincount(exposure.window, exposure.unknown_us, minlength=len(windows))
    np.testing.assert_allclose(down / SEC, figures.seconds[:, 1], atol=1e-6)
    np.testing.assert_allclose(unknown / SEC, figures.seconds[:, 2], atol=1e-6)
    return list(zip(as_decimal(lost), as_decimal(at_risk))), exposure


def _check(schedules, polls, store_rates, windows, horizon_s):
    got, exposure = _engine(schedules, polls, store_rates, windows, horizon_s)
    for w, (store, start, end, as_of) in enumerate(windows):
        own = [(t, a) for s, t, a in polls if s == store]
        down, unknown = ref.exposure(schedules[store], own, start, end, as_of, horizon_s * SEC)
        mine = exposure.window == w
        hours = exposure.hour_of_week[mine]
        assert {(int(h) // 24, int(h) % 24): int(us) for h, us in zip(hours, exposure.down_us[mine]) if us} == down
        assert {(int(h) // 24, int(h) % 24): int(us) for h, us in zip(hours, exposure.unknown_us[mine]) if us} == unknown
        rates_of = store_rates[store]
        assert got[w] == (ref.priced(down, rates_of), ref.priced(unknown, rates_of)), (w, start, end)


@settings(max_examples=40, deadline=None)
@given(case())
def test_last_week_and_90_days_match_the_reference(case):
    schedules, polls, store_rates, end_s, horizon_s = case
    end = end_s * SEC
    windows = []
    for i in range(len(schedules)):
        windows.append((i, end - 7 * DAY_S * SEC, end, end))  # the last week
        windows.append((i, end - 90 * DAY_S * SEC, end, end))  # 90 days
        windows.append((i, end - 7 * DAY_S * SEC, end - DAY_S * SEC, end))  # evidence past its end
    _check(schedules, polls, store_rates, windows, horizon_s)


@settings(max_examples=40, deadline=None)
@given(case())
def test_single_local_days_match_the_reference(case):
    schedules, polls, store_rates, end_s, horizon_s = case
    windows = []
    for i, schedule in enumerate(schedules):
        last = datetime.fromtimestamp(end_s, UTC).date()
        for k in range(4):  # the event's day and the days around it (23- and 25-hour days)
            day = last - timedelta(days=k)
            start = ref.local_midnight_us(day, schedule.timezone_name)
            stop = ref.local_midnight_us(day + timedelta(days=1), schedule.timezone_name)
            windows.append((i, start, stop, stop))
    _check(schedules, polls, store_rates, windows, horizon_s)


def test_fall_back_hour_one_counts_twice_and_spring_forward_hour_two_never():
    """New York, 24x7, no polls: on 2023-11-05 the hour 01 is two real hours, both at
    01's rate; on 2023-03-12 the hour 02 does not occur."""
    schedule = StoreSchedule("ny", "America/New_York", ())
    rates = {(6, 1): Decimal("10.00"), (6, 2): Decimal("1000.00")}  # Sundays
    cents = np.zeros((1, HOURS_OF_WEEK), np.int64)
    cents[0, 6 * 24 + 1], cents[0, 6 * 24 + 2] = 1000, 100000
    for day, expected in ((date(2023, 11, 5), Decimal("1020.00")), (date(2023, 3, 12), Decimal("10.00"))):
        start = ref.local_midnight_us(day, "America/New_York")
        end = ref.local_midnight_us(day + timedelta(days=1), "America/New_York")
        exposure = window_hour_exposure(
            schedules=[schedule], polls=Polls.empty(), window_store=np.array([0]), window_start_us=np.array([start]),
            window_end_us=np.array([end]), window_as_of_us=np.array([end]),
        )
        lost, at_risk = priced(exposure, rates_cents=cents, window_store=np.array([0]), windows=1)
        assert lost.rounded().tolist() == [0]
        assert Decimal(int(at_risk.rounded()[0])) / 100 == expected == ref.lost_revenue(
            schedule, [], rates, start, end, end, 7200 * SEC
        )[1]
        unknown = dict(zip(exposure.hour_of_week.tolist(), exposure.unknown_us.tolist()))
        assert unknown[6 * 24 + 1] == (2 if day.month == 11 else 1) * 3600 * SEC
        assert 6 * 24 + 2 in unknown if day.month == 11 else 6 * 24 + 2 not in unknown


def test_lord_howe_hours_around_its_30_minute_change():
    """Lord Howe goes from +11:00 to +10:30 at 02:00 local on 2023-04-02 (01:30 again):
    its hour 01 lasts 90 minutes."""
    bounds, hours = hour_cells("Australia/Lord_Howe", 19448, 19450)
    start = ref.local_midnight_us(date(2023, 4, 2), "Australia/Lord_Howe")
    lengths: dict[int, int] = {}
    for lo, hi, how in zip(bounds[:-1].tolist(), bounds[1:].tolist(), hours[:-1].tolist()):
        if start <= lo < start + 25 * 3600 * SEC:
            lengths[how] = lengths.get(how, 0) + hi - lo
    sunday = 6 * 24
    assert lengths[sunday + 1] == 90 * 60 * SEC
    assert lengths[sunday + 0] == lengths[sunday + 2] == 60 * 60 * SEC


def test_rounding_is_half_to_even_once():
    """Σ µs × cents / one hour's µs: half a cent goes to the even cent; a total adds the
    exact amounts before rounding (three half cents are 1.5 cents: 2, where rounding
    each first would say 0)."""
    amounts = ExactCents(np.array([2, 3, 2], np.int64), np.array([1_800_000_000, 1_800_000_000, 1_800_000_001], np.int64))
    assert amounts.rounded().tolist() == [2, 4, 3]
    halves = ExactCents(np.zeros(3, np.int64), np.full(3, 1_800_000_000, np.int64))
    assert halves.rounded().tolist() == [0, 0, 0]
    total = halves.total()
    assert (total.whole.tolist(), total.part.tolist()) == ([1], [1_800_000_000])
    assert total.rounded().tolist() == [2]

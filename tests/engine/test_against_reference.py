"""Property tests: the vectorised engine against the brute-force reference (tests/reference_engine.py).

Poll timestamps are drawn at whole seconds, so every change point (half-way between two
polls) is a whole number of microseconds and engine and reference agree exactly; the
tolerances below only absorb float rounding.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from monitoring import engine
from monitoring.engine import Polls, Shift, SpecialShift, StoreSchedule

from tests import reference_engine as ref

UTC = timezone.utc
SEC = 1_000_000
ZONES = [
    "America/New_York",
    "America/Chicago",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Europe/London",
    "UTC",
    None,
]
# UTC instants of DST changes (and one quiet date) around which as_of is drawn.
EVENTS = [
    datetime(2023, 3, 12, 7, tzinfo=UTC),  # New York spring forward
    datetime(2023, 11, 5, 6, tzinfo=UTC),  # New York fall back
    datetime(2023, 3, 12, 8, tzinfo=UTC),  # Chicago spring forward
    datetime(2023, 11, 5, 7, tzinfo=UTC),  # Chicago fall back
    datetime(2023, 3, 26, 1, tzinfo=UTC),  # London
    datetime(2023, 10, 29, 1, tzinfo=UTC),
    datetime(2023, 4, 1, 15, tzinfo=UTC),  # Lord Howe (30-minute change)
    datetime(2023, 9, 30, 15, 30, tzinfo=UTC),
    datetime(2023, 1, 25, 12, tzinfo=UTC),
]
TOL = 1e-6  # seconds


def _times():
    # Biased towards the DST-critical hours 00:00–03:00, half hours, and midnight.
    minute_of_day = st.one_of(
        st.integers(0, 24 * 60 - 1),
        st.integers(0, 3 * 60),
        st.sampled_from([0, 30, 60, 90, 120, 150, 180, 22 * 60, 18 * 60, 5 * 60]),
    )
    return st.builds(
        lambda m, s: time(m // 60, m % 60, s),
        minute_of_day,
        st.one_of(st.just(0), st.integers(0, 59)),
    )


@st.composite
def shifts(draw):
    dow = draw(st.integers(0, 6))
    start = draw(_times())
    end = draw(st.one_of(_times(), st.just(start), st.just(time(0))))
    return Shift(dow, start, end)


@st.composite
def special_dates(draw, anchor: date):
    """Special hours (docs/rules.md §9) on dates near `anchor` (a DST change's date, mostly): closed
    days, short days, overnight and 24-hour specials, split specials, and now and then a
    closed-all-day row next to a shift (the shift decides)."""
    out = []
    offsets = draw(st.sets(st.one_of(st.sampled_from([-1, 0, 1]), st.integers(-9, 9)), max_size=4))
    for offset in sorted(offsets):
        day = anchor + timedelta(days=offset)
        kind = draw(st.sampled_from(["closed", "shifts", "shifts", "closed+shift"]))
        if kind == "closed":
            out.append(SpecialShift(day, None, None))
            continue
        for sh in draw(st.lists(shifts(), min_size=1, max_size=2)):
            out.append(SpecialShift(day, sh.start, sh.end))
        if kind == "closed+shift":
            out.append(SpecialShift(day, None, None))
    return tuple(out)


@st.composite
def schedules(draw, max_stores=3, anchor=None):
    n = draw(st.integers(1, max_stores))
    if anchor is None:
        anchor = draw(st.sampled_from(EVENTS))
    return [
        StoreSchedule(
            store_id=f"s{i}",
            timezone_name=draw(st.sampled_from(ZONES)),
            shifts=tuple(draw(st.lists(shifts(), max_size=6))),
            special_shifts=draw(st.one_of(st.just(()), special_dates(anchor.date()))),
        )
        for i in range(n)
    ]


@st.composite
def scenario(draw, max_stores=3, active=st.booleans()):
    event = draw(st.sampled_from(EVENTS))
    scheds = draw(schedules(max_stores, anchor=event))
    as_of = event + timedelta(seconds=draw(st.integers(-86_400, 8 * 86_400)))
    horizon = timedelta(seconds=draw(st.sampled_from([0, 60, 1800, 3600, 7200, 5 * 3600, 2 * 86_400])))
    a = ref.us(as_of)
    span = 7 * 86_400 + 3 * int(horizon.total_seconds()) + 3600
    polls = []
    for i in range(len(scheds)):
        offsets = draw(
            st.sets(st.one_of(st.integers(-span, 3600), st.just(0), st.integers(-7 * 86_400 - 60, -7 * 86_400 + 60)),
                    max_size=25)
        )
        for off in sorted(offsets):
            polls.append((i, a + off * SEC, draw(active)))
    return scheds, polls, as_of, horizon


def _polls(polls, shuffle_seed=None):
    arr = np.array(polls, dtype=np.int64).reshape(-1, 3)
    if shuffle_seed is not None:
        np.random.default_rng(shuffle_seed).shuffle(arr)
    return Polls(arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].astype(bool))


@st.composite
def _schedules_and_event(draw):
    event = draw(st.sampled_from(EVENTS))
    return draw(schedules(anchor=event)), event


@given(_schedules_and_event(), st.integers(-3 * 86_400, 3 * 86_400), st.integers(1, 10 * 86_400))
def test_business_intervals_match_reference(case, offset, length):
    scheds, event = case
    start = event + timedelta(seconds=offset)
    end = start + timedelta(seconds=length)
    store, s, e = engine.business_intervals(schedules=scheds, start=start, end=end)
    got = list(zip(store.tolist(), s.tolist(), e.tolist()))
    expected = [
        (i, a, b) for i, sc in enumerate(scheds) for a, b in ref.business_intervals(sc, ref.us(start), ref.us(end))
    ]
    assert got == expected


@given(scenario(), st.one_of(st.none(), st.integers(0, 1000)))
def test_uptime_matches_reference(case, shuffle_seed):
    scheds, polls, as_of, horizon = case
    result = engine.compute_uptime(schedules=scheds, polls=_polls(polls, shuffle_seed), as_of=as_of, horizon=horizon)
    expected = ref.uptime(scheds, polls, ref.us(as_of), horizon // timedelta(microseconds=1))
    assert result.store_ids == [s.store_id for s in scheds]
    for i in range(len(scheds)):
        for w in range(3):
            for k, state in enumerate(engine.STATES):
                assert abs(result.seconds[i, w, k] - expected[i][(w, state)]) <= TOL, (i, w, state)
            assert abs(result.business_seconds[i, w] - expected[i][(w, "business")]) <= TOL
            assert abs(result.seconds[i, w].sum() - result.business_seconds[i, w]) <= TOL


@given(scenario(max_stores=1), st.integers(0, 3 * 86_400), st.integers(0, 9 * 86_400))
def test_timeline_and_incidents_match_reference(case, back, length):
    scheds, polls, as_of, horizon = case
    sched = scheds[0]
    end = as_of - timedelta(seconds=back)
    start = end - timedelta(seconds=length)
    ts = np.array([t for _, t, _ in polls], dtype=np.int64)
    act = np.array([a for _, _, a in polls], dtype=bool)
    segments = engine.store_timeline(
        schedule=sched, timestamps_us=ts, is_active=act, start=start, end=end, horizon=horizon
    )
    own = [(t, a) for _, t, a in polls]
    expected = ref.timeline(sched, own, ref.us(start), ref.us(end), horizon // timedelta(microseconds=1))
    got = [(ref.us(s.start), ref.us(s.end), s.state) for s in segments]
    assert got == [(int(p), int(q), state) for p, q, state in expected]
    if length:
        assert segments[0].start == start and segments[-1].end == end
        assert all(a.end == b.start and a.state != b.state for a, b in zip(segments, segments[1:]))

    incidents = engine.store_incidents(
        schedule=sched, timestamps_us=ts, is_active=act, start=start, end=end, horizon=horizon
    )
    expected_inc = ref.incidents(sched, own, ref.us(start), ref.us(end), horizon // timedelta(microseconds=1))
    assert [(ref.us(i.start), ref.us(i.end)) for i in incidents] == [(int(a), int(b)) for a, b, _ in expected_inc]
    for i, (_, _, lost) in zip(incidents, expected_inc):
        assert abs(i.business_seconds_lost - lost) <= TOL


# Mostly-DOWN polls make long runs that cross closed time, unknown gaps and window starts.
_MOSTLY_DOWN = st.integers(0, 9).map(lambda k: k < 2)


@given(st.one_of(scenario(), scenario(active=_MOSTLY_DOWN)), st.one_of(st.none(), st.integers(0, 1000)))
def test_incident_counts_match_store_incidents_and_reference(case, shuffle_seed):
    scheds, polls, as_of, horizon = case
    result = engine.compute_uptime(schedules=scheds, polls=_polls(polls, shuffle_seed), as_of=as_of, horizon=horizon)
    counts = result.incident_counts
    assert counts.dtype == np.int64 and counts.shape == (len(scheds), 3)
    h_us = horizon // timedelta(microseconds=1)
    for i, sched in enumerate(scheds):
        own = [(t, a) for s, t, a in polls if s == i]
        ts = np.array([t for t, _ in own], dtype=np.int64)
        act = np.array([a for _, a in own], dtype=bool)
        for w, (_, length) in enumerate(engine.WINDOWS):
            start = as_of - length
            got = engine.store_incidents(
                schedule=sched, timestamps_us=ts, is_active=act, start=start, end=as_of, horizon=horizon
            )
            assert counts[i, w] == len(got), (i, w)
            assert counts[i, w] == len(ref.incidents(sched, own, ref.us(start), ref.us(as_of), h_us)), (i, w)
    for row, k in zip(result.spec_rows(), counts.tolist()):
        assert [row["incidents_last_hour"], row["incidents_last_day"], row["incidents_last_week"]] == k


@given(scenario(max_stores=2))
def test_timeline_over_the_week_equals_week_figures(case):
    scheds, polls, as_of, horizon = case
    result = engine.compute_uptime(schedules=scheds, polls=_polls(polls), as_of=as_of, horizon=horizon)
    for i, sched in enumerate(scheds):
        ts = np.array([t for s, t, _ in polls if s == i], dtype=np.int64)
        act = np.array([a for s, _, a in polls if s == i], dtype=bool)
        segments = engine.store_timeline(
            schedule=sched, timestamps_us=ts, is_active=act,
            start=as_of - timedelta(days=7), end=as_of, horizon=horizon,
        )
        totals = {"UP": 0.0, "DOWN": 0.0, "UNKNOWN": 0.0, "CLOSED": 0.0}
        for seg in segments:
            totals[seg.state] += (seg.end - seg.start).total_seconds()
        assert abs(sum(totals.values()) - 7 * 86_400) <= TOL
        for k, state in enumerate(("UP", "DOWN", "UNKNOWN")):
            assert abs(totals[state] - result.seconds[i, 2, k]) <= TOL


def _real_schedules(folder):
    import csv

    zones, shifts_by = {}, {}
    with open(folder / "timezones.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            zones[row["store_id"].strip()] = row["timezone_str"].strip() or None
    with open(folder / "menu_hours.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            shifts_by.setdefault(row["store_id"].strip(), []).append(
                Shift(int(row["day"]), time.fromisoformat(row["start_time_local"].strip()),
                      time.fromisoformat(row["end_time_local"].strip()))
            )
    polls_by = {}
    with open(folder / "store_status_sample.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            ts = datetime.fromisoformat(row["timestamp_utc"].strip().removesuffix(" UTC")).replace(tzinfo=UTC)
            polls_by.setdefault(row["store_id"].strip(), {})[ref.us(ts)] = row["status"].strip().lower() == "active"
    return zones, shifts_by, polls_by


def test_real_public_schedules_match_reference(shared_data):
    """Real business hours and zones (and the public poll sample) for a sample of stores: engine == reference."""
    zones, shifts_by, polls_by = _real_schedules(shared_data)
    ids = sorted(polls_by)
    ids = ids[:: max(1, len(ids) // 60)]  # ~60 stores with polls, deterministic
    scheds = [StoreSchedule(i, zones.get(i), tuple(shifts_by.get(i, ()))) for i in ids]
    polls = [(k, t, a) for k, i in enumerate(ids) for t, a in sorted(polls_by[i].items())]
    as_of = datetime(2023, 1, 25, 18, 13, 22, tzinfo=UTC)
    result = engine.compute_uptime(schedules=scheds, polls=_polls(polls), as_of=as_of)
    expected = ref.uptime(scheds, polls, ref.us(as_of), 7200 * SEC)
    for k in range(len(scheds)):
        for w in range(3):
            for s, state in enumerate(engine.STATES):
                assert abs(result.seconds[k, w, s] - expected[k][(w, state)]) <= 1e-3, (ids[k], w, state)


@given(st.one_of(scenario(max_stores=4), scenario(max_stores=4, active=_MOSTLY_DOWN)), st.integers(1, 8 * 86_400))
def test_stores_now_is_where_each_timeline_ends(case, length):
    """engine.stores_now, every store in one pass: the state the reference timeline over
    [end - length, end) ends in and since when, and the incident in progress (the last
    outage with only closed time after it), as store_now finds them store by store."""
    scheds, polls, end, horizon = case
    start = end - timedelta(seconds=length)
    arr = _polls(polls)
    found = engine.stores_now(
        schedules=scheds, store_index=arr.store_index, timestamps_us=arr.timestamp_us, is_active=arr.is_active,
        start=start, end=end, horizon=horizon,
    )
    h_us = horizon // timedelta(microseconds=1)
    for i, (sched, now) in enumerate(zip(scheds, found)):
        own = [(t, a) for s, t, a in polls if s == i]
        pieces = ref.timeline(sched, own, ref.us(start), ref.us(end), h_us)
        assert (ref.us(now.since), now.state) == (int(pieces[-1][0]), pieces[-1][2])
        business = [piece for piece in pieces if piece[2] != "CLOSED"]
        if business and business[-1][2] == "DOWN":
            a, b, lost = ref.incidents(sched, own, ref.us(start), ref.us(end), h_us)[-1]
            assert (ref.us(now.open_incident.start), ref.us(now.open_incident.end)) == (int(a), int(b))
            assert abs(now.open_incident.business_seconds_lost - lost) <= TOL
        else:
            assert now.open_incident is None
        one = engine.store_now(
            schedule=sched, timestamps_us=np.array([t for t, _ in own], np.int64),
            is_active=np.array([a for _, a in own], bool), start=start, end=end, horizon=horizon,
        )
        assert one == now

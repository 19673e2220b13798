"""One store's timeline and incidents: the range covered, agreement with the week's
figures, incidents across lunch breaks and nights, blips and splits."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from monitoring.engine import (
    Incident,
    Segment,
)
from monitoring.engine import uptime as engine_uptime

from tests.engine_inputs import (
    MON,
    SAT,
    TUE,
    WED,
    WEEK,
    D,
    H,
    incidents,
    shift,
    store,
    timeline,
    uptime,
    utc,
)


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


def testincident_ends_matches_a_plain_walk_over_the_pieces():
    """incident_ends on synthetic pieces (many without business time, in runs) against a plain loop."""
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
        got_loc, got_c = engine_uptime.incident_ends(loc, down, a, b, b - a)
        assert list(zip(got_loc.tolist(), got_c.tolist())) == [(int(x), int(y)) for x, y in ends]

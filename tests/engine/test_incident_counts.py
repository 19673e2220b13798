"""Incident counts per window, as the report gives them: one outage across a break or a
night is one, an up poll or an unknown gap splits, nothing continues from one store to
the next."""

from __future__ import annotations

from datetime import timedelta

from monitoring.engine import (
    Segment,
)

from tests.engine_inputs import (
    MON,
    TUE,
    WEEK,
    H,
    incident_counts,
    shift,
    store,
    timeline,
    uptime,
    utc,
)


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

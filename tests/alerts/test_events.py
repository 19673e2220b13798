"""The alerts' state machine (monitoring.alerts.events, docs/rules.md §10), pure: evidence polls,
runs, live and historical polls."""

from monitoring.alerts.events import STORE_DOWN, STORE_UP, AlertState, advance

H = 3600 * 1_000_000  # an hour in µs


def run(polls, *, live_since=0, state=None):
    """polls: (hour, evidence, active) → the transitions as (event, hour, started hour, run length)."""
    outcome = advance(
        state or AlertState(),
        timestamps=[hour * H for hour, _, _ in polls],
        evidence=[evidence for _, evidence, _ in polls],
        active=[active for _, _, active in polls],
        live_since=live_since,
    )
    return outcome, [(t.event, t.poll_at // H, t.incident_started_at // H, t.run_length) for t in outcome.transitions]


def test_first_evidence_poll_inactive_is_down_and_active_after_it_is_up():
    _, events = run([(1, True, False), (2, True, False), (3, True, True), (4, True, True)])
    assert events == [(STORE_DOWN, 1, 1, 1), (STORE_DOWN, 2, 1, 2), (STORE_UP, 3, 1, 2)]


def test_polls_outside_business_hours_change_nothing():
    outcome, events = run([(1, True, True), (2, False, False), (3, True, True)])
    assert events == [] and outcome.state.run_length == 0 and outcome.state.last_evidence_at == 3 * H


def test_historical_polls_change_the_state_silently():
    outcome, events = run([(1, True, False), (2, True, False), (3, True, False)], live_since=3 * H)
    # Only the third poll is live: it is the run's third, so only a webhook confirming after 3 hears.
    assert events == [(STORE_DOWN, 3, 1, 3)] and outcome.state.run_started_at == 1 * H


def test_an_older_poll_arriving_late_is_not_the_newest_evidence():
    first, _ = run([(5, True, True)])
    outcome, events = run([(4, True, False)], state=first.state)
    assert events == [] and outcome.state == first.state

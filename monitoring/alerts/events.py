"""The alert events and the state machine over one store's polls (docs/rules.md §10). Pure: no
Django, instants as int64 microseconds since the epoch, like the engine.

A store's state is its newest evidence poll and the run of inactive evidence polls that
ends it. Polls are taken in time order, only those newer than the newest already seen
(an older poll arriving late does not change what the newest evidence says):

- an inactive evidence poll extends the run (or starts one: after an active one, or as
  the store's first evidence poll); when the run reaches `n` polls and that poll is live,
  STORE_DOWN is due for the webhooks that confirm after `n` polls;
- an active evidence poll ends the run; if it is live, STORE_UP is due for the webhooks
  that were told STORE_DOWN of that run;
- a poll outside business hours is not evidence and changes nothing but `last_poll_at`.

A poll is live when it is at most H older than the wall clock at its arrival; a
historical poll changes the state silently."""

from __future__ import annotations

from dataclasses import dataclass, field

STORE_DOWN = "STORE_DOWN"
STORE_UP = "STORE_UP"
STORE_SILENT = "STORE_SILENT"
ALERT_EVENTS = (STORE_DOWN, STORE_UP, STORE_SILENT)
DEFAULT_CONFIRM_POLLS = 1
MAX_CONFIRM_POLLS = 100


@dataclass
class AlertState:
    last_poll_at: int | None = None
    last_evidence_at: int | None = None
    run_started_at: int | None = None
    run_length: int = 0
    last_live_at: int | None = None


@dataclass(frozen=True)
class Transition:
    """An event due: STORE_DOWN for webhooks confirming after `run_length` polls;
    STORE_UP for those told STORE_DOWN of the incident started at `incident_started_at`."""

    event: str
    poll_at: int
    incident_started_at: int
    run_length: int


@dataclass
class Outcome:
    state: AlertState
    transitions: list[Transition] = field(default_factory=list)


def advance(
    state: AlertState, *, timestamps, evidence, active, live_since: int
) -> Outcome:
    """`state` after the polls given in time order (parallel sequences of µs instants,
    evidence flags and statuses); a poll at or after `live_since` is live."""
    state = AlertState(**vars(state))
    transitions: list[Transition] = []
    for t, is_evidence, is_active in zip(timestamps, evidence, active):
        t = int(t)
        if state.last_poll_at is not None and t <= state.last_poll_at:
            continue  # not newer than what the state already says
        state.last_poll_at = t
        live = t >= live_since
        if live:
            state.last_live_at = t
        if not is_evidence:
            continue
        state.last_evidence_at = t
        if is_active:
            if state.run_length and live:
                transitions.append(Transition(STORE_UP, t, state.run_started_at, state.run_length))
            state.run_started_at, state.run_length = None, 0
        else:
            if not state.run_length:
                state.run_started_at = t
            state.run_length += 1
            if live:
                transitions.append(Transition(STORE_DOWN, t, state.run_started_at, state.run_length))
    return Outcome(state, transitions)

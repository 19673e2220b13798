"""Escalation of open incidents (docs/rules.md §13): which step is due for one incident.
Pure: no Django, instants as int64 microseconds since the epoch, like events.py; the
business hours are the engine's (monitoring.engine.business_intervals), so DST, shifts
past midnight and special hours count as they do everywhere else.

Steps, in order, each at most once: sequence 0, STORE_DOWN_ESCALATED, when the incident
has been open `escalate_after` of business time since it started; then sequence k
(1 ≤ k ≤ max_reminders), STORE_STILL_DOWN, when `remind_every` of business time has
passed since the previous step was sent. Nothing is due for an incident acknowledged
or resolved, while the store is closed, nor in the last `quiet_before_close` before it
closes. One step at a time: a step held back (closed, quiet) is sent once allowed, and
the next one counts from then, so reopening never sends a burst."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from monitoring.engine import business_intervals, from_us
from monitoring.engine.types import StoreSchedule

STORE_DOWN_ESCALATED = "STORE_DOWN_ESCALATED"
STORE_STILL_DOWN = "STORE_STILL_DOWN"
ESCALATION_EVENTS = (STORE_DOWN_ESCALATED, STORE_STILL_DOWN)

#: Bounds of a policy (the reminders a page lists whole; a day of business minutes).
MAX_REMINDERS = 20
MAX_MINUTES = 24 * 60


@dataclass(frozen=True)
class Policy:
    """An escalation policy, its durations in microseconds (of business time)."""

    escalate_after: int
    remind_every: int
    max_reminders: int
    quiet_before_close: int


@dataclass(frozen=True)
class IncidentProgress:
    """What escalation needs of an incident: its start, whether it still calls for
    escalation (open and not acknowledged), and the steps already sent."""

    started_at: int
    escalating: bool
    steps_sent: int = 0
    last_sent_at: int | None = None


@dataclass(frozen=True)
class Step:
    sequence: int
    event: str


def step_due(incident: IncidentProgress, *, schedule: StoreSchedule, policy: Policy, now: int) -> Step | None:
    """The step to send for `incident` at `now`, or None."""
    if not incident.escalating or now < incident.started_at:
        return None
    # Past `now` by the quiet window and a microsecond: an interval still open at its end
    # is not closing within the window.
    _, starts, ends = business_intervals(
        schedules=[schedule], start=from_us(incident.started_at), end=from_us(now + policy.quiet_before_close + 1)
    )
    return step_due_within(incident, starts=starts, ends=ends, policy=policy, now=now)


def step_due_within(incident: IncidentProgress, *, starts: np.ndarray, ends: np.ndarray, policy: Policy, now: int) -> Step | None:
    """step_due over the store's business intervals (merged, sorted; engine.business_intervals)
    already found, covering at least [incident start, now + quiet_before_close]: a check
    of many incidents finds every store's at once."""
    if not incident.escalating or incident.steps_sent > policy.max_reminders or now < incident.started_at:
        return None
    open_until = _open_until(starts, ends, now)
    if open_until is None or open_until - now <= policy.quiet_before_close:
        return None  # closed, or in the quiet window before closing
    if incident.steps_sent == 0:
        if business_time(starts, ends, since=incident.started_at, until=now) >= policy.escalate_after:
            return Step(0, STORE_DOWN_ESCALATED)
        return None
    since = incident.last_sent_at if incident.last_sent_at is not None else incident.started_at
    if business_time(starts, ends, since=since, until=now) >= policy.remind_every:
        return Step(incident.steps_sent, STORE_STILL_DOWN)
    return None


def business_time(starts: np.ndarray, ends: np.ndarray, *, since: int, until: int) -> int:
    """Microseconds of [since, until) inside the intervals [starts, ends)."""
    overlap = np.minimum(ends, until) - np.maximum(starts, since)
    return int(np.maximum(overlap, 0).sum())


def _open_until(starts: np.ndarray, ends: np.ndarray, now: int) -> int | None:
    """The end of the business interval holding `now` (intervals are merged: a shift
    going on past midnight is one interval), None when closed at `now`."""
    inside = (starts <= now) & (now < ends)
    return int(ends[inside][0]) if inside.any() else None


def policy_of(
    *, escalate_after_minutes: int, remind_every_minutes: int, max_reminders: int, quiet_before_close_minutes: int,
    minute: timedelta = timedelta(minutes=1),
) -> Policy:
    """A policy as the decision reads it; `minute` is how long a policy minute lasts (a
    real minute, shorter only where tests and demos make time pass faster)."""
    unit = minute // timedelta(microseconds=1)
    return Policy(
        escalate_after=escalate_after_minutes * unit,
        remind_every=remind_every_minutes * unit,
        max_reminders=max_reminders,
        quiet_before_close=quiet_before_close_minutes * unit,
    )

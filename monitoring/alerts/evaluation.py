"""Alerts evaluated when polls arrive (GraphQL `recordPolls`, `load_data`): the stores'
alert state advanced over their new polls, the deliveries due recorded once and queued,
and the events told to live subscribers (monitoring.live) once the transaction commits.

Every store with live polls is looked at, webhook or not: a live subscriber may listen
to any store at any time (the cost is what a staff webhook's was; docs/performance.md,
Alerts). Historical polls change the state silently and publish nothing. A store seen
for the first time (or whose state is older than LOOKBACK) starts from its polls of the
last LOOKBACK: an incident older than that counts from there."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from monitoring.alerts.escalation_check import incidents_escalate
from monitoring.alerts.incidents import incidents_record
from monitoring.alerts.events import DEFAULT_CONFIRM_POLLS, STORE_DOWN, STORE_UP, AlertState, Transition, advance
from monitoring.engine import business_intervals, from_us, inside_intervals, to_us
from monitoring.kernel.values import poll_time_limit
from monitoring.live.events import StoreEvent, live_events_publish
from monitoring.stores.selectors import polls_between, store_schedules, stores_in_scope

logger = logging.getLogger(__name__)

LOOKBACK = timedelta(days=8)
_STATE_COLUMNS = ("last_poll_at", "last_evidence_at", "run_started_at", "run_length", "last_live_at")


def live_window() -> timedelta:
    """H (docs/rules.md §4, §10): a poll older than this when it arrives is historical."""
    return timedelta(minutes=settings.REPORT_HORIZON_MINUTES)


def alerts_evaluate(*, store_pks: Iterable[int], now: datetime | None = None) -> list[int]:
    """Advances the alert state of these stores over their polls not yet seen and records
    the deliveries due (each at most once); they are queued, and the events published
    live, when the transaction commits. Returns the new deliveries' ids."""
    now = now or timezone.now()
    pks = sorted({int(pk) for pk in store_pks})
    if not pks:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        covered = _existing_stores(cursor, pks)
        if not covered:
            return []
        states = _locked_states(cursor, covered)
        # From the oldest poll not yet seen (no further back than LOOKBACK).
        seen = [state.last_poll_at for state in states.values()]
        start = max(now - LOOKBACK, from_us(min(seen))) if None not in seen else now - LOOKBACK
        end = poll_time_limit(now)
        stores = stores_in_scope(store_ids=None, store_pks=covered)
        polls = polls_between(stores=stores, start=start, end=end)
        schedules = store_schedules(stores=stores, start=start, end=end)
        hours = business_intervals(schedules=schedules, start=start, end=end + timedelta(microseconds=1))
        evidence = inside_intervals(hours, polls.store_index, polls.timestamp_us)
        bounds = np.searchsorted(polls.store_index, np.arange(len(stores) + 1))
        live_since = to_us(now - live_window())
        transitions: list[tuple[int, Transition]] = []
        changed: dict[int, AlertState] = {}
        for position, (pk, _, _) in enumerate(stores):
            lo, hi = bounds[position], bounds[position + 1]
            if lo == hi:
                continue
            outcome = advance(
                states[pk],
                timestamps=polls.timestamp_us[lo:hi],
                evidence=evidence[lo:hi],
                active=polls.is_active[lo:hi],
                live_since=live_since,
            )
            if outcome.state != states[pk]:
                changed[pk] = outcome.state
            transitions.extend((pk, transition) for transition in outcome.transitions)
        _save_states(cursor, changed)
        incidents_record(cursor, opened=_opened(transitions), resolved=_resolved(transitions, states, changed))
        delivery_ids = _record_deliveries(cursor, transitions, now=now)
        live_events_publish(events=live_events(transitions), at=now)
    if delivery_ids:
        from monitoring.alerts.delivery import deliveries_enqueue

        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return delivery_ids


def _opened(transitions: list[tuple[int, Transition]]) -> list[tuple[int, int]]:
    """(store pk, start) of the outages a live STORE_DOWN confirms: each opens an incident."""
    return [(pk, t.incident_started_at) for pk, t in transitions if t.event == STORE_DOWN]


def _resolved(
    transitions: list[tuple[int, Transition]], before: dict[int, AlertState], after: dict[int, AlertState]
) -> list[tuple[int, int]]:
    """(store pk, when known up) of the stores whose run of inactive evidence polls ended:
    a live STORE_UP; or, silently (a historical active poll), a run gone or replaced by
    a newer one (then up by that run's start at the latest)."""
    ups = {pk: t.poll_at for pk, t in transitions if t.event == STORE_UP}
    for pk, state in after.items():
        old = before[pk]
        if pk in ups or not old.run_length or state.run_started_at == old.run_started_at:
            continue
        ups[pk] = state.last_evidence_at if not state.run_length else state.run_started_at
    return list(ups.items())


def _existing_stores(cursor, pks: list[int]) -> list[int]:
    cursor.execute("SELECT s.id FROM monitoring_store s WHERE s.id = ANY(%s) ORDER BY s.id", [pks])
    return [row[0] for row in cursor.fetchall()]


def live_events(transitions: list[tuple[int, Transition]]) -> list[StoreEvent]:
    """What live subscribers are told of these transitions: STORE_DOWN once per outage,
    when its first inactive evidence poll arrives live (as a webhook with the default
    confirmPolls hears it), and STORE_UP when it ends."""
    return [
        StoreEvent(event=t.event, store_pk=pk, poll_at=from_us(t.poll_at), incident_started_at=from_us(t.incident_started_at))
        for pk, t in transitions
        if t.event == STORE_UP or t.run_length == DEFAULT_CONFIRM_POLLS
    ]


def _locked_states(cursor, pks: list[int]) -> dict[int, AlertState]:
    """Each store's alert state, its row locked (in store order: no deadlock between two
    evaluations) until the transaction ends, so two arrivals are evaluated one after the other."""
    cursor.execute(
        "INSERT INTO alerts_storealertstate (store_id, run_length) SELECT unnest(%s::bigint[]), 0 ON CONFLICT DO NOTHING",
        [pks],
    )
    cursor.execute(
        f"SELECT store_id, {', '.join(_STATE_COLUMNS)} FROM alerts_storealertstate"
        " WHERE store_id = ANY(%s) ORDER BY store_id FOR UPDATE",
        [pks],
    )
    states = {}
    for pk, last_poll, last_evidence, run_started, run_length, last_live in cursor.fetchall():
        states[pk] = AlertState(
            last_poll_at=_us_or_none(last_poll),
            last_evidence_at=_us_or_none(last_evidence),
            run_started_at=_us_or_none(run_started),
            run_length=run_length,
            last_live_at=_us_or_none(last_live),
        )
    return states


def _us_or_none(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


def _moment_or_none(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


def _save_states(cursor, changed: dict[int, AlertState]) -> None:
    if not changed:
        return
    columns = {name: [_moment_or_none(getattr(state, name)) for state in changed.values()] for name in _STATE_COLUMNS}
    columns["run_length"] = [state.run_length for state in changed.values()]
    cursor.execute(
        "UPDATE alerts_storealertstate a SET last_poll_at = v.last_poll_at, last_evidence_at = v.last_evidence_at,"
        " run_started_at = v.run_started_at, run_length = v.run_length, last_live_at = v.last_live_at"
        " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::int[], %s::timestamptz[])"
        " AS v(store_id, last_poll_at, last_evidence_at, run_started_at, run_length, last_live_at)"
        " WHERE a.store_id = v.store_id",
        [list(changed), *(columns[name] for name in _STATE_COLUMNS)],
    )


# The columns every new delivery gets; the SELECTs below give them in this order.
DELIVERY_INSERT = (
    "INSERT INTO alerts_delivery (webhook_id, store_id, event, episode_at, poll_timestamp, incident_started_at,"
    " created_at, status, attempts, last_result) "
)


def _record_deliveries(cursor, transitions: list[tuple[int, Transition]], *, now: datetime) -> list[int]:
    """One delivery per transition and webhook it concerns, unless one exists already."""
    ids: list[int] = []
    downs = [(pk, t) for pk, t in transitions if t.event == STORE_DOWN]
    ups = [(pk, t) for pk, t in transitions if t.event == STORE_UP]
    if downs:
        # STORE_DOWN: to the webhooks of the store's owner (or staff) that confirm after this run's length.
        cursor.execute(
            DELIVERY_INSERT + "SELECT w.id, v.store_pk, %s, v.started, v.poll_at, v.started, %s, 'PENDING', 0, ''"
            " FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::timestamptz[]) AS v(store_pk, run_length, poll_at, started)"
            " JOIN monitoring_store s ON s.id = v.store_pk"
            " JOIN alerts_webhook w ON (w.owner_id IS NULL OR w.owner_id = s.owner_id)"
            "  AND w.confirm_polls = v.run_length AND %s = ANY(w.events)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [
                STORE_DOWN,
                now,
                [pk for pk, _ in downs],
                [t.run_length for _, t in downs],
                [from_us(t.poll_at) for _, t in downs],
                [from_us(t.incident_started_at) for _, t in downs],
                STORE_DOWN,
            ],
        )
        ids += [row[0] for row in cursor.fetchall()]
    if ups:
        # STORE_UP: to the webhooks that were told STORE_DOWN of this incident.
        cursor.execute(
            DELIVERY_INSERT + "SELECT d.webhook_id, v.store_pk, %s, v.started, v.poll_at, v.started, %s, 'PENDING', 0, ''"
            " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(store_pk, poll_at, started)"
            " JOIN alerts_delivery d ON d.store_id = v.store_pk AND d.event = %s AND d.episode_at = v.started"
            " JOIN alerts_webhook w ON w.id = d.webhook_id AND %s = ANY(w.events)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [
                STORE_UP,
                now,
                [pk for pk, _ in ups],
                [from_us(t.poll_at) for _, t in ups],
                [from_us(t.incident_started_at) for _, t in ups],
                STORE_DOWN,
                STORE_UP,
            ],
        )
        ids += [row[0] for row in cursor.fetchall()]
    return ids


def alerts_evaluate_recent(*, now: datetime | None = None) -> list[int]:
    """After a file load: evaluates the stores that have live polls (within H of the
    clock). A historical file has none: one query on the time index, nothing more."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT p.store_id FROM monitoring_statuspoll p"
            " WHERE p.timestamp_utc >= %s AND p.timestamp_utc <= %s",
            [now - live_window(), poll_time_limit(now)],
        )
        pks = [row[0] for row in cursor.fetchall()]
    return alerts_evaluate(store_pks=pks, now=now)


def on_live_polls_stored(*, polls, **_signal) -> None:
    """Live polls just stored: the stores with a poll within H of the clock are evaluated
    at once. The polls are committed: should this fail, the workers' minute check
    evaluates them."""
    live_since = timezone.now() - live_window()
    store_pks = {store_pk for store_pk, moment in polls if moment >= live_since}
    try:
        alerts_evaluate(store_pks=store_pks)
        incidents_escalate(store_pks=store_pks)
    except DatabaseError:
        logger.exception("alerts: evaluating live polls failed; left to the minute check")


def on_file_polls_stored(**_signal) -> None:
    """Live polls in a file alert as if they came through the API (docs/rules.md §10); a
    historical file finds no recent poll and costs one indexed query."""
    alerts_evaluate_recent()
    incidents_escalate()

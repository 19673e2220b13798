"""Escalation against the wall clock (docs/rules.md §13): the open, unacknowledged incidents
of owners with a policy are looked at after each write of polls, in each worker's sweep
(every REPORT_SWEEP_SECONDS) and in the alerts' minute check; `escalation.step_due`
decides, this module records and sends.

Exactly once: each step is a row unique per (incident, sequence), inserted with ON
CONFLICT DO NOTHING, and only the check that inserted it records the step's deliveries
(themselves sent once, as every delivery: monitoring.alerts.delivery). Incidents are
locked while looked at (SKIP LOCKED: two workers split them, and an acknowledgement in
progress waits for, or is waited on by, the check), so an acknowledged incident never
escalates after its acknowledgement commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from monitoring.alerts.escalation import IncidentProgress, Step, policy_of, step_due_within
from monitoring.alerts.models import Incident
from monitoring.engine import business_intervals, to_us
from monitoring.live.events import StoreEvent, live_events_publish
from monitoring.stores.selectors import store_schedules


def escalation_minute() -> timedelta:
    return timedelta(seconds=settings.ESCALATION_MINUTE_SECONDS)


@dataclass(frozen=True)
class Candidate:
    """An open, unacknowledged incident of an owner with a policy, as the check reads it."""

    pk: uuid.UUID
    store_pk: int
    started_at: datetime
    policy_pk: int


_POLICY_COLUMNS = (
    "store__owner__escalation_policy__escalate_after_minutes",
    "store__owner__escalation_policy__remind_every_minutes",
    "store__owner__escalation_policy__max_reminders",
    "store__owner__escalation_policy__quiet_before_close_minutes",
)


def incidents_escalate(*, now: datetime | None = None, store_pks: Iterable[int] | None = None) -> list[int]:
    """Sends the escalation steps due at `now` (of these stores' incidents; all when
    None). Returns the new deliveries' ids; they are queued when the transaction commits."""
    now = now or timezone.now()
    minute = escalation_minute()
    with transaction.atomic():
        incidents = Incident.objects.filter(
            status=Incident.Status.OPEN, acknowledged_at__isnull=True, store__owner__escalation_policy__isnull=False
        )
        if store_pks is not None:
            incidents = incidents.filter(store_id__in=list(store_pks))
        locked = list(
            incidents.select_for_update(of=("self",), skip_locked=True).order_by("pk").values_list("pk", flat=True)
        )
        if not locked:
            return []
        rows = list(
            Incident.objects.filter(pk__in=locked)
            .annotate(steps_sent=Count("escalations"), last_sent_at=Max("escalations__sent_at"))
            .order_by("pk")
            .values_list(
                "pk", "store_id", "started_at", "steps_sent", "last_sent_at", "store__store_id", "store__timezone_name",
                "store__owner__escalation_policy__pk", *_POLICY_COLUMNS,
            )
        )
        policies = {
            row[7]: policy_of(
                escalate_after_minutes=row[8], remind_every_minutes=row[9], max_reminders=row[10],
                quiet_before_close_minutes=row[11], minute=minute,
            )
            for row in rows
        }
        stores = list({row[1]: (row[1], row[5], row[6]) for row in rows}.values())
        position = {pk: index for index, (pk, _, _) in enumerate(stores)}
        # Every store's business intervals at once, from the oldest start to past the widest quiet window.
        lookahead = max(policy.quiet_before_close for policy in policies.values())
        start, end = min(row[2] for row in rows), now + timedelta(microseconds=lookahead + 1)
        index, starts, ends = business_intervals(
            schedules=store_schedules(stores=stores, start=start, end=end), start=start, end=end
        )
        bounds = np.searchsorted(index, np.arange(len(stores) + 1))
        now_us = to_us(now)
        due: list[tuple[Candidate, Step]] = []
        for pk, store_pk, started_at, steps_sent, last_sent_at, _, _, policy_pk, *_ in rows:
            progress = IncidentProgress(
                started_at=to_us(started_at),
                escalating=True,
                steps_sent=steps_sent,
                last_sent_at=None if last_sent_at is None else to_us(last_sent_at),
            )
            lo, hi = bounds[position[store_pk]], bounds[position[store_pk] + 1]
            step = step_due_within(progress, starts=starts[lo:hi], ends=ends[lo:hi], policy=policies[policy_pk], now=now_us)
            if step is not None:
                due.append((Candidate(pk, store_pk, started_at, policy_pk), step))
        delivery_ids = steps_record(due, now=now)
    if delivery_ids:
        from monitoring.alerts.delivery import deliveries_enqueue

        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return delivery_ids


def steps_record(due: list[tuple[Candidate, Step]], *, now: datetime) -> list[int]:
    """Each step once (the unique (incident, sequence)); the deliveries of the steps this
    call inserted, one per target of the owner's policy; the steps told live."""
    if not due:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO alerts_incidentescalation (incident_id, sequence, event, sent_at)"
            " SELECT * FROM unnest(%s::uuid[], %s::int[], %s::text[], %s::timestamptz[])"
            " ON CONFLICT (incident_id, sequence) DO NOTHING RETURNING incident_id, sequence",
            [[c.pk for c, _ in due], [s.sequence for _, s in due], [s.event for _, s in due], [now] * len(due)],
        )
        inserted = {(incident_id, sequence) for incident_id, sequence in cursor.fetchall()}
        sent = [(c, s) for c, s in due if (c.pk, s.sequence) in inserted]
        if not sent:
            return []
        cursor.execute(
            "INSERT INTO alerts_delivery (webhook_id, store_id, event, episode_at, poll_timestamp, incident_started_at,"
            " created_at, status, attempts, last_result, incident_id) "
            "SELECT t.webhook_id, v.store_pk, v.event, %s, NULL, v.started, %s, 'PENDING', 0, '', v.incident_id"
            " FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::timestamptz[], %s::bigint[])"
            " AS v(incident_id, store_pk, event, started, policy_id)"
            " JOIN alerts_escalationpolicy_targets t ON t.escalationpolicy_id = v.policy_id"
            " ON CONFLICT DO NOTHING RETURNING id",
            [
                now,
                now,
                [c.pk for c, _ in sent],
                [c.store_pk for c, _ in sent],
                [s.event for _, s in sent],
                [c.started_at for c, _ in sent],
                [c.policy_pk for c, _ in sent],
            ],
        )
        delivery_ids = [row[0] for row in cursor.fetchall()]
    live_events_publish(
        events=[
            StoreEvent(
                event=s.event, store_pk=c.store_pk, poll_at=None, incident_started_at=c.started_at,
                incident_id=str(c.pk), step=s.sequence,
            )
            for c, s in sent
        ],
        at=now,
    )
    return delivery_ids

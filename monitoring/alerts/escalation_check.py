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

from datetime import datetime, timedelta
from typing import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from monitoring.alerts.escalation import IncidentProgress, Step, policy_of, step_due
from monitoring.alerts.models import Incident
from monitoring.engine import to_us
from monitoring.live.events import StoreEvent, live_events_publish
from monitoring.stores.selectors import store_schedules


def escalation_minute() -> timedelta:
    return timedelta(seconds=settings.ESCALATION_MINUTE_SECONDS)


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
            .select_related("store__owner__escalation_policy")
            .annotate(steps_sent=Count("escalations"), last_sent_at=Max("escalations__sent_at"))
            .order_by("pk")
        )
        policies = {}
        for incident in rows:
            stored = incident.store.owner.escalation_policy
            policies[incident.pk] = (stored, policy_of(
                escalate_after_minutes=stored.escalate_after_minutes,
                remind_every_minutes=stored.remind_every_minutes,
                max_reminders=stored.max_reminders,
                quiet_before_close_minutes=stored.quiet_before_close_minutes,
                minute=minute,
            ))
        stores = list({i.store_id: (i.store_id, i.store.store_id, i.store.timezone_name) for i in rows}.values())
        lookahead = max(policy.quiet_before_close for _, policy in policies.values())
        schedules = store_schedules(
            stores=stores, start=min(i.started_at for i in rows), end=now + timedelta(microseconds=lookahead + 1)
        )
        schedule_of = {pk: schedule for (pk, _, _), schedule in zip(stores, schedules)}
        due: list[tuple[Incident, Step]] = []
        for incident in rows:
            progress = IncidentProgress(
                started_at=to_us(incident.started_at),
                escalating=True,
                steps_sent=incident.steps_sent,
                last_sent_at=None if incident.last_sent_at is None else to_us(incident.last_sent_at),
            )
            step = step_due(progress, schedule=schedule_of[incident.store_id], policy=policies[incident.pk][1], now=to_us(now))
            if step is not None:
                due.append((incident, step))
        delivery_ids = _steps_record(due, policies={pk: stored for pk, (stored, _) in policies.items()}, now=now)
    if delivery_ids:
        from monitoring.alerts.delivery import deliveries_enqueue

        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return delivery_ids


def _steps_record(due: list[tuple[Incident, Step]], *, policies: dict, now: datetime) -> list[int]:
    """Each step once (the unique (incident, sequence)); the deliveries of the steps this
    call inserted, one per target of the owner's policy; the steps told live."""
    if not due:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO alerts_incidentescalation (incident_id, sequence, event, sent_at)"
            " SELECT * FROM unnest(%s::uuid[], %s::int[], %s::text[], %s::timestamptz[])"
            " ON CONFLICT (incident_id, sequence) DO NOTHING RETURNING incident_id, sequence",
            [[i.pk for i, _ in due], [s.sequence for _, s in due], [s.event for _, s in due], [now] * len(due)],
        )
        inserted = {(incident_id, sequence) for incident_id, sequence in cursor.fetchall()}
        sent = [(i, s) for i, s in due if (i.pk, s.sequence) in inserted]
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
                [i.pk for i, _ in sent],
                [i.store_id for i, _ in sent],
                [s.event for _, s in sent],
                [i.started_at for i, _ in sent],
                [policies[i.pk].pk for i, _ in sent],
            ],
        )
        delivery_ids = [row[0] for row in cursor.fetchall()]
    live_events_publish(
        events=[
            StoreEvent(
                event=s.event, store_pk=i.store_id, poll_at=None, incident_started_at=i.started_at,
                incident_id=str(i.pk), step=s.sequence,
            )
            for i, s in sent
        ],
        at=now,
    )
    return delivery_ids

"""Sending scheduled reports (docs/rules.md §11): each period of each schedule is
delivered once.

1. `periods_claim`: a schedule whose next period has ended (in its zone) is locked
   (`FOR UPDATE SKIP LOCKED`: two workers sweeping at once take different schedules),
   its delivery row inserted (`ON CONFLICT DO NOTHING` on (schedule, period_start): a
   period never gets two), its range report made for the schedule's owner (the
   owner's tenancy, `to` = the period's end) and its next period set, in one
   transaction. The report is computed by the report workers as any range report
   (chunks, failover) and its CSV kept in the report storage.
2. `deliveries_ready`: a delivery whose report is complete gets the report's totals and
   is queued on the alerts cluster (a slow receiver never delays a report); a failed
   report fails its delivery.
3. `scheduled_delivery_attempt`: one try, claimed, signed and sent as alerts are
   (monitoring.alerts.delivery: the same claim, backoff, wall-clock limit, checked
   addresses, email), with a signed, expiring link to the CSV made for that try.
4. `deliveries_due`: retries that are due, deliveries whose queue entry was lost, and
   tries whose worker died, queued again (each claims its try first)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from monitoring.alerts.delivery import (
    RETRY_LEASE,
    SIGNATURE_HEADER,
    DeliveryFailed,
    email_send,
    signature,
    tries_due,
    tries_stuck_release,
    try_claim,
    try_failed,
    try_result_record,
    webhook_post,
)
from monitoring.engine.zones import zone_info
from monitoring.kernel.errors import InputError
from monitoring.kernel.values import instant_text
from monitoring.models import Report, ReportRangeRow
from monitoring.reports import report_create
from monitoring.schedules.models import ReportSchedule, ScheduledDelivery
from monitoring.schedules.periods import WEEKLY, period_after

logger = logging.getLogger(__name__)

TASK = "monitoring.schedules.tasks.deliver"
EVENT = "SCHEDULED_REPORT"
#: Schedules claimed per sweep (a short transaction; the next sweep takes the rest).
_CLAIM_BATCH = 50
#: Deliveries made ready per sweep.
_READY_BATCH = 100
_FIGURES = ("uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes")

#: How a delivery's download link is made: the report's id → an absolute URL (the
#: edges know the server's address and its paths: monitoring.schedules.tasks).
LinkMaker = Callable[[uuid.UUID], str]


def schedules_sweep(*, now: datetime | None = None) -> int:
    """The worker's sweep: periods that ended, reports that finished, tries that are due."""
    now = now or timezone.now()
    return len(periods_claim(now=now)) + len(deliveries_ready(now=now)) + len(deliveries_due(now=now))


def periods_claim(*, now: datetime) -> list[int]:
    """Claims every period that has ended by `now` (a schedule late by several periods,
    its workers stopped for weeks, gets each in turn, one per sweep): a delivery row
    each and its range report, queued once this commits; a period that ended more than
    POLL_RETENTION_DAYS ago is recorded as not sent. Returns the new deliveries."""
    claimed: list[int] = []
    if not ReportSchedule.objects.filter(next_period_end__lte=now).exists():
        return claimed  # the usual sweep: one indexed look, no transaction
    with transaction.atomic():
        due = list(
            ReportSchedule.objects.select_for_update(skip_locked=True)
            .filter(next_period_end__lte=now)
            .order_by("next_period_end")[:_CLAIM_BATCH]
        )
        too_old = now - timedelta(days=settings.POLL_RETENTION_DAYS)
        for schedule in due:
            start, end = schedule.next_period_start, schedule.next_period_end
            if end < too_old:
                # Workers away for longer than the polls are kept: its figures would be
                # unknown, not its own. Recorded as not sent, so the log says so.
                _delivery_insert(schedule=schedule, start=start, end=end, not_sent=_TOO_OLD)
            elif (delivery_id := _delivery_insert(schedule=schedule, start=start, end=end)) is not None:
                _report_start(delivery_id=delivery_id, schedule=schedule, start=start, end=end)
                claimed.append(delivery_id)
            following = period_after(period=schedule.period, zone=schedule.zone, start=start)
            schedule.last_period_start, schedule.last_period_end = start, end
            schedule.next_period_start, schedule.next_period_end = following
            schedule.save(update_fields=["last_period_start", "last_period_end", "next_period_start", "next_period_end"])
    return claimed


_TOO_OLD = (
    "not sent: the period ended more than POLL_RETENTION_DAYS before a worker could send it"
    " (its polls may have been pruned)"
)


def _delivery_insert(*, schedule: ReportSchedule, start: datetime, end: datetime, not_sent: str = "") -> int | None:
    """The period's delivery row (FAILED with the reason when `not_sent`), or None when
    it has one already (the unique constraint decides, whatever the schedule's own
    columns say)."""
    status = ScheduledDelivery.Status.FAILED if not_sent else ScheduledDelivery.Status.WAITING
    table = connection.ops.quote_name(ScheduledDelivery._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (schedule_id, period_start, period_end, created_at, status, attempts, last_result)"
            " VALUES (%s, %s, %s, now(), %s, 0, %s)"
            " ON CONFLICT (schedule_id, period_start) DO NOTHING RETURNING id",
            [schedule.pk, start, end, status, not_sent],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _report_start(*, delivery_id: int, schedule: ReportSchedule, start: datetime, end: datetime) -> None:
    """The period's range report, as its owner would ask for it (their stores, or the
    schedule's; `to` = the period's end); a request the report refuses (a store since
    given to another owner) fails the delivery with the reason."""
    try:
        report = report_create(
            store_ids=schedule.store_ids, as_of=end, owner_id=schedule.owner_id, range_start=start
        )
    except InputError as error:
        ScheduledDelivery.objects.filter(pk=delivery_id).update(
            status=ScheduledDelivery.Status.FAILED, last_result=f"the report could not be made: {error}"[:500]
        )
        return
    ScheduledDelivery.objects.filter(pk=delivery_id).update(report=report)


def deliveries_ready(*, now: datetime) -> list[int]:
    """Deliveries whose report has finished: with the report's totals, queued (once:
    each is locked and moved out of WAITING in its own transaction); a failed or
    deleted report fails its delivery. Returns the deliveries queued."""
    waiting = ScheduledDelivery.objects.filter(status=ScheduledDelivery.Status.WAITING).exclude(
        report__status__in=[Report.Status.PENDING, Report.Status.RUNNING]
    )
    queued: list[int] = []
    for delivery_id in list(waiting.values_list("pk", flat=True)[:_READY_BATCH]):
        with transaction.atomic():
            delivery = (
                ScheduledDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("report")
                .filter(pk=delivery_id, status=ScheduledDelivery.Status.WAITING)
                .first()
            )
            if delivery is None:
                continue
            report = delivery.report
            if report is None or report.status != Report.Status.COMPLETE:
                delivery.status = ScheduledDelivery.Status.FAILED
                why = "it was deleted" if report is None else (report.error or "no reason given")
                delivery.last_result = f"the report failed: {why}"[:500]
            else:
                totals = ReportRangeRow.objects.filter(report=report).aggregate(**{f: Sum(f) for f in _FIGURES})
                for figure in _FIGURES:
                    setattr(delivery, figure, totals[figure] or 0.0)
                delivery.store_count = report.store_count or 0
                delivery.status = ScheduledDelivery.Status.PENDING
                # Queued now; queued again if not tried within the lease (deliveries_due).
                delivery.next_attempt_at = now + RETRY_LEASE
                queued.append(delivery.pk)
                transaction.on_commit(lambda pk=delivery.pk: deliveries_enqueue(delivery_ids=[pk]))
            delivery.save()
    return queued


def deliveries_due(*, now: datetime) -> list[int]:
    """Queues again what is due: retries after their backoff, deliveries whose queue
    entry was lost (not tried within the lease) and tries whose worker died. Sending
    twice is not possible: each try is claimed first."""
    tries_stuck_release(model=ScheduledDelivery, now=now)
    due = tries_due(
        model=ScheduledDelivery, now=now,
        statuses=(ScheduledDelivery.Status.PENDING, ScheduledDelivery.Status.RETRYING),
    )
    deliveries_enqueue(delivery_ids=due)
    return due


def deliveries_enqueue(*, delivery_ids) -> None:
    """A task each on the alerts cluster's queue, whoever queues it."""
    from django_q.tasks import async_task

    for delivery_id in delivery_ids:
        async_task(TASK, delivery_id, task_name=f"scheduled-report-{delivery_id}", cluster=settings.Q_ALERT_CLUSTER)


def scheduled_delivery_attempt(*, delivery_id: int, link: LinkMaker, now: datetime | None = None) -> str | None:
    """Tries to deliver once, if the delivery is due and nobody else is trying it.
    Returns the new status, or None when there was nothing to do."""
    now = now or timezone.now()
    attempt = try_claim(model=ScheduledDelivery, delivery_id=delivery_id, now=now)
    if attempt is None:
        return None
    deadline = time.monotonic() + settings.ALERT_TIMEOUT_SECONDS
    delivery = ScheduledDelivery.objects.select_related("schedule").get(pk=delivery_id)
    try:
        result = _send(delivery, link=link, now=now, deadline=deadline)
    except DeliveryFailed as failure:
        status, next_at, result = try_failed(attempt=attempt, now=now, failure=failure)
        if status == ScheduledDelivery.Status.FAILED:
            logger.warning("scheduled report delivery %s failed after %s attempts: %s", delivery_id, attempt, result)
    else:
        status, next_at = ScheduledDelivery.Status.DELIVERED, None
    try_result_record(model=ScheduledDelivery, delivery_id=delivery_id, status=status, next_at=next_at, result=result)
    return status


def delivery_payload(delivery: ScheduledDelivery, *, download_url: str, expires_at: datetime) -> dict:
    """What a delivery says: the period, the report and its signed link, the totals
    over its stores (minutes, 2 decimals)."""
    schedule = delivery.schedule
    return {
        "event": EVENT,
        "schedule_id": str(schedule.pk),
        "period": schedule.period,
        "zone": schedule.zone,
        "from": instant_text(delivery.period_start),
        "to": instant_text(delivery.period_end),
        "report_id": str(delivery.report_id),
        "download_url": download_url,
        "download_expires_at": instant_text(expires_at),
        "store_count": delivery.store_count,
        **{figure: round(getattr(delivery, figure) or 0.0, 2) for figure in _FIGURES},
    }


def _send(delivery: ScheduledDelivery, *, link: LinkMaker, now: datetime, deadline: float) -> str:
    """One try: the signed POST, or the email. The link is signed for this try, so it
    is valid for REPORT_LINK_MAX_AGE from the moment it is sent."""
    if delivery.report_id is None:
        raise DeliveryFailed("the report has been deleted (REPORT_RETENTION_DAYS)")
    expires_at = now + timedelta(seconds=settings.REPORT_LINK_MAX_AGE)
    payload = delivery_payload(delivery, download_url=link(delivery.report_id), expires_at=expires_at)
    schedule = delivery.schedule
    if schedule.is_email:
        return email_send(
            address=schedule.url[len("mailto:") :],
            subject=_email_subject(payload),
            message=_email_text(payload),
            deadline=deadline,
        )
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "store-uptime-monitor-reports/1",
        SIGNATURE_HEADER: signature(schedule.secret, body),
        "X-Delivery-Id": f"scheduled-report-{delivery.pk}",
    }
    return webhook_post(url=schedule.url, body=body, headers=headers, deadline=deadline)


def _local_day(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(zone_info(zone)):%a %Y-%m-%d}"


def _email_subject(payload: dict) -> str:
    kind = "Weekly" if payload["period"] == WEEKLY else "Monthly"
    zone = payload["zone"]
    start, end = (datetime.fromisoformat(payload[bound]) for bound in ("from", "to"))
    return f"{kind} uptime report: {_local_day(start, zone)} to {_local_day(end, zone)} ({zone})"


def _email_text(payload: dict) -> str:
    kind = "weekly" if payload["period"] == WEEKLY else "monthly"
    lines = [
        f"Your {kind} uptime report, from {payload['from']} to {payload['to']} (midnights in {payload['zone']}),"
        f" over {payload['store_count']} stores:",
        "",
        *(f"  {figure.replace('_', ' '):<17} {payload[figure]:>14.2f}" for figure in _FIGURES),
        "",
        f"The CSV, one row per store: {payload['download_url']}",
        f"(this link works until {payload['download_expires_at']}; the report is report {payload['report_id']}"
        " in the API until it is deleted by retention).",
    ]
    return "\n".join(lines)

"""Scheduled reports: create, list and delete them within a caller's access, as webhooks
are (monitoring.alerts.webhooks): an owner's schedule covers their stores, a staff one
every store. The target is a webhook URL under the alerts' rules (private addresses
refused in production, checked again at each try) or an email address."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from monitoring.alerts.webhooks import webhook_url
from monitoring.audit import audit_record, audited_delete
from monitoring.kernel import values
from monitoring.kernel.errors import InputError
from monitoring.kernel.values import InvalidValue
from monitoring.reports import validate_report_request
from monitoring.schedules.models import ReportSchedule
from monitoring.schedules.periods import PERIODS, period_holding
from monitoring.stores.access import Access, require

MAX_SCHEDULES_PER_OWNER = 20
#: Most stores a schedule names (none named: every store of the owner, however many).
MAX_SCHEDULE_STORES = 100


def report_period(value: object, *, field: str = "period") -> str:
    if value not in PERIODS:
        raise InvalidValue(field, f"must be one of {', '.join(PERIODS)}")
    return value


def schedule_target(*, url: str | None, email: str | None) -> str:
    """Where a schedule's reports go: a webhook URL (as alerts check it), or
    `mailto:` and the email address."""
    if (url is None) == (email is None):
        raise InputError("give either url (a webhook) or email (an address), one of them", field="url")
    if email is not None:
        return "mailto:" + values.email_address(email)
    if isinstance(url, str) and url.strip().lower().startswith("mailto:"):
        raise InvalidValue("url", "must be an http(s) URL: an email address goes in email")
    return webhook_url(url, field="url")


def report_schedules_visible(*, access: Access) -> QuerySet[ReportSchedule]:
    """An owner's schedules; staff (and the demo's anonymous access) see every schedule."""
    schedules = ReportSchedule.objects.all()
    return schedules if access.all_stores else schedules.filter(owner_id=access.owner_id)


def report_schedule_create(
    *,
    access: Access,
    period: str,
    zone: str,
    url: str | None = None,
    email: str | None = None,
    store_ids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> tuple[ReportSchedule, str | None]:
    """A new schedule for the caller's stores (an owner's), or every store (staff).
    Its first report is the period that holds `now` (default: the present), sent once
    that period is over; no earlier period is sent. Returns it with the secret that
    signs its webhook deliveries, shown this once (None for an email address)."""
    require(access, "schedules.manage")
    owner_id = None if access.all_stores else access.owner_id
    checked_period = report_period(period)
    checked_zone = values.zone(zone, field="zone")
    target = schedule_target(url=url, email=email)
    if store_ids is not None:
        store_ids = sorted(set(store_ids))
        if len(store_ids) > MAX_SCHEDULE_STORES:
            raise InputError(
                f"names {len(store_ids)} stores: at most {MAX_SCHEDULE_STORES} (omit it for all your stores)",
                field="store_ids",
            )
        validate_report_request(as_of=None, store_ids=store_ids, horizon_minutes=None, owner_id=owner_id)
    if (
        owner_id is not None
        and ReportSchedule.objects.filter(owner_id=owner_id).count() >= MAX_SCHEDULES_PER_OWNER
    ):
        raise InputError(f"at most {MAX_SCHEDULES_PER_OWNER} report schedules per owner; delete one first")
    start, end = period_holding(period=checked_period, zone=checked_zone, moment=now or timezone.now())
    secret = None if target.startswith("mailto:") else "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        schedule = ReportSchedule.objects.create(
            owner_id=owner_id,
            period=checked_period,
            zone=checked_zone,
            url=target,
            secret=secret or "",
            store_ids=store_ids,
            next_period_start=start,
            next_period_end=end,
        )
        audit_record(
            actor=access.actor, action="schedule.create", object_type="report_schedule", object_id=schedule.pk,
            after=_audited(schedule), organization_id=owner_id,
        )
    return schedule, secret


def _audited(schedule: ReportSchedule) -> dict:
    """A schedule as the audit log shows it (never its secret)."""
    return {"period": schedule.period, "zone": schedule.zone, "url": schedule.url, "store_ids": schedule.store_ids}


def report_schedule_delete(*, access: Access, schedule_id) -> bool:
    """Deletes one of the caller's schedules (and its delivery log); False if none."""
    require(access, "schedules.manage")
    return audited_delete(
        rows=report_schedules_visible(access=access), pk=schedule_id, actor=access.actor, action="schedule.delete",
        object_type="report_schedule", before_of=_audited,
    )

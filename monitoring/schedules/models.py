"""Scheduled range reports (docs/rules.md §11): each schedule, and the log of its
deliveries, one per period."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from monitoring.models import Owner, Report
from monitoring.schedules.periods import MONTHLY, WEEKLY


class ReportSchedule(models.Model):
    """A range report every week or month, in a zone of the owner's choosing, sent to a
    webhook (a signed POST) or an email address. An owner's schedule covers their stores
    (all of them, or `store_ids`); a staff schedule (no owner) every store."""

    class Period(models.TextChoices):
        WEEKLY = WEEKLY, "weekly (Monday 00:00 to Monday 00:00)"
        MONTHLY = MONTHLY, "monthly (the 1st 00:00 to the next 1st 00:00)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        Owner, null=True, blank=True, on_delete=models.CASCADE, related_name="report_schedules"
    )
    period = models.TextField(choices=Period.choices)
    zone = models.TextField(help_text="The IANA zone whose midnights bound each period.")
    url = models.TextField(help_text="https://… (signed JSON POST) or mailto:address (email).")
    # Kept to sign each delivery (HMAC needs the key itself); shown once, when created.
    secret = models.TextField(editable=False)
    # None: every store of the owner (staff: every store) when each period's report runs.
    store_ids = ArrayField(models.TextField(), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last period claimed for delivery (None: none yet), and the next one: it is
    # claimed once its end has passed (the index finds those in one range scan).
    last_period_start = models.DateTimeField(null=True, blank=True)
    last_period_end = models.DateTimeField(null=True, blank=True)
    next_period_start = models.DateTimeField()
    next_period_end = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(next_period_end__gt=models.F("next_period_start")), name="report_schedule_period_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display().split(' ')[0]} report ({self.zone}) to {self.url}"

    @property
    def is_email(self) -> bool:
        return self.url.lower().startswith("mailto:")


class ScheduledDelivery(models.Model):
    """One period of one schedule: its range report, the figures' totals once it is
    complete, and how its delivery went. Unique per (schedule, period_start): a period
    is delivered once, however many workers sweep. Its tries are counted as alerts'
    (monitoring.alerts.delivery: the same columns and statuses, plus WAITING)."""

    class Status(models.TextChoices):
        WAITING = "WAITING"  # its report is being computed
        PENDING = "PENDING"
        SENDING = "SENDING"
        RETRYING = "RETRYING"
        DELIVERED = "DELIVERED"
        FAILED = "FAILED"

    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="deliveries")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    # The period's range report; None once retention has deleted it.
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="scheduled_deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.TextField(choices=Status.choices, default=Status.WAITING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_result = models.TextField(blank=True, default="", help_text="HTTP status or error of the last attempt.")
    # The report's totals over its stores (minutes, unrounded), once it is complete.
    store_count = models.PositiveIntegerField(null=True, blank=True)
    uptime_minutes = models.FloatField(null=True, blank=True)
    downtime_minutes = models.FloatField(null=True, blank=True)
    unknown_minutes = models.FloatField(null=True, blank=True)
    business_minutes = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start"]
        verbose_name_plural = "scheduled deliveries"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "period_start"], name="scheduled_delivery_once_per_period")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="scheduled_delivery_due")]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m-%d %H:%M} UTC → {self.schedule_id}"

"""Subscriptions (webhooks and email addresses), each store's alert state and the
delivery log."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from monitoring.alerts.escalation import ESCALATION_EVENTS
from monitoring.alerts.events import ALERT_EVENTS, DEFAULT_CONFIRM_POLLS
from monitoring.models import Owner, Store


class Webhook(models.Model):
    """Where an owner's alerts go: an `http(s)://` URL (a signed POST) or a `mailto:`
    address (an email through Django's email framework). An owner's webhook hears of
    their stores; a staff webhook (no owner) of every store."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks")
    url = models.TextField(help_text="https://… (signed JSON POST) or mailto:address (email).")
    events = ArrayField(models.TextField(choices=[(e, e) for e in ALERT_EVENTS]), default=list)
    confirm_polls = models.PositiveSmallIntegerField(
        default=DEFAULT_CONFIRM_POLLS, help_text="Consecutive inactive evidence polls before STORE_DOWN."
    )
    # Kept to sign each delivery (HMAC needs the key itself); shown once, when created.
    secret = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(confirm_polls__gte=1), name="webhook_confirm_polls_positive")]

    def __str__(self) -> str:
        return self.url

    @property
    def is_email(self) -> bool:
        return self.url.lower().startswith("mailto:")


class StoreAlertState(models.Model):
    """What alerting knows of a store: its newest poll seen, its newest evidence poll and
    the run of inactive evidence polls that ends it (docs/rules.md §10). Kept only for stores
    some webhook covers; built from the stored polls when first needed."""

    store = models.OneToOneField(Store, primary_key=True, on_delete=models.CASCADE, related_name="alert_state")
    last_poll_at = models.DateTimeField(null=True)
    last_evidence_at = models.DateTimeField(null=True)
    run_started_at = models.DateTimeField(null=True, help_text="First inactive evidence poll of the current run.")
    run_length = models.IntegerField(default=0, help_text="Consecutive inactive evidence polls ending the newest.")
    last_live_at = models.DateTimeField(null=True, help_text="Newest poll that arrived live (within H of the clock).")
    silent_for = models.DateTimeField(null=True, help_text="The evidence poll after which STORE_SILENT was sent.")

    def __str__(self) -> str:
        return f"alert state of {self.store}"


class Delivery(models.Model):
    """One event for one webhook, and how its delivery went. Unique per (webhook, store,
    event, episode): an event is delivered once, whoever sees it."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SENDING = "SENDING"
        RETRYING = "RETRYING"
        DELIVERED = "DELIVERED"
        FAILED = "FAILED"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="alert_deliveries")
    event = models.TextField(choices=[(e, e) for e in ALERT_EVENTS + ESCALATION_EVENTS])
    # The escalated incident (STORE_DOWN_ESCALATED, STORE_STILL_DOWN).
    incident = models.ForeignKey("Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    # The incident's start for STORE_DOWN and STORE_UP, the last evidence poll for STORE_SILENT,
    # the step's sending for an escalation (the step itself is unique: IncidentEscalation).
    episode_at = models.DateTimeField()
    poll_timestamp = models.DateTimeField(null=True)
    incident_started_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True)
    next_attempt_at = models.DateTimeField(null=True)
    last_result = models.TextField(blank=True, default="", help_text="HTTP status or error of the last attempt.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "store", "event", "episode_at"], name="delivery_once_per_episode")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} {self.store_id} → {self.webhook_id}"


class Incident(models.Model):
    """An outage that started live (docs/rules.md §13): a stretch of business time known
    down, with a stable id. OPEN from its first inactive evidence poll until an active
    evidence poll (RESOLVED). Unique per (store, start): found once, whoever sees it."""

    class Status(models.TextChoices):
        OPEN = "OPEN"
        RESOLVED = "RESOLVED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="incident_records")
    started_at = models.DateTimeField(help_text="The first inactive evidence poll of the outage.")
    status = models.TextField(choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="The active evidence poll that ended it.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.TextField(blank=True, default="", help_text="Who acknowledged it (a token's or user's name).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["store", "started_at"], name="incident_once_per_outage")]
        indexes = [models.Index(fields=["status", "started_at"], name="incident_by_status")]

    def __str__(self) -> str:
        return f"{self.status} incident of {self.store} since {self.started_at:%Y-%m-%d %H:%M}"


class IncidentNote(models.Model):
    """A note on an incident (the acknowledgement's note is one too): who, when, what."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    author = models.TextField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note by {self.author} at {self.created_at:%Y-%m-%d %H:%M}"


class EscalationPolicy(models.Model):
    """How an owner's open, unacknowledged incidents escalate (docs/rules.md §13). Per
    owner, the unit of tenancy today; an organization takes the owner's place when
    organizations come. Minutes are business minutes of the store."""

    owner = models.OneToOneField(Owner, on_delete=models.CASCADE, related_name="escalation_policy")
    escalate_after_minutes = models.PositiveIntegerField(default=15)
    remind_every_minutes = models.PositiveIntegerField(default=30)
    max_reminders = models.PositiveIntegerField(default=3)
    quiet_before_close_minutes = models.PositiveIntegerField(default=0)
    targets = models.ManyToManyField(
        Webhook, blank=True, related_name="escalation_policies",
        help_text="Where STORE_DOWN_ESCALATED and STORE_STILL_DOWN go (signed as alerts).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "escalation policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(escalate_after_minutes__gte=1, remind_every_minutes__gte=1),
                name="escalation_minutes_positive",
            )
        ]

    def __str__(self) -> str:
        return f"escalation policy of {self.owner}"


class IncidentEscalation(models.Model):
    """One escalation step sent for an incident: sequence 0 is STORE_DOWN_ESCALATED,
    k ≥ 1 the k-th STORE_STILL_DOWN. Unique per (incident, sequence): only the evaluation
    that inserts a step records its deliveries, so two workers never send it twice."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    sequence = models.PositiveSmallIntegerField()
    event = models.TextField(choices=[(e, e) for e in ESCALATION_EVENTS])
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["incident", "sequence"]
        constraints = [models.UniqueConstraint(fields=["incident", "sequence"], name="escalation_step_once")]

    def __str__(self) -> str:
        return f"{self.event} #{self.sequence} of {self.incident_id}"

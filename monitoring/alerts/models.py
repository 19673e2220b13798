"""Subscriptions (webhooks and email addresses), each store's alert state and the
delivery log."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

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
    event = models.TextField(choices=[(e, e) for e in ALERT_EVENTS])
    # The incident's start for STORE_DOWN and STORE_UP, the last evidence poll for STORE_SILENT.
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

"""Delivering alerts (SPEC §10): a worker claims a delivery's attempt with one UPDATE (so
two workers never send the same attempt), posts the signed JSON or sends the email,
records the attempt, and on failure schedules the next try with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone

from monitoring.alerts.models import Delivery
from monitoring.alerts.webhooks import private_address_problem
from monitoring.ingest.values import instant_text

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
TASK = "monitoring.alerts.tasks.deliver"
#: A claim older than this without a result belongs to a worker that died: tried again.
_STUCK_AFTER = timedelta(seconds=60)


class DeliveryFailed(Exception):
    """One attempt that did not deliver (non-2xx, timeout, refused address)."""


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else instant_text(moment)


def delivery_body(delivery: Delivery) -> bytes:
    """The JSON posted: the same bytes on every attempt (the signature covers them)."""
    return json.dumps(
        {
            "event": delivery.event,
            "store_id": delivery.store.store_id,
            "at": _instant(delivery.created_at),
            "poll_timestamp": _instant(delivery.poll_timestamp),
            "incident_started_at": _instant(delivery.incident_started_at),
        },
        separators=(",", ":"),
    ).encode()


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the raw body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliveries_enqueue(*, delivery_ids) -> None:
    """Queues a delivery task each on the alerts cluster's own queue (whoever queues it:
    a web request, a report worker's sweep): a slow receiver holds alert workers only."""
    from django_q.tasks import async_task

    for delivery_id in delivery_ids:
        async_task(TASK, delivery_id, task_name=f"alert-{delivery_id}", cluster=settings.Q_ALERT_CLUSTER)


def retry_delay(attempt: int) -> timedelta:
    """How long after failed attempt `attempt` (from 1) the next one is due."""
    return timedelta(seconds=settings.ALERT_RETRY_SECONDS * 3 ** (attempt - 1))


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """Tries to deliver once, if the delivery is due and nobody else is trying it. Returns
    the new status, or None when there was nothing to do."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE alerts_delivery SET status = %s, attempts = attempts + 1, last_attempt_at = %s"
            " WHERE id = %s AND status IN (%s, %s) RETURNING attempts",
            [Delivery.Status.SENDING, now, delivery_id, Delivery.Status.PENDING, Delivery.Status.RETRYING],
        )
        claimed = cursor.fetchone()
    if claimed is None:
        return None
    attempt = claimed[0]
    delivery = Delivery.objects.select_related("webhook", "store").get(pk=delivery_id)
    try:
        result = _send(delivery)
        status, next_at = Delivery.Status.DELIVERED, None
    except DeliveryFailed as failure:
        result = str(failure)[:500]
        if attempt >= settings.ALERT_MAX_ATTEMPTS:
            status, next_at = Delivery.Status.FAILED, None
            logger.warning("alert delivery %s failed after %s attempts: %s", delivery_id, attempt, result)
        else:
            status, next_at = Delivery.Status.RETRYING, timezone.now() + retry_delay(attempt)
    # A retry is queued when due by deliveries_retry_due (the workers' sweep thread).
    Delivery.objects.filter(pk=delivery_id).update(status=status, next_attempt_at=next_at, last_result=result)
    return status


#: A retry queued and not tried within this long (its queue entry lost) is queued again.
_RETRY_LEASE = timedelta(seconds=60)


def deliveries_retry_due(*, now: datetime | None = None) -> list[int]:
    """Queues the retries that are due, each once: their next_attempt_at moves a lease
    ahead in the same UPDATE, so two workers sweeping at once queue a retry once (and
    the claim of delivery_attempt makes a second run a no-op anyway)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE alerts_delivery SET next_attempt_at = %s"
            " WHERE status = %s AND next_attempt_at <= %s RETURNING id",
            [now + _RETRY_LEASE, Delivery.Status.RETRYING, now],
        )
        due = [row[0] for row in cursor.fetchall()]
    deliveries_enqueue(delivery_ids=due)
    return due


def deliveries_requeue(*, now: datetime | None = None) -> int:
    """Queues again what was lost: a delivery never queued (its request died after
    commit), a claim whose worker died (tried again as a retry), and the retries due
    (deliveries_retry_due, here too in case no sweep thread runs). Sending twice is not
    possible: an attempt is claimed first."""
    now = now or timezone.now()
    stuck_since = now - _STUCK_AFTER - timedelta(seconds=settings.ALERT_TIMEOUT_SECONDS)
    Delivery.objects.filter(status=Delivery.Status.SENDING, last_attempt_at__lt=stuck_since).update(
        status=Delivery.Status.RETRYING, next_attempt_at=now
    )
    lost = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, created_at__lt=now - _STUCK_AFTER).values_list(
            "pk", flat=True
        )
    )
    deliveries_enqueue(delivery_ids=lost)
    return len(lost) + len(deliveries_retry_due(now=now))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: following it could lead to an address we refuse."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def _send(delivery: Delivery) -> str:
    webhook = delivery.webhook
    body = delivery_body(delivery)
    if webhook.is_email:
        address = webhook.url[len("mailto:") :]
        try:
            send_mail(
                subject=f"{delivery.event}: store {delivery.store.store_id}",
                message=json.dumps(json.loads(body), indent=2),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address],
            )
        except Exception as error:  # any backend's failure is this attempt's failure
            raise DeliveryFailed(f"email: {type(error).__name__}: {error}") from error
        return "email sent"
    problem = private_address_problem(urlsplit(webhook.url).hostname or "")
    if problem:
        raise DeliveryFailed(problem)
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "store-uptime-monitor-alerts/1",
            SIGNATURE_HEADER: signature(webhook.secret, body),
            "X-Delivery-Id": str(delivery.pk),
            "X-Alert-Event": delivery.event,
        },
    )
    try:
        with _OPENER.open(request, timeout=settings.ALERT_TIMEOUT_SECONDS) as response:
            code = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None
    if not 200 <= code < 300:
        raise DeliveryFailed(f"HTTP {code}")
    return f"HTTP {code}"

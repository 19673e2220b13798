"""Delivering alerts (docs/rules.md §10): a worker claims a delivery's attempt with one UPDATE (so
two workers never send the same attempt), posts the signed JSON or sends the email,
records the attempt, and on failure schedules the next try with backoff."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from monitoring.alerts.models import Delivery
from monitoring.alerts.webhooks import Address, address_problem, webhook_target
from monitoring.kernel.values import InvalidValue, instant_text

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
TASK = "monitoring.alerts.tasks.deliver"
#: A claim older than ALERT_TIMEOUT_SECONDS + this without a result belongs to a worker
#: that died: tried again. A try ends by its claim's time + ALERT_TIMEOUT_SECONDS (the
#: deadline bounds the DNS lookup, connection, TLS, request and response header together,
#: see webhook_post), then writes its result: this margin is for that write and the
#: clocks of the workers, so a delivery has at most one try in flight.
_STUCK_AFTER = timedelta(seconds=60)


class DeliveryFailed(Exception):
    """One attempt that did not deliver (non-2xx, timeout, refused address)."""


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else instant_text(moment)


def delivery_body(delivery: Delivery) -> bytes:
    """The JSON posted: the same bytes on every attempt (the signature covers them). An
    escalation also names its incident (to acknowledge it by)."""
    payload = {
        "event": delivery.event,
        "store_id": delivery.store.store_id,
        "at": _instant(delivery.created_at),
        "poll_timestamp": _instant(delivery.poll_timestamp),
        "incident_started_at": _instant(delivery.incident_started_at),
    }
    if delivery.incident_id is not None:
        payload["incident_id"] = str(delivery.incident_id)
    return json.dumps(payload, separators=(",", ":")).encode()


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
    attempt = try_claim(model=Delivery, delivery_id=delivery_id, now=now)
    if attempt is None:
        return None
    # The try's clock starts at the claim (what deliveries_requeue measures from).
    deadline = time.monotonic() + settings.ALERT_TIMEOUT_SECONDS
    delivery = Delivery.objects.select_related("webhook", "store").get(pk=delivery_id)
    try:
        result = _send(delivery, deadline=deadline)
    except DeliveryFailed as failure:
        status, next_at, result = try_failed(attempt=attempt, now=now, failure=failure)
        if status == Delivery.Status.FAILED:
            logger.warning("alert delivery %s failed after %s attempts: %s", delivery_id, attempt, result)
    else:
        status, next_at = Delivery.Status.DELIVERED, None
    # A retry is queued when due by deliveries_retry_due (the workers' sweep thread).
    try_result_record(model=Delivery, delivery_id=delivery_id, status=status, next_at=next_at, result=result)
    return status


# ----------------------------------------------------------------- tries, for any delivery log
#
# A delivery log is a model with the columns of Delivery's tries: `status` (the
# Delivery.Status names), `attempts`, `last_attempt_at`, `next_attempt_at`,
# `last_result`. Alerts and scheduled reports (monitoring.schedules) keep one each; both
# claim, back off and record their tries here, so one try is in flight at a time and
# the backoff is the same.


def try_claim(*, model, delivery_id, now: datetime) -> int | None:
    """Claims the next try of one delivery of `model`'s log if it is due and nobody is
    trying it: returns the try's number (from 1), or None when there is nothing to do."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        # A retry is claimed only once its backoff has passed since the previous try's
        # claim plus that try's longest run: a task queued twice (two sweeps, a restarted
        # cluster's tasks handed out again) never tries again right after a failure, and
        # the receiver has had time to see the previous connection closed.
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, last_attempt_at = %s"
            " WHERE id = %s AND (status = %s OR (status = %s AND (last_attempt_at IS NULL"
            " OR last_attempt_at <= %s - make_interval(secs => %s * power(3, greatest(attempts, 1) - 1) + %s))))"
            " RETURNING attempts",
            [
                Delivery.Status.SENDING, now, delivery_id, Delivery.Status.PENDING, Delivery.Status.RETRYING,
                now, settings.ALERT_RETRY_SECONDS, settings.ALERT_TIMEOUT_SECONDS,
            ],
        )
        claimed = cursor.fetchone()
    return None if claimed is None else claimed[0]


def try_failed(*, attempt: int, now: datetime, failure: DeliveryFailed) -> tuple[str, datetime | None, str]:
    """(status, next try due, result) after try `attempt`, claimed at `now`, failed:
    RETRYING with the backoff, or FAILED after ALERT_MAX_ATTEMPTS."""
    result = str(failure)[:500]
    if attempt >= settings.ALERT_MAX_ATTEMPTS:
        return Delivery.Status.FAILED, None, result
    # Due as try_claim counts it: the backoff after this try's longest run.
    due = now + timedelta(seconds=settings.ALERT_TIMEOUT_SECONDS) + retry_delay(attempt)
    return Delivery.Status.RETRYING, due, result


def try_result_record(*, model, delivery_id, status: str, next_at, result: str, tries: int = 5) -> None:
    """Records a try's result, on a new connection if the server dropped this one during
    the try: a delivered alert left SENDING would be sent again once its claim looks
    stuck. If the database stays away, the claim does look stuck later: sent again,
    which is the receiver's X-Delivery-Id to tell apart."""
    for attempt in range(1, tries + 1):
        try:
            model.objects.filter(pk=delivery_id).update(status=status, next_attempt_at=next_at, last_result=result)
            return
        except (OperationalError, InterfaceError):
            connection.close()
            if attempt == tries:
                raise
            time.sleep(0.2 * attempt)


#: A retry queued and not tried within this long (its queue entry lost) is queued again.
RETRY_LEASE = timedelta(seconds=60)


def deliveries_retry_due(*, now: datetime | None = None) -> list[int]:
    """Queues the retries that are due, each once: their next_attempt_at moves a lease
    ahead in the same UPDATE, so two workers sweeping at once queue a retry once (and
    the claim of delivery_attempt makes a second run a no-op anyway)."""
    now = now or timezone.now()
    due = tries_due(model=Delivery, now=now)
    deliveries_enqueue(delivery_ids=due)
    return due


def tries_due(*, model, now: datetime, statuses: tuple[str, ...] = (Delivery.Status.RETRYING,)) -> list:
    """The deliveries of `model`'s log in one of `statuses` whose next try is due, each
    returned once: their next_attempt_at moves RETRY_LEASE ahead in the same UPDATE."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_attempt_at = %s"
            " WHERE status = ANY(%s) AND next_attempt_at <= %s RETURNING id",
            [now + RETRY_LEASE, [str(status) for status in statuses], now],
        )
        return [row[0] for row in cursor.fetchall()]


def tries_stuck_release(*, model, now: datetime) -> int:
    """A claim of `model`'s log with no result after the longest try and a margin (its
    worker died): made a retry, due now. Strictly after the longest try
    (ALERT_TIMEOUT_SECONDS from its claim): a try still in flight is never queued again
    beside itself."""
    stuck_since = now - _STUCK_AFTER - timedelta(seconds=settings.ALERT_TIMEOUT_SECONDS)
    return model.objects.filter(status=Delivery.Status.SENDING, last_attempt_at__lt=stuck_since).update(
        status=Delivery.Status.RETRYING, next_attempt_at=now
    )


def deliveries_requeue(*, now: datetime | None = None) -> int:
    """Queues again what was lost: a delivery never queued (its request died after
    commit), a claim whose worker died (tried again as a retry), and the retries due
    (deliveries_retry_due, here too in case no sweep thread runs). Sending twice is not
    possible: an attempt is claimed first."""
    now = now or timezone.now()
    tries_stuck_release(model=Delivery, now=now)
    lost = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, created_at__lt=now - _STUCK_AFTER).values_list(
            "pk", flat=True
        )
    )
    deliveries_enqueue(delivery_ids=lost)
    return len(lost) + len(deliveries_retry_due(now=now))


#: The most of a response read: its status line and header. The body is never read
#: (the status says whether the alert was taken), so a receiver cannot feed us forever.
_HEAD_LIMIT = 16 * 1024
_STATUS_LINE = re.compile(rb"HTTP/1\.[0-9] ([0-9]{3})(?: [^\r\n]*)?")


def _send(delivery: Delivery, *, deadline: float) -> str:
    """One try: an email, or the signed POST. `deadline` (time.monotonic()) bounds the
    whole try, however slowly the other side answers."""
    webhook = delivery.webhook
    body = delivery_body(delivery)
    if webhook.is_email:
        return email_send(
            address=webhook.url[len("mailto:") :],
            subject=f"{delivery.event}: store {delivery.store.store_id}",
            message=json.dumps(json.loads(body), indent=2),
            deadline=deadline,
        )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "store-uptime-monitor-alerts/1",
        SIGNATURE_HEADER: signature(webhook.secret, body),
        "X-Delivery-Id": str(delivery.pk),
        "X-Alert-Event": delivery.event,
    }
    return webhook_post(url=webhook.url, body=body, headers=headers, deadline=deadline)


def email_send(*, address: str, subject: str, message: str, deadline: float) -> str:
    """One try by email, through Django's email framework; raises DeliveryFailed."""
    try:
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
            # The relay is the operator's (EMAIL_HOST), not the subscriber's: a
            # timeout per SMTP step (Django's default is none) is bound enough.
            connection=get_connection(timeout=max(deadline - time.monotonic(), 0.1)),
        )
    except Exception as error:  # any backend's failure is this attempt's failure
        raise DeliveryFailed(f"email: {type(error).__name__}: {error}") from error
    return "email sent"


def webhook_post(*, url: str, body: bytes, headers: dict[str, str], deadline: float) -> str:
    """POSTs `body` to `url`, done by `deadline` (time.monotonic()) or failed: the name
    is resolved once, every address it resolves to is checked (webhooks.address_problem),
    and the connection goes to a checked address, so a name that answers a public
    address to the check and a private one to the connection gets nothing (DNS
    rebinding). https: TLS verified against the URL's host name (and sent it as SNI);
    the Host header is the URL's. No proxy, no redirect (a 3xx is a failed try: the
    place it names was never checked), no body read. Returns `HTTP <status>` for a 2xx;
    raises DeliveryFailed otherwise."""
    try:
        target = webhook_target(url)
    except InvalidValue as error:
        raise DeliveryFailed(error.reason) from None
    limit = settings.ALERT_TIMEOUT_SECONDS
    if target.literal is not None:
        addresses = [target.literal]
    else:
        addresses = _resolved(target.host, target.port, deadline=deadline)
    for address in addresses:
        problem = address_problem(target.host, address)
        if problem:
            raise DeliveryFailed(problem)
    request = (
        f"POST {target.target} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii") + body
    try:
        stream = _connected(addresses, target.port, deadline=deadline)
        try:
            if target.scheme == "https":
                stream.settimeout(_left(deadline))
                # SNI and certificate checked against the name in the URL, not the address.
                stream = ssl.create_default_context().wrap_socket(stream, server_hostname=target.host)
            # Under a kilobyte: it goes into the socket's buffer at once, however slowly
            # the other side reads.
            stream.settimeout(_left(deadline))
            stream.sendall(request)
            code = _status(stream, deadline=deadline)
        finally:
            stream.close()
    except TimeoutError:
        raise DeliveryFailed(f"timed out: no answer within {limit:g} s") from None
    except OSError as error:  # refused, reset, unreachable, TLS and certificate errors
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
    if not 200 <= code < 300:
        raise DeliveryFailed(f"HTTP {code}")
    return f"HTTP {code}"


def _left(deadline: float) -> float:
    """The time left for this try, for the next blocking call; none left: timed out."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _resolved(host: str, port: int, *, deadline: float) -> list[Address]:
    """The addresses `host` resolves to (each once, in the resolver's order), asked in a
    thread so the wait is bounded: getaddrinfo itself cannot be given a timeout. A
    lookup still running at the deadline is left to finish on its own."""
    answer: dict = {}

    def lookup():
        try:
            answer["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            answer["error"] = error

    resolver = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    resolver.start()
    resolver.join(max(deadline - time.monotonic(), 0))
    if resolver.is_alive():
        raise DeliveryFailed(f"host {host!r}: no DNS answer within {settings.ALERT_TIMEOUT_SECONDS:g} s")
    if "error" in answer or not answer.get("infos"):
        raise DeliveryFailed(f"host {host!r} does not resolve")
    addresses: list[Address] = []
    for info in answer["infos"]:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _connected(addresses: list[Address], port: int, *, deadline: float) -> socket.socket:
    """A TCP connection to the first of `addresses` that answers before the deadline."""
    failure: OSError = OSError("no address")
    for address in addresses:
        try:
            # A literal address: create_connection resolves nothing more.
            return socket.create_connection((str(address), port), timeout=_left(deadline))
        except TimeoutError:
            raise
        except OSError as error:
            failure = error
    raise failure


def _status(stream: socket.socket, *, deadline: float) -> int:
    """The status of the response: reads its status line and header (at most
    _HEAD_LIMIT bytes), each read bounded by the time left, not a byte of the body.
    Interim (1xx) responses are skipped."""
    received = b""
    while True:
        end = received.find(b"\r\n\r\n")
        if end >= 0:
            head, received = received[:end], received[end + 4 :]
            found = _STATUS_LINE.fullmatch(head.split(b"\r\n", 1)[0])
            if found is None:
                raise DeliveryFailed("not an HTTP response")
            code = int(found[1])
            if code >= 200:
                return code
            continue  # 1xx: the response follows
        if len(received) >= _HEAD_LIMIT:
            raise DeliveryFailed(f"response header longer than {_HEAD_LIMIT} bytes")
        stream.settimeout(_left(deadline))
        chunk = stream.recv(_HEAD_LIMIT - len(received))
        if not chunk:
            raise DeliveryFailed("connection closed before a complete response header")
        received += chunk

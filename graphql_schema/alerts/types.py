"""GraphQL types of alerts (docs/rules.md §10): webhooks, their delivery log, the payloads of
`createWebhook` and `deleteWebhook`."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from django.db.models import Q, QuerySet

from graphql_schema.common.pagination import (
    KeysetPageInfo,
    bad_cursor,
    cursor_decode,
    cursor_encode,
    keyset_connection,
    keyset_first,
)
from graphql_schema.common.payloads import NULL_WHEN_REFUSED, UserErrorType, user_errors_field
from graphql_schema.common.scalars import rfc3339
from monitoring.alerts import escalation, events
from monitoring.alerts.models import Delivery, Webhook
from monitoring.kernel import values
from monitoring.kernel.values import InvalidValue

MAX_DELIVERIES = 100

@strawberry.enum(
    description=(
        "What happened to a store during its business hours. An evidence poll is a poll inside business hours;"
        " H is the report horizon (2 hours by default)."
    )
)
class AlertEvent(Enum):
    STORE_DOWN = strawberry.enum_value(
        events.STORE_DOWN,
        description="The newest evidence poll is inactive, after an active one (or as the first), as many in a row as"
        " the webhook's confirmPolls (count).",
    )
    STORE_UP = strawberry.enum_value(events.STORE_UP, description="An active evidence poll after STORE_DOWN.")
    STORE_SILENT = strawberry.enum_value(
        events.STORE_SILENT, description="Open for more than H (2 hours by default) of business time with no evidence poll."
    )
    STORE_DOWN_ESCALATED = strawberry.enum_value(
        escalation.STORE_DOWN_ESCALATED,
        description="An open incident unacknowledged for escalateAfterMinutes of business time; sent to the targets of"
        " the owner's escalation policy (setEscalationPolicy), not subscribed to by createWebhook's events.",
    )
    STORE_STILL_DOWN = strawberry.enum_value(
        escalation.STORE_STILL_DOWN,
        description="A reminder after STORE_DOWN_ESCALATED, every remindEveryMinutes of business time, at most"
        " maxReminders; sent to the escalation policy's targets.",
    )


@strawberry.enum(description="Where a delivery stands.")
class DeliveryStatus(Enum):
    PENDING = strawberry.enum_value(Delivery.Status.PENDING.value, description="Queued, not tried yet.")
    SENDING = strawberry.enum_value(Delivery.Status.SENDING.value, description="A worker is trying it now.")
    RETRYING = strawberry.enum_value(Delivery.Status.RETRYING.value, description="A try failed; another is due.")
    DELIVERED = strawberry.enum_value(Delivery.Status.DELIVERED.value, description="The receiver answered 2xx (or the email was sent).")
    FAILED = strawberry.enum_value(Delivery.Status.FAILED.value, description="Every try failed (ALERT_MAX_ATTEMPTS, 5 by default).")


@strawberry.type(description="One event for one webhook, and how its delivery went (one row per event, whatever the tries).")
class AlertDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's id (opaque).")
    event: AlertEvent = strawberry.field(description="The event.")
    store_id: str = strawberry.field(description="The store it concerns.")
    status: DeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="Tries made so far (count).")
    created_at: datetime = strawberry.field(description="When the event was found (the payload's `at`).")
    last_attempt_at: datetime | None = strawberry.field(description="When the last try started; null before the first.")
    poll_timestamp: datetime | None = strawberry.field(description="The poll that caused it (STORE_SILENT: the last evidence poll).")
    incident_started_at: datetime | None = strawberry.field(description="The first inactive evidence poll of the outage (STORE_DOWN, STORE_UP).")
    last_result: str = strawberry.field(description="The last try's outcome, e.g. `HTTP 500` or `timeout`; empty before the first.")

    @classmethod
    def of(cls, delivery: Delivery) -> "AlertDelivery":
        return cls(
            id=strawberry.ID(str(delivery.pk)),
            event=AlertEvent(delivery.event),
            store_id=delivery.store.store_id,
            status=DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
            poll_timestamp=delivery.poll_timestamp,
            incident_started_at=delivery.incident_started_at,
            last_result=delivery.last_result,
        )


@strawberry.type(description="One keyset page of a webhook's deliveries, newest first.")
class AlertDeliveryConnection:
    nodes: list[AlertDelivery] = strawberry.field(description="The deliveries of this page, newest first.")
    page_info: KeysetPageInfo = strawberry.field(description="The cursor of the next page and whether there is one.")
    edges: list["AlertDeliveryEdge"] = strawberry.field(description="The deliveries of this page with their cursors (as `nodes`).")
    _deliveries: strawberry.Private[QuerySet]

    @strawberry.field(description="How many deliveries the webhook's whole log holds (a count, run only when asked).")
    def total_count(self) -> int:
        return self._deliveries.count()


@strawberry.type(description="A delivery and its cursor.")
class AlertDeliveryEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the deliveries after this one.")
    node: AlertDelivery = strawberry.field(description="The delivery.")


def _delivery_cursor(delivery: Delivery) -> str:
    return cursor_encode(f"{rfc3339(delivery.created_at)}|{delivery.pk}")


def deliveries_page(*, webhook: Webhook, first: int | None, after: str | None) -> AlertDeliveryConnection:
    """A webhook's deliveries after the cursor (the last one's creation instant and id),
    newest first."""
    size = keyset_first(first)
    every = webhook.deliveries.all()
    rows = every.select_related("store").order_by("-created_at", "-pk")
    if after is not None:
        instant, _, pk = cursor_decode(after).partition("|")
        try:
            at = values.instant(instant, field="after")
        except InvalidValue:
            raise bad_cursor("after") from None
        if not pk.isascii() or not pk.isdigit():
            raise bad_cursor("after")
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=int(pk)))
    found = list(rows[: size + 1])
    page = found[:size]
    end_cursor = _delivery_cursor(page[-1]) if page else None
    nodes = [AlertDelivery.of(delivery) for delivery in page]
    return AlertDeliveryConnection(
        nodes=nodes,
        page_info=KeysetPageInfo(end_cursor=end_cursor, has_next_page=len(found) > size),
        edges=[AlertDeliveryEdge(cursor=_delivery_cursor(row), node=node) for row, node in zip(page, nodes)],
        _deliveries=every,
    )


@strawberry.type(name="Webhook", description="Where alerts go: an https URL (signed JSON POST) or a mailto: address (email).")
class WebhookType:
    id: strawberry.ID = strawberry.field(description="The webhook's id (unguessable).")
    url: str = strawberry.field(description="https://… or mailto:address.")
    events: list[AlertEvent] = strawberry.field(description="The events it hears of.")
    confirm_polls: int = strawberry.field(description="Consecutive inactive evidence polls before STORE_DOWN (count).")
    created_at: datetime = strawberry.field(description="When it was made.")
    _webhook: strawberry.Private[Webhook]

    @strawberry.field(description=f"Its newest deliveries first, at most `limit` (1–{MAX_DELIVERIES}).{NULL_WHEN_REFUSED}")
    def deliveries(
        self,
        limit: Annotated[int, strawberry.argument(description=f"How many (count, 1–{MAX_DELIVERIES}).")] = MAX_DELIVERIES,
    ) -> list[AlertDelivery] | None:
        from graphql_schema.common.errors import UserError

        if not 1 <= limit <= MAX_DELIVERIES:
            raise UserError(f"limit: must be from 1 to {MAX_DELIVERIES}", argument="limit")
        prefetched = getattr(self._webhook, "newest_deliveries", None)
        rows = prefetched if prefetched is not None else self._webhook.deliveries.select_related("store")[:MAX_DELIVERIES]
        return [AlertDelivery.of(delivery) for delivery in list(rows)[:limit]]

    @strawberry.field(
        description=(
            "Every delivery of the webhook, newest first, by keyset page: pass pageInfo.endCursor as `after` for"
            " the next (the log grows with each event; `deliveries` shows the newest only)." + NULL_WHEN_REFUSED
        )
    )
    def delivery_log(
        self,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, a count of deliveries: 0–500, default 100.")
        ] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> AlertDeliveryConnection | None:
        return deliveries_page(webhook=self._webhook, first=first, after=after)

    @classmethod
    def of(cls, webhook: Webhook) -> "WebhookType":
        return cls(
            id=strawberry.ID(str(webhook.pk)),
            url=webhook.url,
            events=[AlertEvent(name) for name in webhook.events],
            confirm_polls=webhook.confirm_polls,
            created_at=webhook.created_at,
            _webhook=webhook,
        )


WebhookEdge, WebhookConnection = keyset_connection(
    name="Webhook", node=WebhookType, item="A webhook", noun="webhook", plural="webhooks",
    page="webhooks, oldest first", counted="How many webhooks the whole list holds",
)


@strawberry.type(description="A new webhook and its signing secret, shown this once; or why none was made.")
class CreateWebhookPayload:
    webhook: WebhookType | None = strawberry.field(description="The webhook; null when refused.")
    secret: str | None = strawberry.field(
        description=(
            "Signs each delivery: header X-Signature-256 is `sha256=` and the hex HMAC-SHA256 of the raw body;"
            " null when refused."
        )
    )
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why the request was refused (a URL or confirmPolls refused); empty when the webhook was made."
    )


@strawberry.type(description="What `deleteWebhook` did.")
class DeleteWebhookPayload:
    deleted: bool = strawberry.field(
        description="True if the webhook existed (among the caller's) and is gone with its delivery log; false if there was none."
    )
    id: strawberry.ID = strawberry.field(description="The id asked for.")
    user_errors: list[UserErrorType] = strawberry.field(
        description="Why the request was refused (an id that is no webhook id); empty otherwise."
    )

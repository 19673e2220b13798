"""Alerts in GraphQL (docs/rules.md §10): `webhooks`, `createWebhook`, `deleteWebhook`; each
within the caller's access (an owner: their own webhooks, for their stores)."""

import uuid
from typing import Annotated

import strawberry
from django.db.models import Prefetch
from strawberry.types import Info

from graphql_schema.alerts.types import (
    MAX_DELIVERIES,
    AlertEvent,
    CreateWebhookPayload,
    DeleteWebhookPayload,
    WebhookType,
)
from graphql_schema.common.errors import UserError, request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.payloads import refused
from graphql_schema.limits.rate_limits import rate_limit
from monitoring.alerts.models import Delivery
from monitoring.alerts.webhooks import webhook_create, webhook_delete, webhooks_visible


@strawberry.type
class Query:
    @strawberry.field(description="The caller's webhooks (staff: all), oldest first, with their newest deliveries.")
    def webhooks(self, info: Info) -> list[WebhookType]:
        newest = Delivery.objects.select_related("store").order_by("-created_at")[:MAX_DELIVERIES]
        webhooks = webhooks_visible(access=permitted_access(info, "webhooks.manage")).prefetch_related(
            Prefetch("deliveries", queryset=newest, to_attr="newest_deliveries")
        )
        return [WebhookType.of(webhook) for webhook in webhooks]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Subscribes an https URL (or mailto:address) to alerts of the caller's stores (staff: every store)."
            " `events`: all when omitted; `confirmPolls`: inactive evidence polls before STORE_DOWN (default 1)."
            " The secret is returned this once."
        )
    )
    def create_webhook(
        self,
        info: Info,
        url: Annotated[str, strawberry.argument(description="https://… (signed JSON POST) or mailto:address (email).")],
        events: Annotated[
            list[AlertEvent] | None, strawberry.argument(description="The events to hear of; all when omitted.")
        ] = None,
        confirm_polls: Annotated[
            int | None,
            strawberry.argument(description="Consecutive inactive evidence polls before STORE_DOWN (count, 1–100; default 1)."),
        ] = None,
    ) -> CreateWebhookPayload:
        rate_limit(info, scope="writes")
        webhook, secret = webhook_create(
            access=request_access(info),
            url=url,
            events=[event.value for event in events] if events else None,
            confirm=confirm_polls,
        )
        return CreateWebhookPayload(webhook=WebhookType.of(webhook), secret=secret)

    @strawberry.mutation(
        description="Deletes one of the caller's webhooks and its delivery log: `deleted` says whether it existed."
    )
    def delete_webhook(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The webhook's id.")]
    ) -> DeleteWebhookPayload:
        rate_limit(info, scope="writes")
        try:
            webhook_id = uuid.UUID(str(id))
        except ValueError:
            error = UserError(f"id: not a webhook id: {id!r}", argument="id")
            return DeleteWebhookPayload(deleted=False, id=id, user_errors=refused(info, error))
        deleted = webhook_delete(access=request_access(info), webhook_id=webhook_id)
        return DeleteWebhookPayload(deleted=deleted, id=id, user_errors=[])


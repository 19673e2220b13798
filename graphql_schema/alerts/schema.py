"""Alerts in GraphQL (docs/rules.md §10): `webhooks`, `createWebhook`, `deleteWebhook`; each
within the caller's access (an owner: their own webhooks, for their stores)."""

import uuid
from typing import Annotated

import strawberry
from django.db.models import Prefetch, QuerySet
from strawberry.types import Info

from graphql_schema.alerts.types import (
    MAX_DELIVERIES,
    AlertEvent,
    CreateWebhookPayload,
    DeleteWebhookPayload,
    WebhookConnection,
    WebhookType,
)
from graphql_schema.common.errors import UserError, request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.pagination import keyset_by_instant
from graphql_schema.common.payloads import NULL_WHEN_REFUSED, REFUSALS, refused
from graphql_schema.limits.rate_limits import rate_limit
from graphql_schema.alerts.incidents import (
    AcknowledgeIncidentPayload,
    AddIncidentNotePayload,
    IncidentConnection,
    IncidentNoteType,
    IncidentStatus,
    IncidentType,
    incident_id_argument,
    incident_of,
    incidents_page,
)
from graphql_schema.alerts.policies import EscalationPolicyType, SetEscalationPolicyPayload
from monitoring.alerts.policies import escalation_policy_of, escalation_policy_set
from monitoring.alerts.incidents import actor_of, incident_acknowledge, incident_note_add
from monitoring.alerts.models import Delivery, Webhook
from monitoring.alerts.webhooks import webhook_create, webhook_delete, webhooks_visible


def _with_newest_deliveries(webhooks: QuerySet[Webhook]) -> QuerySet[Webhook]:
    """The webhooks with their newest deliveries (Webhook.deliveries), one query for them all."""
    newest = Delivery.objects.select_related("store").order_by("-created_at")[:MAX_DELIVERIES]
    return webhooks.prefetch_related(Prefetch("deliveries", queryset=newest, to_attr="newest_deliveries"))


@strawberry.type
class Query:
    @strawberry.field(description="The caller's webhooks (staff: all), oldest first, with their newest deliveries.")
    def webhooks(self, info: Info) -> list[WebhookType]:
        webhooks = _with_newest_deliveries(webhooks_visible(access=permitted_access(info, "webhooks.manage")))
        return [WebhookType.of(webhook) for webhook in webhooks]

    @strawberry.field(
        description=(
            "The caller's webhooks (staff: all, of every owner), oldest first, by keyset page: pass"
            " pageInfo.endCursor as `after` for the next." + NULL_WHEN_REFUSED
        )
    )
    def webhooks_connection(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of webhooks: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> WebhookConnection | None:
        visible = webhooks_visible(access=permitted_access(info, "webhooks.manage"))
        page, more, cursor_of = keyset_by_instant(
            _with_newest_deliveries(visible), field="created_at", first=first, after=after, newest_first=False
        )
        return WebhookConnection.of(rows=visible, page=page, more=more, cursor_of=cursor_of, node_of=WebhookType.of)

    @strawberry.field(
        description=(
            "The incidents of the caller's stores (staff: all): OPEN ones first, then the newest started first."
            " Keyset pages: pass pageInfo.endCursor as `after` for the next. Null, with an error naming the argument, when an argument is refused (or the caller may not read it)."
        )
    )
    def incidents(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of incidents: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
        status: Annotated[IncidentStatus | None, strawberry.argument(description="Only incidents in this status.")] = None,
    ) -> IncidentConnection | None:
        return incidents_page(access=request_access(info), first=first, after=after, status=status)

    @strawberry.field(description="An owner's escalation policy (an owner: their own; staff name the owner); null when none is set.")
    def escalation_policy(
        self,
        info: Info,
        owner: Annotated[str | None, strawberry.argument(description="The owner's name (staff only; owners read their own).")] = None,
    ) -> EscalationPolicyType | None:
        policy = escalation_policy_of(access=request_access(info), owner_name=owner)
        return None if policy is None else EscalationPolicyType.of(policy)

    @strawberry.field(description="One incident of the caller's stores by id; null with a NOT_FOUND error when there is none.")
    def incident(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The incident's id.")]
    ) -> IncidentType | None:
        return incident_of(access=request_access(info), incident_id=incident_id_argument(id))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Subscribes an https URL (or mailto:address) to alerts of the caller's stores (staff: every store)."
            " `events`: all when omitted; `confirmPolls`: inactive evidence polls before STORE_DOWN (default 1)."
            " The secret is returned this once. Input refused: `userErrors`, nothing made."
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
        try:
            webhook, secret = webhook_create(
                access=request_access(info),
                url=url,
                events=[event.value for event in events] if events else None,
                confirm=confirm_polls,
            )
        except REFUSALS as error:
            return CreateWebhookPayload(webhook=None, secret=None, user_errors=refused(info, error))
        return CreateWebhookPayload(webhook=WebhookType.of(webhook), secret=secret, user_errors=[])

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


    @strawberry.mutation(
        description=(
            "Acknowledges an incident (who and when: the first acknowledgement stands), with an optional note:"
            " it escalates no further. Needs write access to the store."
        )
    )
    def acknowledge_incident(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The incident's id.")],
        note: Annotated[str | None, strawberry.argument(description="A note to add (at most 2000 characters).")] = None,
    ) -> AcknowledgeIncidentPayload:
        rate_limit(info, scope="writes")
        access = request_access(info)
        try:
            incident_id = incident_id_argument(id)
            incident_acknowledge(
                access=access, incident_id=incident_id, actor=actor_of(caller=info.context.request.caller), note=note
            )
        except REFUSALS as error:
            return AcknowledgeIncidentPayload(incident=None, user_errors=refused(info, error))
        return AcknowledgeIncidentPayload(incident=incident_of(access=access, incident_id=incident_id), user_errors=[])

    @strawberry.mutation(description="Adds a note to an incident. Needs write access to the store.")
    def add_incident_note(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The incident's id.")],
        text: Annotated[str, strawberry.argument(description="The note (1–2000 characters).")],
    ) -> AddIncidentNotePayload:
        rate_limit(info, scope="writes")
        access = request_access(info)
        try:
            incident_id = incident_id_argument(id)
            note = incident_note_add(
                access=access, incident_id=incident_id, actor=actor_of(caller=info.context.request.caller), text=text
            )
        except REFUSALS as error:
            return AddIncidentNotePayload(incident=None, note=None, user_errors=refused(info, error))
        return AddIncidentNotePayload(
            incident=incident_of(access=access, incident_id=incident_id), note=IncidentNoteType.of(note), user_errors=[]
        )

    @strawberry.mutation(
        description=(
            "Creates or changes an owner's escalation policy: the values given replace the current ones (a new policy"
            " starts from 15, 30, 3 and 0); `targets`, when given, replaces the targets. Owners set their own; staff"
            " name the owner."
        )
    )
    def set_escalation_policy(
        self,
        info: Info,
        owner: Annotated[str | None, strawberry.argument(description="The owner's name (staff only).")] = None,
        escalate_after_minutes: Annotated[
            int | None, strawberry.argument(description="Business minutes before STORE_DOWN_ESCALATED (1–1440).")
        ] = None,
        remind_every_minutes: Annotated[
            int | None, strawberry.argument(description="Business minutes between reminders (1–1440).")
        ] = None,
        max_reminders: Annotated[int | None, strawberry.argument(description="The most reminders (count, 0–20).")] = None,
        quiet_before_close_minutes: Annotated[
            int | None, strawberry.argument(description="The last minutes before closing, with nothing sent (0–1440).")
        ] = None,
        targets: Annotated[
            list[strawberry.ID] | None, strawberry.argument(description="Webhook ids of the owner (at most 20).")
        ] = None,
    ) -> SetEscalationPolicyPayload:
        rate_limit(info, scope="writes")
        try:
            policy = escalation_policy_set(
                access=request_access(info),
                owner_name=owner,
                escalate_after_minutes=escalate_after_minutes,
                remind_every_minutes=remind_every_minutes,
                max_reminders=max_reminders,
                quiet_before_close_minutes=quiet_before_close_minutes,
                target_ids=targets,
            )
        except REFUSALS as error:
            return SetEscalationPolicyPayload(policy=None, user_errors=refused(info, error))
        return SetEscalationPolicyPayload(policy=EscalationPolicyType.of(policy), user_errors=[])

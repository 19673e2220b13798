"""Escalation policies in GraphQL (docs/rules.md §13): `escalationPolicy`, `setEscalationPolicy`."""

from datetime import datetime

import strawberry

from graphql_schema.alerts.types import WebhookType
from graphql_schema.common.fields import priced
from graphql_schema.common.payloads import UserErrorType, user_errors_field
from monitoring.alerts.models import EscalationPolicy
from monitoring.alerts.policies import MAX_TARGETS


@strawberry.type(
    name="EscalationPolicy",
    description=(
        "How an owner's open, unacknowledged incidents escalate; minutes are business minutes of the store"
        " (nothing is sent while it is closed, nor in the quiet window before it closes)."
    ),
)
class EscalationPolicyType:
    owner: str = strawberry.field(description="The owner whose stores it covers.")
    escalate_after_minutes: int = strawberry.field(
        description="Business minutes an incident stays unacknowledged before STORE_DOWN_ESCALATED."
    )
    remind_every_minutes: int = strawberry.field(description="Business minutes between STORE_STILL_DOWN reminders.")
    max_reminders: int = strawberry.field(description="The most STORE_STILL_DOWN reminders per incident (count).")
    quiet_before_close_minutes: int = strawberry.field(
        description="The last minutes before a store closes, in which nothing is sent."
    )
    targets: list[WebhookType] = strawberry.field(
        description="Where the escalations go (webhooks, signed as alerts).", metadata=priced(max_items=MAX_TARGETS)
    )
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def of(cls, policy: EscalationPolicy) -> "EscalationPolicyType":
        return cls(
            owner=policy.owner.name,
            escalate_after_minutes=policy.escalate_after_minutes,
            remind_every_minutes=policy.remind_every_minutes,
            max_reminders=policy.max_reminders,
            quiet_before_close_minutes=policy.quiet_before_close_minutes,
            targets=[WebhookType.of(webhook) for webhook in policy.targets.order_by("created_at")],
            updated_at=policy.updated_at,
        )


@strawberry.type(description="What `setEscalationPolicy` did.")
class SetEscalationPolicyPayload:
    policy: EscalationPolicyType | None = strawberry.field(description="The policy as stored; null when refused.")
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why it was refused (a number out of range, an unknown target or owner); empty otherwise."
    )

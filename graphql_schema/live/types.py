"""GraphQL types of live updates (docs/rules.md §14): the events a subscription delivers."""

from datetime import datetime

import strawberry

from graphql_schema.alerts.types import AlertEvent
from monitoring.kernel.values import instant


@strawberry.type(description="One event of one store, delivered live (the events of webhooks, docs/api.md).")
class StoreEvent:
    id: strawberry.ID = strawberry.field(
        description="Stable: the same event has the same id on every connection (drop what you have already seen)."
    )
    event: AlertEvent = strawberry.field(description="What happened.")
    store_id: strawberry.ID = strawberry.field(description="The store it concerns.")
    at: datetime = strawberry.field(description="When the server found it (a webhook payload's `at`).")
    poll_timestamp: datetime | None = strawberry.field(
        description="The poll that caused it (STORE_SILENT: the last evidence poll before the silence)."
    )
    incident_started_at: datetime | None = strawberry.field(
        description="The first inactive evidence poll of the outage (STORE_DOWN, STORE_UP, escalations); null for STORE_SILENT."
    )
    incident_id: strawberry.ID | None = strawberry.field(
        description="The incident escalated (STORE_DOWN_ESCALATED, STORE_STILL_DOWN); null for the other events."
    )

    @classmethod
    def of(cls, fields: dict) -> "StoreEvent":
        """From a published event (monitoring.live.events)."""

        def moment(value: str | None) -> datetime | None:
            return None if value is None else instant(value, field="at")

        return cls(
            id=strawberry.ID(fields["id"]),
            event=AlertEvent(fields["event"]),
            store_id=strawberry.ID(fields["store_id"]),
            at=instant(fields["at"], field="at"),
            poll_timestamp=moment(fields["poll_timestamp"]),
            incident_started_at=moment(fields["incident_started_at"]),
            incident_id=None if fields.get("incident_id") is None else strawberry.ID(fields["incident_id"]),
        )

"""Incidents in GraphQL (docs/rules.md §13): the `Incident` type, the caller's `incidents`
connection (open first), `acknowledgeIncident` and `addIncidentNote`."""

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from graphql_schema.common.errors import ErrorCode, UserError
from graphql_schema.common.fields import priced
from graphql_schema.common.pagination import KeysetPageInfo, bad_cursor, cursor_decode, cursor_encode, keyset_first
from graphql_schema.common.payloads import UserErrorType, user_errors_field
from graphql_schema.common.scalars import rfc3339
from graphql_schema.history.revenue import LazyLostRevenue, LostRevenueType
from monitoring import history
from monitoring.alerts import escalation
from monitoring.alerts.incidents import MAX_NOTES, incident_windows, incidents_open_first
from monitoring.alerts.models import Incident, IncidentEscalation, IncidentNote
from monitoring.kernel import values
from monitoring.kernel.periods import default_horizon
from monitoring.kernel.values import InvalidValue
from monitoring.stores.access import Access



@strawberry.enum(description="Where an incident stands.")
class IncidentStatus(Enum):
    OPEN = strawberry.enum_value(Incident.Status.OPEN.value, description="The store is still known down.")
    RESOLVED = strawberry.enum_value(Incident.Status.RESOLVED.value, description="An active evidence poll ended it.")


@strawberry.enum(description="An escalation step sent for an open, unacknowledged incident.")
class EscalationEvent(Enum):
    STORE_DOWN_ESCALATED = strawberry.enum_value(
        escalation.STORE_DOWN_ESCALATED, description="Open and unacknowledged for escalateAfterMinutes of business time."
    )
    STORE_STILL_DOWN = strawberry.enum_value(
        escalation.STORE_STILL_DOWN, description="A reminder, remindEveryMinutes of business time after the previous step."
    )


@strawberry.type(name="IncidentNote", description="A note on an incident: who wrote what, when.")
class IncidentNoteType:
    id: strawberry.ID = strawberry.field(description="The note's id (stable).")
    author: str = strawberry.field(description="Who wrote it (the name of a token or a user).")
    text: str = strawberry.field(description="The note.")
    created_at: datetime = strawberry.field(description="When it was written.")

    @classmethod
    def of(cls, note: IncidentNote) -> "IncidentNoteType":
        return cls(id=strawberry.ID(str(note.pk)), author=note.author, text=note.text, created_at=note.created_at)


@strawberry.type(name="IncidentEscalation", description="An escalation step sent to the escalation targets.")
class IncidentEscalationType:
    id: strawberry.ID = strawberry.field(description="The step's id (stable).")
    sequence: int = strawberry.field(description="0 for STORE_DOWN_ESCALATED, then 1, 2, … for each reminder (count).")
    event: EscalationEvent = strawberry.field(description="The event sent.")
    sent_at: datetime = strawberry.field(description="When it was found due and sent.")


@strawberry.type(
    name="Incident",
    description=(
        "An outage that started live (docs/rules.md §13): OPEN until the store is known up again, then RESOLVED."
        " Its id is stable."
    ),
)
class IncidentType:
    id: strawberry.ID = strawberry.field(description="The incident's id (stable, unguessable).")
    status: IncidentStatus = strawberry.field(description="OPEN or RESOLVED.")
    started_at: datetime = strawberry.field(description="The first inactive evidence poll of the outage.")
    resolved_at: datetime | None = strawberry.field(description="The active evidence poll that ended it; null while open.")
    acknowledged_at: datetime | None = strawberry.field(description="When it was first acknowledged; null if not.")
    acknowledged_by: str | None = strawberry.field(description="Who acknowledged it; null if nobody has.")
    _incident: strawberry.Private[Incident]
    _revenue: strawberry.Private[LazyLostRevenue | None] = None
    _revenue_index: strawberry.Private[int] = 0

    @strawberry.field(
        description=(
            "Revenue the incident cost so far (docs/rules.md §13), from its start to its end (open: now), as"
            " Store.incidents prices an outage; null when the store has no expected revenue."
        )
    )
    def lost_revenue(self) -> LostRevenueType | None:
        revenue = self._revenue if self._revenue is not None else incidents_lost_revenue([self._incident])
        return revenue.item(self._revenue_index)

    @strawberry.field(description="The store that is down.")
    def store(self) -> Annotated["StoreType", strawberry.lazy("graphql_schema.stores.types")]:  # noqa: F821
        return self._incident.store

    @strawberry.field(description="Its notes, oldest first.", metadata=priced(max_items=MAX_NOTES))
    def notes(self) -> list[IncidentNoteType]:
        return [IncidentNoteType.of(note) for note in self._incident.notes.all()]

    @strawberry.field(description="The escalation steps sent, in order.", metadata=priced(max_items=escalation.MAX_REMINDERS + 1))
    def escalations(self) -> list[IncidentEscalationType]:
        return [
            IncidentEscalationType(
                id=strawberry.ID(str(step.pk)), sequence=step.sequence, event=EscalationEvent(step.event), sent_at=step.sent_at
            )
            for step in self._incident.escalations.all()
        ]

    @classmethod
    def of(cls, incident: Incident, revenue: LazyLostRevenue | None = None, index: int = 0) -> "IncidentType":
        return cls(
            id=strawberry.ID(str(incident.pk)),
            status=IncidentStatus(incident.status),
            started_at=incident.started_at,
            resolved_at=incident.resolved_at,
            acknowledged_at=incident.acknowledged_at,
            acknowledged_by=incident.acknowledged_by or None,
            _incident=incident,
            _revenue=revenue,
            _revenue_index=index,
        )


def incidents_lost_revenue(incidents: list[Incident]) -> LazyLostRevenue:
    """The lost revenue of each incident, in one engine pass the first time one of them is
    read: over its outage as Store.incidents finds it (incident_windows)."""

    def compute():
        horizon = default_horizon()
        stores = list({i.store_id: (i.store_id, i.store.store_id, i.store.timezone_name) for i in incidents}.values())
        position = {pk: index for index, (pk, _, _) in enumerate(stores)}
        starts, ends = incident_windows(incidents=incidents, horizon=horizon, now=timezone.now())
        return history.lost_revenue_of_windows(
            stores=stores,
            window_store=[position[i.store_id] for i in incidents],
            window_start=starts,
            window_end=ends,
            horizon=horizon,
        )

    return LazyLostRevenue(compute)


@strawberry.type(name="IncidentEdge", description="An incident and its cursor.")
class IncidentEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the incidents after this one.")
    node: IncidentType = strawberry.field(description="The incident.")


@strawberry.type(name="IncidentConnection", description="A keyset page of incidents: open ones first, then newest first.")
class IncidentConnection:
    edges: list[IncidentEdge] = strawberry.field(description="The incidents of this page.")
    page_info: KeysetPageInfo = strawberry.field(description="The cursor of the next page and whether there is one.")
    total_count: int = strawberry.field(description="How many incidents the whole list holds (a count).")


def with_details(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents with what their fields read, in a fixed number of queries per page."""
    return incidents.select_related("store").prefetch_related(
        Prefetch("notes", queryset=IncidentNote.objects.order_by("created_at", "pk")),
        Prefetch("escalations", queryset=IncidentEscalation.objects.order_by("sequence")),
    )


def open_incidents_prefetch() -> Prefetch:
    """A store's OPEN incidents (at most one, but for a race), as `open_incident_records`."""
    return Prefetch(
        "incident_records",
        queryset=with_details(Incident.objects.filter(status=Incident.Status.OPEN).order_by("-started_at")),
        to_attr="open_incident_records",
    )


def incident_records_of_outages(*, store, outages: list[tuple[datetime, datetime]]) -> list[Incident | None]:
    """For each outage [start, end] of the store (Store.incidents), the incident recorded
    for it: the one whose first inactive evidence poll lies within it (one query)."""
    if not outages:
        return []
    records = list(
        with_details(Incident.objects.filter(
            store=store, started_at__gte=min(s for s, _ in outages), started_at__lte=max(e for _, e in outages)
        )).order_by("started_at")
    )
    return [next((r for r in records if start <= r.started_at <= end), None) for start, end in outages]


def _cursor(incident: Incident) -> str:
    return cursor_encode(f"{incident.open_rank}|{rfc3339(incident.started_at)}|{incident.pk}")


def _after(cursor: str) -> Q:
    """The incidents after the one the cursor names, in the list's order."""
    try:
        rank_text, started_text, id_text = cursor_decode(cursor).split("|")
        rank, started, incident_id = int(rank_text), values.instant(started_text, field="after"), uuid.UUID(id_text)
    except (ValueError, InvalidValue):
        raise bad_cursor("after") from None
    return (
        Q(open_rank__gt=rank)
        | Q(open_rank=rank, started_at__lt=started)
        | Q(open_rank=rank, started_at=started, id__lt=incident_id)
    )


def incidents_page(*, access: Access, first: int | None, after: str | None, status: IncidentStatus | None) -> IncidentConnection:
    size = keyset_first(first)
    incidents = incidents_open_first(access=access)
    if status is not None:
        incidents = incidents.filter(status=status.value)
    total = incidents.count()
    if after is not None:
        incidents = incidents.filter(_after(after))
    rows = list(with_details(incidents)[: size + 1])
    page = rows[:size]
    revenue = incidents_lost_revenue(page)
    return IncidentConnection(
        edges=[
            IncidentEdge(cursor=_cursor(incident), node=IncidentType.of(incident, revenue, index))
            for index, incident in enumerate(page)
        ],
        page_info=KeysetPageInfo(end_cursor=_cursor(page[-1]) if page else None, has_next_page=len(rows) > size),
        total_count=total,
    )


def incident_id_argument(value: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise UserError(f"id: not an incident id: {str(value)[:60]!r}", argument="id") from None


def incident_of(*, access: Access, incident_id: uuid.UUID) -> IncidentType:
    incident = with_details(incidents_open_first(access=access)).filter(pk=incident_id).first()
    if incident is None:
        raise UserError(f"id: no incident {str(incident_id)!r}", argument="id", code=ErrorCode.NOT_FOUND)
    return IncidentType.of(incident)


@strawberry.type(description="What `acknowledgeIncident` did.")
class AcknowledgeIncidentPayload:
    incident: IncidentType | None = strawberry.field(description="The incident, acknowledged; null when refused.")
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why it was refused (no such incident, no write access, a note too long); empty otherwise."
    )


@strawberry.type(description="What `addIncidentNote` did.")
class AddIncidentNotePayload:
    incident: IncidentType | None = strawberry.field(description="The incident with its notes; null when refused.")
    note: IncidentNoteType | None = strawberry.field(description="The note added; null when refused.")
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why it was refused (no such incident, no write access, an empty or too long text); empty otherwise."
    )

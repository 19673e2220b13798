"""Incidents as records (docs/rules.md §13): opened and resolved by the alert evaluation
(live STORE_DOWN, then the store known up again), acknowledged and annotated by those
who may write to the store, listed within the caller's access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from monitoring.alerts.models import Incident, IncidentNote
from monitoring.engine import from_us
from monitoring.kernel.errors import InputError
from monitoring.kernel.values import InvalidValue
from monitoring.models import ApiToken
from monitoring.audit import audit_record
from monitoring.stores.access import Access, require, stores_visible

MAX_NOTE_LENGTH = 2000
#: Notes one incident holds (a list a page shows whole).
MAX_NOTES = 100


class IncidentNotFound(InputError):
    """No incident with this id among those the caller may see (the two are not told apart)."""

    code = "NOT_FOUND"

    def __init__(self, incident_id) -> None:
        super().__init__(f"no incident {str(incident_id)!r}", field="id")


@dataclass(frozen=True)
class Actor:
    """Who acts, as incidents record it: a name shown beside the acknowledgement or note."""

    name: str


def incidents_visible(*, access: Access) -> QuerySet[Incident]:
    """The incidents of the stores `access` sees (stores_visible: the one tenancy rule)."""
    return Incident.objects.filter(store__in=stores_visible(access=access))


def incidents_open_first(*, access: Access) -> QuerySet[Incident]:
    """The visible incidents, OPEN ones first, then the newest started first."""
    return incidents_visible(access=access).annotate(
        open_rank=Case(When(status=Incident.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("open_rank", "-started_at", "-id")


def open_incidents_of(*, store_pks) -> dict[int, Incident]:
    """Each of these stores' OPEN incident (the newest, should there be two), with its
    notes: what the store and fleet pages show. The caller has filtered the stores
    through stores_visible."""
    incidents = (
        Incident.objects.filter(store_id__in=list(store_pks), status=Incident.Status.OPEN)
        .select_related("store")
        .prefetch_related("notes")
        .order_by("store_id", "-started_at")
        .distinct("store_id")
    )
    return {incident.store_id: incident for incident in incidents}


def incident_windows(*, incidents: list[Incident], horizon: timedelta, now: datetime) -> tuple[list, list]:
    """(starts, ends) of the windows that hold each incident's outage and nothing of
    another: from the last active poll before its start (within H; the down time the
    engine reads between that poll and the first inactive one belongs to this outage),
    to the active poll that resolved it (open: `now`)."""
    if not incidents:
        return [], []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT max(p.timestamp_utc) FROM monitoring_statuspoll p WHERE p.store_id = v.store_pk"
            "  AND p.is_active AND p.timestamp_utc < v.started AND p.timestamp_utc >= v.started - %s)"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) WITH ORDINALITY AS v(store_pk, started, n) ORDER BY v.n",
            [horizon, [i.store_id for i in incidents], [i.started_at for i in incidents]],
        )
        before = [row[0] for row in cursor.fetchall()]
    starts = [active or incident.started_at - horizon for incident, active in zip(incidents, before)]
    ends = [max(incident.resolved_at or now, incident.started_at) for incident in incidents]
    return starts, ends


def _incident_for_write(*, access: Access, incident_id) -> Incident:
    """The incident, locked, once `access` may acknowledge it and write notes (docs/rules.md
    §12: OPERATOR and above, with the `admin` scope); else NOT_FOUND or FORBIDDEN."""
    incident = (
        incidents_visible(access=access).select_related("store").select_for_update(of=("self",)).filter(pk=incident_id).first()
    )
    if incident is None:
        raise IncidentNotFound(incident_id)
    require(access, "incident.acknowledge")
    return incident


def note_text(text: str | None, *, field: str) -> str | None:
    """A note's text, trimmed; None when absent or blank. Refused when too long."""
    if text is None:
        return None
    text = text.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidValue(field, f"at most {MAX_NOTE_LENGTH} characters (got {len(text)})")
    return text or None


def _room_for_a_note(incident: Incident, *, field: str) -> None:
    if incident.notes.count() >= MAX_NOTES:
        raise InvalidValue(field, f"an incident holds at most {MAX_NOTES} notes")


def incident_acknowledge(
    *, access: Access, incident_id, actor: Actor, note: str | None = None, now: datetime | None = None
) -> Incident:
    """Acknowledges an incident (who and when; the first acknowledgement stands) and adds
    the note, if any. Acknowledged, an incident escalates no further."""
    text = note_text(note, field="note")
    with transaction.atomic():
        incident = _incident_for_write(access=access, incident_id=incident_id)
        if incident.acknowledged_at is None:
            before = {"acknowledged_at": None, "acknowledged_by": incident.acknowledged_by}
            incident.acknowledged_at = now or timezone.now()
            incident.acknowledged_by = actor.name
            incident.save(update_fields=["acknowledged_at", "acknowledged_by"])
            _audit(access=access, incident=incident, action="incident.acknowledge", before=before,
                   after={"acknowledged_at": incident.acknowledged_at, "acknowledged_by": actor.name})
        if text:
            _room_for_a_note(incident, field="note")
            _note_create(access=access, incident=incident, actor=actor, text=text)
    return incident


def incident_note_add(*, access: Access, incident_id, actor: Actor, text: str) -> IncidentNote:
    """Adds a note to an incident."""
    checked = note_text(text, field="text")
    if checked is None:
        raise InvalidValue("text", "a note needs some text")
    with transaction.atomic():
        incident = _incident_for_write(access=access, incident_id=incident_id)
        _room_for_a_note(incident, field="text")
        return _note_create(access=access, incident=incident, actor=actor, text=checked)


def _note_create(*, access: Access, incident: Incident, actor: Actor, text: str) -> IncidentNote:
    note = IncidentNote.objects.create(incident=incident, author=actor.name, text=text)
    _audit(access=access, incident=incident, action="incident.note", after={"author": actor.name, "text": text})
    return note


def _audit(*, access: Access, incident: Incident, action: str, after: dict, before: dict | None = None) -> None:
    audit_record(
        actor=access.actor, action=action, object_type="incident", object_id=incident.pk, before=before, after=after,
        organization_id=incident.store.owner_id,
    )


# ------------------------------------------------------------ kept by the alert evaluation

def incidents_record(cursor, *, opened: list[tuple[int, int]], resolved: list[tuple[int, int]]) -> list[str]:
    """Inside the evaluation's transaction: an incident per live STORE_DOWN (store pk,
    its start in µs; once per outage whatever the webhooks' confirmPolls), and the open
    incidents of stores known up again (store pk, the active evidence poll in µs)
    resolved. Returns the ids of the incidents opened."""
    opened_ids: list[str] = []
    if opened:
        cursor.execute(
            "INSERT INTO alerts_incident (id, store_id, started_at, status, acknowledged_by, created_at)"
            " SELECT gen_random_uuid(), v.store_pk, v.started, %s, '', now()"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(store_pk, started)"
            " ON CONFLICT (store_id, started_at) DO NOTHING RETURNING id",
            [Incident.Status.OPEN, [pk for pk, _ in opened], [from_us(at) for _, at in opened]],
        )
        opened_ids = [str(row[0]) for row in cursor.fetchall()]
    if resolved:
        cursor.execute(
            "UPDATE alerts_incident i SET status = %s, resolved_at = v.up_at"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(store_pk, up_at)"
            " WHERE i.store_id = v.store_pk AND i.status = %s AND i.started_at < v.up_at",
            [Incident.Status.RESOLVED, [pk for pk, _ in resolved], [from_us(at) for _, at in resolved], Incident.Status.OPEN],
        )
    return opened_ids


def actor_of(*, caller: str) -> Actor:
    """Who a request's caller is (Credentials.caller: `token:<pk>`, `user:<pk>`,
    `address:<client>`), by a name people recognise."""
    kind, _, key = caller.partition(":")
    if kind == "token" and key.isdigit():
        token = ApiToken.objects.select_related("owner").filter(pk=int(key)).first()
        if token is not None:
            return Actor(f"token {token.name}" + (f" ({token.owner.name})" if token.owner else " (staff)"))
    if kind == "user" and key.isdigit():
        user = get_user_model().objects.filter(pk=int(key)).first()
        if user is not None:
            return Actor(f"user {user.get_username()}")
    return Actor("anonymous")

"""Store events told to live subscribers (docs/rules.md §14): published through the
channel layer (settings.CHANNEL_LAYERS: PostgreSQL's LISTEN/NOTIFY, or Redis) once the
write that caused them commits, from whichever process made it (a web process, a
worker), to the audiences of each store's owner (monitoring.stores.access).

A message is a batch of events (NOTIFY carries at most 8,000 bytes): `{"type":
LIVE_EVENTS, "events": [event, …]}`, each event a dict of text and numbers
(`live_event_fields`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from monitoring.kernel.values import instant_text
from monitoring.models import Store
from monitoring.organizations.models import Group
from monitoring.stores.access import store_audiences

logger = logging.getLogger(__name__)

#: The channel-layer message type of a batch of store events.
LIVE_EVENTS = "live.store_events"
#: Events per message: each is ~300 bytes of JSON, NOTIFY takes 8,000.
BATCH = 16


@dataclass(frozen=True)
class StoreEvent:
    """One event of one store, as the alert evaluation found it."""

    event: str
    store_pk: int
    poll_at: datetime | None  # the poll that caused it (STORE_SILENT: the last evidence poll)
    incident_started_at: datetime | None
    # An escalation step (STORE_DOWN_ESCALATED, STORE_STILL_DOWN): its incident and sequence.
    incident_id: str | None = None
    step: int | None = None


def group_name(audience: str) -> str:
    """The channel-layer group of an audience."""
    return f"live.{audience}"


def event_id(*, event: str, store_id: str, poll_at: datetime | None, incident_id: str | None = None, step: int | None = None) -> str:
    """Stable: the same event has the same id in every process and on every connection
    (a client that reconnects can drop what it has seen)."""
    key = f"{event}\x00{store_id}\x00{'' if poll_at is None else instant_text(poll_at)}"
    if incident_id is not None:
        key += f"\x00{incident_id}\x00{step}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def live_events_publish(*, events: list[StoreEvent], at: datetime) -> None:
    """Publishes the events once the current transaction commits (at once outside one);
    nothing when it rolls back. A failure to publish is logged, never raised: the write
    that caused the events stands."""
    if events:
        transaction.on_commit(lambda: _publish(events, at=at))


def _publish(events: list[StoreEvent], *, at: datetime) -> None:
    try:
        messages = _messages(events, at=at)
        if messages:
            _send(messages)
    except Exception:
        logger.exception("live updates: publishing %d event(s) failed", len(events))


def _messages(events: list[StoreEvent], *, at: datetime) -> list[tuple[str, dict]]:
    stores = {pk: (store_id, owner_id) for pk, store_id, owner_id in Store.objects.filter(
        pk__in={e.store_pk for e in events}).values_list("pk", "store_id", "owner_id")}
    groups: dict[int, list[int]] = {}
    for store_pk, group_pk in Group.stores.through.objects.filter(store_id__in=list(stores)).values_list(
        "store_id", "group_id"
    ):
        groups.setdefault(store_pk, []).append(group_pk)
    by_group: dict[str, list[dict]] = {}
    for e in events:
        if e.store_pk not in stores:
            continue  # deleted meanwhile
        store_id, owner_id = stores[e.store_pk]
        fields = {
            "id": event_id(event=e.event, store_id=store_id, poll_at=e.poll_at, incident_id=e.incident_id, step=e.step),
            "event": e.event,
            "store_pk": e.store_pk,
            "store_id": store_id,
            "at": instant_text(at),
            "poll_timestamp": None if e.poll_at is None else instant_text(e.poll_at),
            "incident_started_at": None if e.incident_started_at is None else instant_text(e.incident_started_at),
            "incident_id": e.incident_id,
        }
        for audience in store_audiences(owner_id=owner_id, group_ids=groups.get(e.store_pk, ())):
            by_group.setdefault(group_name(audience), []).append(fields)
    return [
        (group, {"type": LIVE_EVENTS, "events": batch[start : start + BATCH]})
        for group, batch in by_group.items()
        for start in range(0, len(batch), BATCH)
    ]


def _send(messages: list[tuple[str, dict]]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    async_to_sync(send_all)()

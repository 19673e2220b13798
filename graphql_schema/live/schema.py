"""Live updates in GraphQL (docs/rules.md §14): `storeEvents`, a subscription over
WebSocket (graphql-transport-ws at /graphql/, graphql_schema.live.websocket), within the
caller's access: a subscriber joins the audiences its access may hear
(monitoring.stores.access.audiences_visible), and `storeIds` must all be stores it sees."""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from channels.db import database_sync_to_async
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult, Info
from strawberry.types.graphql import OperationType

from graphql_schema.common.arguments import store_ids_argument
from graphql_schema.common.errors import UserError, request_access
from graphql_schema.live.types import StoreEvent
from graphql_schema.live.websocket import WebSocketContext
from monitoring.live.events import LIVE_EVENTS, group_name
from monitoring.stores.access import Access, audiences_visible
from monitoring.stores.selectors import store_pks_by_id

#: The most stores one subscription names (more: one subscription without `storeIds`).
MAX_STORE_IDS = 1000


def _store_pks(access: Access, store_ids: list[str]) -> set[int]:
    """The pks of these stores, all of which `access` must see; else INVALID_ARGUMENT
    naming the first it does not (someone else's store is as unknown as a missing one)."""
    found = store_pks_by_id(access=access, store_ids=store_ids)
    for index, store_id in enumerate(store_ids):
        if store_id not in found:
            raise UserError(f"storeIds[{index}]: no store {store_id!r} that you can see", argument=f"storeIds[{index}]")
    return set(found.values())


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "The events of your stores (staff: every store) as they happen, within a second of the poll (or, for"
            " STORE_SILENT, the minute check) that causes them: STORE_DOWN once per outage when its first inactive"
            " evidence poll arrives live, STORE_UP when it ends, STORE_SILENT, and the escalation steps of an incident"
            " (STORE_DOWN_ESCALATED, STORE_STILL_DOWN, with its incidentId). Historical loads send nothing."
            " Over WebSocket only (graphql-transport-ws at /graphql/, the token in connection_init)."
        )
    )
    async def store_events(
        self,
        info: Info,
        store_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description=f"Only these stores (at most {MAX_STORE_IDS}, each one you can see); null: all yours."),
        ] = None,
    ) -> AsyncGenerator[StoreEvent, None]:
        access = request_access(info)
        wanted = None
        if store_ids is not None:
            ids = store_ids_argument(store_ids, name="storeIds")
            if len(ids) > MAX_STORE_IDS:
                raise UserError(f"storeIds: at most {MAX_STORE_IDS} stores (or none: all yours)", argument="storeIds")
            wanted = await database_sync_to_async(_store_pks)(access, ids)
        groups = [group_name(audience) for audience in audiences_visible(access=access)]
        async with info.context.ws.listen_to_channel(LIVE_EVENTS, groups=groups) as messages:
            async for message in messages:
                events = [f for f in message["events"] if wanted is None or f["store_pk"] in wanted]
                if events and not await info.context.ws.still_allowed():
                    return
                for fields in events:
                    yield StoreEvent.of(fields)


class SubscriptionsOverWebSocket(SchemaExtension):
    """A subscription sent over HTTP is refused with INVALID_ARGUMENT saying where to send
    it (the HTTP view would otherwise fail inside the resolver)."""

    def on_execute(self):
        context = self.execution_context
        if context.operation_type == OperationType.SUBSCRIPTION and not isinstance(context.context, WebSocketContext):
            message = "subscriptions run over WebSocket: ws(s)://<this host>/graphql/, protocol graphql-transport-ws"
            context.result = ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": "INVALID_ARGUMENT"})])
        yield

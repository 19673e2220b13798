"""The GraphQL endpoint over WebSocket (/graphql/, docs/rules.md §14): strawberry's
Channels consumer speaking graphql-transport-ws only. The legacy `graphql-ws` protocol
is not offered (a client asking only for it is closed with 4406): its handler let a
client subscribe before the server had authenticated it (fixed in strawberry 0.312.3),
and one protocol is one thing to keep right.

The caller is authenticated by `connection_init`'s payload, as an HTTP request by its
Authorization header (monitoring.stores.access): `{"authorization": "Bearer <token>"}`
(any case of the key, as GraphiQL sends its headers) or `{"token": "<token>"}`; none:
anonymous access where API_ANONYMOUS_ACCESS allows it. A refused one is closed with 4403,
and so is one whose token is revoked while it is open (checked again before events are
sent, at most every LIVE_TOKEN_RECHECK_SECONDS).
A browser page on another origin may connect only from CORS_ALLOWED_ORIGINS (strawberry
checks Origin before anything else); at most LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION
operations run at once on a connection, the next is refused with an error."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from strawberry.channels import GraphQLWSConsumer
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.websocket_origin import normalize_allowed_origins
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from monitoring.stores.access import EVERYTHING, Access, AuthenticationFailed, token_access

logger = logging.getLogger(__name__)

#: A client must send connection_init this soon after connecting, or is closed (4408).
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)


@dataclass
class WebSocketContext:
    """What resolvers see as `info.context` on a socket: `request` and `ws` are the
    consumer, whose `access` is set once connection_init is accepted (so
    graphql_schema.common.errors.request_access works as over HTTP)."""

    request: LiveGraphQLConsumer
    ws: LiveGraphQLConsumer
    connection_params: dict = field(default_factory=dict)


class AccessRefused(Exception):
    pass


def connection_access(params: dict) -> Access:
    """The access a connection_init payload grants, or AccessRefused saying why."""
    raw = params.get("token")
    authorization = next((v for k, v in params.items() if isinstance(k, str) and k.lower() == "authorization"), None)
    if authorization is not None:
        scheme, _, value = str(authorization).partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AccessRefused("authorization must be 'Bearer <token>'")
        raw = value
    if raw is None:
        if settings.API_ANONYMOUS_ACCESS:
            return EVERYTHING
        raise AccessRefused("an API token is required in connection_init: {\"authorization\": \"Bearer <token>\"}")
    if not isinstance(raw, str) or not raw.strip():
        raise AccessRefused("the token must be a non-empty string")
    try:
        return token_access(raw=raw)
    except AuthenticationFailed as error:
        raise AccessRefused(str(error)) from None


class LiveGraphQLConsumer(GraphQLWSConsumer):
    access: Access | None = None
    _params: dict | None = None
    _checked_at: float = 0.0

    async def get_context(self, request, response) -> WebSocketContext:
        return WebSocketContext(request=request, ws=request)

    async def on_ws_connect(self, context: WebSocketContext):
        try:
            self.access = await database_sync_to_async(connection_access)(context.connection_params)
        except AccessRefused as error:
            logger.warning("WebSocket /graphql/ refused: %s", error)
            raise ConnectionRejectionError({"message": str(error)}) from None
        self._params, self._checked_at = dict(context.connection_params), time.monotonic()
        return UNSET  # connection_ack without a payload

    async def still_allowed(self) -> bool:
        """Before events are sent: the token checked again (at most every
        LIVE_TOKEN_RECHECK_SECONDS), so a revoked one stops hearing; the socket is then
        closed with 4403."""
        if time.monotonic() - self._checked_at < settings.LIVE_TOKEN_RECHECK_SECONDS:
            return True
        try:
            access = await database_sync_to_async(connection_access)(self._params or {})
        except AccessRefused as error:
            logger.warning("WebSocket /graphql/ closed: %s", error)
            await self.close(code=4403, reason="Forbidden")
            return False
        self._checked_at = time.monotonic()
        return access == self.access


def websocket_consumer(*, schema):
    """The ASGI application of /graphql/ over WebSocket."""
    try:
        normalize_allowed_origins(settings.CORS_ALLOWED_ORIGINS)
    except ValueError as error:
        raise ImproperlyConfigured(f"CORS_ALLOWED_ORIGINS: {error}") from None
    return LiveGraphQLConsumer.as_asgi(
        schema=schema,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
        max_subscriptions_per_connection=settings.LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        allowed_origins=tuple(settings.CORS_ALLOWED_ORIGINS),
    )

"""A graphql-transport-ws client for tests (websockets' sync client): connects to a live
server's /graphql/, sends connection_init, and collects what the server sends, each
message with the time it arrived, from a thread of its own."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.processes import wait_for

PROTOCOL = "graphql-transport-ws"
STORE_EVENTS = "subscription($ids: [ID!]) { storeEvents(storeIds: $ids) { id event storeId at pollTimestamp incidentStartedAt } }"


@dataclass
class Received:
    at: float  # time.time() when it arrived
    message: dict


@dataclass
class LiveClient:
    url: str  # ws://host:port/graphql/
    payload: dict | None = None  # connection_init's
    subprotocol: str = PROTOCOL
    origin: str | None = None
    received: list[Received] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    refused_status: int | None = None  # the HTTP status of a refused handshake

    def __enter__(self) -> LiveClient:
        try:
            self.socket = connect(
                self.url, subprotocols=[self.subprotocol], origin=self.origin, open_timeout=10, close_timeout=2
            ).__enter__()
        except InvalidStatus as error:
            self.refused_status = error.response.status_code
            self.socket = None
            return self
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.send({"type": "connection_init", "payload": self.payload or {}})
        except ConnectionClosed:
            pass  # closed at once (a subprotocol it does not speak): close_code tells
        return self

    def __exit__(self, *exc) -> None:
        if self.socket is not None:
            try:
                self.socket.__exit__(None, None, None)
            except ConnectionClosed:
                pass
            self.reader.join(timeout=5)

    def _read(self) -> None:
        try:
            for text in self.socket:
                self.received.append(Received(time.time(), json.loads(text)))
        except ConnectionClosed:
            pass
        finally:
            self.close_reason = self.socket.close_reason or ""
            self.close_code = self.socket.close_code or 1006

    def send(self, message: dict) -> None:
        self.socket.send(json.dumps(message))

    def acknowledged(self, timeout: float = 10) -> bool:
        """True once connection_ack arrived; False when the server closed instead."""
        wait_for(lambda: self.messages("connection_ack") or self.close_code is not None, timeout=timeout,
                 what="connection_ack or a close")
        return bool(self.messages("connection_ack"))

    def subscribe(self, operation_id: str, query: str = STORE_EVENTS, variables: dict | None = None) -> None:
        self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    def messages(self, kind: str | None = None, operation_id: str | None = None) -> list[Received]:
        return [
            r for r in list(self.received)
            if (kind is None or r.message.get("type") == kind) and (operation_id is None or r.message.get("id") == operation_id)
        ]

    def events(self, operation_id: str) -> list[tuple[float, dict]]:
        """(arrival, storeEvents) of each `next` of that operation."""
        return [(r.at, r.message["payload"]["data"]["storeEvents"]) for r in self.messages("next", operation_id)]

    def closed(self, timeout: float = 10) -> tuple[int | None, str]:
        wait_for(lambda: self.close_code is not None, timeout=timeout, what="the server to close the socket")
        return self.close_code, self.close_reason


def ws_url(base: str) -> str:
    """The WebSocket URL of /graphql/ for an http:// base URL."""
    return base.replace("http://", "ws://", 1).rstrip("/") + "/graphql/"


def until_listening(client: LiveClient, operation_id: str, record, store_id: str) -> None:
    """Sends pairs of live polls of `store_id` (inactive, then active; `record(store_id,
    moment, status)`) until the subscription tells of the pair's STORE_UP: from then on it
    listens, and the store is up. (A subscription starts on the server after `subscribe`
    arrives, and graphql-transport-ws does not say when.)"""
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.kernel.values import instant_text

    start = timezone.now() - timedelta(minutes=30)
    for step in range(20):
        down, up = start + timedelta(seconds=2 * step), start + timedelta(seconds=2 * step + 1)
        record(store_id, down, "inactive")
        record(store_id, up, "active")
        try:
            wait_for(
                lambda: any(e["event"] == "STORE_UP" and e["pollTimestamp"] == instant_text(up) for _, e in client.events(operation_id)),
                timeout=1, interval=0.05, what="a warm-up event",
            )
            return
        except AssertionError:
            continue
    raise AssertionError(f"the subscription {operation_id} heard nothing of {store_id}")

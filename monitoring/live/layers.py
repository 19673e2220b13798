"""A Django Channels layer on PostgreSQL's LISTEN/NOTIFY: live updates cross processes
(a django-q2 worker, another web process) through the database the project already
has, embedded or not, with no other service (docs/decisions.md, "Live updates").

Channels and groups are each process's own (as in Channels' in-memory layer); what
crosses processes is a NOTIFY on one PostgreSQL channel, which every process holding a
receiving channel LISTENs to on a connection of its own, read by a thread (the
listener), and hands to the event loop that waits on the queue. `group_send` is one
NOTIFY whatever the number of listeners; a process without receivers (a worker) only
sends. Delivery is at most once, like Redis pub/sub: a process that is not listening
when a message is sent (restarting, reconnecting) misses it; live updates are for
sockets open now.

NOTIFY carries at most 8,000 bytes: a larger message is refused (ValueError); messages
are JSON (the live events are small dicts of text and numbers)."""

from __future__ import annotations

import asyncio
import json
import logging
import select
import threading
import time
import uuid

import psycopg2
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer

logger = logging.getLogger(__name__)

#: NOTIFY's payload limit, less a margin for the envelope.
MAX_PAYLOAD_BYTES = 7900
_RECONNECT_SECONDS = (0.2, 0.5, 1, 2, 5)


def connection_params(alias: str) -> dict:
    """psycopg2's connect() arguments for a Django database (a Unix socket directory as
    `host` for the embedded server)."""
    from django.db import connections

    params = dict(connections[alias].get_connection_params())
    params.pop("cursor_factory", None)
    return params


class PostgresChannelLayer(BaseChannelLayer):
    """CHANNEL_LAYERS backend: `{"BACKEND": "monitoring.live.layers.PostgresChannelLayer",
    "CONFIG": {"database": "default", "notify_channel": "…"}}`."""

    extensions = ["groups", "flush"]

    def __init__(self, *, database: str = "default", notify_channel: str = "channel_layer", capacity: int = 100, expiry: int = 60, **kwargs):
        super().__init__(expiry=expiry, capacity=capacity, **kwargs)
        self.database = database
        self.notify_channel = notify_channel
        self.client_prefix = uuid.uuid4().hex[:12]  # this process's part of its channel names
        self._queues: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = {}
        self._groups: dict[str, set[str]] = {}
        self._lock = threading.Lock()  # _queues and _groups: touched by loops and the listener
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()  # set while LISTEN is in force
        self._stopping = threading.Event()

    # --- sending: one NOTIFY, on a connection opened for it ----------------------------

    def _payload(self, envelope: dict) -> str:
        payload = json.dumps(envelope, separators=(",", ":"))
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"a message of {len(payload.encode())} bytes is above NOTIFY's limit ({MAX_PAYLOAD_BYTES})")
        return payload

    def notify(self, envelope: dict) -> None:
        """NOTIFY now, from any thread, on a connection opened for it: events are few
        (transitions of stores), and a process that only sends (a worker, a test) keeps
        no connection open between them."""
        payload = self._payload(envelope)
        connection = psycopg2.connect(**connection_params(self.database))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [self.notify_channel, payload])
        finally:
            connection.close()

    async def send(self, channel: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        if self._deliver_local(channel, message):
            return
        await asyncio.get_running_loop().run_in_executor(None, self.notify, {"c": channel, "m": message})

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        await asyncio.get_running_loop().run_in_executor(None, self.notify, {"g": group, "m": message})

    # --- receiving: this process's channels and groups -------------------------------

    async def new_channel(self, prefix: str = "specific") -> str:
        channel = f"{prefix}.{self.client_prefix}!{uuid.uuid4().hex}"
        self._queue(channel)
        return channel

    def _queue(self, channel: str) -> asyncio.Queue:
        loop = asyncio.get_running_loop()
        with self._lock:
            found = self._queues.get(channel)
            if found is None:
                found = self._queues[channel] = (loop, asyncio.Queue(maxsize=self.get_capacity(channel)))
        self._start_listener()
        return found[1]

    async def receive(self, channel: str) -> dict:
        self.require_valid_channel_name(channel)
        queue = self._queue(channel)
        try:
            return await queue.get()
        except asyncio.CancelledError:
            # The consumer is gone (its socket closed): forget its channel everywhere.
            self._forget(channel)
            raise

    def _forget(self, channel: str) -> None:
        with self._lock:
            self._queues.pop(channel, None)
            for members in self._groups.values():
                members.discard(channel)
            for group in [g for g, members in self._groups.items() if not members]:
                del self._groups[group]

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        with self._lock:
            self._groups.setdefault(group, set()).add(channel)
        self._start_listener()
        # A message sent after group_add returns must reach this channel: wait for LISTEN.
        if not self._listening.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self._listening.wait, 10)

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        with self._lock:
            members = self._groups.get(group)
            if members is not None:
                members.discard(channel)
                if not members:
                    del self._groups[group]

    async def flush(self) -> None:
        with self._lock:
            self._queues.clear()
            self._groups.clear()

    async def close(self) -> None:
        """Stops the listener (its connection closes within a second)."""
        self._stopping.set()

    def listening(self, timeout: float) -> bool:
        """True once this process LISTENs (for tests and start-up checks)."""
        return self._listening.wait(timeout)

    # --- the listener thread ---------------------------------------------------------

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._stopping.clear()
            self._listener = threading.Thread(target=self._listen, name="channel-layer-listener", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            connection = None
            try:
                connection = psycopg2.connect(**connection_params(self.database))
                connection.autocommit = True
                with connection.cursor() as cursor:
                    cursor.execute(f'LISTEN "{self.notify_channel}"')
                self._listening.set()
                if failures:
                    logger.warning("channel layer: listening again after %d failed attempt(s)", failures)
                failures = 0
                while not self._stopping.is_set():
                    if select.select([connection], [], [], 1) != ([], [], []):
                        connection.poll()
                        while connection.notifies:
                            self._received(connection.notifies.pop(0).payload)
            except (psycopg2.Error, OSError):
                self._listening.clear()
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                logger.warning("channel layer: the LISTEN connection failed; again in %.1f s", delay, exc_info=failures == 1)
                time.sleep(delay)
            finally:
                if connection is not None:
                    try:
                        connection.close()
                    except psycopg2.Error:
                        pass
        self._listening.clear()

    def _received(self, payload: str) -> None:
        try:
            envelope = json.loads(payload)
            message = envelope["m"]
        except (ValueError, KeyError, TypeError):
            logger.warning("channel layer: a notification that is not ours, ignored")
            return
        if "g" in envelope:
            with self._lock:
                channels = list(self._groups.get(envelope["g"], ()))
            for channel in channels:
                self._deliver_local(channel, message, drop_when_full=True)
        elif "c" in envelope:
            self._deliver_local(envelope["c"], message, drop_when_full=True)

    def _deliver_local(self, channel: str, message: dict, *, drop_when_full: bool = False) -> bool:
        """Puts the message on a channel of this process (from any thread); False when the
        channel is not one of ours."""
        with self._lock:
            found = self._queues.get(channel)
        if found is None:
            return False
        loop, queue = found

        def put() -> None:
            try:
                queue.put_nowait(dict(message))
            except asyncio.QueueFull:
                if not drop_when_full:
                    raise ChannelFull(channel)
                logger.warning("channel layer: %s is full; a message to it was dropped", channel)

        try:
            if _running_loop() is loop:
                put()
            else:
                loop.call_soon_threadsafe(put)
        except RuntimeError:  # its loop is closed: the channel is gone
            self._forget(channel)
        return True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

"""The channel layers live events travel by (monitoring.live.layers, channels_redis):
two layer instances stand for two processes (a worker that sends, a web process whose
sockets receive). On PostgreSQL: the test database (the embedded server when
DATABASE_URL is unset, as in `make test`), and the embedded default explicitly, in a
process of its own with DATABASE_URL unset; on Redis when it answers at 127.0.0.1:6379."""

import asyncio
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
from channels.layers import get_channel_layer
import psycopg2
from monitoring.live.layers import PostgresChannelLayer, connection_params
from monitoring.tools.processes import stop_embedded_postgres

from tests.processes import ROOT, embedded_data_dir

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/0"


def postgres_pair():
    channel = f"test_layer_{uuid.uuid4().hex[:8]}"
    return PostgresChannelLayer(notify_channel=channel), PostgresChannelLayer(notify_channel=channel)


def redis_pair():
    from channels_redis.core import RedisChannelLayer

    prefix = f"test-live-{uuid.uuid4().hex[:8]}"
    return RedisChannelLayer(hosts=[REDIS_URL], prefix=prefix), RedisChannelLayer(hosts=[REDIS_URL], prefix=prefix)


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


async def crossing(receiver, sender) -> None:
    """What the live events need of a layer: a message sent to a group by another
    process reaches each channel in that group once, and none outside it; a channel
    that left the group hears nothing more."""
    inside, also_inside, outside = [await receiver.new_channel() for _ in range(3)]
    await receiver.group_add("live.owner-1", inside)
    await receiver.group_add("live.owner-1", also_inside)
    await receiver.group_add("live.owner-2", outside)
    await sender.group_send("live.owner-1", {"type": "live.store_events", "events": [{"id": "e1", "store_id": "ü-1"}]})
    for channel in (inside, also_inside):
        message = await asyncio.wait_for(receiver.receive(channel), timeout=5)
        assert message == {"type": "live.store_events", "events": [{"id": "e1", "store_id": "ü-1"}]}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(receiver.receive(outside), timeout=0.5)
    await receiver.group_discard("live.owner-1", inside)
    await sender.group_send("live.owner-1", {"type": "live.store_events", "events": [{"id": "e2"}]})
    assert (await asyncio.wait_for(receiver.receive(also_inside), timeout=5))["events"] == [{"id": "e2"}]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(receiver.receive(inside), timeout=0.5)


def test_postgres_layer_crosses_processes():
    receiver, sender = postgres_pair()

    async def run():
        try:
            await crossing(receiver, sender)
        finally:
            await receiver.close()

    asyncio.run(run())


def test_postgres_layer_refuses_a_message_notify_cannot_carry():
    layer = PostgresChannelLayer(notify_channel="test_layer_big")
    with pytest.raises(ValueError, match="above NOTIFY's limit"):
        asyncio.run(layer.group_send("live.all", {"type": "live.store_events", "events": ["x" * 9000]}))


def test_postgres_layer_listens_again_after_its_connection_is_killed():
    receiver, sender = postgres_pair()

    async def run():
        try:
            channel = await receiver.new_channel()
            await receiver.group_add("live.all", channel)
            # As a restart or a failover would.
            assert _sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = %s", receiver) == (True,)
            for _ in range(50):  # back within a second
                await asyncio.sleep(0.1)
                if receiver.listening(0) and _sql("SELECT count(*) FROM pg_stat_activity WHERE query = %s", receiver) == (1,):
                    break
            await sender.group_send("live.all", {"type": "live.store_events", "events": []})
            assert (await asyncio.wait_for(receiver.receive(channel), timeout=5))["events"] == []
        finally:
            await receiver.close()

    asyncio.run(run())


def _sql(query: str, layer: PostgresChannelLayer) -> tuple:
    """One row of a query about the layer's LISTEN connection, on a connection of its own."""
    sql = psycopg2.connect(**connection_params("default"))
    try:
        with sql.cursor() as cursor:
            cursor.execute(query, [f'LISTEN "{layer.notify_channel}"'])
            return cursor.fetchone()
    finally:
        sql.close()


@pytest.mark.skipif(not redis_answers(), reason="no Redis at 127.0.0.1:6379 (apt-get install redis-server)")
def test_redis_layer_crosses_processes():
    receiver, sender = redis_pair()

    async def run():
        try:
            await crossing(receiver, sender)
        finally:
            await receiver.flush()

    asyncio.run(run())


def test_the_configured_layer_is_redis_when_redis_url_is_set():
    script = "from channels.layers import get_channel_layer; print(type(get_channel_layer()).__name__)"
    env = {**os.environ, "REDIS_URL": REDIS_URL}
    answer = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {script}"], cwd=ROOT, env={
        **env, "DJANGO_SETTINGS_MODULE": "config.settings"}, capture_output=True, text=True, timeout=60)
    assert answer.stdout.strip() == "RedisChannelLayer", answer.stderr
    assert type(get_channel_layer()).__name__ == ("RedisChannelLayer" if os.environ.get("REDIS_URL") else "PostgresChannelLayer")


EMBEDDED = textwrap.dedent(
    """
    import asyncio, django
    django.setup()
    from channels.layers import get_channel_layer
    from django.db import connection
    from monitoring.live.layers import PostgresChannelLayer

    async def main():
        receiver, sender = get_channel_layer(), PostgresChannelLayer(notify_channel="uptime_live")
        channel = await receiver.new_channel()
        await receiver.group_add("live.all", channel)
        await sender.group_send("live.all", {"type": "live.store_events", "events": ["hello"]})
        message = await asyncio.wait_for(receiver.receive(channel), timeout=10)
        await receiver.close()
        print(message["events"][0], connection.settings_dict["HOST"] or connection.settings_dict["OPTIONS"].get("host"))

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_the_default_layer_on_the_embedded_server():
    """DATABASE_URL unset: the settings start the embedded PostgreSQL under DATA_DIR, and
    the default layer LISTENs and NOTIFYs on it through its Unix socket."""
    with embedded_data_dir() as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="config.settings")
        try:
            answer = subprocess.run([sys.executable, "-c", EMBEDDED], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
            assert answer.returncode == 0, answer.stderr[-3000:]
            said, host = answer.stdout.split()
            assert said == "hello" and host.startswith("/"), answer.stdout  # a socket directory
        finally:
            stop_embedded_postgres(data_dir, say=lambda _: None)

"""Live updates end to end (docs/rules.md §14) with real processes: the web server
(uvicorn, HTTP and WebSocket) and two `qcluster` workers on the test database, a
graphql-transport-ws client (tests/live_client.py). Through either channel layer
(PostgreSQL, Redis), a live inactive poll sent through `recordPolls` reaches its
owner's subscriber as STORE_DOWN within a second, and the active one after it as
STORE_UP; another owner's subscriber hears nothing, nor does a role held on a group of
the owner's other stores; an event a worker finds reaches the
socket too. A missing or wrong token, a subscription over the cap, the legacy
`graphql-ws` protocol and a foreign origin are refused; a token revoked while its
socket is open stops hearing."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from monitoring.models import ApiToken, Owner, Store
from monitoring.stores.access import token_create

from tests.factories import add_polls, make_store
from tests.graphql_client import graphql_over_http
from tests.live_client import LiveClient, until_listening, ws_url
from tests.processes import free_port, running_web_server, running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

RECORD = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }"""
REDIS_URL = "redis://127.0.0.1:6379/0"
ENV = {"API_ANONYMOUS_ACCESS": "0", "LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "3", "CORS_ALLOWED_ORIGINS": "https://app.example"}


def record(base, token, store_id, moment, status):
    polls = [{"storeId": store_id, "timestampUtc": moment.isoformat(), "status": status}]
    answer = graphql_over_http(base, RECORD, token=token, variables={"polls": polls})
    assert answer["recordPolls"] == {"loaded": 1, "rejected": 0}


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.parametrize(
    "layer",
    [
        "postgres",
        pytest.param("redis", marks=pytest.mark.skipif(not redis_answers(), reason=f"no Redis at {REDIS_URL}")),
    ],
)
def test_live_events_reach_their_owner_within_a_second(tmp_path, layer):
    """On each channel layer: PostgreSQL's LISTEN/NOTIFY (the default), Redis (REDIS_URL)."""
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    for store_id, owner in (("a1", alice), ("a-warm", alice), ("b1", bob), ("b-warm", bob)):
        store = make_store(store_id)  # no hours: open 24×7
        store.owner = owner
        store.save()
    alice_token = token_create(name="live", owner=alice)[1]
    bob_token = token_create(name="live", owner=bob)[1]
    env = {**ENV, "REDIS_URL": REDIS_URL if layer == "redis" else ""}  # empty: unset
    with (
        running_web_server(tmp_path / "web.log", free_port(), **env) as base,
        running_worker(tmp_path / "worker-1.log", **env),
        running_worker(tmp_path / "worker-2.log", **env),
        LiveClient(ws_url(base), payload={"authorization": f"Bearer {alice_token}"}) as alice_socket,
        LiveClient(ws_url(base), payload={"token": bob_token}) as bob_socket,
    ):
        assert alice_socket.acknowledged() and bob_socket.acknowledged()
        alice_socket.subscribe("all")
        alice_socket.subscribe("a1", variables={"ids": ["a1"]})
        bob_socket.subscribe("all")
        as_alice = lambda *poll: record(base, alice_token, *poll)  # noqa: E731
        until_listening(alice_socket, "all", as_alice, "a-warm")
        until_listening(alice_socket, "a1", as_alice, "a1")  # a1 only: no event of a-warm here
        until_listening(bob_socket, "all", lambda *poll: record(base, bob_token, *poll), "b-warm")
        assert {e["storeId"] for _, e in alice_socket.events("a1")} == {"a1"}
        seen_by_bob = len(bob_socket.events("all"))
        alice_socket.received.clear()  # the warm-up's events have all arrived: each waited for its STORE_UP

        # A live inactive poll: STORE_DOWN within a second, on both of alice's subscriptions.
        now = timezone.now()
        sent = time.time()
        record(base, alice_token, "a1", now - timedelta(seconds=30), "inactive")
        answered = time.time()
        wait_for(lambda: alice_socket.events("a1") and alice_socket.events("all"), timeout=5, interval=0.02, what="STORE_DOWN")
        (arrived, down), = alice_socket.events("a1")
        # Shown with pytest -s (docs/performance.md, Live updates).
        print(f"recordPolls answered in {1000 * (answered - sent):.0f} ms; STORE_DOWN arrived {1000 * (arrived - sent):.0f} ms after it was sent")
        assert arrived - sent < 1.0
        assert down["event"] == "STORE_DOWN" and down["storeId"] == "a1"
        assert down["pollTimestamp"] == down["incidentStartedAt"]
        assert alice_socket.events("all")[0][1] == down  # the same event, the same id

        sent = time.time()
        record(base, alice_token, "a1", now - timedelta(seconds=20), "active")
        wait_for(lambda: len(alice_socket.events("a1")) == 2, timeout=5, interval=0.02, what="STORE_UP")
        arrived, up = alice_socket.events("a1")[1]
        assert arrived - sent < 1.0
        assert up["event"] == "STORE_UP" and up["incidentStartedAt"] == down["incidentStartedAt"] and up["id"] != down["id"]

        # An event a worker finds (the minute check, for polls stored without recordPolls):
        # from the worker's process to the socket.
        add_polls(Store.objects.get(store_id="a1"), [(now - timedelta(seconds=10), False)])
        from django_q.tasks import async_task

        async_task("monitoring.alerts.tasks.every_minute", cluster="alerts")
        wait_for(lambda: len(alice_socket.events("a1")) == 3, timeout=30, interval=0.05, what="STORE_DOWN from a worker")
        assert alice_socket.events("a1")[2][1]["event"] == "STORE_DOWN"

        # Bob heard of none of alice's stores.
        time.sleep(1)
        assert len(bob_socket.events("all")) == seen_by_bob
        assert {e["storeId"] for _, e in bob_socket.events("all")} == {"b-warm"}


def test_refusals(tmp_path):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    for store_id, owner in (("a1", alice), ("b1", bob)):
        store = make_store(store_id)
        store.owner = owner
        store.save()
    alice_token = token_create(name="live", owner=alice)[1]
    with running_web_server(tmp_path / "web.log", free_port(), **ENV) as base:
        url = ws_url(base)
        # No token (anonymous access off), a wrong one, a malformed header: closed with 4403.
        for payload in ({}, {"authorization": "Bearer sum_wrong"}, {"token": "sum_wrong"}, {"authorization": alice_token}):
            with LiveClient(url, payload=payload) as client:
                assert not client.acknowledged()
                assert client.closed() == (4403, "Forbidden"), payload
                assert client.messages("connection_ack") == []
        # The legacy protocol is not spoken: closed with 4406 before anything else.
        with LiveClient(url, subprotocol="graphql-ws", payload={"authorization": f"Bearer {alice_token}"}) as legacy:
            assert legacy.closed() == (4406, "Subprotocol not acceptable")
            assert legacy.received == []
        # A page on another origin: refused at the handshake unless CORS_ALLOWED_ORIGINS has it.
        with LiveClient(url, origin="https://evil.example", payload={"token": alice_token}) as foreign:
            assert foreign.refused_status == 403
        with LiveClient(url, origin="https://app.example", payload={"token": alice_token}) as allowed:
            assert allowed.acknowledged()

        with LiveClient(url, payload={"authorization": f"Bearer {alice_token}"}) as client:
            assert client.acknowledged()
            # Someone else's store, as an unknown one: an error naming the argument.
            client.subscribe("theirs", variables={"ids": ["a1", "b1"]})
            wait_for(lambda: client.messages(operation_id="theirs"), timeout=10, what="the refusal")
            (refusal,) = [r.message for r in client.messages("next", "theirs")]
            (error,) = refusal["payload"]["errors"]
            assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "storeIds[1]"}
            assert "'b1'" in error["message"]
            # The cap (3 here): the fourth at once is refused, the three keep running.
            for n in range(3):
                client.subscribe(f"s{n}")
            client.subscribe("over")
            wait_for(lambda: client.messages("error", "over"), timeout=10, what="the refusal over the cap")
            assert client.messages("error", "over")[0].message["payload"][0]["message"] == "Subscription limit reached"
            assert client.close_code is None
            # Once one completes, another may start.
            client.send({"id": "s0", "type": "complete"})
            client.subscribe("again", variables={"ids": ["a1"]})
            time.sleep(0.5)
            assert client.messages("error", "again") == []
        # Anything but /graphql/ over WebSocket: refused at the handshake.
        with LiveClient(base.replace("http://", "ws://") + "/admin/", payload={}) as elsewhere:
            assert elsewhere.refused_status == 403


def test_a_token_revoked_while_its_socket_is_open_stops_hearing(tmp_path):
    owner = Owner.objects.create(name="alice")
    store = make_store("a1")
    store.owner = owner
    store.save()
    socket_token, raw_socket_token = token_create(name="socket", owner=owner)
    http_token = token_create(name="http", owner=owner)[1]
    as_owner = lambda *poll: record(base, http_token, *poll)  # noqa: E731
    env = {**ENV, "LIVE_TOKEN_RECHECK_SECONDS": "0"}  # checked before every event
    with (
        running_web_server(tmp_path / "web.log", free_port(), **env) as base,
        LiveClient(ws_url(base), payload={"token": raw_socket_token}) as client,
    ):
        assert client.acknowledged()
        client.subscribe("all")
        until_listening(client, "all", as_owner, "a1")
        heard = len(client.events("all"))
        ApiToken.objects.filter(pk=socket_token.pk).update(revoked_at=timezone.now())
        as_owner("a1", timezone.now() - timedelta(seconds=10), "inactive")
        assert client.closed() == (4403, "Forbidden")
        assert len(client.events("all")) == heard


def test_a_role_on_a_group_hears_only_its_groups_stores(tmp_path):
    """A subscriber whose role is held on a group hears the events of its group's stores
    and none of the rest of its organization, which the organization-wide subscriber
    hears; naming a store outside its group is refused as a store it cannot see."""
    from monitoring.organizations.roles import VIEWER
    from monitoring.organizations.services import group_get_or_create, stores_place, token_issue

    north = Owner.objects.create(name="north")
    for store_id in ("east-1", "east-warm", "west-1"):
        make_store(store_id)  # no hours: open 24×7
    stores_place(organization=north, store_ids=["east-1", "east-warm", "west-1"], actor="test")
    east = group_get_or_create(organization=north, name="east", actor="test")
    stores_place(organization=north, store_ids=["east-1", "east-warm"], group=east, actor="test")
    writer = token_issue(actor="test", name="writer", owner=north)[1]
    on_group = token_issue(actor="test", name="east", owner=north, group=east, role=VIEWER, scopes={"read"})[1]
    wide = token_issue(actor="test", name="wide", owner=north, role=VIEWER, scopes={"read"})[1]
    as_writer = lambda *poll: record(base, writer, *poll)  # noqa: E731
    with (
        running_web_server(tmp_path / "web.log", free_port(), **ENV) as base,
        running_worker(tmp_path / "worker.log", **ENV),
        LiveClient(ws_url(base), payload={"token": on_group}) as group_socket,
        LiveClient(ws_url(base), payload={"token": wide}) as wide_socket,
    ):
        assert group_socket.acknowledged() and wide_socket.acknowledged()
        group_socket.subscribe("all")
        group_socket.subscribe("outside", variables={"ids": ["west-1"]})
        wide_socket.subscribe("all")
        until_listening(group_socket, "all", as_writer, "east-warm")
        until_listening(wide_socket, "all", as_writer, "east-warm")
        wait_for(lambda: group_socket.messages("next", "outside"), timeout=5, what="the refusal of west-1")
        (refusal,) = [r.message for r in group_socket.messages("next", "outside")]
        (error,) = refusal["payload"]["errors"]
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "storeIds[0]"}
        assert "'west-1'" in error["message"]

        now = timezone.now()
        record(base, writer, "west-1", now - timedelta(seconds=30), "inactive")
        wait_for(lambda: any(e["storeId"] == "west-1" for _, e in wide_socket.events("all")), timeout=5,
                 interval=0.02, what="west-1's STORE_DOWN, organization-wide")
        record(base, writer, "east-1", now - timedelta(seconds=30), "inactive")
        wait_for(lambda: any(e["storeId"] == "east-1" for _, e in group_socket.events("all")), timeout=5,
                 interval=0.02, what="east-1's STORE_DOWN, on the group")
        time.sleep(1)  # west-1's event, sent before east-1's, would have arrived by now
        assert {e["storeId"] for _, e in group_socket.events("all")} == {"east-warm", "east-1"}
        assert {e["storeId"] for _, e in wide_socket.events("all")} == {"east-warm", "east-1", "west-1"}

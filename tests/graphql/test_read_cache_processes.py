"""The read cache is shared by every web process (graphql_schema.limits.shared_cache):
two real `runserver` processes on the test database, one answers from what the other
cached, a write through one makes the next read on the other fresh, and ETags agree
across them. Once with the default PostgreSQL table, once with Redis (REDIS_URL, the
local Redis at 127.0.0.1:6379, a database number and key prefix of this test's own)."""

import json
import uuid
from urllib.parse import urlencode

import pytest

from tests.factories import make_store
from tests.graphql_client import live_request
from tests.processes import free_port, running_web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/13"
POLLS = 'query { store(id: "s1") { id polls(first: 5) { nodes { timestampUtc state } } } }'
RECORD = 'mutation { recordPolls(polls: [{storeId: "s1", timestampUtc: "2023-01-22T12:00:00Z", status: "active"}]) { loaded } }'


@pytest.fixture(params=["postgresql", "redis"])
def cache_environment(request):
    if request.param == "postgresql":
        yield {}
        return
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379: redis-server --daemonize yes --port 6379")
    prefix = f"test-{uuid.uuid4().hex}"
    try:
        yield {"REDIS_URL": REDIS_URL, "API_READ_CACHE_KEY_PREFIX": prefix}
        assert list(client.scan_iter(match=f"{prefix}:*")), "nothing was cached in Redis"
    finally:
        for name in client.scan_iter(match=f"{prefix}:*"):
            client.delete(name)


def get(base_url: str, query: str, etag: str | None = None):
    headers = {"If-None-Match": etag} if etag else {}
    return live_request(f"{base_url}/graphql/?{urlencode({'query': query})}", headers=headers)


def test_two_web_processes_share_the_read_cache(cache_environment, tmp_path):
    make_store("s1")
    env = {"API_ANONYMOUS_ACCESS": "1", **cache_environment}
    with (
        running_web_server(tmp_path / "a.log", free_port(), **env) as first,
        running_web_server(tmp_path / "b.log", free_port(), **env) as second,
    ):
        status, headers, body = get(first, POLLS)
        assert status == 200 and headers["X-Read-Cache"] == "miss", body
        etag = headers["ETag"]
        status, headers, again = get(second, POLLS)
        assert (status, headers["X-Read-Cache"], headers["ETag"], again) == (200, "hit", etag, body)
        status, headers, empty = get(second, POLLS, etag)
        assert (status, headers["X-Read-Cache"], empty) == (304, "hit", "")

        # A write through the first process: the second's next read is fresh.
        status, _, written = live_request(f"{first}/graphql/", body={"query": RECORD})
        assert status == 200 and json.loads(written)["data"]["recordPolls"]["loaded"] == 1
        status, headers, fresh = get(second, POLLS, etag)
        assert status == 200 and headers["X-Read-Cache"] == "miss" and headers["ETag"] != etag
        assert json.loads(fresh)["data"]["store"]["polls"]["nodes"] == [
            {"timestampUtc": "2023-01-22T12:00:00.000000Z", "state": "ACTIVE"}
        ]
        status, headers, _ = get(first, POLLS, headers["ETag"])
        assert (status, headers["X-Read-Cache"]) == (304, "hit")

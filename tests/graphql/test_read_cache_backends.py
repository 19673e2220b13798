"""The read cache's backends (graphql_schema.limits.shared_cache) hold at most their
budget in bytes, and no entry above their entry limit (docs/rules.md §8): Django's
DatabaseCache in our PostgreSQL (the default) and Django's RedisCache (REDIS_URL), on the
local Redis at 127.0.0.1:6379, a database number and key prefix of these tests' own."""

import pickle
import time
import uuid

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_schema.limits.shared_cache import REDIS_ENTRY_OVERHEAD, BoundedDatabaseCache, BoundedRedisCache

from tests.factories import make_store
from tests.graphql_client import graphql, graphql_response

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/13"
PAGE = "query { stores(pagination: {limit: 10}) { totalCount results { id timezone } } }"


def database_cache(max_bytes: int, max_entry_bytes: int) -> dict:
    return {
        "BACKEND": "graphql_schema.limits.shared_cache.BoundedDatabaseCache",
        "LOCATION": "graphql_read_cache",
        "OPTIONS": {"MAX_BYTES": max_bytes, "MAX_ENTRY_BYTES": max_entry_bytes},
    }


def redis_cache(max_bytes: int, max_entry_bytes: int) -> dict:
    return {
        "BACKEND": "graphql_schema.limits.shared_cache.BoundedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "OPTIONS": {"MAX_BYTES": max_bytes, "MAX_ENTRY_BYTES": max_entry_bytes},
    }


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379: redis-server --daemonize yes --port 6379")
    return client


def test_the_database_read_cache_never_holds_more_than_its_byte_budget(client, settings):
    for index in range(30):
        make_store(f"s{index:02d}", zone="Asia/Tokyo")
    settings.CACHES = {**settings.CACHES, "api": database_cache(6_000, 1_500)}
    cache = caches["api"]
    assert isinstance(cache, BoundedDatabaseCache) and cache._max_entries == 3
    for offset in range(30):
        query = f"query {{ stores(pagination: {{offset: {offset}, limit: 3}}) {{ results {{ id timezone }} }} }}"
        assert graphql_response(client, query)["X-Read-Cache"] == "miss"
        entries, size = cache.usage()
        assert 1 <= entries <= 4 and size <= 6_000
    # The latest page is answered from the cache: the version and the entry, no store read.
    with CaptureQueriesContext(connection) as queries:
        assert graphql_response(client, query)["X-Read-Cache"] == "hit"
    assert len(queries) == 2 and not any("monitoring_store" in q["sql"] for q in queries)
    # A response above the entry limit is sent but never kept.
    big = "query { stores(pagination: {limit: 30}) { results { id timezone timezoneIsDefault } } }"
    assert len(graphql(client, big)["data"]["stores"]["results"]) == 30
    assert graphql_response(client, big)["X-Read-Cache"] == "miss"
    assert cache.usage()[1] <= 6_000


def test_the_database_cache_culls_the_oldest_first_and_refuses_big_entries(settings):
    settings.CACHES = {**settings.CACHES, "api": database_cache(4_000, 1_000)}
    cache = caches["api"]
    cache.clear()
    for index, key in enumerate(("k1", "k2", "k3", "k4", "k5")):
        cache.set(key, b"x" * 300, timeout=100 + 10 * index)  # k1 expires first
        entries, size = cache.usage()
        assert entries <= 4 and size <= 4_000
    assert cache.get("k1") is None and cache.get("k5") == b"x" * 300 and cache.get("k2") == b"x" * 300
    assert cache.stored_size(cache.make_key("k2"), b"x" * 300) <= 1_000 < cache.stored_size("k", b"x" * 800)
    cache.set("k2", b"y" * 800)  # above the entry limit: not kept, the old value dropped
    assert cache.get("k2") is None
    assert cache.add("k3", b"z") is False and cache.add("big", b"z" * 800) is False
    assert cache.get("k3") == b"x" * 300


def test_the_redis_cache_keeps_its_byte_budget_and_evicts_the_oldest(redis_client, settings):
    config = redis_cache(1, 1)
    # Three entries of 100 bytes under keys k1…k6: the value pickled, the key, the overhead.
    entry = len(pickle.dumps(b"x" * 100, pickle.HIGHEST_PROTOCOL)) + len(f"{config['KEY_PREFIX']}:1:k1") + REDIS_ENTRY_OVERHEAD
    config["OPTIONS"] = {"MAX_BYTES": 3 * entry, "MAX_ENTRY_BYTES": 1_000}
    settings.CACHES = {**settings.CACHES, "api": config}
    cache = caches["api"]
    assert isinstance(cache, BoundedRedisCache)
    redis_client.set("someone-else", "kept")
    try:
        for index, key in enumerate(("k1", "k2", "k3", "k4")):
            cache.set(key, b"x" * 100, timeout=100 + index)
            entries, size = cache.usage()
            assert size <= cache.max_bytes and entries <= 3
        assert cache.get("k1") is None and [cache.get(k) for k in ("k2", "k3", "k4")] == [b"x" * 100] * 3
        cache.set("k2", b"y" * 2_000)  # above the entry limit: not kept, the old value dropped
        assert cache.get("k2") is None and cache.usage()[0] == 2
        assert cache.add("k3", b"z") is False and cache.add("k5", {"any": "value"}) is True
        assert cache.get("k5") == {"any": "value"}
        assert cache.delete("k5") and not cache.has_key("k5")
        cache.set("short", b"s", timeout=1)
        time.sleep(1.2)
        cache.set("k6", b"x")  # the expired entry leaves the index and the total
        assert cache.usage()[0] == 3 and not cache.has_key("short")
        entries, size = cache.usage()
        assert size == 2 * entry + entry - 99  # k3, k4 and k6 (one byte)
        cache.clear()
        assert cache.usage() == (0, 0) and cache.get("k3") is None
        assert redis_client.get("someone-else") == b"kept"  # clear() deletes this cache's keys only
    finally:
        cache.clear()
        redis_client.delete("someone-else")


def test_graphql_reads_are_cached_in_redis(redis_client, client, settings):
    settings.CACHES = {**settings.CACHES, "api": redis_cache(1024 * 1024, 64 * 1024)}
    cache = caches["api"]
    make_store("s1", zone="Asia/Tokyo")
    try:
        first = graphql_response(client, PAGE)
        again = graphql_response(client, PAGE)
        assert (first["X-Read-Cache"], again["X-Read-Cache"]) == ("miss", "hit")
        assert again.json() == first.json() and cache.usage()[0] == 1
        make_store("s2")  # a write: the next read is fresh
        fresh = graphql_response(client, PAGE)
        assert fresh["X-Read-Cache"] == "miss" and fresh.json()["data"]["stores"]["totalCount"] == 2
    finally:
        cache.clear()

"""The GraphQL read cache's backends: Django cache backends shared by every web process,
bounded in bytes (docs/rules.md §8) as well as per entry.

- `BoundedDatabaseCache` (the default): Django's DatabaseCache, a table in our own
  PostgreSQL (created by `migrate`, graphql_schema.apps). Django bounds that table by
  its number of rows (MAX_ENTRIES) only, so a value whose stored form (pickled, base64)
  is above MAX_ENTRY_BYTES is not stored at all, and MAX_ENTRIES is MAX_BYTES //
  MAX_ENTRY_BYTES − 1: Django culls before an insert that would pass MAX_ENTRIES, so the
  table holds at most MAX_BYTES (plus, for a moment, one entry per web process inserting
  at the same instant). When culling, the entries that expire first go first (the
  oldest: every entry is kept for the same time), not Django's first keys in key order.
- `BoundedRedisCache` (when REDIS_URL is set): Django's RedisCache, each write made by
  one Lua script that also keeps the size of every entry, their total and their
  expiries, and evicts the expired entries, then the ones expiring first, until the total
  is within MAX_BYTES. The budget is the cache's own: a Redis shared with the django-q2
  queue needs no `maxmemory` policy that could evict the queue. `clear()` deletes this
  cache's keys only (Django's flushes the whole Redis database). A Redis that cannot be
  reached makes every read a miss and drops the writes (logged): answers stay right,
  only slower.
"""

import logging
import math
import pickle
import re

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ENTRY_BYTES = 256 * 1024


def _byte_options(params: dict) -> tuple[int, int, dict]:
    """(MAX_BYTES, MAX_ENTRY_BYTES, the other OPTIONS) of a cache's settings."""
    options = dict(params.get("OPTIONS", {}))
    max_bytes = int(options.pop("MAX_BYTES", DEFAULT_MAX_BYTES))
    max_entry_bytes = min(int(options.pop("MAX_ENTRY_BYTES", DEFAULT_MAX_ENTRY_BYTES)), max_bytes)
    if max_entry_bytes < 1:
        raise ValueError("MAX_BYTES and MAX_ENTRY_BYTES must be positive")
    return max_bytes, max_entry_bytes, options


class BoundedDatabaseCache(DatabaseCache):
    """Django's DatabaseCache, holding at most OPTIONS["MAX_BYTES"] in all, none of its
    entries above OPTIONS["MAX_ENTRY_BYTES"] (key and stored value)."""

    def __init__(self, table: str, params: dict):
        self.max_bytes, self.max_entry_bytes, options = _byte_options(params)
        options["MAX_ENTRIES"] = max(1, self.max_bytes // self.max_entry_bytes - 1)
        super().__init__(table, {**params, "OPTIONS": options})

    def stored_size(self, key: str, value) -> int:
        """The bytes `value` takes under `key` in the table (the value pickled, base64)."""
        pickled = len(pickle.dumps(value, self.pickle_protocol))
        return len(key.encode()) + 4 * math.ceil(pickled / 3)

    def _base_set(self, mode, key, value, timeout=DEFAULT_TIMEOUT):
        if mode != "touch" and self.stored_size(key, value) > self.max_entry_bytes:
            if mode == "set":  # the key's older value is not kept either
                self._base_delete_many([key])
            return False
        return super()._base_set(mode, key, value, timeout)

    def _cull(self, db, cursor, now, num):
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [connection.ops.adapt_datetimefield_value(now)])
        remaining = num - cursor.rowcount
        if remaining > self._max_entries:
            cursor.execute(
                f"DELETE FROM {table} WHERE cache_key IN (SELECT cache_key FROM {table} ORDER BY expires LIMIT %s)",
                [max(1, remaining // self._cull_frequency)],
            )

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) held now."""
        connection = connections[router.db_for_write(self.cache_model_class)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), coalesce(sum(octet_length(cache_key) + octet_length(value)), 0)"
                f" FROM {connection.ops.quote_name(self._table)}"
            )
            entries, size = cursor.fetchone()
        return entries, int(size)


#: Bytes counted per Redis entry on top of its key and value: its members in the index
#: and the size hash, and Redis's own bookkeeping of a key.
REDIS_ENTRY_OVERHEAD = 200

# KEYS: the entry, the index (sorted set: entry → expiry in ms, +inf for none), the
# sizes (hash: entry → bytes), the total (bytes of every entry in the index).
# ARGV: mode (set, add, delete), value, time to live in ms (0: none), size, budget.
_WRITE_SCRIPT = """
local entry, index, sizes, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local function forget(name)
  local size = redis.call('HGET', sizes, name)
  if size then
    redis.call('HDEL', sizes, name)
    redis.call('DECRBY', total, size)
  end
  redis.call('ZREM', index, name)
  return redis.call('DEL', name)
end
if ARGV[1] == 'add' and redis.call('EXISTS', entry) == 1 then return 0 end
local existed = forget(entry)
if ARGV[1] == 'delete' then return existed end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', entry, ARGV[2], 'PX', ttl)
  redis.call('ZADD', index, now + ttl, entry)
else
  redis.call('SET', entry, ARGV[2])
  redis.call('ZADD', index, '+inf', entry)
end
redis.call('HSET', sizes, entry, ARGV[4])
redis.call('INCRBY', total, ARGV[4])
for _, name in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now)) do forget(name) end
while tonumber(redis.call('GET', total) or '0') > tonumber(ARGV[5]) do
  local first = redis.call('ZRANGE', index, 0, 0)
  if #first == 0 then break end
  forget(first[1])
end
return 1
"""


class BoundedRedisCache(RedisCache):
    """Django's RedisCache, holding at most OPTIONS["MAX_BYTES"] in all, none of its
    entries above OPTIONS["MAX_ENTRY_BYTES"] (key, value and REDIS_ENTRY_OVERHEAD)."""

    def __init__(self, server, params: dict):
        self.max_bytes, self.max_entry_bytes, options = _byte_options(params)
        super().__init__(server, {**params, "OPTIONS": options})
        prefix = self.key_prefix
        # Not a key make_key() can return ("<prefix>:<version>:<key>", version a number).
        self._index, self._sizes, self._total = (f"{prefix}:~{name}" for name in ("index", "sizes", "bytes"))

    def _script(self, client):
        return client.register_script(_WRITE_SCRIPT)

    def _write(self, mode: str, key: str, value=None, timeout=None) -> bool:
        import redis

        payload = b""
        size = 0
        if mode != "delete":
            payload = self._cache._serializer.dumps(value)
            if not isinstance(payload, bytes):  # an int, stored as its digits
                payload = str(payload).encode()
            size = len(payload) + len(key.encode()) + REDIS_ENTRY_OVERHEAD
            if timeout == 0:  # Django's meaning: gone at once
                mode = "delete"
            elif size > self.max_entry_bytes:
                if mode == "add":
                    return False
                mode = "delete"  # the key's older value is not kept either
        try:
            client = self._cache.get_client(key, write=True)
            ttl_ms = 0 if timeout is None else int(timeout) * 1000
            keys = [key, self._index, self._sizes, self._total]
            done = self._script(client)(keys=keys, args=[mode, payload, ttl_ms, size, self.max_bytes])
        except redis.RedisError as error:
            logger.warning("the GraphQL read cache's Redis failed a write (%s): not cached", error)
            return False
        return bool(done)

    def get(self, key, default=None, version=None):
        import redis

        try:
            return super().get(key, default, version)
        except redis.RedisError as error:
            logger.warning("the GraphQL read cache's Redis failed a read (%s): a miss", error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._write("set", key, value, self.get_backend_timeout(timeout))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._write("add", key, value, self.get_backend_timeout(timeout))

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._write("delete", key)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        for key, value in data.items():
            self.set(key, value, timeout, version)
        return []

    def delete_many(self, keys, version=None):
        for key in keys:
            self.delete(key, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        value = self.get(key, version=version)  # written again: its expiry is in the index
        if value is None:
            return False
        self.set(key, value, timeout, version)
        return True

    def incr(self, key, delta=1, version=None):
        raise NotImplementedError("BoundedRedisCache keeps response bodies, not counters")

    def clear(self):
        """Deletes this cache's keys (its KEY_PREFIX), nothing else in the database."""
        client = self._cache.get_client(None, write=True)
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix) + ":*"
        batch = []
        for name in client.scan_iter(match=pattern, count=500):
            batch.append(name)
            if len(batch) >= 500:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) counted against MAX_BYTES now."""
        client = self._cache.get_client(None)
        return client.zcard(self._index), int(client.get(self._total) or 0)

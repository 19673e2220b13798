"""An in-process cache bounded in bytes (docs/rules.md §8), for the GraphQL read cache.

Django's LocMemCache bounds the number of entries only: 20,000 entries of a few MB each
would be tens of GB. This backend keeps at most `MAX_BYTES` per process (values, keys
and a fixed overhead per entry), evicting the least recently used entries first, and
does not store a value above `MAX_ENTRY_BYTES` at all (a larger value is rare and cheap
to recompute relative to the memory it would pin).

Values that are `bytes` (the read cache stores response bodies) are kept as they are
(immutable, shared by readers); anything else is pickled, as LocMemCache does. All the
backend instances of one LOCATION in a process (Django makes one per thread) share one
store and one lock.
"""

import pickle
import threading
import time
from collections import OrderedDict

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

#: Bytes counted per entry on top of its key and value: the dictionary slot, the tuple,
#: the key's str object (what a few thousand tiny entries would otherwise hide).
ENTRY_OVERHEAD = 200

_stores: dict[str, "_Store"] = {}
_stores_lock = threading.Lock()


class _Store:
    def __init__(self, max_bytes: int, max_entry_bytes: int):
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        # key → (payload bytes, pickled?, expiry (monotonic seconds) or None, size)
        self.entries: OrderedDict[str, tuple[bytes, bool, float | None, int]] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()

    def _remove(self, key: str) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry[3]

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self.entries:
            _, entry = self.entries.popitem(last=False)
            self.bytes -= entry[3]


def _store(name: str, max_bytes: int, max_entry_bytes: int) -> _Store:
    with _stores_lock:
        store = _stores.get(name)
        if store is None:
            store = _stores[name] = _Store(max_bytes, max_entry_bytes)
        elif (store.max_bytes, store.max_entry_bytes) != (max_bytes, max_entry_bytes):
            with store.lock:  # reconfigured (tests override the settings): shrink to fit
                store.max_bytes, store.max_entry_bytes = max_bytes, max_entry_bytes
                for key in [k for k, e in store.entries.items() if e[3] > max_entry_bytes]:
                    store._remove(key)
                store._evict()
        return store


class ByteBoundedCache(BaseCache):
    """A least-recently-used in-memory cache holding at most OPTIONS["MAX_BYTES"] bytes
    per process, none of its entries above OPTIONS["MAX_ENTRY_BYTES"]."""

    def __init__(self, name: str, params: dict):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        max_bytes = int(options.get("MAX_BYTES", 64 * 1024 * 1024))
        max_entry_bytes = int(options.get("MAX_ENTRY_BYTES", 256 * 1024))
        self._store = _store(name, max_bytes, min(max_entry_bytes, max_bytes))

    @property
    def bytes_used(self) -> int:
        """Bytes counted against MAX_BYTES now."""
        return self._store.bytes

    def __len__(self) -> int:
        return len(self._store.entries)

    def _expiry(self, timeout) -> float | None:
        timeout = self.get_backend_timeout(timeout)  # an absolute time.time(), None: forever
        return None if timeout is None else time.monotonic() + (timeout - time.time())

    def _put(self, key: str, value, timeout, *, only_new: bool) -> bool:
        if isinstance(value, bytes):
            payload, pickled = value, False
        else:
            payload, pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL), True
        size = len(payload) + len(key) + ENTRY_OVERHEAD
        store = self._store
        expiry = self._expiry(timeout)
        with store.lock:
            if only_new and self._live(key) is not None:
                return False
            store._remove(key)
            if size > store.max_entry_bytes or (expiry is not None and expiry <= time.monotonic()):
                return False
            store.entries[key] = (payload, pickled, expiry, size)
            store.bytes += size
            store._evict()
        return True

    def _live(self, key: str):
        """The entry of `key` unless expired (removed then); the store's lock held."""
        store = self._store
        entry = store.entries.get(key)
        if entry is None:
            return None
        if entry[2] is not None and entry[2] <= time.monotonic():
            store._remove(key)
            return None
        return entry

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._put(key, value, timeout, only_new=True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._put(key, value, timeout, only_new=False)

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        store = self._store
        with store.lock:
            entry = self._live(key)
            if entry is None:
                return default
            store.entries.move_to_end(key)
        payload, pickled = entry[0], entry[1]
        return pickle.loads(payload) if pickled else payload

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        store = self._store
        with store.lock:
            entry = self._live(key)
            if entry is None:
                return False
            store.entries[key] = (entry[0], entry[1], self._expiry(timeout), entry[3])
            return True

    def has_key(self, key, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            return self._live(key) is not None

    def delete(self, key, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        store = self._store
        with store.lock:
            present = key in store.entries
            store._remove(key)
            return present

    def clear(self) -> None:
        store = self._store
        with store.lock:
            store.entries.clear()
            store.bytes = 0

"""Polls: each store's kind (normal, flaky, long outage, never), roughly hourly polls with
outage episodes, and the order lines are written in."""

from __future__ import annotations



import numpy as np

from monitoring.tools.generation.shapes import (
    SPACING_MAX,
    SPACING_MIN,
    DAY,
    FLAKY_FRACTION,
    HOUR,
    LONG_OUTAGE_FRACTION,
    MIN,
    POLL_KINDS,
)
from monitoring.tools.generation.stores import quota


def poll_kinds(
    rng: np.random.Generator, n: int, tz_kind: np.ndarray, hours_kind: np.ndarray
) -> np.ndarray:
    kinds = quota(rng, n, POLL_KINDS, "normal")
    # A store that never polls must still appear somewhere: give it a time zone row.
    never = np.flatnonzero(kinds == "never")
    bad = [i for i in never if tz_kind[i] != "zone" and hours_kind[i] == "none"]
    spare = [i for i in rng.permutation(n) if kinds[i] == "normal" and tz_kind[i] == "zone"]
    for i, j in zip(bad, spare):
        kinds[i], kinds[j] = kinds[j], kinds[i]
    return kinds


def generated_polls(
    rng: np.random.Generator, kinds: np.ndarray, start_us: int, end_us: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """(store index, timestamp µs, inactive) per poll, in store-major order."""
    n = kinds.size
    window = end_us - start_us
    slots = window // SPACING_MIN + 2
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty.astype(np.int32), empty, empty.astype(bool), {}

    # Times: a random phase in the first hour, then spacings of 55-65 minutes.
    # Built in int64 µs so every poll has random seconds and microseconds.
    times = np.empty((n, slots), dtype=np.int64)
    times[:, 0] = start_us + rng.integers(0, HOUR, size=n, dtype=np.int64)
    times[:, 1:] = rng.integers(SPACING_MIN, SPACING_MAX, size=(n, slots - 1), dtype=np.int64, endpoint=True)
    np.cumsum(times, axis=1, out=times)
    keep = times <= end_us

    # Missed polls: ~1.5% of slots, ~15% for a few unreliable stores.
    miss_rate = np.where(rng.random(n) < 0.05, 0.15, 0.015)
    keep &= rng.random((n, slots), dtype=np.float32) >= miss_rate[:, None].astype(np.float32)

    # Silences (only when the window leaves room for them).
    day = DAY
    never = kinds == "never"
    keep[never] = False
    silent_stores = np.flatnonzero(kinds == "silent")
    if silent_stores.size and window >= 2 * day:
        length = rng.integers(day, min(3 * day, window // 2), size=silent_stores.size, endpoint=True)
        # Strictly inside the window (polls on both sides), so it is a gap, not an edge.
        room = window - length - 4 * HOUR
        begin = start_us + 2 * HOUR + (rng.random(silent_stores.size) * room).astype(np.int64)
        t = times[silent_stores]
        keep[silent_stores] &= ~((t >= begin[:, None]) & (t < (begin + length)[:, None]))
    dark = np.flatnonzero(kinds == "dark")
    if dark.size and window >= 2 * day:
        stop = end_us - rng.integers(day, min(2 * day, window - HOUR), size=dark.size, endpoint=True)
        keep[dark] &= times[dark] < stop[:, None]
    late = np.flatnonzero(kinds == "late")
    if late.size and window >= 2 * day:
        first = start_us + rng.integers(day, min(2 * day, window - HOUR), size=late.size, endpoint=True)
        keep[late] &= times[late] >= first[:, None]

    # Outage episodes: a poll starts an episode with probability p, which lasts 1-6
    # polls (episodes may touch and merge). "inactive until slot" = running maximum.
    flaky = rng.random(n) < FLAKY_FRACTION
    p = np.where(flaky, rng.uniform(0.04, 0.12, size=n), rng.uniform(0.002, 0.02, size=n)).astype(np.float32)
    starts = rng.random((n, slots), dtype=np.float32) < p[:, None]
    col = np.arange(slots, dtype=np.int32)
    until = np.where(starts, col + rng.integers(1, 7, size=(n, slots), dtype=np.int32), 0).astype(np.int32)
    long_outage = rng.random(n) < LONG_OUTAGE_FRACTION
    if n >= 40 and not long_outage.any():
        long_outage[rng.integers(0, n)] = True
    for i in np.flatnonzero(long_outage):
        at = int(rng.integers(0, slots))
        until[i, at] = max(int(until[i, at]), at + int(rng.integers(12, 73)))
    np.maximum.accumulate(until, axis=1, out=until)
    inactive = col < until

    # The latest poll is exactly `end` (so a report's default as_of is deterministic).
    flat_keep = keep.ravel()
    if flat_keep.any():
        masked = np.where(keep, times, np.iinfo(np.int64).min)
        last = int(np.argmax(masked))
        times.flat[last] = end_us
        inactive.flat[last] = False

    store_idx = np.nonzero(keep)[0].astype(np.int32)
    ts = times[keep]
    status = inactive[keep]
    stats = {"polls_flaky_stores": int(flaky.sum()), "polls_long_outage_stores": int(long_outage.sum())}
    return store_idx, ts, status, stats


def writer_order(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """Roughly time order: up to 10 min of jitter, and ~0.1% of rows up to 6 h late."""
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64)
    key = ts + rng.integers(0, 10 * MIN, size=ts.size, dtype=np.int64)
    late = rng.random(ts.size, dtype=np.float32) < 0.001
    key[late] += rng.integers(HOUR, 6 * HOUR, size=int(late.sum()), dtype=np.int64)
    # Buckets of >= 1 minute that fit in 16 bits, so the stable sort is a radix sort
    # (linear time); inside a bucket rows keep their store-major order.
    low = int(key.min())
    bucket = max(MIN, -(-(int(key.max()) - low + 1) // 65536))
    return np.argsort(((key - low) // bucket).astype(np.uint16), kind="stable")

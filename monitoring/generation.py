"""Synthetic, deterministic input files shaped like the public store-monitoring data.

`generate_dataset()` writes the three files of SPEC §1 into a folder:

- ``store_status.csv`` (``store_id,timestamp_utc,status``): roughly hourly polls of
  every store (spacing 55–65 min, random seconds and microseconds; trailing zeros of
  the fraction are cut like in the public file, so it has 0–6 digits), missed polls,
  outage episodes (runs of 1–6 inactive polls), flaky stores, a few long outages,
  stores that go silent for a day or more, stop polling, start late or never poll.
  Rows are written across all stores in roughly time order, like a poller appending
  to a file (small jitter, and ~0.1% of rows written up to 6 hours late), so a loader
  must not assume sorted input. No ``(store_id, timestamp)`` pair repeats. The latest
  poll is exactly ``end``, the earliest is at or after ``end - days``.
- ``menu_hours.csv`` (``store_id,dayOfWeek,start_time_local,end_time_local``):
  regular hours, split shifts, shifts past midnight both as one row with end < start
  and in the public data's style (``y–23:59:59`` plus next day ``00:00:00–x``),
  ``start == end`` rows (24 h), ``00:00:00–23:59:59`` / ``23:59:00`` rows, closed
  weekdays, overlapping rows, and ~18% of stores with no rows at all (open 24x7).
- ``timezones.csv`` (``store_id,timezone_str``): mostly US zones, a few others
  (half-hour, 30-minute-DST and no-DST zones), ~5% of stores without a row and ~1%
  with an empty name.

Store ids are opaque text: mostly 19-digit numbers up to ~9.22e18 (made from random
integers, never floats), a few shorter numbers, and ~3% UUIDs.

Everything comes from ``numpy.random.default_rng``-style generators seeded by
``seed``, so the same arguments give byte-identical files. The poll file is built
with vectorised numpy byte arithmetic (no per-row ``strftime``): about 2.3 M polls
(14,000 stores x 7 days) take a few seconds.

This module deliberately imports nothing from Django.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_END", "GeneratedSummary", "generate_dataset"]

#: The latest poll of the public data set; the default end keeps output deterministic.
DEFAULT_END = datetime(2023, 1, 25, 18, 13, 22, tzinfo=timezone.utc)

STATUS_FILE = "store_status.csv"
HOURS_FILE = "menu_hours.csv"
TIMEZONES_FILE = "timezones.csv"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = 1_000_000  # microseconds per second
_MIN = 60 * _US
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
_INT64_MAX = np.iinfo(np.int64).max

# Poll spacing, in microseconds (inclusive bounds).
SPACING_MIN = 55 * _MIN
SPACING_MAX = 65 * _MIN

# Zones with a row: weights (roughly the public mix, plus some awkward zones).
ZONE_WEIGHTS: dict[str, float] = {
    "America/New_York": 0.50,
    "America/Los_Angeles": 0.20,
    "America/Chicago": 0.12,
    "America/Denver": 0.04,
    "America/Phoenix": 0.04,  # no DST
    "America/Boise": 0.02,
    "Europe/London": 0.02,
    "Asia/Kolkata": 0.02,  # +05:30, no DST
    "Australia/Lord_Howe": 0.02,  # 30-minute DST shift
    "Asia/Beirut": 0.02,
}

# Per-store kinds, as exact fractions of the stores (see _quota).
_TZ_KINDS = {"none": 0.05, "empty": 0.01}  # rest: a named zone
_HOURS_KINDS = {
    "none": 0.18,  # no rows: open 24x7
    "allday": 0.10,  # 00:00:00-23:59:59 (or 23:59:00) every day
    "split": 0.12,  # lunch and dinner shifts
    "overnight_single": 0.05,  # one row per day, end < start
    "overnight_split": 0.05,  # public style: y-23:59:59 and next day 00:00:00-x
    "full24": 0.03,  # start == end (24 hours)
    "overlap": 0.02,  # two overlapping rows on a day
    # rest: "regular" (one shift a day, maybe longer at the weekend)
}
_CLOSED_DAYS_FRACTION = 0.20  # of the stores with regular/split/overnight hours
_POLL_KINDS = {
    "never": 0.01,  # appears only in menu_hours/timezones
    "silent": 0.03,  # stops polling for 1-3 days, then comes back
    "dark": 0.01,  # stops polling 1-2 days before the end
    "late": 0.01,  # starts polling 1-2 days after the start
    # rest: "normal"
}
_FLAKY_FRACTION = 0.08  # outage episodes much more often
_LONG_OUTAGE_FRACTION = 0.01  # one outage of 12-72 polls
_UUID_FRACTION = 0.03
_SHORT_ID_FRACTION = 0.03  # numeric ids with 15-18 digits


@dataclass(frozen=True)
class GeneratedSummary:
    out_dir: Path
    stores: int
    polls: int
    hours_rows: int
    timezone_rows: int
    first_poll: datetime | None
    last_poll: datetime | None
    inactive_polls: int = 0
    #: how many stores of each kind (keys are stable, for reports and tests)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, Path]:
        return {
            "status": self.out_dir / STATUS_FILE,
            "hours": self.out_dir / HOURS_FILE,
            "timezones": self.out_dir / TIMEZONES_FILE,
        }

    def describe(self) -> str:
        def ts(value: datetime | None) -> str:
            return value.strftime("%Y-%m-%d %H:%M:%S.%f UTC") if value else "-"

        lines = [
            f"out dir:        {self.out_dir}",
            f"stores:         {self.stores}",
            f"polls:          {self.polls} ({self.inactive_polls} inactive)",
            f"hours rows:     {self.hours_rows}",
            f"timezone rows:  {self.timezone_rows}",
            f"time range:     {ts(self.first_poll)} .. {ts(self.last_poll)}",
        ]
        if self.kinds:
            lines.append("store kinds:    " + ", ".join(f"{k}={v}" for k, v in self.kinds.items()))
        return "\n".join(lines)


def generate_dataset(
    *,
    out_dir: Path,
    stores: int,
    days: int,
    seed: int,
    end: datetime | None = None,
) -> GeneratedSummary:
    """Write store_status.csv, menu_hours.csv and timezones.csv into ``out_dir``.

    ``stores`` is the number of distinct store ids over the three files; polls cover
    ``[end - days, end]`` (``end`` defaults to 2023-01-25 18:13:22 UTC; a naive
    ``end`` is taken as UTC). Same arguments, same bytes.
    """
    if stores < 0:
        raise ValueError("stores must be >= 0")
    if days <= 0:
        raise ValueError("days must be > 0")
    end = DEFAULT_END if end is None else end
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    end = end.astimezone(timezone.utc)
    end_us = (end - _EPOCH) // timedelta(microseconds=1)
    window_us = int(round(days * _DAY))
    start_us = end_us - window_us

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # Independent streams, so changing one part never shifts the others.
    ids_rng, tz_rng, hours_rng, polls_rng, order_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(5)
    )

    ids = _store_ids(ids_rng, stores)
    tz_kind, zones = _timezones(tz_rng, stores)
    hours_kind = _quota(hours_rng, stores, _HOURS_KINDS, "regular")
    hours_rows, closed_days_stores = _hours_rows(hours_rng, hours_kind)
    poll_kind = _poll_kinds(polls_rng, stores, tz_kind, hours_kind)

    tz_count = _write_timezones(out_dir / TIMEZONES_FILE, ids, tz_kind, zones)
    hours_count = _write_hours(out_dir / HOURS_FILE, ids, hours_rows)

    store_idx, ts_us, inactive, poll_stats = _polls(polls_rng, poll_kind, start_us, end_us)
    order = _writer_order(order_rng, ts_us)
    _write_status(out_dir / STATUS_FILE, ids, store_idx, ts_us, inactive, order)

    kinds: dict[str, int] = {}
    for prefix, labels in (("hours", hours_kind), ("tz", tz_kind), ("polls", poll_kind)):
        values, counts = np.unique(labels, return_counts=True)
        kinds.update({f"{prefix}_{v}": int(c) for v, c in zip(values, counts)})
    kinds["hours_closed_weekdays"] = closed_days_stores
    kinds["id_uuid"] = sum(1 for i in ids if "-" in i)
    kinds.update(poll_stats)

    def as_dt(us: int) -> datetime:
        return _EPOCH + timedelta(microseconds=int(us))

    return GeneratedSummary(
        out_dir=out_dir,
        stores=stores,
        polls=int(ts_us.size),
        hours_rows=hours_count,
        timezone_rows=tz_count,
        first_poll=as_dt(ts_us.min()) if ts_us.size else None,
        last_poll=as_dt(ts_us.max()) if ts_us.size else None,
        inactive_polls=int(inactive.sum()),
        kinds=dict(sorted(kinds.items())),
    )


# --------------------------------------------------------------------------- helpers


def _quota(rng: np.random.Generator, n: int, fractions: dict[str, float], rest: str) -> np.ndarray:
    """Labels for n stores with exact counts (round(f*n), at least 1 once n >= 40)."""
    labels: list[str] = []
    for name, frac in fractions.items():
        count = int(round(frac * n))
        if n >= 40 and frac > 0:
            count = max(count, 1)
        labels += [name] * min(count, n - len(labels))
    labels += [rest] * (n - len(labels))
    width = max([len(x) for x in labels] + [1])
    return rng.permutation(np.array(labels, dtype=f"U{width}"))


def _store_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Unique opaque ids: mostly 19-digit numbers (< 2**63), some shorter, some UUIDs."""
    n_uuid = int(round(_UUID_FRACTION * n)) if n >= 10 else 0
    n_short = int(round(_SHORT_ID_FRACTION * n)) if n >= 10 else 0
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        need = n - len(out)
        numbers = rng.integers(10**18, 9_223_372_036_854_775_000, size=need, dtype=np.int64, endpoint=True)
        digits = rng.integers(15, 19, size=need)  # for the short ones: 15..18 digits
        raw = rng.integers(0, 256, size=(need, 16), dtype=np.uint8)
        for k in range(need):
            position = len(out)
            if position < n_uuid:
                value = str(uuid.UUID(bytes=raw[k].tobytes(), version=4))
            elif position < n_uuid + n_short:
                low = 10 ** (int(digits[k]) - 1)
                value = str(int(numbers[k]) % (9 * low) + low)  # exactly that many digits
            else:
                value = str(int(numbers[k]))
            if value not in seen:
                seen.add(value)
                out.append(value)
    return [out[i] for i in rng.permutation(n)] if n else out


def _timezones(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[str]]:
    kind = _quota(rng, n, _TZ_KINDS, "zone")
    names = list(ZONE_WEIGHTS)
    weights = np.array([ZONE_WEIGHTS[z] for z in names])
    n_zone = int((kind == "zone").sum())
    # Exact proportions too, with every zone present once there is room for it.
    fractions = {z: w / weights.sum() for z, w in zip(names, weights)}
    picked = _quota(rng, n_zone, fractions, names[0]) if n_zone else np.array([], dtype="U1")
    zones = [""] * n
    for i, z in zip(np.flatnonzero(kind == "zone"), picked):
        zones[i] = str(z)
    return kind, zones


def _hms(seconds: int) -> str:
    seconds %= 86400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _t(h: float) -> int:
    """Hours (may have a fraction) to whole seconds."""
    return int(round(h * 3600))


_OPEN_CHOICES = [6, 7, 8, 9, 10, 10, 10.5, 11, 11, 11, 12]
_CLOSE_CHOICES = [20, 20.5, 21, 21, 21.5, 22, 22, 23, 23.5, 23.999722, 23.983333]  # ..23:59:59, 23:59:00
_LATE_OPEN = [16, 17, 18, 18, 19, 20, 21, 22]
_LATE_CLOSE = [0, 0.5, 1, 1, 2, 2, 3, 4]  # next day; 0 = midnight exactly


def _pick(u: float, choices: list) -> float:
    return choices[min(int(u * len(choices)), len(choices) - 1)]


def _hours_rows(rng: np.random.Generator, kinds: np.ndarray) -> tuple[list[list[tuple[int, int, int]]], int]:
    """Per store: (day, start_seconds, end_seconds) rows, end seconds 86399 for 23:59:59."""
    n = kinds.size
    u = rng.random((n, 24))  # all per-store randomness, drawn at once
    closed_candidates = np.isin(kinds, ["regular", "split", "overnight_single", "overnight_split"])
    closed_flag = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero(closed_candidates)
    n_closed = int(round(_CLOSED_DAYS_FRACTION * candidates.size))
    if candidates.size >= 10:
        n_closed = max(n_closed, 1)
    closed_flag[rng.permutation(candidates)[:n_closed]] = True

    out: list[list[tuple[int, int, int]]] = []
    for i in range(n):
        kind = kinds[i]
        r = u[i]
        days = list(range(7))
        if closed_flag[i]:
            # Closed on Monday, Sunday, Mon+Tue, or open on a single day (rare).
            if r[0] < 0.45:
                days.remove(0)
            elif r[0] < 0.75:
                days.remove(6)
            elif r[0] < 0.95:
                days = days[2:]
            else:
                days = [int(r[1] * 7) % 7]
        rows: list[tuple[int, int, int]] = []
        if kind == "none":
            pass
        elif kind == "allday":
            end = 86399 if r[2] < 0.35 else 86340  # 23:59:59 or 23:59:00, as in the public file
            rows = [(d, 0, end) for d in days]
        elif kind == "regular":
            open_ = _t(_pick(r[2], _OPEN_CHOICES))
            close = _t(_pick(r[3], _CLOSE_CHOICES))
            weekend_later = r[4] < 0.3
            weekend_allday = r[5] < 0.05
            odd_minutes = r[6] < 0.1  # e.g. 10:45:00-21:15:00
            if odd_minutes:
                open_ += 15 * 60 * int(r[7] * 3)
                close = min(close, _t(23)) - 15 * 60 * int(r[8] * 3)
            for d in days:
                if d in (4, 5) and weekend_allday:
                    rows.append((d, 0, 86399))
                elif d in (4, 5) and weekend_later:
                    rows.append((d, open_, min(close + 3600, 86399)))
                else:
                    rows.append((d, open_, close))
        elif kind == "split":
            lunch_open = _t(_pick(r[2], [10.5, 11, 11, 11.5, 12]))
            lunch_close = _t(_pick(r[3], [14, 14, 14.5, 15]))
            dinner_open = _t(_pick(r[4], [17, 17, 17.5, 18]))
            dinner_close = _t(_pick(r[5], [21, 21.5, 22, 22, 23]))
            dinner_only_weekday = int(r[6] * 7) if r[7] < 0.4 else -1
            for d in days:
                if d != dinner_only_weekday:
                    rows.append((d, lunch_open, lunch_close))
                rows.append((d, dinner_open, dinner_close))
        elif kind == "overnight_single":
            open_ = _t(_pick(r[2], _LATE_OPEN))
            close = _t(_pick(r[3], _LATE_CLOSE))
            rows = [(d, open_, close) for d in days]  # end < start (or 00:00:00)
        elif kind == "overnight_split":
            open_ = _t(_pick(r[2], _LATE_OPEN))
            close = _t(_pick(r[3], [0.5, 1, 1, 2, 2, 3]))
            for d in days:
                rows.append((d, open_, 86399))
                rows.append(((d + 1) % 7, 0, close))
        elif kind == "full24":
            at = _t(_pick(r[2], [0, 0, 0, 6, 9, 10]))
            some = days if r[3] < 0.6 else [d for d in days if d >= 4] or days
            rows = [(d, at, at) for d in some]
            # Plain hours on the other days.
            rows += [(d, _t(10), _t(22)) for d in days if d not in some]
        elif kind == "overlap":
            open_ = _t(_pick(r[2], [9, 10, 10.5]))
            close = _t(_pick(r[3], [20, 21, 22]))
            for d in days:
                rows.append((d, open_, close))
                if d in (4, 5, 6) or r[4] < 0.5:
                    rows.append((d, open_ + _t(1), close + _t(1)))
        else:  # pragma: no cover - labels come from _HOURS_KINDS
            raise AssertionError(kind)
        # Public file style: rows of a store are not sorted by day (rotated here).
        rows = sorted(set(rows))
        turn = int(r[9] * len(rows))
        out.append(rows[turn:] + rows[:turn])
    return out, int(closed_flag.sum())


def _poll_kinds(
    rng: np.random.Generator, n: int, tz_kind: np.ndarray, hours_kind: np.ndarray
) -> np.ndarray:
    kinds = _quota(rng, n, _POLL_KINDS, "normal")
    # A store that never polls must still appear somewhere: give it a time zone row.
    never = np.flatnonzero(kinds == "never")
    bad = [i for i in never if tz_kind[i] != "zone" and hours_kind[i] == "none"]
    spare = [i for i in rng.permutation(n) if kinds[i] == "normal" and tz_kind[i] == "zone"]
    for i, j in zip(bad, spare):
        kinds[i], kinds[j] = kinds[j], kinds[i]
    return kinds


def _polls(
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
    times[:, 0] = start_us + rng.integers(0, _HOUR, size=n, dtype=np.int64)
    times[:, 1:] = rng.integers(SPACING_MIN, SPACING_MAX, size=(n, slots - 1), dtype=np.int64, endpoint=True)
    np.cumsum(times, axis=1, out=times)
    keep = times <= end_us

    # Missed polls: ~1.5% of slots, ~15% for a few unreliable stores.
    miss_rate = np.where(rng.random(n) < 0.05, 0.15, 0.015)
    keep &= rng.random((n, slots), dtype=np.float32) >= miss_rate[:, None].astype(np.float32)

    # Silences (only when the window leaves room for them).
    day = _DAY
    never = kinds == "never"
    keep[never] = False
    silent_stores = np.flatnonzero(kinds == "silent")
    if silent_stores.size and window >= 2 * day:
        length = rng.integers(day, min(3 * day, window // 2), size=silent_stores.size, endpoint=True)
        # Strictly inside the window (polls on both sides), so it is a gap, not an edge.
        room = window - length - 4 * _HOUR
        begin = start_us + 2 * _HOUR + (rng.random(silent_stores.size) * room).astype(np.int64)
        t = times[silent_stores]
        keep[silent_stores] &= ~((t >= begin[:, None]) & (t < (begin + length)[:, None]))
    dark = np.flatnonzero(kinds == "dark")
    if dark.size and window >= 2 * day:
        stop = end_us - rng.integers(day, min(2 * day, window - _HOUR), size=dark.size, endpoint=True)
        keep[dark] &= times[dark] < stop[:, None]
    late = np.flatnonzero(kinds == "late")
    if late.size and window >= 2 * day:
        first = start_us + rng.integers(day, min(2 * day, window - _HOUR), size=late.size, endpoint=True)
        keep[late] &= times[late] >= first[:, None]

    # Outage episodes: a poll starts an episode with probability p, which lasts 1-6
    # polls (episodes may touch and merge). "inactive until slot" = running maximum.
    flaky = rng.random(n) < _FLAKY_FRACTION
    p = np.where(flaky, rng.uniform(0.04, 0.12, size=n), rng.uniform(0.002, 0.02, size=n)).astype(np.float32)
    starts = rng.random((n, slots), dtype=np.float32) < p[:, None]
    col = np.arange(slots, dtype=np.int32)
    until = np.where(starts, col + rng.integers(1, 7, size=(n, slots), dtype=np.int32), 0).astype(np.int32)
    long_outage = rng.random(n) < _LONG_OUTAGE_FRACTION
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


def _writer_order(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """Roughly time order: up to 10 min of jitter, and ~0.1% of rows up to 6 h late."""
    if ts.size == 0:
        return np.zeros(0, dtype=np.int64)
    key = ts + rng.integers(0, 10 * _MIN, size=ts.size, dtype=np.int64)
    late = rng.random(ts.size, dtype=np.float32) < 0.001
    key[late] += rng.integers(_HOUR, 6 * _HOUR, size=int(late.sum()), dtype=np.int64)
    # Buckets of >= 1 minute that fit in 16 bits, so the stable sort is a radix sort
    # (linear time); inside a bucket rows keep their store-major order.
    low = int(key.min())
    bucket = max(_MIN, -(-(int(key.max()) - low + 1) // 65536))
    return np.argsort(((key - low) // bucket).astype(np.uint16), kind="stable")


# --------------------------------------------------------------------------- writers


def _write_timezones(path: Path, ids: list[str], kinds: np.ndarray, zones: list[str]) -> int:
    lines = ["store_id,timezone_str\n"]
    for i, store_id in enumerate(ids):
        if kinds[i] == "none":
            continue
        lines.append(f"{store_id},{zones[i]}\n")  # empty name for kind "empty"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return len(lines) - 1


def _write_hours(path: Path, ids: list[str], rows: list[list[tuple[int, int, int]]]) -> int:
    lines = ["store_id,dayOfWeek,start_time_local,end_time_local\n"]
    text: dict[int, str] = {}  # few distinct times: format each once
    for store_id, store_rows in zip(ids, rows):
        for day, start, end in store_rows:
            a = text.get(start) or text.setdefault(start, _hms(start))
            b = text.get(end) or text.setdefault(end, _hms(end))
            lines.append(f"{store_id},{day},{a},{b}\n")
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return len(lines) - 1


def _ascii_table(values: np.ndarray, width: int) -> np.ndarray:
    """Rows of zero-padded decimal ASCII for each value (a small lookup table)."""
    out = np.empty((values.size, width), dtype=np.uint8)
    v = values.astype(np.int64, copy=True)
    for j in range(width - 1, -1, -1):
        out[:, j] = v % 10 + 48
        v //= 10
    return out


def _timestamp_tables(first_hour: int, last_hour: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables for ``YYYY-MM-DD HH:`` (per hour since the epoch), ``MM:SS``,
    ``.fff`` and ``fff`` (the fraction with its trailing zeros turned into NULs)."""
    hours = np.arange(first_hour, last_hour + 1, dtype=np.int64)
    dt = (hours * _HOUR).astype("datetime64[us]")
    day = dt.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    hour_table = np.empty((hours.size, 14), dtype=np.uint8)
    hour_table[:, 0:4] = _ascii_table(year, 4)
    hour_table[:, 4] = ord("-")
    hour_table[:, 5:7] = _ascii_table(month.astype(np.int64) % 12 + 1, 2)
    hour_table[:, 7] = ord("-")
    hour_table[:, 8:10] = _ascii_table((day - month.astype("datetime64[D]")).astype(np.int64) + 1, 2)
    hour_table[:, 10] = ord(" ")
    hour_table[:, 11:13] = _ascii_table(hours % 24, 2)
    hour_table[:, 13] = ord(":")

    seconds = np.arange(3600)
    minsec_table = np.empty((3600, 5), dtype=np.uint8)
    minsec_table[:, 0:2] = _ascii_table(seconds // 60, 2)
    minsec_table[:, 2] = ord(":")
    minsec_table[:, 3:5] = _ascii_table(seconds % 60, 2)

    # The fraction is split in milliseconds (high) and the rest (low). Rows 0..999 of
    # the high table are used when low != 0 (all digits kept), rows 1000..1999 when
    # low == 0 (trailing zeros cut, and the dot too when the whole fraction is 0).
    thousand = np.arange(1000)
    digits = _ascii_table(thousand, 3)
    cut = digits.copy()
    cut[:, 2][thousand % 10 == 0] = 0
    cut[:, 1][thousand % 100 == 0] = 0
    cut[:, 0][thousand == 0] = 0
    high_table = np.empty((2000, 4), dtype=np.uint8)
    high_table[:, 0] = ord(".")
    high_table[:1000, 1:] = digits
    high_table[1000:, 1:] = cut
    high_table[1000, 0] = 0
    low_table = cut
    return hour_table, minsec_table, high_table, low_table


_CHUNK = 1 << 18


def _write_status(
    path: Path,
    ids: list[str],
    store_idx: np.ndarray,
    ts: np.ndarray,
    inactive: np.ndarray,
    order: np.ndarray,
) -> None:
    """Fixed-width byte rows, NUL-padded, then all NULs squeezed out in one pass.

    Row layout: ``id,`` (NUL-padded) | ``YYYY-MM-DD HH:`` | ``MM:SS`` | ``.fff`` ``fff``
    (trailing zeros -> NUL) | `` UTC,`` | ``active\\n`` / ``inactive\\n`` (NUL-padded).
    Every part comes from a small lookup table: no per-row Python, no strftime.
    """
    id_width = max([len(i) for i in ids] + [1]) + 1
    id_table = np.zeros((len(ids), id_width), dtype=np.uint8)
    for k, store_id in enumerate(ids):
        raw = (store_id + ",").encode("ascii")
        id_table[k, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    status_table = np.zeros((2, 9), dtype=np.uint8)
    status_table[0, :7] = np.frombuffer(b"active\n", dtype=np.uint8)
    status_table[1, :9] = np.frombuffer(b"inactive\n", dtype=np.uint8)

    with open(path, "wb") as fh:
        fh.write(b"store_id,timestamp_utc,status\n")
        if order.size == 0:
            return
        first_hour = int(ts.min() // _HOUR)
        hour_table, minsec_table, high_table, low_table = _timestamp_tables(first_hour, int(ts.max() // _HOUR))
        c_hour = id_width
        c_minsec = c_hour + 14
        c_high = c_minsec + 5
        c_low = c_high + 4
        c_utc = c_low + 3
        c_status = c_utc + 5
        width = c_status + 9
        buffer = np.empty((min(_CHUNK, order.size), width), dtype=np.uint8)
        buffer[:, c_utc:c_status] = np.frombuffer(b" UTC,", dtype=np.uint8)
        for lo in range(0, order.size, _CHUNK):
            sel = order[lo : lo + _CHUNK]
            mat = buffer[: sel.size]
            t = ts[sel]
            in_hour = t % _HOUR
            micro = (in_hour % _US).astype(np.int32)
            low = micro % 1000
            mat[:, :id_width] = id_table[store_idx[sel]]
            mat[:, c_hour:c_minsec] = hour_table[t // _HOUR - first_hour]
            mat[:, c_minsec:c_high] = minsec_table[in_hour // _US]
            mat[:, c_high:c_low] = high_table[micro // 1000 + 1000 * (low == 0)]
            mat[:, c_low:c_utc] = low_table[low]
            mat[:, c_status:] = status_table[inactive[sel].view(np.uint8)]
            fh.write(mat[mat != 0].tobytes())

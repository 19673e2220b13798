"""Stores: ids (19-digit numbers, UUIDs, shorter numbers), time zones and business hours
of each kind (regular, split, overnight, 24x7, none, closed days)."""

from __future__ import annotations

import uuid

import numpy as np

from monitoring.tools.generation.shapes import (
    ZONE_WEIGHTS,
    CLOSED_DAYS_FRACTION,
    SHORT_ID_FRACTION,
    TZ_KINDS,
    UUID_FRACTION,
)


# --------------------------------------------------------------------------- helpers


def quota(rng: np.random.Generator, n: int, fractions: dict[str, float], rest: str) -> np.ndarray:
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


def store_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Unique opaque ids: mostly 19-digit numbers (< 2**63), some shorter, some UUIDs."""
    n_uuid = int(round(UUID_FRACTION * n)) if n >= 10 else 0
    n_short = int(round(SHORT_ID_FRACTION * n)) if n >= 10 else 0
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


def generated_timezones(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[str]]:
    kind = quota(rng, n, TZ_KINDS, "zone")
    names = list(ZONE_WEIGHTS)
    weights = np.array([ZONE_WEIGHTS[z] for z in names])
    n_zone = int((kind == "zone").sum())
    # Exact proportions too, with every zone present once there is room for it.
    fractions = {z: w / weights.sum() for z, w in zip(names, weights)}
    picked = quota(rng, n_zone, fractions, names[0]) if n_zone else np.array([], dtype="U1")
    zones = [""] * n
    for i, z in zip(np.flatnonzero(kind == "zone"), picked):
        zones[i] = str(z)
    return kind, zones


def hms(seconds: int) -> str:
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


def generated_hours_rows(rng: np.random.Generator, kinds: np.ndarray) -> tuple[list[list[tuple[int, int, int]]], int]:
    """Per store: (day, start_seconds, end_seconds) rows, end seconds 86399 for 23:59:59."""
    n = kinds.size
    u = rng.random((n, 24))  # all per-store randomness, drawn at once
    closed_candidates = np.isin(kinds, ["regular", "split", "overnight_single", "overnight_split"])
    closed_flag = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero(closed_candidates)
    n_closed = int(round(CLOSED_DAYS_FRACTION * candidates.size))
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

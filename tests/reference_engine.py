"""A deliberately simple, independent brute-force version of the engine (tests only).

Nothing here shares code or tricks with `monitoring.engine` beyond its input types:
business hours come from a plain loop over local dates converted one by one with
``datetime(..., tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)`` (no transition
tables; a special date (docs/rules.md §9) takes its special rows instead of its weekday's rows),
and the status of an instant is found by a linear scan for the nearest
evidence poll.  Durations are integrated exactly: the status can only change at an
interval bound, at ``poll ± H`` or half-way between two consecutive evidence polls, so
between consecutive such breakpoints it is constant and is evaluated at the middle.

Times are microseconds since the epoch (UTC) as Python numbers; midpoints may be
half-microseconds (floats hold them exactly at these magnitudes).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_ZONE = "America/Chicago"


def us(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def local_to_utc_us(day: date, t, zone_name: str) -> int:
    """Local wall time on `day` -> UTC µs, zoneinfo fold=0 (gap: offset before; fold: first occurrence)."""
    local = datetime(day.year, day.month, day.day, t.hour, t.minute, t.second, t.microsecond,
                     tzinfo=ZoneInfo(zone_name), fold=0)
    return us(local.astimezone(UTC))


def day_shifts(schedule, d: date) -> list:
    """(start, end) local times of the shifts starting on local date d (docs/rules.md §3, §9): the
    special rows of d when it has any (closed-all-day rows give none), else the weekly rows
    of d's weekday, else (no weekly rows at all) the whole day."""
    specials = [sp for sp in schedule.special_shifts if sp.date == d]
    if specials:
        return [(sp.start, sp.end) for sp in specials if sp.start is not None]
    if not schedule.shifts:
        return [(time(0), time(0))]
    return [(sh.start, sh.end) for sh in schedule.shifts if sh.day_of_week == d.weekday()]


def business_intervals(schedule, start_us: int, end_us: int) -> list[tuple[int, int]]:
    """Merged UTC intervals [s, e) of one store, clipped to [start_us, end_us)."""
    if end_us <= start_us:
        return []
    if not schedule.shifts and not schedule.special_shifts:
        return [(start_us, end_us)]
    zone = schedule.timezone_name or DEFAULT_ZONE
    first = (EPOCH + timedelta(microseconds=start_us)).date() - timedelta(days=3)
    last = (EPOCH + timedelta(microseconds=end_us)).date() + timedelta(days=3)
    raw = []
    d = first
    while d <= last:
        for start, end in day_shifts(schedule, d):
            s = local_to_utc_us(d, start, zone)
            end_day = d if end > start else d + timedelta(days=1)
            e = local_to_utc_us(end_day, end, zone)
            s, e = max(s, start_us), min(e, end_us)
            if s < e:
                raw.append((s, e))
        d += timedelta(days=1)
    raw.sort()
    merged: list[list[int]] = []
    for s, e in raw:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def inside(intervals, x) -> bool:
    return any(s <= x < e for s, e in intervals)


class StoreModel:
    """The status of one store at any instant, given polls and an as_of."""

    def __init__(self, schedule, polls, as_of_us: int, horizon_us: int, lo_us: int, hi_us: int):
        # polls: iterable of (t_us, is_active); business hours known over [lo_us, hi_us)
        self.horizon = horizon_us
        self.intervals = business_intervals(schedule, lo_us, hi_us)
        self.evidence = sorted(
            (t, bool(a)) for t, a in polls if t <= as_of_us and inside(self.intervals, t)
        )

    def status(self, x) -> str:
        """'up' / 'down' / 'unknown' for a business instant (nearest evidence poll, linear scan)."""
        best, best_d = None, None
        for t, a in self.evidence:
            d = abs(x - t)
            if best_d is None or d < best_d:
                best, best_d = a, d
        if best is None or best_d > self.horizon:
            return "unknown"
        return "up" if best else "down"

    def state(self, x) -> str:
        """'UP' / 'DOWN' / 'UNKNOWN' / 'CLOSED'."""
        if not inside(self.intervals, x):
            return "CLOSED"
        return self.status(x).upper()

    def pieces(self, a, b, extra=()) -> list[tuple[float, float, str]]:
        """[a, b) cut at every possible change point (and at `extra`), each piece with its (constant) state."""
        points = {a, b, *extra}
        for s, e in self.intervals:
            points.update((s, e))
        for t, _ in self.evidence:
            points.update((t - self.horizon, t + self.horizon))
        for (t0, _), (t1, _) in zip(self.evidence, self.evidence[1:]):
            points.add((t0 + t1) / 2)
        cuts = sorted(p for p in points if a <= p <= b)
        return [(p, q, self.state((p + q) / 2)) for p, q in zip(cuts, cuts[1:]) if q > p]


def uptime(schedules, polls, as_of_us: int, horizon_us: int, windows_us=(3600e6, 86400e6, 7 * 86400e6)):
    """{store_index: {(window_index, state): seconds}} plus business seconds per window.

    polls: list of (store_index, t_us, is_active).
    """
    week = max(windows_us)
    out = {}
    for i, schedule in enumerate(schedules):
        mine = [(t, a) for s, t, a in polls if s == i]
        # business hours known over everything that could matter: every poll and the whole week
        lo = int(min([as_of_us - week - horizon_us] + [t for t, _ in mine])) - 1
        model = StoreModel(schedule, mine, as_of_us, horizon_us, lo, as_of_us + 1)
        starts = [as_of_us - length for length in windows_us]
        res = {(w, k): 0.0 for w in range(len(windows_us)) for k in ("up", "down", "unknown", "business")}
        for p, q, state in model.pieces(min(starts), as_of_us, extra=starts):
            if state == "CLOSED":
                continue
            for w, start in enumerate(starts):
                if p >= start:  # pieces never straddle a window start (it is a cut point)
                    res[(w, state.lower())] += (q - p) / 1e6
                    res[(w, "business")] += (q - p) / 1e6
        out[i] = res
    return out


def timeline(schedule, polls, start_us: int, end_us: int, horizon_us: int) -> list[tuple[float, float, str]]:
    """Pieces of [start, end) with states, adjacent equal states merged (as_of = end)."""
    polls = list(polls)
    lo = int(min([start_us - horizon_us] + [t for t, _ in polls])) - 1
    model = StoreModel(schedule, polls, end_us, horizon_us, lo, end_us + 1)
    merged: list[list] = []
    for p, q, state in model.pieces(start_us, end_us):
        if merged and merged[-1][2] == state:
            merged[-1][1] = q
        else:
            merged.append([p, q, state])
    return [tuple(m) for m in merged]


def incidents(schedule, polls, start_us: int, end_us: int, horizon_us: int) -> list[tuple[float, float, float]]:
    """(start, end, down seconds) of maximal DOWN runs, CLOSED time not breaking a run."""
    out = []
    current = None
    for p, q, state in timeline(schedule, polls, start_us, end_us, horizon_us):
        if state == "DOWN":
            if current is None:
                current = [p, q, 0.0]
            current[1] = q
            current[2] += (q - p) / 1e6
        elif state != "CLOSED" and current is not None:
            out.append(tuple(current))
            current = None
    if current is not None:
        out.append(tuple(current))
    return out


def range_figures(schedule, polls, start_us: int, end_us: int, horizon_us: int) -> dict[str, float]:
    """Business seconds up / down / unknown / business of one store over [start, end),
    with the polls at or before `end` as evidence (docs/rules.md §11): the pieces of the
    timeline, summed by state."""
    polls = list(polls)
    out = {"up": 0.0, "down": 0.0, "unknown": 0.0, "business": 0.0}
    if end_us <= start_us:
        return out
    lo = int(min([start_us - horizon_us] + [t for t, _ in polls])) - 1
    model = StoreModel(schedule, polls, end_us, horizon_us, lo, end_us + 1)
    for p, q, state in model.pieces(start_us, end_us):
        if state != "CLOSED":
            out[state.lower()] += (q - p) / 1e6
            out["business"] += (q - p) / 1e6
    return out


def local_midnight_us(d: date, zone_name: str | None) -> int:
    """00:00 local on `d` as UTC µs (fold=0, as every local time of the rules)."""
    return local_to_utc_us(d, time(0), zone_name or DEFAULT_ZONE)


def daily_figures(schedule, polls, first: date, last: date, horizon_us: int) -> list[tuple[date, dict[str, float]]]:
    """(date, range_figures of [d 00:00, d+1 00:00) local) for each date first..last, one
    day at a time."""
    out = []
    d = first
    while d <= last:
        start = local_midnight_us(d, schedule.timezone_name)
        end = local_midnight_us(d + timedelta(days=1), schedule.timezone_name)
        out.append((d, range_figures(schedule, polls, start, end, horizon_us)))
        d += timedelta(days=1)
    return out

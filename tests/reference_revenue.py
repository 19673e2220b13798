"""A deliberately simple, independent reference for lost revenue (docs/rules.md §13),
tests only, as tests/reference_engine.py is for uptime.

Nothing here shares code with `monitoring.engine`: business hours come from
tests/reference_engine.py (local dates converted one by one with zoneinfo); an instant
belongs to the evidence poll found by bisecting the change points (half-way between
two evidence polls, rounded down to the microsecond: docs/rules.md §4.2) and is known
when that poll is within H; the local hour of an instant is asked of zoneinfo, walking
UTC a quarter of an hour at a time (every offset change of the zones tested falls on a
quarter hour, so the wall-clock hour is constant inside each quarter). Time is summed
in whole microseconds per (weekday, hour), and money with Python's Decimal, rounded to
cents half to even at the very end.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from zoneinfo import ZoneInfo

from tests.reference_engine import DEFAULT_ZONE, business_intervals

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUARTER_US = 15 * 60 * 1_000_000
HOUR_US = 3600 * 1_000_000
CENT = Decimal("0.01")


def instant(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def local_hour(moment_us: int, zone: ZoneInfo) -> tuple[int, int]:
    """(weekday 0 = Monday, wall-clock hour) of the instant `moment_us` in `zone`."""
    local = instant(moment_us).astimezone(zone)
    return local.weekday(), local.hour


def exposure(schedule, polls, start_us: int, end_us: int, as_of_us: int, horizon_us: int):
    """({(weekday, hour): down µs}, {(weekday, hour): unknown µs}) of one store's business
    time in [start, end), the polls (t µs, is_active) at or before `as_of` as evidence."""
    down: dict[tuple[int, int], int] = {}
    unknown: dict[tuple[int, int], int] = {}
    if end_us <= start_us:
        return down, unknown
    zone = ZoneInfo(schedule.timezone_name or DEFAULT_ZONE)
    polls = sorted(polls)
    lo = min([start_us - horizon_us] + [t for t, _ in polls]) - 1
    intervals = business_intervals(schedule, lo, max(end_us, as_of_us) + 1)
    opens = [s for s, _ in intervals]

    def open_at(x: int) -> bool:
        i = bisect_right(opens, x) - 1
        return i >= 0 and x < intervals[i][1]

    evidence = [(t, active) for t, active in polls if t <= as_of_us and open_at(t)]
    mids = [(a + b) // 2 for (a, _), (b, _) in zip(evidence, evidence[1:])]
    cuts = {start_us, end_us}
    cuts.update(x for s, e in intervals for x in (s, e))
    cuts.update(x for t, _ in evidence for x in (t - horizon_us, t + horizon_us))
    cuts.update(mids)
    quarter = -(-start_us // QUARTER_US) * QUARTER_US
    cuts.update(range(quarter, end_us, QUARTER_US))
    points = sorted(x for x in cuts if start_us <= x <= end_us)
    for p, q in zip(points, points[1:]):
        if not open_at(p):
            continue  # closed: neither lost nor at risk
        owner = bisect_right(mids, p)
        known = bool(evidence) and evidence[owner][0] - horizon_us <= p < evidence[owner][0] + horizon_us
        if known and evidence[owner][1]:
            continue  # up
        into = down if known else unknown
        hour = local_hour(p, zone)
        into[hour] = into.get(hour, 0) + (q - p)
    return down, unknown


def exact(times: dict[tuple[int, int], int], rates: dict[tuple[int, int], Decimal]) -> Decimal:
    """Σ µs / one hour's µs × that hour's expected revenue, not rounded (an hour without a
    rate expects 0)."""
    with localcontext() as context:
        context.prec = 80  # far more digits than any sum here: the division is exact enough
        total = sum((Decimal(length) * rates.get(hour, Decimal(0)) for hour, length in times.items()), Decimal(0))
        return total / HOUR_US


def rounded(amount: Decimal) -> Decimal:
    """To cents, half to even."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def priced(times: dict[tuple[int, int], int], rates: dict[tuple[int, int], Decimal]) -> Decimal:
    """`exact`, rounded to cents half to even once."""
    return rounded(exact(times, rates))


def lost_revenue(schedule, polls, rates, start_us: int, end_us: int, as_of_us: int, horizon_us: int):
    """(lost, at risk) of one store over [start, end) in its currency (docs/rules.md §13)."""
    down, unknown = exposure(schedule, polls, start_us, end_us, as_of_us, horizon_us)
    return priced(down, rates), priced(unknown, rates)


def local_midnight_us(day: date, zone_name: str | None) -> int:
    """00:00 local on `day` as UTC µs (zoneinfo, fold=0)."""
    return us(datetime.combine(day, time(0), ZoneInfo(zone_name or DEFAULT_ZONE)).astimezone(UTC))

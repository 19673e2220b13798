"""Durations, ages, local times, uptime figures and amounts of money for people, the same on every page.

Every duration shown to people (business time, uptime, downtime, incidents, outages,
how long a report took; pages and admin alike) is written by `duration`, one rule: its
two largest units, cut down to the smaller one ("2 h 14 min", "1 d 3 h", "45 s"), never
rounded up, so no part shown exceeds the whole it is part of ("1 d 1 h of 7 d known");
ages from pendulum's `diff_for_humans` ("3 min ago");
an uptime figure always says how much of the business time is known (docs/rules.md §4: unknown
time counts as neither uptime nor downtime), so that a percentage over mostly unknown
time is never shown bare."""

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo


UTC = timezone.utc

#: Below this share of the business time known, a headline percentage is qualified.
WELL_KNOWN_SHARE = 0.5

_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
_WORDS = {"second": "s", "minute": "min", "hour": "h", "day": "d", "week": "wk", "month": "mo", "year": "y"}


def duration(seconds: float) -> str:
    """'45 s', '12 min', '2 h 14 min', '1 d 3 h': the two largest units, cut down (never
    rounded up) to the smaller one, so that parts never add up to more than the whole
    and an amount never reads larger than another that holds it. '0 min' for nothing,
    'under 1 s' for less than a second."""
    total = int(max(0.0, seconds))
    if total == 0:
        return "0 min" if seconds <= 0 else "under 1 s"
    parts = []
    for unit, size in _UNITS:
        value, total = divmod(total, size)
        if value or parts:
            parts.append((value, unit))
        if len(parts) == 2:
            break
    while len(parts) > 1 and parts[-1][0] == 0:  # "2 h", not "2 h 0 min"
        parts.pop()
    return " ".join(f"{value} {unit}" for value, unit in parts)


def ago(moment: datetime | None, *, now: datetime) -> str:
    """'3 min ago', '2 h ago', '1 d ago' (pendulum's diff_for_humans, abbreviated), relative
    to `now` (the page's as_of, or the present); 'just now' under a second."""
    if moment is None:
        return "never"
    delta = (now - moment).total_seconds()
    if abs(delta) < 1:
        return "just now"
    import pendulum  # here, not at the top: ~15 ms of every process start (commands, workers)

    words = pendulum.instance(moment).diff_for_humans(pendulum.instance(now), absolute=True)
    words = re.sub(r"(\d+) (second|minute|hour|day|week|month|year)s?", lambda m: f"{m[1]} {_WORDS[m[2]]}", words)
    return f"{words} ago" if delta > 0 else f"in {words}"


def local_time(moment: datetime | None, zone: ZoneInfo | str) -> str:
    """'Wed 25 Jan 2023 11:15 EST' in the store's zone; '—' for none."""
    if moment is None:
        return "—"
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def utc_time(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def count(number: int, noun: str, plural: str | None = None, *, grouped: bool = True) -> str:
    """'14,000 stores', '1 store'; `grouped=False`: '14000 stores' (command output that
    scripts read)."""
    figure = f"{number:,}" if grouped else str(number)
    return f"{figure} {noun if number == 1 else (plural or noun + 's')}"


def uptime_percent(up: float, down: float) -> float | None:
    """up / (up + down); None when nothing is known."""
    known = up + down
    return None if known <= 0 else 100.0 * up / known


def percent_text(value: float) -> str:
    """'99.2%', '100%', '0%': one decimal, never rounded up to a false 100% or down to 0%."""
    if value >= 100:
        return "100%"
    if value <= 0:
        return "0%"
    text = f"{value:.1f}"
    if text == "100.0":
        text = "99.9"
    elif text == "0.0":
        text = "0.1"
    return text.removesuffix(".0") + "%"


def coverage(up: float, down: float, unknown: float) -> dict:
    """How an uptime figure over one window reads, with how much of it is known:
    `headline` (the percentage, or words when there is none), `coverage` ('4 h of 7 d
    known'), `text` (one line: '99.2% up · 4 h of 7 d known'), `qualified` (True when
    less than half the business time is known: the headline says 'but only …').
    Amounts are `duration`s, as the business time beside them is."""
    known = up + down
    business = known + unknown
    percent = uptime_percent(up, down)
    result = {
        "percent": percent,
        "known_seconds": known,
        "business_seconds": business,
        "known_share": 0.0 if business <= 0 else known / business,
        "qualified": False,
        "coverage": "",
    }
    if business <= 0:
        result.update(headline="closed", text="closed: no business hours in this window")
        return result
    amounts = f"{duration(known)} of {duration(business)}"
    if percent is None:
        result.update(headline="unknown", text="no polls in this window: uptime unknown")
        return result
    result["coverage"] = f"{amounts} known"
    if result["known_share"] < WELL_KNOWN_SHARE:
        result.update(
            qualified=True,
            headline=f"{percent_text(percent)} up",
            text=f"{percent_text(percent)} up — but only {amounts} known",
        )
    else:
        result.update(headline=f"{percent_text(percent)} up", text=f"{percent_text(percent)} up · {amounts} known")
    return result


def money(amount, currency: str) -> str:
    """'1,234.56 USD': an amount (a Decimal, in cents) with thousands separated and its
    ISO 4217 code after it, the same whatever the currency (no symbol to guess)."""
    return f"{amount:,.2f} {currency}"

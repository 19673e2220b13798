"""The periods of scheduled reports (docs/rules.md §11): a week runs from Monday 00:00 to
the next Monday 00:00, a month from the 1st 00:00 to the next 1st 00:00, both in the
zone the schedule names. Local midnights become instants as business hours do
(docs/rules.md §3, zoneinfo's fold=0): a midnight that does not exist maps to the
instant it would have been under the offset before the change, an ambiguous one to its
first occurrence. So a week is 167 or 169 hours long across a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from monitoring.engine.zones import zone_info

WEEKLY = "WEEKLY"
MONTHLY = "MONTHLY"
PERIODS = (WEEKLY, MONTHLY)


def local_midnight(day: date, *, zone: str) -> datetime:
    """00:00 of `day` in `zone`, as a UTC instant (fold=0, docs/rules.md §3)."""
    return datetime.combine(day, time(0), tzinfo=zone_info(zone)).astimezone(UTC)


def _first_day(period: str, day: date) -> date:
    """The first local date of the period that holds `day`."""
    if period == WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_first_day(period: str, first: date) -> date:
    if period == WEEKLY:
        return first + timedelta(days=7)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def period_holding(*, period: str, zone: str, moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period that holds `moment`, as UTC instants."""
    first = _first_day(period, moment.astimezone(zone_info(zone)).date())
    start = local_midnight(first, zone=zone)
    if start > moment:  # never under fold=0, whatever the zone: kept as a guard
        first = _first_day(period, first - timedelta(days=1))
        start = local_midnight(first, zone=zone)
    return start, local_midnight(_next_first_day(period, first), zone=zone)


def period_after(*, period: str, zone: str, start: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period that follows the one starting at `start`."""
    return period_holding(period=period, zone=zone, moment=period_holding(period=period, zone=zone, moment=start)[1])

"""The lengths of time the product speaks of, decided once: the report's windows, the
horizon H (docs/rules.md §2, §4), the default zone, and the epochs instants count from."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
#: The report's windows, each ending at as_of, in the order of its columns.
WINDOWS = (("hour", HOUR), ("day", DAY), ("week", WEEK))
#: H when nothing else is configured: an instant farther than this from every evidence poll is unknown.
DEFAULT_HORIZON = timedelta(hours=2)
#: The zone of a store with no zone row.
DEFAULT_TIMEZONE = "America/Chicago"
#: Instants inside the engine: microseconds since this.
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: PostgreSQL's binary formats count from these.
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PG_EPOCH_DATE = date(2000, 1, 1)
PG_EPOCH_UNIX_US = (PG_EPOCH - UNIX_EPOCH) // timedelta(microseconds=1)


def zone_name(timezone_name: str | None) -> str:
    """The zone a store's hours are read in: its own, else the default."""
    return timezone_name or DEFAULT_TIMEZONE


def local_midnight(day: date, timezone_name: str | None) -> datetime:
    """The instant (UTC) a local date begins in a store's zone: its 00:00 with `fold=0`,
    so a midnight that does not exist maps as docs/rules.md §3 says (the offset before
    the change), as the daily figures cut their days."""
    return datetime.combine(day, time(0), ZoneInfo(zone_name(timezone_name))).astimezone(UTC)


def default_horizon() -> timedelta:
    """H as configured (REPORT_HORIZON_MINUTES), for every path that is not given one."""
    from django.conf import settings

    return timedelta(minutes=settings.REPORT_HORIZON_MINUTES)

"""Small helpers to put stores, hours and polls in the test database."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitoring.models import BusinessHours, StatusPoll, Store
from monitoring.stores.partitions import partitions_ensure

UTC = ZoneInfo("UTC")


def make_store(store_id: str, *, zone: str | None = None, hours: list[tuple[int, str, str]] = ()) -> Store:
    store = Store.objects.create(store_id=store_id, timezone_name=zone)
    BusinessHours.objects.bulk_create(
        BusinessHours(
            store=store,
            day_of_week=day,
            start_time_local=time.fromisoformat(start),
            end_time_local=time.fromisoformat(end),
        )
        for day, start, end in hours
    )
    return store


def add_polls(store: Store, polls: list[tuple[datetime, bool]]) -> None:
    # As the application's writers do: the weekly partitions first (else: the DEFAULT one).
    if polls:
        partitions_ensure(start=min(when for when, _ in polls), end=max(when for when, _ in polls))
    StatusPoll.objects.bulk_create(
        StatusPoll(store=store, timestamp_utc=when, is_active=active) for when, active in polls
    )


def worked_example_store(store_id: str = "worked-example") -> tuple[Store, datetime]:
    """docs/rules.md §4's example: open 09:00–12:00 every day (New York), polls 10:14 active and
    11:15 inactive on Wednesday 2023-01-25; returns the store and noon that day (UTC)."""
    zone = ZoneInfo("America/New_York")
    store = make_store(store_id, zone="America/New_York", hours=[(day, "09:00", "12:00") for day in range(7)])
    day = datetime(2023, 1, 25, tzinfo=zone)
    add_polls(
        store,
        [
            ((day + timedelta(hours=10, minutes=14)).astimezone(UTC), True),
            ((day + timedelta(hours=11, minutes=15)).astimezone(UTC), False),
        ],
    )
    return store, (day + timedelta(hours=12)).astimezone(UTC)


def busy_week_store(store_id: str = "busy-week") -> tuple:
    """A week of hourly polls ending Wed 2023-01-25 18:13 UTC (New York), with split
    shifts, a shift past midnight, an outage, a gap in the polls (unknown) and a closed
    day: every state of the timeline shows. Returns the store and its last poll."""
    hours = [(day, "08:00", "14:00") for day in range(5)] + [(day, "16:00", "22:00") for day in range(5)]
    hours += [(5, "18:00", "02:00")]  # Saturday evening into Sunday; Sunday closed otherwise
    store = make_store(store_id, zone="America/New_York", hours=hours)
    end = datetime(2023, 1, 25, 18, 13, tzinfo=UTC)
    polls = []
    for hour in range(7 * 24 + 1):
        when = end - timedelta(hours=hour)
        if timedelta(hours=20) <= end - when <= timedelta(hours=27):
            continue  # the poller was away: unknown time
        down = timedelta(hours=50) <= end - when <= timedelta(hours=53) or hour in (3, 100)
        polls.append((when, not down))
    add_polls(store, polls)
    return store, end


FLEET_END = datetime(2023, 1, 25, 12, 0, tzinfo=UTC)


def hourly(store, *, hours: int, status=lambda age: True, end: datetime = FLEET_END) -> None:
    """Polls every hour back from `end`; status(age in hours) -> active?"""
    add_polls(store, [(end - timedelta(hours=age), status(age)) for age in range(hours)])


def _stores_out_of_order():
    """Stores whose pk order is not their store_id order (code points: "B" < "a" < "é")."""
    noon = None
    for store_id in ("zeta", "é-accent", "B-upper", "alpha", "+formula", "10", "9", "a"):
        _, noon = worked_example_store(store_id)
    make_store("24x7-no-polls")
    return noon

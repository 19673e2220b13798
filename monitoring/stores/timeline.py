"""When a store was up, down, unknown or closed, and its outage incidents: the same
engine as the report, over any range up to MAX_RANGE."""

from datetime import datetime, timedelta

from monitoring import engine
from monitoring.models import Store
from monitoring.kernel.periods import default_horizon
from monitoring.kernel.errors import InputError
from monitoring.stores.selectors import polls_between, store_schedules

MAX_RANGE = timedelta(days=31)


def _validated_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError("must include a time zone, as must from", field="to")
    if end <= start:
        raise InputError("must be after from", field="to")
    if end - start > MAX_RANGE:
        raise InputError(f"may be at most {MAX_RANGE.days} days after from", field="to")


def _for_store(engine_function, store: Store, start: datetime, end: datetime, horizon: timedelta | None):
    _validated_range(start, end)
    horizon = horizon or default_horizon()
    stores = [(store.pk, store.store_id, store.timezone_name)]
    # Polls earlier than start - horizon cannot affect [start, end) (docs/rules.md §4).
    (schedule,) = store_schedules(stores=stores, start=start - horizon, end=end)
    polls = polls_between(stores=stores, start=start - horizon, end=end)
    return engine_function(
        schedule=schedule, timestamps_us=polls.timestamp_us, is_active=polls.is_active,
        start=start, end=end, horizon=horizon,
    )


def store_timeline(
    *, store: Store, start: datetime, end: datetime, horizon: timedelta | None = None
) -> list[engine.Segment]:
    """Ordered segments covering [start, end) exactly; polls after `end` are not used."""
    return _for_store(engine.store_timeline, store, start, end, horizon)


def store_incidents(
    *, store: Store, start: datetime, end: datetime, horizon: timedelta | None = None
) -> list[engine.Incident]:
    """Outage episodes during business hours within [start, end)."""
    return _for_store(engine.store_incidents, store, start, end, horizon)

"""Stores as they are at an instant: the state their timeline ends in and since when, the
incident in progress, and their latest poll; for a page of stores in one batch (a read
of hours and one of polls, one engine pass, engine.stores_now, for all of them; one query
for the stores with no poll in the read)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db.models import OuterRef, Subquery

from monitoring import engine
from monitoring.kernel.periods import default_horizon
from monitoring.models import StatusPoll, Store
from monitoring.stores.selectors import polls_between, store_schedules

#: How far back a store's state and incident in progress are looked for: a state held
#: (or an incident begun) earlier is said to be since the look-back's start.
LOOK_BACK = timedelta(days=7)
#: The look-back read first (see `stores_at`).
SHORT_LOOK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LatestPoll:
    at: datetime
    is_active: bool


@dataclass(frozen=True, slots=True)
class StoreAt:
    """One store at `as_of`: the timeline over [as_of - LOOK_BACK, as_of) ends in `state`,
    begun at `since` (`since_clipped`: held through the whole look-back, begun at or
    before `since`); `open_incident` as Store.incidents over that range finds it."""

    as_of: datetime
    state: str  # "UP" | "DOWN" | "UNKNOWN" | "CLOSED"
    since: datetime
    since_clipped: bool
    open_incident: engine.Incident | None
    latest_poll: LatestPoll | None  # at or before as_of, however old


def stores_at(
    *, stores: list[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta | None = None
) -> list[StoreAt]:
    """Each of `stores` (pk, store_id, timezone_name) at `as_of`, in the order given.
    Most states and outages began within the last day: the day's hours and polls are read
    for every store, and the week's only for those whose state or outage began earlier
    (the timeline's last segment and the incident in progress are the same over either
    range when they begin inside it)."""
    horizon = horizon or default_horizon()
    found: dict[int, engine.StoreNow] = {}
    latest: dict[int, LatestPoll] = {}
    asked = list(stores)
    for reach in (SHORT_LOOK, LOOK_BACK):
        start = as_of - reach
        now, read = _now(asked, as_of=as_of, start=start, horizon=horizon)
        found.update(now)
        latest.update(read)
        asked = [
            store for store in asked if now[store[0]].since <= start
            or (now[store[0]].open_incident is not None and now[store[0]].open_incident.start <= start)
        ]
        if not asked:
            break
    start = as_of - LOOK_BACK
    older = [pk for pk, _, _ in stores if pk not in latest]
    if older:
        latest.update(_latest_polls(store_pks=older, until=as_of))
    return [
        StoreAt(
            as_of=as_of, state=found[pk].state, since=found[pk].since, since_clipped=found[pk].since <= start,
            open_incident=found[pk].open_incident, latest_poll=latest.get(pk),
        )
        for pk, _, _ in stores
    ]


def _now(stores, *, as_of: datetime, start: datetime, horizon: timedelta):
    """({pk: engine.store_now over [start, as_of)}, {pk: its latest poll read}): one read
    of hours and one of polls for all of `stores`, one engine pass (engine.stores_now)."""
    # Polls before start - horizon cannot affect [start, as_of) (docs/rules.md §4).
    schedules = store_schedules(stores=stores, start=start - horizon, end=as_of)
    polls = polls_between(stores=stores, start=start - horizon, end=as_of)
    now = engine.stores_now(
        schedules=schedules, store_index=polls.store_index, timestamps_us=polls.timestamp_us,
        is_active=polls.is_active, start=start, end=as_of, horizon=horizon,
    )
    found = {pk: state for (pk, _, _), state in zip(stores, now)}
    # Each store's last poll read: the last of its run (polls are in (store, time) order).
    last = np.flatnonzero(np.append(polls.store_index[1:] != polls.store_index[:-1], True)) if len(polls.store_index) else []
    latest = {
        stores[polls.store_index[i]][0]: LatestPoll(engine.from_us(int(polls.timestamp_us[i])), bool(polls.is_active[i]))
        for i in last
    }
    return found, latest


def _latest_polls(*, store_pks: list[int], until: datetime) -> dict[int, LatestPoll]:
    """{pk: its latest poll at or before `until`} of those of the stores that have one:
    one query, each store's newest row from the (store, time) index."""
    newest = StatusPoll.objects.filter(store_id=OuterRef("pk"), timestamp_utc__lte=until).order_by("-timestamp_utc")
    rows = (
        Store.objects.filter(pk__in=store_pks)
        .annotate(at=Subquery(newest.values("timestamp_utc")[:1]), active=Subquery(newest.values("is_active")[:1]))
        .filter(at__isnull=False)
        .values_list("pk", "at", "active")
    )
    return {pk: LatestPoll(at, active) for pk, at, active in rows}

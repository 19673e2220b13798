"""A store now (Store.currentState, Store.lastPoll, Store.openIncident): computed for the
whole page of stores (a `fleet` page, a `stores` page, or one store) in one batch the
first time one of them is read (monitoring.stores.now.stores_at), never per store.

"Now" is the store's default instant: the fleet's `asOf` for a store listed by `fleet`
(so it agrees with the ranking it is listed in), else the caller's latest poll
(docs/rules.md §8)."""

from datetime import datetime

import strawberry

from graphql_schema.alerts.incidents import incidents_lost_revenue
from graphql_schema.common.errors import request_access
from graphql_schema.history.revenue import LazyLostRevenue
from graphql_schema.stores.uptime import default_as_of_of
from monitoring import history
from monitoring.kernel.periods import default_horizon
from monitoring.alerts.incidents import open_incidents_of
from monitoring.alerts.models import Incident
from monitoring.models import StatusPoll, Store
from monitoring.stores.now import LOOK_BACK, StoreAt, stores_at

LOOK_BACK_TEXT = f"{LOOK_BACK.days} days"


def _now_of(info: strawberry.Info, store: Store) -> datetime:
    request = info.context.request
    access = request_access(info)
    return getattr(store, "as_of_default", None) or default_as_of_of(
        request, owner_id=access.owner_id, group_id=access.group_id
    )


def store_at(info: strawberry.Info, store: Store) -> tuple[StoreAt, LazyLostRevenue, int]:
    """`store` now (with its page's open incidents' lost revenue and its position there),
    computed with the rest of its page the first time a store of the
    page asks (the page's other stores then find theirs)."""
    request = info.context.request
    as_of = _now_of(info, store)
    memo = request.__dict__.setdefault("_stores_at", {}).setdefault(as_of, {})
    if store.pk not in memo:
        page = [s for s in getattr(store, "page_of", None) or [store] if s.pk not in memo]
        if store not in page:
            page.append(store)
        found = stores_at(stores=[(s.pk, s.store_id, s.timezone_name) for s in page], as_of=as_of)
        with_incident = [(s, at) for s, at in zip(page, found) if at.open_incident is not None]
        revenue = _open_incidents_revenue(with_incident, as_of=as_of)
        position = {s.pk: index for index, (s, _) in enumerate(with_incident)}
        records = _OpenRecords([s.pk for s, _ in with_incident])
        page_records = request.__dict__.setdefault("_open_records", {}).setdefault(as_of, {})
        for s, at in zip(page, found):
            memo[s.pk] = (at, revenue, position.get(s.pk, 0))
            page_records[s.pk] = records
    return memo[store.pk]


def open_incident_record(info: strawberry.Info, store: Store) -> tuple[Incident | None, LazyLostRevenue | None, int]:
    """The OPEN incident record (docs/rules.md §13) of a store that `store_at` found down
    now, read for all such stores of the page in one query; with the lost revenue of the
    page's records (one engine pass, when first read) and its position there."""
    at, _, _ = store_at(info, store)
    if at.open_incident is None:
        return None, None, 0
    return info.context.request._open_records[_now_of(info, store)][store.pk].of(store.pk)


class _OpenRecords:
    """The OPEN incident records of a page's stores down now: one query, when first read;
    their lost revenue, one engine pass for them all, when first read."""

    def __init__(self, store_pks: list[int]) -> None:
        self._store_pks = store_pks
        self._found: dict[int, Incident] | None = None
        self._revenue: LazyLostRevenue | None = None
        self._position: dict[int, int] = {}

    def of(self, store_pk: int) -> tuple[Incident | None, LazyLostRevenue | None, int]:
        if self._found is None:
            self._found = open_incidents_of(store_pks=self._store_pks) if self._store_pks else {}
            records = list(self._found.values())
            self._position = {record.store_id: index for index, record in enumerate(records)}
            self._revenue = incidents_lost_revenue(records)
        record = self._found.get(store_pk)
        if record is None:
            return None, None, 0
        return record, self._revenue, self._position[store_pk]


def _open_incidents_revenue(with_incident, *, as_of: datetime) -> LazyLostRevenue:
    """The lost revenue of the page's incidents in progress, one engine pass when first read."""
    return LazyLostRevenue(
        lambda: history.lost_revenue_of_windows(
            stores=[(s.pk, s.store_id, s.timezone_name) for s, _ in with_incident],
            window_store=list(range(len(with_incident))),
            window_start=[at.open_incident.start for _, at in with_incident],
            window_end=[at.open_incident.end for _, at in with_incident],
            window_as_of=[as_of] * len(with_incident),
            horizon=default_horizon(),
        )
    )


def last_poll_of(at: StoreAt, store: Store) -> StatusPoll | None:
    poll = at.latest_poll
    if poll is None:
        return None
    return StatusPoll(store=store, timestamp_utc=poll.at, is_active=poll.is_active)

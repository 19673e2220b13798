"""A store now (Store.currentState, Store.lastPoll, Store.openIncident): computed for the
whole page of stores (a `fleet` page, a `stores` page, or one store) in one batch the
first time one of them is read (monitoring.stores.now.stores_at), never per store.

"Now" is the store's default instant: the fleet's `asOf` for a store listed by `fleet`
(so it agrees with the ranking it is listed in), else the caller's latest poll
(docs/rules.md §8)."""

from datetime import datetime

import strawberry

from graphql_schema.common.errors import request_access
from graphql_schema.history.revenue import LazyLostRevenue
from graphql_schema.stores.uptime import default_as_of_of
from monitoring import history
from monitoring.kernel.periods import default_horizon
from monitoring.models import StatusPoll, Store
from monitoring.stores.now import LOOK_BACK, StoreAt, stores_at

LOOK_BACK_TEXT = f"{LOOK_BACK.days} days"


def store_at(info: strawberry.Info, store: Store) -> tuple[StoreAt, LazyLostRevenue, int]:
    """`store` now (with its page's open incidents' lost revenue and its position there),
    computed with the rest of its page the first time a store of the
    page asks (the page's other stores then find theirs)."""
    request = info.context.request
    access = request_access(info)
    as_of = getattr(store, "as_of_default", None) or default_as_of_of(
        request, owner_id=access.owner_id, group_id=access.group_id
    )
    memo = request.__dict__.setdefault("_stores_at", {}).setdefault(as_of, {})
    if store.pk not in memo:
        page = [s for s in getattr(store, "page_of", None) or [store] if s.pk not in memo]
        if store not in page:
            page.append(store)
        found = stores_at(stores=[(s.pk, s.store_id, s.timezone_name) for s in page], as_of=as_of)
        with_incident = [(s, at) for s, at in zip(page, found) if at.open_incident is not None]
        revenue = _open_incidents_revenue(with_incident, as_of=as_of)
        position = {s.pk: index for index, (s, _) in enumerate(with_incident)}
        for s, at in zip(page, found):
            memo[s.pk] = (at, revenue, position.get(s.pk, 0))
    return memo[store.pk]


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

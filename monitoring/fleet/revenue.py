"""The fleet's lost revenue over a range (docs/rules.md §13): per currency, the sum over
the stores a caller can see of each store's lost revenue over [from, to) and its
at-risk part, computed from the history's public functions a chunk of stores at a time.
Stores without revenue rows have no estimate and are not in any total; amounts of
different currencies are never added."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitoring.history import (
    CurrencyTotal,
    HistoryInputError,
    WindowsLostRevenue,
    lost_revenue_of_range,
    range_chunk_size,
    range_resolve,
)
from monitoring.kernel.periods import default_horizon
from monitoring.models import StoreRevenue
from monitoring.stores.access import Access, stores_visible

#: The most stores × days one question computes in a request (as the fleet page ranks).
FLEET_REVENUE_MAX_STORE_DAYS = 100_000


def fleet_lost_revenue(
    *, access: Access, start: datetime, end: datetime | None = None, horizon: timedelta | None = None
) -> tuple[datetime, datetime, list[CurrencyTotal]]:
    """(from, to, totals per currency) of the stores `access` sees that have revenue rows,
    each over [from, to) with the polls up to `to` as evidence; `to` defaults to the
    caller's default as_of. Refused (HistoryInputError, `from`) when those stores × the
    range's days exceed FLEET_REVENUE_MAX_STORE_DAYS."""
    start, end = range_resolve(start=start, end=end, owner_id=access.owner_id, group_id=access.group_id)
    horizon = horizon or default_horizon()
    stores = list(
        stores_visible(access=access).filter(pk__in=StoreRevenue.objects.values("store_id"))
        .order_by("pk").values_list("pk", "store_id", "timezone_name")
    )
    days = (end - start) / timedelta(days=1)
    if len(stores) * days > FLEET_REVENUE_MAX_STORE_DAYS:
        raise HistoryInputError(
            f"{len(stores):,} stores with expected revenue over {days:.10g} days are more than"
            f" {FLEET_REVENUE_MAX_STORE_DAYS:,} store-days to compute at once: ask for a shorter range",
            field="from",
        )
    parts: list[WindowsLostRevenue] = []
    size = range_chunk_size(start=start, end=end, horizon=horizon)
    for first in range(0, len(stores), size):
        parts.append(lost_revenue_of_range(stores=stores[first : first + size], start=start, end=end, horizon=horizon))
    return start, end, WindowsLostRevenue.concatenate(parts).totals()

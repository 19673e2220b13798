"""The fleet as a list: the kept ranking (monitoring.fleet.summary), searched by id prefix
and filtered by state, with the counts per state a filter would give. The home page and
the GraphQL `fleet` read it here, so both list the same stores in the same order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from monitoring.fleet.ranking import FleetColumns
from monitoring.fleet.summary import KeptRanking, fleet_ranking_for, kept_store_count
from monitoring.kernel.states import STATES
from monitoring.stores.access import Access, stores_visible

#: Up to this many visible stores, every store's figures are ranked worst-first across all
#: of them (~14,000 stores: see bench/pages.py). Above it, the home page shows only the
#: page's stores, in id order, and the GraphQL fleet is refused: narrow the search.
FLEET_RANK_LIMIT = 20_000


@dataclass(frozen=True)
class FleetListing:
    kept: KeptRanking
    found: np.ndarray  # positions in kept.columns of the stores listed, worst first
    counts: dict[str, int]  # stores matching the prefix per state (STATES), the state filter not applied
    silent: int  # of counts["UNKNOWN"], the silent stores

    @property
    def columns(self) -> FleetColumns:
        return self.kept.columns


def fleet_ranked_visible(*, access: Access) -> bool:
    """True when the stores `access` sees are few enough to be ranked (FLEET_RANK_LIMIT):
    counted, unless this process keeps their ranking (then they were, a moment ago)."""
    kept = kept_store_count(access=access)
    if kept is not None and kept <= FLEET_RANK_LIMIT:
        return True
    return stores_visible(access=access).count() <= FLEET_RANK_LIMIT


def fleet_listing(
    *, access: Access, as_of: datetime, prefix: str = "", state: str | None = None, silent: bool | None = None,
    by_lost_revenue: bool = False,
) -> FleetListing:
    """The stores `access` sees whose id starts with `prefix`, in state `state` (one of
    STATES; None: any) and silent or not (None: either), worst first (or by lost revenue)."""
    kept = fleet_ranking_for(access=access, as_of=as_of)
    columns = kept.columns
    if by_lost_revenue:
        columns = columns.by_lost_revenue()
        kept = KeptRanking(kept.version, kept.computed_at, kept.as_of, columns, kept.refreshing)
    found = columns.select(prefix=prefix)
    counts = columns.counts(found)
    silent_count = columns.silent_count(found)
    if state is not None or silent is not None:
        keep = np.ones(len(found), bool)
        if state is not None:
            keep &= columns.state[found] == STATES.index(state)
        if silent is not None:
            keep &= columns.silent[found] == silent
        found = found[keep]
    return FleetListing(kept=kept, found=found, counts=counts, silent=silent_count)

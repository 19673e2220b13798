"""Kept daily figures (docs/rules.md §11): `build` writes them under the writer lock,
`read` answers ranges and local dates from them and the raw polls near their edges.
Callers import from here."""

from monitoring.stores.summaries.build import (
    summaries_bring_up_to_date,
    summaries_compute_and_write,
    summaries_extend,
    summaries_freeze_before_pruning,
    summaries_prune,
    summaries_refresh_stale,
)
from monitoring.stores.summaries.read import RangeTotals, daily_totals, range_totals

__all__ = [
    "RangeTotals",
    "daily_totals",
    "range_totals",
    "summaries_bring_up_to_date",
    "summaries_compute_and_write",
    "summaries_extend",
    "summaries_freeze_before_pruning",
    "summaries_prune",
    "summaries_refresh_stale",
]

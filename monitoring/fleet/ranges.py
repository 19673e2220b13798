"""The fleet over a range (docs/rules.md §11): each store's business minutes up, down and
unknown over a range asked for, computed with the history's public functions a chunk of
stores at a time, and ranked worst first by the kept ranking's rule (`worst_first_order`)
over the range's figures, without its "down now": a range has no now.

Each store's lost revenue over the range comes along (docs/rules.md §13), exact, so that
totals per currency are rounded once.

Data only, as the kept ranking: how a row reads on a page is the page's. Unlike the kept
ranking, nothing here is kept: a range is computed when it is asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitoring.fleet.ranking import lost_revenue_order, worst_first_order
from monitoring.history import (
    CurrencyTotal,
    LostRevenue,
    WindowsLostRevenue,
    lost_revenue_of_range,
    range_chunk_size,
    range_rows,
)
from monitoring.kernel.periods import default_horizon


@dataclass(frozen=True, slots=True)
class FleetRangeRow:
    """One store's figures over [start, end) (minutes, unrounded; its own bounds, which
    differ between zones when the range was asked for by local dates)."""

    pk: int
    store_id: str
    timezone_name: str | None
    start: datetime
    end: datetime
    uptime_minutes: float
    downtime_minutes: float
    unknown_minutes: float
    business_minutes: float
    lost_revenue: LostRevenue | None = None  # None: no estimate


@dataclass(frozen=True)
class FleetRangeRows:
    """Rows in order, and their lost revenue, exact, in the same order."""

    rows: list[FleetRangeRow]
    revenue: WindowsLostRevenue

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def take(self, index) -> "FleetRangeRows":
        return FleetRangeRows([self.rows[i] for i in index], self.revenue.take(np.asarray(index, dtype=np.int64)))

    def revenue_totals(self) -> list[CurrencyTotal]:
        return self.revenue.totals()


def fleet_range_rows(
    *,
    stores: Sequence[tuple[int, str, str | None]],
    bounds_of: Callable[[str | None], tuple[datetime, datetime]],
    horizon: timedelta | None = None,
) -> FleetRangeRows:
    """The figures and lost revenue of `stores` (pk, store_id, zone), in the order given,
    each over the bounds of its zone, `bounds_of(timezone_name)` (checked by the caller:
    history.range_validate). Stores with the same bounds are computed together,
    history.range_chunk_size of them at a time, so memory follows the chunk."""
    horizon = horizon or default_horizon()
    groups: dict[tuple[datetime, datetime], list[int]] = {}
    for position, (_, _, zone) in enumerate(stores):
        groups.setdefault(bounds_of(zone), []).append(position)
    rows: list[FleetRangeRow | None] = [None] * len(stores)
    parts: list[WindowsLostRevenue] = []
    order: list[int] = []
    for (start, end), positions in groups.items():
        size = range_chunk_size(start=start, end=end, horizon=horizon)
        for first in range(0, len(positions), size):
            chunk = positions[first : first + size]
            members = [stores[i] for i in chunk]
            figures = range_rows(stores=members, start=start, end=end, horizon=horizon)
            lost = lost_revenue_of_range(stores=members, start=start, end=end, horizon=horizon)
            parts.append(lost)
            order.extend(chunk)
            for k, (position, row) in enumerate(zip(chunk, figures, strict=True)):
                pk, store_id, zone = stores[position]
                rows[position] = FleetRangeRow(
                    pk=pk, store_id=store_id, timezone_name=zone, start=start, end=end,
                    uptime_minutes=row["uptime_minutes"], downtime_minutes=row["downtime_minutes"],
                    unknown_minutes=row["unknown_minutes"], business_minutes=row["business_minutes"],
                    lost_revenue=lost.item(k),
                )
    revenue = WindowsLostRevenue.concatenate(parts)
    back = np.empty(len(order), np.int64)
    back[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
    return FleetRangeRows(rows, revenue.take(back) if len(order) else revenue)


def fleet_range_ranked(
    *,
    stores: Sequence[tuple[int, str, str | None]],
    bounds_of: Callable[[str | None], tuple[datetime, datetime]],
    horizon: timedelta | None = None,
    by_lost_revenue: bool = False,
) -> FleetRangeRows:
    """`fleet_range_rows`, worst first: the lowest uptime up / (up + down) over the range,
    stores with nothing known last, then by id (worst_first_order); or, `by_lost_revenue`,
    by lost revenue over the range (lost_revenue_order)."""
    found = fleet_range_rows(stores=stores, bounds_of=bounds_of, horizon=horizon)
    rows = found.rows
    if by_lost_revenue:
        return found.take(lost_revenue_order(found.revenue, store_ids=[row.store_id for row in rows]))
    order = worst_first_order(
        up=np.fromiter((row.uptime_minutes for row in rows), np.float64, len(rows)),
        down=np.fromiter((row.downtime_minutes for row in rows), np.float64, len(rows)),
        store_ids=[row.store_id for row in rows],
    )
    return found.take(order)

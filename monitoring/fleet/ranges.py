"""The fleet over a range (docs/rules.md §11): each store's business minutes up, down and
unknown over a range asked for, computed with the history's public functions a chunk of
stores at a time, and ranked worst first by the kept ranking's rule (`worst_first_order`)
over the range's figures, without its "down now": a range has no now.

Data only, as the kept ranking: how a row reads on a page is the page's. Unlike the kept
ranking, nothing here is kept: a range is computed when it is asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitoring.fleet.ranking import worst_first_order
from monitoring.history import range_chunk_size, range_rows
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


def fleet_range_rows(
    *,
    stores: Sequence[tuple[int, str, str | None]],
    bounds_of: Callable[[str | None], tuple[datetime, datetime]],
    horizon: timedelta | None = None,
) -> list[FleetRangeRow]:
    """The figures of `stores` (pk, store_id, zone), in the order given, each over the
    bounds of its zone, `bounds_of(timezone_name)` (checked by the caller:
    history.range_validate). Stores with the same bounds are computed together,
    history.range_chunk_size of them at a time, so memory follows the chunk."""
    horizon = horizon or default_horizon()
    groups: dict[tuple[datetime, datetime], list[int]] = {}
    for position, (_, _, zone) in enumerate(stores):
        groups.setdefault(bounds_of(zone), []).append(position)
    rows: list[FleetRangeRow | None] = [None] * len(stores)
    for (start, end), positions in groups.items():
        size = range_chunk_size(start=start, end=end, horizon=horizon)
        for first in range(0, len(positions), size):
            chunk = positions[first : first + size]
            figures = range_rows(stores=[stores[i] for i in chunk], start=start, end=end, horizon=horizon)
            for position, row in zip(chunk, figures, strict=True):
                pk, store_id, zone = stores[position]
                rows[position] = FleetRangeRow(
                    pk=pk, store_id=store_id, timezone_name=zone, start=start, end=end,
                    uptime_minutes=row["uptime_minutes"], downtime_minutes=row["downtime_minutes"],
                    unknown_minutes=row["unknown_minutes"], business_minutes=row["business_minutes"],
                )
    return rows


def fleet_range_ranked(
    *,
    stores: Sequence[tuple[int, str, str | None]],
    bounds_of: Callable[[str | None], tuple[datetime, datetime]],
    horizon: timedelta | None = None,
) -> list[FleetRangeRow]:
    """`fleet_range_rows`, worst first: the lowest uptime up / (up + down) over the range,
    stores with nothing known last, then by id (worst_first_order)."""
    rows = fleet_range_rows(stores=stores, bounds_of=bounds_of, horizon=horizon)
    order = worst_first_order(
        up=np.fromiter((row.uptime_minutes for row in rows), np.float64, len(rows)),
        down=np.fromiter((row.downtime_minutes for row in rows), np.float64, len(rows)),
        store_ids=[row.store_id for row in rows],
    )
    return [rows[i] for i in order]

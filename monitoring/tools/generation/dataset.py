"""`generate_dataset`: the whole set, deterministic for a seed, and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from monitoring.tools.generation.shapes import (
    DEFAULT_END,
    HOURS_FILE,
    REVENUE_FILE,
    REVENUE_HOURS,
    STATUS_FILE,
    TIMEZONES_FILE,
    DAY,
    EPOCH,
    HOURS_KINDS,
)
from monitoring.tools.generation.stores import generated_hours_rows, quota, store_ids, generated_timezones
from monitoring.tools.generation.polls import poll_kinds, generated_polls, writer_order
from monitoring.tools.generation.revenue import generated_revenue
from monitoring.tools.generation.writers import write_hours, write_revenue, write_status, write_timezones


@dataclass(frozen=True)
class GeneratedSummary:
    out_dir: Path
    stores: int
    polls: int
    hours_rows: int
    timezone_rows: int
    first_poll: datetime | None
    last_poll: datetime | None
    inactive_polls: int = 0
    revenue_rows: int = 0
    #: how many stores of each kind (keys are stable, for reports and tests)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, Path]:
        return {
            "status": self.out_dir / STATUS_FILE,
            "hours": self.out_dir / HOURS_FILE,
            "timezones": self.out_dir / TIMEZONES_FILE,
            "revenue": self.out_dir / REVENUE_FILE,
        }

    def describe(self) -> str:
        def ts(value: datetime | None) -> str:
            return value.strftime("%Y-%m-%d %H:%M:%S.%f UTC") if value else "-"

        lines = [
            f"out dir:        {self.out_dir}",
            f"stores:         {self.stores}",
            f"polls:          {self.polls} ({self.inactive_polls} inactive)",
            f"hours rows:     {self.hours_rows}",
            f"timezone rows:  {self.timezone_rows}",
            f"revenue rows:   {self.revenue_rows}",
            f"time range:     {ts(self.first_poll)} .. {ts(self.last_poll)}",
        ]
        if self.kinds:
            lines.append("store kinds:    " + ", ".join(f"{k}={v}" for k, v in self.kinds.items()))
        return "\n".join(lines)


def generate_dataset(
    *,
    out_dir: Path,
    stores: int,
    days: int,
    seed: int,
    end: datetime | None = None,
) -> GeneratedSummary:
    """Write store_status.csv, menu_hours.csv, timezones.csv and store_revenue.csv into ``out_dir``.

    ``stores`` is the number of distinct store ids over the three files; polls cover
    ``[end - days, end]`` (``end`` defaults to 2023-01-25 18:13:22 UTC; a naive
    ``end`` is taken as UTC). Same arguments, same bytes.
    """
    if stores < 0:
        raise ValueError("stores must be >= 0")
    if days <= 0:
        raise ValueError("days must be > 0")
    end = DEFAULT_END if end is None else end
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    end = end.astimezone(timezone.utc)
    end_us = (end - EPOCH) // timedelta(microseconds=1)
    window_us = int(round(days * DAY))
    start_us = end_us - window_us

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # Independent streams, so changing one part never shifts the others (a stream added
    # later comes after the others: SeedSequence's children do not depend on how many).
    ids_rng, tz_rng, hours_rng, polls_rng, order_rng, revenue_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(6)
    )

    ids = store_ids(ids_rng, stores)
    tz_kind, zones = generated_timezones(tz_rng, stores)
    hours_kind = quota(hours_rng, stores, HOURS_KINDS, "regular")
    hours_rows, closed_days_stores = generated_hours_rows(hours_rng, hours_kind)
    poll_kind = poll_kinds(polls_rng, stores, tz_kind, hours_kind)

    tz_count = write_timezones(out_dir / TIMEZONES_FILE, ids, tz_kind, zones)
    hours_count = write_hours(out_dir / HOURS_FILE, ids, hours_rows)
    revenue_kind, revenue_cents = generated_revenue(revenue_rng, stores)
    revenue_count = write_revenue(out_dir / REVENUE_FILE, ids, revenue_kind, revenue_cents, REVENUE_HOURS)

    store_idx, ts_us, inactive, poll_stats = generated_polls(polls_rng, poll_kind, start_us, end_us)
    order = writer_order(order_rng, ts_us)
    write_status(out_dir / STATUS_FILE, ids, store_idx, ts_us, inactive, order)

    kinds: dict[str, int] = {}
    for prefix, labels in (("hours", hours_kind), ("tz", tz_kind), ("polls", poll_kind), ("revenue", revenue_kind)):
        values, counts = np.unique(labels, return_counts=True)
        kinds.update({f"{prefix}_{v}": int(c) for v, c in zip(values, counts)})
    kinds["hours_closed_weekdays"] = closed_days_stores
    kinds["id_uuid"] = sum(1 for i in ids if "-" in i)
    kinds.update(poll_stats)

    def as_dt(us: int) -> datetime:
        return EPOCH + timedelta(microseconds=int(us))

    return GeneratedSummary(
        out_dir=out_dir,
        stores=stores,
        polls=int(ts_us.size),
        hours_rows=hours_count,
        timezone_rows=tz_count,
        revenue_rows=revenue_count,
        first_poll=as_dt(ts_us.min()) if ts_us.size else None,
        last_poll=as_dt(ts_us.max()) if ts_us.size else None,
        inactive_polls=int(inactive.sum()),
        kinds=dict(sorted(kinds.items())),
    )

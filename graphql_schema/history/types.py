"""History over any range on the Store type (docs/rules.md §11): `uptimeBetween(from, to)`
and `daily(from, to)`, thin over monitoring.history. Figures in minutes, 2 decimals each
(graphql_schema.common.units)."""

from datetime import date, datetime
from typing import Annotated

import strawberry

import numpy as np

from graphql_schema.common.arguments import as_of_argument
from graphql_schema.common.errors import request_access
from graphql_schema.common.units import rounded
from graphql_schema.history.revenue import LOST_REVENUE_DESCRIPTION, LazyLostRevenue, LostRevenueType
from monitoring import history
from monitoring.kernel.periods import default_horizon
from monitoring.models import Store
from monitoring.reports import MAX_HORIZON_MINUTES, horizon_from_minutes

LocalDate = date  # a field below is named `date`
#: Most entries of one `Store.daily` (graphql_schema.limits.pricing prices it so).
DAILY_MAX_DAYS = history.DAILY_MAX_DAYS


@strawberry.type(
    description=(
        "Business time over [from, to) by status, in minutes (2 decimals each): uptime + downtime + unknown ="
        " business time. Polls at or before `to` are the evidence."
    )
)
class RangeUptime:
    from_: datetime = strawberry.field(name="from", description="Start of the range (included).")
    to: datetime = strawberry.field(description="End of the range (excluded); the polls up to it count.")
    horizon_minutes: int = strawberry.field(description="H, in minutes: a poll tells the status up to H around it.")
    uptime_minutes: float = strawberry.field(description="Business time whose status was active, in minutes.")
    downtime_minutes: float = strawberry.field(description="Business time whose status was inactive, in minutes.")
    unknown_minutes: float = strawberry.field(description="Business time with no poll within H, in minutes.")
    business_minutes: float = strawberry.field(description="Business time in the range, in minutes.")
    whole_days_only: bool = strawberry.field(
        description=(
            "True when part of the range lies where this store's polls are pruned (POLL_RETENTION_DAYS): there the"
            " figures are those of the whole local days kept inside the range (kept HISTORY_RETENTION_DAYS), and"
            " the partial days at its edges are left out."
        )
    )
    _revenue: strawberry.Private[LazyLostRevenue | None] = None

    @strawberry.field(description=LOST_REVENUE_DESCRIPTION)
    def lost_revenue(self) -> LostRevenueType | None:
        return self._revenue.item(0) if self._revenue is not None else None


@strawberry.type(
    description=(
        "One local calendar date of a store: [00:00, next 00:00) in its zone (23 or 25 hours across a DST change),"
        " in minutes (2 decimals each), with the polls at or before the day's end as evidence."
    )
)
class DailyUptime:
    date: LocalDate = strawberry.field(description="The store's local date.")
    from_: datetime = strawberry.field(name="from", description="00:00 local that day, as an instant.")
    to: datetime = strawberry.field(description="00:00 local the next day, as an instant (excluded).")
    uptime_minutes: float = strawberry.field(description="Business time whose status was active, in minutes.")
    downtime_minutes: float = strawberry.field(description="Business time whose status was inactive, in minutes.")
    unknown_minutes: float = strawberry.field(description="Business time with no poll within H, in minutes.")
    business_minutes: float = strawberry.field(description="Business time that day, in minutes.")
    _revenue: strawberry.Private[LazyLostRevenue | None] = None
    _revenue_index: strawberry.Private[int] = 0

    @strawberry.field(
        description=(
            "Lost revenue that day, and its at-risk part (docs/rules.md §13), the day's polls up to its end as evidence;"
            " null when the store has no expected revenue, or the day's polls are pruned."
        )
    )
    def lost_revenue(self) -> LostRevenueType | None:
        return self._revenue.item(self._revenue_index) if self._revenue is not None else None


RangeFrom = Annotated[datetime, strawberry.argument(name="from", description="Start of the range (included).")]
RangeTo = Annotated[
    datetime,
    strawberry.argument(description="End of the range (excluded); at most HISTORY_RETENTION_DAYS (400) after from."),
]
DayFrom = Annotated[date, strawberry.argument(name="from", description="First local date (included).")]
DayTo = Annotated[
    date, strawberry.argument(description=f"Last local date (included); at most {DAILY_MAX_DAYS} dates in all.")
]
Horizon = Annotated[
    int | None,
    strawberry.argument(description=f"H in minutes (1–{MAX_HORIZON_MINUTES}; default 120): how long a poll tells."),
]


def uptime_between(
    root: Store, info: strawberry.Info, from_: RangeFrom, to: RangeTo, horizon_minutes: Horizon = None
) -> RangeUptime:
    horizon = horizon_from_minutes(horizon_minutes)
    access = request_access(info)
    start, end, row = history.store_range_figures(
        store=root, start=as_of_argument(from_, name="from"), end=as_of_argument(to, name="to"), horizon=horizon,
        owner_id=access.owner_id, group_id=access.group_id,
    )
    revenue = LazyLostRevenue(
        lambda: history.lost_revenue_of_range(
            stores=[(root.pk, root.store_id, root.timezone_name)], start=start, end=end,
            horizon=horizon or default_horizon(),
        )
    )
    return RangeUptime(
        from_=start,
        to=end,
        horizon_minutes=int((horizon or default_horizon()).total_seconds() // 60),
        uptime_minutes=rounded(row["uptime_minutes"]),
        downtime_minutes=rounded(row["downtime_minutes"]),
        unknown_minutes=rounded(row["unknown_minutes"]),
        business_minutes=rounded(row["business_minutes"]),
        whole_days_only=row["whole_days"],
        _revenue=revenue,
    )


def daily(root: Store, from_: DayFrom, to: DayTo, horizon_minutes: Horizon = None) -> list[DailyUptime]:
    horizon = horizon_from_minutes(horizon_minutes) or default_horizon()
    days = history.store_daily_figures(store=root, first=from_, last=to, horizon=horizon)
    revenue = LazyLostRevenue(
        lambda: history.lost_revenue_of_windows(
            stores=[(root.pk, root.store_id, root.timezone_name)], window_store=np.zeros(len(days), np.int64),
            window_start=[day.start for day in days], window_end=[day.end for day in days], horizon=horizon,
        )
    )
    return [
        DailyUptime(
            date=day.date,
            from_=day.start,
            to=day.end,
            uptime_minutes=rounded(day.uptime_minutes),
            downtime_minutes=rounded(day.downtime_minutes),
            unknown_minutes=rounded(day.unknown_minutes),
            business_minutes=rounded(day.business_minutes),
            _revenue=revenue,
            _revenue_index=index,
        )
        for index, day in enumerate(days)
    ]

"""Live uptime per window (Store.uptime, ReportRow.hour/day/week): the window types and
the batched computation. A page of stores asking for their uptime costs one engine call
for the whole page (graphql_schema.common.pagination.Page gives each store its page), not one
per store; a single store is a page of one."""

import enum
from datetime import datetime, timedelta

import numpy as np
import strawberry

from graphql_schema.common.errors import request_access
from graphql_schema.common.fields import priced
from graphql_schema.common.units import minutes
from graphql_schema.history.revenue import LOST_REVENUE_DESCRIPTION, LazyLostRevenue, LostRevenueType
from monitoring import engine, history
from monitoring.reports import horizon_from_minutes, report_compute, store_report_compute, window_seconds
from monitoring.stores.selectors import default_as_of

_WINDOW_DESCRIPTIONS = {
    "hour": "The last hour: [asOf − 1 h, asOf).",
    "day": "The last day: [asOf − 24 h, asOf).",
    "week": "The last week: [asOf − 7 days, asOf).",
}
#: The report windows of the engine (monitoring.engine.WINDOWS), as an enum.
Window = strawberry.enum(
    enum.Enum(
        "Window",
        {name.upper(): strawberry.enum_value(name.upper(), description=_WINDOW_DESCRIPTIONS[name]) for name, _ in engine.WINDOWS},
    ),
    description="A report window, ending at the report's asOf (half-open, docs/rules.md §5).",
)


@strawberry.type(
    description=(
        "Business time in one window by status, in minutes (rounded to 2 decimals each):"
        " uptime + downtime + unknown = business time."
    )
)
class UptimeWindow:
    kind: Window = strawberry.field(description="Which window: HOUR, DAY or WEEK.")
    window: str = strawberry.field(
        description="The window in lower case: hour, day or week.",
        deprecation_reason="Use `kind`, an enum (HOUR, DAY, WEEK).",
    )
    uptime_minutes: float = strawberry.field(description="Business time whose status was active, in minutes.")
    downtime_minutes: float = strawberry.field(description="Business time whose status was inactive, in minutes.")
    unknown_minutes: float = strawberry.field(
        description="Business time with no poll within the horizon (neither up nor down), in minutes."
    )
    known_minutes: float = strawberry.field(
        description="Business time whose status is known, in minutes: uptime + downtime (business = known + unknown)."
    )
    business_minutes: float = strawberry.field(description="Business time in the window, in minutes.")
    incidents: int = strawberry.field(
        description="Outage incidents ending inside the window (a count), as Store.incidents lists them."
    )
    _revenue: strawberry.Private[LazyLostRevenue | None] = None
    _revenue_index: strawberry.Private[int] = 0

    @strawberry.field(description=LOST_REVENUE_DESCRIPTION)
    def lost_revenue(self) -> LostRevenueType | None:
        return self._revenue.item(self._revenue_index) if self._revenue is not None else None


#: The report's windows, in the order of engine.WINDOWS.
WINDOW_NAMES = tuple(name for name, _ in engine.WINDOWS)


def windows_revenue(
    stores: list[tuple[int, str, str | None]], *, as_of: datetime, horizon: timedelta
) -> LazyLostRevenue:
    """The lost revenue of the report windows (hour, day, week before `as_of`) of each of
    `stores`: window `3 * store + w` (w in WINDOW_NAMES' order), computed when first read."""
    def compute() -> history.WindowsLostRevenue:
        count = len(stores) * len(engine.WINDOWS)
        return history.lost_revenue_of_windows(
            stores=stores,
            window_store=np.repeat(np.arange(len(stores)), len(engine.WINDOWS)),
            window_start=[as_of - length for _ in stores for _, length in engine.WINDOWS],
            window_end=[as_of] * count,
            horizon=horizon,
        )

    return LazyLostRevenue(compute)


def uptime_window(row: dict, name: str, *, revenue: LazyLostRevenue | None = None, position: int = 0) -> UptimeWindow:
    """The window `name` ("hour", "day", "week") of a report row in docs/rules.md §5 units;
    its lost revenue is window `3 * position + w` of `revenue` (`windows_revenue`)."""
    up, down, unknown = window_seconds(row, name)
    return UptimeWindow(
        kind=Window[name.upper()],
        window=name,
        uptime_minutes=minutes(up),
        downtime_minutes=minutes(down),
        unknown_minutes=minutes(unknown),
        known_minutes=minutes(up + down),
        business_minutes=minutes(up + down + unknown),
        incidents=int(row.get(f"incidents_last_{name}") or 0),
        _revenue=revenue,
        _revenue_index=len(WINDOW_NAMES) * position + WINDOW_NAMES.index(name),
    )


@strawberry.type(description="A store's uptime over the last hour, day and week, computed live by the report engine.")
class UptimeSummary:
    as_of: datetime = strawberry.field(description="The end of every window (the argument, or the default).")
    horizon_minutes: int = strawberry.field(
        description="H, in minutes: a poll tells the status up to H before and after it (docs/rules.md §4)."
    )
    windows: list[UptimeWindow] = strawberry.field(
        description="The three windows, in the order HOUR, DAY, WEEK.", metadata=priced(max_items=len(engine.WINDOWS))
    )
    hour: UptimeWindow = strawberry.field(description="The last hour.")
    day: UptimeWindow = strawberry.field(description="The last day.")
    week: UptimeWindow = strawberry.field(description="The last week.")


def uptime_summary(
    row: dict, *, as_of: datetime, horizon_minutes: int, revenue: LazyLostRevenue | None = None, position: int = 0
) -> UptimeSummary:
    windows = {name: uptime_window(row, name, revenue=revenue, position=position) for name in WINDOW_NAMES}
    return UptimeSummary(
        as_of=as_of, horizon_minutes=horizon_minutes, windows=list(windows.values()),
        hour=windows["hour"], day=windows["day"], week=windows["week"],
    )


def default_as_of_of(request, *, owner_id: int | None, group_id: int | None) -> datetime:
    """The caller's default asOf: the latest poll among the stores they can see (docs/rules.md
    §8), looked up once per request, so a page of stores' uptimes shares one asOf."""
    if not hasattr(request, "_uptime_default_as_of"):
        request._uptime_default_as_of = default_as_of(owner_id=owner_id, group_id=group_id)
    return request._uptime_default_as_of


def store_uptime(info: strawberry.Info, store, *, as_of: datetime | None, horizon_minutes: int | None) -> UptimeSummary:
    """The uptime of `store`, computed with the rest of its page in one engine call the
    first time a store of the page asks (the page's other stores then find theirs)."""
    request = info.context.request
    access = request_access(info)
    owner_id = access.owner_id
    horizon = horizon_from_minutes(horizon_minutes)
    # A store listed by `fleet` defaults to the fleet's asOf: its figures are the ranking's.
    as_of = (
        as_of or getattr(store, "as_of_default", None)
        or default_as_of_of(request, owner_id=owner_id, group_id=access.group_id)
    )
    # One memo per request: (asOf asked, horizon) → store pk → (asOf, horizon, row, revenue, position).
    memo = request.__dict__.setdefault("_uptime_rows", {}).setdefault((as_of, horizon), {})
    if store.pk not in memo:
        page = [s for s in getattr(store, "page_of", None) or [store] if s.pk not in memo]
        if store not in page:
            page.append(store)
        if len(page) == 1:  # the store is at hand: no query to find it again
            computed = store_report_compute(
                store=store, as_of=as_of, horizon=horizon, owner_id=owner_id, group_id=access.group_id
            )
        else:
            computed = report_compute(
                as_of=as_of, store_ids=[s.store_id for s in page], horizon=horizon, owner_id=owner_id,
                group_id=access.group_id,
            )
        by_id = {row["store_id"]: row for row in computed.rows}
        members = [member for member in page if member.store_id in by_id]
        # The page's lost revenue, one engine pass for all its windows when first read.
        revenue = windows_revenue(
            [(member.pk, member.store_id, member.timezone_name) for member in members],
            as_of=computed.as_of, horizon=computed.horizon,
        )
        for position, member in enumerate(members):
            memo[member.pk] = (computed.as_of, computed.horizon, by_id[member.store_id], revenue, position)
    computed_as_of, computed_horizon, row, revenue, position = memo[store.pk]
    return uptime_summary(
        row, as_of=computed_as_of, horizon_minutes=int(computed_horizon.total_seconds() // 60), revenue=revenue,
        position=position,
    )

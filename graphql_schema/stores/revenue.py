"""A store's expected revenue in the API (docs/rules.md §13): `Store.expectedRevenue` reads
it, `setStoreRevenue` replaces it, within the caller's access (as special hours)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from graphql_schema.common.fields import priced
from graphql_schema.common.payloads import UserErrorType, user_errors_field
from monitoring.kernel import values
from monitoring.models import StoreRevenue
from monitoring.stores.revenue import HOURS_OF_WEEK


@strawberry.type(name="ExpectedRevenueHour", description="The revenue a store expects in one local hour of one weekday.")
class ExpectedRevenueHour:
    day_of_week: int = strawberry.field(description="The local weekday: 0 = Monday … 6 = Sunday.")
    hour: int = strawberry.field(description="The local wall-clock hour, 0–23: [hour:00, hour+1:00).")
    expected_revenue: Decimal = strawberry.field(description="In the store's currency.")


@strawberry.type(
    name="ExpectedRevenue",
    description=(
        "What a store expects to earn in each local hour of the week (docs/rules.md §13), in one currency; an hour"
        " without a row expects 0."
    ),
)
class ExpectedRevenueType:
    currency: str = strawberry.field(description="The ISO 4217 code of every amount.")
    hours: list[ExpectedRevenueHour] = strawberry.field(
        description="The hours with a row, by weekday and hour.", metadata=priced(max_items=HOURS_OF_WEEK)
    )

    @classmethod
    def of(cls, rows: list[StoreRevenue]) -> ExpectedRevenueType | None:
        """None for a store without rows (no estimate)."""
        if not rows:
            return None
        return cls(
            currency=rows[0].currency,
            hours=[
                ExpectedRevenueHour(day_of_week=row.day_of_week, hour=row.hour, expected_revenue=row.expected_revenue)
                for row in rows
            ],
        )


@strawberry.input(description="The revenue expected in one local hour of one weekday.")
class ExpectedRevenueInput:
    day_of_week: int = strawberry.field(description="The local weekday: 0 = Monday … 6 = Sunday.")
    hour: int = strawberry.field(description="The local wall-clock hour, 0–23.")
    expected_revenue: Decimal = strawberry.field(
        description="In the currency given, at most two decimals, as a string (\"85.50\")."
    )


def revenue_rows_argument(items: list[ExpectedRevenueInput], *, name: str = "rows") -> list[tuple[int, int, Decimal]]:
    """(weekday, hour, amount) of each row, read by the grammar (the day and hour as a
    revenue file's; the amount was read by the Decimal scalar)."""
    return [
        (
            values.day_of_week(str(item.day_of_week), field=f"{name}[{index}].dayOfWeek"),
            values.hour_of_day(str(item.hour), field=f"{name}[{index}].hour"),
            item.expected_revenue,
        )
        for index, item in enumerate(items)
    ]


@strawberry.type(description="What setStoreRevenue answers: the store's expected revenue now, or why nothing changed.")
class SetStoreRevenuePayload:
    expected_revenue: ExpectedRevenueType | None = strawberry.field(
        description="The store's expected revenue after the change; null when it has none now, or when refused."
    )
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")
    store: Annotated["StoreType", strawberry.lazy("graphql_schema.stores.types")] | None = strawberry.field(  # noqa: F821
        default=None, description="The store changed (its `expectedRevenue` and lost revenue as now stored); null when refused."
    )

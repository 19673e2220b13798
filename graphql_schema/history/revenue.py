"""Lost revenue in the API (docs/rules.md §13): `lostRevenue { amount atRisk currency }`
wherever uptime is, and `fleetLostRevenue(from, to)`, thin over monitoring.history.

Amounts are the `Decimal` scalar: strings with two decimals ("1234.50"), exact in every
client (a TypeScript client keeps them as strings, or hands them to a decimal library).
A store without revenue rows has no estimate: `lostRevenue` is null, never zeros.

Computed only when asked for: a field holds a `LazyLostRevenue`, which computes the
figures of every window of its group (a page of stores' windows, a store's days, a
store's incidents) in one engine pass the first time one of them is read."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import strawberry

from monitoring.history import CurrencyTotal, LostRevenue, WindowsLostRevenue

_CURRENCY = "The ISO 4217 code of the store's expected revenue (USD when its rows name none)."


@strawberry.type(
    name="LostRevenue",
    description=(
        "What downtime cost (docs/rules.md §13): over each local wall-clock hour of the store's zone, down minutes / 60"
        " × that hour's expected revenue (an hour without a row expects 0), summed, rounded to cents once (half to"
        " even). Null on a store with no expected revenue (no estimate), never zeros."
    ),
)
class LostRevenueType:
    amount: Decimal = strawberry.field(description="Revenue lost to downtime, in `currency`.")
    at_risk: Decimal = strawberry.field(
        description="The same over unknown time (no poll within H): revenue that may have been lost, in `currency`."
    )
    currency: str = strawberry.field(description=_CURRENCY)

    @classmethod
    def of(cls, found: LostRevenue | None) -> LostRevenueType | None:
        if found is None:
            return None
        return cls(amount=found.amount, at_risk=found.at_risk, currency=found.currency)


@strawberry.type(
    name="CurrencyLostRevenue",
    description=(
        "Lost revenue summed over stores of one currency (amounts of different currencies are never added), rounded"
        " to cents once from the exact sum: it may differ by a cent or so from the sum of the stores' rounded figures."
    ),
)
class CurrencyLostRevenueType:
    currency: str = strawberry.field(description="The ISO 4217 code of every amount of this total.")
    amount: Decimal = strawberry.field(description="Revenue lost to downtime, in `currency`.")
    at_risk: Decimal = strawberry.field(description="Revenue at risk (over unknown time), in `currency`.")
    stores: int = strawberry.field(description="How many stores (a count) this total adds up.")

    @classmethod
    def of(cls, total: CurrencyTotal) -> CurrencyLostRevenueType:
        return cls(currency=total.currency, amount=total.amount, at_risk=total.at_risk, stores=total.stores)


class LazyLostRevenue:
    """The lost revenue of a group of windows, computed by `compute` the first time one
    is read, then kept: `lazy.item(i)` reads window i."""

    def __init__(self, compute: Callable[[], WindowsLostRevenue]) -> None:
        self._compute = compute
        self._items: list[LostRevenue | None] | None = None

    def item(self, i: int) -> LostRevenueType | None:
        if self._items is None:
            self._items = self._compute().items()
        return LostRevenueType.of(self._items[i])


LOST_REVENUE_DESCRIPTION = (
    "Lost revenue over this window, and its at-risk part (docs/rules.md §13); null when the store has no expected"
    " revenue, or part of the window's evidence lies where its polls are pruned (POLL_RETENTION_DAYS)."
)

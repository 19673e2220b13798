"""History over the fleet (docs/rules.md §13): `fleetLostRevenue(from, to)`, thin over
monitoring.fleet.revenue. A store's own history is on the Store type
(graphql_schema.history.types)."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_schema.common.arguments import as_of_argument
from graphql_schema.common.errors import request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.fields import priced
from graphql_schema.history.revenue import CurrencyLostRevenueType
from monitoring.fleet.revenue import FLEET_REVENUE_MAX_STORE_DAYS, fleet_lost_revenue
from monitoring.kernel.values import CURRENCIES


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "Lost revenue over [from, to) of every store the caller can see that has expected revenue, summed per"
            " currency (never across currencies), each store's polls up to `to` as evidence (docs/rules.md §13);"
            " `to` defaults to the caller's latest poll. Stores without expected revenue are in no total. At most"
            f" {FLEET_REVENUE_MAX_STORE_DAYS:,} stores × days at once (INVALID_ARGUMENT above)."
            " Null, with an error naming the argument, when an argument is refused (or the caller may not read it)."
        ),
        metadata=priced(max_items=len(CURRENCIES)),
    )
    def fleet_lost_revenue(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from", description="Start of the range (included).")],
        to: Annotated[
            datetime | None,
            strawberry.argument(description="End of the range (excluded); default: the latest poll of your stores."),
        ] = None,
    ) -> list[CurrencyLostRevenueType] | None:
        _start, _end, totals = fleet_lost_revenue(
            access=permitted_access(info, "store.read"), start=as_of_argument(from_, name="from"), end=as_of_argument(to, name="to")
        )
        return [CurrencyLostRevenueType.of(total) for total in totals]

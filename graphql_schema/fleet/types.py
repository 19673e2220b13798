"""The fleet as a connection: a page of stores, worst first, with the counts per state."""

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_schema.common.fields import priced
from graphql_schema.common.pagination import KeysetPageInfo
from graphql_schema.stores.types import SegmentState
from monitoring.kernel.states import STATES


@strawberry.type(description="How many stores are in one state.")
class FleetStateCount:
    state: SegmentState = strawberry.field(description="UP, DOWN, UNKNOWN or CLOSED.")
    count: int = strawberry.field(description="Stores in this state (a count).")


@strawberry.type(description="One store of the fleet, where it is in the ranking.")
class FleetEdge:
    cursor: str = strawberry.field(description="Pass as `after` to list the stores ranked after this one.")
    node: Annotated["StoreType", strawberry.lazy("graphql_schema.stores.types")] = strawberry.field(  # noqa: F821
        description="The store."
    )
    silent: bool = strawberry.field(
        description=(
            "UNKNOWN, open now, and more than H of business time without a poll though it has reported before"
            " (docs/rules.md §4.4): the home page's silent badge."
        )
    )


@strawberry.type(description="One page of the fleet, worst first, and the counts of the whole list.")
class FleetConnection:
    as_of: datetime = strawberry.field(
        description="The instant the ranking is of: your latest poll, or a little earlier while `refreshing`."
    )
    refreshing: bool = strawberry.field(
        description="True when newer data exists and the ranking is being recomputed (it is at most a minute old)."
    )
    total_count: int = strawberry.field(description="Stores listed, every page together (a count).")
    counts_by_state: list[FleetStateCount] = strawberry.field(
        description=(
            "Stores whose id starts with `idPrefix`, per state (the `state` and `silent` filters not applied: what"
            " each filter would list), in the order UP, DOWN, UNKNOWN, CLOSED."
        ),
        metadata=priced(max_items=len(STATES)),
    )
    silent_count: int = strawberry.field(
        description="Of the UNKNOWN stores counted in `countsByState`, the silent ones (a count)."
    )
    edges: list[FleetEdge] = strawberry.field(description="The stores of this page, worst first.")
    page_info: KeysetPageInfo = strawberry.field(description="The cursor of the next page and whether there is one.")

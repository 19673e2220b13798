"""`fleet`: the stores the caller can see, worst first, as the home page ranks them (the
kept ranking, monitoring.fleet.listing), by cursor pages."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_schema.common.errors import UserError, request_access
from graphql_schema.common.fields import selections_under, selects
from graphql_schema.common.pagination import KeysetPageInfo, bad_cursor, cursor_decode, cursor_encode, keyset_first
from graphql_schema.fleet.types import FleetConnection, FleetEdge, FleetStateCount
from graphql_schema.stores.types import SegmentState
from monitoring.fleet.listing import FLEET_RANK_LIMIT, fleet_listing, fleet_ranked_visible
from monitoring.kernel import values
from monitoring.kernel.states import STATES
from monitoring.stores.access import stores_visible
from monitoring.stores.selectors import default_as_of

CURSOR_PREFIX = "fleet:"


def _cursor(position: int, store_id: str) -> str:
    return cursor_encode(f"{CURSOR_PREFIX}{position}:{store_id}")


def _after(cursor: str, ids: list[str], found) -> int:
    """The position in `found` (positions into `ids`) after which the page starts: the
    store the cursor names, found where it was (its position) or anywhere, if the ranking
    changed meanwhile."""
    key = cursor_decode(cursor, argument="after")
    position, _, store_id = key.removeprefix(CURSOR_PREFIX).partition(":")
    if not key.startswith(CURSOR_PREFIX) or not position.isascii() or not position.isdigit():
        raise bad_cursor("after")
    position = int(position)
    if position < len(found) and ids[found[position]] == store_id:
        return position + 1
    for at, index in enumerate(found):
        if ids[index] == store_id:
            return at + 1
    raise bad_cursor("after")


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "The stores you can see, worst first exactly as the home page ranks them (down now, then the lowest"
            " uptime over the last week, stores with no known time last, then by id), by cursor pages. Each store's"
            " fields default to the ranking's `asOf`. Above"
            f" {FLEET_RANK_LIMIT:,} stores the fleet is not ranked: INVALID_ARGUMENT, narrow it with `stores`."
            " Null, with an error naming the argument, when an argument is refused (or the caller may not read it)."
        )
    )
    def fleet(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of stores: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
        state: Annotated[
            SegmentState | None, strawberry.argument(description="Only the stores in this state now (the ranking's).")
        ] = None,
        silent: Annotated[
            bool | None,
            strawberry.argument(description="Only the silent stores (true) or only the others (false); default both."),
        ] = None,
        id_prefix: Annotated[
            str | None, strawberry.argument(description="Only the stores whose id starts with this (exactly, case-sensitive).")
        ] = None,
    ) -> FleetConnection | None:
        size = keyset_first(first)
        prefix = values.store_id_prefix(id_prefix, field="idPrefix")
        access = request_access(info)
        if not fleet_ranked_visible(access=access):
            raise UserError(
                f"more than {FLEET_RANK_LIMIT:,} stores: the fleet is not ranked; list them with `stores`",
                argument="fleet",
            )
        listing = fleet_listing(
            access=access, as_of=default_as_of(owner_id=access.owner_id, group_id=access.group_id), prefix=prefix,
            state=state.value if state is not None else None, silent=silent,
        )
        columns = listing.columns
        start = _after(after, columns.store_id, listing.found) if after is not None else 0
        shown = listing.found[start : start + size]
        visible = stores_visible(access=access)
        node = selections_under(selections_under(info.selected_fields[0].selections, "edges"), "node")
        if selects(node, "businessHours") or selects(node, "is24x7"):
            visible = visible.prefetch_related("business_hours")  # one query for the page, not one per store
        by_pk = visible.in_bulk([int(columns.pk[i]) for i in shown])
        stores = [by_pk[int(columns.pk[i])] for i in shown if int(columns.pk[i]) in by_pk]
        for store in stores:
            store.page_of = stores  # a field of one computes the page's (Store.uptime, Store.currentState)
            store.as_of_default = listing.kept.as_of
        edges = [
            FleetEdge(cursor=_cursor(start + offset, columns.store_id[i]), node=by_pk[int(columns.pk[i])],
                      silent=bool(columns.silent[i]))
            for offset, i in enumerate(shown) if int(columns.pk[i]) in by_pk
        ]
        return FleetConnection(
            as_of=listing.kept.as_of,
            refreshing=listing.kept.refreshing,
            total_count=len(listing.found),
            counts_by_state=[FleetStateCount(state=SegmentState[name], count=listing.counts[name]) for name in STATES],
            silent_count=listing.silent,
            edges=edges,
            page_info=KeysetPageInfo(
                end_cursor=edges[-1].cursor if edges else None, has_next_page=start + len(shown) < len(listing.found)
            ),
        )

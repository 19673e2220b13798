"""A store's polls: the StatusPoll type, the keyset-paginated `Store.polls` list, and the
input and result of the `recordPolls` mutation."""

import enum
from datetime import datetime, timedelta, timezone
from typing import Annotated

import strawberry
import strawberry_django
from django.db.models import QuerySet

from graphql_schema.common.errors import request_access
from graphql_schema.common.fields import ObjectField, priced
from graphql_schema.common.pagination import KeysetPageInfo, bad_cursor, cursor_decode, cursor_encode, keyset_first
from graphql_schema.common.payloads import UserErrorType, user_errors_field
from graphql_schema.common.scalars import rfc3339
from monitoring.stores.access import polls_visible
from monitoring.kernel import values
from monitoring.kernel.values import InvalidValue
from monitoring.models import StatusPoll

@strawberry.enum(description="A poll's status (docs/rules.md §1's active and inactive).")
class PollStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="The store was taking orders.")
    INACTIVE = strawberry.enum_value("INACTIVE", description="The store was not taking orders.")


@strawberry_django.type(StatusPoll, name="StatusPoll", description="One observation of a store's status.")
class StatusPollType:
    timestamp_utc: datetime = strawberry_django.field(field_cls=ObjectField, description="When the store was polled.")

    @strawberry_django.field(
        field_cls=ObjectField, only=["store_id", "timestamp_utc"],
        description="The poll's id (opaque; one store's poll at one instant, the same in the admin's poll list).",
    )
    def id(self, root: StatusPoll) -> strawberry.ID:
        return poll_id(store_pk=root.store_id, timestamp=root.timestamp_utc)
    is_active: bool = strawberry_django.field(field_cls=ObjectField, description="True when the status was active.")
    # By name, resolved when the schema is built: types.py imports this module.
    store: Annotated["StoreType", strawberry.lazy("graphql_schema.stores.types")] = strawberry_django.field(  # noqa: F821
        description="The store polled."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info, **kwargs) -> QuerySet:
        return queryset & polls_visible(access=request_access(info))

    @strawberry_django.field(field_cls=ObjectField, only=["is_active"], description="ACTIVE or INACTIVE.")
    def state(self, root: StatusPoll) -> PollStatus:
        return PollStatus.ACTIVE if root.is_active else PollStatus.INACTIVE

    @strawberry_django.field(
        field_cls=ObjectField,
        only=["is_active"],
        description="active or inactive (lower case).",
        deprecation_reason="Use `state`, an enum (ACTIVE, INACTIVE).",
    )
    def status(self, root: StatusPoll) -> str:
        return root.status


#: PostgreSQL's epoch, which the poll rows' view (StatusPollRow) counts from.
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def poll_id(*, store_pk: int, timestamp: datetime) -> str:
    """"<store pk>@<µs since 2000>": StatusPollRow's key of the same poll."""
    return f"{store_pk}@{(timestamp - _PG_EPOCH) // timedelta(microseconds=1)}"


@strawberry.enum(description="The order of a store's polls in `Store.polls`.")
class PollOrder(enum.Enum):
    OLDEST_FIRST = strawberry.enum_value("OLDEST_FIRST", description="By instant, the oldest first.")
    NEWEST_FIRST = strawberry.enum_value("NEWEST_FIRST", description="By instant, the newest first.")


@strawberry.type(name="StatusPollEdge", description="A poll and its cursor.")
class StatusPollEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the polls after this one (in the same order).")
    node: StatusPollType = strawberry.field(description="The poll.")


@strawberry.type(description="One keyset page of a store's polls, in the order asked for (oldest first by default).")
class StatusPollConnection:
    nodes: list[StatusPollType] = strawberry.field(description="The polls of this page, in the list's order.")
    page_info: KeysetPageInfo = strawberry.field(description="The cursor of the next page and whether there is one.")
    _polls: strawberry.Private[QuerySet]

    @strawberry.field(description="The polls of this page with their cursors (the same polls as `nodes`).")
    def edges(self) -> list[StatusPollEdge]:
        return [StatusPollEdge(cursor=_cursor(poll), node=poll) for poll in self.nodes]

    @strawberry.field(
        description="How many polls the whole list holds, within from/to (a count; one indexed count, run only when asked)."
    )
    def total_count(self) -> int:
        return self._polls.count()


def _cursor(poll: StatusPoll) -> str:
    return cursor_encode(rfc3339(poll.timestamp_utc))


def polls_page(
    *, store_pk: int, first: int | None, after: str | None, start: datetime | None, end: datetime | None,
    order: PollOrder = PollOrder.OLDEST_FIRST,
) -> StatusPollConnection:
    """Polls of a store after the cursor (its last poll's instant), in `order`: an index
    range scan on the primary key (store, instant), whatever the page's depth."""
    size = keyset_first(first)
    polls = StatusPoll.objects.filter(store_id=store_pk)
    if start is not None:
        polls = polls.filter(timestamp_utc__gte=start)
    if end is not None:
        polls = polls.filter(timestamp_utc__lt=end)
    newest_first = order is PollOrder.NEWEST_FIRST
    listed = polls.order_by("-timestamp_utc" if newest_first else "timestamp_utc")
    if after is not None:
        try:
            instant = values.instant(cursor_decode(after), field="after")
        except InvalidValue:
            raise bad_cursor("after") from None
        listed = listed.filter(**{"timestamp_utc__lt" if newest_first else "timestamp_utc__gt": instant})
    rows = list(listed[: size + 1])
    page = rows[:size]
    end_cursor = _cursor(page[-1]) if page else None
    return StatusPollConnection(
        nodes=page, page_info=KeysetPageInfo(end_cursor=end_cursor, has_next_page=len(rows) > size), _polls=polls
    )


@strawberry.input(description="One live poll, validated with the CSV loader's rules (docs/rules.md §1, §7).")
class PollInput:
    store_id: strawberry.ID = strawberry.field(description="The store's id, exactly (never trimmed).")
    timestamp_utc: datetime = strawberry.field(
        description="When it was polled: a DateTime (an offset required), from 2000 to now + 5 minutes."
    )
    status: str = strawberry.field(description="active or inactive, in any case (docs/rules.md §1's spellings).")


#: Most polls one recordPolls takes (and so most rejections it answers).
MAX_POLLS_PER_REQUEST = 5000


@strawberry.type(description="A poll of the request that was not stored, and why.")
class PollRejection:
    index: int = strawberry.field(description="Position of the poll in the request, from 0.")
    field: str = strawberry.field(description="The PollInput field at fault (storeId, timestampUtc, status), or row.")
    reason: str = strawberry.field(description="Why it was refused.")


@strawberry.type(description="What recordPolls did with the polls sent (each a count of polls).")
class RecordPollsResult:
    received: int = strawberry.field(description="Polls in the request (a count).")
    loaded: int = strawberry.field(description="New polls stored (a count).")
    replaced: int = strawberry.field(description="Stored polls whose status changed: the later poll wins (a count).")
    unchanged: int = strawberry.field(description="Polls already stored with this status (a count).")
    superseded: int = strawberry.field(description="Earlier duplicates of a later poll in the same request (a count).")
    rejected: int = strawberry.field(description="Polls refused, listed in `rejections` (a count).")
    rejections: list[PollRejection] = strawberry.field(
        description="Each poll refused, with its field and reason.",
        metadata=priced(max_items=MAX_POLLS_PER_REQUEST),  # at most one per poll sent
    )
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why the request as a whole was refused (nothing stored then); empty when it ran."
    )
    _stores: strawberry.Private[QuerySet | None] = None

    @strawberry.field(
        description=(
            "The stores whose polls were accepted (those not rejected), by id, as now stored: their polls,"
            " currentState and figures for a client's cache; empty when the request was refused."
        ),
        metadata=priced(max_items=MAX_POLLS_PER_REQUEST),  # at most one per poll sent
    )
    def stores(self) -> list[Annotated["StoreType", strawberry.lazy("graphql_schema.stores.types")]]:  # noqa: F821
        if self._stores is None:
            return []
        stores = list(self._stores.order_by("store_id"))
        for store in stores:
            store.page_of = stores  # a field of one computes them all (Store.uptime, Store.currentState)
        return stores

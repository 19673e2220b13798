import strawberry
import strawberry_django
from strawberry_django.pagination import OffsetPaginated

from strawberry.types import Info

from graphql_schema.errors import UserError, request_access
from graphql_schema.stores.types import PollInput, PollRejection, RecordPollsResult, StoreType
from monitoring.loading import record_polls
from monitoring.access import stores_visible


@strawberry.type
class Query:
    stores: OffsetPaginated[StoreType] = strawberry_django.offset_paginated(
        description="Stores, filterable by id and time zone, ordered, paginated (page size capped)."
    )

    @strawberry_django.field(description="One store by its id.")
    def store(self, info: Info, id: str) -> StoreType:
        store = stores_visible(access=request_access(info)).filter(store_id=id).first()
        if store is None:
            raise UserError(f"store not found: {id}")
        return store


MAX_POLLS_PER_REQUEST = 5000


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False, description="Store live polls (later poll wins).")
    def record_polls(self, info: Info, polls: list[PollInput]) -> RecordPollsResult:
        if len(polls) > MAX_POLLS_PER_REQUEST:
            raise UserError(f"at most {MAX_POLLS_PER_REQUEST} polls per request")
        access = request_access(info)
        refused: list[PollRejection] = []
        items: list[tuple[int, tuple[str, str, str]]] = []
        if access.is_owner:
            # An owner records polls for their own stores only; others are "not found".
            own = set(
                stores_visible(access=access)
                .filter(store_id__in=[poll.store_id.strip() for poll in polls])
                .values_list("store_id", flat=True)
            )
        for index, poll in enumerate(polls):
            if access.is_owner and poll.store_id.strip() not in own:
                refused.append(PollRejection(index=index, field="store_id", reason="store not found"))
            else:
                items.append((index, (poll.store_id, poll.timestamp_utc, poll.status)))
        result = record_polls(polls=[values for _, values in items])
        # record_polls numbers the items it was given; map back to the request's positions.
        rejections = refused + [
            PollRejection(index=items[r.index][0], field=r.field or "row", reason=r.reason)
            for r in result.rejections
        ]
        return RecordPollsResult(
            received=len(polls),
            loaded=result.loaded,
            replaced=result.replaced,
            unchanged=result.unchanged,
            superseded=result.superseded,
            rejected=len(rejections),
            rejections=sorted(rejections, key=lambda r: r.index),
        )

import strawberry
import strawberry_django
from strawberry_django.pagination import OffsetPaginated

from strawberry.types import Info

from graphql_schema.arguments import store_id_argument
from graphql_schema.errors import UserError, request_access
from graphql_schema.pagination import offset_paginated
from graphql_schema.rate_limits import rate_limit
from graphql_schema.stores.types import PollInput, PollRejection, RecordPollsResult, StoreType
from monitoring.ingest import polls_record
from monitoring.access import stores_visible


@strawberry.type
class Query:
    stores: OffsetPaginated[StoreType] = offset_paginated(
        description="Stores, filterable by id and time zone, ordered, paginated (page size capped)."
    )

    @strawberry_django.field(description="One store by its id.")
    def store(self, info: Info, id: str) -> StoreType:
        store_id = store_id_argument(id, name="id")  # exactly as given: ids are opaque
        store = stores_visible(access=request_access(info)).filter(store_id=store_id).first()
        if store is None:
            raise UserError(f"store not found: {id}")
        return store


MAX_POLLS_PER_REQUEST = 5000


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False, description="Store live polls (later poll wins).")
    def record_polls(self, info: Info, polls: list[PollInput]) -> RecordPollsResult:
        rate_limit(info, scope="polls")
        if len(polls) > MAX_POLLS_PER_REQUEST:
            raise UserError(f"at most {MAX_POLLS_PER_REQUEST} polls per request")
        result = polls_record(
            polls=[(poll.store_id, poll.timestamp_utc, poll.status) for poll in polls], access=request_access(info)
        )
        return RecordPollsResult(
            received=len(polls),
            loaded=result.loaded,
            replaced=result.replaced,
            unchanged=result.unchanged,
            superseded=result.superseded,
            rejected=result.rejected,
            rejections=[
                PollRejection(index=r.index, field=r.field or "row", reason=r.reason) for r in result.rejections
            ],
        )

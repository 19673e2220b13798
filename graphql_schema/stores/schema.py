import strawberry
import strawberry_django
from strawberry_django.pagination import OffsetPaginated

from datetime import date as LocalDate

from strawberry.types import Info

from graphql_schema.arguments import shifts_argument, store_id_argument
from graphql_schema.errors import UserError, request_access
from graphql_schema.pagination import offset_paginated
from graphql_schema.rate_limits import rate_limit
from graphql_schema.stores.types import (
    PollInput,
    PollRejection,
    RecordPollsResult,
    ShiftInput,
    SpecialHoursType,
    StoreType,
)
from monitoring.ingest import polls_record
from monitoring.access import stores_visible
from monitoring.models import Store
from monitoring.special_hours import MAX_SHIFTS_PER_DATE, special_hours_clear, special_hours_set


@strawberry.type
class Query:
    stores: OffsetPaginated[StoreType] = offset_paginated(
        description="Stores, filterable by id and time zone, ordered, paginated (page size capped)."
    )

    @strawberry_django.field(description="One store by its id.")
    def store(self, info: Info, id: str) -> StoreType:
        return _visible_store(info, id, name="id")


def _visible_store(info: Info, value: str, *, name: str) -> Store:
    """The store of this id if the caller may see it (an owner: only theirs), else "not found"."""
    store_id = store_id_argument(value, name=name)  # exactly as given: ids are opaque
    store = stores_visible(access=request_access(info)).filter(store_id=store_id).first()
    if store is None:
        raise UserError(f"store not found: {value}")
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

    @strawberry_django.mutation(
        handle_django_errors=False,
        description=(
            "Special hours (holidays, events) of a store on one local date: that date's shifts become exactly `shifts` (an empty"
            f" list: closed all day; at most {MAX_SHIFTS_PER_DATE}); the weekly hours do not apply that date."
            " Returns the date's rows."
        ),
    )
    def set_special_hours(
        self, info: Info, store_id: str, date: LocalDate, shifts: list[ShiftInput]
    ) -> list[SpecialHoursType]:
        store = _visible_store(info, store_id, name="storeId")
        times = shifts_argument([(shift.start_time_local, shift.end_time_local) for shift in shifts])
        return special_hours_set(store=store, date=date, shifts=times)

    @strawberry_django.mutation(
        handle_django_errors=False,
        description="Removes a date's special hours: the weekly hours apply again. True if there were any.",
    )
    def clear_special_hours(self, info: Info, store_id: str, date: LocalDate) -> bool:
        store = _visible_store(info, store_id, name="storeId")
        return special_hours_clear(store=store, date=date) > 0

from datetime import date as LocalDate
from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from graphql_schema.common.arguments import shifts_argument, store_id_argument
from graphql_schema.common.errors import NotFound, UserError, request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.pagination import Page, offset_paginated
from graphql_schema.common.fields import priced
from graphql_schema.common.payloads import REFUSALS, UserErrorType, refused, user_errors_field
from graphql_schema.limits.rate_limits import rate_limit
from graphql_schema.common.scalars import rfc3339
from graphql_schema.stores.polls import MAX_POLLS_PER_REQUEST, PollInput, PollRejection, RecordPollsResult
from graphql_schema.stores.revenue import (
    ExpectedRevenueInput,
    ExpectedRevenueType,
    SetStoreRevenuePayload,
    revenue_rows_argument,
)
from graphql_schema.stores.types import ShiftInput, SpecialHoursType, StoreType
from monitoring.stores.access import stores_visible
from monitoring.ingest import polls_record
from monitoring.kernel import values
from monitoring.kernel.values import DEFAULT_CURRENCY, InvalidValue
from monitoring.models import Store
from monitoring.stores.revenue import HOURS_OF_WEEK, store_revenue_set
from monitoring.stores.special_hours import MAX_SHIFTS_PER_DATE, special_hours_clear, special_hours_set

StoreIdArgument = Annotated[strawberry.ID, strawberry.argument(description="The store's id, exactly as stored.")]


@strawberry.type
class Query:
    stores: Page[StoreType] = offset_paginated(
        description="Stores the caller can see, filterable by id and time zone, ordered, by offset page (at most 500)."
    )

    @strawberry_django.field(description="One store by its id; null with a NOT_FOUND error when the caller cannot see it.")
    def store(self, info: Info, id: StoreIdArgument) -> StoreType | None:
        permitted_access(info, "store.read")
        return _visible_store(info, id, name="id")


def _visible_store(info: Info, value: str, *, name: str) -> Store:
    """The store of this id if the caller may see it (an owner: only theirs), else NOT_FOUND."""
    store_id = store_id_argument(value, name=name)  # exactly as given: ids are opaque
    store = stores_visible(access=request_access(info)).filter(store_id=store_id).first()
    if store is None:
        raise NotFound(f"store not found: {value}", argument=name)
    return store


#: The grammar's names of a poll's fields → PollInput's.
POLL_FIELDS = {"store_id": "storeId", "timestamp_utc": "timestampUtc", "status": "status"}


def _accepted_store_ids(polls: list[PollInput], rejections) -> set[str]:
    """The store ids of the polls sent that were not rejected."""
    rejected = {r.index for r in rejections}
    return {poll.store_id for index, poll in enumerate(polls) if index not in rejected}


@strawberry.type(description="What setSpecialHours answers: the date's rows, or why nothing changed.")
class SetSpecialHoursPayload:
    special_hours: list[SpecialHoursType] | None = strawberry.field(
        description="The date's rows after the change (closed all day: one row without times); null when refused.",
        metadata=priced(max_items=MAX_SHIFTS_PER_DATE),  # at most one row per shift
    )
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")
    store: StoreType | None = strawberry.field(
        default=None, description="The store changed (its `specialHours`, hours and figures as now stored); null when refused."
    )


@strawberry.type(description="What clearSpecialHours answers.")
class ClearSpecialHoursPayload:
    cleared: bool | None = strawberry.field(
        description="True if the date had special hours (now removed); null when refused."
    )
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")
    store: StoreType | None = strawberry.field(
        default=None, description="The store changed (its `specialHours`, hours and figures as now stored); null when refused."
    )


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description=(
            f"Store live polls (the later poll wins), at most {MAX_POLLS_PER_REQUEST} a request. A poll refused is"
            " listed in `rejections`; a request refused as a whole, in `userErrors`."
        ),
    )
    def record_polls(
        self, info: Info, polls: Annotated[list[PollInput], strawberry.argument(description="The polls to store.")]
    ) -> RecordPollsResult | None:
        rate_limit(info, scope="polls")
        access = permitted_access(info, "polls.write")
        if len(polls) > MAX_POLLS_PER_REQUEST:
            error = UserError(f"at most {MAX_POLLS_PER_REQUEST} polls per request", argument="polls")
            return RecordPollsResult(
                received=len(polls), loaded=0, replaced=0, unchanged=0, superseded=0, rejected=0, rejections=[],
                user_errors=refused(info, error),
            )
        result = polls_record(
            # The scalar read the instant (an offset required); the grammar checks its range.
            polls=[(poll.store_id, rfc3339(poll.timestamp_utc), poll.status) for poll in polls],
            access=access,
        )
        return RecordPollsResult(
            received=len(polls),
            loaded=result.loaded,
            replaced=result.replaced,
            unchanged=result.unchanged,
            superseded=result.superseded,
            rejected=result.rejected,
            rejections=[
                PollRejection(index=r.index, field=POLL_FIELDS.get(r.field, r.field or "row"), reason=r.reason)
                for r in result.rejections
            ],
            user_errors=[],
            _stores=stores_visible(access=access).filter(store_id__in=_accepted_store_ids(polls, result.rejections)),
        )

    @strawberry_django.mutation(
        handle_django_errors=False,
        description=(
            "Special hours (holidays, events) of a store on one local date: that date's shifts become exactly `shifts` (an empty"
            f" list: closed all day; at most {MAX_SHIFTS_PER_DATE}); the weekly hours do not apply that date. A store keeps"
            " at most SPECIAL_HOURS_MAX_ROWS_PER_STORE rows; writes are rate limited per caller (RATE_LIMITED)."
            " Answers the date's rows; input refused: `userErrors`, nothing changed."
        ),
    )
    def set_special_hours(
        self,
        info: Info,
        store_id: StoreIdArgument,
        date: Annotated[LocalDate, strawberry.argument(description="The store's local date.")],
        shifts: Annotated[list[ShiftInput], strawberry.argument(description="The date's shifts; empty: closed all day.")],
    ) -> SetSpecialHoursPayload | None:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "special_hours.edit")
            if len(shifts) > MAX_SHIFTS_PER_DATE:  # before reading any: a variable's list is unbounded
                raise InvalidValue("shifts", f"at most {MAX_SHIFTS_PER_DATE} shifts a date")
            store = _visible_store(info, store_id, name="storeId")
            times = shifts_argument([(shift.start_time_local, shift.end_time_local) for shift in shifts])
            rows = special_hours_set(store=store, date=date, shifts=times, actor=access.actor)
        except REFUSALS as error:
            return SetSpecialHoursPayload(special_hours=None, user_errors=refused(info, error))
        return SetSpecialHoursPayload(special_hours=rows, user_errors=[], store=store)

    @strawberry_django.mutation(
        handle_django_errors=False,
        description=(
            "A store's expected revenue (docs/rules.md §13): its rows become exactly `rows` (at most one per weekday and"
            f" hour, {HOURS_OF_WEEK} in all), all in `currency` (ISO 4217, default USD); an empty list removes them (no"
            " estimate any more). Writes are rate limited per caller (RATE_LIMITED). Input refused: `userErrors`,"
            " nothing changed."
        ),
    )
    def set_store_revenue(
        self,
        info: Info,
        store_id: StoreIdArgument,
        rows: Annotated[
            list[ExpectedRevenueInput], strawberry.argument(description="The hours with expected revenue.")
        ],
        currency: Annotated[
            str, strawberry.argument(description="The ISO 4217 code of every amount (USD, EUR, …).")
        ] = DEFAULT_CURRENCY,
    ) -> SetStoreRevenuePayload | None:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "revenue.edit")
            if len(rows) > HOURS_OF_WEEK:  # before reading any: a variable's list is unbounded
                raise InvalidValue("rows", f"at most {HOURS_OF_WEEK} rows, one per weekday and hour")
            store = _visible_store(info, store_id, name="storeId")
            code = values.currency(currency, field="currency")
            stored = store_revenue_set(store=store, rows=revenue_rows_argument(rows), currency=code, actor=access.actor)
        except REFUSALS as error:
            return SetStoreRevenuePayload(expected_revenue=None, user_errors=refused(info, error))
        return SetStoreRevenuePayload(expected_revenue=ExpectedRevenueType.of(stored), user_errors=[], store=store)

    @strawberry_django.mutation(
        handle_django_errors=False,
        description=(
            "Removes a date's special hours: the weekly hours apply again. Input refused: `userErrors`, nothing changed."
        ),
    )
    def clear_special_hours(
        self,
        info: Info,
        store_id: StoreIdArgument,
        date: Annotated[LocalDate, strawberry.argument(description="The store's local date.")],
    ) -> ClearSpecialHoursPayload | None:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "special_hours.edit")
            store = _visible_store(info, store_id, name="storeId")
        except REFUSALS as error:
            return ClearSpecialHoursPayload(cleared=None, user_errors=refused(info, error))
        cleared = special_hours_clear(store=store, date=date, actor=access.actor)
        return ClearSpecialHoursPayload(cleared=cleared > 0, user_errors=[], store=store)

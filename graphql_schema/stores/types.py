import enum
from datetime import date, datetime, time, timedelta
from typing import Annotated

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry import auto
from strawberry_django.pagination import OffsetPaginated

from graphql_schema.arguments import as_of_argument, store_id_argument, store_ids_argument, zone_argument
from graphql_schema.errors import UserError, request_access
from graphql_schema.fields import ObjectField
from graphql_schema.pagination import offset_paginated
from monitoring.access import polls_visible, stores_visible
from monitoring import engine
from monitoring.models import BusinessHours, SpecialHours, StatusPoll, Store
from monitoring.reports import horizon_from_minutes, store_report_compute, window_seconds
from monitoring.selectors import latest_poll_timestamp
from monitoring.special_hours import special_hours_between
from monitoring.timeline import store_incidents, store_timeline


@strawberry_django.filter_type(Store)
class StoreFilter:
    @strawberry_django.filter_field(description="Exact store id.")
    def id(self, value: str, prefix: str) -> Q:
        return Q(**{f"{prefix}store_id": store_id_argument(value, name="filters.id")})

    @strawberry_django.filter_field(description="Any of these store ids.")
    def ids(self, value: list[str], prefix: str) -> Q:
        return Q(**{f"{prefix}store_id__in": store_ids_argument(value, name="filters.ids")})

    @strawberry_django.filter_field(
        description=f"Stores in this IANA zone; {engine.DEFAULT_TIMEZONE} includes stores with no zone row."
    )
    def timezone(self, value: str, prefix: str) -> Q:
        value = zone_argument(value, name="filters.timezone")
        q = Q(**{f"{prefix}timezone_name": value})
        if value == engine.DEFAULT_TIMEZONE:
            q |= Q(**{f"{prefix}timezone_name__isnull": True})
        return q


@strawberry_django.order_type(Store)
class StoreOrder:
    store_id: auto = strawberry_django.order_field(name="id")
    timezone_name: auto = strawberry_django.order_field(name="timezone")


@strawberry_django.type(BusinessHours, name="BusinessHours")
class BusinessHoursType:
    day_of_week: auto = strawberry_django.field(description="0 = Monday … 6 = Sunday")
    start_time_local: time
    end_time_local: time

    @strawberry_django.field(
        only=["start_time_local", "end_time_local"],
        description="True when the shift ends on the next day (end <= start; equal = 24 hours).",
    )
    def runs_past_midnight(self, root: BusinessHours) -> bool:
        return root.end_time_local <= root.start_time_local


LocalDate = date  # a field below is named `date`
#: Most special-hours rows one `Store.specialHours` returns (graphql_schema.pricing).
SPECIAL_HOURS_MAX_ROWS = 100


@strawberry_django.type(SpecialHours, name="SpecialHours")
class SpecialHoursType:
    date: LocalDate = strawberry_django.field(description="The store's local calendar date.")
    start_time_local: time | None = strawberry_django.field(description="Null when closed all day.")
    end_time_local: time | None = strawberry_django.field(
        description="Null when closed all day; <= start: runs past midnight (equal = 24 hours; 24:00 reads 00:00)."
    )

    @strawberry_django.field(only=["start_time_local"], description="Closed all day on this date.")
    def closed(self, root: SpecialHours) -> bool:
        return root.closed


@strawberry.input(description="One shift, local time: HH:MM or HH:MM:SS; 24:00 as an end means the end of the day.")
class ShiftInput:
    start_time_local: str
    end_time_local: str = strawberry.field(description="<= start: the shift runs past midnight (equal = 24 hours).")


@strawberry_django.type(StatusPoll, name="StatusPoll")
class StatusPollType:
    timestamp_utc: datetime
    is_active: bool
    store: "StoreType"

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info, **kwargs) -> QuerySet:
        return queryset & polls_visible(access=request_access(info))

    @strawberry_django.field(only=["is_active"])
    def status(self, root: StatusPoll) -> str:
        return root.status


@strawberry.enum
class SegmentState(enum.Enum):
    UP = "UP"
    DOWN = "DOWN"
    UNKNOWN = "UNKNOWN"
    CLOSED = "CLOSED"


@strawberry.type
class TimelineSegment:
    start: datetime
    end: datetime
    state: SegmentState


@strawberry.type
class OutageIncident:
    start: datetime
    end: datetime
    minutes_lost: float = strawberry.field(description="Business minutes DOWN within the incident.")


@strawberry.type
class UptimeWindow:
    window: str = strawberry.field(description="hour, day or week")
    uptime_minutes: float
    downtime_minutes: float
    unknown_minutes: float
    known_minutes: float = strawberry.field(
        description="Business time whose status is known: uptime + downtime (business = known + unknown)."
    )
    business_minutes: float


@strawberry.type
class UptimeSummary:
    as_of: datetime
    horizon_minutes: int
    windows: list[UptimeWindow]


@strawberry_django.type(Store, name="Store", filters=StoreFilter, ordering=StoreOrder)
class StoreType:
    id: str = strawberry_django.field(field_cls=ObjectField, field_name="store_id", description="The store's opaque id.")
    business_hours: list[BusinessHoursType]

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info, **kwargs) -> QuerySet:
        return queryset & stores_visible(access=request_access(info))

    @strawberry_django.field(field_cls=ObjectField, only=["timezone_name"], description="IANA zone used for this store.")
    def timezone(self, root: Store) -> str:
        return root.timezone_name or engine.DEFAULT_TIMEZONE

    @strawberry_django.field(
        field_cls=ObjectField, only=["timezone_name"], description="True when no zone row exists (default used)."
    )
    def timezone_is_default(self, root: Store) -> bool:
        return not root.timezone_name

    @strawberry_django.field(
        field_cls=ObjectField,
        prefetch_related=["business_hours"],
        description="No weekly hours rows: open 24x7 (on dates without special hours).",
    )
    def is24x7(self, root: Store) -> bool:
        return not root.business_hours.all()

    @strawberry_django.field(
        description=(
            "Special hours (holidays, events) with from <= date <= to, by date: on a date with special rows they are"
            f" the day's shifts, the weekly hours do not apply. A range holding more than {SPECIAL_HOURS_MAX_ROWS} rows"
            " is refused: narrow it."
        )
    )
    def special_hours(
        self,
        root: Store,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> list[SpecialHoursType]:
        rows = special_hours_between(store=root, start=from_, end=to, limit=SPECIAL_HOURS_MAX_ROWS + 1)
        if len(rows) > SPECIAL_HOURS_MAX_ROWS:
            raise UserError(f"more than {SPECIAL_HOURS_MAX_ROWS} special-hours rows in this range: narrow from/to")
        return rows

    @offset_paginated(OffsetPaginated[StatusPollType], description="Polls, oldest first.")
    def status_polls(
        self,
        root: Store,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> QuerySet[StatusPoll]:
        polls = StatusPoll.objects.filter(store_id=root.pk).order_by("timestamp_utc")
        if from_ is not None:
            polls = polls.filter(timestamp_utc__gte=from_)
        if to is not None:
            polls = polls.filter(timestamp_utc__lt=to)
        return polls

    @strawberry_django.field(
        only=["store_id", "timezone_name"], description="Live uptime for this store, by the report engine."
    )
    def uptime(
        self, root: Store, info: strawberry.Info, as_of: datetime | None = None, horizon_minutes: int | None = None
    ) -> UptimeSummary:
        owner_id = request_access(info).owner_id
        as_of = as_of_argument(as_of, name="asOf") or _default_as_of(info, owner_id=owner_id)
        computed = store_report_compute(
            store=root, as_of=as_of, horizon=horizon_from_minutes(horizon_minutes), owner_id=owner_id
        )
        row = computed.rows[0]
        return UptimeSummary(
            as_of=computed.as_of,
            horizon_minutes=int(computed.horizon.total_seconds() // 60),
            windows=[_window(row, name) for name, _ in engine.WINDOWS],
        )


    @strawberry_django.field(description="Up/down/unknown/closed segments covering [from, to) exactly (≤ 31 days).")
    def timeline(
        self,
        root: Store,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        horizon_minutes: int | None = None,
    ) -> list[TimelineSegment]:
        from_, to = as_of_argument(from_, name="from"), as_of_argument(to, name="to")
        segments = store_timeline(store=root, start=from_, end=to, horizon=horizon_from_minutes(horizon_minutes))
        return [TimelineSegment(start=s.start, end=s.end, state=SegmentState[s.state]) for s in segments]

    @strawberry_django.field(description="Outages during business hours in [from, to) (≤ 31 days).")
    def incidents(
        self,
        root: Store,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        horizon_minutes: int | None = None,
    ) -> list[OutageIncident]:
        from_, to = as_of_argument(from_, name="from"), as_of_argument(to, name="to")
        incidents = store_incidents(store=root, start=from_, end=to, horizon=horizon_from_minutes(horizon_minutes))
        return [
            OutageIncident(start=i.start, end=i.end, minutes_lost=i.business_seconds_lost / 60) for i in incidents
        ]


def _default_as_of(info: strawberry.Info, *, owner_id: int | None) -> datetime | None:
    """The caller's default asOf: the latest poll among the stores they can see (SPEC
    §8), looked up once per request, so a page of stores' uptimes shares one asOf."""
    request = info.context.request
    if not hasattr(request, "_uptime_default_as_of"):
        request._uptime_default_as_of = latest_poll_timestamp(owner_id=owner_id)
    return request._uptime_default_as_of


def _window(row: dict, name: str) -> UptimeWindow:
    up, down, unknown = (seconds / 60 for seconds in window_seconds(row, name))
    return UptimeWindow(
        window=name,
        uptime_minutes=up,
        downtime_minutes=down,
        unknown_minutes=unknown,
        known_minutes=up + down,
        business_minutes=up + down + unknown,
    )


@strawberry.input(description="One poll, validated with the CSV loader's rules (SPEC §1).")
class PollInput:
    store_id: str
    timestamp_utc: str = strawberry.field(description="e.g. 2023-01-25 18:13:22.47 UTC or ISO 8601")
    status: str = strawberry.field(description="active or inactive, any case")


@strawberry.type
class PollRejection:
    index: int = strawberry.field(description="Position of the poll in the request, from 0.")
    field: str
    reason: str


@strawberry.type
class RecordPollsResult:
    received: int
    loaded: int = strawberry.field(description="New polls stored.")
    replaced: int = strawberry.field(description="Stored polls whose status changed (the later poll wins).")
    unchanged: int
    superseded: int = strawberry.field(description="Earlier duplicates of a later poll in the same request.")
    rejected: int
    rejections: list[PollRejection]

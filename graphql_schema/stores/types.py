import enum
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated

import strawberry
import strawberry_django
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from graphql_schema.alerts.incidents import IncidentType, incident_records_of_outages, incidents_lost_revenue
from monitoring.alerts.models import Incident
from graphql_schema.common.arguments import as_of_argument, store_id_argument, store_ids_argument, zone_argument
from graphql_schema.common.errors import UserError, request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.fields import ObjectField, priced
from graphql_schema.common.pagination import Page, keyset_by_instant, keyset_connection, offset_paginated
from graphql_schema.common.payloads import NULL_WHEN_REFUSED
from graphql_schema.stores.polls import PollOrder, StatusPollConnection, StatusPollType, polls_page
from graphql_schema.stores.now import LOOK_BACK_TEXT, last_poll_of, open_incident_record, store_at
from graphql_schema.stores.uptime import UptimeSummary, store_uptime
from graphql_schema.common.units import minutes
from graphql_schema.history import types as history_types
from graphql_schema.history.revenue import LazyLostRevenue, LostRevenueType
from graphql_schema.stores.revenue import ExpectedRevenueType
from monitoring import engine, history
from monitoring.kernel.periods import DEFAULT_TIMEZONE, default_horizon, zone_name
from monitoring.stores.access import stores_visible
from monitoring.models import BusinessHours, SpecialHours, StatusPoll, Store
from monitoring.reports import horizon_from_minutes
from monitoring.kernel import values
from monitoring.stores.special_hours import special_hours_between, special_hours_rows
from monitoring.stores.timeline import store_incidents, store_timeline


@strawberry_django.filter_type(Store, description="Which stores to list; the members given must all hold.")
class StoreFilter:
    @strawberry_django.filter_field(description="Exact store id.")
    def id(self, value: strawberry.ID, prefix: str) -> Q:
        return Q(**{f"{prefix}store_id": store_id_argument(value, name="filters.id")})

    @strawberry_django.filter_field(description="Any of these store ids.")
    def ids(self, value: list[strawberry.ID], prefix: str) -> Q:
        return Q(**{f"{prefix}store_id__in": store_ids_argument(value, name="filters.ids")})

    @strawberry_django.filter_field(
        description=f"Stores in this IANA zone; {DEFAULT_TIMEZONE} includes stores with no zone row."
    )
    def timezone(self, value: str, prefix: str) -> Q:
        value = zone_argument(value, name="filters.timezone")
        q = Q(**{f"{prefix}timezone_name": value})
        if value == DEFAULT_TIMEZONE:
            q |= Q(**{f"{prefix}timezone_name__isnull": True})
        return q


@strawberry_django.order_type(Store, description="One sort key; a list of them sorts by the first, then the next.")
class StoreOrder:
    store_id: strawberry.auto = strawberry_django.order_field(name="id", description="By store id.")

    @strawberry_django.order_field(
        description=f"By the zone the store's hours are read in: its own, else {DEFAULT_TIMEZONE} (docs/rules.md §2)."
    )
    def timezone(self, info: strawberry.Info, queryset: QuerySet, value: strawberry_django.Ordering, prefix: str):
        # The effective zone (Store.timezone), not the stored NULL of a default-zone store.
        alias = f"{prefix.replace('__', '_')}effective_zone"
        queryset = queryset.alias(**{alias: Coalesce(F(f"{prefix}timezone_name"), Value(DEFAULT_TIMEZONE))})
        return queryset, [value.resolve(alias)]


@strawberry_django.type(BusinessHours, name="BusinessHours", description="One weekly open shift, in the store's local time.")
class BusinessHoursType:
    id: strawberry.ID = strawberry_django.field(
        field_cls=ObjectField, field_name="pk", description="The row's id (opaque; a row replaced gets a new one)."
    )
    day_of_week: strawberry.auto = strawberry_django.field(description="The local weekday: 0 = Monday … 6 = Sunday.")
    start_time_local: time = strawberry_django.field(description="Opening, local wall-clock time.")
    end_time_local: time = strawberry_django.field(
        description="Closing, local wall-clock time; <= start: the shift runs past midnight (equal = 24 hours)."
    )

    @strawberry_django.field(
        only=["start_time_local", "end_time_local"],
        description="True when the shift ends on the next day (end <= start; equal = 24 hours).",
    )
    def runs_past_midnight(self, root: BusinessHours) -> bool:
        return root.end_time_local <= root.start_time_local


LocalDate = date  # a field below is named `date`
#: Most special-hours rows one `Store.specialHours` returns (its price cap too).
SPECIAL_HOURS_MAX_ROWS = 100


@strawberry_django.type(
    SpecialHours, name="SpecialHours", description="One special-hours row (docs/rules.md §9): a shift, or closed all day."
)
class SpecialHoursType:
    id: strawberry.ID = strawberry_django.field(
        field_cls=ObjectField, field_name="pk", description="The row's id (opaque; a row replaced gets a new one)."
    )
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
    start_time_local: str = strawberry.field(description="Opening, local time (HH:MM or HH:MM:SS).")
    end_time_local: str = strawberry.field(description="Closing; <= start: the shift runs past midnight (equal = 24 hours).")


_STATE_DESCRIPTIONS = {
    "UP": "Business time whose status was active.",
    "DOWN": "Business time whose status was inactive.",
    "UNKNOWN": "Business time with no poll within the horizon.",
    "CLOSED": "Outside business hours.",
}
#: The engine's states (monitoring.engine.STATES) and CLOSED, as the timeline names them.
SegmentState = strawberry.enum(
    enum.Enum(
        "SegmentState",
        {
            state: strawberry.enum_value(state, description=_STATE_DESCRIPTIONS[state])
            for state in (*(s.upper() for s in engine.STATES), "CLOSED")
        },
    ),
    description="What a store was during a timeline segment.",
)


@strawberry.type(description="Where a store's timeline ends: its state now and since when.")
class CurrentState:
    state: SegmentState = strawberry.field(description="UP, DOWN, UNKNOWN or CLOSED.")
    as_of: datetime = strawberry.field(description="The instant this is the state at (the end of the timeline read).")
    since: datetime = strawberry.field(
        description=(
            f"When the state began, looked for over the last {LOOK_BACK_TEXT} before asOf; held longer:"
            f" asOf − {LOOK_BACK_TEXT}, with `sinceClipped`."
        )
    )
    since_clipped: bool = strawberry.field(
        description=(
            f"True when the state held through the whole {LOOK_BACK_TEXT} looked back over: it began at or before"
            " `since`."
        )
    )


@strawberry.type(description="A stretch of time in one state: [start, end).")
class TimelineSegment:
    start: datetime = strawberry.field(description="Where the segment begins (included).")
    end: datetime = strawberry.field(description="Where it ends (excluded): the next segment's start.")
    state: SegmentState = strawberry.field(description="UP, DOWN, UNKNOWN or CLOSED.")


@strawberry.type(description="An outage: DOWN business time, possibly across closed time, [start, end).")
class OutageIncident:
    start: datetime = strawberry.field(description="The first DOWN instant.")
    end: datetime = strawberry.field(description="Where the outage ends (excluded).")
    minutes_lost: float = strawberry.field(description="Business minutes DOWN within the incident (2 decimals).")
    _revenue: strawberry.Private[LazyLostRevenue | None] = None
    _revenue_index: strawberry.Private[int] = 0
    _record: strawberry.Private[Incident | None] = None
    # The lost revenue of the records listed with this one (one engine pass for them all).
    _record_revenue: strawberry.Private[LazyLostRevenue | None] = None
    _record_index: strawberry.Private[int] = 0
    # Instead of the three above: finds them when `record` is asked for (the page's records in one query).
    _record_lookup: strawberry.Private[Callable[[], tuple[Incident | None, LazyLostRevenue | None, int]] | None] = None

    @strawberry.field(
        description=(
            "The incident recorded for this outage (docs/rules.md §13: one that started live), with its id, status,"
            " acknowledgement and notes; null for an outage seen only in historical data."
        )
    )
    def record(self) -> IncidentType | None:
        if self._record_lookup is not None:
            self._record, self._record_revenue, self._record_index = self._record_lookup()
        if self._record is None:
            return None
        return IncidentType.of(self._record, self._record_revenue, self._record_index)

    @strawberry.field(
        description=(
            "Revenue the outage cost (docs/rules.md §13): its down minutes priced at each local hour's expected"
            " revenue (an outage is down time, so nothing of it is at risk); null when the store has no expected"
            " revenue."
        )
    )
    def lost_revenue(self) -> LostRevenueType | None:
        return self._revenue.item(self._revenue_index) if self._revenue is not None else None


SpecialHoursEdge, SpecialHoursConnection = keyset_connection(
    name="SpecialHours", node=SpecialHoursType, item="A special-hours row", noun="row", plural="rows",
    page="a store's special-hours rows, by date", counted="How many rows the whole list holds, within from/to",
)


FromArgument = Annotated[datetime, strawberry.argument(name="from", description="Start of the range (included).")]
ToArgument = Annotated[datetime, strawberry.argument(description="End of the range (excluded), at most 31 days after from.")]
HorizonArgument = Annotated[
    int | None,
    strawberry.argument(description="H in minutes (1–10080; default REPORT_HORIZON_MINUTES, 120): how long a poll tells."),
]


def _range(from_: datetime, to: datetime) -> tuple[datetime, datetime]:
    return as_of_argument(from_, name="from"), as_of_argument(to, name="to")


@strawberry_django.type(Store, name="Store", filters=StoreFilter, ordering=StoreOrder, description="A store that is polled.")
class StoreType:
    id: strawberry.ID = strawberry_django.field(
        field_cls=ObjectField, field_name="store_id", description="The store's opaque id (any text, compared exactly)."
    )
    business_hours: list[BusinessHoursType] = strawberry_django.field(
        description="Weekly hours, by weekday; none at all: open 24x7 (docs/rules.md §2).",
        metadata=priced(max_items=21),  # 7 days × up to 3 shifts a day
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info, **kwargs) -> QuerySet:
        return queryset & stores_visible(access=permitted_access(info, "store.read"))

    @strawberry_django.field(field_cls=ObjectField, only=["timezone_name"], description="IANA zone used for this store.")
    def timezone(self, root: Store) -> str:
        return zone_name(root.timezone_name)

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
            " Null, with an error naming the argument, when an argument is refused."
        ),
        metadata=priced(max_items=SPECIAL_HOURS_MAX_ROWS),  # the resolver returns at most this many
    )
    def special_hours(
        self,
        root: Store,
        from_: Annotated[date | None, strawberry.argument(name="from", description="First local date (included).")] = None,
        to: Annotated[date | None, strawberry.argument(description="Last local date (included).")] = None,
    ) -> list[SpecialHoursType] | None:
        rows = special_hours_between(store=root, start=from_, end=to, limit=SPECIAL_HOURS_MAX_ROWS + 1)
        if len(rows) > SPECIAL_HOURS_MAX_ROWS:
            raise UserError(
                f"more than {SPECIAL_HOURS_MAX_ROWS} special-hours rows in this range: narrow from/to", argument="from"
            )
        return rows

    @strawberry_django.field(
        only=["pk"],
        description=(
            "Special hours with from <= date <= to, by date (a date's rows in the order they were set), by keyset"
            " page: pass pageInfo.endCursor as `after` for the next; no cap on the range." + NULL_WHEN_REFUSED
        ),
    )
    def special_hours_connection(
        self,
        root: Store,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of rows: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
        from_: Annotated[date | None, strawberry.argument(name="from", description="First local date (included).")] = None,
        to: Annotated[date | None, strawberry.argument(description="Last local date (included).")] = None,
    ) -> SpecialHoursConnection | None:
        rows = special_hours_rows(store=root, start=from_, end=to)
        page, more, cursor_of = keyset_by_instant(
            rows, field="date", first=first, after=after, newest_first=False,
            parse_key=lambda text: values.local_date(text, field="after"), key_text=date.isoformat,
        )
        return SpecialHoursConnection.of(rows=rows, page=page, more=more, cursor_of=cursor_of)

    @offset_paginated(
        Page[StatusPollType],
        description="Polls, oldest first, by offset page (deep pages cost more; `polls` pages by cursor).",
    )
    def status_polls(
        self,
        root: Store,
        from_: Annotated[datetime | None, strawberry.argument(name="from", description="Polls at or after this instant.")] = None,
        to: Annotated[datetime | None, strawberry.argument(description="Polls before this instant.")] = None,
    ) -> QuerySet[StatusPoll]:
        polls = StatusPoll.objects.filter(store_id=root.pk).order_by("timestamp_utc")
        if from_ is not None:
            polls = polls.filter(timestamp_utc__gte=from_)
        if to is not None:
            polls = polls.filter(timestamp_utc__lt=to)
        return polls

    @strawberry_django.field(
        only=["pk"],
        description=(
            "Polls, oldest first (or newest first: `order`), by keyset page: pass pageInfo.endCursor as `after` for"
            " the next. Null, with an error naming the argument, when an argument is refused."
        ),
    )
    def polls(
        self,
        root: Store,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of polls: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from", description="Polls at or after this instant.")] = None,
        to: Annotated[datetime | None, strawberry.argument(description="Polls before this instant.")] = None,
        order: Annotated[PollOrder, strawberry.argument(description="OLDEST_FIRST (the default) or NEWEST_FIRST.")] = PollOrder.OLDEST_FIRST,
    ) -> StatusPollConnection | None:
        return polls_page(store_pk=root.pk, first=first, after=after, start=from_, end=to, order=order)

    @strawberry_django.field(
        only=["store_id", "timezone_name"],
        description=(
            "Live uptime for this store, by the report engine (a page of stores: one engine call for the page)."
            " Null, with an error naming the argument, when an argument is refused."
        ),
    )
    def uptime(
        self,
        root: Store,
        info: strawberry.Info,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(description="End of the windows; default: the latest poll among the caller's stores."),
        ] = None,
        horizon_minutes: HorizonArgument = None,
    ) -> UptimeSummary | None:
        return store_uptime(info, root, as_of=as_of_argument(as_of, name="asOf"), horizon_minutes=horizon_minutes)

    @strawberry_django.field(
        only=["store_id", "timezone_name"],
        description=(
            "Where the store's timeline ends now (the fleet's asOf when listed by `fleet`, else your latest poll):"
            " UP, DOWN, UNKNOWN or CLOSED, and since when (a page of stores: one batch for the page)."
        ),
    )
    def current_state(self, root: Store, info: strawberry.Info) -> CurrentState:
        at, _, _ = store_at(info, root)
        return CurrentState(
            state=SegmentState[at.state], as_of=at.as_of, since=at.since, since_clipped=at.since_clipped,
        )

    @strawberry_django.field(
        only=["store_id", "timezone_name"],
        description="The store's latest poll at or before now (as `currentState`), however old; null when it has none.",
    )
    def last_poll(self, root: Store, info: strawberry.Info) -> StatusPollType | None:
        at, _, _ = store_at(info, root)
        return last_poll_of(at, root)

    @strawberry_django.field(
        only=["store_id", "timezone_name"],
        description=(
            "The outage in progress now (as `currentState`), as `incidents` ending now finds it: the store is down,"
            " or closed since it was last down (closed time does not end an outage); looked for over the last"
            f" {LOOK_BACK_TEXT} (one that began earlier starts at asOf − {LOOK_BACK_TEXT}). Null when none."
            " Its `record` is the store's OPEN incident (docs/rules.md §13) with its acknowledgement and notes."
        ),
    )
    def open_incident(self, root: Store, info: strawberry.Info) -> OutageIncident | None:
        at, revenue, position = store_at(info, root)
        incident = at.open_incident
        if incident is None:
            return None
        return OutageIncident(
            start=incident.start, end=incident.end, minutes_lost=minutes(incident.business_seconds_lost),
            _revenue=revenue, _revenue_index=position, _record_lookup=lambda: open_incident_record(info, root),
        )

    uptime_between: history_types.RangeUptime | None = strawberry_django.field(
        resolver=history_types.uptime_between,
        only=["store_id", "timezone_name"],
        description=(
            "Business minutes up, down and unknown over [from, to), any length up to HISTORY_RETENTION_DAYS (400 days);"
            " the polls at or before `to` are the evidence. Null, with an error naming the argument, when an argument is refused."
        ),
    )
    daily: list[history_types.DailyUptime] | None = strawberry_django.field(
        resolver=history_types.daily,
        only=["store_id", "timezone_name"],
        description=(
            "One entry per local calendar date from `from` to `to` (both included, at most"
            f" {history_types.DAILY_MAX_DAYS}): [00:00, next 00:00) in the store's zone. Null, with an error naming the argument, when an argument is refused."
        ),
        metadata=priced(max_items=history_types.DAILY_MAX_DAYS),  # the resolver refuses more dates
    )

    @strawberry_django.field(
        description="Up/down/unknown/closed segments covering [from, to) exactly (≤ 31 days). Null, with an error naming the argument, when an argument is refused.",
        metadata=priced(max_items=500),  # a change of state, an opening or a closing each, in ≤ 31 days
    )
    def timeline(
        self, root: Store, from_: FromArgument, to: ToArgument, horizon_minutes: HorizonArgument = None
    ) -> list[TimelineSegment] | None:
        start, end = _range(from_, to)
        segments = store_timeline(
            store=root, start=start, end=end, horizon=horizon_from_minutes(horizon_minutes)
        )
        return [TimelineSegment(start=s.start, end=s.end, state=SegmentState[s.state]) for s in segments]

    @strawberry_django.field(
        description="Outages during business hours in [from, to) (≤ 31 days). Null, with an error naming the argument, when an argument is refused.",
        metadata=priced(max_items=200),  # outages in ≤ 31 days: a generous estimate
    )
    def incidents(
        self, root: Store, from_: FromArgument, to: ToArgument, horizon_minutes: HorizonArgument = None
    ) -> list[OutageIncident] | None:
        start, end = _range(from_, to)
        horizon = horizon_from_minutes(horizon_minutes) or default_horizon()
        incidents = store_incidents(store=root, start=start, end=end, horizon=horizon)
        # Each incident's window, with the range's evidence (the polls up to `to`), as the incidents were found.
        revenue = LazyLostRevenue(
            lambda: history.lost_revenue_of_windows(
                stores=[(root.pk, root.store_id, root.timezone_name)], window_store=[0] * len(incidents),
                window_start=[i.start for i in incidents], window_end=[min(i.end, end) for i in incidents],
                window_as_of=[end] * len(incidents), horizon=horizon,
            )
        )
        records = incident_records_of_outages(store=root, outages=[(i.start, i.end) for i in incidents])
        recorded = [record for record in records if record is not None]
        record_revenue = incidents_lost_revenue(recorded)  # the list's records: one engine pass
        record_index = {record.pk: index for index, record in enumerate(recorded)}
        return [
            OutageIncident(
                start=i.start, end=i.end, minutes_lost=minutes(i.business_seconds_lost), _revenue=revenue,
                _revenue_index=index, _record=record, _record_revenue=record_revenue,
                _record_index=record_index[record.pk] if record is not None else 0,
            )
            for index, (i, record) in enumerate(zip(incidents, records))
        ]

    @strawberry_django.field(
        prefetch_related=["revenue"],  # a page of stores: one query for all their rows
        description=(
            "What the store expects to earn in each local hour of the week (docs/rules.md §13); null when it has no"
            " rows: no lost revenue is estimated for it."
        ),
    )
    def expected_revenue(self, root: Store) -> ExpectedRevenueType | None:
        return ExpectedRevenueType.of(sorted(root.revenue.all(), key=lambda row: (row.day_of_week, row.hour)))

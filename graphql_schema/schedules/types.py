"""GraphQL types of scheduled reports (docs/rules.md §11): schedules, their delivery log,
the payloads of `createReportSchedule` and `deleteReportSchedule`."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry


from graphql_schema.common.fields import priced
from graphql_schema.common.pagination import keyset_by_instant, keyset_connection
from graphql_schema.common.payloads import NULL_WHEN_REFUSED, UserErrorType, user_errors_field
from graphql_schema.common.units import rounded
from monitoring.schedules.models import ReportSchedule, ScheduledDelivery
from monitoring.schedules.periods import MONTHLY, WEEKLY
from monitoring.schedules.subscriptions import MAX_SCHEDULE_STORES

#: Most schedules `reportSchedules` lists (an owner has at most 20; staff see the oldest).
MAX_SCHEDULES_LISTED = 100
#: Most deliveries one schedule lists (a year of weekly reports).
MAX_DELIVERIES = 52


@strawberry.enum(description="How often a range report is sent; periods are bounded by midnights in the schedule's zone.")
class ReportPeriod(Enum):
    WEEKLY = strawberry.enum_value(WEEKLY, description="Monday 00:00 to the next Monday 00:00.")
    MONTHLY = strawberry.enum_value(MONTHLY, description="The 1st 00:00 to the next month's 1st 00:00.")


_S = ScheduledDelivery.Status


@strawberry.enum(description="Where a scheduled report's delivery stands.")
class ScheduledDeliveryStatus(Enum):
    WAITING = strawberry.enum_value(_S.WAITING.value, description="The period's report is being computed.")
    PENDING = strawberry.enum_value(_S.PENDING.value, description="The report is ready; queued, not tried yet.")
    SENDING = strawberry.enum_value(_S.SENDING.value, description="A worker is trying it now.")
    RETRYING = strawberry.enum_value(_S.RETRYING.value, description="A try failed; another is due.")
    DELIVERED = strawberry.enum_value(_S.DELIVERED.value, description="The receiver answered 2xx (or the email was sent).")
    FAILED = strawberry.enum_value(
        _S.FAILED.value, description="Every try failed (ALERT_MAX_ATTEMPTS, 5 by default), or the report did."
    )


def _minutes(value: float | None) -> float | None:
    return None if value is None else rounded(value)


@strawberry.type(description="One period of a schedule: its report, the totals over its stores, and how its delivery went.")
class ScheduledReportDelivery:
    id: strawberry.ID = strawberry.field(description="The period's delivery's id (stable).")
    period_start: datetime = strawberry.field(description="Start of the period (included).")
    period_end: datetime = strawberry.field(description="End of the period (excluded): the report's `to`.")
    status: ScheduledDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="Tries made so far (count).")
    last_attempt_at: datetime | None = strawberry.field(description="When the last try started; null before the first.")
    last_result: str = strawberry.field(description="The last try's outcome, e.g. `HTTP 500`; empty before the first.")
    report_id: strawberry.ID | None = strawberry.field(
        description="The period's range report (`report(id:)`); null once retention has deleted it, or if it could not be made."
    )
    store_count: int | None = strawberry.field(description="Stores in the report (count); null until it is complete.")
    uptime_minutes: float | None = strawberry.field(description="Total uptime over its stores, in minutes; null until complete.")
    downtime_minutes: float | None = strawberry.field(description="Total downtime, in minutes; null until complete.")
    unknown_minutes: float | None = strawberry.field(description="Total unknown time, in minutes; null until complete.")
    business_minutes: float | None = strawberry.field(description="Total business time, in minutes; null until complete.")

    @classmethod
    def of(cls, delivery: ScheduledDelivery) -> "ScheduledReportDelivery":
        return cls(
            id=strawberry.ID(str(delivery.pk)),
            period_start=delivery.period_start,
            period_end=delivery.period_end,
            status=ScheduledDeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            last_attempt_at=delivery.last_attempt_at,
            last_result=delivery.last_result,
            report_id=None if delivery.report_id is None else strawberry.ID(str(delivery.report_id)),
            store_count=delivery.store_count,
            uptime_minutes=_minutes(delivery.uptime_minutes),
            downtime_minutes=_minutes(delivery.downtime_minutes),
            unknown_minutes=_minutes(delivery.unknown_minutes),
            business_minutes=_minutes(delivery.business_minutes),
        )


@strawberry.type(
    name="ReportSchedule",
    description="A range report every week or month, sent to a webhook (signed JSON POST) or an email address.",
)
class ReportScheduleType:
    id: strawberry.ID = strawberry.field(description="The schedule's id (unguessable).")
    period: ReportPeriod = strawberry.field(description="Weekly or monthly.")
    zone: str = strawberry.field(description="The IANA zone whose midnights bound its periods.")
    url: str | None = strawberry.field(description="The webhook it posts to; null when it sends email.")
    email: str | None = strawberry.field(description="The address it emails; null when it posts to a webhook.")
    store_ids: list[strawberry.ID] | None = strawberry.field(
        description="The stores it reports on; null: every store of the owner when each report runs.",
        metadata=priced(max_items=MAX_SCHEDULE_STORES),
    )
    created_at: datetime = strawberry.field(description="When it was made.")
    last_period_start: datetime | None = strawberry.field(description="Start of the last period sent (or being sent); null before the first.")
    last_period_end: datetime | None = strawberry.field(description="End of that period.")
    next_period_start: datetime = strawberry.field(description="Start of the next period to send.")
    next_period_end: datetime = strawberry.field(description="End of the next period: its report is made soon after.")
    _schedule: strawberry.Private[ReportSchedule]

    @strawberry.field(
        description=f"Its newest periods first, at most `limit` (1–{MAX_DELIVERIES}).{NULL_WHEN_REFUSED}",
        metadata=priced(max_items=MAX_DELIVERIES),
    )
    def deliveries(
        self,
        limit: Annotated[int, strawberry.argument(description=f"How many (count, 1–{MAX_DELIVERIES}).")] = MAX_DELIVERIES,
    ) -> list[ScheduledReportDelivery] | None:
        from graphql_schema.common.errors import UserError

        if not 1 <= limit <= MAX_DELIVERIES:
            raise UserError(f"limit: must be from 1 to {MAX_DELIVERIES}", argument="limit")
        prefetched = getattr(self._schedule, "newest_deliveries", None)
        rows = prefetched if prefetched is not None else self._schedule.deliveries.all()[:MAX_DELIVERIES]
        return [ScheduledReportDelivery.of(delivery) for delivery in list(rows)[:limit]]

    @strawberry.field(
        description=(
            "Every period's delivery, the newest period first, by keyset page: pass pageInfo.endCursor as `after`"
            " for the next (`deliveries` shows the newest only)." + NULL_WHEN_REFUSED
        )
    )
    def delivery_log(
        self,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of deliveries: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> "ScheduledReportDeliveryConnection | None":
        every = self._schedule.deliveries.all()
        page, more, cursor_of = keyset_by_instant(every, field="period_start", first=first, after=after, newest_first=True)
        return ScheduledReportDeliveryConnection.of(
            rows=every, page=page, more=more, cursor_of=cursor_of, node_of=ScheduledReportDelivery.of
        )

    @classmethod
    def of(cls, schedule: ReportSchedule) -> "ReportScheduleType":
        email = schedule.url[len("mailto:") :] if schedule.is_email else None
        return cls(
            id=strawberry.ID(str(schedule.pk)),
            period=ReportPeriod(schedule.period),
            zone=schedule.zone,
            url=None if email is not None else schedule.url,
            email=email,
            store_ids=None if schedule.store_ids is None else [strawberry.ID(s) for s in schedule.store_ids],
            created_at=schedule.created_at,
            last_period_start=schedule.last_period_start,
            last_period_end=schedule.last_period_end,
            next_period_start=schedule.next_period_start,
            next_period_end=schedule.next_period_end,
            _schedule=schedule,
        )


ScheduledReportDeliveryEdge, ScheduledReportDeliveryConnection = keyset_connection(
    name="ScheduledReportDelivery", node=ScheduledReportDelivery, item="A period's delivery", noun="period's delivery",
    plural="deliveries", page="a schedule's deliveries, the newest period first",
    counted="How many deliveries the schedule's whole log holds",
)
ReportScheduleEdge, ReportScheduleConnection = keyset_connection(
    name="ReportSchedule", node=ReportScheduleType, item="A schedule", noun="schedule", plural="schedules",
    page="report schedules, oldest first", counted="How many schedules the whole list holds",
)


@strawberry.type(description="A new report schedule and, for a webhook, its signing secret, shown this once.")
class CreateReportSchedulePayload:
    schedule: ReportScheduleType | None = strawberry.field(description="The schedule; null when refused (see userErrors).")
    secret: str | None = strawberry.field(
        description="Signs each webhook delivery: header X-Signature-256 is `sha256=` and the hex HMAC-SHA256 of the raw"
        " body. Null for an email schedule, or when refused."
    )
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why the request was refused (a period, zone, URL, address or store it does not take); empty otherwise."
    )


@strawberry.type(description="What `deleteReportSchedule` did.")
class DeleteReportSchedulePayload:
    deleted: bool = strawberry.field(
        description="True if the schedule existed (among the caller's) and is gone with its delivery log; false if there was none."
    )
    id: strawberry.ID = strawberry.field(description="The id asked for.")
    user_errors: list[UserErrorType] = user_errors_field(
        description="Why the request was refused (an id that is no schedule id); empty otherwise."
    )

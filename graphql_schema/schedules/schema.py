"""Scheduled reports in GraphQL (docs/rules.md §11): `reportSchedules`,
`createReportSchedule`, `deleteReportSchedule`; each within the caller's access (an
owner: their own schedules, for their stores), as webhooks are."""

import uuid
from typing import Annotated

import strawberry
from django.db.models import Prefetch, QuerySet
from strawberry.types import Info

from graphql_schema.common.arguments import store_ids_argument
from graphql_schema.common.errors import UserError, request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.fields import priced
from graphql_schema.common.pagination import keyset_by_instant
from graphql_schema.common.payloads import NULL_WHEN_REFUSED, REFUSALS, refused
from graphql_schema.limits.rate_limits import rate_limit
from graphql_schema.schedules.types import (
    MAX_DELIVERIES,
    MAX_SCHEDULES_LISTED,
    CreateReportSchedulePayload,
    DeleteReportSchedulePayload,
    ReportPeriod,
    ReportScheduleConnection,
    ReportScheduleType,
)
from monitoring.schedules.models import ReportSchedule, ScheduledDelivery
from monitoring.schedules.subscriptions import (
    report_schedule_create,
    report_schedule_delete,
    report_schedules_visible,
)


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            f"The caller's report schedules (staff: all), oldest first, at most {MAX_SCHEDULES_LISTED},"
            " with their newest deliveries."
        ),
        metadata=priced(max_items=MAX_SCHEDULES_LISTED),
    )
    def report_schedules(self, info: Info) -> list[ReportScheduleType]:
        schedules = _with_newest_deliveries(report_schedules_visible(access=permitted_access(info, "schedules.manage")))
        return [ReportScheduleType.of(schedule) for schedule in schedules[:MAX_SCHEDULES_LISTED]]

    @strawberry.field(
        description=(
            "The caller's report schedules (staff: all, of every owner), oldest first, by keyset page: pass"
            " pageInfo.endCursor as `after` for the next." + NULL_WHEN_REFUSED
        )
    )
    def report_schedules_connection(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of schedules: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> ReportScheduleConnection | None:
        visible = report_schedules_visible(access=permitted_access(info, "schedules.manage"))
        page, more, cursor_of = keyset_by_instant(
            _with_newest_deliveries(visible), field="created_at", first=first, after=after, newest_first=False
        )
        return ReportScheduleConnection.of(
            rows=visible, page=page, more=more, cursor_of=cursor_of, node_of=ReportScheduleType.of
        )


def _with_newest_deliveries(schedules: QuerySet[ReportSchedule]) -> QuerySet[ReportSchedule]:
    """The schedules with their newest deliveries (ReportSchedule.deliveries), one query for them all."""
    newest = ScheduledDelivery.objects.order_by("-period_start")[:MAX_DELIVERIES]
    return schedules.prefetch_related(Prefetch("deliveries", queryset=newest, to_attr="newest_deliveries"))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Sends a range report of the caller's stores (staff: every store) every week or month, once each period"
            " is over, to a webhook (`url`: a signed JSON POST with a download link to the CSV and the totals) or an"
            " email address (`email`): one of the two. The first period sent is the current one. The secret is"
            " returned this once. Input refused: `userErrors`, nothing made."
        )
    )
    def create_report_schedule(
        self,
        info: Info,
        period: Annotated[ReportPeriod, strawberry.argument(description="WEEKLY (Monday to Monday) or MONTHLY.")],
        zone: Annotated[
            str, strawberry.argument(description="The IANA zone whose midnights bound the periods, e.g. Europe/Paris.")
        ],
        url: Annotated[
            str | None, strawberry.argument(description="https://… : each report is POSTed there, signed.")
        ] = None,
        email: Annotated[str | None, strawberry.argument(description="An email address each report is sent to.")] = None,
        store_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="The stores to report on (at most 100); null: all yours when each report runs."),
        ] = None,
    ) -> CreateReportSchedulePayload:
        rate_limit(info, scope="writes")
        try:
            schedule, secret = report_schedule_create(
                access=request_access(info),
                period=period.value,
                zone=zone,
                url=url,
                email=email,
                store_ids=None if store_ids is None else store_ids_argument(store_ids, name="storeIds"),
            )
        except REFUSALS as error:
            return CreateReportSchedulePayload(schedule=None, secret=None, user_errors=refused(info, error))
        return CreateReportSchedulePayload(schedule=ReportScheduleType.of(schedule), secret=secret, user_errors=[])

    @strawberry.mutation(
        description="Deletes one of the caller's report schedules and its delivery log: `deleted` says whether it existed."
    )
    def delete_report_schedule(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The schedule's id.")]
    ) -> DeleteReportSchedulePayload:
        rate_limit(info, scope="writes")
        try:
            schedule_id = uuid.UUID(str(id))
        except ValueError:
            error = UserError(f"id: not a report schedule id: {id!r}", argument="id")
            return DeleteReportSchedulePayload(deleted=False, id=id, user_errors=refused(info, error))
        deleted = report_schedule_delete(access=request_access(info), schedule_id=schedule_id)
        return DeleteReportSchedulePayload(deleted=deleted, id=id, user_errors=[])

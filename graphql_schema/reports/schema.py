import uuid
from datetime import datetime
from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from graphql_schema.common.arguments import as_of_argument, store_ids_argument
from graphql_schema.common.errors import NotFound, UserError, request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.pagination import Page, keyset_by_instant, offset_paginated
from graphql_schema.common.payloads import NULL_WHEN_REFUSED, REFUSALS, refused
from graphql_schema.limits.rate_limits import rate_limit
from graphql_schema.reports.types import ReportConnection, ReportType, TriggerReportPayload
from monitoring.history import HistoryInputError
from monitoring.stores.access import report_store_ids, reports_visible
from monitoring.reports import MAX_HORIZON_MINUTES, report_create


@strawberry.type
class Query:
    reports: Page[ReportType] = offset_paginated(description="The caller's reports, newest first, by offset page.")

    @strawberry.field(
        description=(
            "The caller's reports, newest first, by keyset page: pass pageInfo.endCursor as `after` for the next."
            + NULL_WHEN_REFUSED
        )
    )
    def reports_connection(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of reports: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> ReportConnection | None:
        visible = reports_visible(access=permitted_access(info, "report.read"))
        page, more, cursor_of = keyset_by_instant(
            visible.defer("csv"), field="created_at", first=first, after=after, newest_first=True
        )
        return ReportConnection.of(rows=visible, page=page, more=more, cursor_of=cursor_of)

    @strawberry_django.field(description="One report by its id; null with a NOT_FOUND error when the caller cannot see it.")
    def report(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The report's id.")]
    ) -> ReportType | None:
        try:
            report_id = uuid.UUID(str(id))
        except ValueError:
            raise NotFound(f"report not found: {id}", argument="id") from None
        # Not the CSV (up to megabytes): the API never shows it, clients poll this often.
        report = reports_visible(access=permitted_access(info, "report.read")).defer("csv").filter(pk=report_id).first()
        if report is None:
            raise NotFound(f"report not found: {id}", argument="id")
        return report


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=False,
        description=(
            "Queue a report; poll report(id) until COMPLETE. Input refused: `userErrors`, nothing queued (and, when"
            " userErrors is not selected, null with an INVALID_ARGUMENT error)."
        ),
    )
    def trigger_report(
        self,
        info: Info,
        store_ids: Annotated[
            list[strawberry.ID] | None, strawberry.argument(description="The stores to report on; null: all you can see.")
        ] = None,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(description="End of the windows (years 2000–2100); null: the latest poll when it runs."),
        ] = None,
        horizon_minutes: Annotated[
            int | None,
            strawberry.argument(description=f"H in minutes (1–{MAX_HORIZON_MINUTES}; default 120): how long a poll tells."),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(
                name="from",
                description="A range report from this instant (included): its CSV is the range CSV (not with asOf).",
            ),
        ] = None,
        to: Annotated[
            datetime | None,
            strawberry.argument(description="The range's end (excluded); null: the latest poll when it runs."),
        ] = None,
    ) -> TriggerReportPayload | None:
        rate_limit(info, scope="reports")
        try:
            access = permitted_access(info, "report.trigger")
            if from_ is None and to is not None:
                raise UserError("to needs from: a range report covers [from, to)", argument="from")
            if from_ is not None and as_of is not None:
                raise UserError("asOf is the weekly report's: a range report ends at `to`", argument="asOf")
            report = report_create(
                store_ids=report_store_ids(
                    access=access, store_ids=None if store_ids is None else store_ids_argument(store_ids, name="storeIds")
                ),
                as_of=as_of_argument(as_of, name="asOf") if from_ is None else as_of_argument(to, name="to"),
                horizon_minutes=horizon_minutes,
                owner_id=access.owner_id,
                group_id=access.group_id,
                range_start=as_of_argument(from_, name="from"),
            )
        except (*REFUSALS, HistoryInputError) as error:
            return TriggerReportPayload(report=None, user_errors=refused(info, error))
        return TriggerReportPayload(report=report, user_errors=[])

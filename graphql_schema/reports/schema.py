import uuid
from datetime import datetime

import strawberry
import strawberry_django
from strawberry_django.pagination import OffsetPaginated

from strawberry.types import Info

from graphql_schema.arguments import as_of_argument, store_ids_argument
from graphql_schema.errors import UserError, request_access
from graphql_schema.pagination import offset_paginated
from graphql_schema.rate_limits import rate_limit
from graphql_schema.reports.types import ReportType
from monitoring.access import reports_visible
from monitoring.reports import report_create


@strawberry.type
class Query:
    reports: OffsetPaginated[ReportType] = offset_paginated(
        description="Reports, newest first."
    )

    @strawberry_django.field(description="One report by its id.")
    def report(self, info: Info, id: strawberry.ID) -> ReportType:
        try:
            report_id = uuid.UUID(str(id))
        except ValueError:
            raise UserError(f"report not found: {id}") from None
        # Not the CSV (up to megabytes): the API never shows it, clients poll this often.
        report = reports_visible(access=request_access(info)).defer("csv").filter(pk=report_id).first()
        if report is None:
            raise UserError(f"report not found: {id}")
        return report


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False, description="Queue a report; poll report(id) for it.")
    def trigger_report(
        self,
        info: Info,
        store_ids: list[str] | None = None,
        as_of: datetime | None = None,
        horizon_minutes: int | None = None,
    ) -> ReportType:
        rate_limit(info, scope="reports")
        return report_create(
            store_ids=None if store_ids is None else store_ids_argument(store_ids, name="storeIds"),
            as_of=as_of_argument(as_of, name="asOf"),
            horizon_minutes=horizon_minutes,
            owner_id=request_access(info).owner_id,
        )

import uuid
from datetime import datetime

import strawberry
import strawberry_django
from strawberry_django.pagination import OffsetPaginated

from graphql_schema.errors import UserError
from graphql_schema.reports.types import ReportType
from monitoring.models import Report
from monitoring.reports import report_create


@strawberry.type
class Query:
    reports: OffsetPaginated[ReportType] = strawberry_django.offset_paginated(
        description="Reports, newest first."
    )

    @strawberry_django.field(description="One report by its id.")
    def report(self, id: strawberry.ID) -> ReportType:
        try:
            report_id = uuid.UUID(str(id))
        except ValueError:
            raise UserError(f"report not found: {id}") from None
        report = Report.objects.filter(pk=report_id).first()
        if report is None:
            raise UserError(f"report not found: {id}")
        return report


@strawberry.type
class Mutation:
    @strawberry_django.mutation(handle_django_errors=False, description="Queue a report; poll report(id) for it.")
    def trigger_report(
        self,
        store_ids: list[str] | None = None,
        as_of: datetime | None = None,
        horizon_minutes: int | None = None,
    ) -> ReportType:
        return report_create(store_ids=store_ids, as_of=as_of, horizon_minutes=horizon_minutes)

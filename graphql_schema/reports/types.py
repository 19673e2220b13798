from datetime import datetime

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry import auto
from strawberry.types import Info
from strawberry_django.pagination import OffsetPaginated

from graphql_schema.arguments import store_id_argument, store_ids_argument
from graphql_schema.errors import request_access
from graphql_schema.pagination import offset_paginated
from monitoring.access import reports_visible
from monitoring.links import report_download_path
from monitoring.models import Report, ReportRow

ReportStatus = strawberry.enum(Report.Status, name="ReportStatus")


@strawberry_django.filter_type(ReportRow)
class ReportRowFilter:
    @strawberry_django.filter_field(description="Exact store id.")
    def store_id(self, value: str, prefix: str) -> Q:
        return Q(**{f"{prefix}store_id": store_id_argument(value, name="filters.storeId")})

    @strawberry_django.filter_field(description="Any of these store ids.")
    def store_ids(self, value: list[str], prefix: str) -> Q:
        return Q(**{f"{prefix}store_id__in": store_ids_argument(value, name="filters.storeIds")})


@strawberry_django.type(ReportRow, name="ReportRow", filters=ReportRowFilter)
class ReportRowType:
    """SPEC §5 values (hour columns in minutes, day and week in hours), unrounded,
    plus the unknown time of each window in the same units and the number of outage
    incidents in each window."""

    store_id: str
    uptime_last_hour: float
    uptime_last_day: float
    uptime_last_week: float
    downtime_last_hour: float
    downtime_last_day: float
    downtime_last_week: float
    unknown_last_hour: float
    unknown_last_day: float
    unknown_last_week: float
    incidents_last_hour: int
    incidents_last_day: int
    incidents_last_week: int


@strawberry_django.type(Report, name="Report")
class ReportType:
    id: strawberry.ID
    status: ReportStatus
    as_of: datetime | None = strawberry_django.field(description="The report's time (resolved when it runs).")
    requested_as_of: datetime | None
    horizon_minutes: int
    store_ids: list[str] | None = strawberry_django.field(description="The stores asked for; null = all.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = strawberry_django.field(field_name="error")
    store_count: int | None
    rows: OffsetPaginated[ReportRowType] = offset_paginated(
        description="One row per store, ordered by store id."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset & reports_visible(access=request_access(info))

    @strawberry_django.field(
        only=["id", "status"], description="Signed link to the CSV, valid for a limited time; null until COMPLETE."
    )
    def download_url(self, root: Report, info: Info) -> str | None:
        if root.status != Report.Status.COMPLETE:
            return None
        return info.context.request.build_absolute_uri(report_download_path(report_id=root.id))

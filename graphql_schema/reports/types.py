import enum
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from typing import Annotated

import strawberry
import strawberry_django
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import F, Func, IntegerField, Q, QuerySet, TextField
from strawberry.types import Info

from graphql_schema.common.arguments import store_id_argument, store_ids_argument
from graphql_schema.common.errors import request_access
from graphql_schema.common.permissions import permitted_access
from graphql_schema.common.fields import ObjectField
from graphql_schema.common.pagination import Page, keyset_connection, keyset_first, offset_paginated, page_cap
from graphql_schema.common.payloads import UserErrorType, user_errors_field
from graphql_schema.stores.uptime import UptimeWindow, uptime_window, windows_revenue
from graphql_schema.common.units import rounded
from monitoring.stores.access import reports_visible, stores_visible
from monitoring.web.links import report_download_path
from monitoring.models import Report, ReportRow

_STATUS_DESCRIPTIONS = {
    "PENDING": "Queued; nothing computed yet.",
    "RUNNING": "Being computed.",
    "COMPLETE": "Done: `completed` (asOf, storeCount, downloadUrl) is set.",
    "FAILED": "Failed for good: `error` says why.",
}
#: The report lifecycle of monitoring.models.Report.Status, as an enum.
ReportStatus = strawberry.enum(
    enum.Enum(
        "ReportStatus",
        {s.name: strawberry.enum_value(s.value, description=_STATUS_DESCRIPTIONS[s.name]) for s in Report.Status},
    ),
    description="Where a report is: PENDING → RUNNING → COMPLETE or FAILED (docs/rules.md §6).",
)


@strawberry_django.filter_type(ReportRow, description="Which rows to list.")
class ReportRowFilter:
    @strawberry_django.filter_field(description="Exact store id.")
    def store_id(self, value: strawberry.ID, prefix: str) -> Q:
        return Q(**{f"{prefix}store_id": store_id_argument(value, name="filters.storeId")})

    @strawberry_django.filter_field(description="Any of these store ids.")
    def store_ids(self, value: list[strawberry.ID], prefix: str) -> Q:
        return Q(**{f"{prefix}store_id__in": store_ids_argument(value, name="filters.storeIds")})


def _deprecated_unit(kind: str, window: str) -> dict:
    unit = "minutes" if window == "hour" else "hours"
    return dict(
        field_cls=ObjectField,
        only=[f"{kind}_last_{window}"],
        description=f"{kind.capitalize()} in the last {window}, in {unit} (docs/rules.md §5's CSV unit), 2 decimals.",
        deprecation_reason=f"Mixed units across windows: use `{window} {{ {kind}Minutes }}` (minutes).",
    )


def _window_columns(window: str) -> list[str]:
    # The row's report and store too: where its window finds its lost revenue (_row_revenue).
    return ["report_id", "store_id", *(f"{kind}_last_{window}" for kind in ("uptime", "downtime", "unknown", "incidents"))]


def _row_revenue(info: Info, root: ReportRow) -> dict:
    """Where a report row's windows find their lost revenue (docs/rules.md §13): the
    windows of its page's stores at the report's asOf and H, computed together when one
    is first read, from the polls and expected revenue stored now; nothing for a store
    gone since (its lostRevenue is null)."""
    memo = info.context.request.__dict__.setdefault("_report_row_revenue", {})
    if root.pk not in memo:
        page = [row for row in getattr(root, "page_of", None) or [root] if row.pk not in memo]
        if root not in page:
            page.append(root)
        report = Report.objects.only("as_of", "horizon_minutes").get(pk=root.report_id)
        stores = list(
            stores_visible(access=request_access(info)).filter(store_id__in=[row.store_id for row in page])
            .order_by("pk").values_list("pk", "store_id", "timezone_name")
        )
        position = {store_id: i for i, (_pk, store_id, _zone) in enumerate(stores)}
        revenue = windows_revenue(stores, as_of=report.as_of, horizon=timedelta(minutes=report.horizon_minutes))
        for row in page:
            memo[row.pk] = {"revenue": revenue, "position": position[row.store_id]} if row.store_id in position else {}
    return memo[root.pk]


@strawberry_django.type(ReportRow, name="ReportRow", filters=ReportRowFilter, description="One store's figures in a report.")
class ReportRowType:
    store_id: strawberry.ID = strawberry_django.field(field_cls=ObjectField, description="The store's id.")

    @strawberry_django.field(only=_window_columns("hour"), description="The last hour, in minutes.")
    def hour(self, root: ReportRow, info: Info) -> UptimeWindow:
        return uptime_window(root.__dict__, "hour", **_row_revenue(info, root))

    @strawberry_django.field(only=_window_columns("day"), description="The last day, in minutes.")
    def day(self, root: ReportRow, info: Info) -> UptimeWindow:
        return uptime_window(root.__dict__, "day", **_row_revenue(info, root))

    @strawberry_django.field(only=_window_columns("week"), description="The last week, in minutes.")
    def week(self, root: ReportRow, info: Info) -> UptimeWindow:
        return uptime_window(root.__dict__, "week", **_row_revenue(info, root))

    @strawberry_django.field(**_deprecated_unit("uptime", "hour"))
    def uptime_last_hour(self, root: ReportRow) -> float:
        return rounded(root.uptime_last_hour)

    @strawberry_django.field(**_deprecated_unit("uptime", "day"))
    def uptime_last_day(self, root: ReportRow) -> float:
        return rounded(root.uptime_last_day)

    @strawberry_django.field(**_deprecated_unit("uptime", "week"))
    def uptime_last_week(self, root: ReportRow) -> float:
        return rounded(root.uptime_last_week)

    @strawberry_django.field(**_deprecated_unit("downtime", "hour"))
    def downtime_last_hour(self, root: ReportRow) -> float:
        return rounded(root.downtime_last_hour)

    @strawberry_django.field(**_deprecated_unit("downtime", "day"))
    def downtime_last_day(self, root: ReportRow) -> float:
        return rounded(root.downtime_last_day)

    @strawberry_django.field(**_deprecated_unit("downtime", "week"))
    def downtime_last_week(self, root: ReportRow) -> float:
        return rounded(root.downtime_last_week)

    @strawberry_django.field(**_deprecated_unit("unknown", "hour"))
    def unknown_last_hour(self, root: ReportRow) -> float:
        return rounded(root.unknown_last_hour)

    @strawberry_django.field(**_deprecated_unit("unknown", "day"))
    def unknown_last_day(self, root: ReportRow) -> float:
        return rounded(root.unknown_last_day)

    @strawberry_django.field(**_deprecated_unit("unknown", "week"))
    def unknown_last_week(self, root: ReportRow) -> float:
        return rounded(root.unknown_last_week)

    incidents_last_hour: int = strawberry_django.field(
        field_cls=ObjectField, description="Outage incidents in the last hour (a count).",
        deprecation_reason="Use `hour { incidents }`.",
    )
    incidents_last_day: int = strawberry_django.field(
        field_cls=ObjectField, description="Outage incidents in the last day (a count).",
        deprecation_reason="Use `day { incidents }`.",
    )
    incidents_last_week: int = strawberry_django.field(
        field_cls=ObjectField, description="Outage incidents in the last week (a count).",
        deprecation_reason="Use `week { incidents }`.",
    )


@strawberry.type(description="What only a COMPLETE report has: every field is set (narrow on `Report.completed`).")
class CompletedReport:
    as_of: datetime = strawberry.field(description="The end of the report's windows.")
    store_count: int = strawberry.field(description="Stores in the report (a count of rows).")
    finished_at: datetime = strawberry.field(description="When it completed.")
    download_url: str = strawberry.field(description="Signed link to the CSV (docs/rules.md §5), valid until downloadUrlExpiresAt.")
    download_url_expires_at: datetime = strawberry.field(description="When downloadUrl stops opening (410 after).")


def _download(root: Report, info: Info) -> tuple[str, datetime]:
    """(link, expiry) of a COMPLETE report, signed once per object: the URL and its
    expiry always agree. The signature's time has whole seconds."""
    if not hasattr(root, "_download"):
        signed = datetime.now(timezone.utc).replace(microsecond=0)
        url = info.context.request.build_absolute_uri(report_download_path(report_id=root.id))
        root._download = (url, signed + timedelta(seconds=settings.REPORT_LINK_MAX_AGE))
    return root._download


_COMPLETE = Report.Status.COMPLETE

# `Report.storeIds` is a page of the stored list (sorted by id, docs/rules.md §1 ids in code-point
# order), never the whole of it: a report may name every store of a large fleet. A page
# of reports reads at most the first `page_cap()` ids of each from PostgreSQL (the
# optimizer's annotation); a page after a cursor reads that page only.


def _store_ids_head(info: Info) -> Func:
    return Func(
        F("store_ids"), template=f"(%(expressions)s)[1:{page_cap()}]", output_field=ArrayField(TextField())
    )


_STORE_IDS_TOTAL = Func(F("store_ids"), function="cardinality", output_field=IntegerField())

_STORE_IDS_AFTER_SQL = f"""
SELECT ARRAY(
    SELECT s FROM unnest(store_ids) WITH ORDINALITY AS u(s, i)
    WHERE s COLLATE "C" > %s ORDER BY i LIMIT %s
), store_ids IS NULL
FROM {Report._meta.db_table} WHERE id = %s
"""


def store_ids_page(root: Report, *, first: int, after: str | None) -> list[str] | None:
    """At most `first` of the report's store ids (sorted) after `after`; None: all stores.
    From the ids already loaded, the optimizer's head, or one bounded query."""
    if "store_ids" in root.__dict__:
        ids = root.store_ids
        if ids is None:
            return None
        start = 0 if after is None else bisect_right(ids, after)  # Python's order: code points
        return ids[start : start + first]
    if after is None and hasattr(root, "store_ids_head"):
        return None if root.store_ids_head is None else root.store_ids_head[:first]
    # A cursor: UTF-8 bytes ("C" collation) compare as code points do.
    with connection.cursor() as cursor:
        cursor.execute(_STORE_IDS_AFTER_SQL, [after or "", first, root.pk])
        page, all_stores = cursor.fetchone()
    return None if all_stores else page


@strawberry_django.type(Report, name="Report", description="A report (docs/rules.md §5) and where it is in its lifecycle.")
class ReportType:
    id: strawberry.ID = strawberry_django.field(description="The report's id (a UUID).")
    horizon_minutes: int = strawberry_django.field(description="H, in minutes (docs/rules.md §4).")
    created_at: datetime = strawberry_django.field(description="When it was asked for.")
    started_at: datetime | None = strawberry_django.field(description="When it started running; null while PENDING.")
    finished_at: datetime | None = strawberry_django.field(description="When it completed or failed.")

    @strawberry_django.field(description="Why it FAILED; null otherwise.", only=["error"])
    def error(self) -> str | None:
        return self.error or None  # the column holds "" when there is no error

    requested_as_of: datetime | None = strawberry_django.field(
        description="The asOf asked for; null: the latest poll when it runs."
    )
    as_of: datetime | None = strawberry_django.field(
        description="The report's time (resolved when it runs); also in `completed`."
    )
    store_count: int | None = strawberry_django.field(
        description="Stores in the report (a count); set once COMPLETE, also in `completed`."
    )
    range_start: datetime | None = strawberry_django.field(
        name="from", description="A range report's start (included); null for the weekly report."
    )

    @strawberry_django.field(
        only=["range_start", "as_of", "requested_as_of"],
        description="A range report's end (excluded): the `to` asked for, else its asOf once it runs; null for the weekly report.",
    )
    def to(self, root: Report) -> datetime | None:
        return (root.as_of or root.requested_as_of) if root.range_start is not None else None
    rows: Page[ReportRowType] = offset_paginated(description="One row per store, ordered by store id.")

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        return queryset & reports_visible(access=permitted_access(info, "report.read"))

    @strawberry_django.field(
        only=["id"],
        annotate={"store_ids_head": _store_ids_head},
        description=(
            "The stores asked for, by id, a page at a time: at most `first` (default 100, at most 500) after the id"
            " `after`; null = all stores. `storeIdsTotal` counts them all."
        ),
    )
    def store_ids(
        self,
        root: Report,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of ids: 0–500, default 100.")] = None,
        after: Annotated[
            strawberry.ID | None, strawberry.argument(description="The last id of the previous page: the ids after it.")
        ] = None,
    ) -> list[strawberry.ID] | None:
        page = store_ids_page(root, first=keyset_first(first), after=None if after is None else str(after))
        return None if page is None else [strawberry.ID(store_id) for store_id in page]

    @strawberry_django.field(
        only=["id"],
        annotate={"store_ids_count": _STORE_IDS_TOTAL},
        description="How many stores were asked for (a count; storeIds pages through them); null = all stores.",
    )
    def store_ids_total(self, root: Report) -> int | None:
        if "store_ids" in root.__dict__:
            return None if root.store_ids is None else len(root.store_ids)
        if hasattr(root, "store_ids_count"):
            return root.store_ids_count
        return Report.objects.filter(pk=root.pk).annotate(count=_STORE_IDS_TOTAL).values_list("count", flat=True).get()

    @strawberry_django.field(only=["status"], description="PENDING, RUNNING, COMPLETE or FAILED.")
    def status(self, root: Report) -> ReportStatus:
        return ReportStatus[root.status]

    @strawberry_django.field(
        only=["id", "status"], description="Signed link to the CSV, valid for a limited time; null until COMPLETE."
    )
    def download_url(self, root: Report, info: Info) -> str | None:
        return _download(root, info)[0] if root.status == _COMPLETE else None

    @strawberry_django.field(only=["id", "status"], description="When downloadUrl stops opening; null until COMPLETE.")
    def download_url_expires_at(self, root: Report, info: Info) -> datetime | None:
        return _download(root, info)[1] if root.status == _COMPLETE else None

    @strawberry_django.field(
        only=["id", "status", "as_of", "store_count", "finished_at"],
        description="Set exactly when COMPLETE, with every field non-null: a typed client narrows on it.",
    )
    def completed(self, root: Report, info: Info) -> CompletedReport | None:
        if root.status != _COMPLETE:
            return None
        url, expires = _download(root, info)
        return CompletedReport(
            as_of=root.as_of, store_count=root.store_count or 0, finished_at=root.finished_at,
            download_url=url, download_url_expires_at=expires,
        )


@strawberry.type(description="What triggerReport answers: the report queued, or why none was.")
class TriggerReportPayload:
    report: ReportType | None = strawberry.field(description="The report queued; null when refused.")
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when queued.")

    @strawberry.field(description="The report's id (docs/rules.md §6's `triggerReport { id status }`); null when refused.")
    def id(self) -> strawberry.ID | None:
        return None if self.report is None else strawberry.ID(str(self.report.id))

    @strawberry.field(description="The report's status (PENDING when queued); null when refused.")
    def status(self) -> ReportStatus | None:
        return None if self.report is None else ReportStatus[self.report.status]


ReportEdge, ReportConnection = keyset_connection(
    name="Report", node=ReportType, item="A report", noun="report", plural="reports",
    page="reports, newest first", counted="How many reports the whole list holds",
)

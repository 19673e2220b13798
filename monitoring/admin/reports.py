"""Reports, read-only: state, timings, download link; old ones may be deleted."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from monitoring.kernel import humanize
from monitoring.web.links import report_download_path
from monitoring.models import Report, ReportRow

from monitoring.admin.common import NulSafeAdmin, count_of


# --------------------------------------------------------------------------- reports


@admin.register(Report)
class ReportAdmin(NulSafeAdmin):
    """Reports are made by the API and the worker; here they are only looked at (and old
    ones deleted)."""

    list_display = (
        "id",
        "status",
        "as_of",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "store_count",
        "row_count",
        "download",
        "short_error",
    )
    list_filter = ("status",)
    search_fields = ("id", "status")
    search_help_text = "Report id (or part of it), or status."
    ordering = ("-created_at",)
    show_full_result_count = False
    fields = (
        "id",
        "status",
        "page",
        "download",
        "requested_as_of",
        "as_of",
        "horizon_minutes",
        "owner",
        "scope",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "store_count",
        "row_count",
        "attempts",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The CSV of a big report is megabytes: never load it just to list reports.
        return (
            super()
            .get_queryset(request)
            .defer("csv")
            .select_related("owner")
            .annotate(row_count=count_of(ReportRow, "report"))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return reverse("report-page", kwargs={"report_id": obj.id})

    @admin.display(description="duration")
    def duration(self, obj: Report) -> str:
        if obj.started_at and obj.finished_at:
            return humanize.duration((obj.finished_at - obj.started_at).total_seconds())
        return "—"

    @admin.display(description="rows", ordering="row_count")
    def row_count(self, obj: Report) -> int:
        return obj.row_count

    @admin.display(description="CSV")
    def download(self, obj: Report) -> str:
        if obj.status != Report.Status.COMPLETE:
            return "—"
        return format_html('<a href="{}">download</a>', report_download_path(report_id=obj.id))

    @admin.display(description="report page")
    def page(self, obj: Report) -> str:
        url = reverse("report-page", kwargs={"report_id": obj.id})
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="stores asked for")
    def scope(self, obj: Report) -> str:
        if not obj.store_ids:
            return "all stores" + (" of the owner" if obj.owner_id else "")
        shown = ", ".join(obj.store_ids[:20])
        return shown + (f" … and {len(obj.store_ids) - 20} more" if len(obj.store_ids) > 20 else "")

    @admin.display(description="error")
    def short_error(self, obj: Report) -> str:
        return Truncator(obj.error).chars(80) if obj.error else ""

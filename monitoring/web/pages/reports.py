"""Reports from the pages: a report's page, the caller's reports, and Generate report."""

from __future__ import annotations

from datetime import datetime

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from monitoring.kernel import humanize
from monitoring.kernel.errors import InputError
from monitoring.stores.access import report_store_ids, reports_visible
from monitoring.web.links import report_download_path, store_page_url
from monitoring.models import Report
from monitoring.web.middleware import api_error
from monitoring.reports import report_create
from monitoring.throttle.limits import RateLimited, rate_limit_hit

from monitoring.web.pages.display import REPORT_PREVIEW_ROWS, UTC, utc_text
from monitoring.web.pages.common import bad_request_page, not_found_page, page_requires, render
from monitoring.web.pages.fleet import page_number_of


@require_http_methods(["GET", "HEAD"])
@page_requires("report.read")
def report_page(request: HttpRequest, report_id) -> HttpResponse:
    """GET /reports/<uuid>/: state, timings, and the signed CSV link once COMPLETE;
    refreshes itself every 2 s while PENDING or RUNNING."""
    report = reports_visible(access=request.access).defer("csv").filter(pk=report_id).first()
    if report is None:
        return not_found_page(request, f"report {report_id}")
    complete = report.status == Report.Status.COMPLETE
    in_progress = report.status in (Report.Status.PENDING, Report.Status.RUNNING)
    duration = None
    if report.started_at and report.finished_at:
        duration = (report.finished_at - report.started_at).total_seconds()
    preview = list(report.rows.order_by("store_id")[:REPORT_PREVIEW_ROWS]) if complete else []
    for row in preview:
        row.page_url = store_page_url(row.store_id)
    progress = None
    if report.status == Report.Status.RUNNING:
        progress = report.chunks.aggregate(total=Count("pk"), done=Count("pk", filter=Q(finished_at__isnull=False)))
    context = {
        "report": report,
        "complete": complete,
        "in_progress": in_progress,
        "duration": None if duration is None else humanize.duration(duration),
        "download_url": report_download_path(report_id=report.id) if complete else None,
        "created_utc": utc_text(report.created_at),
        "started_utc": utc_text(report.started_at),
        "finished_utc": utc_text(report.finished_at),
        "as_of_utc": utc_text(report.as_of),
        "requested_as_of_utc": utc_text(report.requested_as_of) if report.requested_as_of else "latest poll",
        "scope_preview": (report.store_ids or [])[:10],
        "scope_more": max(0, len(report.store_ids or []) - 10),
        "preview": preview,
        "progress": progress,
        "preview_limit": REPORT_PREVIEW_ROWS,
    }
    response = render(request, "monitoring/report.html", context)
    if in_progress:
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["POST"])
@page_requires("report.trigger")
def report_generate(request: HttpRequest) -> HttpResponse:
    """POST /reports/generate/ (the home page's button, with Django's CSRF token): a new
    report of every store the caller can see, as of their latest poll; then its page.
    Counted against the caller's report limit, as the REST and GraphQL triggers are."""
    try:
        rate_limit_hit(scope="reports", caller=request.caller)
    except RateLimited as error:
        return _rate_limited(request, error)
    access = request.access
    try:
        store_ids = report_store_ids(access=access, store_ids=None)
    except InputError as error:
        return bad_request_page(request, error.reason)
    report = report_create(owner_id=access.owner_id, group_id=access.group_id, store_ids=store_ids)
    return HttpResponseRedirect(reverse("report-page", kwargs={"report_id": report.id}))


def _rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    """429 with Retry-After: the API's JSON error (code RATE_LIMITED), or for a browser's
    form post the same message on a page."""
    if "text/html" in request.headers.get("Accept", ""):
        response = render(request, "monitoring/rate_limited.html", {"message": str(error)}, status=429)
    else:
        response = api_error(str(error), 429)
    response["Retry-After"] = str(error.retry_after)
    return response


REPORT_LIST_SIZE = 50


@require_http_methods(["GET", "HEAD"])
@page_requires("report.read")
def report_list(request: HttpRequest) -> HttpResponse:
    """GET /reports/[?page=N]: the caller's reports, newest first, with their state, age
    and download link once COMPLETE."""
    reports = reports_visible(access=request.access).defer("csv").order_by("-created_at", "-pk")
    paginator = Paginator(reports, REPORT_LIST_SIZE, allow_empty_first_page=True)
    page = paginator.get_page(page_number_of(request))
    now = datetime.now(UTC)
    rows = []
    for report in page.object_list:
        complete = report.status == Report.Status.COMPLETE
        rows.append(
            {
                "report": report,
                "age": humanize.ago(report.created_at, now=now),
                "created_utc": utc_text(report.created_at),
                "as_of_utc": utc_text(report.as_of) if report.as_of else "latest poll",
                "download_url": report_download_path(report_id=report.id) if complete else None,
                "stores": "—" if report.store_count is None else f"{report.store_count:,}",
            }
        )
    context = {
        "rows": rows,
        "total_text": humanize.count(paginator.count, "report"),
        "page_number": page.number,
        "page_count": paginator.num_pages,
        "previous_url": f"?page={page.number - 1}" if page.has_previous() else None,
        "next_url": f"?page={page.number + 1}" if page.has_next() else None,
        "in_progress": any(row["report"].status in (Report.Status.PENDING, Report.Status.RUNNING) for row in rows),
    }
    response = render(request, "monitoring/reports.html", context)
    response["Cache-Control"] = "no-store"
    return response

"""REST endpoints of the original assignment (SPEC §6) and the signed CSV download.
Thin: parsing and HTTP shapes here, the work in monitoring.reports."""

import json
import uuid
from datetime import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from monitoring.links import LinkExpired, LinkInvalid, report_id_from_token
from monitoring.access import reports_visible, stores_visible
from monitoring.models import Report
from monitoring.reports import ReportInputError, report_create


class BadRequest(Exception):
    pass


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_body(request: HttpRequest) -> dict:
    """The request's parameters: a JSON object body, or form fields. `curl -d '{…}'`
    sends JSON labelled as a form, so a form body that looks like JSON is read as JSON."""
    body = request.body.strip()
    if request.content_type == "multipart/form-data" or (
        request.content_type == "application/x-www-form-urlencoded" and not body.startswith(b"{")
    ):
        return request.POST.dict()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


def _optional_as_of(body: dict) -> datetime | None:
    value = body.get("as_of")
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("as_of must be an ISO 8601 string")
    try:
        return datetime.fromisoformat(value.strip().replace(" UTC", "+00:00"))
    except ValueError:
        raise BadRequest(f"as_of is not an ISO 8601 date-time: {value!r}") from None


def _trigger(request: HttpRequest, *, store_ids: list[str] | None, body: dict) -> JsonResponse:
    horizon = body.get("horizon_minutes")
    if horizon is not None and (not isinstance(horizon, int) or isinstance(horizon, bool)):
        raise BadRequest("horizon_minutes must be an integer")
    try:
        report = report_create(
            store_ids=store_ids,
            as_of=_optional_as_of(body),
            horizon_minutes=horizon,
            owner_id=request.access.owner_id,
        )
    except ReportInputError as error:
        raise BadRequest(str(error)) from None
    return JsonResponse({"report_id": str(report.id)})


def _api(view):
    """JSON errors for bad requests instead of HTML pages or stack traces."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadRequest as error:
            return _error(str(error), 400)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


@_api
@require_http_methods(["POST"])
def trigger_report(request: HttpRequest) -> JsonResponse:
    """POST /trigger_report/ [{"store_ids": [...], "as_of": "...", "horizon_minutes": N}] → {"report_id"}."""
    body = _json_body(request)
    store_ids = body.get("store_ids")
    if store_ids is not None and (
        not isinstance(store_ids, list) or not all(isinstance(item, str) for item in store_ids)
    ):
        raise BadRequest("store_ids must be a list of strings")
    return _trigger(request, store_ids=store_ids, body=body)


@_api
@require_http_methods(["GET", "POST"])
def store_trigger_report(request: HttpRequest, store_id: str) -> JsonResponse:
    """GET|POST /store/<store_id>/trigger_report/: a report for that one store."""
    if not stores_visible(access=request.access).filter(store_id=store_id).exists():
        return _error(f"store not found: {store_id}", 404)
    body = _json_body(request) if request.method == "POST" else {}
    return _trigger(request, store_ids=[store_id], body=body)


@_api
@require_http_methods(["GET", "POST"])
def get_report(request: HttpRequest) -> HttpResponse:
    """GET /get_report/?report_id=… or POST {"report_id": …}: {"status": "Running"} until
    done, then the CSV (status Complete)."""
    if request.method == "GET":
        report_id = request.GET.get("report_id")
    else:
        report_id = _json_body(request).get("report_id")
    if not report_id or not isinstance(report_id, str):
        raise BadRequest("report_id is required")
    try:
        report = reports_visible(access=request.access).filter(pk=uuid.UUID(report_id)).first()
    except ValueError:
        report = None
    if report is None:
        return _error(f"report not found: {report_id}", 404)
    if report.status == Report.Status.FAILED:
        return JsonResponse({"status": "Failed", "error": report.error})
    if report.status != Report.Status.COMPLETE:
        return JsonResponse({"status": "Running"})
    return csv_response(report)


def csv_response(report: Report) -> HttpResponse:
    response = HttpResponse(report.csv, content_type="text/csv; charset=utf-8")
    stamp = report.as_of.strftime("%Y%m%dT%H%M%SZ") if report.as_of else "report"
    response["Content-Disposition"] = f'attachment; filename="store-uptime-{stamp}-{str(report.id)[:8]}.csv"'
    response["X-Report-Status"] = "Complete"
    return response


@require_http_methods(["GET"])
def download_report(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link: opens its own report only, and only until it expires."""
    try:
        report_id = report_id_from_token(token=token)
    except LinkExpired:
        return _error("this download link has expired; ask for a new one", 410)
    except LinkInvalid:
        return _error("this download link is not valid", 403)
    report = Report.objects.filter(pk=report_id, status=Report.Status.COMPLETE).first()
    if report is None:
        return _error("report not found", 404)
    return csv_response(report)

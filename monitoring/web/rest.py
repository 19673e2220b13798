"""REST endpoints in their compatible shapes (docs/rules.md §6) and the signed CSV download.
Thin: parsing and HTTP shapes here, the work in monitoring.reports."""

import json
import sys
import uuid
from datetime import datetime
from functools import wraps

from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from monitoring.history import HistoryInputError
from monitoring.kernel.errors import Forbidden, InputError
from monitoring.stores.access import report_store_ids, reports_visible, require, stores_visible
from monitoring.kernel import values
from monitoring.kernel.values import InvalidValue
from monitoring.web.links import LinkExpired, LinkInvalid, report_id_from_token
from monitoring.web.middleware import API_PREFIXES, api_error
from monitoring.models import Report
from monitoring.reports import ReportInputError, report_create
from monitoring.reports.files import csv_file_blocks, csv_file_bytes, csv_file_size
from monitoring.throttle.limits import RateLimited, rate_limit_hit

class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str, status: int) -> JsonResponse:
    return api_error(message, status)


def _form_fields(request: HttpRequest) -> dict:
    try:
        return request.POST.dict()
    except RequestDataTooBig:
        raise BadRequest("the request body is too large", 413) from None
    except (MultiPartParserError, SuspiciousOperation, DjangoBadRequest, UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"the form body cannot be read: {error}") from None


def _json_body(request: HttpRequest) -> dict:
    """The request's parameters: a JSON object body, or form fields. `curl -d '{…}'`
    sends JSON labelled as a form, so a form body that looks like JSON is read as JSON."""
    if request.content_type == "multipart/form-data":
        return _form_fields(request)
    try:
        body = request.body.strip()
    except RequestDataTooBig:
        raise BadRequest("the request body is too large", 413) from None
    if request.content_type == "application/x-www-form-urlencoded" and not body.startswith(b"{"):
        return _form_fields(request)
    if not body:
        return {}
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8") from None
    except RecursionError:
        raise BadRequest("the request body is not valid JSON: nested too deeply") from None
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


def _optional_instant(body: dict, field: str) -> datetime | None:
    """`as_of`, `from` or `to`: an instant with its offset, years 2000–2100; null or absent: None."""
    value = body.get(field)
    if value is None:
        return None
    return values.as_of(value, field=field)


def _store_ids(body: dict) -> list[str] | None:
    """`store_ids`: null, or a list of store ids, each exactly as given (docs/rules.md §7)."""
    items = body.get("store_ids")
    if items is None:
        return None
    if not isinstance(items, list):
        raise BadRequest("store_ids must be a list of store ids")
    store_ids = []
    for index, item in enumerate(items):
        try:
            store_ids.append(values.store_id(item, field="store_id"))
        except InvalidValue as error:
            raise InvalidValue(f"store_ids[{index}]", error.reason) from None
    return store_ids


def _horizon_minutes(body: dict) -> int | None:
    horizon = body.get("horizon_minutes")
    if horizon is not None and (not isinstance(horizon, int) or isinstance(horizon, bool)):
        raise BadRequest("horizon_minutes must be an integer")
    return horizon


def _report_id(value: object) -> uuid.UUID:
    if value is None or value == "":
        raise BadRequest("report_id is required")
    if not isinstance(value, str):
        raise BadRequest("report_id must be a string (the report_id answered by trigger_report)")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"report_id is not a report id (a UUID): {values.shown(value)}") from None


def _trigger(request: HttpRequest, *, store_ids: list[str] | None, body: dict) -> JsonResponse:
    """The weekly report (`as_of`), or with `from` the range report over [from, to)
    (docs/rules.md §11; `to` defaults to the latest poll when it runs), as GraphQL's
    triggerReport(from:, to:)."""
    as_of, start, end = (_optional_instant(body, field) for field in ("as_of", "from", "to"))
    if start is None and end is not None:
        raise BadRequest("from: missing: a range report covers [from, to), and to needs its from")
    if start is not None and as_of is not None:
        raise BadRequest("as_of: is the weekly report's end; a range report ends at to")
    try:
        report = report_create(
            store_ids=report_store_ids(access=request.access, store_ids=store_ids),
            as_of=as_of if start is None else end,
            horizon_minutes=_horizon_minutes(body),
            owner_id=request.access.owner_id,
            group_id=request.access.group_id,
            range_start=start,
        )
    except Forbidden:
        raise
    except (ReportInputError, HistoryInputError, InputError) as error:
        raise BadRequest(str(error)) from None
    return JsonResponse({"report_id": str(report.id)})


def _without_body(response: HttpResponse) -> HttpResponse:
    """The answer to HEAD: the GET's status and headers, no body. A streamed CSV's
    generator is dropped unstarted: its file is never opened. (Not response.close(): that
    sends request_finished, which closes the request's database connections.)
    Content-Length stays what the GET would send."""
    if isinstance(response, StreamingHttpResponse):
        head = HttpResponse(status=response.status_code)
        for name, value in response.items():
            head[name] = value
        return head
    response["Content-Length"] = str(len(response.content))
    response.content = b""
    return response


def _api(*methods: str):
    """A JSON endpoint accepting `methods`: every refusal is a JSON error (400 for a
    value refused by the grammar, naming the field), never an HTML page or a 500."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                response = _error(f"method {request.method} not allowed (use {' or '.join(methods)})", 405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                response = view(request, *args, **kwargs)
            except BadRequest as error:
                return _error(str(error), error.status)
            except InvalidValue as error:
                return _error(str(error), 400)
            except Forbidden as error:
                return _error(str(error), 403)
            except RateLimited as error:
                response = _error(str(error), 429)
                response["Retry-After"] = str(error.retry_after)
            return _without_body(response) if request.method == "HEAD" else response

        # Django's CSRF check would refuse every curl call; ApiAccessMiddleware makes it
        # (and same-origin checks) for requests authenticated by a session cookie.
        return csrf_exempt(wrapped)

    return decorate


@_api("POST")
def trigger_report(request: HttpRequest) -> JsonResponse:
    """POST /trigger_report/ [{"store_ids": [...], "as_of": "...", "horizon_minutes": N}] → {"report_id"};
    with {"from": "...", "to": "..."} instead of as_of, a range report (docs/rules.md §11)."""
    rate_limit_hit(scope="reports", caller=request.caller)
    require(request.access, "report.trigger")
    body = _json_body(request)
    return _trigger(request, store_ids=_store_ids(body), body=body)


@_api("GET", "POST")
def store_trigger_report(request: HttpRequest, store_id: str) -> JsonResponse:
    """GET|POST /store/<store_id>/trigger_report/: a report for that one store."""
    rate_limit_hit(scope="reports", caller=request.caller)
    require(request.access, "report.trigger")
    store_id = values.store_id(store_id, field="store_id")  # exactly as given, or 400
    if not stores_visible(access=request.access).filter(store_id=store_id).exists():
        return _error(f"store not found: {store_id}", 404)
    body = _json_body(request) if request.method == "POST" else {}
    return _trigger(request, store_ids=[store_id], body=body)


@_api("GET", "HEAD", "POST")
def get_report(request: HttpRequest) -> HttpResponse:
    """GET /get_report/?report_id=… or POST {"report_id": …}: {"status": "Running"} until
    done, then the CSV (status Complete). HEAD: the GET's answer without its body."""
    if request.method in ("GET", "HEAD"):
        report_id = _report_id(request.GET.get("report_id"))
    else:
        report_id = _report_id(_json_body(request).get("report_id"))
    require(request.access, "report.read")
    report = reports_visible(access=request.access).filter(pk=report_id).first()
    if report is None:
        return _error(f"report not found: {report_id}", 404)
    if report.status == Report.Status.FAILED:
        return JsonResponse({"status": "Failed", "error": report.error})
    if report.status != Report.Status.COMPLETE:
        return JsonResponse({"status": "Running"})
    return csv_response(report)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception, *args, **kwargs) -> HttpResponse:
    """handler400: JSON on API paths (e.g. a body above DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    if _is_api(request):
        return _error("bad request", 400)
    return defaults.bad_request(request, exception, *args, **kwargs)


def page_not_found(request: HttpRequest, exception: Exception, *args, **kwargs) -> HttpResponse:
    """handler404: JSON on API paths."""
    if _is_api(request):
        return _error(f"not found: {request.path_info}", 404)
    return defaults.page_not_found(request, exception, *args, **kwargs)


def server_error(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """handler500: on API paths the API's JSON error (code INTERNAL), never an HTML page
    or a traceback (Django has logged it); a dropped database connection is 503, worth
    retrying."""
    if _is_api(request):
        error = sys.exc_info()[1]
        if isinstance(error, (OperationalError, InterfaceError)):
            response = api_error("the database is not reachable right now; retry shortly", 503)
            response["Retry-After"] = "1"
            return response
        return api_error("unexpected server error (it is logged)", 500)
    return defaults.server_error(request, *args, **kwargs)


def csv_response(report: Report) -> HttpResponse:
    """The finished CSV: streamed from the report storage in blocks when it is big (the
    web process's memory does not grow with the file), in one piece when small; from
    the old text column for a report finished before CSVs moved to the storage."""
    content_type = "text/csv; charset=utf-8"
    name = report.csv_file.name
    if not name:
        response = HttpResponse(report.csv, content_type=content_type)
    else:
        size = csv_file_size(name=name)
        if size > settings.REPORT_DOWNLOAD_STREAM_ABOVE:
            response = StreamingHttpResponse(csv_file_blocks(name=name), content_type=content_type)
            response["Content-Length"] = str(size)
        else:
            response = HttpResponse(csv_file_bytes(name=name), content_type=content_type)
    stamp = report.as_of.strftime("%Y%m%dT%H%M%SZ") if report.as_of else "report"
    response["Content-Disposition"] = f'attachment; filename="store-uptime-{stamp}-{str(report.id)[:8]}.csv"'
    response["X-Report-Status"] = "Complete"
    return response


@_api("GET", "HEAD")
def download_report(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link: opens its own report only, and only until it expires (HEAD:
    the same answer without its body, e.g. a download manager's size check)."""
    try:
        report_id = report_id_from_token(token=token)
    except LinkExpired:
        return _error("this download link has expired; ask for a new one", 410)
    except LinkInvalid:
        return _error("this download link is not valid", 403)
    report = Report.objects.filter(pk=report_id).first()
    if report is None:  # the link verified, so it was a real report: pruned (REPORT_RETENTION_DAYS)
        return _error("this report has been deleted", 410)
    if report.status != Report.Status.COMPLETE:
        return _error("report not found", 404)
    return csv_response(report)

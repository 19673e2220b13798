from urllib.parse import unquote_to_bytes

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from monitoring.stores.access import AuthenticationFailed, cross_site_problem, request_credentials

# The paths of config/urls.py, by what they answer, written once.
GRAPHQL_PREFIX = "/graphql/"
DOWNLOAD_PREFIX = "/reports/download/"
#: Paths whose every answer, errors included, is JSON (the download link answers the
#: CSV or a JSON error).
API_PREFIXES = (GRAPHQL_PREFIX, "/trigger_report/", "/get_report/", "/store/", DOWNLOAD_PREFIX)
#: Server-rendered pages (and the home page, "/").
PAGE_PREFIXES = ("/stores/", "/reports/", "/organization/")
# Everything that shows store data needs an Access; the signed download link is its own
# credential, and the admin has Django's session login.
PROTECTED_PREFIXES = tuple(prefix for prefix in API_PREFIXES if prefix != DOWNLOAD_PREFIX) + PAGE_PREFIXES
OPEN_PREFIXES = (DOWNLOAD_PREFIX,)


#: The code an HTTP refusal carries in the API's error body (a body that cannot be read:
#: INVALID_ARGUMENT), as every GraphQL error carries one (docs/api.md).
HTTP_ERROR_CODES = {
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    410: "NOT_FOUND",
    429: "RATE_LIMITED",
    500: "INTERNAL",
    503: "INTERNAL",
}


def api_error(message: str, status: int) -> JsonResponse:
    """The API's error body: `error` (as on the REST endpoints) and GraphQL's `errors`,
    with a code as every GraphQL error has."""
    code = HTTP_ERROR_CODES.get(status, "INVALID_ARGUMENT")
    return JsonResponse({"error": message, "errors": [{"message": message, "extensions": {"code": code}}]}, status=status)


def _wants_html(request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


_SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def changes_state(request) -> bool:
    """Every request but a safe method's, and GET /store/<id>/trigger_report/ (it queues
    a report). A POST to /graphql/ counts, query or mutation (telling them apart would
    mean parsing the body here; our pages' GraphiQL sends same-origin requests anyway)."""
    if request.method not in _SAFE_METHODS:
        return True
    path = request.path_info
    return request.method == "GET" and path.startswith("/store/") and path.endswith("/trigger_report/")


class ApiAccessMiddleware:
    """Sets request.access and request.caller (who is counted for rate limits) for
    protected paths, or answers 401 with a JSON error. A state-changing request
    authenticated by a session cookie (sign-in or admin) must come from our own pages
    (CSRF token or same origin, docs/rules.md §8), or it is refused: 403 with a JSON error. Bearer
    tokens and anonymous calls carry no cookie a foreign page could ride: unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (path == "/" or path.startswith(PROTECTED_PREFIXES)) and not path.startswith(OPEN_PREFIXES):
            if path == GRAPHQL_PREFIX and request.method == "GET" and "query" not in request.GET and _wants_html(request):
                return self.get_response(request)  # the GraphiQL page itself: it sends the token per request
            try:
                credentials = request_credentials(request)
            except AuthenticationFailed as error:
                if (path == "/" or path.startswith(PAGE_PREFIXES)) and _wants_html(request):
                    return HttpResponseRedirect(f"{reverse('sign-in')}?{urlencode({'next': request.get_full_path()})}")
                response = api_error(str(error), 401)
                response["WWW-Authenticate"] = 'Bearer realm="store-uptime"'
                return response
            if credentials.by_cookie and changes_state(request):
                problem = cross_site_problem(request)
                if problem is not None:
                    return api_error(
                        f"refused: {problem}. A request made with a browser session must come "
                        "from this site's pages (same origin, or Django's CSRF token in X-CSRFToken); "
                        "programs send 'Authorization: Bearer <token>' instead.",
                        403,
                    )
            request.access = credentials.access
            request.caller = credentials.caller
        return self.get_response(request)


def _bytes_problem(data: bytes, what: str) -> str | None:
    if b"\x00" in data:
        return f"the {what} holds a NUL character"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return f"the {what} is not valid UTF-8"
    return None


def _path_problem(path: str) -> str | None:
    """The path as the server decoded it. Django re-percent-encodes bytes that are not
    UTF-8 (`%FF`), so those are decoded once more to be seen."""
    if "\x00" in path:
        return "the path holds a NUL character"
    try:
        data = path.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (ASGI servers' surrogateescape)
        return "the path is not valid UTF-8"
    if b"%" in data:
        try:
            unquote_to_bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return "the path is not valid UTF-8"
    return None


def _query_problem(query_string: str) -> str | None:
    """The raw query string (WSGI: its bytes as latin-1), percent-decoded."""
    if not query_string:
        return None
    try:
        data = query_string.encode("iso-8859-1")
    except UnicodeEncodeError:
        data = query_string.encode("utf-8", "surrogatepass")
    return _bytes_problem(unquote_to_bytes(data.replace(b"+", b" ")), "query string")


class MalformedRequestMiddleware:
    """Refuses, before anything reads them, a path or query string holding NUL or not
    valid UTF-8 (docs/rules.md §7: no input makes the server answer 500; PostgreSQL refuses NUL
    in text): 400 with a JSON error on API paths, a short plain-text page elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _path_problem(request.path_info) or _query_problem(request.META.get("QUERY_STRING", ""))
        if problem is None:
            try:
                request.GET  # parsed here, so that a malformed one is refused here
            except SuspiciousOperation as error:  # e.g. too many fields
                problem = str(error) or "the query string is malformed"
        if problem is None:
            return self.get_response(request)
        if request.path_info.startswith(API_PREFIXES):
            return api_error(problem, 400)
        return HttpResponseBadRequest(f"Bad request: {problem}.", content_type="text/plain; charset=utf-8")


#: Every HTML page's policy: our own scripts, styles and images only (the pages have no
#: script; their styles are static files), no plugins, no framing, forms post only here.
#: Style attributes stay allowed (`style-src-attr`): the pages size their bars with
#: them; an attribute cannot load anything (img-src, default-src) nor run script.
PAGE_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """Sets PAGE_CONTENT_SECURITY_POLICY on every HTML response that has no policy of
    its own (GraphiQL sets a stricter one, graphql_schema.views), with the headers
    Django's SecurityMiddleware sets made sure of here too (nosniff, Referrer-Policy):
    a page's protection does not depend on a setting left on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", PAGE_CONTENT_SECURITY_POLICY)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

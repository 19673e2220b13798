"""The GraphQL endpoint's HTTP layer: a request strawberry cannot read (a body that is
not UTF-8, not JSON, nested too deeply, not an object; a field of the wrong kind) is
answered 400 with a JSON error before strawberry parses it, never 500 (docs/rules.md §7); every
HTTP error of strawberry's own (405, unsupported content type) is JSON too. A response
longer than `GRAPHQL_MAX_RESPONSE_BYTES` is not sent: an error stating the limit is
(docs/rules.md §8; HTTP 200, as every GraphQL refusal of a query)."""

import json
import logging
from typing import Any

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from strawberry.django.views import GraphQLView

from monitoring.web.middleware import api_error

logger = logging.getLogger(__name__)


#: The error code of an HTTP refusal of the endpoint's own (graphql_schema.common.errors.ErrorCode).
#: A response above GRAPHQL_MAX_RESPONSE_BYTES is refused as a query priced too high is:
#: the client asked for too much (`reason` tells the two apart).
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


def response_too_large(size: int, limit: int) -> dict:
    """The body sent instead of a response of `size` bytes, above `limit`."""
    message = (
        f"the response would be {size:,} bytes, above the limit of {limit:,}; "
        "ask for smaller pages (pagination: {limit: N}) or fewer fields"
    )
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": "TOO_COSTLY", "reason": RESPONSE_TOO_LARGE, "bytes": size, "limit": limit}}],
    }


def json_loads(text: str | bytes, *, what: str) -> Any:
    """json.loads, refusing with HTTPException(400) whatever it cannot read."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, f"{what} is not valid UTF-8") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise HTTPException(400, f"{what} is nested too deeply") from None
    except ValueError:
        raise HTTPException(400, f"{what} is not valid JSON") from None


# The members of a GraphQL-over-HTTP request object and the JSON types they may have.
_MEMBER_TYPES = {
    "query": (str, type(None)),
    "variables": (dict, type(None)),
    "operationName": (str, type(None)),
    "extensions": (dict, type(None)),
}
_MEMBER_KINDS = {"query": "a string", "variables": "an object", "operationName": "a string", "extensions": "an object"}


def checked_operation(data: Any, *, what: str) -> dict:
    """A GraphQL request object ({"query", "variables", "operationName", "extensions"}),
    or HTTPException(400) naming what is wrong."""
    if not isinstance(data, dict):
        raise HTTPException(400, f'{what} must be a JSON object such as {{"query": "{{ __typename }}"}}')
    for member, types in _MEMBER_TYPES.items():
        if not isinstance(data.get(member), types):
            raise HTTPException(400, f"{member} must be {_MEMBER_KINDS[member]} or null")
    return data


# The GraphiQL page (graphql/graphiql.html) loads only our own static files: no inline
# script, nothing from another origin. Styles may be inline (GraphiQL's dialogs add
# <style> elements); fonts and the icon are data: URLs; queries go to this server.
GRAPHIQL_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def is_json_request(request: HttpRequest) -> bool:
    return request.method == "POST" and "application/json" in (request.content_type or "")


class JSONGraphQLView(GraphQLView):
    """strawberry's view, with the request body checked first and JSON errors."""

    _body: tuple[str, dict] | None = None  # (text, parsed) of a checked JSON body

    def dispatch(self, request, *args, **kwargs):
        try:
            self.request_check(request)
            return self.run(request=request)
        except HTTPException as error:
            return api_error(str(error.reason), error.status_code)

    def request_check(self, request: HttpRequest) -> dict | None:
        """The operation of a POSTed JSON body, checked (kept for strawberry, which then
        does not parse it again); None for other requests."""
        if not is_json_request(request):
            return None
        if self._body is None:
            try:
                raw = request.body
            except RequestDataTooBig:
                raise HTTPException(413, "the request body is too large") from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPException(400, "the request body is not valid UTF-8") from None
            self._body = (text, checked_operation(json_loads(text, what="the request body"), what="the request body"))
        return self._body[1]

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        """GraphiQL from this server's static files, under a strict CSP."""
        context = {"csrf_cookie_name": settings.CSRF_COOKIE_NAME}
        response = HttpResponse(render_to_string("graphql/graphiql.html", context, request=request))
        response["Content-Security-Policy"] = GRAPHIQL_CONTENT_SECURITY_POLICY
        return response

    def encode_json(self, data: object) -> str | bytes:
        encoded = super().encode_json(data)
        limit = settings.GRAPHQL_MAX_RESPONSE_BYTES
        # json.dumps escapes everything outside ASCII: as many bytes as characters.
        if limit > 0 and len(encoded) > limit:
            logger.warning("GraphQL response of %d bytes not sent (GRAPHQL_MAX_RESPONSE_BYTES %d)", len(encoded), limit)
            return super().encode_json(response_too_large(len(encoded), limit))
        return encoded

    def decode_json(self, data: str | bytes) -> object:
        if self._body is not None and isinstance(data, str) and data == self._body[0]:
            return self._body[1]
        return json_loads(data, what="the variables or extensions parameter")

"""Cheap reads and cheap polling of the GraphQL endpoint.

The read cache: the response to a query that reads only store data (root fields `stores`,
`store` and introspection) is kept per data version (monitoring.stores.data_version) and
per caller's access, so the same read asked again, by any web process, costs two small
SQL statements (the version, the entry) until stores, hours or polls change. Never
stale: a response is cached only under a version whose writes were all committed before
it was computed; a write moves the version, so older entries are no longer reached (they
expire, or are evicted first). Mutations, reports and anything else always run. The
cache is `caches["api"]` (graphql_schema.limits.shared_cache: PostgreSQL, or Redis),
bounded in bytes.

ETags: every answer to a query sent with GET carries an ETag, a digest of the caller's
access, the query, its variables and operation name, and the answer itself. Sent back in
If-None-Match, it is answered 304 with no body while the answer is the same: from the
cache without running the query while the data version holds, by running it otherwise.
The ETag follows what the caller can read and nothing else: another owner's write moves
the data version, never this caller's ETag (docs/decisions.md, "Polling"). Answers to POST
carry none (a POST is not a conditional request)."""

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from cross_web import HTTPException
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from graphql_schema.views import JSONGraphQLView
from monitoring.stores.data_version import data_version_read
from monitoring.web.middleware import api_error

CACHEABLE_ROOT_FIELDS = frozenset({"stores", "store", "__typename", "__schema", "__type"})

#: The response header saying whether a store-data read came from the read cache:
#: "hit" or "miss" (absent: not a read the cache keeps, or the cache is off).
CACHE_HEADER = "X-Read-Cache"
#: Answers to GET queries may be kept by the caller's browser, never by a shared cache,
#: and are checked with their ETag before each use.
GET_CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True)
class _Operation:
    material: bytes  # who asks what: the access, the query, its variables and operation name
    reads_only_store_data: bool


@lru_cache(maxsize=512)
def _kind(query: str, operation_name: str | None) -> tuple[bool, bool]:
    """(a query, reading only store data) of the operation `operation_name` of `query`."""
    try:
        document = parse(query)
    except GraphQLError:
        return False, False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False, False
    selections = operations[0].selection_set.selections
    return True, all(isinstance(s, FieldNode) and s.name.value in CACHEABLE_ROOT_FIELDS for s in selections)


def _request_body(request, posted: dict | None) -> dict | None:
    """The operation asked for: the checked JSON body (`posted`) or the query string."""
    if request.method == "GET":
        if "query" not in request.GET:
            return None
        variables = request.GET.get("variables")
        try:
            variables = json.loads(variables) if variables else None
        except (ValueError, RecursionError):
            return None
        return {"query": request.GET["query"], "variables": variables, "operationName": request.GET.get("operationName")}
    return posted


def _operation(request, posted: dict | None) -> _Operation | None:
    body = _request_body(request, posted)
    if body is None or not isinstance(body.get("query"), str):
        return None
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    is_query, store_data = _kind(body["query"], operation_name)
    if not is_query:
        return None
    access = request.access
    try:
        material = json.dumps(
            [
                # Everything of the access that changes an answer: whose stores, and what it may do.
                access.owner_id, access.all_stores, access.group_id, access.role, sorted(access.scopes),
                body["query"], body.get("variables"), operation_name,
            ],
            sort_keys=True,
            default=str,
        )
    except (ValueError, RecursionError):  # variables nested too deeply to key: neither cached nor tagged
        return None
    return _Operation(material=material.encode(), reads_only_store_data=store_data)


def _etag(operation: _Operation, content: bytes) -> bytes:
    digest = hashlib.blake2b(operation.material, digest_size=16)
    digest.update(b"\0")
    digest.update(content)
    return b'"' + digest.hexdigest().encode() + b'"'


def _not_modified(request, etag: bytes) -> bool:
    """If-None-Match names `etag` (weak comparison, as for every GET) or is `*`."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = {tag.removeprefix("W/") for tag in parse_etags(header)}
    return "*" in tags or etag.decode() in tags


class CachedGraphQLView(JSONGraphQLView):
    def dispatch(self, request, *args, **kwargs):
        try:
            posted = self.request_check(request)
        except HTTPException as error:
            return api_error(str(error.reason), error.status_code)
        operation = _operation(request, posted)
        if operation is None:
            return super().dispatch(request, *args, **kwargs)
        key, keep = None, False
        if operation.reads_only_store_data and settings.API_READ_CACHE_SECONDS > 0:
            version = data_version_read()
            # The database's name and origin too: a cache outside it (Redis) may serve
            # several databases, or outlive one that is recreated.
            scope = f"{connection.settings_dict['NAME']}\0{version.origin}\0{version.number}\0".encode()
            key = "graphql:" + hashlib.sha256(scope + operation.material).hexdigest()
            keep = version.settled
            entry = caches["api"].get(key)
            if entry is not None:
                etag, _, content = entry.partition(b"\n")
                return self._answer(request, HttpResponse(content, content_type="application/json"), etag, "hit")
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("application/json"):
            return response
        etag = _etag(operation, response.content)
        if key is not None and keep:
            caches["api"].set(key, etag + b"\n" + response.content, settings.API_READ_CACHE_SECONDS)
        return self._answer(request, response, etag, None if key is None else "miss")

    @staticmethod
    def _answer(request, response: HttpResponse, etag: bytes, cache_state: str | None) -> HttpResponse:
        """`response`, or 304 when the caller has it already (GET only); with the cache's
        state and, for GET, the ETag and its caching rules."""
        if request.method == "GET":
            if _not_modified(request, etag):
                response = HttpResponseNotModified()
            response["ETag"] = etag.decode()
            response["Cache-Control"] = GET_CACHE_CONTROL
            patch_vary_headers(response, ("Authorization", "Cookie"))
        if cache_state is not None:
            response[CACHE_HEADER] = cache_state
        return response

"""Cached GraphQL reads: the response to a query that reads only store data (root
fields `stores`, `store` and introspection) is kept per data version
(monitoring.stores.data_version) and per caller's access, so the same page asked again
costs one small SQL statement until stores, hours or polls change. Never stale: a
response is cached only under a version whose writes were all committed before it was
computed. Mutations, reports and anything else always run. The cache ("api" in
settings.CACHES, graphql_schema.limits.byte_cache) is bounded in bytes per process
(API_READ_CACHE_BYTES) and keeps no response above API_READ_CACHE_MAX_ENTRY_BYTES."""

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from cross_web import HTTPException
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from graphql_schema.views import JSONGraphQLView
from monitoring.web.middleware import api_error
from monitoring.stores.data_version import data_version_read

CACHEABLE_ROOT_FIELDS = frozenset({"stores", "store", "__typename", "__schema", "__type"})


@dataclass(frozen=True)
class _Plan:
    key: str
    store: bool  # the version is settled: a computed response may be cached


@lru_cache(maxsize=512)
def _reads_only_store_data(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False
    selections = operations[0].selection_set.selections
    return all(isinstance(s, FieldNode) and s.name.value in CACHEABLE_ROOT_FIELDS for s in selections)


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


def _plan(request, posted: dict | None) -> _Plan | None:
    body = _request_body(request, posted)
    if body is None or not isinstance(body.get("query"), str):
        return None
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return None
    if not _reads_only_store_data(body["query"], operation_name):
        return None
    version = data_version_read()
    access = request.access
    try:
        material = json.dumps(
            [version.number, access.owner_id, access.all_stores, body["query"], body.get("variables"), operation_name],
            sort_keys=True,
            default=str,
        )
    except (ValueError, RecursionError):  # variables nested too deeply to key: not cached
        return None
    return _Plan(key="graphql:" + hashlib.sha256(material.encode()).hexdigest(), store=version.settled)


class CachedGraphQLView(JSONGraphQLView):
    def dispatch(self, request, *args, **kwargs):
        try:
            posted = self.request_check(request)
        except HTTPException as error:
            return api_error(str(error.reason), error.status_code)
        plan = _plan(request, posted) if settings.API_READ_CACHE_SECONDS > 0 else None
        if plan is None:
            return super().dispatch(request, *args, **kwargs)
        cache = caches["api"]
        content = cache.get(plan.key)
        if content is not None:
            return HttpResponse(content, content_type="application/json")
        response = super().dispatch(request, *args, **kwargs)
        is_json = response.get("Content-Type", "").startswith("application/json")
        if plan.store and response.status_code == 200 and is_json:
            cache.set(plan.key, response.content, settings.API_READ_CACHE_SECONDS)
        return response

"""Hostile input at every URL and every GraphQL argument (docs/rules.md §7): no input, however
malformed (NUL, CR, BOM, lone surrogates, invalid UTF-8, 10,000-character strings,
deep nesting, a scalar where an object belongs), makes the server answer 500; the API
answers JSON, and a GraphQL error caused by input is never "Unexpected error."."""

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from config import urls
from django.urls import URLPattern, URLResolver
from hypothesis import given, settings
from hypothesis import strategies as st
from monitoring.models import Report

from tests.factories import worked_example_store

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")]

API_PREFIXES = ("/graphql/", "/trigger_report/", "/get_report/", "/store/")
FUZZ = settings(max_examples=40, deadline=None)

#: Every route of config/urls.py → a path with `{}` where a fuzzed segment goes.
ROUTES = {
    "admin/": "/admin/login/",  # the admin: only its login page, with a garbage query
    "graphql/": "/graphql/",
    "trigger_report/": "/trigger_report/",
    "get_report/": "/get_report/",
    "store/get_report/": "/store/get_report/",
    "store/<path:store_id>/trigger_report/": "/store/{}/trigger_report/",
    "reports/download/<str:token>/": "/reports/download/{}/",
    "": "/",
    "sign-in/": "/sign-in/",
    "sign-out/": "/sign-out/",
    "session/role/": "/session/role/",
    "set-password/<str:uidb64>/<str:token>/": "/set-password/{}/a-token/",
    "reports/": "/reports/",
    "reports/generate/": "/reports/generate/",
    "reports/<uuid:report_id>/": "/reports/{}/",
    "stores/<path:store_id>/": "/stores/{}/",
    "organization/audit/": "/organization/audit/",
    "organization/tokens/": "/organization/tokens/",
    "organization/members/": "/organization/members/",
    "favicon.ico": "/favicon.ico",
}

HOSTILE = [
    "\x00", "a\x00b", "\r", "s1\r", "\n", "\r\n", "\t", "\ufeff", "\ufeffs1", "\u00a0", "s1\u00a0", "\u2028",
    "\u2029", "\u200b", "\u202e", "\ud800", "\udfff", "x" * 10_000, "%00", "%FF", "%", "../..", "", " ", "☃",
    "s1", "S1", " s1", "'; DROP TABLE monitoring_store;--", "{}", "[]", "null", "by-id", "\U0010ffff",
    "2023-01-25T12:00:00", "2023-01-25T12:00:00Z", "2023-01-25 12:00:00 UTC", "2023-01-25T12:00:00+14:59",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2023-02-30T00:00Z", "1999-12-31T23:59:59Z",
    "2101-01-01T00:00:00Z", "America/New_York", "america/chicago", "Mars/Base", "active", "INACTIVE",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
    st.tuples(st.sampled_from(HOSTILE), st.text(max_size=4)).map("".join),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, -5, 1, 60, 2**31 - 1, -(2**31), 2**31]),
    st.floats(),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=8,
)
deep_json = st.integers(min_value=1, max_value=100_000).map(lambda depth: "[" * depth + "]" * min(depth, 10))


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


segments = st.one_of(
    st.binary(max_size=24),
    hostile_text.map(_encoded),
    st.uuids().map(lambda value: str(value).encode()),
).map(lambda data: quote(data, safe=""))
query_keys = st.sampled_from(["report_id", "query", "variables", "operationName", "id", "as_of", "next", "q"]) | segments
query_strings = st.one_of(
    st.lists(st.tuples(query_keys, segments), max_size=3).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)),
    segments,
)
body_objects = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        for name in ("store_ids", "as_of", "horizon_minutes", "report_id", "query", "variables", "operationName")
    },
)
bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(json.dumps),
    body_objects.map(json.dumps),
    deep_json,
    st.sampled_from(["1", '"abc"', "null", "[]", "{", "\ufeff{}", '{"store_ids": ["\\u0000"]}', '{"query": "\\ud800"}']),
).map(lambda body: body if isinstance(body, bytes) else _encoded(body))
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
        "application/graphql",
        "",
    ]
)


@pytest.fixture
def store():
    """One small store with hours and polls (and a finished report's id to read)."""
    store, noon = worked_example_store("s1")
    return store


def _route_strings(patterns, prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route != "admin/":
            routes += _route_strings(pattern.url_patterns, route)
        elif isinstance(pattern, (URLPattern, URLResolver)):
            routes.append(route)
    return routes


def test_every_url_pattern_is_fuzzed():
    """A new URL pattern must be added to ROUTES (and so to the fuzzing below)."""
    assert sorted(_route_strings(urls.urlpatterns)) == sorted(ROUTES)


def _is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def _check(response, path: str) -> None:
    assert response.status_code < 500, (path, response.status_code, response.content[:300])
    if _is_api(path) and not response.get("Content-Type", "").startswith("text/csv"):
        assert response["Content-Type"].startswith("application/json"), (path, response.content[:300])
        json.loads(response.content)


@pytest.mark.parametrize("route", sorted(ROUTES))
@FUZZ
@given(
    segment=segments,
    query=query_strings,
    method=st.sampled_from(["GET", "POST"]),
    body=bodies,
    content_type=content_types,
)
def test_any_request_at_any_url_is_answered_below_500(client, store, route, segment, query, method, body, content_type):
    path = ROUTES[route].format(segment)
    if route == "admin/":
        method, body = "GET", b""
    url = f"{path}?{query}" if query else path
    if method == "GET":
        response = client.generic("GET", url)
    else:
        response = client.generic("POST", url, body, content_type=content_type)
    _check(response, path)


@FUZZ
@given(segment=segments, body=bodies, content_type=content_types)
def test_store_trigger_report_with_any_id_and_body(client, store, segment, body, content_type):
    path = f"/store/{segment}/trigger_report/"
    _check(client.generic("POST", path, body, content_type=content_type), path)
    _check(client.generic("GET", path), path)


@FUZZ
@given(body=body_objects, content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded"]))
def test_rest_json_fields_of_any_shape(client, store, body, content_type):
    data = _encoded(json.dumps(body))
    for path in ("/trigger_report/", "/get_report/", "/store/get_report/", "/store/s1/trigger_report/"):
        response = client.generic("POST", path, data, content_type=content_type)
        _check(response, path)
        if response.status_code == 400:
            assert response.json()["error"]


# --------------------------------------------------------------------------- GraphQL arguments

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
plausible_moments = st.datetimes(min_value=datetime(1999, 12, 1), max_value=datetime(2101, 2, 1), timezones=offsets)
# Mostly near the store's polls (January 2023), so that the engine runs on them.
near_polls = st.datetimes(min_value=datetime(2022, 12, 20), max_value=datetime(2023, 2, 10), timezones=offsets)
instants = st.one_of(
    near_polls.map(lambda moment: moment.isoformat()),
    near_polls.map(lambda moment: moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
    plausible_moments.map(lambda moment: moment.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat()),  # naive: refused
    hostile_text,
)
ints = st.one_of(st.integers(min_value=-(2**33), max_value=2**33), st.sampled_from([0, -1, 1, 60, 10080, 10081]))
store_ids = st.one_of(st.sampled_from(["s1", "ghost"]), hostile_text)
paginations = st.one_of(st.none(), st.fixed_dictionaries({}, optional={"offset": ints | json_values, "limit": ints | json_values}))
store_filters = st.recursive(
    st.fixed_dictionaries(
        {}, optional={"id": store_ids, "ids": st.lists(store_ids, max_size=3), "timezone": hostile_text}
    ),
    lambda children: st.fixed_dictionaries({}, optional={"AND": children, "OR": children, "NOT": children}),
    max_leaves=3,
)
row_filters = st.fixed_dictionaries({}, optional={"storeId": store_ids, "storeIds": st.lists(store_ids, max_size=3)})
polls = st.lists(
    st.fixed_dictionaries(
        {"storeId": store_ids, "timestampUtc": instants, "status": st.sampled_from(["active", "INACTIVE", "x"]) | hostile_text}
    ),
    max_size=4,
) | st.lists(json_values, max_size=3)


def _maybe(strategy):
    """The plausible values of a variable, or any JSON value at all."""
    return st.one_of(strategy, strategy, json_values)


OPERATIONS = {
    "store": ("query($id: ID!) { store(id: $id) { id timezone } }", {"id": store_ids}),
    "stores": (
        "query($f: StoreFilter, $p: OffsetPaginationInput) { stores(filters: $f, pagination: $p) { totalCount pageInfo { offset limit } results { id } } }",
        {"f": store_filters, "p": paginations},
    ),
    "uptime": (
        "query($id: ID!, $asOf: DateTime, $h: Int) { store(id: $id) { uptime(asOf: $asOf, horizonMinutes: $h) { asOf horizonMinutes } } }",
        {"id": st.just("s1") | store_ids, "asOf": instants, "h": ints},
    ),
    "timeline": (
        "query($from: DateTime!, $to: DateTime!, $h: Int) { store(id: \"s1\") { timeline(from: $from, to: $to, horizonMinutes: $h) { state } } }",
        {"from": instants, "to": instants, "h": ints},
    ),
    "incidents": (
        "query($from: DateTime!, $to: DateTime!) { store(id: \"s1\") { incidents(from: $from, to: $to) { start } } }",
        {"from": instants, "to": instants},
    ),
    "statusPolls": (
        "query($from: DateTime, $to: DateTime, $p: OffsetPaginationInput) { store(id: \"s1\") { statusPolls(from: $from, to: $to, pagination: $p) { totalCount results { status } } } }",
        {"from": instants, "to": instants, "p": paginations},
    ),
    "polls": (
        "query($from: DateTime, $to: DateTime, $n: Int, $after: String) { store(id: \"s1\") { polls(from: $from, to: $to, first: $n, after: $after) { nodes { state } pageInfo { endCursor } } } }",
        {"from": instants, "to": instants, "n": ints, "after": hostile_text},
    ),
    "triggerReport": (
        "mutation($s: [ID!], $asOf: DateTime, $h: Int) { triggerReport(storeIds: $s, asOf: $asOf, horizonMinutes: $h) { id status } }",
        {"s": st.none() | st.lists(store_ids, max_size=3), "asOf": instants, "h": ints},
    ),
    "report": (
        "query($id: ID!, $f: ReportRowFilter, $p: OffsetPaginationInput) { report(id: $id) { id status rows(filters: $f, pagination: $p) { totalCount } } }",
        {"id": st.just("REPORT") | hostile_text | st.uuids().map(str), "f": row_filters, "p": paginations},
    ),
    "reports": (
        "query($p: OffsetPaginationInput) { reports(pagination: $p) { totalCount results { id } } }",
        {"p": paginations},
    ),
    "recordPolls": (
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { received loaded rejected rejections { index field reason } } }",
        {"polls": polls},
    ),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
@FUZZ
@given(data=st.data())
def test_every_graphql_argument_with_any_value(client, store, name, data):
    query, arguments = OPERATIONS[name]
    variables = {variable: data.draw(_maybe(strategy), label=variable) for variable, strategy in arguments.items()}
    if "from" in variables and data.draw(st.booleans(), label="a range"):  # a range the engine computes
        start = data.draw(near_polls, label="from")
        length = data.draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=33)), label="length")
        variables["from"], variables["to"] = start.isoformat(), (start + length).isoformat()
    if variables.get("id") == "REPORT":
        variables["id"] = str(Report.objects.values_list("pk", flat=True).first() or "")
    body = _encoded(json.dumps({"query": query, "variables": variables}))
    response = client.generic("POST", "/graphql/", body, content_type="application/json")
    _check(response, "/graphql/")
    answer = response.json()
    for error in answer.get("errors") or []:
        # Every refusal here is the client's to fix, so it says what is wrong, with a code.
        assert error["message"] != "Unexpected error.", (name, variables)
        assert error["extensions"]["code"] in ("INVALID_ARGUMENT", "NOT_FOUND", "TOO_COSTLY"), (name, error)


@pytest.fixture(autouse=True)
def _a_report(store):
    """A report (rows included) for `report(id:)` to find."""
    from monitoring.reports import report_run

    report = Report.objects.create(requested_as_of=None)
    report_run(report_id=report.id)

"""The GraphQL API as a contract a typed client builds on (docs/api.md):
error codes and arguments, nullable lookups, one DateTime, minutes and rounding,
deprecated fields that still answer, narrowable report states, pages, batched uptime,
a described schema."""

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_schema.common.errors import ErrorCode
from graphql_schema.common.scalars import rfc3339
from graphql_schema.schema import schema
from monitoring.models import Report
from monitoring.reports import report_compute, report_run

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    get_named_type,
)
from tests.factories import add_polls, make_store, worked_example_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc
CODES = {code.value for code in ErrorCode}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_error_codes_are_the_documented_set():
    assert CODES == {"NOT_FOUND", "INVALID_ARGUMENT", "UNAUTHENTICATED", "FORBIDDEN", "TOO_COSTLY", "RATE_LIMITED", "INTERNAL"}


# --------------------------------------------------------------------------- errors


def test_a_missing_id_leaves_its_siblings_intact(gql):
    make_store("s1")
    result = gql.query(
        """query { stores { totalCount } store(id: "nope") { id } known: store(id: "s1") { id }
                   report(id: "00000000-0000-0000-0000-000000000000") { id } bad: report(id: "x") { id } }""",
        assert_no_errors=False,
    )
    assert result.data == {"stores": {"totalCount": 1}, "store": None, "known": {"id": "s1"}, "report": None, "bad": None}
    by_path = {tuple(error["path"]): error for error in result.errors}
    assert set(by_path) == {("store",), ("report",), ("bad",)}
    for error in by_path.values():
        assert error["extensions"] == {"code": "NOT_FOUND", "argument": "id"}
    assert by_path[("store",)]["message"] == "store not found: nope"


def _date_time_arguments() -> list[tuple[str, str, str]]:
    """(type, field, argument path) of every DateTime argument in the schema, input
    objects' members included (PollInput.timestampUtc: `polls[0].timestampUtc`)."""
    found = []
    for type_name, type_ in schema._schema.type_map.items():
        if not isinstance(type_, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            for argument_name, argument in field.args.items():
                named = get_named_type(argument.type)
                if named.name == "DateTime":
                    found.append((type_name, field_name, argument_name))
                elif isinstance(named, GraphQLInputObjectType):
                    for member, member_field in named.fields.items():
                        if get_named_type(member_field.type).name == "DateTime":
                            found.append((type_name, field_name, f"{argument_name}[0].{member}"))
    return found


# How to reach each DateTime argument, with `ARG` where the naive instant goes.
NAIVE = "2023-01-25T12:00:00"
GOOD = "2023-01-25T17:00:00Z"
REACH = {
    ("Store", "statusPolls", "from"): 'query { store(id: "worked-example") { statusPolls(from: ARG) { totalCount } } }',
    ("Store", "statusPolls", "to"): 'query { store(id: "worked-example") { statusPolls(to: ARG) { totalCount } } }',
    ("Store", "polls", "from"): 'query { store(id: "worked-example") { polls(from: ARG) { nodes { timestampUtc } } } }',
    ("Store", "polls", "to"): 'query { store(id: "worked-example") { polls(to: ARG) { nodes { timestampUtc } } } }',
    ("Store", "uptime", "asOf"): 'query { store(id: "worked-example") { uptime(asOf: ARG) { asOf } } }',
    ("Store", "timeline", "from"): f'query {{ store(id: "worked-example") {{ timeline(from: ARG, to: "{GOOD}") {{ state }} }} }}',
    ("Store", "timeline", "to"): 'query { store(id: "worked-example") { timeline(from: "2023-01-24T17:00:00Z", to: ARG) { state } } }',
    ("Store", "incidents", "from"): f'query {{ store(id: "worked-example") {{ incidents(from: ARG, to: "{GOOD}") {{ start }} }} }}',
    ("Store", "incidents", "to"): 'query { store(id: "worked-example") { incidents(from: "2023-01-24T17:00:00Z", to: ARG) { start } } }',
    ("Mutation", "triggerReport", "asOf"): "mutation { triggerReport(asOf: ARG) { id status } }",
    ("Store", "uptimeBetween", "from"): f'query {{ store(id: "worked-example") {{ uptimeBetween(from: ARG, to: "{GOOD}") {{ uptimeMinutes }} }} }}',
    ("Store", "uptimeBetween", "to"): 'query { store(id: "worked-example") { uptimeBetween(from: "2023-01-24T17:00:00Z", to: ARG) { uptimeMinutes } } }',
    ("Mutation", "triggerReport", "from"): "mutation { triggerReport(from: ARG) { id status } }",
    ("Mutation", "triggerReport", "to"): 'mutation { triggerReport(from: "2023-01-24T17:00:00Z", to: ARG) { id status } }',
    ("Query", "fleetLostRevenue", "from"): f'query {{ fleetLostRevenue(from: ARG, to: "{GOOD}") {{ currency }} }}',
    ("Query", "fleetLostRevenue", "to"): 'query { fleetLostRevenue(from: "2023-01-24T17:00:00Z", to: ARG) { currency } }',
    ("Query", "auditLog", "since"): "query { auditLog(since: ARG) { nodes { at } } }",
    ("Mutation", "createApiToken", "expiresAt"):
        'mutation { createApiToken(name: "t", role: VIEWER, scopes: [READ], expiresAt: ARG) { secret userErrors { code } } }',
    ("Mutation", "recordPolls", "polls[0].timestampUtc"):
        'mutation { recordPolls(polls: [{storeId: "worked-example", timestampUtc: ARG, status: "active"}]) { loaded } }',
}


def test_every_date_time_argument_is_reached_by_the_naive_instant_test():
    """A new DateTime argument fails here until the test below covers it."""
    assert set(_date_time_arguments()) - {key for key in REACH} == set()


@pytest.mark.parametrize("where", sorted(REACH))
def test_a_naive_instant_is_invalid_argument_naming_the_argument(gql, where):
    worked_example_store()
    document = REACH[where]
    argument = where[2]
    result = gql.query(document.replace("ARG", f'"{NAIVE}"'), assert_no_errors=False)
    (error,) = result.errors
    assert error["extensions"]["code"] == "INVALID_ARGUMENT" and error["extensions"]["argument"] == argument
    assert error["message"].startswith(f"{argument}: '{NAIVE}' has no offset"), error["message"]
    assert "2023-01-25T18:13:22Z" in error["message"]  # says how to write one
    # The same through a variable: the variable and the argument it feeds are named.
    top = argument.split("[")[0]
    if top == argument:
        declared = str(schema._schema.type_map[where[0]].fields[where[1]].args[argument].type)
        typed = document.replace("query {", f"query($v: {declared}) {{").replace("mutation {", f"mutation($v: {declared}) {{")
        result = gql.query(typed.replace("ARG", "$v"), {"v": NAIVE}, assert_no_errors=False)
        (error,) = result.errors
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "variable": "v", "argument": argument}
        assert "has no offset" in error["message"]
    # A well-written instant is accepted there.
    good = "2023-01-24T17:00:00Z" if argument == "from" else GOOD
    assert gql.query(document.replace("ARG", f'"{good}"'), assert_no_errors=False).errors is None


@pytest.mark.parametrize(
    "document, code, argument",
    [
        ('query { store(id: "s1") { timeline(from: "2023-01-01T00:00:00Z", to: "2023-03-01T00:00:00Z") { state } } }',
         "INVALID_ARGUMENT", "to"),
        ('query { store(id: "s1") { uptime(horizonMinutes: 0) { asOf } } }', "INVALID_ARGUMENT", "horizonMinutes"),
        ('query { store(id: "s1") { uptime(asOf: "2101-01-01T00:00:00Z") { asOf } } }', "INVALID_ARGUMENT", "asOf"),
        ("query { stores(pagination: {limit: 501}) { totalCount } }", "INVALID_ARGUMENT", "pagination.limit"),
        ('query { stores(filters: {ids: ["s1", "a\\r"]}) { totalCount } }', "INVALID_ARGUMENT", "filters.ids[1]"),
        ('query { stores(filters: {timezone: "Mars/Olympus"}) { totalCount } }', "INVALID_ARGUMENT", "filters.timezone"),
        ('query { store(id: "s1") { polls(first: 501) { nodes { timestampUtc } } } }', "INVALID_ARGUMENT", "first"),
        ('query { store(id: "s1") { polls(after: "!!") { nodes { timestampUtc } } } }', "INVALID_ARGUMENT", "after"),
        ("query { nope }", "INVALID_ARGUMENT", None),
        ("query {", "INVALID_ARGUMENT", None),
        ("query { " + " ".join("__typename" for _ in range(2100)) + " }", "TOO_COSTLY", None),
        ("query { stores(pagination: {limit: 500}) { results { statusPolls(pagination: {limit: 500}) { results { status } } } } "
         + " ".join(f"a{i}: stores(pagination: {{limit: 500}}) {{ totalCount }}" for i in range(16)) + " }", "TOO_COSTLY", None),
        ('mutation { setSpecialHours(storeId: "ghost", date: "2023-01-25", shifts: []) { specialHours { date } } }', "NOT_FOUND", "storeId"),
    ],
)
def test_every_error_has_a_code_and_names_its_argument(gql, document, code, argument):
    make_store("s1")
    result = gql.query(document, assert_no_errors=False)
    assert result.errors, document
    error = result.errors[0]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"].get("argument") == argument, error
    assert "_" not in (error["extensions"].get("argument") or "")  # the schema's spelling, never snake_case


def test_internal_errors_are_masked_with_code_internal(gql, monkeypatch):
    import graphql_schema.reports.schema as report_schema

    monkeypatch.setattr(report_schema, "report_create", lambda **kwargs: 1 / 0)
    result = gql.query("mutation { triggerReport { id } }", assert_no_errors=False)
    assert result.errors[0]["message"] == "Unexpected error."
    assert result.errors[0]["extensions"] == {"code": "INTERNAL"}


def test_http_refusals_of_the_endpoint_carry_a_code(client):
    response = client.post("/graphql/", b"[1]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT"}


def test_trigger_report_user_errors(gql):
    make_store("known")
    result = gql.query(
        """mutation { triggerReport(storeIds: ["known", "ghost"], horizonMinutes: 60) {
             id status report { id } userErrors { field message code } } }"""
    )
    assert result.data["triggerReport"] == {
        "id": None, "status": None, "report": None,
        "userErrors": [{"field": "storeIds", "message": "storeIds: no such store: ghost", "code": "INVALID_ARGUMENT"}],
    }
    bad = gql.query('mutation { triggerReport(storeIds: ["a\\r"]) { userErrors { field code } } }')
    assert bad.data["triggerReport"]["userErrors"] == [{"field": "storeIds[0]", "code": "INVALID_ARGUMENT"}]
    # docs/rules.md §6's selection, without userErrors: the refusal is a top-level error too.
    plain = gql.query("mutation { triggerReport(horizonMinutes: 0) { id status } }", assert_no_errors=False)
    assert plain.data == {"triggerReport": None}
    assert plain.errors[0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "horizonMinutes"}
    assert Report.objects.count() == 0
    queued = gql.query("mutation { triggerReport { id status userErrors { field } } }").data["triggerReport"]
    assert queued["status"] == "PENDING" and queued["userErrors"] == [] and uuid.UUID(queued["id"])


# --------------------------------------------------------------------------- types and units


def test_date_times_are_rfc3339_utc_with_microseconds(gql):
    store, noon = worked_example_store()
    add_polls(store, [(noon - timedelta(minutes=5, microseconds=-500_000), True)])
    data = gql.query(
        """query($asOf: DateTime!, $from: DateTime!) { store(id: "worked-example") {
             uptime(asOf: $asOf) { asOf } statusPolls { results { timestampUtc } }
             timeline(from: $from, to: $asOf) { start end } } }""",
        {"asOf": "2023-01-25T12:00:00-05:00", "from": "2023-01-25 16:00:00 UTC"},
    ).data["store"]
    instants = [data["uptime"]["asOf"], *(p["timestampUtc"] for p in data["statusPolls"]["results"])]
    instants += [s["start"] for s in data["timeline"]] + [s["end"] for s in data["timeline"]]
    assert all(RFC3339.match(text) for text in instants), instants
    assert data["uptime"]["asOf"] == "2023-01-25T17:00:00.000000Z"
    assert "2023-01-25T16:55:00.500000Z" in instants


def test_minutes_everywhere_rounded_to_two_decimals_and_deprecated_fields_answer(gql):
    store, noon = worked_example_store()
    report = gql.query(f'mutation {{ triggerReport(asOf: "{rfc3339(noon)}") {{ id }} }}').data["triggerReport"]
    report_run(report_id=report["id"])
    row = gql.query(
        """query($id: ID!) { report(id: $id) { rows { results {
             storeId hour { kind uptimeMinutes downtimeMinutes unknownMinutes incidents }
             day { kind uptimeMinutes downtimeMinutes unknownMinutes businessMinutes knownMinutes incidents }
             week { kind uptimeMinutes }
             uptimeLastHour uptimeLastDay uptimeLastWeek downtimeLastHour downtimeLastDay downtimeLastWeek
             unknownLastHour unknownLastDay unknownLastWeek incidentsLastHour incidentsLastDay incidentsLastWeek } } } }""",
        {"id": report["id"]},
    ).data["report"]["rows"]["results"][0]
    expected = report_compute(as_of=noon).rows[0]
    assert row["hour"]["kind"] == "HOUR" and row["day"]["kind"] == "DAY" and row["week"]["kind"] == "WEEK"
    # Minutes in every window; the deprecated fields keep docs/rules.md §5's units (day in hours).
    assert row["day"]["uptimeMinutes"] == round(expected["uptime_last_day"] * 60, 2) == 104.5
    assert row["day"]["downtimeMinutes"] == round(expected["downtime_last_day"] * 60, 2) == 75.5
    assert row["uptimeLastDay"] == round(expected["uptime_last_day"], 2) == 1.74
    assert row["hour"]["uptimeMinutes"] == row["uptimeLastHour"] == round(expected["uptime_last_hour"], 2)
    assert row["day"]["incidents"] == row["incidentsLastDay"] == 1
    assert row["day"]["businessMinutes"] == 180 and row["day"]["knownMinutes"] == 180
    # The store's live uptime says the same, in the same units.
    live = gql.query(
        f'query {{ store(id: "worked-example") {{ uptime(asOf: "{rfc3339(noon)}") {{ day {{ uptimeMinutes kind }} windows {{ kind window }} }} }} }}'
    ).data["store"]["uptime"]
    assert live["day"] == {"uptimeMinutes": 104.5, "kind": "DAY"}
    assert live["windows"] == [{"kind": "HOUR", "window": "hour"}, {"kind": "DAY", "window": "day"}, {"kind": "WEEK", "window": "week"}]
    # Every Float has at most 2 decimals.
    for value in [*row["hour"].values(), *row["day"].values(), row["uptimeLastWeek"], row["unknownLastWeek"]]:
        if isinstance(value, float):
            assert value == round(value, 2)


def test_deprecated_fields_are_exactly_the_ones_tested_above():
    deprecated = {
        f"{type_name}.{field_name}"
        for type_name, type_ in schema._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in type_.fields.items()
        if field.deprecation_reason
    }
    windows = {f"ReportRow.{k}Last{w}" for k in ("uptime", "downtime", "unknown", "incidents") for w in ("Hour", "Day", "Week")}
    assert deprecated == windows | {"UptimeWindow.window", "StatusPoll.status"}


def test_poll_status_is_an_enum_on_output_and_any_case_on_input(gql):
    store, noon = worked_example_store()
    polls = [{"storeId": "worked-example", "timestampUtc": "2023-01-25 17:30:00 UTC", "status": "InActive"}]
    gql.query("mutation($p: [PollInput!]!) { recordPolls(polls: $p) { loaded } }", {"p": polls})
    results = gql.query(
        'query { store(id: "worked-example") { statusPolls { results { timestampUtc state status isActive } } } }'
    ).data["store"]["statusPolls"]["results"]
    assert [(p["state"], p["status"], p["isActive"]) for p in results] == [
        ("ACTIVE", "active", True), ("INACTIVE", "inactive", False), ("INACTIVE", "inactive", False)
    ]


def test_a_complete_report_is_narrowed_by_completed(gql, settings):
    store, noon = worked_example_store()  # its latest poll: 11:15 New York, the report's asOf
    report_id = gql.query("mutation { triggerReport { id } }").data["triggerReport"]["id"]
    query = """query($id: ID!) { report(id: $id) { status downloadUrl downloadUrlExpiresAt
                 completed { asOf storeCount finishedAt downloadUrl downloadUrlExpiresAt } } }"""
    pending = gql.query(query, {"id": report_id}).data["report"]
    assert pending == {"status": "PENDING", "downloadUrl": None, "downloadUrlExpiresAt": None, "completed": None}
    report_run(report_id=report_id)
    before = datetime.now(UTC).replace(microsecond=0)
    done = gql.query(query, {"id": report_id}).data["report"]
    completed = done["completed"]
    assert done["status"] == "COMPLETE" and completed["storeCount"] == 1 and completed["asOf"] == rfc3339(noon - timedelta(minutes=45))
    assert completed["downloadUrl"] == done["downloadUrl"] and completed["downloadUrl"].startswith("http://testserver/reports/download/")
    expires = datetime.fromisoformat(completed["downloadUrlExpiresAt"])
    assert completed["downloadUrlExpiresAt"] == done["downloadUrlExpiresAt"]
    assert before + timedelta(seconds=settings.REPORT_LINK_MAX_AGE) <= expires <= datetime.now(UTC) + timedelta(
        seconds=settings.REPORT_LINK_MAX_AGE
    )


# --------------------------------------------------------------------------- lists


def test_offset_pages_say_whether_more_follow(gql):
    for index in range(5):
        make_store(f"s{index}")
    pages = [
        gql.query(f"query {{ stores(pagination: {{offset: {offset}, limit: 2}}) {{ totalCount pageInfo {{ offset limit hasNextPage }} }} }}").data["stores"]
        for offset in (0, 2, 4)
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
    assert pages[1] == {"totalCount": 5, "pageInfo": {"offset": 2, "limit": 2, "hasNextPage": True}}


def test_polls_by_cursor_walk_the_whole_list_by_keyset(gql):
    store = make_store("s1")
    start = datetime(2023, 1, 20, tzinfo=UTC)
    add_polls(store, [(start + timedelta(minutes=7 * k, microseconds=k), k % 3 == 0) for k in range(23)])
    every = gql.query('query { store(id: "s1") { statusPolls(pagination: {limit: 500}) { results { timestampUtc state } } } }')
    expected = every.data["store"]["statusPolls"]["results"]
    seen, after, pages = [], None, 0
    query = 'query($after: String) { store(id: "s1") { polls(first: 5, after: $after) { nodes { timestampUtc state } pageInfo { endCursor hasNextPage } } } }'
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = gql.query(query, {"after": after}).data["store"]["polls"]
        sql = [q["sql"] for q in queries.captured_queries if "status_poll" in q["sql"].lower() or "statuspoll" in q["sql"].lower()]
        assert sql and all("OFFSET" not in text.upper() for text in sql), sql  # keyset, not offset
        seen += page["nodes"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected and pages == 5
    window = gql.query(
        'query { store(id: "s1") { polls(first: 500, from: "2023-01-20T00:07:00Z", to: "2023-01-20T00:21:00.000002Z") { nodes { timestampUtc } } } }'
    ).data["store"]["polls"]["nodes"]
    assert [p["timestampUtc"] for p in window] == [expected[1]["timestampUtc"], expected[2]["timestampUtc"]]


def test_ordering_by_zone_uses_the_effective_zone(gql):
    make_store("a", zone="America/New_York")
    make_store("b")  # no zone row: America/Chicago
    make_store("c", zone="America/Boise")
    make_store("d", zone="America/Denver")
    data = gql.query("query { stores(ordering: [{timezone: ASC}]) { results { id timezone } } }").data
    assert [s["id"] for s in data["stores"]["results"]] == ["c", "b", "d", "a"]
    desc = gql.query("query { stores(ordering: [{timezone: DESC}, {id: ASC}]) { results { id } } }").data
    assert [s["id"] for s in desc["stores"]["results"]] == ["a", "d", "b", "c"]


def test_ids_are_of_type_id():
    type_map = schema._schema.type_map
    assert str(type_map["Store"].fields["id"].type) == "ID!"
    assert str(type_map["Query"].fields["store"].args["id"].type) == "ID!"
    assert str(type_map["Query"].fields["report"].args["id"].type) == "ID!"
    assert str(type_map["ReportRow"].fields["storeId"].type) == "ID!"
    assert str(type_map["PollInput"].fields["storeId"].type) == "ID!"
    assert str(type_map["StoreFilter"].fields["ids"].type) == "[ID!]"


# --------------------------------------------------------------------------- batched uptime


def test_a_page_of_stores_computes_its_uptime_in_one_engine_call(gql, monkeypatch):
    import graphql_schema.stores.uptime as uptime_module

    zones = ["America/New_York", None, "Asia/Kolkata"]
    for index in range(6):
        store = make_store(f"s{index}", zone=zones[index % 3], hours=[(day, "00:00", "00:00") for day in range(7)])
        add_polls(store, [(datetime(2023, 1, 25, 12, tzinfo=UTC) - timedelta(minutes=37 * k + index), k % (index + 2) != 0) for k in range(40)])
    calls = []
    real = uptime_module.report_compute
    monkeypatch.setattr(uptime_module, "report_compute", lambda **kw: calls.append(kw["store_ids"]) or real(**kw))
    fields = "id uptime { asOf day { uptimeMinutes downtimeMinutes unknownMinutes } week { uptimeMinutes } }"
    page = gql.query(f"query {{ stores(pagination: {{limit: 50}}) {{ results {{ {fields} }} }} }}").data["stores"]["results"]
    assert len(calls) == 1 and sorted(calls[0]) == [f"s{i}" for i in range(6)]
    # The same figures as one store at a time (store_report_compute: the store is at hand).
    for store in page:
        one = gql.query(f'query {{ store(id: "{store["id"]}") {{ {fields} }} }}').data["store"]
        assert one == store
    assert len(calls) == 1


# --------------------------------------------------------------------------- a described schema

#: Parts of the schema other modules own (their own tests describe them).
OWNED_ELSEWHERE: tuple[str, ...] = ()
#: Words that say what a number counts or measures.
UNITS = re.compile(r"minute|hour|second|count|0 = Monday|from 0")


def _owned_elsewhere(type_name: str, field_name: str | None = None) -> bool:
    definition = schema.get_type_by_name(type_name)
    origin = getattr(definition, "origin", None) or getattr(definition, "wrapped_cls", None)
    if field_name is not None and hasattr(definition, "fields"):
        for field in definition.fields:
            if field.graphql_name == field_name or field.python_name == field_name:
                resolver = field.base_resolver
                origin = resolver.wrapped_func if resolver is not None else field.origin or origin
    return getattr(origin, "__module__", "").startswith(OWNED_ELSEWHERE)


def test_every_type_field_argument_and_enum_value_is_described_with_units():
    missing = []
    for name, type_ in schema._schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID") or _owned_elsewhere(name):
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLEnumType):
            missing += [f"{name}.{value}" for value, v in type_.values.items() if not v.description]
        if isinstance(type_, (GraphQLObjectType, GraphQLInputObjectType)):
            for field_name, field in type_.fields.items():
                if _owned_elsewhere(name, field_name):
                    continue
                where = f"{name}.{field_name}"
                if not field.description:
                    missing.append(where)
                elif get_named_type(field.type).name in ("Int", "Float") and not UNITS.search(field.description):
                    missing.append(f"{where} (no unit)")
                for argument_name, argument in getattr(field, "args", {}).items():
                    if not argument.description:
                        missing.append(f"{where}({argument_name})")
                    elif get_named_type(argument.type).name in ("Int", "Float") and not UNITS.search(argument.description):
                        missing.append(f"{where}({argument_name}) (no unit)")
    assert missing == []

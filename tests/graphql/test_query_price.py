"""docs/rules.md §8: a GraphQL query is priced before it runs (the product of page sizes down
each path, summed over the query; a list without a page size counts as its cap) and
refused above GRAPHQL_MAX_NODES with an error stating the price and the limit; responses
are bounded in bytes (graphql_schema.limits.pricing, views); the read cache's byte bounds are
tested in test_read_cache_backends.py."""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from graphql_schema.limits import pricing
from graphql_schema.limits.shared_cache import BoundedDatabaseCache
from graphql_schema.schema import MAX_ALIASES

from graphql import get_introspection_query
from tests.factories import add_polls, make_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db

UTC = timezone.utc
LIMIT = 50_000

# A costly query met in practice: 3.2 KB, within the depth, alias and token limits, that ran
# for 2 min 16 s and answered 54 MB.
ALIASES = "query { " + " ".join(
    f"a{i}: stores(pagination: {{limit: 500}}) {{ results {{ statusPolls(pagination: {{limit: 500}}) "
    "{ results { timestampUtc } } } }"
    for i in range(MAX_ALIASES)
) + " }"
# Per alias: the wrapper 1 + 500 stores + 500 × (a wrapper 1 + 500 polls).
ALIASES_PRICE = MAX_ALIASES * (1 + 500 + 500 * (1 + 500))

DASHBOARD = """query { stores(pagination: {offset: 0, limit: 50}) { totalCount results {
  id timezone is24x7 businessHours { dayOfWeek startTimeLocal endTimeLocal }
  uptime { asOf windows { window uptimeMinutes downtimeMinutes } } } } }"""
# The wrapper 1 + 50 stores + 50 × (21 hours + uptime 1 + 3 windows).
DASHBOARD_PRICE = 1 + 50 + 50 * (21 + 1 + 3)


def price(client, query, variables=None) -> int:
    """The price of an accepted query (which may fail once it runs: `store(id: "x")`)."""
    body = graphql(client, query, variables)
    assert all(e.get("extensions", {}).get("code") != "TOO_COSTLY" for e in body.get("errors", [])), body
    assert body["extensions"]["cost"]["limit"] == LIMIT
    return body["extensions"]["cost"]["nodes"]


def test_a_costly_alias_query_is_refused_before_any_resolver_runs(client):
    store = make_store("s1")
    add_polls(store, [(datetime(2023, 1, 25, tzinfo=UTC) + timedelta(hours=h), True) for h in range(3)])
    for _ in range(2):  # parsed and validated, then from the caches
        with CaptureQueriesContext(connection) as queries:
            body = graphql(client, ALIASES)
        assert body["data"] is None
        [error] = body["errors"]
        # The costliest lists named, each with what it costs (the first aliases of equal cost).
        assert error["message"] == (
            f"query costs {ALIASES_PRICE:,} nodes, above the limit of 50,000; costliest: "
            "a0.results.statusPolls.results 250,000 (500 × 500), a1.results.statusPolls.results 250,000 (500 × 500),"
            " a2.results.statusPolls.results 250,000 (500 × 500); "
            "ask for smaller pages (pagination: {limit: N}, first: N) or fewer nested lists"
        )
        assert error["extensions"] == {
            "code": "TOO_COSTLY", "price": ALIASES_PRICE, "limit": LIMIT,
            "parts": [{"path": f"a{i}.results.statusPolls.results", "nodes": 250_000} for i in range(3)],
        }
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert "monitoring_store" not in sql and "monitoring_statuspoll" not in sql


def test_a_dashboard_query_passes_with_its_price(client):
    for index in range(3):
        make_store(f"s{index}", zone="America/New_York", hours=[(day, "09:00", "17:00") for day in range(5)])
    body = graphql(client, DASHBOARD)
    assert "errors" not in body
    assert len(body["data"]["stores"]["results"]) == 3
    assert body["extensions"] == {"cost": {"nodes": DASHBOARD_PRICE, "limit": LIMIT}}
    assert graphql(client, DASHBOARD) == body  # the cached answer has it too


def test_page_sizes_as_strawberry_django_applies_them(client):
    # No pagination: the default page (100); above the cap: the cap (500); 0: nothing below.
    assert price(client, "query { stores { results { id } } }") == 1 + 100
    assert price(client, "query { stores(pagination: {limit: 100000}) { results { id } } }") == 1 + 500
    assert price(client, "query { stores(pagination: {limit: null}) { totalCount } }") == 1
    assert price(client, "query { stores(pagination: {limit: 0}) { results { statusPolls { totalCount } } } }") == 1
    assert price(client, "query { stores(pagination: {offset: 7}) { pageInfo { limit } results { id } } }") == 1 + 1 + 100
    # Plain lists count their cap; scalars count nothing; one object counts 1.
    assert price(client, 'query { store(id: "x") { id businessHours { dayOfWeek } } }') == 1 + 21
    assert price(client, 'query { store(id: "x") { uptime { windows { window } } } }') == 1 + 1 + 3
    timeline = 'query { store(id: "x") { timeline(from: "2023-01-01T00:00:00Z", to: "2023-01-02T00:00:00Z") { state } } }'
    assert price(client, timeline.replace("x", "y")) == 1 + pricing.LIST_CAPS["Store.timeline"]
    report = 'query { reports(pagination: {limit: 10}) { results { storeIds rows(pagination: {limit: 3}) { results { storeId } } } } }'
    assert price(client, report) == 1 + 10 + 10 * (100 + 1 + 3)
    # A negative limit is refused by the field itself, before anything below it runs.
    negative = graphql(client, "query { stores(pagination: {limit: -1}) { results { statusPolls { totalCount } } } }")
    assert negative["errors"][0]["message"] == "pagination.limit must be ≥ 0 (got -1)"


def test_keyset_pages_are_priced_by_first(client):
    """Store.polls(first:) holds `first` nodes (default 100); above the cap it is refused
    before anything below it runs (0)."""
    polls = 'query { store(id: "x") { polls(first: 7) { nodes { timestampUtc } pageInfo { hasNextPage } } } }'
    assert price(client, polls) == 1 + 1 + 7 + 1
    assert price(client, 'query { store(id: "y") { polls { nodes { timestampUtc } } } }') == 1 + 1 + 100
    nested = "query($n: Int) { stores(pagination: {limit: 10}) { results { polls(first: $n) { nodes { store { id } } } } } }"
    assert price(client, nested, {"n": 40}) == 1 + 10 + 10 * (1 + 40 + 40)
    assert price(client, nested, {"n": 501}) == 1 + 10 + 10


def test_variables_are_priced_with_their_values(client):
    query = """query($n: Int, $page: OffsetPaginationInput) { stores(pagination: {limit: $n}) {
                 results { statusPolls(pagination: $page) { results { status } } } } }"""
    assert price(client, query, {"n": 10, "page": {"limit": 20}}) == 1 + 10 + 10 * (1 + 20)
    assert price(client, query, {"n": 3, "page": {"offset": 5}}) == 1 + 3 + 3 * (1 + 100)
    assert price(client, query, {"n": 10, "page": {"limit": 20}}) == 1 + 10 + 10 * (1 + 20)  # remembered
    assert price(client, query, {"n": 2.0, "page": None}) == 1 + 2 + 2 * (1 + 100)  # Int takes 2.0
    refused = graphql(client, query, {"n": 500, "page": {"limit": 500}})
    assert refused["errors"][0]["extensions"] == {
        "code": "TOO_COSTLY", "price": 1 + 500 + 500 * 501, "limit": LIMIT,
        "parts": [
            {"path": "stores.results.statusPolls.results", "nodes": 500 * 500}, {"path": "stores.results", "nodes": 500}
        ],
    }
    # Not sent: the operation's default, else the field's default page.
    defaulted = "query($n: Int = 7) { stores(pagination: {limit: $n}) { results { id } } }"
    assert price(client, defaulted) == 1 + 7
    assert price(client, defaulted, {"n": 70}) == 1 + 70
    assert price(client, query, {}) == 1 + 100 + 100 * (1 + 100)
    # A value Int refuses is the variable's error, not a price.
    wrong = graphql(client, query, {"n": "many"})
    assert wrong["errors"][0]["message"].startswith("Variable '$n' has invalid value")


def test_fragments_and_aliases_are_counted(client):
    query = """
      fragment Polls on Store { statusPolls(pagination: {limit: 10}) { results { status } } }
      query { a: stores(pagination: {limit: 5}) { results { ...Polls } }
              b: stores(pagination: {limit: 3}) { results { id ...Polls ...Polls ... on Store { ...Polls } } } }"""
    # a: 1 + 5 + 5 × (1 + 10); b: 1 + 3 + 3 × (1 + 10): a fragment spread twice runs once.
    assert price(client, query) == (1 + 5 + 5 * 11) + (1 + 3 + 3 * 11)
    # The same field twice (one response key) runs once; under an alias it runs again.
    once = "query { stores { results { id } } stores { results { timezone } } }"
    assert price(client, once) == 101
    assert price(client, "query { stores { results { id } } other: stores { results { id } } }") == 202
    inline = "query { stores(pagination: {limit: 4}) { ... on StorePage { results { businessHours { dayOfWeek } } } } }"
    assert price(client, inline) == 1 + 4 + 4 * 21
    named = "query A { stores { totalCount } } query B { stores(pagination: {limit: 2}) { results { id } } }"
    body = graphql(client, named, operation_name="B")
    assert body["extensions"]["cost"]["nodes"] == 3


def test_introspection_is_free(client):
    body = graphql(client, get_introspection_query(descriptions=True))
    assert "errors" not in body and body["data"]["__schema"]["types"]
    assert body["extensions"]["cost"]["nodes"] == 0


def test_mutations_are_priced(client):
    body = graphql(client, "mutation { recordPolls(polls: []) { loaded rejections { index reason } } }")
    assert body["extensions"]["cost"]["nodes"] == 1 + pricing.LIST_CAPS["RecordPollsResult.rejections"]


def test_a_query_too_large_to_price_is_refused(client, monkeypatch):
    monkeypatch.setattr(pricing, "MAX_FIELDS_PRICED", 3)
    body = graphql(client, 'query TooLarge { store(id: "x") { uptime { windows { window } } businessHours { dayOfWeek } } }')
    assert body["data"] is None
    assert body["errors"][0]["message"] == "query has more than 3 fields once its fragments are expanded; ask for fewer"
    assert body["errors"][0]["extensions"]["code"] == "TOO_COSTLY"


@override_settings(GRAPHQL_MAX_NODES=0)
def test_pricing_can_be_turned_off(client):
    body = graphql(client, ALIASES.replace("limit: 500", "limit: 1"))
    assert "errors" not in body and "extensions" not in body


@override_settings(GRAPHQL_MAX_NODES=1_000)
def test_the_limit_is_a_setting(client):
    body = graphql(client, "query { stores(pagination: {limit: 499}) { results { id } } }")
    assert body["extensions"] == {"cost": {"nodes": 500, "limit": 1_000}}
    body = graphql(client, DASHBOARD)
    assert body["errors"][0]["extensions"] == {
        "code": "TOO_COSTLY", "price": DASHBOARD_PRICE, "limit": 1_000,
        "parts": [
            {"path": "stores.results.businessHours", "nodes": 50 * 21},
            {"path": "stores.results.uptime.windows", "nodes": 50 * 3},
            {"path": "stores.results", "nodes": 50},
        ],
    }
    assert "above the limit of 1,000" in body["errors"][0]["message"]


def test_a_response_above_the_byte_limit_is_not_sent(client):
    for index in range(20):
        make_store(f"store-{index:02d}", zone="Europe/Paris")
    query = "query { stores(pagination: {limit: 20}) { results { id timezone } } }"
    whole = client.post("/graphql/", json.dumps({"query": query}), content_type="application/json")
    size = len(whole.content)
    assert size > 600 and "errors" not in whole.json()
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=600):
        caches["api"].clear()
        response = client.post("/graphql/", json.dumps({"query": query}), content_type="application/json")
        assert response.status_code == 200 and len(response.content) < 600
        body = response.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["message"] == (
            f"the response would be {size:,} bytes, above the limit of 600; "
            "ask for smaller pages (pagination: {limit: N}) or fewer fields"
        )
        assert error["extensions"] == {"code": "TOO_COSTLY", "reason": "RESPONSE_TOO_LARGE", "bytes": size, "limit": 600}
        small = graphql(client, "query { stores(pagination: {limit: 1}) { results { id } } }")
        assert small["data"]["stores"]["results"] == [{"id": "store-00"}]


def test_the_defaults():
    from django.conf import settings

    assert settings.GRAPHQL_MAX_NODES == 50_000
    assert settings.GRAPHQL_MAX_RESPONSE_BYTES == 5 * 1024 * 1024
    assert settings.CACHES["api"]["OPTIONS"] == {"MAX_BYTES": 64 * 1024 * 1024, "MAX_ENTRY_BYTES": 256 * 1024}
    assert isinstance(caches["api"], BoundedDatabaseCache)  # REDIS_URL unset
    assert caches["api"]._max_entries == 255  # 64 MiB of entries of at most 256 KiB


FLEET_PAGE = """query($n: Int) { fleet(first: $n) { totalCount countsByState { state count } silentCount
  edges { cursor node { id uptime { windows { kind uptimeMinutes } } currentState { state since }
    lastPoll { timestampUtc state } openIncident { start minutesLost } } }
  pageInfo { hasNextPage endCursor } } }"""


def fleet_page_price(n: int) -> int:
    # The wrapper 1 + 4 counts + pageInfo 1 + n × (edge 1 + node 1 + uptime 1 + 3 windows
    # + currentState 1 + lastPoll 1 + openIncident 1).
    return 1 + 4 + 1 + n * (1 + 1 + 1 + 3 + 1 + 1 + 1)


def test_a_fleet_page_is_priced_by_its_real_page_size(client):
    for index in range(3):
        hourly_store = make_store(f"s{index}")
        add_polls(hourly_store, [(datetime(2023, 1, 25, tzinfo=UTC) + timedelta(hours=h), h != 2) for h in range(3)])
    # A page of 100 stores with their uptime, state, last poll and incident: far under the limit.
    body = graphql(client, FLEET_PAGE, {"n": 100})
    assert "errors" not in body, body
    assert body["extensions"]["cost"] == {"nodes": fleet_page_price(100), "limit": LIMIT}
    assert len(body["data"]["fleet"]["edges"]) == 3
    assert price(client, FLEET_PAGE, {"n": 7}) == fleet_page_price(7)
    assert price(client, FLEET_PAGE) == fleet_page_price(100)  # no `first`: the default page of 100
    assert price(client, FLEET_PAGE, {"n": 500}) == fleet_page_price(500)


def test_a_costly_fleet_query_is_refused_naming_what_costs_what(client):
    make_store("s1")
    query = """query { fleet(first: 500) { edges { node { id
      statusPolls(pagination: {limit: 200}) { results { timestampUtc } }
      timeline(from: "2023-01-01T00:00:00Z", to: "2023-01-02T00:00:00Z") { state } } } } }"""
    body = graphql(client, query)
    assert body["data"] is None
    [error] = body["errors"]
    # 1 + 500 edges + 500 nodes + 500 × (1 + 200 polls) + 500 × 500 segments (the timeline's cap)
    expected = 1 + 500 + 500 + 500 * (1 + 200) + 500 * 500
    assert error["extensions"]["price"] == expected
    assert error["extensions"]["parts"] == [
        {"path": "fleet.edges.node.timeline", "nodes": 250_000},
        {"path": "fleet.edges.node.statusPolls.results", "nodes": 100_000},
        {"path": "fleet.edges", "nodes": 500},
    ]
    assert error["message"].startswith(
        f"query costs {expected:,} nodes, above the limit of 50,000; costliest: fleet.edges.node.timeline 250,000"
        " (500 × 500), fleet.edges.node.statusPolls.results 100,000 (500 × 200), fleet.edges 500;"
    )

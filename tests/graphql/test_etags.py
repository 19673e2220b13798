"""Cheap polling (graphql_schema.limits.read_cache): a query sent with GET is answered with
an ETag; sent back in If-None-Match it is answered 304 with no body while the answer is
the same (from the read cache, without running the query, while the data version holds),
and with the new answer once a write changed it. The ETag follows what the caller can
read: another owner's write never changes it. POST is never answered 304."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from monitoring.ingest import polls_record
from monitoring.models import Owner, Store
from monitoring.stores.access import EVERYTHING, token_create

from tests.factories import make_store
from tests.graphql_client import graphql_response

pytestmark = pytest.mark.django_db

POLLS = 'query { store(id: "s1") { id polls(first: 5) { nodes { timestampUtc state } } } }'
PAGE = "query { stores(pagination: {limit: 10}) { totalCount results { id } } }"


def get(client, query: str, *, token: str | None = None, etag: str | None = None, variables: dict | None = None):
    params = {"query": query}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if etag:
        headers["If-None-Match"] = etag
    return client.get("/graphql/", params, headers=headers)


def test_a_get_query_is_answered_304_while_nothing_changed_without_running_it(client):
    make_store("s1")
    first = get(client, POLLS)
    assert first.status_code == 200 and first.json()["data"]["store"]["polls"]["nodes"] == []
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 34
    assert first["Cache-Control"] == "private, no-cache"
    assert {"Authorization", "Cookie"} <= {v.strip() for v in first["Vary"].split(",")}
    with CaptureQueriesContext(connection) as queries:
        again = get(client, POLLS, etag=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert again["X-Read-Cache"] == "hit"
    assert len(queries) == 2 and not any("monitoring_statuspoll" in q["sql"] for q in queries)  # not run
    assert get(client, POLLS, etag=f'W/{etag}').status_code == 304  # weak comparison, as HTTP says
    assert get(client, POLLS, etag=f'"other", {etag}').status_code == 304
    assert get(client, POLLS, etag='"other"').status_code == 200

    # A poll write changes the answer, so the ETag: the old one gets the new answer.
    polls_record(access=EVERYTHING, polls=[("s1", "2023-01-22 12:00:00 UTC", "active")])
    changed = get(client, POLLS, etag=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["data"]["store"]["polls"]["nodes"] == [{"timestampUtc": "2023-01-22T12:00:00.000000Z", "state": "ACTIVE"}]
    assert get(client, POLLS, etag=changed["ETag"]).status_code == 304


def test_variables_and_the_query_are_part_of_the_etag(client):
    make_store("s1")
    make_store("s2")
    query = "query Page($limit: Int!) { stores(pagination: {limit: $limit}) { results { id } } }"
    one, two = get(client, query, variables={"limit": 1}), get(client, query, variables={"limit": 2})
    assert one["ETag"] != two["ETag"]
    assert get(client, query, variables={"limit": 1}, etag=one["ETag"]).status_code == 304
    assert get(client, query, variables={"limit": 2}, etag=one["ETag"]).status_code == 200


def test_another_owners_write_never_changes_an_owners_etag(client):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    Store.objects.create(store_id="a1", owner=alice)
    Store.objects.create(store_id="b1", owner=bob)
    tokens = {name: token_create(name=name, owner=owner)[1] for name, owner in (("alice", alice), ("bob", bob))}
    seen = get(client, PAGE, token=tokens["alice"])
    assert seen.json()["data"]["stores"]["results"] == [{"id": "a1"}]
    assert get(client, PAGE, token=tokens["bob"])["ETag"] != seen["ETag"]
    # Bob's writes move the data version: alice's read runs again, and comes out the same.
    polls_record(access=EVERYTHING, polls=[("b1", "2023-01-22 12:00:00 UTC", "active")])
    Store.objects.create(store_id="b2", owner=bob)
    after = get(client, PAGE, token=tokens["alice"], etag=seen["ETag"])
    assert after.status_code == 304 and after["ETag"] == seen["ETag"] and after["X-Read-Cache"] == "miss"
    # Her own write changes it.
    Store.objects.create(store_id="a2", owner=alice)
    assert get(client, PAGE, token=tokens["alice"], etag=seen["ETag"]).status_code == 200


def test_two_callers_with_the_same_answer_have_different_etags(client):
    empty = [Owner.objects.create(name=name) for name in ("carol", "dave")]
    tokens = [token_create(name="t", owner=owner)[1] for owner in empty]
    answers = [get(client, PAGE, token=token) for token in tokens]
    assert answers[0].content == answers[1].content and answers[0]["ETag"] != answers[1]["ETag"]
    assert get(client, PAGE, token=tokens[1], etag=answers[0]["ETag"]).status_code == 200


def test_queries_the_cache_does_not_keep_get_etags_too(client):
    first = get(client, "query { reports { totalCount } }")
    assert first.status_code == 200 and "X-Read-Cache" not in first
    assert get(client, "query { reports { totalCount } }", etag=first["ETag"]).status_code == 304


def test_post_and_mutations_are_never_tagged(client):
    make_store("s1")
    posted = graphql_response(client, PAGE)
    assert posted.status_code == 200 and "ETag" not in posted
    tagged = get(client, PAGE)["ETag"]
    again = graphql_response(client, PAGE, headers={"If-None-Match": tagged})
    assert again.status_code == 200 and again.json()["data"]["stores"]["totalCount"] == 1
    mutation = 'mutation { recordPolls(polls: [{storeId: "s1", timestampUtc: "2023-01-22 12:00:00 UTC", status: "active"}]) { loaded } }'
    refused = get(client, mutation)
    assert refused.status_code != 200 and "ETag" not in refused  # mutations are not sent with GET
    assert "ETag" not in graphql_response(client, mutation)


def test_an_error_answer_is_tagged_as_any_answer(client):
    first = get(client, 'query { store(id: "nowhere") { id } }')
    assert first.status_code == 200 and first.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert get(client, 'query { store(id: "nowhere") { id } }', etag=first["ETag"]).status_code == 304
    make_store("nowhere")
    assert get(client, 'query { store(id: "nowhere") { id } }', etag=first["ETag"]).status_code == 200

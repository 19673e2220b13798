"""Owner-scoped access with two owners and a staff token, anonymous access off."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from monitoring.models import ApiToken, Owner, Report
from monitoring.reports import report_run
from monitoring.stores.access import token_create

from tests.factories import worked_example_store
from tests.graphql_client import graphql

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_anonymous")]


@pytest.fixture
def no_anonymous():
    with override_settings(API_ANONYMOUS_ACCESS=False):
        yield


@pytest.fixture
def world():
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, noon = worked_example_store("a1")
    a2, _ = worked_example_store("a2")
    b1, _ = worked_example_store("b1")
    for store, owner in ((a1, alice), (a2, alice), (b1, bob)):
        store.owner = owner
        store.save()
    tokens = {
        "alice": token_create(name="t", owner=alice)[1],
        "bob": token_create(name="t", owner=bob)[1],
        "staff": token_create(name="t", is_staff=True)[1],
    }
    return {"alice": alice, "bob": bob, "tokens": tokens, "noon": noon}


def test_missing_wrong_and_revoked_tokens_get_401(client, world):
    for answer in (
        graphql(client, "{ stores { totalCount } }", status=401),
        graphql(client, "{ stores { totalCount } }", token="sum_not-a-real-token", status=401),
    ):
        assert "token" in answer["error"].lower() or "bearer" in answer["error"].lower()
    for response in (
        client.post("/trigger_report/"),
        client.get("/get_report/", {"report_id": "x"}),
        client.get("/store/a1/trigger_report/", headers={"Authorization": "Basic abc"}),
    ):
        assert response.status_code == 401
        assert "token" in response.json()["error"].lower() or "bearer" in response.json()["error"].lower()
    ApiToken.objects.filter(owner=world["alice"]).update(revoked_at="2026-01-01T00:00:00Z")
    graphql(client, "{ stores { totalCount } }", token=world["tokens"]["alice"], status=401)


def test_tokens_are_stored_hashed(world):
    raw = world["tokens"]["alice"]
    stored = ApiToken.objects.get(owner=world["alice"])
    assert raw not in (stored.key_hash, stored.key_prefix) and len(stored.key_hash) == 64
    assert raw.startswith(stored.key_prefix)


def test_owner_sees_only_their_stores_and_polls(client, world):
    alice = world["tokens"]["alice"]
    stores = graphql(client, "{ stores { totalCount results { id } } }", token=alice)["data"]["stores"]
    assert stores == {"totalCount": 2, "results": [{"id": "a1"}, {"id": "a2"}]}
    other = graphql(client, '{ store(id: "b1") { id } }', token=alice)
    assert other["errors"][0]["message"] == "store not found: b1"
    polls = graphql(client, '{ store(id: "a1") { statusPolls { totalCount } } }', token=alice)
    assert polls["data"]["store"]["statusPolls"]["totalCount"] == 2
    staff = graphql(client, "{ stores { totalCount } }", token=world["tokens"]["staff"])
    assert staff["data"]["stores"]["totalCount"] == 3


def test_owner_reports_cover_only_their_stores(client, world):
    alice, bob = world["tokens"]["alice"], world["tokens"]["bob"]
    report_id = graphql(client, "mutation { triggerReport { id } }", token=alice)["data"]["triggerReport"]["id"]
    report_run(report_id=report_id)
    assert sorted(Report.objects.get(pk=report_id).rows.values_list("store_id", flat=True)) == ["a1", "a2"]

    refused = graphql(client, 'mutation { triggerReport(storeIds: ["b1"]) { id } }', token=alice)
    assert refused["errors"][0]["message"] == "storeIds: no such store: b1"

    # Bob can neither see Alice's report through GraphQL nor fetch it through REST.
    hidden = graphql(client, "query($id: ID!) { report(id: $id) { id } }", token=bob, variables={"id": report_id})
    assert hidden["errors"][0]["message"] == f"report not found: {report_id}"
    assert graphql(client, "{ reports { totalCount } }", token=bob)["data"]["reports"]["totalCount"] == 0
    bob_headers = {"Authorization": f"Bearer {bob}"}
    assert client.get("/get_report/", {"report_id": report_id}, headers=bob_headers).status_code == 404
    alice_headers = {"Authorization": f"Bearer {alice}"}
    response = client.get("/get_report/", {"report_id": report_id}, headers=alice_headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    # The staff token sees every report.
    staff = graphql(client, "{ reports { totalCount } }", token=world["tokens"]["staff"])
    assert staff["data"]["reports"]["totalCount"] == 1


def test_rest_store_trigger_is_scoped(client, world):
    headers = {"Authorization": f"Bearer {world['tokens']['alice']}"}
    assert client.post("/store/b1/trigger_report/", headers=headers).status_code == 404
    response = client.post("/store/a1/trigger_report/", headers=headers)
    assert response.status_code == 200
    report = Report.objects.get(pk=response.json()["report_id"])
    assert report.owner == world["alice"] and report.store_ids == ["a1"]


def test_graphiql_page_loads_without_a_token(client, world):
    response = client.get("/graphql/", headers={"Accept": "text/html"})
    assert response.status_code == 200 and b"graphiql" in response.content.lower()
    assert client.get("/graphql/", {"query": "{ stores { totalCount } }"}).status_code == 401


def test_create_api_token_command(client, world):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "dash", "--owner", "carol", "--store", "b1", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    stores = graphql(client, "{ stores { results { id } } }", token=raw)["data"]["stores"]["results"]
    assert stores == [{"id": "b1"}]


def test_owner_records_polls_only_for_their_stores(client, world):
    mutation = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) {
        loaded rejected rejections { index field reason } } }"""
    polls = [
        {"storeId": "b1", "timestampUtc": "2023-01-25 18:00:00 UTC", "status": "active"},
        {"storeId": "a1", "timestampUtc": "2023-01-25 18:00:00 UTC", "status": "active"},
        {"storeId": "brand-new", "timestampUtc": "2023-01-25 18:00:00 UTC", "status": "active"},
    ]
    result = graphql(client, mutation, token=world["tokens"]["alice"], variables={"polls": polls})
    data = result["data"]["recordPolls"]
    assert data["loaded"] == 1 and data["rejected"] == 2
    assert data["rejections"] == [
        {"index": 0, "field": "storeId", "reason": "store not found"},
        {"index": 2, "field": "storeId", "reason": "store not found"},
    ]


def test_owner_without_stores_gets_an_empty_report(client, world):
    carol = Owner.objects.create(name="carol")
    _, raw = token_create(name="t", owner=carol)
    report_id = graphql(client, "mutation { triggerReport { id } }", token=raw)["data"]["triggerReport"]["id"]
    report = report_run(report_id=report_id)
    assert report.status == Report.Status.COMPLETE and report.store_count == 0
    assert report.csv.splitlines() == [report.csv.splitlines()[0]]  # the header alone


def test_refusals_by_the_middleware_carry_an_error_code(client, world):
    """401 and the cross-site 403 answer the API's one error body: `error` for REST clients,
    `errors[].extensions.code` as every GraphQL error (docs/api.md)."""
    unauthenticated = graphql(client, "{ stores { totalCount } }", status=401)
    assert unauthenticated["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert unauthenticated["error"] == unauthenticated["errors"][0]["message"]
    malformed = client.get("/graphql/?q=%ff")  # not UTF-8
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_live_audiences_follow_the_tenancy_rule(world):
    """A caller hears a store's live events (an audience in common) exactly when
    stores_visible shows it that store: for each owner, staff, and a store without owner."""
    from monitoring.models import Store
    from monitoring.stores.access import EVERYTHING, audiences_visible, owner_access, store_audiences, stores_visible

    make_store_without_owner = worked_example_store("nobody's")[0]
    stores = list(Store.objects.all())
    assert make_store_without_owner.owner_id is None and len(stores) == 4
    for access in (owner_access(world["alice"].pk), owner_access(world["bob"].pk), EVERYTHING):
        visible = set(stores_visible(access=access))
        for store in stores:
            hears = bool(set(audiences_visible(access=access)) & set(store_audiences(owner_id=store.owner_id)))
            assert hears == (store in visible), (access, store.store_id)

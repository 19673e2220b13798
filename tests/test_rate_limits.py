"""Rate limits per caller beyond the API's report triggers and recordPolls
(monitoring.throttle): the pages' Generate report button counts against the report
limit; setSpecialHours, clearSpecialHours, createWebhook and deleteWebhook against
RATE_LIMIT_WRITES. setSpecialHours is also bounded per call and per store."""

import json
import uuid

import pytest

from monitoring.stores.access import token_create
from monitoring.models import Owner, Report, SpecialHours
from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db

SET = """mutation($date: Date!, $shifts: [ShiftInput!]!) {
  setSpecialHours(storeId: "s1", date: $date, shifts: $shifts) {
    specialHours { date } userErrors { field message code } } }"""
CLEAR = 'mutation { clearSpecialHours(storeId: "s1", date: "2023-12-25") { cleared } }'
CREATE = 'mutation { createWebhook(url: "https://example.com/hook") { webhook { id } secret } }'
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }"
ONE_SHIFT = [{"startTimeLocal": "09:00", "endTimeLocal": "12:00"}]


@pytest.fixture
def alice():
    """An owner with one store, and their bearer header."""
    owner = Owner.objects.create(name="alice")
    store, _ = worked_example_store("s1")
    store.owner = owner
    store.save()
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(name='t', owner=owner)[1]}"}


def gql(client, headers: dict, query: str, variables: dict | None = None):
    response = client.post(
        "/graphql/", json.dumps({"query": query, "variables": variables or {}}), content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content[:300]
    return response


def refused_code(response) -> str | None:
    errors = response.json().get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


# --------------------------------------------------------------------------- pages


def test_generate_report_button_counts_against_the_report_limit(client, alice, settings):
    settings.RATE_LIMIT_REPORTS = 2
    for _ in range(2):
        assert client.post("/reports/generate/", **alice).status_code == 302
    refused = client.post("/reports/generate/", **alice)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 120
    body = refused.json()  # the REST triggers' error, with the code every API error has
    assert "rate limit" in body["error"] and body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert Report.objects.count() == 2
    # The REST trigger shares the count; a browser is shown a page with the same message.
    assert client.post("/trigger_report/", **alice).status_code == 429
    page = client.post("/reports/generate/", HTTP_ACCEPT="text/html", **alice)
    assert page.status_code == 429 and page["Retry-After"] and b"rate limit exceeded" in page.content
    assert Report.objects.count() == 2


# --------------------------------------------------------------------------- writes


def test_special_hours_and_webhook_writes_are_limited_per_caller(client, alice, settings):
    settings.RATE_LIMIT_WRITES = 4
    assert gql(client, alice, SET, {"date": "2023-12-25", "shifts": ONE_SHIFT}).json()["data"]["setSpecialHours"]
    assert gql(client, alice, CLEAR).json()["data"]["clearSpecialHours"]["cleared"] is True
    webhook_id = gql(client, alice, CREATE).json()["data"]["createWebhook"]["webhook"]["id"]
    assert gql(client, alice, DELETE, {"id": webhook_id}).json()["data"]["deleteWebhook"]["deleted"] is True
    for query, variables in (
        (SET, {"date": "2023-12-26", "shifts": ONE_SHIFT}),
        (CLEAR, None),
        (CREATE, None),
        (DELETE, {"id": str(uuid.uuid4())}),
    ):
        response = gql(client, alice, query, variables)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED", (query, error)
        assert int(response["Retry-After"]) == error["extensions"]["retryAfter"] >= 1
    assert not SpecialHours.objects.filter(date="2023-12-26").exists()
    # Another caller has a limit of its own.
    staff = {"HTTP_AUTHORIZATION": f"Bearer {token_create(name='s', is_staff=True)[1]}"}
    assert refused_code(gql(client, staff, SET, {"date": "2023-12-27", "shifts": ONE_SHIFT})) is None


def test_set_special_hours_refuses_too_many_shifts_before_reading_them(client, alice):
    shifts = [{"startTimeLocal": "not a time", "endTimeLocal": "x"}] * 5000
    payload = gql(client, alice, SET, {"date": "2023-12-25", "shifts": shifts}).json()["data"]["setSpecialHours"]
    assert payload["specialHours"] is None
    [error] = payload["userErrors"]
    assert error["field"] == "shifts" and error["code"] == "INVALID_ARGUMENT" and "at most 10 shifts" in error["message"]


def test_a_store_keeps_at_most_its_ceiling_of_special_hours_rows(client, alice, settings):
    settings.SPECIAL_HOURS_MAX_ROWS_PER_STORE = 3
    two = [ONE_SHIFT[0], {"startTimeLocal": "13:00", "endTimeLocal": "17:00"}]
    assert not gql(client, alice, SET, {"date": "2023-12-24", "shifts": two}).json()["data"]["setSpecialHours"]["userErrors"]
    assert not gql(client, alice, SET, {"date": "2023-12-25", "shifts": ONE_SHIFT}).json()["data"]["setSpecialHours"]["userErrors"]
    payload = gql(client, alice, SET, {"date": "2023-12-26", "shifts": []}).json()["data"]["setSpecialHours"]
    [error] = payload["userErrors"]
    assert error["field"] == "date" and error["code"] == "INVALID_ARGUMENT" and "at most 3 a store" in error["message"]
    assert SpecialHours.objects.count() == 3
    # A date already stored may still be rewritten within the ceiling.
    rewritten = gql(client, alice, SET, {"date": "2023-12-24", "shifts": ONE_SHIFT}).json()["data"]["setSpecialHours"]
    assert rewritten["userErrors"] == [] and len(rewritten["specialHours"]) == 1

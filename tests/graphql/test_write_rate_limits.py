"""setSpecialHours, clearSpecialHours, createWebhook and deleteWebhook count against
RATE_LIMIT_WRITES per caller; setSpecialHours is also bounded per call and per store."""

import uuid

import pytest
from monitoring.models import SpecialHours
from monitoring.stores.access import token_create

from tests.graphql_client import graphql, graphql_response

pytestmark = pytest.mark.django_db


SET = """mutation($date: Date!, $shifts: [ShiftInput!]!) {
  setSpecialHours(storeId: "s1", date: $date, shifts: $shifts) {
    specialHours { date } userErrors { field message code } } }"""


CLEAR = 'mutation { clearSpecialHours(storeId: "s1", date: "2023-12-25") { cleared } }'


CREATE = 'mutation { createWebhook(url: "https://example.com/hook") { webhook { id } secret } }'


DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }"


ONE_SHIFT = [{"startTimeLocal": "09:00", "endTimeLocal": "12:00"}]


def refused_code(answer: dict) -> str | None:
    errors = answer.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def test_special_hours_and_webhook_writes_are_limited_per_caller(client, alice, settings):
    settings.RATE_LIMIT_WRITES = 4
    assert graphql(client, SET, {"date": "2023-12-25", "shifts": ONE_SHIFT}, token=alice["token"])["data"]["setSpecialHours"]
    assert graphql(client, CLEAR, token=alice["token"])["data"]["clearSpecialHours"]["cleared"] is True
    webhook_id = graphql(client, CREATE, token=alice["token"])["data"]["createWebhook"]["webhook"]["id"]
    assert graphql(client, DELETE, {"id": webhook_id}, token=alice["token"])["data"]["deleteWebhook"]["deleted"] is True
    for query, variables in (
        (SET, {"date": "2023-12-26", "shifts": ONE_SHIFT}),
        (CLEAR, None),
        (CREATE, None),
        (DELETE, {"id": str(uuid.uuid4())}),
    ):
        response = graphql_response(client, query, variables, token=alice["token"])
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED", (query, error)
        assert int(response["Retry-After"]) == error["extensions"]["retryAfter"] >= 1
    assert not SpecialHours.objects.filter(date="2023-12-26").exists()
    # Another caller has a limit of its own.
    staff = token_create(name="s", is_staff=True)[1]
    assert refused_code(graphql(client, SET, {"date": "2023-12-27", "shifts": ONE_SHIFT}, token=staff)) is None


def test_set_special_hours_refuses_too_many_shifts_before_reading_them(client, alice):
    shifts = [{"startTimeLocal": "not a time", "endTimeLocal": "x"}] * 5000
    payload = graphql(client, SET, {"date": "2023-12-25", "shifts": shifts}, token=alice["token"])["data"]["setSpecialHours"]
    assert payload["specialHours"] is None
    [error] = payload["userErrors"]
    assert error["field"] == "shifts" and error["code"] == "INVALID_ARGUMENT" and "at most 10 shifts" in error["message"]


def test_a_store_keeps_at_most_its_ceiling_of_special_hours_rows(client, alice, settings):
    settings.SPECIAL_HOURS_MAX_ROWS_PER_STORE = 3
    two = [ONE_SHIFT[0], {"startTimeLocal": "13:00", "endTimeLocal": "17:00"}]
    assert not graphql(client, SET, {"date": "2023-12-24", "shifts": two}, token=alice["token"])["data"]["setSpecialHours"]["userErrors"]
    assert not graphql(client, SET, {"date": "2023-12-25", "shifts": ONE_SHIFT}, token=alice["token"])["data"]["setSpecialHours"]["userErrors"]
    payload = graphql(client, SET, {"date": "2023-12-26", "shifts": []}, token=alice["token"])["data"]["setSpecialHours"]
    [error] = payload["userErrors"]
    assert error["field"] == "date" and error["code"] == "INVALID_ARGUMENT" and "at most 3 a store" in error["message"]
    assert SpecialHours.objects.count() == 3
    # A date already stored may still be rewritten within the ceiling.
    rewritten = graphql(client, SET, {"date": "2023-12-24", "shifts": ONE_SHIFT}, token=alice["token"])["data"]["setSpecialHours"]
    assert rewritten["userErrors"] == [] and len(rewritten["specialHours"]) == 1

"""`Report.error` is null when there is no error (not ""), and `createWebhook` and
`deleteWebhook` answer payloads in the codebase's style, with `userErrors`."""

import json

import pytest

from monitoring.models import Report

pytestmark = pytest.mark.django_db


def gql(client, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}})
    return client.post("/graphql/", body, content_type="application/json").json()


def test_report_error_is_null_unless_failed(client):
    pending = Report.objects.create()
    failed = Report.objects.create(status=Report.Status.FAILED, error="the report did not finish after 3 attempts")
    query = "query($id: ID!) { report(id: $id) { status error } }"
    assert gql(client, query, {"id": str(pending.id)})["data"]["report"] == {"status": "PENDING", "error": None}
    assert gql(client, query, {"id": str(failed.id)})["data"]["report"]["error"] == failed.error


def test_delete_webhook_answers_a_payload(client):
    created = gql(client, 'mutation { createWebhook(url: "https://hooks.example.com/x") { webhook { id } } }')
    webhook_id = created["data"]["createWebhook"]["webhook"]["id"]
    delete = "mutation($id: ID!) { deleteWebhook(id: $id) { deleted id userErrors { field message code } } }"
    assert gql(client, delete, {"id": webhook_id})["data"]["deleteWebhook"] == {"deleted": True, "id": webhook_id, "userErrors": []}
    assert gql(client, delete, {"id": webhook_id})["data"]["deleteWebhook"] == {"deleted": False, "id": webhook_id, "userErrors": []}
    refused = gql(client, delete, {"id": "not-a-uuid"})["data"]["deleteWebhook"]
    assert refused["deleted"] is False and refused["userErrors"] == [
        {"field": "id", "message": "id: not a webhook id: 'not-a-uuid'", "code": "INVALID_ARGUMENT"}
    ]


def test_create_webhook_refusals_are_user_errors(client):
    create = """mutation($url: String!, $confirm: Int) { createWebhook(url: $url, confirmPolls: $confirm) {
                  webhook { id } secret userErrors { field message code } } }"""
    made = gql(client, create, {"url": "https://hooks.example.com/x"})["data"]["createWebhook"]
    assert made["webhook"]["id"] and made["secret"] and made["userErrors"] == []
    for variables, field in (({"url": "ftp://example.com"}, "url"), ({"url": "https://example.com", "confirm": 0}, "confirmPolls")):
        refused = gql(client, create, variables)["data"]["createWebhook"]
        assert refused["webhook"] is None and refused["secret"] is None
        [error] = refused["userErrors"]
        assert error["field"] == field and error["code"] == "INVALID_ARGUMENT" and error["message"].startswith(f"{field}: ")
    # Nothing was made by the refusals.
    listed = gql(client, "query { webhooks { id } }")["data"]["webhooks"]
    assert [webhook["id"] for webhook in listed] == [made["webhook"]["id"]]

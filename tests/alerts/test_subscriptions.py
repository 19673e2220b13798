"""Webhook subscriptions over GraphQL (owner scoped) and the command line (the secret
printed once); the API's enums are the domain's lists."""

import io
from datetime import timedelta

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from monitoring.alerts.models import Delivery, Webhook
from monitoring.models import Owner, Store
from monitoring.stores.access import token_create

from tests.alert_polls import record
from tests.graphql_client import graphql

CREATE = """mutation($url: String!) { createWebhook(url: $url, events: [STORE_DOWN, STORE_UP], confirmPolls: 2) {
  webhook { id url events } secret } }"""


LIST = "{ webhooks { id url events confirmPolls deliveries { event storeId status attempts lastAttemptAt } } }"


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_webhooks_over_graphql_are_owner_scoped(client, alert_world):
    alice = Owner.objects.get(name="alice")
    alice_token = token_create(name="t", owner=alice)[1]
    bob_token = token_create(name="t", owner=Owner.objects.get(name="bob"))[1]
    created = graphql(client, CREATE, {"url": "https://example.com/new"}, token=alice_token)["data"]["createWebhook"]
    assert created["secret"].startswith("whsec_") and created["webhook"]["events"] == ["STORE_DOWN", "STORE_UP"]
    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    listed = graphql(client, LIST, token=alice_token)["data"]["webhooks"]
    assert [hook["confirmPolls"] for hook in listed] == [1, 2]
    assert listed[0]["deliveries"] == [
        {"event": "STORE_DOWN", "storeId": "a1", "status": "PENDING", "attempts": 0, "lastAttemptAt": None}
    ]
    # Each delivery has the id of its row.
    ids = graphql(client, "{ webhooks { deliveries { id } } }", token=alice_token)["data"]["webhooks"][0]["deliveries"]
    assert [d["id"] for d in ids] == [str(pk) for pk in Delivery.objects.order_by("-created_at").values_list("pk", flat=True)]
    assert graphql(client, LIST, token=bob_token)["data"]["webhooks"] == []
    delete = "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }"
    assert graphql(client, delete, {"id": created["webhook"]["id"]}, token=bob_token)["data"]["deleteWebhook"]["deleted"] is False
    assert graphql(client, delete, {"id": created["webhook"]["id"]}, token=alice_token)["data"]["deleteWebhook"]["deleted"] is True
    refused = graphql(client, CREATE, {"url": "ftp://example.com"}, token=alice_token)
    assert refused["data"] is None and refused["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "url"}
    too_many = graphql(client, "mutation { createWebhook(url: \"https://example.com\", confirmPolls: 0) { secret } }", token=alice_token)
    assert too_many["errors"][0]["extensions"]["argument"] == "confirmPolls"
    assert too_many["errors"][0]["message"].startswith("confirmPolls: ")


def test_create_webhook_command_prints_the_secret_once(alert_world):
    out = io.StringIO()
    call_command("create_webhook", "--owner", "bob", "https://example.com/bob", stdout=out)
    webhook = Webhook.objects.get(url="https://example.com/bob")
    assert webhook.owner.name == "bob" and f"secret (shown once): {webhook.secret}" in out.getvalue()


def test_the_api_enums_are_the_domains_lists():
    from graphql_schema.alerts.types import AlertEvent, DeliveryStatus
    from monitoring.alerts.escalation import ESCALATION_EVENTS
    from monitoring.alerts.events import ALERT_EVENTS

    assert [event.value for event in AlertEvent] == list(ALERT_EVENTS + ESCALATION_EVENTS)
    assert [status.value for status in DeliveryStatus] == list(Delivery.Status.values)


def test_the_delivery_log_pages_by_cursor_newest_first(client, alert_world):
    webhook = alert_world["webhook"]
    a1 = Store.objects.get(store_id="a1")
    moment = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(webhook=webhook, store=a1, event="STORE_DOWN", episode_at=moment - timedelta(minutes=k))
        for k in range(7)
    )
    # Two at the same instant: the id breaks the tie, so a page boundary between them loses neither.
    Delivery.objects.update(created_at=moment)
    Delivery.objects.filter(pk__in=list(Delivery.objects.order_by("pk").values_list("pk", flat=True)[:3])).update(
        created_at=moment - timedelta(seconds=5)
    )
    expected = [str(pk) for pk in Delivery.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)]
    token = token_create(name="t", owner=Owner.objects.get(name="alice"))[1]
    query = """query($first: Int, $after: String) { webhooks { id deliveryLog(first: $first, after: $after) {
                 nodes { id } pageInfo { hasNextPage endCursor } } } }"""
    edges = """query($first: Int, $after: String) { webhooks { deliveryLog(first: $first, after: $after) {
                 totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }"""
    seen, by_edges, after = [], [], None
    while True:
        body = graphql(client, query, {"first": 2, "after": after}, token=token)
        log = body["data"]["webhooks"][0]["deliveryLog"]
        seen += [node["id"] for node in log["nodes"]]
        same = graphql(client, edges, {"first": 2, "after": after}, token=token)["data"]["webhooks"][0]["deliveryLog"]
        assert same["totalCount"] == 7 and same["pageInfo"] == log["pageInfo"]
        assert same["edges"][-1]["cursor"] == log["pageInfo"]["endCursor"]
        by_edges += [edge["node"]["id"] for edge in same["edges"]]
        if not log["pageInfo"]["hasNextPage"]:
            break
        after = log["pageInfo"]["endCursor"]
    assert seen == expected == by_edges and len(seen) == 7
    refused = graphql(client, query, {"first": 2, "after": "bm90IGEgY3Vyc29y"}, token=token)  # "not a cursor"
    assert refused["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "after"}
    # Only the field refused is null: the webhook itself answers.
    assert refused["data"]["webhooks"] == [{"id": str(webhook.pk), "deliveryLog": None}]
    assert refused["errors"][0]["path"] == ["webhooks", 0, "deliveryLog"]
    priced = graphql(client, query, {"first": 7}, token=token)["extensions"]["cost"]["nodes"]
    assert priced == 100 + 100 * (1 + 7 + 1)  # webhooks (a list of 100) × (the page 1 + 7 nodes + pageInfo 1)

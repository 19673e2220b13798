"""Alerts end to end (docs/rules.md §10) with real processes: the web server (uvicorn), two
`qcluster` workers and a local HTTP receiver. A live inactive poll during business
hours delivers a signed STORE_DOWN within seconds, the active one after it STORE_UP;
a historical poll and another owner's store deliver nothing; a receiver answering 500
gets retries; with two workers and the same poll sent twice at once, each event
arrives once."""

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from monitoring.alerts.delivery import SIGNATURE_HEADER
from monitoring.models import Owner
from monitoring.stores.access import token_create

from tests.alert_receiver import Receiver
from tests.factories import make_store
from tests.graphql_client import graphql_over_http
from tests.processes import free_port, running_web_server, running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = """mutation($url: String!, $events: [AlertEvent!]) {
  createWebhook(url: $url, events: $events) { webhook { id } secret } }"""
RECORD = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }"""


def record(base, token, store_id, moment, status):
    polls = [{"storeId": store_id, "timestampUtc": moment.isoformat(), "status": status}]
    answer = graphql_over_http(base, RECORD, token=token, variables={"polls": polls})
    assert answer["recordPolls"]["rejected"] == 0


def test_live_polls_deliver_signed_alerts_once(tmp_path):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    for store_id, owner in (("a1", alice), ("a2", alice), ("b1", bob)):
        store = make_store(store_id)  # no hours: open 24×7
        store.owner = owner
        store.save()
    alice_token = token_create(name="e2e", owner=alice)[1]
    bob_token = token_create(name="e2e", owner=bob)[1]
    # Retries due 1 s after a failed try's longest run (2 s here), queued by the workers'
    # background thread (every second here).
    env = {
        "ALERT_RETRY_SECONDS": "1",
        "ALERT_TIMEOUT_SECONDS": "2",
        "ALERT_MAX_ATTEMPTS": "3",
        "REPORT_SWEEP_SECONDS": "1",
        "REPORT_HEARTBEAT_SECONDS": "0.5",
    }
    with (
        Receiver() as receiver,
        running_web_server(tmp_path / "web.log", free_port(), **env) as base,
        running_worker(tmp_path / "worker-1.log", **env),
        running_worker(tmp_path / "worker-2.log", **env),
    ):
        secret = graphql_over_http(base, CREATE, token=alice_token, variables={"url": receiver.url + "/ok"})["createWebhook"]["secret"]
        graphql_over_http(base, CREATE, token=alice_token, variables={"url": receiver.url + "/fail", "events": ["STORE_DOWN"]})
        now = timezone.now()

        # The same live inactive poll sent twice at once: one STORE_DOWN, signed.
        sent = time.time()
        threads = [
            threading.Thread(target=record, args=(base, alice_token, "a1", now - timedelta(seconds=30), "inactive"))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        down = wait_for(lambda: receiver.on("/ok"), timeout=30, what="STORE_DOWN")[0]
        assert down.at - sent < 10
        assert down.json["event"] == "STORE_DOWN" and down.json["store_id"] == "a1"
        expected = "sha256=" + hmac.new(secret.encode(), down.body, hashlib.sha256).hexdigest()
        assert down.headers[SIGNATURE_HEADER] == expected

        record(base, alice_token, "a1", now - timedelta(seconds=20), "active")
        up = wait_for(lambda: receiver.on("/ok")[1:], timeout=30, what="STORE_UP")[0]
        assert up.json["event"] == "STORE_UP" and up.json["incident_started_at"] == down.json["incident_started_at"]

        # Nothing for a historical poll, nor for another owner's store.
        record(base, alice_token, "a2", now - timedelta(hours=3), "inactive")
        record(base, bob_token, "b1", now - timedelta(seconds=10), "inactive")
        # The failing receiver is retried (after ALERT_RETRY_SECONDS, by the workers' scheduler).
        wait_for(lambda: len(receiver.on("/fail")) >= 2, timeout=30, what="a retry of the failing webhook")
        time.sleep(2)
        events = [(r.json["event"], r.json["store_id"]) for r in receiver.on("/ok")]
        assert events == [("STORE_DOWN", "a1"), ("STORE_UP", "a1")]
        failures = receiver.on("/fail")
        assert {r.body for r in failures} == {failures[0].body} and failures[0].json["store_id"] == "a1"
        deliveries = graphql_over_http(base, "{ webhooks { url deliveries { event status attempts } } }", token=alice_token)
        by_url = {hook["url"]: hook["deliveries"] for hook in deliveries["webhooks"]}
        assert by_url[receiver.url + "/ok"] == [
            {"event": "STORE_UP", "status": "DELIVERED", "attempts": 1},
            {"event": "STORE_DOWN", "status": "DELIVERED", "attempts": 1},
        ]
        assert by_url[receiver.url + "/fail"][0]["attempts"] >= 2

"""Escalation end to end (docs/rules.md §13) with real processes: the web server, two
workers (each a report and an alerts cluster) and a local receiver; a policy minute lasts
a second here (ESCALATION_MINUTE_SECONDS=1). A live down poll opens an incident; left
unacknowledged, the policy's target receives one signed STORE_DOWN_ESCALATED after
escalateAfterMinutes of business time, then at most maxReminders STORE_STILL_DOWN;
acknowledging stops both; nothing for a store that has closed, nor in the quiet window
before closing; with the poll sent twice at once and two workers, nothing twice."""

import hashlib
import hmac
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from monitoring.alerts.delivery import SIGNATURE_HEADER
from monitoring.alerts.models import Incident
from monitoring.models import Owner
from monitoring.stores.access import token_create

from tests.alert_receiver import Receiver
from tests.factories import make_store
from tests.graphql_client import graphql_over_http
from tests.processes import free_port, running_web_server, running_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CREATE = """mutation($url: String!) { createWebhook(url: $url, events: [STORE_SILENT]) { webhook { id } secret } }"""
POLICY = """mutation($after: Int!, $every: Int!, $max: Int!, $quiet: Int!, $targets: [ID!]!) {
  setEscalationPolicy(escalateAfterMinutes: $after, remindEveryMinutes: $every, maxReminders: $max,
    quietBeforeCloseMinutes: $quiet, targets: $targets) { userErrors { message } } }"""
RECORD = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }"""
ACKNOWLEDGE = """mutation($id: ID!) { acknowledgeIncident(id: $id, note: "on it") { userErrors { message } } }"""
ESCALATE_AFTER, REMIND_EVERY, MAX_REMINDERS = 4, 3, 2  # seconds here


def record(base, token, store_id, moment, status):
    polls = [{"storeId": store_id, "timestampUtc": moment.isoformat(), "status": status}]
    answer = graphql_over_http(base, RECORD, token=token, variables={"polls": polls})
    assert answer["recordPolls"]["rejected"] == 0


def instant(received) -> float:
    """When the server found the step due: the payload's `at`, in seconds since the epoch."""
    return datetime.fromisoformat(received.json["at"]).timestamp()


def midday_zone(now: datetime) -> ZoneInfo:
    """A fixed-offset zone where it is about noon now: a shift closing minutes from now
    stays on today's date whenever the test runs."""
    offset = 12 - now.astimezone(ZoneInfo("UTC")).hour  # -11 … 12 hours
    return ZoneInfo(f"Etc/GMT{-offset:+d}" if offset else "UTC")


def closing_store(store_id: str, owner: Owner, *, now: datetime, closes_in: timedelta) -> None:
    zone = midday_zone(now)
    local = now.astimezone(zone)
    opens, closes = (local - timedelta(hours=1)).time(), (local + closes_in).time()
    store = make_store(store_id, zone=zone.key, hours=[(local.weekday(), opens.isoformat(), closes.isoformat())])
    store.owner = owner
    store.save()


def test_unacknowledged_incidents_escalate_once_and_remind_up_to_the_cap(tmp_path):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    for store_id, owner in (("e1", alice), ("e2", alice), ("b1", bob)):  # open 24×7
        store = make_store(store_id)
        store.owner = owner
        store.save()
    alice_token, bob_token = token_create(name="ops", owner=alice)[1], token_create(name="ops", owner=bob)[1]
    env = {"ESCALATION_MINUTE_SECONDS": "1", "REPORT_SWEEP_SECONDS": "0.5", "REPORT_HEARTBEAT_SECONDS": "0.5"}
    with (
        Receiver() as receiver,
        running_web_server(tmp_path / "web.log", free_port(), **env) as base,
        running_worker(tmp_path / "worker-1.log", **env),
        running_worker(tmp_path / "worker-2.log", **env),
    ):
        secrets = {}
        for token, path, quiet in ((alice_token, "/ok-alice", 0), (bob_token, "/ok-bob", 600)):
            created = graphql_over_http(base, CREATE, token=token, variables={"url": receiver.url + path})["createWebhook"]
            secrets[path] = created["secret"]
            policy = {"after": ESCALATE_AFTER, "every": REMIND_EVERY, "max": MAX_REMINDERS, "quiet": quiet}
            answer = graphql_over_http(base, POLICY, token=token, variables={**policy, "targets": [created["webhook"]["id"]]})
            assert answer["setEscalationPolicy"]["userErrors"] == []

        # The same live down poll twice at once, and the other stores down. c1 closes three
        # seconds after: it has been down for less than its escalation's business time.
        # q1 closes in five minutes: inside bob's quiet window (600 policy minutes, 10 minutes here).
        down_at = timezone.now() - timedelta(seconds=1)
        closing_store("c1", alice, now=down_at, closes_in=timedelta(seconds=3))
        closing_store("q1", bob, now=down_at, closes_in=timedelta(minutes=5))
        threads = [threading.Thread(target=record, args=(base, alice_token, "e1", down_at, "inactive")) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        record(base, alice_token, "e2", down_at, "inactive")
        record(base, alice_token, "c1", down_at, "inactive")
        record(base, bob_token, "q1", down_at, "inactive")
        record(base, bob_token, "b1", down_at, "inactive")
        incidents = dict(Incident.objects.values_list("store__store_id", "pk"))
        assert sorted(incidents) == ["b1", "c1", "e1", "e2", "q1"]
        assert set(Incident.objects.values_list("status", flat=True)) == {"OPEN"}

        def sent(store_id):
            return [r for r in receiver.on("/ok-alice") if r.json["store_id"] == store_id]

        # e2: escalated, then acknowledged: nothing more after that.
        escalated = wait_for(lambda: sent("e2"), timeout=30, what="e2's STORE_DOWN_ESCALATED")[0]
        answer = graphql_over_http(base, ACKNOWLEDGE, token=alice_token, variables={"id": str(incidents["e2"])})
        assert answer["acknowledgeIncident"]["userErrors"] == []
        assert escalated.json["event"] == "STORE_DOWN_ESCALATED"
        acknowledged = time.time()

        # e1: escalated once, then exactly MAX_REMINDERS reminders, REMIND_EVERY apart.
        wait_for(lambda: len(sent("e1")) >= 1 + MAX_REMINDERS, timeout=60, what="e1's escalation and reminders")
        time.sleep(REMIND_EVERY * 2)  # time for a reminder too many, or a step sent twice
        e1 = sent("e1")
        assert [r.json["event"] for r in e1] == ["STORE_DOWN_ESCALATED"] + ["STORE_STILL_DOWN"] * MAX_REMINDERS
        assert len({r.headers["X-Delivery-Id"] for r in e1}) == len(e1)
        for r in e1:
            assert r.json["incident_id"] == str(incidents["e1"])
            assert r.headers[SIGNATURE_HEADER] == "sha256=" + hmac.new(
                secrets["/ok-alice"].encode(), r.body, hashlib.sha256
            ).hexdigest()
        # Business time from the incident's start, then from the previous step (`at`: when
        # each step was found due), never earlier.
        found = [instant(r) for r in e1]
        assert found[0] - down_at.timestamp() >= ESCALATE_AFTER
        assert all(later - earlier >= REMIND_EVERY for earlier, later in zip(found, found[1:]))

        # e2 got nothing found due after its acknowledgement, so fewer steps than e1.
        e2 = sent("e2")
        assert all(instant(r) <= acknowledged for r in e2) and len(e2) < len(e1)
        assert sent("c1") == []  # closed three seconds after going down
        # bob's store open all day escalates; the one in its quiet window never does.
        assert {(r.json["store_id"], r.json["event"]) for r in receiver.on("/ok-bob")} == {
            ("b1", "STORE_DOWN_ESCALATED"), ("b1", "STORE_STILL_DOWN")
        }

"""Escalation against the database (monitoring.alerts.escalation_check, monitoring.alerts.policies):
the policy set through GraphQL with coded refusals; steps sent once each to the policy's
targets, signed deliveries naming the incident; acknowledgement stops them; two checks
at once send each step once. The real-process run is tests/e2e/test_escalation_delivered.py."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from monitoring.alerts.delivery import delivery_body
from monitoring.alerts.escalation import STORE_DOWN_ESCALATED, STORE_STILL_DOWN, Step
from monitoring.alerts.escalation_check import Candidate, incidents_escalate, steps_record
from monitoring.alerts.incidents import Actor, incident_acknowledge
from monitoring.alerts.models import Delivery, EscalationPolicy, Incident, IncidentEscalation
from monitoring.alerts.policies import escalation_policy_set
from monitoring.alerts.webhooks import webhook_create
from monitoring.models import Owner
from monitoring.stores.access import EVERYTHING, token_create

from tests.alert_polls import record
from tests.graphql_client import graphql

SET = """mutation($owner: String, $after: Int, $every: Int, $max: Int, $quiet: Int, $targets: [ID!]) {
  setEscalationPolicy(owner: $owner, escalateAfterMinutes: $after, remindEveryMinutes: $every, maxReminders: $max,
    quietBeforeCloseMinutes: $quiet, targets: $targets) {
    policy { owner escalateAfterMinutes remindEveryMinutes maxReminders quietBeforeCloseMinutes targets { id url } }
    userErrors { field code message } } }"""


def escalations(**filters):
    return list(
        Delivery.objects.filter(event__in=(STORE_DOWN_ESCALATED, STORE_STILL_DOWN), **filters)
        .order_by("pk")
        .values_list("event", "webhook__url")
    )


@pytest.fixture
def escalating(alert_world):
    """alice's store a1 down since two minutes ago (live), a policy of 10, 5, 2, 0 to a target."""
    target, _ = webhook_create(access=alert_world["alice"], url="https://example.com/pager")
    escalation_policy_set(
        access=alert_world["alice"], escalate_after_minutes=10, remind_every_minutes=5, max_reminders=2,
        target_ids=[str(target.pk)],
    )
    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=2), "inactive"))
    incident = Incident.objects.get()
    return {**alert_world, "target": target, "incident": incident, "start": incident.started_at}


def test_the_policy_is_set_through_graphql_and_bad_input_is_refused_with_codes(alert_world):
    client = Client()
    alice, bob = Owner.objects.get(name="alice"), Owner.objects.get(name="bob")
    alice_token = token_create(name="ops", owner=alice)[1]
    bob_hook, _ = webhook_create(access=alert_world["bob"], url="https://example.com/bob")
    mine = str(alert_world["webhook"].pk)
    answer = graphql(client, SET, {"after": 20, "every": 10, "max": 3, "quiet": 15, "targets": [mine]}, token=alice_token)
    assert answer["data"]["setEscalationPolicy"] == {
        "policy": {
            "owner": "alice", "escalateAfterMinutes": 20, "remindEveryMinutes": 10, "maxReminders": 3,
            "quietBeforeCloseMinutes": 15, "targets": [{"id": mine, "url": "https://example.com/hook"}],
        },
        "userErrors": [],
    }
    # Only what is given changes.
    answer = graphql(client, SET, {"max": 0}, token=alice_token)["data"]["setEscalationPolicy"]["policy"]
    assert (answer["escalateAfterMinutes"], answer["maxReminders"], len(answer["targets"])) == (20, 0, 1)
    refusals = [
        ({"after": 0}, "escalateAfterMinutes"),
        ({"every": 1441}, "remindEveryMinutes"),
        ({"max": 21}, "maxReminders"),
        ({"quiet": -1}, "quietBeforeCloseMinutes"),
        ({"targets": ["nope"]}, "targets[0]"),
        ({"targets": [mine, str(bob_hook.pk)]}, "targets[1]"),  # another owner's webhook
        ({"owner": "bob", "after": 5}, "owner"),  # an owner sets only their own
    ]
    for variables, field in refusals:
        refused = graphql(client, SET, variables, token=alice_token)["data"]["setEscalationPolicy"]
        assert refused["policy"] is None and [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (field, "INVALID_ARGUMENT")
        ], variables
    policy = EscalationPolicy.objects.get(owner=alice)
    assert (policy.escalate_after_minutes, policy.max_reminders, policy.quiet_before_close_minutes) == (20, 0, 15)
    staff = token_create(name="root", is_staff=True)[1]
    no_owner = graphql(client, SET, {"after": 5}, token=staff)["data"]["setEscalationPolicy"]
    assert [(e["field"], e["code"]) for e in no_owner["userErrors"]] == [("owner", "INVALID_ARGUMENT")]
    for_bob = graphql(client, SET, {"owner": "bob", "after": 5, "targets": [str(bob_hook.pk)]}, token=staff)
    assert for_bob["data"]["setEscalationPolicy"]["policy"]["owner"] == "bob"
    read = graphql(client, "{ escalationPolicy { owner escalateAfterMinutes } }", token=alice_token)["data"]
    assert read["escalationPolicy"] == {"owner": "alice", "escalateAfterMinutes": 20}


def test_escalation_then_reminders_each_once_up_to_the_cap(escalating):
    start, pager = escalating["start"], "https://example.com/pager"
    assert incidents_escalate(now=start + timedelta(minutes=9, seconds=59)) == []
    first = incidents_escalate(now=start + timedelta(minutes=10))
    assert escalations() == [(STORE_DOWN_ESCALATED, pager)]
    assert incidents_escalate(now=start + timedelta(minutes=10)) == []  # the same check again
    assert incidents_escalate(now=start + timedelta(minutes=14)) == []
    incidents_escalate(now=start + timedelta(minutes=15))
    incidents_escalate(now=start + timedelta(minutes=20))
    incidents_escalate(now=start + timedelta(hours=5))  # the cap: two reminders
    assert escalations() == [(STORE_DOWN_ESCALATED, pager), (STORE_STILL_DOWN, pager), (STORE_STILL_DOWN, pager)]
    steps = list(IncidentEscalation.objects.order_by("sequence").values_list("sequence", "event"))
    assert steps == [(0, STORE_DOWN_ESCALATED), (1, STORE_STILL_DOWN), (2, STORE_STILL_DOWN)]
    # The other webhook (a subscription to every alert event) hears nothing of escalations.
    assert escalations(webhook=escalating["webhook"]) == []
    # The target's delivery log shows them, newest first (after the STORE_DOWN it subscribed to).
    alice_token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    hooks = graphql(Client(), "{ webhooks { url deliveries { event storeId status } } }", token=alice_token)["data"]["webhooks"]
    logged = {hook["url"]: [d["event"] for d in hook["deliveries"]] for hook in hooks}
    assert logged[pager] == [STORE_STILL_DOWN, STORE_STILL_DOWN, STORE_DOWN_ESCALATED, "STORE_DOWN"]
    body = json.loads(delivery_body(Delivery.objects.select_related("store").get(pk=first[0])))
    assert body["event"] == STORE_DOWN_ESCALATED and body["store_id"] == "a1"
    assert body["incident_id"] == str(escalating["incident"].pk)


def test_acknowledging_stops_escalation_and_reminders(escalating):
    start = escalating["start"]
    incidents_escalate(now=start + timedelta(minutes=10))
    incident_acknowledge(access=escalating["alice"], incident_id=escalating["incident"].pk, actor=Actor("token ops"))
    incidents_escalate(now=start + timedelta(minutes=15))
    incidents_escalate(now=start + timedelta(hours=1))
    assert escalations() == [(STORE_DOWN_ESCALATED, "https://example.com/pager")]


def test_an_acknowledged_or_resolved_incident_never_escalates(escalating):
    incident_acknowledge(access=EVERYTHING, incident_id=escalating["incident"].pk, actor=Actor("user admin"))
    assert incidents_escalate(now=escalating["start"] + timedelta(hours=1)) == []
    record(escalating["bob"], ("b1", timezone.now() - timedelta(minutes=1), "inactive"))  # bob has no policy
    record(escalating["alice"], ("a2", timezone.now() - timedelta(minutes=2), "inactive"))
    record(escalating["alice"], ("a2", timezone.now() - timedelta(minutes=1), "active"))
    assert incidents_escalate(now=escalating["start"] + timedelta(hours=1)) == []
    assert escalations() == []


@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_send_each_step_once(escalating):
    now = escalating["start"] + timedelta(minutes=10)
    barrier = threading.Barrier(2)

    def check():
        barrier.wait()
        try:
            incidents_escalate(now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert escalations() == [(STORE_DOWN_ESCALATED, "https://example.com/pager")]


@pytest.mark.django_db(transaction=True)
def test_the_unique_step_alone_keeps_two_recorders_from_sending_twice(escalating):
    """Without the incidents' lock (two recorders racing on the same step): one inserts it, the other nothing."""
    incident = Incident.objects.get()
    policy = EscalationPolicy.objects.get()
    barrier = threading.Barrier(2)
    results = []

    def send():
        barrier.wait()
        try:
            from django.db import transaction

            with transaction.atomic():
                candidate = Candidate(incident.pk, incident.store_id, incident.started_at, policy.pk)
                results.append(steps_record([(candidate, Step(0, STORE_DOWN_ESCALATED))], now=timezone.now()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert escalations() == [(STORE_DOWN_ESCALATED, "https://example.com/pager")]

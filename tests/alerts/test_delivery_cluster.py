"""Alert delivery has a cluster and queue of its own ("alerts"): whatever queues a delivery
(a web request, a report worker's sweep) puts it on the alerts queue, the alerts schedule
runs there, and with every alert worker held by a slow webhook receiver another owner's
one-store report still completes within seconds (real processes: the web server, both
clusters, a local receiver answering one byte every 3 s)."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from monitoring.stores.access import token_create
from monitoring.alerts.delivery import deliveries_enqueue
from monitoring.models import Owner, Report
from monitoring.reports.queue import chunk_enqueue, report_enqueue
from tests.alert_receiver import Receiver
from tests.factories import make_store, worked_example_store
from tests.processes import free_port, running_web_server, running_worker, wait_for
from tests.graphql_client import graphql_over_http as graphql

CREATE = """mutation($url: String!, $events: [AlertEvent!]) {
  createWebhook(url: $url, events: $events) { webhook { id } secret } }"""
RECORD = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }"""
TRIGGER = """mutation($ids: [ID!]) { triggerReport(storeIds: $ids) { id status } }"""
STATUS = """query($id: ID!) { report(id: $id) { status error } }"""


@pytest.mark.django_db
def test_deliveries_and_reports_go_to_their_own_queues(monkeypatch):
    # Even from a process whose default queue is the alerts one (an alerts worker's sweep).
    monkeypatch.setattr("django_q.conf.Conf.CLUSTER_NAME", settings.Q_ALERT_CLUSTER)
    deliveries_enqueue(delivery_ids=[101, 102])
    report_enqueue(report=Report(id="00000000-0000-0000-0000-000000000001"))
    chunk_enqueue(chunk_id=7, report_id="00000000-0000-0000-0000-000000000001")
    assert sorted(OrmQ.objects.values_list("key", flat=True)) == ["alerts", "alerts", "uptime", "uptime"]
    import importlib

    from django.apps import apps

    # The migrations' schedules, again: an earlier transactional test may have flushed them.
    for name, steps in (
        ("monitoring.migrations.0004_schedule_stale_report_recovery", ("create_schedule",)),
        ("monitoring.alerts.migrations.0002_schedule_every_minute", ("create_schedule",)),
        ("monitoring.alerts.migrations.0003_schedule_on_alerts_cluster", ("to_alerts_cluster",)),
    ):
        migration = importlib.import_module(name)
        for step in steps:
            getattr(migration, step)(apps, None)
    assert Schedule.objects.get(name="alerts every minute").cluster == "alerts"
    assert Schedule.objects.get(name="recover stale reports").cluster is None  # the report cluster's


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_report_completes_while_every_alert_worker_is_held_by_a_slow_receiver(tmp_path):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    for index in range(4):
        store = make_store(f"a{index}")  # open 24×7
        store.owner = alice
        store.save()
    bobs, _ = worked_example_store("b-store")
    bobs.owner = bob
    bobs.save()
    alice_token = token_create(name="e2e", owner=alice)[1]
    bob_token = token_create(name="e2e", owner=bob)[1]
    # One process each: a held worker is the whole of its cluster.
    env = {"Q_WORKERS": "1", "ALERT_WORKERS": "1", "REPORT_SWEEP_SECONDS": "1", "REPORT_HEARTBEAT_SECONDS": "0.5"}
    with (
        Receiver() as receiver,
        running_web_server(tmp_path / "web.log", free_port(), **env) as base,
        running_worker(tmp_path / "worker.log", **env),
    ):
        graphql(base, CREATE, token=alice_token, variables={"url": receiver.url + "/slow", "events": ["STORE_DOWN"]})
        now = timezone.now()
        polls = [
            {"storeId": f"a{index}", "timestampUtc": (now - timedelta(seconds=30)).isoformat(), "status": "inactive"}
            for index in range(4)
        ]
        assert graphql(base, RECORD, token=alice_token, variables={"polls": polls})["recordPolls"]["rejected"] == 0
        wait_for(lambda: receiver.slow_open >= 1, timeout=60, what="the alert worker to be held by the slow receiver")

        started = time.monotonic()
        report_id = graphql(base, TRIGGER, token=bob_token, variables={"ids": ["b-store"]})["triggerReport"]["id"]

        def finished():
            report = graphql(base, STATUS, token=bob_token, variables={"id": report_id})["report"]
            return report if report["status"] in ("COMPLETE", "FAILED") else None

        report = wait_for(finished, timeout=60, interval=0.1, what="bob's one-store report")
        took = time.monotonic() - started
        assert report["status"] == "COMPLETE", report["error"]
        assert receiver.slow_open >= 1, "the alert worker was no longer held: nothing was tested"
    print(f"one-store report COMPLETE in {took:.1f} s with the alert worker held")  # shown with pytest -s
    assert took < 10

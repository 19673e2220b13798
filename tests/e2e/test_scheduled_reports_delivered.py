"""Scheduled range reports end to end (docs/rules.md §11) with real processes:
`runserver`, two workers (each a report cluster and an alerts cluster: four `qcluster`
processes sweeping the same schedules) and a local receiver. Each schedule whose period
has ended gets exactly one signed delivery; its link downloads the CSV that
`generate_report --from --to` writes for that range and those stores; a schedule whose
period is still running sends nothing.

Time is the schedules' own: two are made (by the service, given `now=` as the alert
tests do) eight days ago, so their week is over when the workers look; the
database is real and nothing is mocked."""

import hashlib
import hmac
import io
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from monitoring.alerts.delivery import SIGNATURE_HEADER
from monitoring.schedules.models import ScheduledDelivery
from monitoring.schedules.subscriptions import report_schedule_create
from monitoring.stores.access import EVERYTHING
from tests.alert_receiver import Receiver
from tests.graphql_client import graphql_over_http
from tests.processes import free_port, running_web_server, running_worker, wait_for
from monitoring.kernel.values import instant_text
from monitoring.schedules.periods import WEEKLY, period_holding
from tests.schedules.week import two_owners_week

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CREATE = """mutation($url: String!) {
  createReportSchedule(period: WEEKLY, zone: "America/New_York", url: $url) { schedule { id } secret userErrors { message } } }"""
LIST = "{ reportSchedules { url deliveries { status attempts storeCount reportId } } }"


ZONE = "America/New_York"


def generate_report(start: datetime, end: datetime, *stores: str) -> str:
    out = io.StringIO()
    call_command("generate_report", "--from", start.isoformat(), "--to", end.isoformat(), "--store", *stores, stdout=out)
    return out.getvalue()


def test_each_ended_period_is_delivered_once_signed_with_its_csv(tmp_path):
    # A day before this week began: the week holding it is over, and the week after it
    # (this one) is not, whatever the day of the week today.
    this_week, _ = period_holding(period=WEEKLY, zone=ZONE, moment=datetime.now(UTC))
    last_week = this_week - timedelta(days=1)
    start, end = period_holding(period=WEEKLY, zone=ZONE, moment=last_week)
    world = two_owners_week(start, end)
    port = free_port()
    env = {
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "REPORT_SWEEP_SECONDS": "1",
        "REPORT_HEARTBEAT_SECONDS": "0.5",
        "ALERT_RETRY_SECONDS": "1",
        # Room for a receiver slowed by a busy machine: a try past it is retried, and the
        # receiver would see the delivery twice (at least once, by design).
        "ALERT_TIMEOUT_SECONDS": "10",
    }
    with Receiver() as receiver:
        secrets = {}
        for path, access in (("/alice", world["alice"]), ("/staff", EVERYTHING)):
            schedule, secret = report_schedule_create(
                access=access, period=WEEKLY, zone=ZONE, url=receiver.url + path, now=last_week
            )
            secrets[path] = secret
        with (
            running_web_server(tmp_path / "web.log", port, **env) as base,
            running_worker(tmp_path / "worker-1.log", **env),
            running_worker(tmp_path / "worker-2.log", **env),
        ):
            # Made now, through the API: its week is running, nothing is sent for it.
            made = graphql_over_http(base, CREATE, {"url": receiver.url + "/current"}, token=world["bob_token"])
            assert made["createReportSchedule"]["userErrors"] == []
            started = time.monotonic()
            wait_for(lambda: receiver.on("/alice") and receiver.on("/staff"), timeout=120, what="both deliveries")
            took = time.monotonic() - started
            time.sleep(4)  # several more sweeps of every worker: nothing more arrives
            listed = graphql_over_http(base, LIST, token=world["alice_token"])["reportSchedules"]
            downloads = {}
            for path in ("/alice", "/staff"):
                (received,) = receiver.on(path)
                expected = "sha256=" + hmac.new(secrets[path].encode(), received.body, hashlib.sha256).hexdigest()
                assert received.headers[SIGNATURE_HEADER] == expected
                body = received.json
                assert (body["from"], body["to"]) == (instant_text(start), instant_text(end))
                assert body["download_url"].startswith(base + "/reports/download/")
                with urllib.request.urlopen(body["download_url"], timeout=30) as response:
                    assert response.headers["Content-Type"].startswith("text/csv")
                    downloads[path] = (body, response.read().decode())
        assert receiver.on("/current") == []
        assert len(receiver.received) == 2

    alice_body, alice_csv = downloads["/alice"]
    assert alice_csv == generate_report(start, end, "a1", "a2") and alice_body["store_count"] == 2
    staff_body, staff_csv = downloads["/staff"]
    assert staff_csv == generate_report(start, end, "a1", "a2", "b1") and staff_body["store_count"] == 3
    assert alice_body["downtime_minutes"] > 0 and staff_body["downtime_minutes"] == alice_body["downtime_minutes"]
    assert listed == [
        {"url": receiver.url + "/alice", "deliveries": [
            {"status": "DELIVERED", "attempts": 1, "storeCount": 2, "reportId": alice_body["report_id"]},
        ]},
    ]
    assert ScheduledDelivery.objects.count() == 2
    print(f"both scheduled reports delivered {took:.1f} s after the workers started")  # shown with pytest -s

"""Alerts evaluated on arrival (recordPolls and load_data) in process: once per event,
only for live polls of the owner's stores, after confirmPolls evidence polls;
STORE_SILENT; the minute check for evaluations that were lost. The real-process run is
tests/e2e/test_alerts_delivered.py."""

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from monitoring.alerts.evaluation import alerts_evaluate
from monitoring.alerts.events import STORE_DOWN, STORE_SILENT, STORE_UP
from monitoring.alerts.models import Delivery, StoreAlertState
from monitoring.alerts.silence import stores_silent_check
from monitoring.alerts.webhooks import webhook_create
from monitoring.models import Owner
from monitoring.stores.access import EVERYTHING

from tests.alert_polls import deliveries, record
from tests.factories import make_store


def test_a_live_inactive_poll_alerts_its_owner_once_and_the_active_after_it_says_up(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a1", now - timedelta(minutes=2), "inactive"))
    assert deliveries() == [(STORE_DOWN, "a1", 0)]
    record(alert_world["alice"], ("a1", now - timedelta(minutes=2), "inactive"))  # the same poll again
    alerts_evaluate(store_pks=[Owner.objects.get(name="alice").stores.get(store_id="a1").pk])
    assert deliveries() == [(STORE_DOWN, "a1", 0)]
    record(alert_world["alice"], ("a1", now - timedelta(minutes=1), "active"))
    assert deliveries() == [(STORE_DOWN, "a1", 0), (STORE_UP, "a1", 0)]
    down, up = Delivery.objects.order_by("pk")
    assert down.incident_started_at == up.incident_started_at == down.episode_at
    assert up.poll_timestamp > down.poll_timestamp


def test_historical_polls_and_other_owners_stores_deliver_nothing(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a2", now - timedelta(hours=3), "inactive"))
    record(alert_world["bob"], ("b1", now - timedelta(minutes=1), "inactive"))
    assert deliveries() == []
    # The historical poll did change a2's state: the next live inactive poll continues its run.
    record(alert_world["alice"], ("a2", now - timedelta(minutes=1), "inactive"))
    assert StoreAlertState.objects.get(store__store_id="a2").run_length == 2
    assert deliveries() == []  # alice's webhook confirms after 1 poll; the run's first was historical


def test_confirm_polls_waits_for_that_many_inactive_evidence_polls(alert_world):
    webhook, _ = webhook_create(access=alert_world["alice"], url="https://example.com/three", events=[STORE_DOWN], confirm=3)
    now = timezone.now()
    for minutes in (30, 20, 10):
        record(alert_world["alice"], ("a1", now - timedelta(minutes=minutes), "inactive"))
    assert deliveries(webhook=webhook) == [(STORE_DOWN, "a1", 0)]
    assert deliveries(webhook=alert_world["webhook"]) == [(STORE_DOWN, "a1", 0)]


def test_a_poll_while_closed_is_not_evidence(alert_world):
    now = timezone.now()
    other_day = (now.weekday() + 3) % 7  # open only on a day that is neither today nor yesterday
    closed = make_store("closed-now", zone="UTC", hours=[(other_day, "09:00", "17:00")])
    closed.owner_id = alert_world["alice"].owner_id
    closed.save()
    record(alert_world["alice"], ("closed-now", now - timedelta(minutes=1), "inactive"))
    assert deliveries() == []


def test_staff_webhooks_hear_of_every_store(alert_world):
    staff_hook, _ = webhook_create(access=EVERYTHING, url="https://example.com/staff")
    record(alert_world["bob"], ("b1", timezone.now() - timedelta(minutes=1), "inactive"))
    assert deliveries(webhook=staff_hook) == [(STORE_DOWN, "b1", 0)]
    assert deliveries(webhook=alert_world["webhook"]) == []


@pytest.mark.django_db(transaction=True)
def test_two_arrivals_at_once_deliver_once(alert_world):
    moment = timezone.now() - timedelta(minutes=1)
    barrier = threading.Barrier(2)

    def arrive():
        barrier.wait()
        try:
            record(alert_world["alice"], ("a1", moment, "inactive"))
        finally:
            connection.close()

    threads = [threading.Thread(target=arrive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert deliveries() == [(STORE_DOWN, "a1", 0)]


def test_load_data_alerts_on_the_live_polls_of_a_file(alert_world, tmp_path):
    now = timezone.now()
    (tmp_path / "store_status.csv").write_text(
        "store_id,status,timestamp_utc\n"
        f"a1,inactive,{(now - timedelta(minutes=5)).strftime('%Y-%m-%d %H:%M:%S.%f')} UTC\n"
        f"a2,inactive,2023-01-25 18:13:22.47922 UTC\n"
    )
    call_command("load_data", "--status", str(tmp_path / "store_status.csv"), stdout=io.StringIO())
    assert deliveries() == [(STORE_DOWN, "a1", 0)]


def test_store_silent_once_per_silence(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a1", now - timedelta(minutes=1), "active"))
    assert stores_silent_check(now=now) == []  # heard from a minute ago
    later = now + timedelta(hours=2, minutes=5)
    assert len(stores_silent_check(now=later)) == 1
    assert stores_silent_check(now=later + timedelta(minutes=1)) == []
    silent = Delivery.objects.get(event=STORE_SILENT)
    assert silent.poll_timestamp == StoreAlertState.objects.get(store__store_id="a1").last_evidence_at


def test_a_store_closed_now_is_not_silent(alert_world):
    now = timezone.now()
    store = make_store("nights", zone="UTC", hours=[(day, "22:00", "02:00") for day in range(7)])
    store.owner_id = alert_world["alice"].owner_id
    store.save()
    night = now.replace(hour=23, minute=0, second=0, microsecond=0) - timedelta(days=1)
    StoreAlertState.objects.create(store=store, last_evidence_at=night, last_live_at=night, last_poll_at=night)
    noon = night + timedelta(hours=13)  # closed at noon: silent for 3 h of business time but not open now
    assert stores_silent_check(now=noon) == []
    assert len(stores_silent_check(now=night + timedelta(hours=23, minutes=30))) == 1  # 22:30, open, 3.5 h unheard


def test_the_minute_check_evaluates_live_polls_whose_evaluation_was_lost(alert_world):
    from monitoring.alerts.tasks import every_minute
    from monitoring.models import Store

    from tests.factories import add_polls

    # Stored without passing through recordPolls (as if the request died after its commit).
    add_polls(Store.objects.get(store_id="a1"), [(timezone.now() - timedelta(minutes=3), False)])
    assert deliveries() == []
    every_minute()
    assert deliveries() == [(STORE_DOWN, "a1", 0)]
    every_minute()
    assert deliveries() == [(STORE_DOWN, "a1", 0)]

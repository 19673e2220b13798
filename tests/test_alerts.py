"""Alerts (SPEC §10) in process: the state machine, evaluation on arrival (recordPolls
and load_data), STORE_SILENT, delivery with signature and retries, subscriptions over
GraphQL and the command line. The real-process run is tests/test_alerts_e2e.py."""

import hashlib
import hmac
import io
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from monitoring.stores.access import EVERYTHING, Access, token_create
from monitoring.alerts.delivery import SIGNATURE_HEADER, delivery_attempt, delivery_body
from monitoring.alerts.evaluation import alerts_evaluate
from monitoring.alerts.events import STORE_DOWN, STORE_SILENT, STORE_UP, AlertState, advance
from monitoring.alerts.models import Delivery, StoreAlertState, Webhook
from monitoring.alerts.silence import stores_silent_check
from monitoring.alerts.webhooks import webhook_create
from monitoring.ingest import polls_record
from monitoring.kernel.values import InvalidValue
from monitoring.models import Owner
from tests.alert_receiver import Receiver
from tests.factories import make_store

H = 3600 * 1_000_000  # an hour in µs


# --------------------------------------------------------------------------- the state machine


def run(polls, *, live_since=0, state=None):
    """polls: (hour, evidence, active) → the transitions as (event, hour, started hour, run length)."""
    outcome = advance(
        state or AlertState(),
        timestamps=[hour * H for hour, _, _ in polls],
        evidence=[evidence for _, evidence, _ in polls],
        active=[active for _, _, active in polls],
        live_since=live_since,
    )
    return outcome, [(t.event, t.poll_at // H, t.incident_started_at // H, t.run_length) for t in outcome.transitions]


def test_first_evidence_poll_inactive_is_down_and_active_after_it_is_up():
    _, events = run([(1, True, False), (2, True, False), (3, True, True), (4, True, True)])
    assert events == [(STORE_DOWN, 1, 1, 1), (STORE_DOWN, 2, 1, 2), (STORE_UP, 3, 1, 2)]


def test_polls_outside_business_hours_change_nothing():
    outcome, events = run([(1, True, True), (2, False, False), (3, True, True)])
    assert events == [] and outcome.state.run_length == 0 and outcome.state.last_evidence_at == 3 * H


def test_historical_polls_change_the_state_silently():
    outcome, events = run([(1, True, False), (2, True, False), (3, True, False)], live_since=3 * H)
    # Only the third poll is live: it is the run's third, so only a webhook confirming after 3 hears.
    assert events == [(STORE_DOWN, 3, 1, 3)] and outcome.state.run_started_at == 1 * H


def test_an_older_poll_arriving_late_is_not_the_newest_evidence():
    first, _ = run([(5, True, True)])
    outcome, events = run([(4, True, False)], state=first.state)
    assert events == [] and outcome.state == first.state


# --------------------------------------------------------------------------- evaluation on arrival


@pytest.fixture
def world(db):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, a2, b1 = make_store("a1"), make_store("a2"), make_store("b1")  # no hours: open 24×7
    a1.owner = a2.owner = alice
    b1.owner = bob
    for store in (a1, a2, b1):
        store.save()
    alice_access = Access(owner_id=alice.pk, all_stores=False)
    webhook, secret = webhook_create(access=alice_access, url="https://example.com/hook")
    return {"alice": alice_access, "bob": Access(owner_id=bob.pk, all_stores=False), "webhook": webhook, "secret": secret}


def record(access, *polls):
    result = polls_record(polls=[(sid, moment.isoformat(), status) for sid, moment, status in polls], access=access)
    assert result.rejected == 0, result.rejections
    return result


def deliveries(**filters):
    return list(Delivery.objects.filter(**filters).order_by("pk").values_list("event", "store__store_id", "attempts"))


def test_a_live_inactive_poll_alerts_its_owner_once_and_the_active_after_it_says_up(world):
    now = timezone.now()
    record(world["alice"], ("a1", now - timedelta(minutes=2), "inactive"))
    assert deliveries() == [(STORE_DOWN, "a1", 0)]
    record(world["alice"], ("a1", now - timedelta(minutes=2), "inactive"))  # the same poll again
    alerts_evaluate(store_pks=[Owner.objects.get(name="alice").stores.get(store_id="a1").pk])
    assert deliveries() == [(STORE_DOWN, "a1", 0)]
    record(world["alice"], ("a1", now - timedelta(minutes=1), "active"))
    assert deliveries() == [(STORE_DOWN, "a1", 0), (STORE_UP, "a1", 0)]
    down, up = Delivery.objects.order_by("pk")
    assert down.incident_started_at == up.incident_started_at == down.episode_at
    assert up.poll_timestamp > down.poll_timestamp


def test_historical_polls_and_other_owners_stores_deliver_nothing(world):
    now = timezone.now()
    record(world["alice"], ("a2", now - timedelta(hours=3), "inactive"))
    record(world["bob"], ("b1", now - timedelta(minutes=1), "inactive"))
    assert deliveries() == []
    # The historical poll did change a2's state: the next live inactive poll continues its run.
    record(world["alice"], ("a2", now - timedelta(minutes=1), "inactive"))
    assert StoreAlertState.objects.get(store__store_id="a2").run_length == 2
    assert deliveries() == []  # alice's webhook confirms after 1 poll; the run's first was historical


def test_confirm_polls_waits_for_that_many_inactive_evidence_polls(world):
    webhook, _ = webhook_create(access=world["alice"], url="https://example.com/three", events=[STORE_DOWN], confirm=3)
    now = timezone.now()
    for minutes in (30, 20, 10):
        record(world["alice"], ("a1", now - timedelta(minutes=minutes), "inactive"))
    assert deliveries(webhook=webhook) == [(STORE_DOWN, "a1", 0)]
    assert deliveries(webhook=world["webhook"]) == [(STORE_DOWN, "a1", 0)]


def test_a_poll_while_closed_is_not_evidence(world):
    now = timezone.now()
    other_day = (now.weekday() + 3) % 7  # open only on a day that is neither today nor yesterday
    closed = make_store("closed-now", zone="UTC", hours=[(other_day, "09:00", "17:00")])
    closed.owner_id = world["alice"].owner_id
    closed.save()
    record(world["alice"], ("closed-now", now - timedelta(minutes=1), "inactive"))
    assert deliveries() == []


def test_staff_webhooks_hear_of_every_store(world):
    staff_hook, _ = webhook_create(access=EVERYTHING, url="https://example.com/staff")
    record(world["bob"], ("b1", timezone.now() - timedelta(minutes=1), "inactive"))
    assert deliveries(webhook=staff_hook) == [(STORE_DOWN, "b1", 0)]
    assert deliveries(webhook=world["webhook"]) == []


@pytest.mark.django_db(transaction=True)
def test_two_arrivals_at_once_deliver_once(world):
    moment = timezone.now() - timedelta(minutes=1)
    barrier = threading.Barrier(2)

    def arrive():
        barrier.wait()
        try:
            record(world["alice"], ("a1", moment, "inactive"))
        finally:
            connection.close()

    threads = [threading.Thread(target=arrive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert deliveries() == [(STORE_DOWN, "a1", 0)]


def test_load_data_alerts_on_the_live_polls_of_a_file(world, tmp_path):
    now = timezone.now()
    (tmp_path / "store_status.csv").write_text(
        "store_id,status,timestamp_utc\n"
        f"a1,inactive,{(now - timedelta(minutes=5)).strftime('%Y-%m-%d %H:%M:%S.%f')} UTC\n"
        f"a2,inactive,2023-01-25 18:13:22.47922 UTC\n"
    )
    call_command("load_data", "--status", str(tmp_path / "store_status.csv"), stdout=io.StringIO())
    assert deliveries() == [(STORE_DOWN, "a1", 0)]


# --------------------------------------------------------------------------- silence


def test_store_silent_once_per_silence(world):
    now = timezone.now()
    record(world["alice"], ("a1", now - timedelta(minutes=1), "active"))
    assert stores_silent_check(now=now) == []  # heard from a minute ago
    later = now + timedelta(hours=2, minutes=5)
    assert len(stores_silent_check(now=later)) == 1
    assert stores_silent_check(now=later + timedelta(minutes=1)) == []
    silent = Delivery.objects.get(event=STORE_SILENT)
    assert silent.poll_timestamp == StoreAlertState.objects.get(store__store_id="a1").last_evidence_at


def test_a_store_closed_now_is_not_silent(world):
    now = timezone.now()
    store = make_store("nights", zone="UTC", hours=[(day, "22:00", "02:00") for day in range(7)])
    store.owner_id = world["alice"].owner_id
    store.save()
    night = now.replace(hour=23, minute=0, second=0, microsecond=0) - timedelta(days=1)
    StoreAlertState.objects.create(store=store, last_evidence_at=night, last_live_at=night, last_poll_at=night)
    noon = night + timedelta(hours=13)  # closed at noon: silent for 3 h of business time but not open now
    assert stores_silent_check(now=noon) == []
    assert len(stores_silent_check(now=night + timedelta(hours=23, minutes=30))) == 1  # 22:30, open, 3.5 h unheard


# --------------------------------------------------------------------------- delivery


def test_delivery_is_signed_and_retried_then_failed(world):
    with Receiver() as receiver:
        for path in ("/ok", "/fail"):
            Webhook.objects.filter(pk=world["webhook"].pk).update(url=receiver.url + path)
            Delivery.objects.all().delete()
            StoreAlertState.objects.all().delete()
            record(world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
            delivery = Delivery.objects.get()
            with override_settings(ALERT_MAX_ATTEMPTS=2, ALERT_RETRY_SECONDS=0):
                statuses = [delivery_attempt(delivery_id=delivery.pk) for _ in range(3)]
            if path == "/ok":
                assert statuses == ["DELIVERED", None, None]
            else:
                assert statuses == ["RETRYING", "FAILED", None]
        ok, failed = receiver.on("/ok"), receiver.on("/fail")
    assert len(ok) == 1 and len(failed) == 2
    expected = "sha256=" + hmac.new(world["secret"].encode(), ok[0].body, hashlib.sha256).hexdigest()
    assert ok[0].headers[SIGNATURE_HEADER] == expected
    assert set(ok[0].json) == {"event", "store_id", "at", "poll_timestamp", "incident_started_at"}
    assert ok[0].json["event"] == STORE_DOWN and ok[0].json["store_id"] == "a1"
    assert failed[0].body == failed[1].body  # the same signed bytes on every try
    assert Delivery.objects.get().last_result == "HTTP 500"


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_mailto_webhooks_send_email(world):
    webhook, _ = webhook_create(access=world["alice"], url="mailto:ops@example.com", events=[STORE_DOWN])
    record(world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    delivery = Delivery.objects.get(webhook=webhook)
    assert delivery_attempt(delivery_id=delivery.pk) == "DELIVERED"
    assert mail.outbox[0].to == ["ops@example.com"] and "STORE_DOWN" in mail.outbox[0].subject
    assert '"store_id": "a1"' in mail.outbox[0].body


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/"]
)
def test_private_addresses_are_refused_in_production(world, url):
    with pytest.raises(InvalidValue, match="private"):
        webhook_create(access=world["alice"], url=url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/x", "https://user:pw@example.com/", "mailto:nobody"])
def test_malformed_webhook_urls_are_refused(world, url):
    with pytest.raises(InvalidValue):
        webhook_create(access=world["alice"], url=url)


def test_delivery_body_is_what_the_spec_names(world):
    record(world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    body = delivery_body(Delivery.objects.select_related("store").get())
    assert body.startswith(b'{"event":"STORE_DOWN","store_id":"a1","at":"')


# --------------------------------------------------------------------------- subscriptions


def gql(client, query, token, variables=None):
    return client.post(
        "/graphql/",
        {"query": query, "variables": variables or {}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    ).json()


CREATE = """mutation($url: String!) { createWebhook(url: $url, events: [STORE_DOWN, STORE_UP], confirmPolls: 2) {
  webhook { id url events } secret } }"""
LIST = "{ webhooks { id url events confirmPolls deliveries { event storeId status attempts lastAttemptAt } } }"


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_webhooks_over_graphql_are_owner_scoped(client, world):
    alice = Owner.objects.get(name="alice")
    alice_token = token_create(name="t", owner=alice)[1]
    bob_token = token_create(name="t", owner=Owner.objects.get(name="bob"))[1]
    created = gql(client, CREATE, alice_token, {"url": "https://example.com/new"})["data"]["createWebhook"]
    assert created["secret"].startswith("whsec_") and created["webhook"]["events"] == ["STORE_DOWN", "STORE_UP"]
    record(world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    listed = gql(client, LIST, alice_token)["data"]["webhooks"]
    assert [hook["confirmPolls"] for hook in listed] == [1, 2]
    assert listed[0]["deliveries"] == [
        {"event": "STORE_DOWN", "storeId": "a1", "status": "PENDING", "attempts": 0, "lastAttemptAt": None}
    ]
    assert gql(client, LIST, bob_token)["data"]["webhooks"] == []
    delete = "mutation($id: ID!) { deleteWebhook(id: $id) { deleted } }"
    assert gql(client, delete, bob_token, {"id": created["webhook"]["id"]})["data"]["deleteWebhook"]["deleted"] is False
    assert gql(client, delete, alice_token, {"id": created["webhook"]["id"]})["data"]["deleteWebhook"]["deleted"] is True
    refused = gql(client, CREATE, alice_token, {"url": "ftp://example.com"})
    assert refused["data"] is None and refused["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "url"}
    too_many = gql(client, "mutation { createWebhook(url: \"https://example.com\", confirmPolls: 0) { secret } }", alice_token)
    assert too_many["errors"][0]["extensions"]["argument"] == "confirmPolls"
    assert too_many["errors"][0]["message"].startswith("confirmPolls: ")


def test_create_webhook_command_prints_the_secret_once(world):
    out = io.StringIO()
    call_command("create_webhook", "--owner", "bob", "https://example.com/bob", stdout=out)
    webhook = Webhook.objects.get(url="https://example.com/bob")
    assert webhook.owner.name == "bob" and f"secret (shown once): {webhook.secret}" in out.getvalue()


def test_the_minute_check_evaluates_live_polls_whose_evaluation_was_lost(world):
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


def test_alert_admin_pages_load_and_never_show_the_secret(admin_client, world):
    record(world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    delivery = Delivery.objects.get()
    pages = [
        "/admin/alerts/",
        "/admin/alerts/webhook/",
        f"/admin/alerts/webhook/{world['webhook'].pk}/change/",
        "/admin/alerts/delivery/",
        f"/admin/alerts/delivery/{delivery.pk}/change/",
        "/admin/alerts/delivery/?status=PENDING&q=a1",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert world["secret"] not in response.content.decode(), url
    assert admin_client.get("/admin/alerts/webhook/add/").status_code == 403


def test_the_api_enums_are_the_domains_lists():
    from graphql_schema.alerts.types import AlertEvent, DeliveryStatus
    from monitoring.alerts.events import ALERT_EVENTS

    assert [event.value for event in AlertEvent] == list(ALERT_EVENTS)
    assert [status.value for status in DeliveryStatus] == list(Delivery.Status.values)


def test_a_retry_is_queued_once_when_due(world):
    from django_q.models import OrmQ

    from monitoring.alerts.delivery import deliveries_retry_due

    record(world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="RETRYING", next_attempt_at=timezone.now() + timedelta(seconds=30))
    queued = OrmQ.objects.count()
    assert deliveries_retry_due() == []  # not due yet
    later = timezone.now() + timedelta(seconds=31)
    assert deliveries_retry_due(now=later) == [delivery.pk]
    assert deliveries_retry_due(now=later) == []  # a second sweep at once: already queued
    assert OrmQ.objects.count() == queued + 1

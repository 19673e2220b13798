"""Webhook delivery (docs/rules.md §10): signed, retried then failed, mailto by email, the body
the spec names, a retry queued once when due; private and malformed URLs refused."""

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from monitoring.alerts.delivery import SIGNATURE_HEADER, delivery_attempt, delivery_body
from monitoring.alerts.events import STORE_DOWN
from monitoring.alerts.models import Delivery, StoreAlertState, Webhook
from monitoring.alerts.webhooks import webhook_create
from monitoring.kernel.values import InvalidValue

from tests.alert_polls import record
from tests.alert_receiver import Receiver


def test_delivery_is_signed_and_retried_then_failed(alert_world):
    with Receiver() as receiver:
        for path in ("/ok", "/fail"):
            Webhook.objects.filter(pk=alert_world["webhook"].pk).update(url=receiver.url + path)
            Delivery.objects.all().delete()
            StoreAlertState.objects.all().delete()
            record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
            delivery = Delivery.objects.get()
            later = [timezone.now() + timedelta(minutes=10 * n) for n in range(3)]  # each try once due
            with override_settings(ALERT_MAX_ATTEMPTS=2, ALERT_RETRY_SECONDS=0):
                statuses = [delivery_attempt(delivery_id=delivery.pk, now=moment) for moment in later]
            if path == "/ok":
                assert statuses == ["DELIVERED", None, None]
            else:
                assert statuses == ["RETRYING", "FAILED", None]
        ok, failed = receiver.on("/ok"), receiver.on("/fail")
    assert len(ok) == 1 and len(failed) == 2
    expected = "sha256=" + hmac.new(alert_world["secret"].encode(), ok[0].body, hashlib.sha256).hexdigest()
    assert ok[0].headers[SIGNATURE_HEADER] == expected
    assert set(ok[0].json) == {"event", "store_id", "at", "poll_timestamp", "incident_started_at"}
    assert ok[0].json["event"] == STORE_DOWN and ok[0].json["store_id"] == "a1"
    assert failed[0].body == failed[1].body  # the same signed bytes on every try
    assert Delivery.objects.get().last_result == "HTTP 500"


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_mailto_webhooks_send_email(alert_world):
    webhook, _ = webhook_create(access=alert_world["alice"], url="mailto:ops@example.com", events=[STORE_DOWN])
    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    delivery = Delivery.objects.get(webhook=webhook)
    assert delivery_attempt(delivery_id=delivery.pk) == "DELIVERED"
    assert mail.outbox[0].to == ["ops@example.com"] and "STORE_DOWN" in mail.outbox[0].subject
    assert '"store_id": "a1"' in mail.outbox[0].body


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/"]
)
def test_private_addresses_are_refused_in_production(alert_world, url):
    with pytest.raises(InvalidValue, match="private"):
        webhook_create(access=alert_world["alice"], url=url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/x", "https://user:pw@example.com/", "mailto:nobody"])
def test_malformed_webhook_urls_are_refused(alert_world, url):
    with pytest.raises(InvalidValue):
        webhook_create(access=alert_world["alice"], url=url)


def test_delivery_body_is_what_the_spec_names(alert_world):
    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    body = delivery_body(Delivery.objects.select_related("store").get())
    assert body.startswith(b'{"event":"STORE_DOWN","store_id":"a1","at":"')


def test_a_retry_is_queued_once_when_due(alert_world):
    from django_q.models import OrmQ
    from monitoring.alerts.delivery import deliveries_retry_due

    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="RETRYING", next_attempt_at=timezone.now() + timedelta(seconds=30))
    queued = OrmQ.objects.count()
    assert deliveries_retry_due() == []  # not due yet
    later = timezone.now() + timedelta(seconds=31)
    assert deliveries_retry_due(now=later) == [delivery.pk]
    assert deliveries_retry_due(now=later) == []  # a second sweep at once: already queued
    assert OrmQ.objects.count() == queued + 1


def test_a_retry_is_not_tried_before_its_backoff_even_when_queued_twice(alert_world):
    """A delivery task queued twice (two sweeps, tasks handed out again after a restart)
    does not try again right after a failure: a retry waits for its backoff, counted from
    the previous try's claim plus the longest a try can take."""
    with Receiver() as receiver:
        Webhook.objects.filter(pk=alert_world["webhook"].pk).update(url=receiver.url + "/fail")
        record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
        delivery = Delivery.objects.get()
        first = timezone.now()
        with override_settings(ALERT_RETRY_SECONDS=10, ALERT_TIMEOUT_SECONDS=5):
            assert delivery_attempt(delivery_id=delivery.pk, now=first) == "RETRYING"
            assert delivery_attempt(delivery_id=delivery.pk, now=first + timedelta(seconds=1)) is None
            assert delivery_attempt(delivery_id=delivery.pk, now=first + timedelta(seconds=14)) is None
            assert delivery_attempt(delivery_id=delivery.pk, now=first + timedelta(seconds=15)) == "RETRYING"
            assert delivery_attempt(delivery_id=delivery.pk, now=first + timedelta(seconds=30)) is None  # 2nd backoff: 30 s
        assert len(receiver.on("/fail")) == 2

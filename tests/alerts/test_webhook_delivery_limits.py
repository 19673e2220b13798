"""How a webhook POST is made (docs/rules.md §10): one try is bounded in wall-clock time however
slowly the receiver (or the resolver) answers, the sweep never takes a try in flight
for a dead worker's, and the connection goes to the very addresses that were checked
(a name that answers a public address, then a private one, reaches nothing private),
over TLS verified against the URL's name."""

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from monitoring.alerts.delivery import (
    SIGNATURE_HEADER,
    deliveries_requeue,
    delivery_attempt,
)
from monitoring.alerts.events import STORE_DOWN
from monitoring.alerts.models import Delivery, Webhook

from tests.factories import make_store
from tests.webhook_network import (
    LocalNetwork,
    TcpReceiver,
    answer_a_byte_every,
    self_signed,
    server_tls,
)

pytestmark = pytest.mark.django_db

#: A public address (it passes the production check) that the test network routes to a
#: local receiver: it plays the receiver the name was checked to be.
PUBLIC = "93.184.216.34"


def a_delivery(url: str, *, store_id: str = "s1") -> Delivery:
    """A pending delivery to `url`, stored as is (as a row written before any check)."""
    webhook = Webhook.objects.create(url=url, events=[STORE_DOWN], secret="whsec_test")
    store = make_store(store_id)
    return Delivery.objects.create(webhook=webhook, store=store, event=STORE_DOWN, episode_at=timezone.now())


def timed_attempt(delivery: Delivery) -> tuple[str | None, float]:
    started = time.monotonic()
    status = delivery_attempt(delivery_id=delivery.pk)
    return status, time.monotonic() - started


@override_settings(ALERT_TIMEOUT_SECONDS=1.5)
def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_try_limit():
    with TcpReceiver(respond=answer_a_byte_every(0.4)) as receiver:
        delivery = a_delivery(f"http://127.0.0.1:{receiver.port}/slow")
        status, took = timed_attempt(delivery)
    assert len(receiver.requests) == 1  # it was posted, and the answer never completed in time
    assert status == Delivery.Status.RETRYING and took < 1.5 + 1.0, took
    delivery.refresh_from_db()
    assert delivery.last_result.startswith("timed out")
    # A sweep at any moment of a try that long leaves it alone: one try in flight at a time.
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENDING, last_attempt_at=timezone.now())
    deliveries_requeue(now=timezone.now() + timedelta(seconds=took + 1))
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENDING


@override_settings(ALERT_TIMEOUT_SECONDS=1.0)
def test_a_slow_resolver_is_cut_off_at_the_try_limit(monkeypatch):
    network = LocalNetwork(monkeypatch, answers={}, slow={"slow-dns.test": 4.0})
    delivery = a_delivery("http://slow-dns.test/hook")
    status, took = timed_attempt(delivery)
    assert status == Delivery.Status.RETRYING and took < 1.0 + 1.0, took
    assert "no DNS answer" in Delivery.objects.get(pk=delivery.pk).last_result
    assert network.connected == []


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A certificate for rebind.test, trusted by this process's default TLS context."""
    cert, key = self_signed(tmp_path, "rebind.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return server_tls(cert, key)


@override_settings(WEBHOOK_ALLOW_PRIVATE=False, ALERT_TIMEOUT_SECONDS=3)
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_name_rebound_to_a_private_address_after_the_check_reaches_nothing_private(
    monkeypatch, certificate, scheme
):
    # The checked receiver listens on 127.0.0.1 (playing PUBLIC); the internal service the
    # name is rebound to listens on 127.0.0.2, same port.
    with TcpReceiver(tls=certificate if scheme == "https" else None) as public:
        with TcpReceiver(host="127.0.0.2", port=public.port) as internal:
            network = LocalNetwork(
                monkeypatch, answers={"rebind.test": [[PUBLIC], ["127.0.0.2"]]}, routes={PUBLIC: "127.0.0.1"}
            )
            delivery = a_delivery(f"{scheme}://rebind.test:{public.port}/hook?x=1")
            status, _ = timed_attempt(delivery)
    assert internal.connections == 0
    assert network.lookups == ["rebind.test"]  # resolved once: what was checked is what was connected to
    assert status == Delivery.Status.DELIVERED, Delivery.objects.get(pk=delivery.pk).last_result
    [request] = public.requests
    assert request.head.startswith("POST /hook?x=1 HTTP/1.1\r\n")
    assert request.header("Host") == f"rebind.test:{public.port}"
    assert request.header("X-Delivery-Id") == str(delivery.pk)
    assert request.header(SIGNATURE_HEADER).startswith("sha256=")
    if scheme == "https":
        assert public.server_names == ["rebind.test"]  # SNI: the URL's name, not the address
        # The certificate is checked against the URL's name: one for another name fails the try.
        with TcpReceiver(tls=certificate) as other:
            LocalNetwork(monkeypatch, answers={"other.test": [[PUBLIC]]}, routes={PUBLIC: "127.0.0.1"})
            wrong = a_delivery(f"https://other.test:{other.port}/hook", store_id="s2")
            assert delivery_attempt(delivery_id=wrong.pk) == Delivery.Status.RETRYING
        assert other.requests == [] and "certificate" in Delivery.objects.get(pk=wrong.pk).last_result.lower()


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_a_name_resolving_to_any_private_address_is_refused_before_connecting(monkeypatch):
    answers = [
        [PUBLIC, "127.0.0.1"],  # every address is checked, not only the first
        ["64:ff9b::7f00:1"],  # NAT64 of 127.0.0.1
        ["::ffff:10.0.0.1"],  # IPv4-mapped
        ["2002:7f00:1::1"],  # 6to4 of 127.0.0.1
        ["::7f00:1"],  # IPv4-compatible
        ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],  # Teredo
    ]
    with TcpReceiver() as receiver:
        network = LocalNetwork(
            monkeypatch, answers={f"hook{n}.test": [answer] for n, answer in enumerate(answers)}, routes={PUBLIC: "127.0.0.1"}
        )
        for n, answer in enumerate(answers):
            delivery = a_delivery(f"http://hook{n}.test:{receiver.port}/hook", store_id=f"s{n}")
            assert delivery_attempt(delivery_id=delivery.pk) == Delivery.Status.RETRYING, answer
            assert "private" in Delivery.objects.get(pk=delivery.pk).last_result, answer
    assert network.connected == [] and receiver.connections == 0


@pytest.mark.parametrize("url", ["http://[::1", "https://[1.1.1.1]/", "http://]/"])
def test_a_stored_malformed_url_fails_the_try_with_a_reason(url):
    delivery = a_delivery(url)
    assert delivery_attempt(delivery_id=delivery.pk) == Delivery.Status.RETRYING
    assert "not a valid URL" in Delivery.objects.get(pk=delivery.pk).last_result

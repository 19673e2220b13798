"""Which webhook URLs are accepted (docs/rules.md §10): a malformed one is refused naming the
field, over GraphQL and on the command line, never with a traceback; in production an
address that is or carries a private IPv4 address, or a local name, is refused; and
making a webhook never waits on DNS."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from monitoring.alerts.models import Webhook
from monitoring.alerts.webhooks import webhook_create
from monitoring.kernel.values import InvalidValue
from monitoring.stores.access import EVERYTHING, token_create

from tests import processes
from tests.webhook_network import LocalNetwork

pytestmark = pytest.mark.django_db

MALFORMED = [
    "https://[1.1.1.1]/",  # an IPv4 address in brackets
    "http://[::1",
    "http://]/",
    "http://[::1]x/",  # something after the brackets
    "http://[fe80::1%25eth0]/",  # a zone
    "http://[v1.x]/",
    "http://example.com:99999/",
    "http://example.com:0/",
    "http://:80/",
    "http://exa..mple.com/",
    "http://bad!name.com/",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_urls_are_refused_naming_the_field(url):
    with pytest.raises(InvalidValue) as refused:
        webhook_create(access=EVERYTHING, url=url)
    assert refused.value.field == "url"


def test_malformed_urls_over_graphql_are_an_argument_error(client):
    token = token_create(name="staff", is_staff=True)[1]
    for url in MALFORMED[:3]:
        answer = client.post(
            "/graphql/",
            {"query": "mutation($url: String!) { createWebhook(url: $url) { secret } }", "variables": {"url": url}},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert answer["data"] is None, url
        assert answer["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "url"}, url
        assert answer["errors"][0]["message"].startswith("url: "), url
    assert not Webhook.objects.exists()


def test_malformed_urls_on_the_command_line_are_one_line_and_a_failure(tmp_path):
    for url in MALFORMED[:3]:
        with pytest.raises(CommandError, match=r"^url: "):
            call_command("create_webhook", url)
    run = subprocess.run(
        [sys.executable, str(processes.ROOT / "manage.py"), "create_webhook", "http://[::1"],
        cwd=processes.ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": processes.test_database_url(), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and run.stderr.startswith("CommandError: url: ")


CARRYING_A_PRIVATE_IPV4 = [
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
    "http://[64:ff9b:1::a9fe:a9fe]/",  # local-use NAT64
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[::7f00:1]/",  # IPv4-compatible
    "http://[::ffff:7f00:1]/",  # IPv4-mapped
    "http://[::ffff:0:a00:1]/",  # IPv4-translated
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
]
LOCAL_NAMES = ["http://localhost./", "http://api.localhost/", "http://intranet/", "http://metadata.internal/",
               "http://0x7f.1/", "http://2130706433/", "http://127.1/"]


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_in_production_addresses_carrying_a_private_ipv4_and_local_names_are_refused():
    for url in CARRYING_A_PRIVATE_IPV4 + LOCAL_NAMES:
        with pytest.raises(InvalidValue, match="private") as refused:
            webhook_create(access=EVERYTHING, url=url)
        assert refused.value.field == "url", url
    # The well-known NAT64 prefix of a public address is a public receiver (DNS64 networks).
    for url in ("http://[64:ff9b::808:808]/", "https://[2606:4700::1111]/", "https://8.8.8.8/"):
        webhook_create(access=EVERYTHING, url=url)


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_making_a_webhook_does_not_resolve_its_name(monkeypatch):
    network = LocalNetwork(monkeypatch, answers={}, slow={"hooks.example.org": 30.0})
    webhook, _ = webhook_create(access=EVERYTHING, url="https://hooks.example.org/alerts")
    assert network.lookups == [] and webhook.url == "https://hooks.example.org/alerts"

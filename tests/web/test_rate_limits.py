"""Rate limits per caller (monitoring.throttle, docs/rules.md §8): report triggers and
recordPolls answer 429 + Retry-After (REST) or RATE_LIMITED + Retry-After (GraphQL), the
pages' Generate report button counts against the report limit; the sliding window,
costs, the count shared through the database, the address behind a trusted proxy."""

import json
import time

import pytest
from django.db import connection
from django.test import override_settings
from monitoring.models import Report
from monitoring.stores.access import token_create
from monitoring.throttle.limits import (
    WINDOW_SECONDS,
    RateLimited,
    retry_after_seconds,
    client_address,
    rate_limit_hit,
)

from tests.http_browser import TRIGGER, Browser, assert_served, json_of

pytestmark = pytest.mark.django_db(transaction=True)


RECORD = 'mutation { recordPolls(polls: [{storeId: "s1", timestampUtc: "%s", status: "active"}]) { received } }'


@override_settings(RATE_LIMIT_REPORTS=3)
def test_report_triggers_are_limited_per_token(live_server, alice):
    curl = Browser(live_server.url)
    as_alice = {"Authorization": f"Bearer {alice['token']}"}
    alice_json = {**as_alice, "Content-Type": "application/json"}
    # REST and GraphQL count together: 3 a minute.
    assert_served("1", curl.request("POST", "/trigger_report/", "", as_alice))
    assert_served("2", curl.request("GET", "/store/s1/trigger_report/", None, as_alice))
    assert_served("3", curl.request("POST", "/graphql/", json.dumps({"query": TRIGGER}), alice_json))
    for method, path in (
        ("POST", "/trigger_report/"),
        ("GET", "/store/s1/trigger_report/"),
        ("POST", "/store/s1/trigger_report/"),
    ):
        refused = curl.request(method, path, "", as_alice)
        assert refused.status == 429, (path, refused.body)
        assert 1 <= int(refused.getheader("Retry-After")) <= 2 * WINDOW_SECONDS
        assert "rate limit" in json_of(refused)["error"]
    graphql = curl.request("POST", "/graphql/", json.dumps({"query": TRIGGER}), alice_json)
    assert graphql.status == 200
    error = json_of(graphql)["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["path"] == ["triggerReport"]
    assert int(graphql.getheader("Retry-After")) == error["extensions"]["retryAfter"] >= 1
    # Another caller (a staff token; anonymous, by address) has a limit of its own.
    staff = {"Authorization": f"Bearer {token_create(name='s', is_staff=True)[1]}"}
    assert_served("staff", curl.request("POST", "/trigger_report/", "", staff))
    assert_served("anonymous", curl.request("POST", "/trigger_report/", ""))
    # Reads are not limited.
    assert curl.request("GET", "/get_report/?report_id=00000000-0000-0000-0000-000000000000", None, as_alice).status == 404


@override_settings(RATE_LIMIT_REPORTS=2)
def test_anonymous_triggers_are_limited_per_address(live_server, alice):
    curl = Browser(live_server.url)
    assert_served("1", curl.request("POST", "/trigger_report/"))
    assert_served("2", curl.request("GET", "/store/s1/trigger_report/"))
    refused = curl.request("POST", "/trigger_report/")
    assert refused.status == 429 and refused.getheader("Retry-After")
    # A token is its own caller, even from the same address.
    bearer = {"Authorization": f"Bearer {alice['token']}"}
    assert_served("token", curl.request("POST", "/trigger_report/", "", bearer))


@override_settings(RATE_LIMIT_POLLS=2, RATE_LIMIT_REPORTS=100)
def test_record_polls_is_limited(live_server, alice):
    curl = Browser(live_server.url)
    as_alice = {"Authorization": f"Bearer {alice['token']}", "Content-Type": "application/json"}
    for second in range(2):
        query = RECORD % f"2023-01-25T18:13:{second:02}Z"
        response = curl.request("POST", "/graphql/", json.dumps({"query": query}), as_alice)
        assert json_of(response)["data"]["recordPolls"]["received"] == 1
    refused = curl.request("POST", "/graphql/", json.dumps({"query": RECORD % "2023-01-25T18:14:00Z"}), as_alice)
    error = json_of(refused)["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and refused.getheader("Retry-After")
    # In one document the error's path names the limited field, which alone is null (both
    # results are nullable: the mutation that ran keeps its answer).
    both = "mutation { triggerReport { id } " + (RECORD % "2023-01-25T18:15:00Z").removeprefix("mutation {")
    payload = json_of(curl.request("POST", "/graphql/", json.dumps({"query": both}), as_alice))
    assert payload["data"]["recordPolls"] is None and payload["data"]["triggerReport"]["id"]
    assert [(error["path"], error["extensions"]["code"]) for error in payload["errors"]] == [
        (["recordPolls"], "RATE_LIMITED")
    ]


@override_settings(RATE_LIMIT_REPORTS=0)
def test_zero_means_no_limit(live_server, alice):
    curl = Browser(live_server.url)
    for _ in range(5):
        assert_served("unlimited", curl.request("POST", "/trigger_report/"))


@pytest.mark.django_db
def test_sliding_window_retry_after():
    """Hits of the previous window weigh what of it lies within the last minute."""
    # 31 hits in this window (the 31st refused), nothing before, limit 30: wait for the next window.
    # In it, the 31 hits weigh 31·(1 − f) + 1 <= 30 from f = 1 − 29/31: 30 s + 3.9 s.
    assert retry_after_seconds(hits=31, previous_hits=0, fraction=0.5, limit=30) == 34
    # 10 hits now, 60 in the previous window, at 25% of this one: 60·0.75 + 10 = 55 > 30;
    # one more fits once 60·(1 − f) + 11 <= 30, f >= 0.6833…: in 26 s.
    assert retry_after_seconds(hits=10, previous_hits=60, fraction=0.25, limit=30) == 26
    assert retry_after_seconds(hits=2, previous_hits=0, fraction=0.0, limit=1) == 120  # limit 1: the window after next


@pytest.mark.django_db
@override_settings(RATE_LIMIT_REPORTS=30)
def test_rate_counters_are_one_row_per_caller_in_an_unlogged_table():
    """A hit is one UPSERT of the caller's row on an unlogged table (its cost is measured
    by bench/request_cpu.py, not here)."""
    for index in range(300):
        rate_limit_hit(scope="reports", caller=f"address:10.0.{index // 250}.{index % 250}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'throttle_ratecounter'")
        assert cursor.fetchone() == ("u",)


@pytest.mark.django_db
@override_settings(RATE_LIMIT_REPORTS=2)
def test_limit_is_shared_through_the_database():
    """Counted in PostgreSQL, not in a process's memory: another connection sees it."""
    rate_limit_hit(scope="reports", caller="token:99")
    rate_limit_hit(scope="reports", caller="token:99")
    with pytest.raises(RateLimited) as refused:
        rate_limit_hit(scope="reports", caller="token:99")
    assert refused.value.retry_after >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT hits FROM throttle_ratecounter WHERE key = 'reports:token:99'")
        assert cursor.fetchone() == (3,)


@pytest.mark.django_db
def test_client_address_behind_a_trusted_proxy(rf, settings):
    """Anonymous callers are counted by address: REMOTE_ADDR, or the address our own
    proxy saw (the last X-Forwarded-For entry) when TRUSTED_PROXY is on."""
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY = False
    assert client_address(request) == "10.0.0.1"
    settings.TRUSTED_PROXY = True
    assert client_address(request) == "203.0.113.7"
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not an address")) == "10.0.0.1"
    assert client_address(rf.get("/", REMOTE_ADDR="")) is None


pytestmark = pytest.mark.django_db


def test_generate_report_button_counts_against_the_report_limit(client, alice, settings):
    as_alice = {"HTTP_AUTHORIZATION": f"Bearer {alice['token']}"}
    settings.RATE_LIMIT_REPORTS = 2
    for _ in range(2):
        assert client.post("/reports/generate/", **as_alice).status_code == 302
    refused = client.post("/reports/generate/", **as_alice)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 120
    body = refused.json()  # the REST triggers' error, with the code every API error has
    assert "rate limit" in body["error"] and body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert Report.objects.count() == 2
    # The REST trigger shares the count; a browser is shown a page with the same message.
    assert client.post("/trigger_report/", **as_alice).status_code == 429
    page = client.post("/reports/generate/", HTTP_ACCEPT="text/html", **as_alice)
    assert page.status_code == 429 and page["Retry-After"] and b"rate limit exceeded" in page.content
    assert Report.objects.count() == 2

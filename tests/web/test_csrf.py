"""Abuse limits (issue #12, SPEC §8), over real HTTP against pytest-django's live_server:

- a state-changing request riding a browser session (sign-in cookie or admin session)
  needs Django's CSRF token or a same-origin request; a cross-site one is refused (403);
  bearer-token and anonymous calls are unchanged;
- report triggers and recordPolls are rate limited per caller: 429 + Retry-After (REST),
  an error with code RATE_LIMITED + Retry-After (GraphQL);
- wrong admin passwords lock the username out from that address (django-axes)."""

import http.client
import json
import re
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection
from django.test import override_settings

from monitoring.stores.access import token_create
from monitoring.models import Owner
from monitoring.throttle.limits import WINDOW_SECONDS, RateLimited, _retry_after, client_address, rate_limit_hit
from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db(transaction=True)

EVIL = "https://evil.example"
TRIGGER = "mutation { triggerReport { id status } }"
RECORD = 'mutation { recordPolls(polls: [{storeId: "s1", timestampUtc: "%s", status: "active"}]) { received } }'
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """An HTTP client with a cookie jar, as a browser would keep one for the site."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if isinstance(body, str):
            body = body.encode()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        connection.close()
        return response

    def form_token(self, path: str) -> str:
        response = self.request("GET", path)
        assert response.status == 200, response.body[:300]
        return CSRF_FIELD.search(response.body.decode()).group(1)

    def post_form(self, path: str, fields: dict, headers: dict | None = None):
        return self.request(
            "POST",
            path,
            urlencode(fields),
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin, **(headers or {})},
        )


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Admin users hashed cheaply: the lockout test signs in eleven times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def json_of(response) -> dict:
    return json.loads(response.body)


@pytest.fixture
def owner_world():
    alice = Owner.objects.create(name="alice")
    store, _ = worked_example_store("s1")
    store.owner = alice
    store.save()
    return {"store": store, "token": token_create(name="t", owner=alice)[1], "owner": alice}


@pytest.fixture
def signed_in(live_server, owner_world) -> Browser:
    """An owner's browser after signing in at /sign-in/ as a person would."""
    browser = Browser(live_server.url)
    token = browser.form_token("/sign-in/")
    fields = {"csrfmiddlewaretoken": token, "token": owner_world["token"], "next": "/"}
    response = browser.post_form("/sign-in/", fields)
    assert response.status == 302, response.body[:300]
    assert "sessionid" in browser.cookies and "csrftoken" in browser.cookies
    return browser


@pytest.fixture
def admin_browser(live_server, django_user_model) -> Browser:
    django_user_model.objects.create_superuser("root", "root@example.com", "a long admin password")
    browser = Browser(live_server.url)
    token = browser.form_token("/admin/login/")
    response = browser.post_form(
        "/admin/login/",
        {"csrfmiddlewaretoken": token, "username": "root", "password": "a long admin password", "next": "/admin/"},
    )
    assert response.status == 302 and response.getheader("Location") == "/admin/", response.body[:300]
    return browser


def state_changing_requests(store_id: str):
    """(name, method, path, body, headers) of every request that changes state."""
    yield "POST /trigger_report/ text/plain", "POST", "/trigger_report/", "{}", {"Content-Type": "text/plain"}
    yield (
        "POST /trigger_report/ form",
        "POST",
        "/trigger_report/",
        "as_of=2023-01-25T18%3A13%3A22Z",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    yield "POST /store/<id>/trigger_report/", "POST", f"/store/{store_id}/trigger_report/", "", {}
    yield "GET /store/<id>/trigger_report/", "GET", f"/store/{store_id}/trigger_report/", None, {}
    yield (
        "POST /graphql/ triggerReport",
        "POST",
        "/graphql/",
        json.dumps({"query": TRIGGER}),
        {"Content-Type": "application/json"},
    )


def assert_served(name: str, response) -> None:
    assert response.status == 200, (name, response.status, response.body[:300])
    payload = json_of(response)
    assert "report_id" in payload or payload.get("data", {}).get("triggerReport", {}).get("id"), (name, payload)


# --------------------------------------------------------------------------- CSRF


def test_sign_in_session_cross_site_is_refused(signed_in, owner_world):
    for name, method, path, body, headers in state_changing_requests("s1"):
        for foreign in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}, {}):
            response = signed_in.request(method, path, body, {**headers, **foreign})
            assert response.status == 403, (name, foreign, response.status, response.body[:300])
            error = json_of(response)["error"]
            assert "refused" in error and ("cross-site" in error or "CSRF" in error), (name, error)


def test_sign_in_session_with_csrf_token_or_same_origin_is_served(signed_in):
    csrf = signed_in.cookies["csrftoken"]
    for name, method, path, body, headers in state_changing_requests("s1"):
        assert_served(name, signed_in.request(method, path, body, {**headers, "X-CSRFToken": csrf}))
        assert_served(name, signed_in.request(method, path, body, {**headers, "Origin": signed_in.origin}))
        assert_served(name, signed_in.request(method, path, body, {**headers, "Sec-Fetch-Site": "same-origin"}))
    # Typed in the address bar or bookmarked (Sec-Fetch-Site: none): the person's own act.
    assert_served("typed", signed_in.request("GET", "/store/s1/trigger_report/", None, {"Sec-Fetch-Site": "none"}))
    # As a browser form posts it: the token in the csrfmiddlewaretoken field.
    form = signed_in.request(
        "POST",
        "/trigger_report/",
        urlencode({"csrfmiddlewaretoken": csrf}),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_served("form with csrfmiddlewaretoken", form)
    # A wrong token is refused; a foreign Origin is refused even with the right one (as Django does).
    wrong = signed_in.request("POST", "/trigger_report/", "", {"X-CSRFToken": "x" * 32})
    assert wrong.status == 403 and "incorrect" in json_of(wrong)["error"]
    both = signed_in.request("POST", "/trigger_report/", "", {"X-CSRFToken": csrf, "Origin": EVIL})
    assert both.status == 403


def test_reads_with_a_session_need_no_token(signed_in):
    """Safe requests change nothing: a session reads without a token, from anywhere."""
    response = signed_in.request("GET", "/stores/s1/", headers={"Accept": "text/html", "Sec-Fetch-Site": "cross-site"})
    assert response.status == 200
    graphiql = signed_in.request("GET", "/graphql/", headers={"Accept": "text/html"})
    assert graphiql.status == 200 and b"graphiql" in graphiql.body.lower()
    # GraphiQL's own fetch: same-origin POST (it also sends the csrftoken cookie as X-CSRFToken).
    query = signed_in.request(
        "POST",
        "/graphql/",
        json.dumps({"query": '{ store(id: "s1") { id } }'}),
        {"Content-Type": "application/json", "Origin": signed_in.origin, "X-CSRFToken": signed_in.cookies["csrftoken"]},
    )
    assert json_of(query)["data"]["store"]["id"] == "s1"


def test_bearer_token_and_anonymous_calls_are_unchanged(live_server, owner_world):
    """curl: no cookie, so no CSRF; a foreign Origin does not matter either (no cookie to ride)."""
    curl = Browser(live_server.url)
    bearer = {"Authorization": f"Bearer {owner_world['token']}"}
    for name, method, path, body, headers in state_changing_requests("s1"):
        assert_served(name, curl.request(method, path, body, {**headers, **bearer}))
        assert_served(name, curl.request(method, path, body, {**headers, **bearer, "Origin": EVIL}))
        assert_served(name, curl.request(method, path, body, headers))  # anonymous (the demo's default)
    assert not curl.cookies


def test_bearer_token_wins_over_a_session_cookie(signed_in, owner_world):
    response = signed_in.request(
        "POST", "/trigger_report/", "", {"Authorization": f"Bearer {owner_world['token']}", "Origin": EVIL}
    )
    assert_served("bearer with a session cookie", response)


def test_admin_session_cross_site_is_refused(admin_browser, owner_world):
    for name, method, path, body, headers in state_changing_requests("s1"):
        response = admin_browser.request(method, path, body, {**headers, "Origin": EVIL})
        assert response.status == 403, (name, response.status, response.body[:300])
        assert_served(name, admin_browser.request(method, path, body, {**headers, "Origin": admin_browser.origin}))


def test_sign_in_form_needs_its_csrf_token(live_server, owner_world):
    browser = Browser(live_server.url)
    browser.form_token("/sign-in/")  # the csrftoken cookie, but the form's token left out
    response = browser.post_form("/sign-in/", {"token": owner_world["token"]})
    assert response.status == 403 and "sessionid" not in browser.cookies


# --------------------------------------------------------------------------- rate limits


@override_settings(RATE_LIMIT_REPORTS=3)
def test_report_triggers_are_limited_per_token(live_server, owner_world):
    curl = Browser(live_server.url)
    alice = {"Authorization": f"Bearer {owner_world['token']}"}
    alice_json = {**alice, "Content-Type": "application/json"}
    # REST and GraphQL count together: 3 a minute.
    assert_served("1", curl.request("POST", "/trigger_report/", "", alice))
    assert_served("2", curl.request("GET", "/store/s1/trigger_report/", None, alice))
    assert_served("3", curl.request("POST", "/graphql/", json.dumps({"query": TRIGGER}), alice_json))
    for method, path in (
        ("POST", "/trigger_report/"),
        ("GET", "/store/s1/trigger_report/"),
        ("POST", "/store/s1/trigger_report/"),
    ):
        refused = curl.request(method, path, "", alice)
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
    assert curl.request("GET", "/get_report/?report_id=00000000-0000-0000-0000-000000000000", None, alice).status == 404


@override_settings(RATE_LIMIT_REPORTS=2)
def test_anonymous_triggers_are_limited_per_address(live_server, owner_world):
    curl = Browser(live_server.url)
    assert_served("1", curl.request("POST", "/trigger_report/"))
    assert_served("2", curl.request("GET", "/store/s1/trigger_report/"))
    refused = curl.request("POST", "/trigger_report/")
    assert refused.status == 429 and refused.getheader("Retry-After")
    # A token is its own caller, even from the same address.
    bearer = {"Authorization": f"Bearer {owner_world['token']}"}
    assert_served("token", curl.request("POST", "/trigger_report/", "", bearer))


@override_settings(RATE_LIMIT_POLLS=2, RATE_LIMIT_REPORTS=100)
def test_record_polls_is_limited(live_server, owner_world):
    curl = Browser(live_server.url)
    alice = {"Authorization": f"Bearer {owner_world['token']}", "Content-Type": "application/json"}
    for second in range(2):
        query = RECORD % f"2023-01-25T18:13:{second:02}Z"
        response = curl.request("POST", "/graphql/", json.dumps({"query": query}), alice)
        assert json_of(response)["data"]["recordPolls"]["received"] == 1
    refused = curl.request("POST", "/graphql/", json.dumps({"query": RECORD % "2023-01-25T18:14:00Z"}), alice)
    error = json_of(refused)["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and refused.getheader("Retry-After")
    # In one document the error's path names the limited field, which alone is null (both
    # results are nullable: the mutation that ran keeps its answer).
    both = "mutation { triggerReport { id } " + (RECORD % "2023-01-25T18:15:00Z").removeprefix("mutation {")
    payload = json_of(curl.request("POST", "/graphql/", json.dumps({"query": both}), alice))
    assert payload["data"]["recordPolls"] is None and payload["data"]["triggerReport"]["id"]
    assert [(error["path"], error["extensions"]["code"]) for error in payload["errors"]] == [
        (["recordPolls"], "RATE_LIMITED")
    ]


@override_settings(RATE_LIMIT_REPORTS=0)
def test_zero_means_no_limit(live_server, owner_world):
    curl = Browser(live_server.url)
    for _ in range(5):
        assert_served("unlimited", curl.request("POST", "/trigger_report/"))


@pytest.mark.django_db
def test_sliding_window_retry_after():
    """Hits of the previous window weigh what of it lies within the last minute."""
    # 31 hits in this window (the 31st refused), nothing before, limit 30: wait for the next window.
    # In it, the 31 hits weigh 31·(1 − f) + 1 <= 30 from f = 1 − 29/31: 30 s + 3.9 s.
    assert _retry_after(hits=31, previous_hits=0, fraction=0.5, limit=30) == 34
    # 10 hits now, 60 in the previous window, at 25% of this one: 60·0.75 + 10 = 55 > 30;
    # one more fits once 60·(1 − f) + 11 <= 30, f >= 0.6833…: in 26 s.
    assert _retry_after(hits=10, previous_hits=60, fraction=0.25, limit=30) == 26
    assert _retry_after(hits=2, previous_hits=0, fraction=0.0, limit=1) == 120  # limit 1: the window after next


@pytest.mark.django_db
@override_settings(RATE_LIMIT_REPORTS=30)
def test_rate_limit_cost_per_hit():
    """One UPSERT on an unlogged table: about a tenth of a millisecond (≤ 1 ms asserted)."""
    rate_limit_hit(scope="reports", caller="address:warm-up")
    started = time.perf_counter()
    for index in range(300):
        rate_limit_hit(scope="reports", caller=f"address:10.0.{index // 250}.{index % 250}")
    per_hit = (time.perf_counter() - started) / 300
    assert per_hit < 0.001, f"{per_hit * 1000:.3f} ms a hit"
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


# --------------------------------------------------------------------------- admin login


def test_admin_login_locks_out_after_ten_wrong_passwords(live_server, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", "a long admin password")
    browser = Browser(live_server.url)
    for attempt in range(1, 11):
        token = browser.form_token("/admin/login/")
        fields = {"csrfmiddlewaretoken": token, "username": "root", "password": "wrong"}
        response = browser.post_form("/admin/login/", fields)
        if attempt < 10:
            assert response.status == 200 and b"Please enter the correct" in response.body, attempt
    assert response.status == 429, response.body[:300]
    token = browser.cookies["csrftoken"]
    right = browser.post_form(
        "/admin/login/", {"csrfmiddlewaretoken": token, "username": "root", "password": "a long admin password"}
    )
    assert right.status == 429 and b"too many login attempts" in right.body
    # Another username from the same address is not locked (username + address).
    django_user_model.objects.create_superuser("other", "o@example.com", "another long password")
    other = browser.post_form(
        "/admin/login/",
        {"csrfmiddlewaretoken": token, "username": "other", "password": "another long password", "next": "/admin/"},
    )
    assert other.status == 302

"""A state-changing request riding a signed-in browser's cookies (from /sign-in/ or the
admin's login) needs Django's CSRF token or a same-origin request; a cross-site one is
refused (403); bearer-token and anonymous calls are unchanged (docs/rules.md §8), over real HTTP."""

import json
from urllib.parse import urlencode

import pytest

from tests.http_browser import Browser, assert_served, json_of, state_changing_requests

pytestmark = pytest.mark.django_db(transaction=True)


EVIL = "https://evil.example"


def test_sign_in_session_cross_site_is_refused(signed_in, alice):
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


def test_bearer_token_and_anonymous_calls_are_unchanged(live_server, alice):
    """curl: no cookie, so no CSRF; a foreign Origin does not matter either (no cookie to ride)."""
    curl = Browser(live_server.url)
    bearer = {"Authorization": f"Bearer {alice['token']}"}
    for name, method, path, body, headers in state_changing_requests("s1"):
        assert_served(name, curl.request(method, path, body, {**headers, **bearer}))
        assert_served(name, curl.request(method, path, body, {**headers, **bearer, "Origin": EVIL}))
        assert_served(name, curl.request(method, path, body, headers))  # anonymous (the demo's default)
    assert not curl.cookies


def test_bearer_token_wins_over_a_session_cookie(signed_in, alice):
    response = signed_in.request(
        "POST", "/trigger_report/", "", {"Authorization": f"Bearer {alice['token']}", "Origin": EVIL}
    )
    assert_served("bearer with a session cookie", response)


def test_admin_session_cross_site_is_refused(admin_browser, alice):
    for name, method, path, body, headers in state_changing_requests("s1"):
        response = admin_browser.request(method, path, body, {**headers, "Origin": EVIL})
        assert response.status == 403, (name, response.status, response.body[:300])
        assert_served(name, admin_browser.request(method, path, body, {**headers, "Origin": admin_browser.origin}))


def test_sign_in_form_needs_its_csrf_token(live_server, alice):
    browser = Browser(live_server.url)
    browser.form_token("/sign-in/")  # the csrftoken cookie, but the form's token left out
    response = browser.post_form("/sign-in/", {"token": alice["token"]})
    assert response.status == 403 and "sessionid" not in browser.cookies

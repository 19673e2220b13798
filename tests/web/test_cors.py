"""Browser apps on other origins (docs/rules.md §14): CORS on the API's paths for the
origins in CORS_ALLOWED_ORIGINS (django-cors-headers). A preflight is answered 200 with
no token, before the token check, CSRF and rate limits; a disallowed origin, or a path
that is not the API's, gets no CORS header; credentials (cookies) never cross origins."""

import json

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from monitoring.web.middleware import API_PREFIXES

from tests.graphql_client import graphql_response
from tests.processes import ROOT

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"
ELSEWHERE = "https://evil.example.net"
PAGE = "query { stores(pagination: {limit: 5}) { totalCount } }"


@pytest.fixture(autouse=True)
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    settings.API_ANONYMOUS_ACCESS = False  # as in production: a token is needed


def preflight(client, path: str, origin: str = APP, method: str = "POST"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.parametrize("path", ["/graphql/", "/trigger_report/", "/get_report/", "/store/s1/trigger_report/", "/store/get_report/"])
def test_a_preflight_from_an_allowed_origin_needs_no_token(client, path):
    answer = preflight(client, path)
    assert answer.status_code == 200
    assert answer["Access-Control-Allow-Origin"] == APP
    assert {h.strip() for h in answer["Access-Control-Allow-Headers"].split(",")} >= {"authorization", "content-type"}
    assert {m.strip() for m in answer["Access-Control-Allow-Methods"].split(",")} >= {"GET", "POST"}
    assert answer["Access-Control-Max-Age"] == "7200"
    assert "Access-Control-Allow-Credentials" not in answer
    assert "origin" in answer["Vary"].lower()


def test_without_cors_a_preflight_would_meet_the_token_check(client):
    """What the middleware's place fixes: an OPTIONS that is not a preflight still needs
    a token, as every other request to the API."""
    assert client.options("/graphql/", headers={"Origin": APP}).status_code == 401


def test_a_disallowed_origin_gets_no_cors_headers(client, alice):
    answer = preflight(client, "/graphql/", origin=ELSEWHERE)
    assert answer.status_code == 200 and not any(h.lower().startswith("access-control-") for h in answer.headers)
    response = graphql_response(client, PAGE, token=alice["token"], headers={"Origin": ELSEWHERE})
    assert response.status_code == 200  # the server answers; the browser keeps it from the page
    assert "Access-Control-Allow-Origin" not in response


def test_cors_is_only_on_the_api(client):
    for path in ("/stores/s1/", "/reports/", "/admin/login/", "/sign-in/", "/"):
        answer = preflight(client, path)
        assert "Access-Control-Allow-Origin" not in answer, path


def test_an_allowed_origin_reads_answers_and_errors(client, alice):
    response = graphql_response(client, PAGE, token=alice["token"], headers={"Origin": APP})
    assert response.status_code == 200 and response.json()["data"]["stores"]["totalCount"] == 1
    assert response["Access-Control-Allow-Origin"] == APP
    assert "etag" in response["Access-Control-Expose-Headers"].lower().split(", ")
    refused = graphql_response(client, PAGE, headers={"Origin": APP}, token=None)
    assert refused.status_code == 401 and refused["Access-Control-Allow-Origin"] == APP  # the app can read why
    as_app = {"Origin": APP, "Authorization": f"Bearer {alice['token']}"}
    bad = client.post("/graphql/", b"{not json", content_type="application/json", headers=as_app)
    assert bad.status_code == 400 and bad["Access-Control-Allow-Origin"] == APP
    malformed = client.get("/graphql/?query=%00", headers=as_app)  # refused by the first middleware after CORS
    assert malformed.status_code == 400 and malformed["Access-Control-Allow-Origin"] == APP


@override_settings(RATE_LIMIT_REPORTS=1)
def test_rate_limits_and_csrf_leave_preflights_and_token_calls_alone(client, alice):
    as_app = {"Origin": APP, "Authorization": f"Bearer {alice['token']}"}
    assert client.post("/trigger_report/", headers=as_app).status_code == 200  # a foreign Origin, a token: no CSRF
    assert client.post("/trigger_report/", headers=as_app).status_code == 429  # the limit is reached…
    for _ in range(3):
        assert preflight(client, "/trigger_report/").status_code == 200  # …preflights are not counted


def test_a_session_cookie_never_rides_a_cross_origin_request(client, alice):
    """Credentials stay off: browsers send no cookie on a cross-origin fetch to us, and a
    request that carries one from another origin is refused as before (docs/rules.md §8)."""
    assert "Access-Control-Allow-Credentials" not in preflight(client, "/graphql/")
    signed_in = client.post("/sign-in/", {"token": alice["token"]})
    assert signed_in.status_code in (200, 302)
    refused = client.post(
        "/graphql/", json.dumps({"query": "mutation { triggerReport { id } }"}),
        content_type="application/json", headers={"Origin": APP},
    )
    assert refused.status_code == 403


def test_the_cors_paths_are_the_api_paths():
    import re

    for prefix in API_PREFIXES:
        assert re.match(django_settings.CORS_URLS_REGEX, prefix + "x"), prefix
    assert not re.match(django_settings.CORS_URLS_REGEX, "/stores/x/")


def test_allowed_origins_come_from_the_environment():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)"
    env_base = {k: v for k, v in __import__("os").environ.items() if k != "CORS_ALLOWED_ORIGINS"}
    run = lambda env: subprocess.run(  # noqa: E731
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT, env={**env_base, **env}, capture_output=True, text=True, timeout=120,
    )
    assert run({}).stdout.strip().splitlines()[-1] == "[]"  # none by default
    listed = run({"CORS_ALLOWED_ORIGINS": "https://a.example.com, http://127.0.0.1:3000"})
    assert listed.stdout.strip().splitlines()[-1] == "['https://a.example.com', 'http://127.0.0.1:3000']"

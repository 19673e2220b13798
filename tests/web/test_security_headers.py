"""Every HTML response carries a strict Content-Security-Policy (our own scripts and
styles only, no framing) and the usual headers; the pages hold no inline script or
style element (their styles are static files); GraphiQL keeps its own policy."""

import re

import pytest
from django.contrib.staticfiles import finders
from monitoring.reports import report_create

from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_protected(response) -> None:
    assert response["Content-Type"].startswith("text/html")
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_every_page_has_the_policy_and_no_inline_script_or_style(client):
    store, noon = worked_example_store("s1")
    report = report_create(as_of=noon)
    html = {"Accept": "text/html"}
    pages = {
        "/": 200,
        "/stores/s1/": 200,
        "/reports/": 200,
        f"/reports/{report.id}/": 200,
        "/sign-in/": 200,
        "/stores/ghost/": 404,
        "/no-such-page/": 404,
        "/admin/login/": 200,
    }
    for path, status in pages.items():
        response = client.get(path, headers=html)
        assert response.status_code == status, path
        assert_protected(response)
        body = response.content.decode()
        assert "<style" not in body, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        # The stylesheets the pages link are served (WhiteNoise) from our static files.
        for href in re.findall(r'<link rel="stylesheet" href="/static/([^"]+)"', body):
            assert finders.find(href), href

    # GraphiQL keeps its own, stricter policy; JSON answers carry none.
    graphiql = client.get("/graphql/", headers=html)
    assert graphiql.status_code == 200 and policy(graphiql)["default-src"] == ["'none'"]
    assert graphiql["X-Content-Type-Options"] == "nosniff"
    missing = client.get("/get_report/", {"report_id": "00000000-0000-0000-0000-000000000000"})
    assert missing.status_code == 404 and "Content-Security-Policy" not in missing

"""Fixtures of the web tests: two owners and a staff token, a fleet of stores in every
state, a browser-like client."""

from datetime import timedelta

import pytest
from monitoring.models import Owner, Report
from monitoring.reports import report_run
from monitoring.stores.access import token_create

from tests.factories import (
    FLEET_END,
    add_polls,
    hourly,
    make_store,
    worked_example_store,
)
from tests.http_browser import Browser


@pytest.fixture
def owners():
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, noon = worked_example_store("a1")
    b1, _ = worked_example_store("b1")
    a1.owner, b1.owner = alice, bob
    a1.save()
    b1.save()
    alice_report = Report.objects.create(owner=alice)
    return {
        "alice": token_create(name="t", owner=alice)[1],
        "bob": token_create(name="t", owner=bob)[1],
        "staff": token_create(name="t", is_staff=True)[1],
        "alice_report": alice_report,
    }


@pytest.fixture
def fleet():
    """Stores open 24x7 in UTC, as of FLEET_END (the latest poll): a-up (up all week),
    b-down (down the last 2.5 hours), c-half (down the first half of the week, up since),
    d-never (no polls at all), e-silent (last poll 10 days ago), f-new (polls only in
    the last day: its week is mostly unknown)."""
    hourly(make_store("a-up", zone="UTC"), hours=7 * 24 + 3)
    hourly(make_store("b-down", zone="UTC"), hours=7 * 24 + 3, status=lambda age: age > 2)
    hourly(make_store("c-half", zone="UTC"), hours=7 * 24 + 3, status=lambda age: age < 84)
    make_store("d-never", zone="UTC")
    add_polls(make_store("e-silent", zone="UTC"), [(FLEET_END - timedelta(days=10), True)])
    hourly(make_store("f-new", zone="UTC"), hours=24)


@pytest.fixture
def browser():
    """A client that checks Django's CSRF token as a browser's requests would be."""
    from django.test import Client

    return Client(enforce_csrf_checks=True)


@pytest.fixture
def admin_world():
    owner = Owner.objects.create(name="alice")
    store, noon = worked_example_store("1234567890123456789")
    store.owner = owner
    store.save()
    make_store("7f3c2a9e-0000-4000-8000-000000000001")
    complete = Report.objects.create(store_ids=[store.store_id], requested_as_of=noon)
    report_run(report_id=complete.id)
    failed = Report.objects.create(status=Report.Status.FAILED, error="the report could not be computed")
    token, _ = token_create(name="dashboard", owner=owner)
    return {"owner": owner, "store": store, "complete": complete, "failed": failed, "token": token}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Admin users hashed cheaply: the lockout test signs in eleven times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def signed_in(live_server, alice) -> Browser:
    """An owner's browser after signing in at /sign-in/ as a person would."""
    browser = Browser(live_server.url)
    token = browser.form_token("/sign-in/")
    fields = {"csrfmiddlewaretoken": token, "token": alice["token"], "next": "/"}
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

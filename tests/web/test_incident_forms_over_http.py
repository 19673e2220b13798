"""The store page's incident forms over real HTTP (a live server, a browser-like client
keeping cookies): signed in at /sign-in/, the page's form acknowledges with Django's
CSRF token from the same origin and the page shows it after the redirect; the same form
posted from another origin changes nothing (docs/rules.md §8)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.alerts.models import Incident
from monitoring.models import Store

from tests.http_browser import json_of

pytestmark = pytest.mark.django_db(transaction=True)

HTML = {"Accept": "text/html"}


def test_a_signed_in_owner_acknowledges_with_the_pages_form(signed_in):
    incident = Incident.objects.create(store=Store.objects.get(store_id="s1"), started_at=timezone.now() - timedelta(minutes=9))
    token = signed_in.form_token("/stores/s1/")
    fields = {"csrfmiddlewaretoken": token, "incident": str(incident.pk), "action": "acknowledge", "note": "on my way"}

    foreign = signed_in.post_form("/stores/s1/", fields, {"Origin": "https://evil.example"})
    assert foreign.status == 403 and "cross-site" in json_of(foreign)["error"]
    incident.refresh_from_db()
    assert incident.acknowledged_at is None

    response = signed_in.post_form("/stores/s1/", fields)
    assert response.status == 303 and response.getheader("Location") == "/stores/s1/#open-incident"
    page = signed_in.request("GET", "/stores/s1/", headers=HTML).body.decode()
    assert "acknowledged by token t (alice)" in page and "on my way" in page
    incident.refresh_from_db()
    assert incident.acknowledged_by == "token t (alice)" and [n.text for n in incident.notes.all()] == ["on my way"]

"""An open incident on the pages (docs/rules.md §13): the store page shows since when,
whether and by whom it is acknowledged, and its notes; the fleet row says the same in a
line. A resolved incident is no longer shown as open. A signed-in caller whose role may
acknowledge does it, and adds notes, with the page's forms (Django's CSRF token)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from monitoring.alerts.incidents import Actor, incident_acknowledge, incident_note_add
from monitoring.alerts.models import Incident
from monitoring.audit.models import AuditEntry
from monitoring.models import Owner
from monitoring.organizations.roles import ADMIN, OPERATOR, VIEWER
from monitoring.stores.access import Access, token_create

from tests.alert_polls import record
from tests.page_html import HTML, csrf_token, fleet_row, sign_in


def test_the_store_and_fleet_pages_show_an_open_incidents_acknowledgement_and_notes(client, alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a1", now - timedelta(minutes=5), "inactive"))
    incident = Incident.objects.get()
    page = client.get("/stores/a1/", headers=HTML).content.decode()
    assert f'id="open-incident" data-incident="{incident.pk}"' in page and "not acknowledged" in page
    assert "not acknowledged" in fleet_row(client.get("/", headers=HTML).content.decode(), "a1")

    incident_acknowledge(access=alert_world["alice"], incident_id=incident.pk, actor=Actor("token ops (alice)"), note="on it")
    incident_note_add(access=alert_world["alice"], incident_id=incident.pk, actor=Actor("user admin"), text="<b>driver</b> called")
    page = client.get("/stores/a1/", headers=HTML).content.decode()
    assert "acknowledged by token ops (alice)" in page and "not acknowledged" not in page
    assert "token ops (alice):</span> on it" in page
    assert "&lt;b&gt;driver&lt;/b&gt; called" in page  # escaped
    row = fleet_row(client.get("/", headers=HTML).content.decode(), "a1")
    assert "acknowledged by token ops (alice)" in row and "driver" in row
    assert "open-incident" not in fleet_row(client.get("/", headers=HTML).content.decode(), "a2")

    record(alert_world["alice"], ("a1", now - timedelta(minutes=1), "active"))
    assert 'id="open-incident"' not in client.get("/stores/a1/", headers=HTML).content.decode()


def _signed_in(alert_world, *, role=ADMIN, owner="alice"):
    """A browser enforcing Django's CSRF checks, signed in with a token of `owner` of `role`."""
    browser = Client(enforce_csrf_checks=True)
    organization = Owner.objects.get(pk=alert_world[owner].owner_id)
    sign_in(browser, token_create(name=f"{role.lower()} desk", owner=organization, role=role)[1])
    return browser


def _open_incident():
    record(_alice(), ("a1", timezone.now() - timedelta(minutes=5), "inactive"))
    return Incident.objects.get()


def _alice():
    return Access(owner_id=Owner.objects.get(name="alice").pk, all_stores=False)


def _post(browser, path, fields, *, token=True):
    page = browser.get(path, headers=HTML).content.decode()
    if token:
        fields = {**fields, "csrfmiddlewaretoken": csrf_token(page)}
    return browser.post(path, fields, headers=HTML)


def test_a_signed_in_operator_acknowledges_and_adds_notes_from_the_store_page(alert_world):
    incident = _open_incident()
    browser = _signed_in(alert_world, role=OPERATOR)
    page = browser.get("/stores/a1/", headers=HTML).content.decode()
    assert 'id="acknowledge-incident"' in page and 'id="add-incident-note"' in page

    response = _post(browser, "/stores/a1/", {"incident": str(incident.pk), "action": "acknowledge", "note": " rider on it "})
    assert response.status_code == 303 and response["Location"] == "/stores/a1/#open-incident"
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None and incident.acknowledged_by == "token operator desk (alice)"
    page = browser.get("/stores/a1/", headers=HTML).content.decode()
    assert "acknowledged by token operator desk (alice)" in page and "operator desk (alice):</span> rider on it" in page
    assert 'id="acknowledge-incident"' not in page and 'id="add-incident-note"' in page  # once acknowledged

    response = _post(browser, "/stores/a1/", {"incident": str(incident.pk), "action": "note", "text": "<i>fixed</i> tablet"})
    assert response.status_code == 303
    page = browser.get(response["Location"].split("#")[0], headers=HTML).content.decode()
    assert "&lt;i&gt;fixed&lt;/i&gt; tablet" in page
    assert [note.text for note in incident.notes.order_by("created_at")] == ["rider on it", "<i>fixed</i> tablet"]
    assert list(AuditEntry.objects.filter(object_id=str(incident.pk)).values_list("action", flat=True).order_by("id")) == [
        "incident.acknowledge", "incident.note", "incident.note"
    ]


def test_a_viewer_sees_no_forms_and_is_refused_with_the_forbidden_page(alert_world):
    incident = _open_incident()
    browser = _signed_in(alert_world, role=VIEWER)
    page = browser.get("/stores/a1/", headers=HTML).content.decode()
    assert 'id="open-incident"' in page and "<form method=\"post\" id=\"acknowledge-incident\"" not in page
    token = csrf_token(page)
    for fields in ({"action": "acknowledge"}, {"action": "note", "text": "hello"}):
        response = browser.post("/stores/a1/", {**fields, "incident": str(incident.pk), "csrfmiddlewaretoken": token}, headers=HTML)
        assert response.status_code == 403
        body = response.content.decode()
        assert "Not allowed" in body and "the VIEWER role cannot acknowledge incidents" in body
    incident.refresh_from_db()
    assert incident.acknowledged_at is None and not incident.notes.exists()


def test_without_the_csrf_token_or_from_another_site_nothing_changes(alert_world):
    incident = _open_incident()
    browser = _signed_in(alert_world)
    fields = {"incident": str(incident.pk), "action": "acknowledge"}
    assert _post(browser, "/stores/a1/", fields, token=False).status_code == 403
    token = csrf_token(browser.get("/stores/a1/", headers=HTML).content.decode())
    foreign = browser.post("/stores/a1/", {**fields, "csrfmiddlewaretoken": token}, headers={**HTML, "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    wrong = browser.post("/stores/a1/", {**fields, "csrfmiddlewaretoken": "x" * 64}, headers=HTML)
    assert wrong.status_code == 403
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_the_anonymous_demo_and_other_owners_cannot_act(alert_world, client, settings):
    incident = _open_incident()
    settings.API_ANONYMOUS_ACCESS = True
    page = client.get("/stores/a1/", headers=HTML).content.decode()
    assert 'id="open-incident"' in page and 'id="add-incident-note"' not in page
    demo = client.post("/stores/a1/", {"incident": str(incident.pk), "action": "acknowledge"}, headers=HTML)
    assert demo.status_code == 403 and "sign in to acknowledge" in demo.content.decode()
    # Bob's operator: alice's store is no store of his.
    bob = _signed_in(alert_world, role=OPERATOR, owner="bob")
    token = csrf_token(bob.get("/stores/b1/", headers=HTML).content.decode())
    assert bob.post("/stores/a1/", {"incident": str(incident.pk), "action": "acknowledge", "csrfmiddlewaretoken": token}, headers=HTML).status_code == 404
    # Nor through one of his own stores.
    assert bob.post("/stores/b1/", {"incident": str(incident.pk), "action": "acknowledge", "csrfmiddlewaretoken": token}, headers=HTML).status_code == 404
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_bad_input_is_a_400_naming_the_field(alert_world):
    incident = _open_incident()
    browser = _signed_in(alert_world)
    for fields, field in (
        ({"incident": "nope", "action": "acknowledge"}, "incident:"),
        ({"incident": str(incident.pk), "action": "delete"}, "action:"),
        ({"incident": str(incident.pk), "action": "note", "text": "   "}, "text:"),
        ({"incident": str(incident.pk), "action": "acknowledge", "note": "x" * 2001}, "note:"),
    ):
        response = _post(browser, "/stores/a1/", fields)
        assert response.status_code == 400 and field in response.content.decode(), fields
    incident.refresh_from_db()
    assert incident.acknowledged_at is None and not incident.notes.exists()

"""An open incident on the pages (docs/rules.md §13): the store page shows since when,
whether and by whom it is acknowledged, and its notes; the fleet row says the same in a
line. A resolved incident is no longer shown as open."""

from datetime import timedelta

from django.utils import timezone
from monitoring.alerts.incidents import Actor, incident_acknowledge, incident_note_add
from monitoring.alerts.models import Incident

from tests.alert_polls import record
from tests.page_html import HTML, fleet_row


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

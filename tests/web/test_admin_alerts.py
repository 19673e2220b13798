"""The alerts' admin pages load and never show a webhook's secret."""

from datetime import timedelta

from django.utils import timezone
from monitoring.alerts.models import Delivery

from tests.alert_polls import record


def test_alert_admin_pages_load_and_never_show_the_secret(admin_client, alert_world):
    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    delivery = Delivery.objects.get()
    pages = [
        "/admin/alerts/",
        "/admin/alerts/webhook/",
        f"/admin/alerts/webhook/{alert_world['webhook'].pk}/change/",
        "/admin/alerts/delivery/",
        f"/admin/alerts/delivery/{delivery.pk}/change/",
        "/admin/alerts/delivery/?status=PENDING&q=a1",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert alert_world["secret"] not in response.content.decode(), url
    assert admin_client.get("/admin/alerts/webhook/add/").status_code == 403


def test_escalation_policies_are_set_in_the_admin_within_bounds_and_incidents_acknowledged(admin_client, alert_world):
    from monitoring.alerts.models import EscalationPolicy, Incident
    from monitoring.alerts.webhooks import webhook_create
    from monitoring.models import Owner

    alice = Owner.objects.get(name="alice")
    bob_hook, _ = webhook_create(access=alert_world["bob"], url="https://example.com/bob")
    form = {
        "owner": alice.pk, "escalate_after_minutes": 0, "remind_every_minutes": 10, "max_reminders": 2,
        "quiet_before_close_minutes": 5, "targets": [str(alert_world["webhook"].pk)],
    }
    response = admin_client.post("/admin/alerts/escalationpolicy/add/", form)
    assert response.status_code == 200 and not EscalationPolicy.objects.exists()  # 0 minutes: refused
    response = admin_client.post("/admin/alerts/escalationpolicy/add/", {**form, "escalate_after_minutes": 15, "targets": [str(bob_hook.pk)]})
    assert "not a webhook of this owner" in response.content.decode() and not EscalationPolicy.objects.exists()
    response = admin_client.post("/admin/alerts/escalationpolicy/add/", {**form, "escalate_after_minutes": 15})
    assert response.status_code == 302
    policy = EscalationPolicy.objects.get()
    assert (policy.escalate_after_minutes, list(policy.targets.all())) == (15, [alert_world["webhook"]])
    # Another owner's webhook is not among the targets offered.
    page = admin_client.get(f"/admin/alerts/escalationpolicy/{policy.pk}/change/").content.decode()
    assert "https://example.com/hook" in page and "https://example.com/bob" not in page
    assert str(bob_hook.pk) not in page

    record(alert_world["alice"], ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    incident = Incident.objects.get()
    assert admin_client.get(f"/admin/alerts/incident/{incident.pk}/change/").status_code == 200
    admin_client.post("/admin/alerts/incident/", {"action": "acknowledge", "_selected_action": [str(incident.pk)]})
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None and incident.acknowledged_by.startswith("user ")

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

"""The scheduled reports' admin pages load, are read-only, never show a schedule's secret
and refuse filters on it."""

from datetime import UTC, datetime

import pytest

from monitoring.models import Owner
from monitoring.schedules.models import ScheduledDelivery
from monitoring.schedules.sending import periods_claim
from monitoring.schedules.subscriptions import report_schedule_create
from monitoring.stores.access import Access
from tests.factories import make_store

pytestmark = pytest.mark.django_db


def test_schedule_admin_pages_load_read_only_without_the_secret(admin_client):
    owner = Owner.objects.create(name="alice")
    store = make_store("a1")
    store.owner = owner
    store.save()
    schedule, secret = report_schedule_create(
        access=Access(owner_id=owner.pk, all_stores=False), period="WEEKLY", zone="Europe/Paris",
        url="https://hooks.example.com/weekly", now=datetime(2023, 1, 18, tzinfo=UTC),
    )
    periods_claim(now=datetime(2023, 1, 23, tzinfo=UTC))
    delivery = ScheduledDelivery.objects.get()
    pages = [
        "/admin/schedules/",
        "/admin/schedules/reportschedule/",
        f"/admin/schedules/reportschedule/{schedule.pk}/change/",
        "/admin/schedules/scheduleddelivery/",
        f"/admin/schedules/scheduleddelivery/{delivery.pk}/change/",
        "/admin/schedules/scheduleddelivery/?status=WAITING&q=alice",
        "/admin/schedules/reportschedule/?period=WEEKLY&q=hooks",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url
    html = admin_client.get(f"/admin/schedules/reportschedule/{schedule.pk}/change/").content.decode()
    assert "Europe/Paris" in html and 'name="url"' not in html  # shown, not editable
    assert admin_client.get("/admin/schedules/reportschedule/add/").status_code == 403
    for url in (
        f"/admin/schedules/reportschedule/?secret__startswith={secret[:8]}",
        f"/admin/schedules/scheduleddelivery/?schedule__secret__startswith={secret[:8]}",
    ):
        assert admin_client.get(url).status_code == 400, url

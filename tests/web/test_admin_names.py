"""The admin says whose it is, and names every object: no "Django administration", no
"BusinessHours object (N)"."""

from datetime import date, datetime, time, timezone

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from monitoring.models import BusinessHours, SpecialHours, StatusPoll
from tests.factories import add_polls, make_store

pytestmark = pytest.mark.django_db

OUR_APPS = ("monitoring", "alerts", "fleet", "throttle", "schedules")


def test_the_admin_is_branded(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "<title>Stores, polls, reports and alerts | Store uptime monitor admin</title>" in html
    assert "Store uptime monitor" in html and "Django administration" not in html


def test_every_model_of_ours_names_itself():
    plain = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and model.__str__ is models.Model.__str__
    ]
    assert plain == []


def test_hours_and_polls_read_as_what_they_are(admin_client):
    store = make_store("s1", zone="UTC", hours=[(0, "09:00", "17:00"), (4, "18:00", "00:00")])
    add_polls(store, [(datetime(2023, 1, 25, 18, 13, 22, tzinfo=timezone.utc), True)])
    SpecialHours.objects.create(store=store, date=date(2023, 12, 25))
    SpecialHours.objects.create(store=store, date=date(2023, 12, 24), start_time_local=time(9), end_time_local=time(12))
    shifts = [str(shift) for shift in BusinessHours.objects.order_by("day_of_week")]
    assert shifts == ["s1: Mon 09:00–17:00", "s1: Fri 18:00–24:00"]
    assert sorted(str(row) for row in SpecialHours.objects.all()) == ["s1: 2023-12-24 09:00–12:00", "s1: 2023-12-25 closed"]
    assert str(StatusPoll.objects.get()) == "s1: active at 2023-01-25 18:13:22.000000 UTC"
    shift = BusinessHours.objects.get(day_of_week=0)
    html = admin_client.get(reverse("admin:monitoring_businesshours_change", args=[shift.pk])).content.decode()
    assert "s1: Mon 09:00–17:00" in html and "BusinessHours object" not in html

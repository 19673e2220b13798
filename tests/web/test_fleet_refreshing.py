"""While the fleet page shows a ranking older than the data (a refresh queued for the
workers), it says so beside its "as of"; once the ranking is current it does not."""

from datetime import timedelta

import pytest
from django.test import Client

from monitoring.fleet.summary import fleet_rankings_forget
from monitoring.fleet.tasks import refresh_fleet_ranking
from tests.factories import add_polls, worked_example_store

pytestmark = pytest.mark.django_db

HTML = {"Accept": "text/html"}


def test_the_page_says_when_its_ranking_is_being_refreshed(settings):
    settings.FLEET_SUMMARY_MAX_AGE_SECONDS = 60
    store, noon = worked_example_store("fleet-a")
    client = Client()
    first = client.get("/", headers=HTML)
    assert 'id="fleet-refreshing"' not in first.content.decode()
    shown = first.context["as_of"]  # the latest poll: 11:15 in New York

    add_polls(store, [(noon - timedelta(minutes=30), False)])  # newer data: the kept ranking is behind
    html = client.get("/", headers=HTML).content.decode()
    assert f"Ranking as of {shown:%H:%M} UTC, refreshing…" in html and shown.strftime("%H:%M") == "16:15"

    refresh_fleet_ranking("all")  # the worker's refresh
    fleet_rankings_forget()
    assert 'id="fleet-refreshing"' not in client.get("/", headers=HTML).content.decode()

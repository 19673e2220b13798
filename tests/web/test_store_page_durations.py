"""The store page's coverage and its "Business time in window" are written by one rule
(kernel/humanize.duration): 10 h 30 min open is "10 h 30 min" in both places."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import add_polls, make_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc


def test_day_coverage_and_business_time_agree(client):
    store = make_store("half-past", zone="UTC", hours=[(day, "09:00", "19:30") for day in range(7)])
    close = datetime(2023, 1, 25, 19, 30, tzinfo=UTC)
    add_polls(store, [(close - timedelta(minutes=15 + 30 * k), True) for k in range(21)])  # every 30 min, 09:15–19:15
    html = client.get(f"/stores/{store.store_id}/", {"as_of": close.isoformat()}).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "10 h 30 min of 10 h 30 min known" in text
    assert "Business time in window: 10 h 30 min" in text
    assert "10 h of 10 h known" not in text

"""Durations, ages, figures and coverage as the pages say them
(monitoring.kernel.humanize)."""

from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.django_db


UTC = timezone.utc


def test_humanize():
    from monitoring.kernel import humanize

    assert humanize.duration(2 * 3600 + 14 * 60 + 5) == "2 h 14 min"
    assert humanize.duration(27 * 3600 + 59) == "1 d 3 h"
    assert humanize.duration(45) == "45 s" and humanize.duration(7200) == "2 h"
    assert humanize.count(14_000, "store") == "14,000 stores" and humanize.count(1, "store") == "1 store"
    now = datetime(2023, 1, 25, 12, tzinfo=UTC)
    assert humanize.ago(now - timedelta(minutes=3), now=now) == "3 min ago"
    assert humanize.ago(now - timedelta(hours=2), now=now) == "2 h ago"
    assert humanize.ago(now - timedelta(seconds=5), now=now) == "a few seconds ago"
    assert humanize.percent_text(99.96) == "99.9%" and humanize.percent_text(100.0) == "100%"
    assert humanize.coverage(4 * 3600, 0, 164 * 3600)["text"] == "100% up — but only 4 h of 7 d known"
    assert humanize.coverage(20 * 3600 * 0.981, 20 * 3600 * 0.019, 4 * 3600)["text"] == "98.1% up · 20 h of 1 d known"
    assert humanize.coverage(0, 0, 3600)["text"] == "no polls in this window: uptime unknown"

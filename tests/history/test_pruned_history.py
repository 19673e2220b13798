"""History beyond poll retention (docs/rules.md §11): pruning polls keeps their daily
figures unchanged; a range over pruned days is answered from whole kept days and says
so; a date with neither polls nor kept figures is refused with the reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from monitoring import history
from monitoring.models import DaySummary, StatusPoll, Store
from monitoring.stores.retention import polls_prune, polls_prune_by_retention
from monitoring.stores.summaries import summaries_extend
from tests.factories import add_polls, make_store

UTC = timezone.utc
START = datetime(2023, 2, 1, 5, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _store(store_id: str = "pruned", zone: str = "America/New_York") -> Store:
    store = make_store(store_id, zone=zone, hours=[(d, "07:00", "23:00") for d in range(7)])
    add_polls(store, [(START + timedelta(minutes=61 * k), k % 9 not in (2, 3)) for k in range(60 * 24)])
    summaries_extend(store_pks=[store.pk])
    return store


def _days(store: Store, first: date, last: date):
    return [
        (d.date, d.start, round(d.uptime_minutes, 6), round(d.downtime_minutes, 6), round(d.unknown_minutes, 6))
        for d in history.store_daily_figures(store=store, first=first, last=last)
    ]


def test_pruning_polls_leaves_daily_figures_and_whole_day_ranges_unchanged():
    store = _store()
    first, last = date(2023, 2, 2), date(2023, 3, 20)
    days_before = _days(store, first, last)
    midnight = datetime(2023, 2, 10, 5, tzinfo=UTC)  # 00:00 in New York
    whole = history.store_range_figures(store=store, start=midnight, end=midnight + timedelta(days=20))[2]
    assert not whole["whole_days"]

    cut = datetime(2023, 2, 25, 17, tzinfo=UTC)
    assert polls_prune(before=cut) > 0
    assert not StatusPoll.objects.filter(store=store, timestamp_utc__lt=cut).exists()
    store.refresh_from_db()
    assert store.polls_pruned_before == cut
    assert DaySummary.objects.filter(store=store, frozen=True).exists()

    assert _days(store, first, last) == days_before
    again = history.store_range_figures(store=store, start=midnight, end=midnight + timedelta(days=20))[2]
    assert again == whole  # from whole kept days alone: exact, and not flagged

    # Starting mid-day where polls are pruned: the whole days from the next midnight answer.
    partial = history.store_range_figures(
        store=store, start=midnight - timedelta(hours=7), end=midnight + timedelta(days=20)
    )[2]
    assert partial["whole_days"]
    assert partial["uptime_minutes"] == pytest.approx(whole["uptime_minutes"])
    assert partial["business_minutes"] == pytest.approx(whole["business_minutes"])


def test_a_late_poll_in_pruned_time_does_not_change_frozen_days():
    store = _store("frozen")
    day = date(2023, 2, 12)
    before = _days(store, day, day)
    polls_prune(before=datetime(2023, 2, 20, tzinfo=UTC))
    add_polls(store, [(datetime(2023, 2, 12, 18, 30, tzinfo=UTC), False)])
    assert _days(store, day, day) == before


def test_daily_retention_keeps_history_longer_than_polls(settings):
    settings.POLL_RETENTION_DAYS = 10
    settings.HISTORY_RETENTION_DAYS = 30
    store = _store("retained")
    latest = StatusPoll.objects.filter(store=store).latest("timestamp_utc").timestamp_utc
    kept = _days(store, (latest - timedelta(days=28)).date(), (latest - timedelta(days=12)).date())
    polls_prune_by_retention(now=latest + timedelta(days=1))
    assert StatusPoll.objects.filter(store=store).earliest("timestamp_utc").timestamp_utc >= latest - timedelta(days=10)
    assert _days(store, (latest - timedelta(days=28)).date(), (latest - timedelta(days=12)).date()) == kept
    # Past HISTORY_RETENTION_DAYS neither polls nor figures are kept: refused, with why.
    with pytest.raises(history.HistoryInputError) as refused:
        history.store_daily_figures(store=store, first=(latest - timedelta(days=45)).date(),
                                    last=(latest - timedelta(days=40)).date())
    assert refused.value.field == "from"
    assert "pruned" in refused.value.reason and "HISTORY_RETENTION_DAYS" in refused.value.reason

"""Poll retention by each store's own clock: the daily prune keeps POLL_RETENTION_DAYS
before a store's own latest poll, so that one owner's new poll never deletes another
owner's history; weekly partitions past every cut of their rows are dropped whole."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone as django_timezone
from monitoring.ingest import polls_record
from monitoring.models import Owner, StatusPoll
from monitoring.reports import report_compute, report_csv
from monitoring.stores.access import EVERYTHING
from monitoring.stores.data_version import data_version_read
from monitoring.stores.partitions import partition_name, partitions_list, week_start
from monitoring.stores.retention import polls_prune_by_retention

from tests.factories import add_polls, make_store

pytestmark = pytest.mark.django_db

HISTORY_END = datetime(2023, 1, 25, 12, tzinfo=UTC)


def _owned(store_id: str, owner: Owner):
    store = make_store(store_id, zone="UTC")
    store.owner = owner
    store.save()
    return store


def _instants(store) -> list[datetime]:
    return list(StatusPoll.objects.filter(store=store).order_by("timestamp_utc").values_list("timestamp_utc", flat=True))


def _hourly(end: datetime, days: int) -> list[tuple[datetime, bool]]:
    return [(end - timedelta(hours=hour), hour % 5 != 0) for hour in range(days * 24)]


def test_one_owners_new_poll_does_not_prune_another_owners_history(settings):
    settings.POLL_RETENTION_DAYS = 35
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    history = _owned("alice-1", alice)
    add_polls(history, _hourly(HISTORY_END, 20))  # a loaded 2023 data set: all within its own window
    kept = _instants(history)
    _owned("bob-1", bob)
    now = datetime.now(UTC).replace(microsecond=0)
    assert polls_record(access=EVERYTHING, polls=[("bob-1", (now - timedelta(minutes=5)).isoformat(), "active")]).loaded == 1
    assert polls_prune_by_retention(now=now) == 0
    assert _instants(history) == kept


def test_each_store_keeps_the_retention_period_before_its_own_latest_poll(settings):
    settings.POLL_RETENTION_DAYS = 10
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    history = _owned("alice-1", alice)
    add_polls(history, _hourly(HISTORY_END, 20))
    live = _owned("bob-1", bob)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    add_polls(live, _hourly(now, 20))
    # A week of old polls the live store sent: in the DEFAULT partition, past its cut.
    old = [datetime(2019, 6, 5, 12, tzinfo=UTC) + timedelta(hours=hour) for hour in range(3)]
    assert polls_record(access=EVERYTHING, polls=[("bob-1", moment.isoformat(), "active") for moment in old]).loaded == 3
    before = {store.pk: _instants(store) for store in (history, live)}
    version = data_version_read().number

    deleted = polls_prune_by_retention(now=now)

    assert _instants(history) == [m for m in before[history.pk] if m >= HISTORY_END - timedelta(days=10)]
    assert _instants(live) == [m for m in before[live.pk] if m >= now - timedelta(days=10)]
    assert deleted == sum(len(before[s.pk]) - len(_instants(s)) for s in (history, live)) == 2 * (20 * 24 - 241) + 3
    # The live store's weeks wholly past its cut are gone as tables, not emptied by a DELETE.
    names = {name for name, _low, _high in partitions_list()}
    assert partition_name(week=week_start(now - timedelta(days=19))) not in names
    assert partition_name(week=week_start(HISTORY_END)) in names
    assert data_version_read().number > version
    assert polls_prune_by_retention(now=now) == 0  # nothing more to prune


def test_a_partition_shared_by_two_stores_is_cut_per_store(settings):
    """The same week holds one store's polls past its cut and another's within its own
    window: the week stays, only the first store's polls leave it."""
    settings.POLL_RETENTION_DAYS = 8
    kept_store, cut_store = make_store("keeps", zone="UTC"), make_store("cut", zone="UTC")
    week = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
    add_polls(kept_store, [(week + timedelta(days=2, hours=h), True) for h in range(24)])
    add_polls(cut_store, [(week + timedelta(days=2, hours=h), True) for h in range(24)])
    add_polls(cut_store, [(week + timedelta(days=30), False)])  # its own latest: a month on
    polls_prune_by_retention(now=datetime.now(UTC))
    assert len(_instants(kept_store)) == 24
    assert _instants(cut_store) == [week + timedelta(days=30)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(week=week)])
        assert cursor.fetchone()[0]


def test_the_command_prunes_by_each_stores_clock(settings, capsys):
    settings.POLL_RETENTION_DAYS = 10
    history, live = make_store("hist", zone="UTC"), make_store("live", zone="UTC")
    add_polls(history, _hourly(HISTORY_END, 5))
    add_polls(live, [(datetime.now(UTC).replace(microsecond=0) - timedelta(days=days), True) for days in (30, 1)])
    call_command("prune_polls")
    assert "deleted 1 poll older than 10 days before their store's latest poll" in capsys.readouterr().out
    assert len(_instants(history)) == 5 * 24 and len(_instants(live)) == 1


pytestmark = pytest.mark.django_db


def _hourly_polls(days: int):
    """Three stores polled hourly for `days` days up to 2023-01-25 12:00 UTC; returns that instant."""
    from datetime import datetime, timezone

    from tests.factories import add_polls

    end = datetime(2023, 1, 25, 12, tzinfo=timezone.utc)
    for index in range(3):
        store = make_store(f"hourly-{index}", zone="UTC")
        add_polls(store, [(end - timedelta(hours=hour), (hour + index) % 7 != 0) for hour in range(days * 24)])
    return end


def test_prune_polls_cuts_exactly_and_keeps_the_last_day(capsys):
    from django.core.management import call_command
    from monitoring.models import StatusPoll

    end = _hourly_polls(28)
    before = report_csv(rows=report_compute(as_of=end).rows)
    cut = end - timedelta(days=9, minutes=30)  # between two polls
    kept = StatusPoll.objects.filter(timestamp_utc__gte=cut).count()
    call_command("prune_polls", "--before", cut.isoformat())
    assert f"deleted {3 * 28 * 24 - kept} polls" in capsys.readouterr().out
    assert StatusPoll.objects.count() == kept and not StatusPoll.objects.filter(timestamp_utc__lt=cut).exists()
    # The report over what is kept (the last week and its horizon) is unchanged.
    assert report_csv(rows=report_compute(as_of=end).rows) == before


def test_retention_keeps_days_before_the_latest_poll(settings):
    from monitoring.models import StatusPoll
    from monitoring.stores.retention import polls_prune_by_retention

    end = _hourly_polls(20)
    settings.POLL_RETENTION_DAYS = 10
    # The data's clock, not the wall clock: historical data keeps its last 10 days.
    deleted = polls_prune_by_retention(now=django_timezone.now())
    oldest = StatusPoll.objects.order_by("timestamp_utc").values_list("timestamp_utc", flat=True).first()
    assert oldest == end - timedelta(days=10) and deleted == 3 * (20 * 24 - (10 * 24 + 1))
    assert polls_prune_by_retention(now=django_timezone.now()) == 0


def test_prune_polls_refuses_an_instant_without_offset():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--before: .*offset"):
        call_command("prune_polls", "--before", "2023-01-25T12:00:00")

"""The poll table in weekly time partitions: partitions created ahead (the
daily schedule) and on demand (file loads, live polls), strays of the DEFAULT partition
moved to their week, retention dropping whole partitions and deleting only inside the
boundary one, reports over what is kept unchanged, partition pruning of time-range reads."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from monitoring.ingest import load_status_file, polls_record
from monitoring.reports import report_compute
from monitoring.stores.access import EVERYTHING
from monitoring.stores.data_version import data_version_read
from monitoring.stores.partitions import (
    default_partition,
    partition_name,
    partitions_ensure,
    partitions_ensure_ahead,
    partitions_list,
    week_start,
)
from monitoring.stores.retention import polls_prune
from monitoring.stores.selectors import polls_between, stores_in_scope

from tests.factories import add_polls, make_store
from tests.partition_plans import indexes_used, partitions_scanned

pytestmark = pytest.mark.django_db

END = datetime(2023, 1, 25, 12, tzinfo=UTC)  # a Wednesday


def _names() -> list[str]:
    return [name for name, _low, _high in partitions_list()]


def _rows_by_table() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM monitoring_statuspoll GROUP BY 1")
        return dict(cursor.fetchall())


def _table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def _hourly(days: int, stores: int = 3) -> list:
    made = []
    for index in range(stores):
        store = make_store(f"hourly-{index}", zone="UTC")
        add_polls(store, [(END - timedelta(hours=hour), (hour + index) % 7 != 0) for hour in range(days * 24)])
        made.append(store)
    return made


def test_weeks_are_utc_monday_to_monday_named_by_iso_week():
    assert week_start(datetime(2023, 1, 25, 23, 59, tzinfo=UTC)) == datetime(2023, 1, 23, tzinfo=UTC)
    assert week_start(datetime(2023, 1, 23, tzinfo=UTC)) == datetime(2023, 1, 23, tzinfo=UTC)
    assert partition_name(week=datetime(2023, 1, 2, tzinfo=UTC)) == "monitoring_statuspoll_p2023w01"
    assert partition_name(week=datetime(2024, 12, 30, tzinfo=UTC)) == "monitoring_statuspoll_p2025w01"


def test_the_schedule_creates_partitions_weeks_ahead():
    import importlib

    from django.apps import apps
    from django_q.models import Schedule

    migration = importlib.import_module("monitoring.migrations.0018_schedule_poll_partitions")
    migration.create_schedule(apps, None)  # idempotent; the test database may have been flushed
    schedule = Schedule.objects.get(name=migration.NAME)
    assert (schedule.func, schedule.schedule_type) == ("monitoring.tasks.create_poll_partitions", "D")
    now = datetime(2031, 3, 5, 10, tzinfo=UTC)  # a Wednesday
    created = partitions_ensure_ahead(now=now)
    weeks = [datetime(2031, 3, 3, tzinfo=UTC) + timedelta(days=7 * n) for n in range(5)]
    assert created == [partition_name(week=week) for week in weeks]
    assert [(low, high) for name, low, high in partitions_list() if name in created] == [
        (week, week + timedelta(days=7)) for week in weeks
    ]
    assert partitions_ensure_ahead(now=now) == []  # idempotent: nothing missing


def test_a_file_creates_the_partitions_its_rows_need(tmp_path):
    lines = ["store_id,timestamp_utc,status"] + [
        f"s{i % 5},{datetime(2021, 6, 4, tzinfo=UTC) + timedelta(hours=7 * i):%Y-%m-%d %H:%M:%S} UTC,active"
        for i in range(200)
    ]  # 58 days from a Friday: 10 weeks
    path = tmp_path / "store_status.csv"
    path.write_text("\n".join(lines) + "\n")
    result = load_status_file(path=path)
    assert result.loaded == 200
    counts = _rows_by_table()
    assert default_partition() not in counts and sum(counts.values()) == 200
    expected = {partition_name(week=week_start(datetime(2021, 6, 4, tzinfo=UTC) + timedelta(days=7 * n))) for n in range(9)}
    expected.add(partition_name(week=week_start(datetime(2021, 6, 4, tzinfo=UTC) + timedelta(hours=7 * 199))))
    assert set(counts) == expected and expected <= set(_names())


@pytest.mark.parametrize("shuffled_from", [None, 0], ids=["streamed in time order", "read whole, shuffled"])
def test_a_file_into_the_empty_table_takes_the_bulk_path_into_new_partitions(tmp_path, shuffled_from):
    from monitoring.ingest import BULK_MIN_BYTES

    from tests.status_files import big_status_file

    path, expected = big_status_file(tmp_path, BULK_MIN_BYTES // 40, shuffled_from=shuffled_from)
    earlier = set(_names())  # a committed test on this worker may have left some
    result = load_status_file(path=path)
    assert "bulk_copy" in result.timings and result.loaded == len(expected)
    counts = _rows_by_table()
    assert default_partition() not in counts and sum(counts.values()) == len(expected)
    assert set(_names()) - earlier <= set(counts) and set(counts) <= set(_names())  # no empty week created


def test_live_polls_create_the_partition_of_their_week():
    moment = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)  # among the current weeks
    result = polls_record(access=EVERYTHING, polls=[("live-1", moment.isoformat(), "active")])
    assert result.loaded == 1
    assert _rows_by_table() == {partition_name(week=week_start(moment)): 1}


def _status_file(tmp_path, polls: list[tuple[str, datetime, str]]):
    path = tmp_path / "store_status.csv"
    path.write_text(
        "store_id,timestamp_utc,status\n"
        + "".join(f"{store_id},{moment:%Y-%m-%d %H:%M:%S} UTC,{status}\n" for store_id, moment, status in polls)
    )
    return path


def test_polls_decades_apart_create_the_partitions_of_their_weeks_only(tmp_path):
    """Two polls of a file 24 years apart: two partitions, not the ~1,250 weeks between them."""
    old, new = datetime(2001, 3, 7, 9, tzinfo=UTC), datetime(2025, 3, 5, 9, tzinfo=UTC)
    before = set(_names())
    result = load_status_file(path=_status_file(tmp_path, [("far-1", old, "active"), ("far-1", new, "inactive")]))
    assert result.loaded == 2
    assert set(_names()) - before == {partition_name(week=week_start(old)), partition_name(week=week_start(new))}


def test_one_write_creates_at_most_max_new_partitions_the_rest_wait_in_the_default(monkeypatch, tmp_path):
    from monitoring.stores import partitions

    monkeypatch.setattr(partitions, "MAX_NEW_PARTITIONS", 3)
    weeks = [datetime(2011, 1, 5, 12, tzinfo=UTC) + timedelta(weeks=n) for n in range(5)]
    assert load_status_file(path=_status_file(tmp_path, [("many-weeks", week, "active") for week in weeks])).loaded == 5
    rows = _rows_by_table()
    assert rows[default_partition()] == 2  # the two oldest weeks
    assert sorted(name for name in rows if name != default_partition()) == sorted(
        partition_name(week=week_start(week)) for week in weeks[2:]
    )
    with connection.cursor() as cursor:
        assert partitions.strays_place(cursor=cursor) == [partition_name(week=week_start(week)) for week in weeks[:2]]
    assert default_partition() not in _rows_by_table()


def test_strays_in_the_default_partition_move_to_their_week():
    store = make_store("stray", zone="UTC")
    moment = datetime(2027, 8, 4, 6, tzinfo=UTC)
    with connection.cursor() as cursor:  # a write that did not ensure its partition
        cursor.execute(
            "INSERT INTO monitoring_statuspoll (store_id, timestamp_utc, is_active) VALUES (%s, %s, true)",
            [store.pk, moment],
        )
    assert _rows_by_table() == {default_partition(): 1}
    assert partitions_ensure(start=moment, end=moment) == [partition_name(week=week_start(moment))]
    assert _rows_by_table() == {partition_name(week=week_start(moment)): 1}
    with connection.cursor() as cursor:  # it has its indexes, like any partition
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [partition_name(week=week_start(moment))])
        assert cursor.fetchone()[0] == 2


def test_pruning_drops_whole_partitions_and_deletes_only_in_the_boundary_one():
    _hourly(28)  # 2022-12-28 13:00 .. 2023-01-25 12:00: five weeks
    cut = END - timedelta(days=9, minutes=30)  # Monday 2023-01-16 11:30: inside week 3
    boundary = partition_name(week=week_start(cut))
    before_counts = _rows_by_table()
    with connection.cursor() as cursor:
        cursor.execute("SELECT store_id, timestamp_utc, is_active FROM monitoring_statuspoll WHERE timestamp_utc >= %s", [cut])
        kept = sorted(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM monitoring_statuspoll WHERE timestamp_utc >= %s AND timestamp_utc < %s",
                       [week_start(cut), cut])
        boundary_lost = cursor.fetchone()[0]
    doomed = [name for name, _low, high in partitions_list() if high <= cut]
    assert len([name for name in doomed if name in before_counts]) == 3  # 2022w52, 2023w01, 2023w02
    version = data_version_read().number
    deleted = polls_prune(before=cut)
    assert deleted == sum(before_counts.values()) - len(kept)
    assert not any(_table_exists(name) for name in doomed)
    after_counts = _rows_by_table()
    assert after_counts[boundary] == before_counts[boundary] - boundary_lost and boundary_lost > 0
    assert {name: n for name, n in after_counts.items() if name != boundary} == {
        name: n for name, n in before_counts.items() if name not in doomed and name != boundary
    }
    with connection.cursor() as cursor:  # a poll at or after the cut: never touched
        cursor.execute("SELECT store_id, timestamp_utc, is_active FROM monitoring_statuspoll")
        assert sorted(cursor.fetchall()) == kept
    assert data_version_read().number > version  # a DROP fires no trigger: bumped by the prune


def test_a_report_over_what_is_kept_is_unchanged_for_the_last_day():
    _hourly(28)
    last_day = ("uptime_last_hour", "downtime_last_hour", "uptime_last_day", "downtime_last_day")
    before = report_compute(as_of=END).rows
    polls_prune(before=END - timedelta(days=2))  # drops three weeks, cuts into the last one
    after = report_compute(as_of=END).rows
    assert [{k: row[k] for k in ("store_id", *last_day)} for row in after] == [
        {k: row[k] for k in ("store_id", *last_day)} for row in before
    ]
    assert any(row["uptime_last_day"] for row in after)


def test_pruning_a_third_of_28_days_drops_its_whole_weeks():
    """Weeks wholly before the cut go as tables (a catalog operation, whatever their
    size), not row by row: their partitions are gone after the prune."""
    _hourly(28, stores=40)
    cut = END - timedelta(days=19)
    before = {(name, high) for name, _low, high in partitions_list()}
    polls_prune(before=cut)
    dropped = before - {(name, high) for name, _low, high in partitions_list()}
    assert dropped and all(high <= cut for _name, high in dropped)


def test_a_time_range_read_touches_only_its_partitions():
    stores = _hourly(28)
    start, end = END - timedelta(days=1), END
    scope = stores_in_scope(store_ids=[store.store_id for store in stores])
    assert len(polls_between(stores=scope, start=start, end=end).timestamp_us) == 3 * 25
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_statuspoll")
        # The selectors' query (polls_between, a few stores), as it sends it.
        cursor.execute(
            "EXPLAIN SELECT store_id, timestamp_utc, is_active FROM monitoring_statuspoll"
            " WHERE timestamp_utc >= %s AND timestamp_utc <= %s AND store_id = ANY(%s)",
            [start, end, [store.pk for store in stores]],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    week = partition_name(week=week_start(start))
    assert partitions_scanned(plan) == {week}, plan
    assert len(_names()) >= 5  # four other weeks were there to skip
    assert indexes_used(plan, "monitoring_statuspoll_pkey") | indexes_used(plan, "status_poll_time_brin") <= {week}

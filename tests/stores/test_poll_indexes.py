"""The poll table's indexes serve the two reads that matter: one store's polls, and
every store's polls between two instants, each touching only its partitions."""

from datetime import datetime, timedelta, timezone

from django.db import connection
from monitoring.models import Store
from monitoring.stores.partitions import partition_name, partitions_ensure, week_start

from tests.partition_plans import indexes_used, partitions_scanned


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_polls_are_indexed_for_one_store_and_for_all_stores_between_two_instants(db):
    """The two questions of the poll table go through its indexes: "this store's
    polls between t1 and t2" the (store, instant) primary key, "all polls between t1
    and t2" the BRIN time index (polls stored in time order)."""
    stores = [Store.objects.create(store_id=f"s{i}") for i in range(50)]
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    partitions_ensure(start=start, end=start + timedelta(hours=671))
    with connection.cursor() as cursor:  # four weeks, hourly, in time order
        cursor.execute(
            "INSERT INTO monitoring_statuspoll (store_id, timestamp_utc, is_active)"
            " SELECT s, %s + h * interval '1 hour', true FROM generate_series(0, 671) h, unnest(%s::bigint[]) s"
            " ORDER BY h",
            [start, [store.pk for store in stores]],
        )
        cursor.execute("ANALYZE monitoring_statuspoll")
    day = [start + timedelta(days=20), start + timedelta(days=21)]
    one_store = _plan(
        "SELECT * FROM monitoring_statuspoll WHERE store_id = %s AND timestamp_utc BETWEEN %s AND %s",
        [stores[7].pk, *day],
    )
    # Each through its index on the one weekly partition holding that day (partition
    # pruning: the other weeks and the DEFAULT partition are not read).
    week = partition_name(week=week_start(day[0]))
    assert indexes_used(one_store, "monitoring_statuspoll_pkey") == {week}
    assert partitions_scanned(one_store) == {week}
    all_stores = _plan("SELECT * FROM monitoring_statuspoll WHERE timestamp_utc BETWEEN %s AND %s", day)
    assert indexes_used(all_stores, "status_poll_time_brin") == {week}
    assert partitions_scanned(all_stores) == {week}

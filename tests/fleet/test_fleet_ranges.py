"""The fleet over a range (monitoring.fleet.ranges): computed a chunk of stores at a time,
each store over its own zone's bounds, the rows back in the order given; ranked by the
kept ranking's rule without "down now"."""

from datetime import datetime, timedelta, timezone

import pytest
from monitoring.fleet.ranges import fleet_range_ranked, fleet_range_rows
from monitoring.history import range_rows
from monitoring.kernel.periods import default_horizon
from monitoring.models import Store

from tests.factories import FLEET_END, hourly, make_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc


def test_chunks_and_zones_give_each_store_its_own_figures_in_the_order_given(settings):
    settings.REPORT_CHUNK_SIZE = 2  # a week's range: two stores a chunk
    zones = ["America/New_York", "UTC", None, "America/New_York", "Asia/Kolkata", "UTC", "America/New_York"]
    stores = []
    for index, zone in enumerate(zones):
        store = make_store(f"s{index}", zone=zone, hours=[(day, "08:00", "20:00") for day in range(6)])
        hourly(store, hours=9 * 24, status=lambda age, index=index: age % (index + 2) != 0)
        stores.append((store.pk, store.store_id, store.timezone_name))
    stores.reverse()  # not in id order: the rows come back in the order given
    # A different range per zone, as local dates make them.
    starts = {zone: FLEET_END - timedelta(days=7, hours=k) for k, zone in enumerate(sorted(set(zones), key=str))}

    def bounds_of(zone):
        return starts[zone], FLEET_END - timedelta(hours=3)

    rows = fleet_range_rows(stores=stores, bounds_of=bounds_of)
    assert [row.store_id for row in rows] == [store_id for _, store_id, _ in stores]
    for row, store in zip(rows, stores, strict=True):
        start, end = bounds_of(store[2])
        (alone,) = range_rows(stores=[store], start=start, end=end, horizon=default_horizon())
        assert (row.start, row.end) == (start, end)
        assert (row.uptime_minutes, row.downtime_minutes, row.unknown_minutes, row.business_minutes) == (
            alone["uptime_minutes"], alone["downtime_minutes"], alone["unknown_minutes"], alone["business_minutes"]
        )


def test_ranked_worst_first_with_nothing_known_last_and_ties_by_id():
    end = datetime(2023, 1, 25, 12, tzinfo=UTC)
    hourly(make_store("b-up", zone="UTC"), hours=48)
    hourly(make_store("a-up", zone="UTC"), hours=48)
    hourly(make_store("z-down", zone="UTC"), hours=48, status=lambda age: age > 20)  # ~15% up
    hourly(make_store("y-half", zone="UTC"), hours=48, status=lambda age: age % 2 == 0)  # ~50% up
    make_store("c-never", zone="UTC")
    stores = [(store.pk, store.store_id, store.timezone_name) for store in Store.objects.all()]
    rows = fleet_range_ranked(stores=stores, bounds_of=lambda zone: (end - timedelta(days=1), end))
    assert [row.store_id for row in rows] == ["z-down", "y-half", "a-up", "b-up", "c-never"]

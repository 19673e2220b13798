"""Polls read for the engine come in (store, time) order whatever order the table holds
them in: rows in time order (as stored) and rows out of it, a few stores or many."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from django.db import connection

from monitoring.models import StatusPoll, Store
from monitoring.stores.selectors import _store_time_order, polls_between

pytestmark = pytest.mark.django_db
UTC = timezone.utc


@pytest.mark.parametrize("stores", [3, 70_000])
@pytest.mark.parametrize("in_time_order", [True, False])
def test_store_time_order(stores, in_time_order):
    rng = np.random.default_rng(stores)
    store = rng.integers(0, stores, 5_000).astype(np.int64)
    times = rng.integers(0, 10**12, 5_000).astype(np.int64)
    if in_time_order:
        times.sort()
    times[10] = times[11]  # an instant twice (two stores)
    order = _store_time_order(store, times)
    assert np.array_equal(np.lexsort((times[order], store[order])), np.arange(5_000))
    assert sorted(order.tolist()) == list(range(5_000))


def test_polls_between_in_store_time_order_from_rows_stored_out_of_order():
    stores = [Store.objects.create(store_id=f"s{i}") for i in range(1_200)]  # the many-stores query
    start = datetime(2023, 1, 18, tzinfo=UTC)
    rng = np.random.default_rng(7)
    rows = [(stores[int(i)].pk, start + timedelta(seconds=int(s))) for i, s in
            zip(rng.integers(0, len(stores), 4_000), rng.permutation(4_000) * 60)]
    StatusPoll.objects.bulk_create([StatusPoll(store_id=pk, timestamp_utc=at, is_active=True) for pk, at in rows])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_statuspoll")
    polls = polls_between(stores=[(s.pk, s.store_id, None) for s in stores], start=start, end=start + timedelta(days=3))
    assert len(polls.store_index) == len(rows)
    keys = list(zip(polls.store_index.tolist(), polls.timestamp_us.tolist()))
    assert keys == sorted(keys)

"""Expected revenue read for the engine (monitoring.stores.revenue): cents per local hour of
the week and each store's currency, for a few stores by their keys and for a fleet (a
dense run of keys) by one bounded scan that drops the rows of stores not asked for."""

from decimal import Decimal

import numpy as np
import pytest

from monitoring.models import Store, StoreRevenue
from monitoring.stores.revenue import revenue_rates, store_revenue_set

pytestmark = pytest.mark.django_db


def test_a_few_stores():
    a, b, c = (Store.objects.create(store_id=name) for name in ("a", "b", "c"))
    store_revenue_set(store=a, rows=[(0, 0, Decimal("1.05")), (6, 23, Decimal("9999999999.99"))], currency="EUR")
    store_revenue_set(store=c, rows=[(2, 12, Decimal("0"))], currency="USD")
    rates = revenue_rates(store_pks=[c.pk, b.pk, a.pk])
    assert rates.has_rows.tolist() == [True, False, True]
    assert rates.currency == ["USD", None, "EUR"]
    assert rates.cents[2, 0] == 105 and rates.cents[2, 6 * 24 + 23] == 999_999_999_999
    assert rates.cents[0].sum() == 0 and rates.cents[1].sum() == 0  # a row of 0 expects 0; no rows: nothing
    assert revenue_rates(store_pks=[]).cents.shape == (0, 168)


def test_a_fleet_by_one_scan_keeps_only_the_stores_asked_for():
    stores = Store.objects.bulk_create(Store(store_id=f"s{i:04d}") for i in range(2000))
    StoreRevenue.objects.bulk_create(
        StoreRevenue(store=store, day_of_week=i % 7, hour=i % 24, expected_revenue=Decimal(i) / 100,
                     currency="JPY" if i % 3 == 0 else "GBP")
        for i, store in enumerate(stores)
    )
    asked = stores[::2]  # every other store: a dense run of keys, half of them not asked for
    rates = revenue_rates(store_pks=[store.pk for store in asked])
    assert rates.has_rows.all() and len(rates.currency) == 1000
    for k, store in enumerate(asked):
        i = 2 * k
        assert rates.currency[k] == ("JPY" if i % 3 == 0 else "GBP")
        assert np.flatnonzero(rates.cents[k]).tolist() == ([(i % 7) * 24 + i % 24] if i else [])
        assert rates.cents[k].sum() == i

"""Lost revenue on a generated data set with revenue profiles (`generate_data`: lunch and
dinner peaks, stores without rows, some in EUR; every kind of hours and zone), loaded
by `load_files`, against the independent reference (tests/reference_revenue.py) on
every store: over the last week, a 90-day range and single local days, the days of the
autumn DST changes included (London on 2023-10-29, the US zones on 2023-11-05)."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from monitoring.engine import Shift, StoreSchedule
from monitoring.history import lost_revenue_of_windows
from monitoring.ingest import find_input_files, load_files
from monitoring.models import BusinessHours, StatusPoll, Store, StoreRevenue
from monitoring.tools.generation import generate_dataset
from tests import reference_revenue as ref

pytestmark = pytest.mark.django_db

UTC = timezone.utc
END = datetime(2023, 11, 7, 12, tzinfo=UTC)
H = timedelta(hours=2)
DAYS = [date(2023, 10, 29), date(2023, 11, 4), date(2023, 11, 5), date(2023, 11, 6)]


@pytest.fixture
def generated(tmp_path):
    summary = generate_dataset(out_dir=tmp_path, stores=40, days=10, seed=13, end=END)
    assert summary.revenue_rows > 0 and summary.kinds["revenue_none"] > 0 and summary.kinds["revenue_eur"] > 0
    load_files(files=find_input_files(directory=tmp_path))
    assert StoreRevenue.objects.exists()


def reference_inputs():
    """Each store's schedule, polls and rates, read back with the ORM alone."""
    shifts: dict[int, list[Shift]] = {}
    for pk, day, start, end in BusinessHours.objects.values_list("store_id", "day_of_week", "start_time_local", "end_time_local"):
        shifts.setdefault(pk, []).append(Shift(day, start, end))
    polls: dict[int, list[tuple[int, bool]]] = {}
    for pk, when, active in StatusPoll.objects.values_list("store_id", "timestamp_utc", "is_active"):
        polls.setdefault(pk, []).append((ref.us(when), active))
    rates: dict[int, dict] = {}
    currency: dict[int, str] = {}
    for pk, day, hour, amount, code in StoreRevenue.objects.values_list(
        "store_id", "day_of_week", "hour", "expected_revenue", "currency"
    ):
        rates.setdefault(pk, {})[day, hour] = amount
        currency[pk] = code
    stores = list(Store.objects.order_by("pk").values_list("pk", "store_id", "timezone_name"))
    schedules = {pk: StoreSchedule(store_id, zone, tuple(shifts.get(pk, ()))) for pk, store_id, zone in stores}
    return stores, schedules, polls, rates, currency


def test_every_store_matches_the_reference(generated):
    stores, schedules, polls, rates, currency = reference_inputs()
    windows = []  # (store position, start, end)
    for position, (_pk, _store_id, zone) in enumerate(stores):
        windows.append((position, END - timedelta(days=7), END))
        windows.append((position, END - timedelta(days=90), END))
        for day in DAYS:
            start = ref.instant(ref.local_midnight_us(day, zone))
            windows.append((position, start, ref.instant(ref.local_midnight_us(day + timedelta(days=1), zone))))
    got = lost_revenue_of_windows(
        stores=stores, window_store=np.array([w[0] for w in windows]), window_start=[w[1] for w in windows],
        window_end=[w[2] for w in windows], horizon=H,
    ).items()
    # DST days among them: 25 hours in the US zones and London.
    assert {end - start for _, start, end in windows} >= {timedelta(hours=24), timedelta(hours=25)}
    some_lost = some_at_risk = False
    for (position, start, end), found in zip(windows, got, strict=True):
        pk = stores[position][0]
        if pk not in rates:
            assert found is None, stores[position]
            continue
        lost, at_risk = ref.lost_revenue(
            schedules[pk], polls.get(pk, []), rates[pk], ref.us(start), ref.us(end), ref.us(end), H // timedelta(microseconds=1)
        )
        assert (found.amount, found.at_risk, found.currency) == (lost, at_risk, currency[pk]), (stores[position], start, end)
        some_lost |= lost > 0
        some_at_risk |= at_risk > 0
    assert some_lost and some_at_risk
    assert {code for code in currency.values()} == {"USD", "EUR"}
    assert any(amount != amount.to_integral_value() for own in rates.values() for amount in own.values())
    assert all(isinstance(amount, Decimal) for own in rates.values() for amount in own.values())

"""Kept daily figures are never stale (docs/rules.md §11): random interleavings of writes
through the application's own paths (live polls that are late, duplicated or
conflicting; hours files reloaded; special hours set and cleared; zones changed) and of
builds, after which every range, every local date and the week's incidents read from
kept days equal a computation from the raw polls alone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from itertools import count

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.engine import compute_uptime, daily_uptime, range_uptime
from monitoring.ingest import load_business_hours_file, load_timezones_file, polls_record
from monitoring.kernel.periods import default_horizon
from monitoring.models import DaySummary, Store
from monitoring.stores.access import EVERYTHING
from monitoring.stores.selectors import polls_between, store_schedules
from monitoring.stores.special_hours import special_hours_clear, special_hours_set
from monitoring.stores.summaries import (
    daily_totals,
    range_totals,
    summaries_extend,
    summaries_refresh_stale,
)

UTC = timezone.utc
BASE = datetime(2023, 3, 6, tzinfo=UTC)  # New York springs forward on the 12th, London on the 26th
DAYS = 24
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", None]
TOL = 1e-6
examples = count()

pytestmark = pytest.mark.django_db


def _stores(prefix: str) -> list[tuple[int, str, str | None]]:
    return list(Store.objects.filter(store_id__startswith=prefix).order_by("pk").values_list("pk", "store_id", "timezone_name"))


def _hours_file(tmp_path, rows) -> str:
    path = tmp_path / f"hours-{next(examples)}.csv"
    path.write_text("store_id,dayOfWeek,start_time_local,end_time_local\n" + "".join(f"{r}\n" for r in rows))
    return str(path)


def _zones_file(tmp_path, rows) -> str:
    path = tmp_path / f"zones-{next(examples)}.csv"
    path.write_text("store_id,timezone_str\n" + "".join(f"{sid},{zone or ''}\n" for sid, zone in rows))
    return str(path)


def _raw_range(stores, start, end):
    H = default_horizon()
    schedules = store_schedules(stores=stores, start=start - H, end=end)
    polls = polls_between(stores=stores, start=start - H, end=end)
    return range_uptime(schedules=schedules, polls=polls, start=start, end=end, horizon=H)


def _check(stores, start: datetime, end: datetime) -> None:
    H = default_horizon()
    got = range_totals(stores=stores, start=start, end=end, horizon=H)
    raw = _raw_range(stores, start, end)
    assert np.allclose(got.seconds, raw.seconds, atol=TOL), (start, end, got.seconds, raw.seconds)
    assert np.allclose(got.business, raw.business_seconds, atol=TOL)


def _check_week(stores, end: datetime) -> None:
    H = default_horizon()
    start = end - timedelta(days=7)
    got = range_totals(stores=stores, start=start, end=end, horizon=H, incidents=True)
    schedules = store_schedules(stores=stores, start=start - H, end=end)
    week = compute_uptime(schedules=schedules, polls=polls_between(stores=stores, start=start - H, end=end), as_of=end,
                          horizon=H)
    assert np.allclose(got.seconds, week.seconds[:, 2], atol=TOL)
    assert got.incidents.tolist() == week.incident_counts[:, 2].tolist()


def _check_days(stores, first: date, last: date) -> None:
    H = default_horizon()
    midnights, seconds, business, answered = daily_totals(stores=stores, first=first, last=last, horizon=H)
    assert answered.all()
    lo = datetime.combine(first, time(0), UTC) - timedelta(days=2)
    hi = datetime.combine(last, time(0), UTC) + timedelta(days=2)
    raw = daily_uptime(
        schedules=store_schedules(stores=stores, start=lo, end=hi), polls=polls_between(stores=stores, start=lo, end=hi),
        first=first, last=last, horizon=H,
    )
    assert (midnights[:, :-1] == raw.starts_us).all()
    assert np.allclose(seconds, raw.seconds, atol=TOL)
    assert np.allclose(business, raw.business_seconds, atol=TOL)


shift = st.tuples(st.integers(0, 6), st.integers(0, 23), st.integers(1, 23))
operation = st.one_of(
    st.tuples(st.just("polls"), st.lists(st.tuples(st.integers(0, 2), st.integers(0, DAYS * 86_400), st.booleans()),
                                         min_size=1, max_size=12)),
    st.tuples(st.just("hours"), st.integers(0, 2), st.lists(shift, max_size=4)),
    st.tuples(st.just("special"), st.integers(0, 2), st.integers(0, DAYS - 1),
              st.one_of(st.none(), st.just([]), st.lists(st.tuples(st.integers(0, 23), st.integers(0, 23)), min_size=1,
                                                         max_size=2))),
    st.tuples(st.just("zone"), st.integers(0, 2), st.sampled_from(ZONES)),
    st.tuples(st.just("build"), st.integers(1, DAYS)),
    st.tuples(st.just("check"), st.integers(0, DAYS * 86_400), st.sampled_from([60, 3600, 86_400, 3 * 86_400, 7 * 86_400,
                                                                              DAYS * 86_400]),
              st.booleans()),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(zones=st.lists(st.sampled_from(ZONES), min_size=3, max_size=3), seed=st.integers(0, 2**32 - 1),
       operations=st.lists(operation, min_size=3, max_size=14))
def test_kept_days_equal_the_raw_polls_after_any_interleaving_of_writes(tmp_path, zones, seed, operations):
    prefix = f"p{next(examples)}-"
    ids = [f"{prefix}{i}" for i in range(3)]
    load_timezones_file(path=_zones_file(tmp_path, zip(ids, zones)))
    rng = np.random.default_rng(seed)
    load_business_hours_file(path=_hours_file(tmp_path, [
        f"{sid},{day},{rng.integers(5, 12):02d}:00:00,{rng.integers(13, 24) % 24:02d}:30:00"
        for sid in ids for day in range(7)
    ]))
    # About hourly polls over the whole span, so that kept days hold real figures.
    hourly = [
        (sid, (BASE + timedelta(hours=h, minutes=int(rng.integers(0, 50)))).isoformat(),
         "active" if rng.random() < 0.8 else "inactive")
        for sid in ids for h in range(DAYS * 24)
    ]
    polls_record(polls=hourly, access=EVERYTHING)
    stores = _stores(prefix)
    pks = [pk for pk, _, _ in stores]
    summaries_extend(until=BASE + timedelta(days=DAYS), store_pks=pks)
    assert DaySummary.objects.filter(store_id__in=pks, stale=False).exists()
    by_index = {i: stores[i] for i in range(3)}

    for op in operations:
        kind = op[0]
        if kind == "polls":
            polls_record(polls=[
                (ids[i], (BASE + timedelta(seconds=s)).isoformat(), "active" if up else "inactive") for i, s, up in op[1]
            ], access=EVERYTHING)
        elif kind == "hours":
            _, i, shifts = op
            rows = [f"{ids[i]},{d},{a:02d}:00:00,{b:02d}:00:00" for d, a, b in shifts] or [f"{ids[i]},0,09:00:00,09:00:00"]
            load_business_hours_file(path=_hours_file(tmp_path, rows))
        elif kind == "special":
            _, i, offset, shifts = op
            store = Store.objects.get(pk=by_index[i][0])
            day = (BASE + timedelta(days=offset)).date()
            if shifts is None:
                special_hours_clear(store=store, date=day)
            else:
                special_hours_set(store=store, date=day, shifts=[(time(a), time(b)) for a, b in shifts])
        elif kind == "zone":
            _, i, zone = op
            load_timezones_file(path=_zones_file(tmp_path, [(ids[i], zone or "UTC")]))
        elif kind == "build":
            summaries_refresh_stale()
            summaries_extend(until=BASE + timedelta(days=op[1]), store_pks=pks)
        else:
            _, offset, length, aligned = op
            stores = _stores(prefix)
            start = BASE + timedelta(seconds=offset)
            if aligned:
                start = datetime.combine(start.date(), time(0), UTC)
            _check(stores, start, start + timedelta(seconds=length))
    stores = _stores(prefix)
    for length in (1, 3, 7, DAYS - 1):
        _check(stores, BASE + timedelta(hours=5), BASE + timedelta(days=length, hours=5))
    _check(stores, BASE, BASE + timedelta(days=DAYS))
    _check_week(stores, BASE + timedelta(days=DAYS - 2, hours=7, minutes=13))
    _check_week(stores, BASE + timedelta(days=10))
    _check_days(stores, BASE.date(), (BASE + timedelta(days=DAYS - 1)).date())


def test_a_quarter_reads_kept_days_and_only_the_polls_at_its_edges():
    """With every day kept, a 60-day range reads its whole days from kept rows: the
    figures equal the raw ones, and the rows read are the days inside it."""
    from tests.factories import add_polls, make_store

    store = make_store("kept-quarter", zone="America/New_York", hours=[(d, "08:00", "22:00") for d in range(7)])
    start = datetime(2023, 1, 1, 5, tzinfo=UTC)
    add_polls(store, [(start + timedelta(minutes=61 * k), k % 7 != 3) for k in range(60 * 24)])
    stores = [(store.pk, store.store_id, store.timezone_name)]
    summaries_extend(until=start + timedelta(days=61), store_pks=[store.pk])
    end = start + timedelta(days=59, hours=7)
    got = range_totals(stores=stores, start=start + timedelta(hours=3), end=end, horizon=default_horizon())
    assert got.days_kept >= 57
    raw = _raw_range(stores, start + timedelta(hours=3), end)
    assert np.allclose(got.seconds, raw.seconds, atol=TOL)
    # A late poll marks the days it can change stale in its own transaction, and only those.
    late = start + timedelta(days=20, hours=12, minutes=1)
    polls_record(polls=[("kept-quarter", late.isoformat(), "inactive")], access=EVERYTHING)
    stale = list(DaySummary.objects.filter(store=store, stale=True).values_list("day", flat=True))
    assert stale and all(abs((day - late.date()).days) <= 1 for day in stale)
    after = range_totals(stores=stores, start=start + timedelta(hours=3), end=end, horizon=default_horizon())
    assert np.allclose(after.seconds, _raw_range(stores, start + timedelta(hours=3), end).seconds, atol=TOL)
    assert not np.allclose(after.seconds, got.seconds)
    assert summaries_refresh_stale() == len(stale)


def test_small_build_slices_keep_the_same_days(monkeypatch):
    """Slices of a few store-days (a date split by stores, runs of dates) keep exactly the
    rows one slice keeps."""
    from monitoring.stores.summaries import build
    from tests.factories import add_polls, make_store

    start = datetime(2023, 3, 8, tzinfo=UTC)
    stores = []
    for i, zone in enumerate(["America/New_York", "Asia/Kolkata", None, "Europe/London", "Australia/Lord_Howe"]):
        store = make_store(f"slices-{i}", zone=zone, hours=[(d, "07:00", "23:00") for d in range(7)])
        add_polls(store, [(start + timedelta(minutes=59 * k + i), (k + i) % 5 != 0) for k in range(9 * 24)])
        stores.append(store.pk)
    until = start + timedelta(days=9)
    summaries_extend(until=until, store_pks=stores)
    columns = ("store_id", "day", "start_utc", "up_seconds", "down_seconds", "day_up_seconds", "incidents", "ends_down")
    whole = sorted(DaySummary.objects.filter(store_id__in=stores).values_list(*columns))
    assert len(whole) >= 5 * 7
    DaySummary.objects.filter(store_id__in=stores).delete()
    monkeypatch.setattr(build, "BUILD_POLLS", 3 * build._POLLS_PER_DAY)  # three store-days a slice
    summaries_extend(until=until, store_pks=stores)
    assert sorted(DaySummary.objects.filter(store_id__in=stores).values_list(*columns)) == whole


@pytest.mark.django_db(transaction=True)
def test_the_fleets_weekly_hours_kept_in_a_process_follow_every_hours_write(tmp_path):
    """Reads of many stores take the weekly hours kept in the process; a write of weekly
    hours moves the hours version, and the next read has it; polls and zones do not."""
    from monitoring.stores import selectors

    ids = [f"kh-{i:04d}" for i in range(selectors._KEPT_HOURS_MIN_STORES)]
    load_business_hours_file(path=_hours_file(tmp_path, [f"{sid},0,09:00:00,17:00:00" for sid in ids]))
    stores = _stores("kh-")
    first = store_schedules(stores=stores)
    assert selectors._kept_hours["version"] is not None
    assert first[0].shifts[0].start == time(9)
    load_business_hours_file(path=_hours_file(tmp_path, [f"{ids[0]},0,10:00:00,17:00:00"]))
    assert store_schedules(stores=stores)[0].shifts[0].start == time(10)
    version = selectors._kept_hours["version"]
    polls_record(polls=[(ids[1], "2023-03-06T12:00:00+00:00", "active")], access=EVERYTHING)
    load_timezones_file(path=_zones_file(tmp_path, [(ids[2], "Asia/Tokyo")]))
    again = store_schedules(stores=_stores("kh-"))
    assert selectors._kept_hours["version"] == version
    assert again[2].timezone_name == "Asia/Tokyo"  # zones come with the stores asked about

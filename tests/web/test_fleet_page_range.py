"""The fleet page over a range (`?from=…&to=…`, docs/rules.md §11): every store the caller
can see ranked by the kept ranking's rule over the range's figures (history's), dates
read as each store's own local days, paginated, capped at HISTORY_RETENTION_DAYS; bad
values are a 400 naming the field."""

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from monitoring.history import range_rows
from monitoring.kernel.humanize import duration
from monitoring.kernel.periods import default_horizon
from monitoring.models import Store

from tests.factories import FLEET_END, hourly, make_store
from tests.page_html import HTML, bearer

pytestmark = pytest.mark.django_db

UTC = timezone.utc
WEEK_START = FLEET_END - timedelta(days=7)


def shown(html: str) -> list[str]:
    """The store ids of a fleet-over-a-range table, in order."""
    return re.findall(r'<tr class="store-range" data-store="([^"]*)">', html)


def ranking_key(row: dict):
    """The kept ranking's key (monitoring.fleet.ranking) over a range's figures: the
    lowest uptime first, nothing known last, then by id; a range has no "down now"."""
    up, down = row["uptime_minutes"], row["downtime_minutes"]
    known = up + down
    return (known <= 0, 100.0 * up / known if known > 0 else 0.0, row["store_id"])


def expected_order(stores, start: datetime, end: datetime) -> list[str]:
    keys = [(store.pk, store.store_id, store.timezone_name) for store in stores]
    rows = range_rows(stores=keys, start=start, end=end, horizon=default_horizon())
    return [row["store_id"] for row in sorted(rows, key=ranking_key)]


def test_the_fleet_over_a_range_is_ranked_by_the_range_s_figures(client, fleet):
    # The first half of the kept week: c-half was down then; b-down only went down at the end.
    start, end = WEEK_START, WEEK_START + timedelta(days=3, hours=12)
    asked = {"from": "2023-01-18T12:00:00Z", "to": "2023-01-22T00:00:00Z"}
    html = client.get("/", asked, headers=HTML).content.decode()
    order = shown(html)
    assert order == expected_order(Store.objects.all(), start, end)
    assert order[0] == "c-half" and order.index("b-down") > order.index("c-half")
    assert order[-3:] == ["d-never", "e-silent", "f-new"]  # nothing known (f-new: polls only later): last, by id
    # The kept ranking (no range) still puts the store down now first.
    kept = client.get("/", headers=HTML).content.decode()
    assert re.findall(r'<tr class="store" data-store="([^"]*)"', kept)[0] == "b-down"
    assert "2023-01-18 12:00:00 UTC to 2023-01-22 00:00:00 UTC" in html
    # A row links to its store's page on the same range.
    assert 'href="/stores/c-half/?from=2023-01-18T12%3A00%3A00Z&amp;to=2023-01-22T00%3A00%3A00Z"' in html


def test_from_alone_runs_to_the_latest_poll(client, fleet):
    html = client.get("/", {"from": "2023-01-24T12:00:00Z"}, headers=HTML).content.decode()
    assert shown(html) == expected_order(Store.objects.all(), FLEET_END - timedelta(days=1), FLEET_END)
    assert shown(html)[0] == "b-down"


def test_dates_are_each_store_s_own_local_days(client):
    zones = {"ny": "America/New_York", "kolkata": "Asia/Kolkata", "utc": "UTC", "default": None}
    for name, zone in zones.items():
        # Each store is down for a different number of the last hours: distinct uptimes.
        hourly(make_store(name, zone=zone), hours=10 * 24, status=lambda age, n=len(name): not (3 <= age < 3 + 4 * n))
    html = client.get("/", {"from": "2023-01-20", "to": "2023-01-24"}, headers=HTML).content.decode()
    rows = []
    for store in Store.objects.all():
        zone = ZoneInfo(store.timezone_name or "America/Chicago")
        start = datetime.combine(date(2023, 1, 20), time(0), zone).astimezone(UTC)
        end = datetime.combine(date(2023, 1, 25), time(0), zone).astimezone(UTC)
        keys = [(store.pk, store.store_id, store.timezone_name)]
        (row,) = range_rows(stores=keys, start=start, end=end, horizon=default_horizon())
        rows.append(row)
    assert shown(html) == [row["store_id"] for row in sorted(rows, key=ranking_key)]
    assert "Fri 20 Jan 2023 00:00 IST to Wed 25 Jan 2023 00:00 IST" in html
    assert "Fri 20 Jan 2023 00:00 CST to Wed 25 Jan 2023 00:00 CST" in html  # the default zone


def test_the_fleet_over_a_range_is_paginated_and_searched(client, fleet, monkeypatch):
    from monitoring.web.pages import fleet as fleet_page

    monkeypatch.setattr(fleet_page, "FLEET_PAGE_SIZE", 4)
    asked = {"from": "2023-01-18T12:00:00Z", "to": "2023-01-22T00:00:00Z"}
    first = client.get("/", asked, headers=HTML).content.decode()
    assert "page 1 of 2" in first
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert "from=2023-01-18T12%3A00%3A00Z" in next_url and "to=2023-01-22T00%3A00%3A00Z" in next_url
    second = client.get("/" + next_url, headers=HTML).content.decode()
    everything = expected_order(Store.objects.all(), WEEK_START, WEEK_START + timedelta(days=3, hours=12))
    assert shown(first) + shown(second) == everything
    # The search keeps the range: hidden fields of its form.
    assert '<input type="hidden" name="from" value="2023-01-18T12:00:00Z">' in first
    searched = client.get("/", {**asked, "q": "c-"}, headers=HTML).content.decode()
    assert shown(searched) == ["c-half"]


def test_owners_rank_only_their_stores(client, owners):
    asked = {"from": "2023-01-20", "to": "2023-01-25"}
    assert shown(client.get("/", asked, headers=bearer(owners["alice"])).content.decode()) == ["a1"]
    assert shown(client.get("/", asked, headers=bearer(owners["bob"])).content.decode()) == ["b1"]
    assert sorted(shown(client.get("/", asked, headers=bearer(owners["staff"])).content.decode())) == ["a1", "b1"]


def test_a_range_longer_than_the_retention_is_cut_and_says_so(client, fleet, settings):
    settings.HISTORY_RETENTION_DAYS = 3
    asked = {"from": "2022-01-01T00:00:00Z", "to": "2023-01-25T12:00:00Z"}
    html = client.get("/", asked, headers=HTML).content.decode()
    assert "longer than 3 days (HISTORY_RETENTION_DAYS)" in html
    assert shown(html) == expected_order(Store.objects.all(), FLEET_END - timedelta(days=3), FLEET_END)
    assert "2023-01-22 12:00:00 UTC to 2023-01-25 12:00:00 UTC" in html


@pytest.mark.parametrize(
    "params, says",
    [
        ({"from": "last week"}, "from: unparsable"),
        ({"to": "2023-01-25T12:00:00"}, "to: "),
        ({"from": "2023-01-25", "to": "2023-01-24"}, "to: must be after from"),
        ({"from": "2023-01-20", "state": "down"}, "state: "),
    ],
)
def test_a_bad_range_is_a_400_naming_the_field(client, fleet, params, says):
    response = client.get("/", params, headers=HTML)
    assert response.status_code == 400
    assert says in response.content.decode()


def test_too_many_store_days_are_listed_by_id_a_page_at_a_time(client, fleet, monkeypatch):
    from monitoring.web.pages import fleet as fleet_page

    monkeypatch.setattr(fleet_page, "FLEET_RANGE_RANK_STORE_DAYS", 6 * 3)  # 6 stores: 3 days rank, 4 do not
    monkeypatch.setattr(fleet_page, "FLEET_PAGE_SIZE", 4)
    ranked = client.get("/", {"from": "2023-01-22T12:00:00Z", "to": "2023-01-25T12:00:00Z"}, headers=HTML)
    assert 'id="fleet-range-unranked"' not in ranked.content.decode()
    asked = {"from": "2023-01-21T12:00:00Z", "to": "2023-01-25T12:00:00Z"}
    first = client.get("/", asked, headers=HTML).content.decode()
    assert 'id="fleet-range-unranked"' in first and "page 1 of 2" in first
    second = client.get("/", {**asked, "page": 2}, headers=HTML).content.decode()
    assert shown(first) + shown(second) == ["a-up", "b-down", "c-half", "d-never", "e-silent", "f-new"]
    # Each row's figures are still the range's.
    (c_half,) = Store.objects.filter(store_id="c-half")
    (row,) = range_rows(
        stores=[(c_half.pk, "c-half", "UTC")], start=datetime(2023, 1, 21, 12, tzinfo=UTC), end=FLEET_END,
        horizon=default_horizon(),
    )
    c_half_row = re.search(r'data-store="c-half">(.*?)</tr>', first, re.S).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', c_half_row)
    minutes = [row[key] * 60 for key in ("uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes")]
    assert cells == [duration(seconds) for seconds in minutes] == ["3 d 11 h", "12 h 30 min", "0 min", "4 d"]

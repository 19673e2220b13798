"""Lost revenue on the pages (docs/rules.md §13): the fleet page's column, its totals per
currency and its order by lost revenue (over the last week and over a range), and the
store page's windows and range; a store without revenue rows shows none, never 0.

The fleet fixture's stores are open 24x7 in UTC, polled hourly up to FLEET_END: at a
flat rate per hour, lost revenue is the down hours × the rate, at risk the unknown
hours × the rate."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from monitoring.models import Store
from monitoring.stores.revenue import store_revenue_set
from tests.factories import FLEET_END
from tests.page_html import HTML, fleet_rows, uptime_cards

pytestmark = pytest.mark.django_db


def flat(store_id: str, per_hour: str, currency: str) -> None:
    store_revenue_set(
        store=Store.objects.get(store_id=store_id),
        rows=[(day, hour, Decimal(per_hour)) for day in range(7) for hour in range(24)], currency=currency,
    )


@pytest.fixture
def revenue(fleet):
    flat("b-down", "10", "USD")  # down the last 2.5 hours: 25.00 lost
    flat("c-half", "2", "EUR")  # down the first 84.5 hours of the week: 169.00 lost
    flat("f-new", "1", "USD")  # polled the last day only: 143 hours unknown, 143.00 at risk


def lost_cells(html: str) -> dict[str, dict | None]:
    """Per row of the fleet table: its lost revenue's data attributes, or None when the
    cell says "none"."""
    cells = {}
    for store, row in re.findall(r'<tr class="store(?:-range)?" data-store="([^"]*)".*?>(.*?)</tr>', html, re.S):
        cell = re.search(r'<td class="num lost-revenue">(.*?)</td>', row, re.S).group(1)
        amount = re.search(r'data-amount="([^"]*)" data-at-risk="([^"]*)" data-currency="([^"]*)"', cell)
        if amount is None:
            assert ">none<" in cell and not re.search(r"[0-9]", cell), cell
            cells[store] = None
        else:
            cells[store] = {"amount": amount[1], "atRisk": amount[2], "currency": amount[3]}
    return cells


def totals(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'class="revenue-total" data-currency="([^"]*)" data-amount="([^"]*)" data-at-risk="([^"]*)"', html)


def test_fleet_page_shows_each_stores_lost_revenue_and_totals_per_currency(client, revenue):
    html = client.get("/", headers=HTML).content.decode()
    assert lost_cells(html) == {
        "b-down": {"amount": "25.00", "atRisk": "0.00", "currency": "USD"},
        "c-half": {"amount": "169.00", "atRisk": "0.00", "currency": "EUR"},
        "a-up": None, "d-never": None, "e-silent": None,
        "f-new": {"amount": "0.00", "atRisk": "143.00", "currency": "USD"},
    }
    assert "25.00 USD" in html and "169.00 EUR" in html
    assert totals(html) == [("EUR", "169.00", "0.00"), ("USD", "25.00", "143.00")]
    # A search totals the stores listed.
    assert totals(client.get("/", {"q": "b-"}, headers=HTML).content.decode()) == [("USD", "25.00", "0.00")]


def test_fleet_page_ordered_by_lost_revenue(client, revenue):
    html = client.get("/", {"sort": "lost"}, headers=HTML).content.decode()
    # The currency of most stores first, the largest amount first; no estimate last, by id.
    assert [store for store, _ in fleet_rows(html)] == ["b-down", "f-new", "c-half", "a-up", "d-never", "e-silent"]
    assert 'data-sort="lost" class="on"' in html
    assert "By revenue lost over the last week" in html
    # The state filters keep the order.
    down = client.get("/", {"sort": "lost", "state": "up"}, headers=HTML).content.decode()
    assert [store for store, _ in fleet_rows(down)] == ["f-new", "c-half", "a-up"]
    assert 'href="?state=up&amp;sort=lost"' in html
    assert client.get("/", {"sort": "richest"}, headers=HTML).status_code == 400


def test_a_fleet_without_revenue_rows_shows_no_totals(client, fleet):
    html = client.get("/", headers=HTML).content.decode()
    assert totals(html) == [] and 'id="fleet-lost-revenue"' not in html
    assert set(lost_cells(html).values()) == {None}


def test_fleet_over_a_range_with_lost_revenue(client, revenue):
    asked = {"from": (FLEET_END - timedelta(days=1)).isoformat(), "to": FLEET_END.isoformat()}
    html = client.get("/", asked, headers=HTML).content.decode()
    assert lost_cells(html) == {
        "b-down": {"amount": "25.00", "atRisk": "0.00", "currency": "USD"},
        "c-half": {"amount": "0.00", "atRisk": "0.00", "currency": "EUR"},
        "f-new": {"amount": "0.00", "atRisk": "0.00", "currency": "USD"},
        "a-up": None, "d-never": None, "e-silent": None,
    }
    assert totals(html) == [("EUR", "0.00", "0.00"), ("USD", "25.00", "0.00")]
    by_lost = client.get("/", {**asked, "sort": "lost"}, headers=HTML).content.decode()
    order = re.findall(r'<tr class="store-range" data-store="([^"]*)"', by_lost)
    assert order == ["b-down", "f-new", "c-half", "a-up", "d-never", "e-silent"]


def test_store_page_shows_lost_revenue_next_to_uptime(client, revenue):
    html = client.get("/stores/b-down/", headers=HTML).content.decode()
    found = re.findall(r'class="lost-revenue small" data-amount="([^"]*)" data-at-risk="([^"]*)" data-currency="([^"]*)"',
                       uptime_cards(html))
    assert found == [("10.00", "0.00", "USD"), ("25.00", "0.00", "USD"), ("25.00", "0.00", "USD")]  # hour, day, week
    assert "Revenue lost <b>25.00 USD</b> · at risk 0.00 USD" in html
    # The range figures (by default the week before the time shown) too.
    assert re.search(r'id="range-lost-revenue" data-amount="25.00" data-at-risk="0.00" data-currency="USD"', html)
    risky = client.get("/stores/f-new/", headers=HTML).content.decode()
    assert 'data-amount="0.00" data-at-risk="143.00" data-currency="USD"' in uptime_cards(risky)


def test_store_page_of_a_store_without_rows_shows_none(client, revenue):
    html = client.get("/stores/a-up/", headers=HTML).content.decode()
    assert "lost-revenue" not in html and "Revenue lost" not in html

"""The store page's history (docs/rules.md §11): the strip of the last 90 local days, each
day's figures those of history's daily figures (across a DST change), and the range
picker, whose figures are history's figures of the range; bad ranges are a 400 naming
the field on the page itself; another owner's store stays a 404."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from monitoring.history import store_daily_figures, store_range_figures
from monitoring.kernel.people_csv import two_decimals

from tests.factories import add_polls, make_store
from tests.page_html import bearer, strip_cells

pytestmark = pytest.mark.django_db

UTC = timezone.utc
#: The page's as_of: Monday 20 March 2023, 08:00 in New York (EDT).
AS_OF = datetime(2023, 3, 20, 12, 0, tzinfo=UTC)
POLLS_FROM = datetime(2023, 2, 20, tzinfo=UTC)
FIGURES = ("uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes")


def figures_of(row) -> dict[str, str]:
    """A row's figures as the page writes them in its data-* attributes."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return {key.replace("_", "-"): two_decimals(get(key)) for key in FIGURES}


def data_of(attributes: dict) -> dict[str, str]:
    return {key.replace("_", "-"): attributes[f"data-{key.replace('_', '-')}"] for key in FIGURES}


@pytest.fixture
def dst_store():
    """New York, open 24 hours every day but Wednesday (closed); hourly polls from
    20 February to AS_OF, inactive 05:00–08:00 UTC on Sunday 12 March (spring forward, a
    23-hour day) and none for 6 hours on Thursday 16 March."""
    hours = [(day, "00:00", "00:00") for day in (0, 1, 3, 4, 5, 6)]
    store = make_store("dst-ny", zone="America/New_York", hours=hours)
    polls = []
    moment = POLLS_FROM
    while moment <= AS_OF:
        silent = datetime(2023, 3, 16, 12, tzinfo=UTC) <= moment < datetime(2023, 3, 16, 18, tzinfo=UTC)
        if not silent:
            down = datetime(2023, 3, 12, 5, tzinfo=UTC) <= moment < datetime(2023, 3, 12, 9, tzinfo=UTC)
            polls.append((moment, not down))
        moment += timedelta(hours=1)
    add_polls(store, polls)
    return store


def page(client, store_id: str, **params):
    return client.get(f"/stores/{store_id}/", {"as_of": AS_OF.isoformat(), **params})


def range_data(html: str) -> dict[str, str]:
    tag = re.search(r'<section class="card window" id="range-figures"[^>]*>', html).group(0)
    return data_of(dict(re.findall(r'([\w-]+)="([^"]*)"', tag)))


def test_the_strip_is_history_s_daily_figures_across_dst(client, dst_store):
    response = page(client, "dst-ny")
    assert response.status_code == 200
    cells = strip_cells(response.content.decode())
    # 90 local days, the last the date of as_of in the store's zone.
    last = date(2023, 3, 20)
    first = last - timedelta(days=89)
    assert [cell["data-date"] for cell in cells] == [(first + timedelta(days=k)).isoformat() for k in range(90)]
    days = store_daily_figures(store=dst_store, first=first, last=last)
    assert [data_of(cell) for cell in cells] == [figures_of(day) for day in days]
    by_date = {cell["data-date"]: cell for cell in cells}
    # Spring forward: a 23-hour day from 05:00 UTC, down from then (the first poll of the
    # day, inactive) to 08:30 UTC (half-way to the next active one).
    dst = by_date["2023-03-12"]
    assert dst["data-business-minutes"] == "1380.00" and dst["data-downtime-minutes"] == "210.00"
    assert dst["class"] == "cell up-mid"  # 1,170 of 1,380 minutes up: 84.8%
    assert dst["title"] == dst["aria-label"] and dst["role"] == "img"
    assert dst["title"].startswith("Sun 12 Mar 2023: 84.8% of business time up")
    assert "up 1,170 min, down 210 min, unknown 0 min of 1,380 min business time" in dst["title"]
    assert by_date["2023-03-13"]["data-business-minutes"] == "1440.00"
    # Closed on Wednesdays; unknown before the polls began; a quiet afternoon is partly unknown.
    assert by_date["2023-03-15"]["class"] == "cell closed" and "closed" in by_date["2023-03-15"]["title"]
    assert by_date["2023-01-02"]["class"] == "cell unknown"
    assert by_date["2023-01-02"]["title"].startswith("Mon 02 Jan 2023: uptime unknown")
    assert float(by_date["2023-03-16"]["data-unknown-minutes"]) > 0
    assert by_date["2023-03-14"]["class"] == "cell up-full"
    # The day of as_of is not over: the rest of it is unknown, and its hover text says so.
    assert float(by_date["2023-03-20"]["data-unknown-minutes"]) > 0
    assert by_date["2023-03-20"]["class"].endswith(" ongoing") and "(not over" in by_date["2023-03-20"]["title"]
    assert not any("ongoing" in cell["class"] for cell in cells[:-1])


def test_the_strip_ends_on_the_date_of_as_of_in_the_store_s_zone(client, dst_store):
    # 02:00 UTC on the 20th is still the 19th in New York.
    html = client.get("/stores/dst-ny/", {"as_of": "2023-03-20T02:00:00Z"}).content.decode()
    assert strip_cells(html)[-1]["data-date"] == "2023-03-19"


def test_the_range_picker_shows_history_s_range_figures(client, dst_store):
    # Default: the week before as_of.
    html = page(client, "dst-ny").content.decode()
    _, _, row = store_range_figures(store=dst_store, start=AS_OF - timedelta(days=7), end=AS_OF)
    assert range_data(html) == figures_of(row)
    assert "The week before the time shown" in html
    # Local dates, both included: 11 March 00:00 EST to 14 March 00:00 EDT.
    html = page(client, "dst-ny", **{"from": "2023-03-11", "to": "2023-03-13"}).content.decode()
    start, end = datetime(2023, 3, 11, 5, tzinfo=UTC), datetime(2023, 3, 14, 4, tzinfo=UTC)
    _, _, row = store_range_figures(store=dst_store, start=start, end=end)
    assert range_data(html) == figures_of(row)
    assert row["business_minutes"] == pytest.approx((24 + 23 + 24) * 60)
    # Instants: the spring-forward day alone is that day's cell of the strip.
    html = page(client, "dst-ny", **{"from": "2023-03-12T00:00:00-05:00", "to": "2023-03-13T00:00:00-04:00"})
    html = html.content.decode()
    dst_cell = next(cell for cell in strip_cells(html) if cell["data-date"] == "2023-03-12")
    assert range_data(html) == data_of(dst_cell)
    # `to` alone: the week before it; `from` alone: up to the page's as_of.
    html = page(client, "dst-ny", to="2023-03-10T00:00:00Z").content.decode()
    to = datetime(2023, 3, 10, tzinfo=UTC)
    assert range_data(html) == figures_of(store_range_figures(store=dst_store, start=to - timedelta(days=7), end=to)[2])
    html = page(client, "dst-ny", **{"from": "2023-03-01T00:00:00Z"}).content.decode()
    start = datetime(2023, 3, 1, tzinfo=UTC)
    assert range_data(html) == figures_of(store_range_figures(store=dst_store, start=start, end=AS_OF)[2])
    # The form asks for the same page again: as_of is kept, the values typed are shown.
    assert f'<input type="hidden" name="as_of" value="{AS_OF.isoformat()}">' in html
    assert '<input name="from" value="2023-03-01T00:00:00Z"' in html


def test_a_range_longer_than_the_retention_is_cut_and_says_so(client, dst_store, settings):
    settings.HISTORY_RETENTION_DAYS = 30
    html = page(client, "dst-ny", **{"from": "2022-01-01", "to": "2023-03-19"}).content.decode()
    end = datetime(2023, 3, 20, 4, tzinfo=UTC)  # 20 March 00:00 EDT
    _, _, row = store_range_figures(store=dst_store, start=end - timedelta(days=30), end=end)
    assert range_data(html) == figures_of(row)
    assert re.search(r'id="range-capped">[^<]*longer than 30 days \(HISTORY_RETENTION_DAYS\)', html)


@pytest.mark.parametrize(
    "params, field, says",
    [
        ({"from": "yesterday"}, "from", "unparsable"),
        ({"from": "2023-02-30"}, "from", "no such date"),
        ({"from": "1999-12-31"}, "from", "years 2000–2100"),
        ({"from": "٢٠٢٣-٠٣-٠١"}, "from", "unparsable"),
        ({"to": "2023-03-13T00:00:00"}, "to", "no offset"),
        ({"to": "2023-03-13T00:00:00+25:00"}, "to", "out of range"),
        ({"from": "2023-03-13", "to": "2023-03-12"}, "to", "must be after from"),
        ({"from": "2023-03-13T00:00:00Z", "to": "2023-03-13T00:00:00Z"}, "to", "must be after from"),
        ({"to": "2100-12-31"}, "to", "years 2000–2100"),  # a whole day: it ends on 2101-01-01
    ],
)
def test_a_bad_range_is_a_400_page_naming_the_field(client, dst_store, params, field, says):
    response = page(client, "dst-ny", **params)
    assert response.status_code == 400
    html = response.content.decode()
    assert '<h1 id="store-id">dst-ny</h1>' in html  # the page, with its form, not an error page
    error = re.search(r'<p class="error" id="range-error">([^<]*)</p>', html).group(1)
    assert error.startswith(f"{field}: ") and says in error, error
    assert 'id="range-figures"' not in html


def test_another_owner_s_store_is_not_found_with_a_range(client, owners):
    asked = {"from": "2023-01-18", "to": "2023-01-25"}
    assert client.get("/stores/a1/", asked, headers=bearer(owners["alice"])).status_code == 200
    assert client.get("/stores/a1/", asked, headers=bearer(owners["bob"])).status_code == 404
    # A bad range on someone else's store is still "no such store": nothing is learnt.
    response = client.get("/stores/a1/", {"from": "nonsense"}, headers=bearer(owners["bob"]))
    assert response.status_code == 404


def test_a_store_addressed_by_id_keeps_its_id_in_the_range_form(client):
    store = make_store("north/1", zone="UTC")
    add_polls(store, [(AS_OF - timedelta(hours=hour), True) for hour in range(48)])
    html = client.get("/stores/by-id/", {"id": "north/1", "from": "2023-03-19"}).content.decode()
    assert '<input type="hidden" name="id" value="north/1">' in html
    _, _, row = store_range_figures(
        store=store, start=datetime(2023, 3, 19, tzinfo=UTC), end=datetime(2023, 3, 20, 12, tzinfo=UTC)
    )
    assert range_data(html) == figures_of(row)

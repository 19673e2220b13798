"""A store's status page: its figures (the engine's, docs/rules.md §4–5), special hours, the
week's timeline across DST, the as-of grammar, coverage in words."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import add_polls, busy_week_store, make_store, worked_example_store
from tests.page_html import segments, uptime_cards

pytestmark = pytest.mark.django_db


UTC = timezone.utc


WEEK_SECONDS = 7 * 86_400


PX_PER_HOUR = 40  # monitoring.web.pages.display.PX_PER_HOUR


def test_status_page_worked_example(client):
    store, noon = worked_example_store()
    response = client.get(f"/stores/{store.store_id}/", {"as_of": noon.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "worked-example" in html and "America/New_York" in html
    # docs/rules.md §4: up 104.5 min, down 75.5 min on the day → 58.1 % over the day and week.
    cards = uptime_cards(html)
    assert cards.count("58.1%") == 2
    assert "1 h 44 min" in cards and "1 h 15 min" in cards  # humanize.duration: two units, truncated
    # The last hour [11:00, 12:00) is all down.
    assert ">0% up<" in cards
    # Honest coverage: the day is all known; the week (3 h open a day, polls on one day) is not.
    assert "3 h of 3 h known" in cards
    assert "but only 3 h of 21 h known" in cards
    # One incident: 10:44:30 to noon, 75.5 business minutes.
    incidents = re.findall(r'<tr class="incident">(.*?)</tr>', html, re.S)
    assert len(incidents) == 1
    assert "Wed 25 Jan 2023 10:44 EST" in incidents[0] and "Wed 25 Jan 2023 12:00 EST" in incidents[0]
    assert "75.5 minutes" in incidents[0] and "1 h 15 min" in incidents[0]
    assert "ongoing" in incidents[0]
    # Business hours, local.
    assert "09:00–12:00" in html


def test_status_page_honours_special_hours(client):
    """docs/rules.md §9: a special date replaces the weekly hours in the figures, the timeline and the
    incidents, and the page lists it."""
    from datetime import date, time

    from monitoring.models import SpecialHours

    store, noon = worked_example_store()  # 09:00–12:00 every day; the outage is on Wed 2023-01-25
    SpecialHours.objects.create(store=store, date=date(2023, 1, 25))  # closed all day
    SpecialHours.objects.create(store=store, date=date(2023, 1, 24), start_time_local=time(20), end_time_local=time(2))
    SpecialHours.objects.create(store=store, date=date(2023, 2, 14), start_time_local=time(18), end_time_local=time(0))
    html = client.get(f"/stores/{store.store_id}/", {"as_of": noon.isoformat()}).content.decode()
    assert not re.findall(r'<tr class="incident">', html)  # the store was closed: no outage
    special = re.search(r'<table class="hours" id="special-hours">(.*?)</table>', html, re.S).group(1)
    rows = [re.sub(r"<[^>]+>", "", row) for row in re.findall(r"<tr>(.*?)</tr>", special, re.S)]
    assert rows == [
        "Tue 24 Jan 202320:00–02:00 (next day)", "Wed 25 Jan 2023Closed all day", "Tue 14 Feb 202318:00–24:00"
    ]
    # the week (Wed 18th 12:00 .. Wed 25th 12:00 local) is open 09:00–12:00 on the 19th..23rd, 20:00–02:00
    # from the 24th (its special, instead of 09:00–12:00), and not on the 25th: 5 x 3 h + 6 h
    rects = segments(html)
    assert not any(r["state"] == "DOWN" for r in rects)
    open_seconds = sum(r["seconds"] for r in rects if r["state"] != "CLOSED")
    assert open_seconds == pytest.approx(5 * 3 * 3600 + 6 * 3600, abs=1)


def test_status_page_defaults_to_latest_poll(client):
    store, noon = worked_example_store()
    html = client.get(f"/stores/{store.store_id}/").content.decode()
    # as_of = 11:15 EST, the last poll: up 104.5 min, down 30.5 min over the day/week.
    assert "Wed 25 Jan 2023 11:15 EST" in html
    assert uptime_cards(html).count("77.4%") == 2
    assert "30.5" in re.search(r'<tr class="incident">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'id="current-state"[^>]*>Down<', html)


def test_timeline_svg_covers_the_week(client):
    store, end = busy_week_store()
    html = client.get(f"/stores/{store.store_id}/").content.decode()
    assert '<svg id="timeline"' in html
    rects = segments(html)
    assert {rect["state"] for rect in rects} == {"UP", "DOWN", "UNKNOWN", "CLOSED"}
    # The rects tile the week exactly: one chart row per local day, 40 px per hour.
    assert sum(rect["seconds"] for rect in rects) == pytest.approx(WEEK_SECONDS)
    assert sum(rect["width"] for rect in rects) == pytest.approx(7 * 24 * PX_PER_HOUR, abs=0.5)
    assert len(re.findall(r'<g class="day"', html)) == 8  # a week from mid-day spans 8 local days
    # Incidents and split shifts are listed; Sunday has only the tail of Saturday's shift.
    assert len(re.findall(r'<tr class="incident">', html)) >= 2
    assert "08:00–14:00, 16:00–22:00" in html
    assert "18:00–02:00 (next day)" in html
    assert re.search(r"<td>Sunday</td><td><span class=\"muted\">Closed</span>", html)


def test_timeline_rows_follow_local_days_across_dst(client):
    """The week ending 2023-03-14 contains New York's spring-forward (Sunday 12 March,
    a 23-hour day): the rects still add up to the week, and that row is shorter."""
    store = make_store("dst", zone="America/New_York")  # open 24x7
    end = datetime(2023, 3, 14, 12, 0, tzinfo=UTC)
    add_polls(store, [(end - timedelta(hours=hour), True) for hour in range(7 * 24 + 3)])
    html = client.get(f"/stores/{store.store_id}/").content.decode()
    rects = segments(html)
    assert sum(rect["seconds"] for rect in rects) == pytest.approx(WEEK_SECONDS)
    sunday = re.search(r'<g class="day" data-day="Sun 12 Mar">(.*?)</g>', html, re.S).group(1)
    assert sum(rect["seconds"] for rect in segments(sunday)) == pytest.approx(23 * 3600)


def test_store_without_hours_or_polls(client):
    make_store("quiet")
    response = client.get("/stores/quiet/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open 24 hours, 7 days a week" in html
    assert "America/Chicago" in html and "default" in html
    assert "No outages" in html
    assert sum(rect["seconds"] for rect in segments(html)) == pytest.approx(WEEK_SECONDS)
    assert {rect["state"] for rect in segments(html)} == {"UNKNOWN"}


def test_unknown_store_and_bad_as_of(client):
    make_store("known")
    response = client.get("/stores/nope/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    assert client.get("/stores/known/", {"as_of": "yesterday"}).status_code == 400
    assert client.get("/stores/known/", {"as_of": "2023-01-25T10:00:00"}).status_code == 400  # no zone


@pytest.mark.parametrize(
    "as_of, says",
    [
        ("0001-01-01T00:00:00Z", "years 2000–2100"),
        ("9999-12-31T23:59:59Z", "years 2000–2100"),
        ("1999-12-31T23:59:59Z", "years 2000–2100"),
        ("2023-01-25T10:00:00", "no offset"),
        ("2023-02-30T10:00:00Z", "out of range"),
        (" 2023-01-25T10:00:00Z", "as_of"),
        ("yesterday", "as_of"),
    ],
)
def test_bad_as_of_is_a_400_naming_the_field(client, as_of, says):
    make_store("known")
    response = client.get("/stores/known/", {"as_of": as_of})
    assert response.status_code == 400
    html = response.content.decode()
    assert "as_of" in html and says in html
    # The same answer whether or not the store exists (nothing is learnt about it).
    assert client.get("/stores/nope/", {"as_of": as_of}).status_code == 400
    assert client.get("/stores/known/", {"as_of": "2023-01-25T10:00:00Z\x00"}).status_code == 400


def test_as_of_forms_of_the_grammar_are_accepted(client):
    store, noon = worked_example_store()
    for text in ("2023-01-25T17:00:00Z", "2023-01-25 17:00:00 UTC", "2023-01-25T12:00:00-05:00"):
        response = client.get(f"/stores/{store.store_id}/", {"as_of": text})
        assert response.status_code == 200, text
        assert "Wed 25 Jan 2023 12:00 EST" in response.content.decode()


def test_status_page_coverage_in_words(client, fleet):
    html = client.get("/stores/d-never/").content.decode()
    assert uptime_cards(html).count("no polls in this window: uptime unknown") == 3
    html = client.get("/stores/f-new/").content.decode()
    assert "but only 1 d 1 h of 7 d known" in html  # the week
    assert "1 h of 1 h known" in html and "1 d of 1 d known" in html

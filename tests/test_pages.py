"""The server-rendered pages: a store's status page and a report's page, their figures
(the engine's, SPEC §4–5), and who may see them."""

import re
import uuid
from datetime import datetime, timedelta, timezone
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from monitoring.stores.access import token_create
from monitoring.web.links import report_download_path, store_page_url
from monitoring.models import Owner, Report
from monitoring.reports import report_run
from tests.factories import add_polls, make_store, worked_example_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc
HTML = {"Accept": "text/html"}
WEEK_SECONDS = 7 * 86_400
PX_PER_HOUR = 40  # monitoring.web.pages.display.PX_PER_HOUR


def busy_week_store(store_id: str = "busy-week") -> tuple:
    """A week of hourly polls ending Wed 2023-01-25 18:13 UTC (New York), with split
    shifts, a shift past midnight, an outage, a gap in the polls (unknown) and a closed
    day: every state of the timeline shows. Returns the store and its last poll."""
    hours = [(day, "08:00", "14:00") for day in range(5)] + [(day, "16:00", "22:00") for day in range(5)]
    hours += [(5, "18:00", "02:00")]  # Saturday evening into Sunday; Sunday closed otherwise
    store = make_store(store_id, zone="America/New_York", hours=hours)
    end = datetime(2023, 1, 25, 18, 13, tzinfo=UTC)
    polls = []
    for hour in range(7 * 24 + 1):
        when = end - timedelta(hours=hour)
        if timedelta(hours=20) <= end - when <= timedelta(hours=27):
            continue  # the poller was away: unknown time
        down = timedelta(hours=50) <= end - when <= timedelta(hours=53) or hour in (3, 100)
        polls.append((when, not down))
    add_polls(store, polls)
    return store, end


def segments(html: str) -> list[dict]:
    """The timeline rects of a page: state, x, width and seconds."""
    found = []
    for tag in re.findall(r"<rect [^>]*class=\"segment[^>]*>", html):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        found.append(
            {"state": attrs["data-state"], "x": float(attrs["x"]), "width": float(attrs["width"]),
             "seconds": float(attrs["data-seconds"])}
        )
    return found


def test_status_page_worked_example(client):
    store, noon = worked_example_store()
    response = client.get(f"/stores/{store.store_id}/", {"as_of": noon.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "worked-example" in html and "America/New_York" in html
    # SPEC §4: up 104.5 min, down 75.5 min on the day → 58.1 % over the day and week.
    assert html.count("58.1%") == 2
    assert "1 h 44 min" in html and "1 h 15 min" in html  # humanize.duration: two units, truncated
    # The last hour [11:00, 12:00) is all down.
    assert ">0% up<" in html
    # Honest coverage: the day is all known; the week (3 h open a day, polls on one day) is not.
    assert "3 h of 3 h known" in html
    assert "but only 3 h of 21 h known" in html
    # One incident: 10:44:30 to noon, 75.5 business minutes.
    incidents = re.findall(r'<tr class="incident">(.*?)</tr>', html, re.S)
    assert len(incidents) == 1
    assert "Wed 25 Jan 2023 10:44 EST" in incidents[0] and "Wed 25 Jan 2023 12:00 EST" in incidents[0]
    assert "75.5 minutes" in incidents[0] and "1 h 15 min" in incidents[0]
    assert "ongoing" in incidents[0]
    # Business hours, local.
    assert "09:00–12:00" in html


def test_status_page_honours_special_hours(client):
    """SPEC §9: a special date replaces the weekly hours in the figures, the timeline and the
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
    assert html.count("77.4%") == 2
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


# --------------------------------------------------------------------------- report page


def test_report_page_states_and_link(client):
    store, noon = worked_example_store()
    report = Report.objects.create(store_ids=[store.store_id], requested_as_of=noon)
    url = f"/reports/{report.id}/"

    html = client.get(url).content.decode()
    assert 'id="report-status">PENDING<' in html
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "Download CSV" not in html

    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, started_at=noon)
    html = client.get(url).content.decode()
    assert 'id="report-status">RUNNING<' in html and 'http-equiv="refresh"' in html

    Report.objects.filter(pk=report.pk).update(status=Report.Status.PENDING, started_at=None)
    report_run(report_id=report.id)
    html = client.get(url).content.decode()
    assert 'id="report-status">COMPLETE<' in html
    assert 'http-equiv="refresh"' not in html
    link = re.search(r'<a class="download" id="download" href="([^"]+)"', html).group(1)
    assert link.startswith(report_download_path(report_id=report.id).rsplit(":", 2)[0])
    download = client.get(link)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download.content.decode().splitlines()[1] == "worked-example,0.00,1.74,1.74,60.00,1.26,1.26"
    assert 'id="store-count">1' in html
    assert 'href="/stores/worked-example/"' in html  # the preview links to the store page

    failed = Report.objects.create(status=Report.Status.FAILED, error="the report could not be computed")
    html = client.get(f"/reports/{failed.id}/").content.decode()
    assert "the report could not be computed" in html and "Download CSV" not in html
    assert 'http-equiv="refresh"' not in html


def test_report_page_unknown_and_download_route_still_matches(client):
    assert client.get(f"/reports/{uuid.uuid4()}/").status_code == 404
    # /reports/download/<token>/ is the signed link, not a report page.
    response = client.get("/reports/download/not-a-token/")
    assert response.status_code == 403
    assert response.json()["error"] == "this download link is not valid"


# --------------------------------------------------------------------------- access


@pytest.fixture
def owners():
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, noon = worked_example_store("a1")
    b1, _ = worked_example_store("b1")
    a1.owner, b1.owner = alice, bob
    a1.save()
    b1.save()
    alice_report = Report.objects.create(owner=alice)
    return {
        "alice": token_create(name="t", owner=alice)[1],
        "bob": token_create(name="t", owner=bob)[1],
        "staff": token_create(name="t", is_staff=True)[1],
        "alice_report": alice_report,
    }


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", **HTML}


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_pages_are_scoped_to_the_owner(client, owners):
    assert client.get("/stores/a1/", headers=bearer(owners["alice"])).status_code == 200
    assert client.get("/stores/b1/", headers=bearer(owners["alice"])).status_code == 404
    assert client.get("/stores/a1/", headers=bearer(owners["bob"])).status_code == 404
    assert client.get("/stores/b1/", headers=bearer(owners["staff"])).status_code == 200
    report_url = f"/reports/{owners['alice_report'].id}/"
    assert client.get(report_url, headers=bearer(owners["alice"])).status_code == 200
    assert client.get(report_url, headers=bearer(owners["bob"])).status_code == 404
    assert client.get(report_url, headers=bearer(owners["staff"])).status_code == 200


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_pages_without_credentials_go_to_the_login(client, owners):
    for url in ("/stores/a1/", f"/reports/{owners['alice_report'].id}/"):
        response = client.get(url, headers=HTML)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/?next=")
        assert client.get(url).status_code == 401  # not a browser: the API's JSON answer
    # A staff user's admin session sees every store.
    staff = User.objects.create_user("operator", password="pw-for-tests", is_staff=True)
    client.force_login(staff)
    assert client.get("/stores/b1/", headers=HTML).status_code == 200


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_owner_signs_in_with_their_token_in_a_browser(client, owners):
    page = client.get("/sign-in/", {"next": "/stores/a1/"})
    assert page.status_code == 200 and b'name="token"' in page.content
    wrong = client.post("/sign-in/", {"token": "sum_wrong", "next": "/stores/a1/"})
    assert wrong.status_code == 401 and b"not valid" in wrong.content
    signed_in = client.post("/sign-in/", {"token": owners["alice"], "next": "/stores/a1/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/stores/a1/"
    assert client.get("/stores/a1/", headers=HTML).status_code == 200
    assert client.get("/stores/b1/", headers=HTML).status_code == 404  # still only Alice's stores
    # The raw token is not kept in the session, and an off-site "next" is ignored.
    assert owners["alice"] not in str(dict(client.session))
    offsite = client.post("/sign-in/", {"token": owners["alice"], "next": "https://evil.example/"})
    assert offsite["Location"] == "/"


def test_home_lists_visible_stores(client, owners):
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert b'href="/stores/a1/"' in page.content and b'href="/stores/b1/"' in page.content
    assert b'href="/stores/b1/"' not in client.get("/", {"q": "a"}, headers=HTML).content
    with override_settings(API_ANONYMOUS_ACCESS=False):
        assert client.get("/", headers=HTML)["Location"].startswith("/sign-in/?next=")
        alice = client.get("/", headers={**HTML, **bearer(owners["alice"])})
        assert b'href="/stores/a1/"' in alice.content and b'href="/stores/b1/"' not in alice.content


# --------------------------------------------------------------------------- hostile ids and values (SPEC §7)

# Ids that, put in a path as they are, would resolve elsewhere or not at all.
TRICKY_IDS = [
    "..",
    ".",
    "../../admin",
    "../..",
    "a/../b",
    "a/b",
    "/lead",
    "trail/",
    "%2e%2e",
    ".%2E",
    "by-id",
    "q?x=1#frag",
    "semi;colon",
    "per%25cent",
    "back\\slash",
    "sp ace",
    "ünï©ødé 店",
    "...",
]


def store_links(html: str) -> dict[str, str]:
    """The store links of a page: the id shown -> the href, HTML-unescaped."""
    return {
        unescape(text): unescape(href)
        for href, text in re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)
    }


def page_store_id(html: str) -> str:
    return unescape(re.search(r'<h1 id="store-id">([^<]*)</h1>', html).group(1))


def follow(client, page_url: str, href: str):
    """Open a link as a browser would: resolved against the page's URL (dot-segments
    removed by urljoin as by the URL standard), then requested."""
    resolved = urljoin(f"http://testserver{page_url}", href)
    parts = urlsplit(resolved)
    assert parts.netloc == "testserver"
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def test_every_store_link_opens_that_store(client):
    """No id resolves to another path: each link on the home page, followed as a
    browser would, opens the page of that very store."""
    worked_example_store("admin")  # what ../../admin would reach were it not encoded
    for store_id in TRICKY_IDS:
        make_store(store_id)
    links = store_links(client.get("/", headers=HTML).content.decode())
    assert set(TRICKY_IDS) <= set(links)
    for store_id in TRICKY_IDS:
        href = links[store_id]
        assert href == store_page_url(store_id)
        resolved = urljoin("http://testserver/", href)
        assert urlsplit(resolved).path.startswith("/stores/"), (store_id, resolved)
        response = follow(client, "/", href)
        assert response.status_code == 200, (store_id, href)
        assert page_store_id(response.content.decode()) == store_id
    # The plain form for plain ids, the query form only for dot-segments and '/'.
    assert store_page_url("1234567890123456789") == "/stores/1234567890123456789/"
    assert store_page_url("..") == "/stores/by-id/?id=.."
    assert store_page_url("../../admin") == "/stores/by-id/?id=..%2F..%2Fadmin"
    assert store_page_url("by-id") == "/stores/by-id/"
    assert store_page_url("%2e%2e") == "/stores/%252e%252e/"


def test_report_page_links_follow_the_same_rule(client):
    for store_id in ("..", "../../admin", "plain"):
        make_store(store_id)
    report = report_run(report_id=Report.objects.create(requested_as_of=datetime(2023, 1, 25, tzinfo=UTC)).id)
    page = f"/reports/{report.id}/"
    links = store_links(client.get(page).content.decode())
    for store_id in ("..", "../../admin", "plain"):
        response = follow(client, page, links[store_id])
        assert response.status_code == 200 and page_store_id(response.content.decode()) == store_id


def test_older_data_with_a_refused_id_never_breaks_a_page(client):
    """Ids the grammar now refuses may be in older data: listed without a link (never
    a NoReverseMatch), reported, and their URL answers 404 saying why."""
    for store_id in ("cr\rinside", "lf\ninside", "ok"):
        make_store(store_id)
    home = client.get("/", headers=HTML)
    assert home.status_code == 200
    html = home.content.decode()
    assert "cr\rinside" in html and "invalid id" in html
    assert store_page_url("cr\rinside") is None and store_page_url("lf\ninside") is None
    report = report_run(report_id=Report.objects.create(requested_as_of=datetime(2023, 1, 25, tzinfo=UTC)).id)
    assert report.status == Report.Status.COMPLETE
    assert client.get(f"/reports/{report.id}/").status_code == 200
    for url in ("/stores/cr%0Dinside/", "/stores/by-id/?id=lf%0Ainside", "/stores/by-id/?id=cr%0Dinside"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "not a valid store id" in response.content.decode()
        assert "control character" in response.content.decode()
    # An LF is not matched by the URL pattern at all: Django's own 404.
    assert client.get("/stores/lf%0Ainside/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/stores/%00/",
        "/stores/a%00b/",
        "/stores/by-id/?id=%00",
        "/stores/by-id/?id=",
        "/stores/%E2%80%AEbidi/",
        "/stores/%C2%A0nbsp/",
        "/stores/" + "x" * 300 + "/",
        "/stores/%FF%FE/",  # not UTF-8
    ],
)
def test_invalid_store_ids_in_the_url_are_404_not_500(client, url):
    """404 (no such store can exist), or 400 where the malformed-request middleware
    refuses the request first (NUL, not UTF-8): never 500."""
    make_store("known")
    response = client.get(url)
    assert response.status_code in (400, 404), url


@pytest.mark.parametrize(
    "as_of, says",
    [
        ("0001-01-01T00:00:00Z", "years 2000–2100"),
        ("9999-12-31T23:59:59Z", "years 2000–2100"),
        ("1999-12-31T23:59:59Z", "years 2000–2100"),
        ("2023-01-25T10:00:00", "no offset"),
        ("2023-02-30T10:00:00Z", "as_of"),
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


@pytest.mark.parametrize("query", ["\x00", "a\x00b", "\x01\x02", "\r\nx", "%", "_", "\\", "\ufeff", "x" * 5000])
def test_home_search_with_control_characters_is_never_a_500(client, query):
    make_store("a1")
    response = client.get("/", {"q": query}, headers=HTML)
    assert response.status_code == (400 if "\x00" in query else 200)
    if response.status_code == 200:
        assert b'href="/stores/a1/"' not in response.content


# --------------------------------------------------------------------------- honest coverage, the fleet, reports


FLEET_END = datetime(2023, 1, 25, 12, 0, tzinfo=UTC)


def hourly(store, *, hours: int, status=lambda age: True, end: datetime = FLEET_END) -> None:
    """Polls every hour back from `end`; status(age in hours) -> active?"""
    add_polls(store, [(end - timedelta(hours=age), status(age)) for age in range(hours)])


@pytest.fixture
def fleet():
    """Stores open 24x7 in UTC, as of FLEET_END (the latest poll): a-up (up all week),
    b-down (down the last 2.5 hours), c-half (down the first half of the week, up since),
    d-never (no polls at all), e-silent (last poll 10 days ago), f-new (polls only in
    the last day: its week is mostly unknown)."""
    hourly(make_store("a-up", zone="UTC"), hours=7 * 24 + 3)
    hourly(make_store("b-down", zone="UTC"), hours=7 * 24 + 3, status=lambda age: age > 2)
    hourly(make_store("c-half", zone="UTC"), hours=7 * 24 + 3, status=lambda age: age < 84)
    make_store("d-never", zone="UTC")
    add_polls(make_store("e-silent", zone="UTC"), [(FLEET_END - timedelta(days=10), True)])
    hourly(make_store("f-new", zone="UTC"), hours=24)


def fleet_rows(html: str) -> list[tuple[str, str]]:
    """(store id, state label) of the fleet table's rows, in order."""
    rows = re.findall(r'<tr class="store" data-store="([^"]*)" data-state="[^"]*">(.*?)</tr>', html, re.S)
    return [(unescape(store), re.search(r'<span class="badge [A-Z]+">([^<]*)<', row).group(1)) for store, row in rows]


def fleet_row(html: str, store_id: str) -> str:
    row = re.search(rf'<tr class="store" data-store="{re.escape(store_id)}".*?</tr>', html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()


def test_home_is_the_fleet_worst_first_with_coverage(client, fleet):
    html = client.get("/", headers=HTML).content.decode()
    assert fleet_rows(html) == [
        ("b-down", "down"), ("c-half", "up"), ("a-up", "up"), ("f-new", "up"),
        ("d-never", "unknown"), ("e-silent", "silent"),  # the badge's word is its filter's
    ]
    assert "6 stores you can see" in html
    b_down = fleet_row(html, "b-down")
    assert "down for 2 h 30 min" in b_down
    assert "1 d of 1 d known" in b_down and "7 d of 7 d known" in b_down
    assert "just now" in b_down and "Wed 25 Jan 2023 12:00 UTC" in b_down  # last poll, at as_of
    # A week of mostly unknown time is qualified, never a bare 100%.
    f_new = fleet_row(html, "f-new")
    assert "100% up but only 1 d 1 h of 7 d known" in f_new  # 24 polls: 25 h within H of one
    assert "100% up 1 d of 1 d known" in f_new
    # No polls in the window: said in words.
    assert "no polls in this window: uptime unknown" in fleet_row(html, "d-never")
    assert "never" in fleet_row(html, "d-never")
    assert "10 d ago" in fleet_row(html, "e-silent") or "1 wk ago" in fleet_row(html, "e-silent")
    assert "no polls in this window: uptime unknown" in fleet_row(html, "e-silent")
    # The filters' counts.
    assert 'data-state="down">down now (1)<' in html and 'data-state="unknown">unknown (1)<' in html
    assert 'data-state="silent">silent (1)<' in html and "never reported" in fleet_row(html, "d-never")


def test_home_filters_down_now_and_searches(client, fleet):
    html = client.get("/", {"state": "down"}, headers=HTML).content.decode()
    assert fleet_rows(html) == [("b-down", "down")]
    html = client.get("/", {"state": "unknown"}, headers=HTML).content.decode()
    assert [store for store, _ in fleet_rows(html)] == ["d-never"]
    html = client.get("/", {"state": "silent"}, headers=HTML).content.decode()
    assert fleet_rows(html) == [("e-silent", "silent")]
    html = client.get("/", {"q": "c-"}, headers=HTML).content.decode()
    assert fleet_rows(html) == [("c-half", "up")]
    assert client.get("/", {"state": "sideways"}, headers=HTML).status_code == 400


def test_home_is_paginated(client, fleet, monkeypatch):
    from monitoring.web.pages import fleet as fleet_page

    monkeypatch.setattr(fleet_page, "FLEET_PAGE_SIZE", 4)
    first = client.get("/", headers=HTML).content.decode()
    assert [store for store, _ in fleet_rows(first)] == ["b-down", "c-half", "a-up", "f-new"]
    assert "page 1 of 2" in first and 'href="?page=2" rel="next"' in first
    second = client.get("/", {"page": 2}, headers=HTML).content.decode()
    assert [store for store, _ in fleet_rows(second)] == ["d-never", "e-silent"]
    assert "page 2 of 2" in second and 'rel="prev"' in second and 'rel="next"' not in second
    # Out of range or not a number: the nearest page, never an error.
    assert client.get("/", {"page": 99}, headers=HTML).status_code == 200
    assert client.get("/", {"page": "x"}, headers=HTML).status_code == 200


def test_status_page_coverage_in_words(client, fleet):
    html = client.get("/stores/d-never/").content.decode()
    assert html.count("no polls in this window: uptime unknown") == 3
    html = client.get("/stores/f-new/").content.decode()
    assert "but only 1 d 1 h of 7 d known" in html  # the week
    assert "1 h of 1 h known" in html and "1 d of 1 d known" in html


def test_humanize():
    from monitoring.kernel import humanize

    assert humanize.duration(2 * 3600 + 14 * 60 + 5) == "2 h 14 min"
    assert humanize.duration(27 * 3600 + 59) == "1 d 3 h"
    assert humanize.duration(45) == "45 s" and humanize.duration(7200) == "2 h"
    assert humanize.count(14_000, "store") == "14,000 stores" and humanize.count(1, "store") == "1 store"
    now = datetime(2023, 1, 25, 12, tzinfo=UTC)
    assert humanize.ago(now - timedelta(minutes=3), now=now) == "3 min ago"
    assert humanize.ago(now - timedelta(hours=2), now=now) == "2 h ago"
    assert humanize.ago(now - timedelta(seconds=5), now=now) == "a few seconds ago"
    assert humanize.percent_text(99.96) == "99.9%" and humanize.percent_text(100.0) == "100%"
    assert humanize.coverage(4 * 3600, 0, 164 * 3600)["text"] == "100% up — but only 4 h of 7 d known"
    assert humanize.coverage(20 * 3600 * 0.981, 20 * 3600 * 0.019, 4 * 3600)["text"] == "98.1% up · 20 h of 1 d known"
    assert humanize.coverage(0, 0, 3600)["text"] == "no polls in this window: uptime unknown"


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.fixture
def browser():
    """A client that checks Django's CSRF token as a browser's requests would be."""
    from django.test import Client

    return Client(enforce_csrf_checks=True)


def sign_in(browser, token: str) -> None:
    page = browser.get("/sign-in/")
    response = browser.post("/sign-in/", {"token": token, "next": "/", "csrfmiddlewaretoken": csrf_token(page.content.decode())})
    assert response.status_code == 302


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_generate_report_from_the_home_page(browser, owners):
    sign_in(browser, owners["alice"])
    home = browser.get("/", headers=HTML).content.decode()
    assert "signed in as alice" in home and "sign out" in home
    assert [store for store, _ in fleet_rows(home)] == ["a1"]  # only Alice's stores
    form = re.search(r'<form method="post" action="(/reports/generate/)" id="generate-report"', home)
    assert form
    # Without the form's token the session cannot make a report (SPEC §8).
    assert browser.post("/reports/generate/").status_code == 403
    assert Report.objects.count() == 1
    response = browser.post("/reports/generate/", {"csrfmiddlewaretoken": csrf_token(home)})
    assert response.status_code == 302
    report = Report.objects.exclude(pk=owners["alice_report"].pk).get()
    assert report.owner.name == "alice" and report.store_ids is None
    assert response["Location"] == f"/reports/{report.id}/"
    assert browser.get(response["Location"], headers=HTML).status_code == 200


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_reports_list_shows_only_the_callers_reports(browser, owners):
    alice = Owner.objects.get(name="alice")
    bob_report = Report.objects.create(owner=Owner.objects.get(name="bob"))
    done = report_run(report_id=Report.objects.create(owner=alice).id)
    assert done.status == Report.Status.COMPLETE
    sign_in(browser, owners["alice"])
    html = browser.get("/reports/", headers=HTML).content.decode()
    listed = re.findall(r'<tr class="report" data-report="([^"]+)">', html)
    assert set(listed) == {str(owners["alice_report"].id), str(done.id)}
    assert str(bob_report.id) not in html
    assert "2 reports" in html and ("just now" in html or "a few seconds ago" in html)
    assert 'class="download" href="/reports/download/' in html
    assert 'id="report-status"' not in html and "PENDING" in html and "COMPLETE" in html
    staff = browser.get("/reports/", headers=bearer(owners["staff"])).content.decode()
    assert str(bob_report.id) in staff


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_sign_out_clears_the_session(browser, owners):
    sign_in(browser, owners["alice"])
    home = browser.get("/", headers=HTML)
    assert home.status_code == 200
    assert browser.post("/sign-out/").status_code == 403  # Django's CSRF token is required
    response = browser.post("/sign-out/", {"csrfmiddlewaretoken": csrf_token(home.content.decode())})
    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    assert not browser.session.items() or "api_token_hash" not in browser.session
    assert browser.get("/", headers=HTML)["Location"].startswith("/sign-in/?next=")


def test_anonymous_demo_says_so(client, fleet):
    html = client.get("/", headers=HTML).content.decode()
    assert "demo (anonymous access)" in html and "sign out" not in html

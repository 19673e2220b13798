"""Store ids in the pages' URLs: every link opens its own store whatever the id holds,
refused ids never break a page, invalid ones are 404."""

import re
from datetime import datetime, timezone
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from monitoring.models import Report
from monitoring.reports import report_run
from monitoring.web.links import store_page_url

from tests.factories import make_store, worked_example_store
from tests.page_html import HTML

pytestmark = pytest.mark.django_db


UTC = timezone.utc


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


@pytest.mark.parametrize("query", ["\x00", "a\x00b", "\x01\x02", "\r\nx", "%", "_", "\\", "\ufeff", "x" * 5000])
def test_home_search_with_control_characters_is_never_a_500(client, query):
    make_store("a1")
    response = client.get("/", {"q": query}, headers=HTML)
    assert response.status_code == (400 if "\x00" in query else 200)
    if response.status_code == 200:
        assert b'href="/stores/a1/"' not in response.content

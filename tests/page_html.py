"""Reading the server-rendered pages as a test sees them: the HTML Accept header, a
bearer header, the timeline's segments, the uptime cards, the daily strip, the fleet
table's rows, the CSRF token and signing in."""

import re
from html import unescape

HTML = {"Accept": "text/html"}


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


def uptime_cards(html: str) -> str:
    """The status page's three uptime windows (last hour, day, week) alone."""
    return re.search(r'<div class="grid three" id="uptime">(.*?)<h2', html, re.S).group(1)


def strip_cells(html: str) -> list[dict]:
    """The status page's daily strip: each cell's attributes (class, title, aria-label,
    data-*), in order."""
    strip = re.search(r'<div class="strip" id="daily-strip"[^>]*>(.*?)</div>', html, re.S).group(1)
    return [
        {name: unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}
        for tag in re.findall(r"<span [^>]*>", strip)
    ]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", **HTML}


def fleet_rows(html: str) -> list[tuple[str, str]]:
    """(store id, state label) of the fleet table's rows, in order."""
    rows = re.findall(r'<tr class="store" data-store="([^"]*)" data-state="[^"]*">(.*?)</tr>', html, re.S)
    return [(unescape(store), re.search(r'<span class="badge [A-Z]+">([^<]*)<', row).group(1)) for store, row in rows]


def fleet_row(html: str, store_id: str) -> str:
    row = re.search(rf'<tr class="store" data-store="{re.escape(store_id)}".*?</tr>', html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def sign_in(browser, token: str) -> None:
    page = browser.get("/sign-in/")
    response = browser.post("/sign-in/", {"token": token, "next": "/", "csrfmiddlewaretoken": csrf_token(page.content.decode())})
    assert response.status_code == 302

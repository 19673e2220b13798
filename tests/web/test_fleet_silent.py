""""silent" is a store open for more than H of business time with no evidence poll
(docs/rules.md §4.4); a store that has just opened, its last poll before opening, is
"unknown". The fleet's badge, its filter and the store page use the same word."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import add_polls, make_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc
HTML = {"Accept": "text/html"}
AS_OF = datetime(2023, 1, 25, 9, 21, tzinfo=UTC)  # a Wednesday
EVERY_DAY = range(7)
#: Yesterday 12:00–16:30, every half hour: inside both stores' hours.
YESTERDAY = [(datetime(2023, 1, 24, 16, 30, tzinfo=UTC) - timedelta(minutes=30 * k), True) for k in range(10)]


def badges(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr class="store" data-store="([^"]*)"[^>]*>(.*?)</tr>', html, re.S)
    return {store: re.search(r'<span class="badge [A-Z]+">([^<]*)<', row).group(1) for store, row in rows}


@pytest.fixture
def stores():
    # The latest poll of all sets as_of: 09:21.
    add_polls(make_store("clock", zone="UTC"), [(AS_OF, True)])
    # Opens at 09:00; polled yesterday in hours and at 08:39 on the 25th, before opening: 30 min
    # of business time after its last evidence poll the day before, 21 min on the 25th.
    just = make_store("just-opened", zone="UTC", hours=[(day, "09:00", "17:00") for day in EVERY_DAY])
    add_polls(just, [*YESTERDAY, (AS_OF - timedelta(minutes=42), True)])
    # Opened at 06:00, its last poll at 05:50: 1 h 30 min the day before and 3 h 21 min on the 25th
    # of business time without an evidence poll.
    early = make_store("opened-early", zone="UTC", hours=[(day, "06:00", "18:00") for day in EVERY_DAY])
    add_polls(early, [*YESTERDAY, (AS_OF - timedelta(hours=3, minutes=31), True)])
    make_store("never", zone="UTC")  # no poll at all: unknown, "never reported"


def test_badges_and_filters_say_the_same_word(client, stores):
    html = client.get("/", headers=HTML).content.decode()
    found = badges(html)
    assert found["just-opened"] == "unknown"
    assert found["opened-early"] == "silent"
    assert found["never"] == "unknown"
    assert 'data-state="silent">silent (1)<' in html and 'data-state="unknown">unknown (2)<' in html
    assert set(badges(client.get("/", {"state": "silent"}, headers=HTML).content.decode())) == {"opened-early"}
    assert set(badges(client.get("/", {"state": "unknown"}, headers=HTML).content.decode())) == {"just-opened", "never"}
    # Open for more than H (2 h) of business time with no evidence poll: silent now.
    add_polls(make_store("later-clock", zone="UTC"), [(AS_OF + timedelta(hours=1, minutes=40), True)])  # as_of 11:01
    assert badges(client.get("/", headers=HTML).content.decode())["just-opened"] == "silent"


def test_the_store_page_says_it_too(client, stores):
    def state(store_id: str) -> str:
        html = client.get(f"/stores/{store_id}/", {"as_of": AS_OF.isoformat()}).content.decode()
        return re.search(r'id="current-state"[^>]*>([^<]*)<', html).group(1)

    assert state("just-opened") == "Unknown"
    assert state("opened-early") == "Silent"

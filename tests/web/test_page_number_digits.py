"""The fleet page's `?page=` is read by the one grammar of whole numbers: another
script's digits are no page number (the first page), as `x` is."""

import pytest

from tests.factories import make_store

pytestmark = pytest.mark.django_db

HTML = {"Accept": "text/html"}


def shown_stores(html: str) -> list[str]:
    import re

    return re.findall(r'<tr class="store" data-store="([^"]*)"', html)


def test_arabic_indic_page_number_is_the_first_page(client, monkeypatch):
    from monitoring.web.pages import fleet as fleet_page

    monkeypatch.setattr(fleet_page, "FLEET_PAGE_SIZE", 1)
    for store_id in ("s1", "s2", "s3"):
        make_store(store_id, zone="UTC")
    third = shown_stores(client.get("/", {"page": "3"}, headers=HTML).content.decode())
    first = shown_stores(client.get("/", {"page": "1"}, headers=HTML).content.decode())
    assert third != first
    for digits in ("٣", "３", "३"):
        response = client.get("/", {"page": digits}, headers=HTML)
        assert response.status_code == 200
        assert shown_stores(response.content.decode()) == first, digits

"""The fleet (home) page: worst first with coverage, filtered to the stores down now,
searched, paginated."""

from datetime import timezone

import pytest

from tests.page_html import HTML, fleet_row, fleet_rows

pytestmark = pytest.mark.django_db


UTC = timezone.utc


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

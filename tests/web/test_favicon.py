"""Every page has an icon: no 404 line in the log per page view."""

import pytest

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/monitoring/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content)


def test_pages_link_their_icon(client):
    html = client.get("/", headers={"Accept": "text/html"}).content.decode()
    assert '<link rel="icon" href="/static/monitoring/favicon.svg" type="image/svg+xml">' in html

"""Who sees which page: owners see their own stores and reports, signing in with a token
and out, the home page's Generate report, the anonymous demo."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from monitoring.models import Owner, Report
from monitoring.reports import report_run

from tests.page_html import HTML, bearer, csrf_token, fleet_rows, sign_in

pytestmark = pytest.mark.django_db


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


@override_settings(API_ANONYMOUS_ACCESS=False)
def test_generate_report_from_the_home_page(browser, owners):
    sign_in(browser, owners["alice"])
    home = browser.get("/", headers=HTML).content.decode()
    assert "signed in as alice" in home and "sign out" in home
    assert [store for store, _ in fleet_rows(home)] == ["a1"]  # only Alice's stores
    form = re.search(r'<form method="post" action="(/reports/generate/)" id="generate-report"', home)
    assert form
    # Without the form's token the session cannot make a report (docs/rules.md §8).
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

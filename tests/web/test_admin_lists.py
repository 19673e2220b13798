"""The operators' admin: every page loads, lists, filters and search work (a NUL never a
500), polls and reports are read-only, names read as English, stores link to their
status page, and a report is triggered for the stores selected."""

import re
from datetime import datetime, timezone
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from monitoring.admin import EstimatedCountPaginator
from monitoring.models import (
    ApiToken,
    BusinessHours,
    Owner,
    Report,
    StatusPoll,
    StatusPollRow,
    Store,
)
from monitoring.web.links import store_page_url

from tests.admin_pages import admin_url
from tests.factories import make_store

pytestmark = pytest.mark.django_db


def test_every_admin_page_loads(admin_client, admin_world):
    poll = StatusPollRow.objects.first()
    hours = BusinessHours.objects.first()
    pages = [
        "/admin/",
        admin_url(BusinessHours, "changelist"),
        admin_url(BusinessHours, "change", hours.pk),
        admin_url(BusinessHours, "add"),
        admin_url(StatusPollRow, "changelist"),
        admin_url(StatusPollRow, "change", poll.pk),  # a read-only view
        admin_url(Report, "changelist"),
        admin_url(Report, "change", admin_world["complete"].pk),
        admin_url(Report, "change", admin_world["failed"].pk),
        admin_url(Owner, "changelist"),
        admin_url(Owner, "change", admin_world["owner"].pk),
        admin_url(Owner, "add"),
        admin_url(ApiToken, "changelist"),
        admin_url(ApiToken, "change", admin_world["token"].pk),
        admin_url(ApiToken, "add"),
        # django-q2's own admin
        "/admin/django_q/",
        "/admin/django_q/success/",
        "/admin/django_q/failure/",
        "/admin/django_q/schedule/",
        "/admin/django_q/schedule/add/",
        "/admin/django_q/ormq/",
    ]
    pages += [admin_url(Store, "changelist"), admin_url(Store, "change", admin_world["store"].pk), admin_url(Store, "add")]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_store_list_columns_filters_and_search(admin_client, admin_world):
    html = admin_client.get(admin_url(Store, "changelist")).content.decode()
    assert "1234567890123456789" in html and "America/New_York" in html
    assert "America/Chicago" in html  # the default zone of the store without one
    assert 'href="/stores/1234567890123456789/"' in html
    row = re.search(r"<tr>.*?1234567890123456789.*?</tr>", html, re.S).group(0)
    assert ">7<" in row  # seven business-hours rows
    # Search by (part of) the id; filters by zone, default zone and owner.
    html = admin_client.get(admin_url(Store, "changelist"), {"q": "7f3c2a9e"}).content.decode()
    assert "7f3c2a9e-0000-4000-8000-000000000001" in html and "1234567890123456789" not in html
    for query, shown, hidden in (
        ({"timezone_name": "America/New_York"}, "1234567890123456789", "7f3c2a9e"),
        ({"default_zone": "yes"}, "7f3c2a9e", "1234567890123456789"),
        ({"owner__id__exact": admin_world["owner"].pk}, "1234567890123456789", "7f3c2a9e"),
    ):
        html = admin_client.get(admin_url(Store, "changelist"), query).content.decode()
        assert shown in html and hidden not in html, query
    # The change page has the hours inline.
    html = admin_client.get(admin_url(Store, "change", admin_world["store"].pk)).content.decode()
    assert "business_hours-TOTAL_FORMS" in html and 'value="7"' in html


def test_polls_are_read_only_and_searchable(admin_client, admin_world):
    poll = StatusPollRow.objects.order_by("timestamp_utc").first()
    changelist = admin_url(StatusPollRow, "changelist")
    html = admin_client.get(changelist).content.decode()
    assert admin_url(StatusPollRow, "add") not in html
    assert "1234567890123456789" in html and "inactive" in html
    assert admin_client.get(admin_url(StatusPollRow, "add")).status_code == 403
    response = admin_client.post(admin_url(StatusPollRow, "change", poll.pk), {"is_active": "off"})
    assert response.status_code == 403
    assert admin_client.post(admin_url(StatusPollRow, "delete", poll.pk), {"post": "yes"}).status_code == 403
    assert StatusPoll.objects.get(store_id=poll.store_id, timestamp_utc=poll.timestamp_utc).is_active is poll.is_active
    # Search is by exact store id; filters by status and by UTC day.
    assert "1234567890123456789" in admin_client.get(changelist, {"q": "1234567890123456789"}).content.decode()
    assert "0 status polls" in admin_client.get(changelist, {"q": "12345"}).content.decode()
    html = admin_client.get(changelist, {"is_active__exact": "0"}).content.decode()
    rows = re.search(r'<table id="result_list">.*?</table>', html, re.S).group(0)  # not the filter's choices
    assert "1 status poll" in html and ">inactive<" in rows and ">active<" not in rows
    html = admin_client.get(changelist).content.decode()
    assert "?day=2023-01-25" in html  # the day filter offers the days that have polls
    assert "2 status polls" in admin_client.get(changelist, {"day": "2023-01-25"}).content.decode()
    assert "0 status polls" in admin_client.get(changelist, {"day": "2023-01-24"}).content.decode()


def test_poll_list_does_not_count_a_big_table(admin_client, admin_world, monkeypatch):
    """A list the planner expects to be long gets its page count from the estimate, not
    COUNT(*); a short one is counted exactly."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_statuspoll")
    changelist = admin_url(StatusPollRow, "changelist")
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)
    for query in ({}, {"day": "all"}):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(changelist, query)
        assert response.status_code == 200
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "monitoring_statuspoll" in q["sql"]]
        assert counts == [], query
        assert any(q["sql"].startswith("EXPLAIN") for q in queries), query
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 100_000)
    with CaptureQueriesContext(connection) as queries:
        filtered = admin_client.get(changelist, {"is_active__exact": "0"})
    assert "1 status poll" in filtered.content.decode()
    assert any("COUNT(" in q["sql"].upper() for q in queries)


def test_poll_list_shows_the_latest_day_unless_all_days_are_asked_for(admin_client, admin_world):
    StatusPoll.objects.create(
        store=admin_world["store"], timestamp_utc=datetime(2023, 1, 20, 12, tzinfo=timezone.utc), is_active=True
    )
    changelist = admin_url(StatusPollRow, "changelist")

    def listed(query) -> int:
        html = admin_client.get(changelist, query).content.decode()
        return int(re.search(r"(\d+) status polls?\b", html).group(1))

    total = StatusPoll.objects.count()
    assert listed({}) == listed({"day": "2023-01-25"}) == total - 1
    assert listed({"day": "all"}) == total and listed({"day": "2023-01-20"}) == 1
    html = admin_client.get(changelist).content.decode()
    assert "?day=2023-01-20" in html and "?day=all" in html


def test_reports_are_read_only_with_download_link(admin_client, admin_world):
    complete, failed = admin_world["complete"], admin_world["failed"]
    html = admin_client.get(admin_url(Report, "changelist")).content.decode()
    assert str(complete.id) in html and str(failed.id) in html
    assert "/reports/download/" in html  # the signed link of the complete report
    assert "the report could not be computed" in html
    row = re.search(rf"<tr>.*?{complete.id}.*?</tr>", html, re.S).group(0)
    assert 'class="field-row_count">1<' in row and 'class="field-store_count">1<' in row
    assert admin_url(Report, "add") not in html
    assert admin_client.get(admin_url(Report, "add")).status_code == 403
    # Search by part of the id, or by status.
    html = admin_client.get(admin_url(Report, "changelist"), {"q": str(complete.id)[:8]}).content.decode()
    assert str(complete.id) in html and str(failed.id) not in html
    html = admin_client.get(admin_url(Report, "changelist"), {"q": "failed"}).content.decode()
    assert str(failed.id) in html and str(complete.id) not in html
    # The change page shows fields, not inputs; the link downloads the CSV.
    html = admin_client.get(admin_url(Report, "change", complete.pk)).content.decode()
    assert not re.search(r'<(input|textarea|select)[^>]*name="(status|error|as_of|store_count)"', html)
    assert 'name="_save"' not in html
    link = re.search(r'href="(/reports/download/[^"]+)"', html).group(1)
    assert admin_client.get(link)["Content-Type"].startswith("text/csv")


def test_owner_list_counts_stores(admin_client, admin_world):
    second = make_store("second")
    second.owner = admin_world["owner"]
    second.save()
    html = admin_client.get(admin_url(Owner, "changelist")).content.decode()
    assert 'class="field-stores_count">2<' in html and 'class="field-tokens_count">1<' in html


def test_store_links_in_the_admin_never_escape_the_store_page(admin_client):
    for store_id in ("..", "../../admin", "cr\rold-data"):
        Store.objects.create(store_id=store_id)  # the ORM, as older data was written
    html = admin_client.get(admin_url(Store, "changelist")).content.decode()
    assert 'href="/stores/by-id/?id=.."' in html
    assert 'href="/stores/by-id/?id=..%2F..%2Fadmin"' in html
    assert "invalid id" in html  # the CR id: listed, no link
    for store in Store.objects.all():
        response = admin_client.get(admin_url(Store, "change", store.pk))
        assert response.status_code == 200
        on_site = re.search(r'href="([^"]*)" class="viewsitelink"', response.content.decode())
        if store.store_id == "cr\rold-data":
            assert on_site is None
        else:
            target = unescape(on_site.group(1))
            assert target == store_page_url(store.store_id)
            page = admin_client.get(target)
            assert page.status_code == 200 and store.store_id in unescape(page.content.decode())


@pytest.mark.parametrize("model", [Store, BusinessHours, StatusPollRow, Report, Owner, ApiToken])
def test_admin_search_and_filters_with_a_nul_are_never_a_500(admin_client, admin_world, model):
    for query in ({"q": "a\x00b"}, {"timezone_name": "\x00"}):
        assert admin_client.get(admin_url(model, "changelist"), query).status_code == 400
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "\x00", "app_label": "monitoring", "model_name": "store", "field_name": "owner"},
    )
    assert response.status_code in (200, 400)


def test_admin_refuses_a_nul_itself(rf, admin_user, admin_world):
    """Without the malformed-request middleware in front: a change list asked for with
    a NUL is a 400, a search with one (the autocomplete widgets') finds nothing."""
    from django.contrib import admin as django_admin

    for model in (Store, BusinessHours, StatusPollRow, Report, Owner, ApiToken):
        model_admin = django_admin.site._registry[model]
        request = rf.get(admin_url(model, "changelist"), {"q": "a\x00b"})
        request.user = admin_user
        assert model_admin.changelist_view(request).status_code == 400
        queryset, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), "\x00")
        assert list(queryset) == []


def test_model_names_and_filter_titles_read_as_english(admin_client, admin_world):
    index = admin_client.get("/admin/").content.decode()
    assert "Business hours<" in index and "hourss" not in index
    assert "API tokens<" in index
    titles = {
        Store: ["By uses default zone", "By time zone", "By owner"],
        BusinessHours: ["By day"],
        StatusPollRow: ["By status", "By day (UTC)"],
        ApiToken: ["By staff token", "By revoked", "By owner"],
        Report: ["By status"],
    }
    for model, expected in titles.items():
        html = admin_client.get(admin_url(model, "changelist")).content.decode()
        shown = re.findall(r"<summary>\s*(By [^<]*?)\s*</summary>", html) or re.findall(r"<h3>\s*(By [^<]*?)\s*</h3>", html)
        assert shown == expected, (model, shown)
        assert "By is " not in html and "By timezone name" not in html and "By revoked at" not in html
    polls = admin_client.get(admin_url(StatusPollRow, "changelist")).content.decode()
    assert '?is_active__exact=1">active<' in polls and '?is_active__exact=0">inactive<' in polls
    hours = admin_client.get(admin_url(BusinessHours, "changelist"), {"day_of_week__exact": "2"}).content.decode()
    assert '">Wed<' in hours and "1 business hours" in hours
    tokens = admin_client.get(admin_url(ApiToken, "changelist")).content.decode()
    assert '?revoked_at__isempty=1">No<' in tokens and '?revoked_at__isempty=0">Yes<' in tokens


def test_store_search_lists_the_exact_id_first(admin_client):
    for store_id in ("10", "1", "110", "210"):
        make_store(store_id)
    html = admin_client.get(admin_url(Store, "changelist"), {"q": "10"}).content.decode()
    listed = re.findall(r'<th class="field-store_id"><a href="[^"]*">([^<]*)</a>', html)
    assert listed == ["10", "110", "210"]  # the exact id, then the partial matches in order
    html = admin_client.get(admin_url(Store, "changelist"), {"q": " 1 "}).content.decode()
    assert re.findall(r'<th class="field-store_id"><a href="[^"]*">([^<]*)</a>', html)[0] == "1"


def test_store_admin_is_reachable_by_store_id(admin_client):
    plain = make_store("8419537941919820732")
    slashed = make_store("a/b c")
    dots = make_store("..")
    numeric = make_store("42")
    for url, store in (
        ("/admin/monitoring/store/by-id/8419537941919820732/", plain),
        ("/admin/monitoring/store/by-id/a%2Fb%20c/", slashed),
        ("/admin/monitoring/store/by-id/?id=..", dots),
        ("/admin/monitoring/store/by-id/42/", numeric),
        # the change page's own URL with a store id instead of the database key
        ("/admin/monitoring/store/8419537941919820732/change/", plain),
        ("/admin/monitoring/store/8419537941919820732/", plain),
        ("/admin/monitoring/store/a%2Fb%20c/change/", slashed),
    ):
        response = admin_client.get(url, follow=True)
        assert response.redirect_chain[-1] == (admin_url(Store, "change", store.pk), 302), url
        assert response.status_code == 200 and f'value="{store.store_id}"' in response.content.decode()
    # A database key opens its own store, as always.
    assert admin_client.get(admin_url(Store, "change", plain.pk)).status_code == 200
    # An id no store has: the change list searching for it, with a message.
    response = admin_client.get("/admin/monitoring/store/by-id/ghost/", follow=True)
    assert response.redirect_chain[0][0] == admin_url(Store, "changelist") + "?q=ghost"
    assert "No store has the id" in response.content.decode()
    # Only for people who may see the admin's stores.
    from django.test import Client

    anonymous = Client().get("/admin/monitoring/store/by-id/8419537941919820732/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")


def test_store_admin_and_status_page_link_to_each_other(admin_client, admin_world, client):
    store = admin_world["store"]
    change = admin_client.get(admin_url(Store, "change", store.pk)).content.decode()
    link = re.search(r'<a href="([^"]+)" id="status-page-link">', change).group(1)
    assert unescape(link) == store_page_url(store.store_id)
    page = admin_client.get(unescape(link)).content.decode()
    assert f'id="admin-link" href="{admin_url(Store, "change", store.pk)}"' in page
    # Not for others (anonymous access to the pages is on in tests).
    assert 'id="admin-link"' not in client.get(unescape(link)).content.decode()


def test_trigger_a_report_for_the_selected_stores(admin_client, admin_world):
    from django.contrib.admin import helpers

    other = Store.objects.get(store_id="7f3c2a9e-0000-4000-8000-000000000001")
    before = set(Report.objects.values_list("pk", flat=True))
    response = admin_client.post(
        admin_url(Store, "changelist"),
        {"action": "trigger_report", helpers.ACTION_CHECKBOX_NAME: [admin_world["store"].pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    (report,) = Report.objects.exclude(pk__in=before)
    assert report.store_ids == sorted([admin_world["store"].store_id, other.store_id]) and report.owner_id is None
    html = response.content.decode()
    assert "Report queued for 2 stores" in html
    assert f'href="/reports/{report.id}/"' in html
    assert admin_client.get(f"/reports/{report.id}/").status_code == 200

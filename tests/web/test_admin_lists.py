"""The operators' admin: every page loads, search works, polls and reports are
read-only, and a token made here is shown once and stored only as a hash."""

import hashlib
import re
from datetime import datetime, time, timezone
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring.stores.access import token_create
from monitoring.admin import EstimatedCountPaginator
from monitoring.web.links import store_page_url
from monitoring.models import ApiToken, BusinessHours, Owner, Report, StatusPoll, StatusPollRow, Store
from monitoring.reports import report_run
from tests.factories import make_store, worked_example_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc


@pytest.fixture
def world():
    owner = Owner.objects.create(name="alice")
    store, noon = worked_example_store("1234567890123456789")
    store.owner = owner
    store.save()
    make_store("7f3c2a9e-0000-4000-8000-000000000001")
    complete = Report.objects.create(store_ids=[store.store_id], requested_as_of=noon)
    report_run(report_id=complete.id)
    failed = Report.objects.create(status=Report.Status.FAILED, error="the report could not be computed")
    token, _ = token_create(name="dashboard", owner=owner)
    return {"owner": owner, "store": store, "complete": complete, "failed": failed, "token": token}


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_every_admin_page_loads(admin_client, world):
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
        admin_url(Report, "change", world["complete"].pk),
        admin_url(Report, "change", world["failed"].pk),
        admin_url(Owner, "changelist"),
        admin_url(Owner, "change", world["owner"].pk),
        admin_url(Owner, "add"),
        admin_url(ApiToken, "changelist"),
        admin_url(ApiToken, "change", world["token"].pk),
        admin_url(ApiToken, "add"),
        # django-q2's own admin
        "/admin/django_q/",
        "/admin/django_q/success/",
        "/admin/django_q/failure/",
        "/admin/django_q/schedule/",
        "/admin/django_q/schedule/add/",
        "/admin/django_q/ormq/",
    ]
    pages += [admin_url(Store, "changelist"), admin_url(Store, "change", world["store"].pk), admin_url(Store, "add")]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_store_list_columns_filters_and_search(admin_client, world):
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
        ({"owner__id__exact": world["owner"].pk}, "1234567890123456789", "7f3c2a9e"),
    ):
        html = admin_client.get(admin_url(Store, "changelist"), query).content.decode()
        assert shown in html and hidden not in html, query
    # The change page has the hours inline.
    html = admin_client.get(admin_url(Store, "change", world["store"].pk)).content.decode()
    assert "business_hours-TOTAL_FORMS" in html and 'value="7"' in html


def test_polls_are_read_only_and_searchable(admin_client, world):
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


def test_poll_list_does_not_count_a_big_table(admin_client, world, monkeypatch):
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


def test_poll_list_shows_the_latest_day_unless_all_days_are_asked_for(admin_client, world):
    StatusPoll.objects.create(
        store=world["store"], timestamp_utc=datetime(2023, 1, 20, 12, tzinfo=timezone.utc), is_active=True
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


def test_reports_are_read_only_with_download_link(admin_client, world):
    complete, failed = world["complete"], world["failed"]
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


def test_owner_list_counts_stores(admin_client, world):
    second = make_store("second")
    second.owner = world["owner"]
    second.save()
    html = admin_client.get(admin_url(Owner, "changelist")).content.decode()
    assert 'class="field-stores_count">2<' in html and 'class="field-tokens_count">1<' in html


def test_token_created_in_admin_is_shown_once_and_stored_hashed(admin_client, world):
    response = admin_client.post(
        admin_url(ApiToken, "add"), {"name": "poller", "owner": world["owner"].pk, "is_staff": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    raw = re.search(r'<code id="new-token">(sum_[\w-]+)</code>', html).group(1)
    assert html.count(raw) == 1
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(name="poller")
    assert token.owner == world["owner"] and not token.is_staff
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.key_prefix == raw[:8]
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(raw in value for value in stored)
    # Not kept for later: not in a cookie, not on any later page.
    assert not any(raw in morsel.value for morsel in response.cookies.values())
    for url in (admin_url(ApiToken, "changelist"), admin_url(ApiToken, "change", token.pk), "/admin/"):
        assert raw not in admin_client.get(url).content.decode()
    # It works as a bearer token, with the owner's scope.
    response = admin_client.get("/stores/1234567890123456789/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


def test_token_admin_rejects_owner_and_staff_together(admin_client, world):
    response = admin_client.post(
        admin_url(ApiToken, "add"), {"name": "both", "owner": world["owner"].pk, "is_staff": "on"}
    )
    assert response.status_code == 200
    assert "choose exactly one" in response.content.decode()
    assert not ApiToken.objects.filter(name="both").exists()
    response = admin_client.post(admin_url(ApiToken, "add"), {"name": "staff", "is_staff": "on"})
    assert re.search(r'<code id="new-token">sum_', response.content.decode())
    assert ApiToken.objects.get(name="staff").is_staff


def test_revoke_action(admin_client, world):
    response = admin_client.post(
        admin_url(ApiToken, "changelist"),
        {"action": "revoke", "_selected_action": [world["token"].pk]},
        follow=True,
    )
    assert "1 token(s) revoked." in response.content.decode()
    assert ApiToken.objects.get(pk=world["token"].pk).revoked_at is not None


# --------------------------------------------------------------------------- the grammar in the admin (SPEC §7)

INLINE_EMPTY = {
    "business_hours-TOTAL_FORMS": "0",
    "business_hours-INITIAL_FORMS": "0",
    "business_hours-MIN_NUM_FORMS": "0",
    "business_hours-MAX_NUM_FORMS": "1000",
}


def add_store(admin_client, store_id: str, zone: str = "", **extra):
    return admin_client.post(
        admin_url(Store, "add"), {"store_id": store_id, "timezone_name": zone, "owner": "", **INLINE_EMPTY, **extra}
    )


def form_errors(response) -> str:
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S))


@pytest.mark.parametrize(
    "zone, error",
    [
        ("Mars/Olympus_Mons", "unknown time zone"),
        ("America/Atlantis", "unknown time zone"),
        (" America/Chicago", "unknown time zone"),  # as typed: not trimmed
        ("UTC+5", "unknown time zone"),
    ],
)
def test_store_admin_refuses_unknown_zones(admin_client, zone, error):
    response = add_store(admin_client, "new-store", zone)
    assert response.status_code == 200
    assert error in form_errors(response)
    assert not Store.objects.filter(store_id="new-store").exists()


def test_store_admin_keeps_the_canonical_zone_and_empty_is_the_default(admin_client):
    assert add_store(admin_client, "lower", "america/new_york").status_code == 302
    assert Store.objects.get(store_id="lower").timezone_name == "America/New_York"
    assert add_store(admin_client, "no-zone", "").status_code == 302
    assert Store.objects.get(store_id="no-zone").timezone_name is None


@pytest.mark.parametrize(
    "store_id, error",
    [
        ("nul\x00inside", "Null characters are not allowed"),
        ("cr\rinside", "control character"),
        ("tab\tinside", "control character"),
        ("zero\u200bwidth", "format character"),
        (" lead", "starts with a space"),
        ("trail\u00a0", "ends with a space"),
        ("x" * 256, "longer than 255"),
        ("", "required"),
    ],
)
def test_store_admin_refuses_invalid_ids(admin_client, store_id, error):
    response = add_store(admin_client, store_id, "America/Chicago")
    assert response.status_code == 200
    assert error in unescape(form_errors(response))
    assert Store.objects.count() == 0


def test_store_admin_accepts_any_valid_id_as_typed(admin_client):
    for store_id in ("..", "../../admin", "=HYPERLINK(\"x\")", "inner space", "ünï©ødé"):
        assert add_store(admin_client, store_id).status_code == 302, store_id
        assert Store.objects.filter(store_id=store_id).exists()


def test_store_model_validation_serves_every_model_form():
    """The rules live on the model (Store.clean_fields): any ModelForm, any full_clean."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        Store(store_id="ok", timezone_name="Mars/Olympus_Mons").full_clean()
    assert "timezone_name" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        Store(store_id="a\nb").full_clean()
    assert "store_id" in refused.value.message_dict
    store = Store(store_id="fine", timezone_name="europe/berlin")
    store.full_clean()
    assert store.timezone_name == "Europe/Berlin"


def hours_rows(**row) -> dict:
    data = {**INLINE_EMPTY, "business_hours-TOTAL_FORMS": "1"}
    data.update({f"business_hours-0-{key}": value for key, value in row.items()})
    return data


@pytest.mark.parametrize(
    "day, start, end, error",
    [
        ("7", "09:00", "17:00", "Select a valid choice"),
        ("-1", "09:00", "17:00", "Select a valid choice"),
        ("0", "24:00", "17:00", "only allowed as an end time"),
        ("0", "25:00", "17:00", "out of range"),
        ("0", "9am", "17:00", "expected HH:MM"),
        ("0", "09:00", "17:60", "out of range"),
        ("0", " 09:00", "17:00", "expected HH:MM"),
    ],
)
def test_business_hours_inline_uses_the_grammar(admin_client, day, start, end, error):
    response = add_store(
        admin_client, "with-hours", **hours_rows(day_of_week=day, start_time_local=start, end_time_local=end)
    )
    assert response.status_code == 200
    assert error in unescape(form_errors(response))
    assert not Store.objects.filter(store_id="with-hours").exists()


def test_business_hours_inline_end_of_day_is_midnight(admin_client):
    response = add_store(
        admin_client, "late", **hours_rows(day_of_week="4", start_time_local="18:00", end_time_local="24:00")
    )
    assert response.status_code == 302
    (hours,) = BusinessHours.objects.filter(store__store_id="late")
    assert (hours.day_of_week, hours.start_time_local, hours.end_time_local) == (4, time(18), time(0))
    # Saving the store again with the inline as shown changes nothing.
    store = hours.store
    html = admin_client.get(admin_url(Store, "change", store.pk)).content.decode()
    assert 'value="18:00"' in html and 'value="00:00"' in html


def test_business_hours_admin_uses_the_grammar(admin_client, world):
    url = admin_url(BusinessHours, "add")
    data = {"store": world["store"].pk, "day_of_week": "2", "start_time_local": "22:00", "end_time_local": "24:00"}
    assert admin_client.post(url, data).status_code == 302
    response = admin_client.post(url, {**data, "start_time_local": "24:00"})
    assert "only allowed as an end time" in form_errors(response)


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
def test_admin_search_and_filters_with_a_nul_are_never_a_500(admin_client, world, model):
    for query in ({"q": "a\x00b"}, {"timezone_name": "\x00"}):
        assert admin_client.get(admin_url(model, "changelist"), query).status_code == 400
    response = admin_client.get(
        "/admin/autocomplete/",
        {"term": "\x00", "app_label": "monitoring", "model_name": "store", "field_name": "owner"},
    )
    assert response.status_code in (200, 400)


def test_admin_refuses_a_nul_itself(rf, admin_user, world):
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


# --------------------------------------------------------------------------- admin polish (issue #14)


def test_model_names_and_filter_titles_read_as_english(admin_client, world):
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


def test_store_admin_and_status_page_link_to_each_other(admin_client, world, client):
    store = world["store"]
    change = admin_client.get(admin_url(Store, "change", store.pk)).content.decode()
    link = re.search(r'<a href="([^"]+)" id="status-page-link">', change).group(1)
    assert unescape(link) == store_page_url(store.store_id)
    page = admin_client.get(unescape(link)).content.decode()
    assert f'id="admin-link" href="{admin_url(Store, "change", store.pk)}"' in page
    # Not for others (anonymous access to the pages is on in tests).
    assert 'id="admin-link"' not in client.get(unescape(link)).content.decode()


def test_trigger_a_report_for_the_selected_stores(admin_client, world):
    from django.contrib.admin import helpers

    other = Store.objects.get(store_id="7f3c2a9e-0000-4000-8000-000000000001")
    before = set(Report.objects.values_list("pk", flat=True))
    response = admin_client.post(
        admin_url(Store, "changelist"),
        {"action": "trigger_report", helpers.ACTION_CHECKBOX_NAME: [world["store"].pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    (report,) = Report.objects.exclude(pk__in=before)
    assert report.store_ids == sorted([world["store"].store_id, other.store_id]) and report.owner_id is None
    html = response.content.decode()
    assert "Report queued for 2 stores" in html
    assert f'href="/reports/{report.id}/"' in html
    assert admin_client.get(f"/reports/{report.id}/").status_code == 200

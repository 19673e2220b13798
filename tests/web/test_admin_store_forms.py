"""The admin's store, business-hours and expected-revenue forms read their values by the
one grammar (zones, store ids, local times, hours, amounts, currencies)."""

import re
from datetime import time
from decimal import Decimal
from html import unescape

import pytest
from monitoring.models import BusinessHours, Store, StoreRevenue

from tests.admin_pages import admin_url

pytestmark = pytest.mark.django_db


INLINE_EMPTY = {
    "business_hours-TOTAL_FORMS": "0",
    "business_hours-INITIAL_FORMS": "0",
    "business_hours-MIN_NUM_FORMS": "0",
    "business_hours-MAX_NUM_FORMS": "1000",
    "revenue-TOTAL_FORMS": "0",
    "revenue-INITIAL_FORMS": "0",
    "revenue-MIN_NUM_FORMS": "0",
    "revenue-MAX_NUM_FORMS": "1000",
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


def test_business_hours_admin_uses_the_grammar(admin_client, admin_world):
    url = admin_url(BusinessHours, "add")
    data = {"store": admin_world["store"].pk, "day_of_week": "2", "start_time_local": "22:00", "end_time_local": "24:00"}
    assert admin_client.post(url, data).status_code == 302
    response = admin_client.post(url, {**data, "start_time_local": "24:00"})
    assert "only allowed as an end time" in form_errors(response)


def revenue_rows(*rows: dict) -> dict:
    data = {**INLINE_EMPTY, "revenue-TOTAL_FORMS": str(len(rows))}
    for index, row in enumerate(rows):
        data.update({f"revenue-{index}-{key}": value for key, value in row.items()})
    return data


def test_expected_revenue_inline_stores_rows_read_by_the_grammar(admin_client):
    rows = revenue_rows(
        {"day_of_week": "0", "hour": "12", "expected_revenue": "85.5", "currency": "eur"},
        {"day_of_week": "6", "hour": "7", "expected_revenue": "1200", "currency": "EUR"},
    )
    assert add_store(admin_client, "earning", **rows).status_code == 302
    assert sorted(StoreRevenue.objects.values_list("day_of_week", "hour", "expected_revenue", "currency")) == [
        (0, 12, Decimal("85.50"), "EUR"), (6, 7, Decimal("1200.00"), "EUR"),
    ]
    html = admin_client.get(admin_url(Store, "change", Store.objects.get(store_id="earning").pk)).content.decode()
    assert 'value="85.50"' in html and "revenue-TOTAL_FORMS" in html


@pytest.mark.parametrize(
    "row, error",
    [
        ({"day_of_week": "0", "hour": "24", "expected_revenue": "1", "currency": "USD"}, "expected an hour 0-23"),
        ({"day_of_week": "0", "hour": "1", "expected_revenue": "1.005", "currency": "USD"}, "at most 2 decimals"),
        ({"day_of_week": "0", "hour": "1", "expected_revenue": "-3", "currency": "USD"}, "expected an amount"),
        ({"day_of_week": "0", "hour": "1", "expected_revenue": "3", "currency": "ABC"}, "unknown currency"),
    ],
)
def test_expected_revenue_inline_refuses_what_the_grammar_refuses(admin_client, row, error):
    response = add_store(admin_client, "earning", **revenue_rows(row))
    assert response.status_code == 200
    assert error in unescape(form_errors(response))
    assert not Store.objects.filter(store_id="earning").exists()


def test_expected_revenue_inline_keeps_one_currency_per_store(admin_client):
    rows = revenue_rows(
        {"day_of_week": "0", "hour": "12", "expected_revenue": "1", "currency": "USD"},
        {"day_of_week": "0", "hour": "13", "expected_revenue": "1", "currency": "EUR"},
    )
    response = add_store(admin_client, "earning", **rows)
    assert response.status_code == 200
    assert "one currency: these rows give EUR, USD" in unescape(response.content.decode())
    assert not StoreRevenue.objects.exists()

"""setSpecialHours refuses a time written with another script's digits (docs/rules.md §7)."""

import pytest
from monitoring.models import SpecialHours
from strawberry_django.test.client import TestClient

from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db


SET_SPECIAL = """mutation($id: ID!, $date: Date!, $shifts: [ShiftInput!]!) {
    setSpecialHours(storeId: $id, date: $date, shifts: $shifts) {
        specialHours { startTimeLocal } userErrors { field message code } } }"""


@pytest.mark.parametrize(
    "shift, field",
    [
        ({"startTimeLocal": "０９:００", "endTimeLocal": "17:00"}, "shifts[0].startTimeLocal"),
        ({"startTimeLocal": "09:00", "endTimeLocal": "١٧:٠٠"}, "shifts[0].endTimeLocal"),
    ],
)
def test_set_special_hours_refuses_other_digits(shift, field):
    worked_example_store()
    result = TestClient("/graphql/").query(SET_SPECIAL, {"id": "worked-example", "date": "2023-01-25", "shifts": [shift]})
    payload = result.data["setSpecialHours"]
    assert payload["specialHours"] is None
    (error,) = payload["userErrors"]
    assert error["field"] == field and error["code"] == "INVALID_ARGUMENT"
    assert "unparsable" in error["message"]
    assert not SpecialHours.objects.exists()

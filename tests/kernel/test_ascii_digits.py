"""Digits are ASCII only (SPEC §7, one grammar): a value written with another script's
digits (fullwidth `０９:００`, Arabic-Indic `٠٩:٠٠`) is refused on every path, as dates
and instants are, instead of being read as the ASCII number `int()` would make of it."""

from datetime import time
from pathlib import Path

import pytest
from strawberry_django.test.client import TestClient

from monitoring.ingest import load_business_hours_file, load_special_hours_file, load_status_file
from monitoring.kernel import values
from monitoring.models import BusinessHours, SpecialHours, StatusPoll
from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
SCRIPTS = pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC, DEVANAGARI], ids=["fullwidth", "arabic", "devanagari"])


def write(directory: Path, name: str, content: str) -> Path:
    path = directory / name
    path.write_text(content, encoding="utf-8")
    return path


@SCRIPTS
@pytest.mark.parametrize("text", ["09:00", "9:30", "09:00:00", "09:00:00.5", "24:00"])
def test_local_times_take_ascii_digits_only(digits, text):
    with pytest.raises(values.InvalidValue) as refused:
        values.local_time(text.translate(digits), end=True, field="end_time_local")
    assert refused.value.field == "end_time_local"
    assert refused.value.reason.startswith("unparsable end_time_local")
    # One foreign digit among ASCII ones is enough.
    with pytest.raises(values.InvalidValue):
        values.local_time(text[:-1] + text[-1].translate(digits), end=True)


@SCRIPTS
@pytest.mark.parametrize(
    "text", ["2023-01-25 18:13:22 UTC", "2023-01-25T18:13:22Z", "2023-01-25T18:13:22.5+05:30", "2023-01-25 18:13:22"]
)
def test_instants_refuse_other_digits_as_unparsable(digits, text):
    # Refused before, but as "out of range (no such date or time)": the text is not an
    # instant at all, and the refusal says how to write one.
    foreign = text[:11] + text[11:].translate(digits)
    with pytest.raises(values.InvalidValue) as refused:
        values.instant(foreign, field="timestamp_utc", naive_utc=True)
    assert refused.value.reason.startswith("unparsable timestamp_utc")


def test_special_hours_file_rejects_other_digits(tmp_path):
    path = write(
        tmp_path,
        "special_hours.csv",
        "store_id,date,start_time_local,end_time_local\n"
        "a,2023-01-25,10:00,11:00\n"
        "b,2023-01-25,０９:００,17:00\n"  # line 3
        "c,2023-01-25,09:00,١٧:٠٠\n"  # line 4
        "d,2023-01-25,09:0०,17:00\n"  # line 5
        "e,٢٠٢٣-01-25,09:00,17:00\n",  # line 6
    )
    result = load_special_hours_file(path=path)
    assert [(r.line, r.field) for r in result.rejections] == [
        (3, "start_time_local"), (4, "end_time_local"), (5, "start_time_local"), (6, "date"),
    ]
    assert all(r.reason.startswith("unparsable") for r in result.rejections)
    assert result.loaded == 1
    assert list(SpecialHours.objects.values_list("store__store_id", "start_time_local")) == [("a", time(10))]


def test_business_hours_file_rejects_other_digits(tmp_path):
    path = write(
        tmp_path,
        "menu_hours.csv",
        "store_id,dayOfWeek,start_time_local,end_time_local\n"
        "a,0,09:00,17:00\n"
        "b,0,０９:００,17:00\n"  # line 3
        "c,٣,09:00,17:00\n"  # line 4
        "d,1,09:00,١٧:٠٠\n",  # line 5
    )
    result = load_business_hours_file(path=path)
    assert [(r.line, r.field) for r in result.rejections] == [
        (3, "start_time_local"), (4, "dayOfWeek"), (5, "end_time_local"),
    ]
    assert result.loaded == 1
    assert list(BusinessHours.objects.values_list("store__store_id", flat=True)) == ["a"]


def test_status_file_rejects_other_digits(tmp_path):
    path = write(
        tmp_path,
        "store_status.csv",
        "store_id,timestamp_utc,status\n"
        "a,2023-01-25 18:13:22 UTC,active\n"
        "b,2023-01-25 １８:13:22 UTC,active\n"  # line 3
        "c,2023-01-25 18:13:22.٥ UTC,active\n",  # line 4
    )
    result = load_status_file(path=path)
    assert [(r.line, r.field) for r in result.rejections] == [(3, "timestamp_utc"), (4, "timestamp_utc")]
    assert all(r.reason.startswith("unparsable timestamp_utc") for r in result.rejections)
    assert list(StatusPoll.objects.values_list("store__store_id", flat=True)) == ["a"]


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

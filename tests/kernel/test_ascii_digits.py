"""Digits are ASCII only (docs/rules.md §7, one grammar): a local time or an instant written with
another script's digits (fullwidth `０９:００`, Arabic-Indic `٠٩:٠٠`) is refused instead of
being read as the ASCII number `int()` would make of it."""

import pytest
from monitoring.kernel import values

pytestmark = pytest.mark.django_db


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


SCRIPTS = pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC, DEVANAGARI], ids=["fullwidth", "arabic", "devanagari"])


@SCRIPTS
@pytest.mark.parametrize("text", ["09:00", "9:30", "09:00:00", "09:00:00.5", "24:00"])
def test_local_times_take_ascii_digits_only(digits, text):
    with pytest.raises(values.InvalidValue) as refused:
        values.local_time(text.translate(digits), end=True, field="end_time_local")
    assert refused.value.field == "end_time_local"
    assert refused.value.reason.startswith("unparsable ")
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
    assert refused.value.reason.startswith("unparsable ")

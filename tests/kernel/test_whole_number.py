"""`values.whole_number`: the one grammar of whole numbers (docs/rules.md §7): ASCII
digits only, within bounds, refused with the field's name."""

import pytest

from monitoring.kernel import values


@pytest.mark.parametrize("text, number", [("0", 0), ("7", 7), ("0042", 42), ("123456789012345678", 123456789012345678)])
def test_ascii_digits_are_read(text, number):
    assert values.whole_number(text, field="page") == number


@pytest.mark.parametrize("text", ["٣", "３", "३", "-1", "+3", " 3", "3 ", "1_000", "3.0", "0x10", "", "three"])
def test_anything_else_is_refused_naming_the_field(text):
    with pytest.raises(values.InvalidValue) as refused:
        values.whole_number(text, field="page")
    assert refused.value.field == "page" and str(refused.value).startswith("page: ")


def test_bounds():
    assert values.whole_number("6", field="day", maximum=6) == 6
    with pytest.raises(values.InvalidValue, match=r"day '7' is out of range \(expected 0 to 6\)"):
        values.whole_number("7", field="day", maximum=6)
    with pytest.raises(values.InvalidValue, match=r"expected 1 or more"):
        values.whole_number("0", field="page", minimum=1)
    with pytest.raises(values.InvalidValue, match="out of range"):
        values.whole_number("9" * 5000, field="page")  # never handed to int()


def test_trim_is_for_csv_cells_only():
    assert values.whole_number(" 3\t", field="n", trim=True) == 3

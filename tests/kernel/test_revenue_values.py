"""The grammar of expected revenue (docs/rules.md §7, §13): local hours, amounts of money
and ISO 4217 codes, the same on every path (the revenue file, GraphQL, the admin)."""

from decimal import Decimal

import pytest

from monitoring.kernel import values

FOREIGN_DIGITS = ["１２", "١٢", "१२"]  # fullwidth, Arabic-Indic, Devanagari


@pytest.mark.parametrize("text, hour", [("0", 0), ("7", 7), ("07", 7), ("23", 23)])
def test_hours(text, hour):
    assert values.hour_of_day(text) == hour


@pytest.mark.parametrize("text", ["24", "-1", "007", "1.0", " 1", "", "x", *FOREIGN_DIGITS])
def test_hours_refused(text):
    with pytest.raises(values.InvalidValue) as refused:
        values.hour_of_day(text, field="hour")
    assert refused.value.field == "hour"


def test_hours_trimmed_only_in_csv_cells():
    assert values.hour_of_day(" 9\t", trim=True) == 9


@pytest.mark.parametrize(
    "text, amount",
    [("0", "0.00"), ("1200", "1200.00"), ("85.5", "85.50"), ("85.50", "85.50"), ("0.05", "0.05"),
     ("9999999999.99", "9999999999.99"), ("007.10", "7.10")],
)
def test_amounts_are_exact_decimals_in_cents(text, amount):
    got = values.money_amount(text)
    assert isinstance(got, Decimal) and str(got) == amount


@pytest.mark.parametrize(
    "value, reason",
    [
        ("-1", "expected an amount"), ("+1", "expected an amount"), ("1.005", "at most 2 decimals"),
        ("1e3", "expected an amount"), ("1,000", "expected an amount"), (".5", "expected an amount"),
        ("5.", "expected an amount"), ("$5", "expected an amount"), ("NaN", "expected an amount"),
        ("Infinity", "expected an amount"), ("10000000000", "out of range"), ("", "missing"),
        (12.5, "write the amount as text"), (*FOREIGN_DIGITS[:1], "expected an amount"),
        (FOREIGN_DIGITS[1], "expected an amount"), (FOREIGN_DIGITS[2], "expected an amount"),
    ],
)
def test_amounts_refused(value, reason):
    with pytest.raises(values.InvalidValue) as refused:
        values.money_amount(value, field="expected_revenue")
    assert reason in refused.value.reason and refused.value.field == "expected_revenue"


@pytest.mark.parametrize("text, code", [("USD", "USD"), ("eur", "EUR"), ("Jpy", "JPY"), ("GBP", "GBP")])
def test_currencies(text, code):
    assert values.currency(text) == code


@pytest.mark.parametrize("text", ["XYZ", "US", "USDD", "$", "€", "ＵＳＤ", "usd ", "XAU"])
def test_currencies_refused(text):
    with pytest.raises(values.InvalidValue) as refused:
        values.currency(text)
    assert "unknown currency" in refused.value.reason or refused.value.reason == "missing"


def test_an_empty_currency_cell_is_usd():
    assert values.currency("", empty_ok=True) == values.currency(" \t", trim=True, empty_ok=True) == "USD"
    with pytest.raises(values.InvalidValue):
        values.currency("")

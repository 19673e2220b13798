"""The figures CSV written fast (lines joined by hand) is the file csv.writer writes, and
its figures are round(value, 2) without a minus zero."""

import csv
import io
import random

from hypothesis import given
from hypothesis import strategies as st
from monitoring.kernel.people_csv import figures_csv, figures_rows, spreadsheet_safe, two_decimals

HEADER = ("store_id", "a", "b")


def _by_csv_module(rows) -> str:
    out = io.StringIO()
    plain = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    plain.writerow(HEADER)
    for row in rows:
        cells = [spreadsheet_safe(row["store_id"]), *(f"{round(row[c], 2) + 0.0:.2f}" for c in HEADER[1:])]
        (quoted if "\r" in cells[0] else plain).writerow(cells)
    return out.getvalue()


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_two_decimals_is_round_to_two_places_without_minus_zero(value):
    assert two_decimals(value) == f"{round(value, 2) + 0.0:.2f}"


def test_two_decimals_on_halves_and_minus_zero():
    halves = [n / 1000 for n in range(-2000, 2000, 5)]  # x.xx5: binary values just above or below
    for value in [*halves, -0.0, -0.004, -0.005, -0.006, 1e-300, -1e-300]:
        assert two_decimals(value) == f"{round(value, 2) + 0.0:.2f}"


@given(
    st.lists(
        st.tuples(
            st.one_of(st.text(min_size=1, max_size=6), st.sampled_from(["a,b", 'q"', "cr\r", "lf\n", "=1", " x"])),
            st.floats(min_value=0, max_value=1e4),
            st.floats(min_value=-1, max_value=1e4),
        ),
        max_size=30,
    )
)
def test_figures_rows_write_what_csv_writer_writes(cells):
    rows = [{"store_id": store_id, "a": a, "b": b} for store_id, a, b in cells]
    out = io.StringIO()
    figures_rows(figures_csv(out, HEADER), rows, HEADER)
    assert out.getvalue() == _by_csv_module(rows)
    assert [row[0] for row in csv.reader(io.StringIO(out.getvalue(), newline=""))][1:] == [
        spreadsheet_safe(store_id) for store_id, _, _ in cells
    ]


def test_many_rows_cross_the_write_batches():
    rng = random.Random(7)
    rows = [{"store_id": f"s{i}" if i % 997 else f"s,{i}", "a": rng.random() * 100, "b": rng.random()} for i in range(5000)]
    out = io.StringIO()
    figures_rows(figures_csv(out, HEADER), rows, HEADER)
    assert out.getvalue() == _by_csv_module(rows)

"""CSV files meant for people (the report, the rejects files): opened in spreadsheets,
so a cell that a spreadsheet would run as a formula is neutralised, and any value
round-trips (docs/rules.md §7)."""

import csv

#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a
#: formula (or, for TAB and CR, hide one behind them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """The cell as a spreadsheet shows it literally: an apostrophe before a formula's
    first character (OWASP's advice; spreadsheets do not display the apostrophe)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class PeopleCsvWriter:
    """csv.writer with LF line ends that also quotes a cell holding a CR (the csv
    module quotes only the characters of its own line end), so a row always reads
    back as written."""

    def __init__(self, handle) -> None:
        self._handle = handle
        self._plain = csv.writer(handle, lineterminator="\n")
        self._quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row) -> None:
        cells = ["" if cell is None else cell for cell in row]
        has_cr = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (self._quoted if has_cr else self._plain).writerow(cells)

    def write_plain_lines(self, lines: list[str]) -> None:
        """Lines already joined by commas, whose cells need no quoting (see `plain_cell`)."""
        self._handle.write("".join(lines))


def plain_cell(text: str) -> bool:
    """Whether csv.writer would write this cell as it is (no delimiter, quote or line end
    in it, not empty): such cells can be joined by hand, many times faster."""
    return bool(text) and not any(mark in text for mark in _QUOTED_MARKS)


_QUOTED_MARKS = (",", '"', "\r", "\n")


def two_decimals(value: float) -> str:
    """A figure of a report CSV: rounded to 2 decimals (correctly rounded, half to even
    on the exact binary value, as round(value, 2)), never "-0.00"."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def figures_csv(out, header) -> PeopleCsvWriter:
    """A writer of a figures CSV (a report: `store_id` then figures), its header written."""
    writer = PeopleCsvWriter(out)
    writer.writerow(header)
    return writer


def figures_rows(writer: PeopleCsvWriter, rows, header) -> None:
    """Rows of a figures CSV, each a dict with the header's columns: a store id that a
    spreadsheet would run as a formula (first character = + - @, TAB or CR) gets an
    apostrophe; any id reads back as written (a cell holding a CR or LF is quoted); the
    figures with 2 decimals."""
    columns = header[1:]
    _figure_lines(writer, ((row[header[0]], tuple([float(row[column]) for column in columns])) for row in rows),
                  len(columns))


def figures_table(writer: PeopleCsvWriter, store_ids, figures) -> None:
    """`figures_rows` of rows held as columns: store ids, and their figures (n, k) in
    the header's order after the id."""
    _figure_lines(writer, zip(store_ids, map(tuple, figures.tolist())), figures.shape[1])


def _figure_lines(writer: PeopleCsvWriter, rows, width: int) -> None:
    """(store id, tuple of `width` floats) rows as lines of a figures CSV."""
    # One format per row: "%.2f" rounds as two_decimals does; "-0.00" is mended after.
    cells = ",%.2f" * width
    lines: list[str] = []
    for store_id, values in rows:
        store_id = spreadsheet_safe(store_id)
        figures = cells % values
        if "-0.00" in figures:
            figures = "".join("," + two_decimals(float(cell)) for cell in figures[1:].split(","))
        if plain_cell(store_id):
            lines.append(store_id + figures + "\n")
            if len(lines) == _LINES_PER_WRITE:
                writer.write_plain_lines(lines)
                lines = []
        else:  # quoting as csv.writer does, after the lines before it
            writer.write_plain_lines(lines)
            lines = []
            writer.writerow([store_id, *figures[1:].split(",")])
    writer.write_plain_lines(lines)


_LINES_PER_WRITE = 2000

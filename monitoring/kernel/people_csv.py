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
        self._plain = csv.writer(handle, lineterminator="\n")
        self._quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row) -> None:
        cells = ["" if cell is None else cell for cell in row]
        has_cr = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        (self._quoted if has_cr else self._plain).writerow(cells)


def two_decimals(value: float) -> str:
    """A figure of a report CSV: rounded to 2 decimals, never "-0.00"."""
    return f"{round(value, 2) + 0.0:.2f}"  # + 0.0 turns -0.0 into 0.0


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
    for row in rows:
        writer.writerow([spreadsheet_safe(row[header[0]]), *(two_decimals(row[column]) for column in header[1:])])

"""Finished report CSVs in the report storage (monitoring.kernel.storage): written from the
stored rows in store_id order through a spooled temporary file (memory bounded whatever
the fleet), read back in blocks for downloads, deleted with their report."""

import io
import logging
import tempfile
from decimal import Decimal
from typing import Callable, Iterable, Iterator

from django.core.files import File
from django.db.models.functions import Collate

from monitoring import history
from monitoring.models import Report
from monitoring.reports.compute import CSV_HEADER, ReportTable, write_csv_header, write_csv_rows, write_csv_table
from monitoring.kernel.people_csv import PeopleCsvWriter
from monitoring.kernel.storage import report_storage

logger = logging.getLogger(__name__)

#: In memory up to this many bytes, then on disk, before it goes to the storage.
_SPOOL_BYTES = 1024 * 1024
#: Rows fetched per round trip from the server-side cursor.
_ROWS_PER_FETCH = 2000
#: Bytes per block when a download is streamed.
DOWNLOAD_BLOCK = 64 * 1024


def csv_file_name(*, report_id) -> str:
    return f"{report_id}.csv"


def _stored_rows(*, report: Report) -> Iterable[dict]:
    """The report's rows in store_id code-point order (COLLATE "C"), a few thousand at a time."""
    if report.is_range:
        rows = report.range_rows.order_by(Collate("store_id", "C")).values(
            *history.RANGE_CSV_HEADER, "lost_revenue_cents", "revenue_at_risk_cents"
        )
        return (_with_amounts(row) for row in rows.iterator(chunk_size=_ROWS_PER_FETCH))
    rows = report.rows.order_by(Collate("store_id", "C")).values("store_id", *CSV_HEADER[1:])
    return rows.iterator(chunk_size=_ROWS_PER_FETCH)


def amount_cents(amount) -> int | None:
    """An amount as a range row stores it: whole cents (None: no estimate)."""
    return None if amount is None else int(amount * 100)


def _cents_amount(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents).scaleb(-2)


def _with_amounts(row: dict) -> dict:
    """A stored range row with its lost revenue as amounts (Decimal, or None)."""
    for column in ("lost_revenue", "revenue_at_risk"):
        row[column] = _cents_amount(row.pop(f"{column}_cents"))
    return row


def _as_stored(row: dict) -> dict:
    """A computed range row with its amounts as they read back once stored (whole cents)."""
    return {**row, **{column: _cents_amount(amount_cents(row.get(column))) for column in ("lost_revenue", "revenue_at_risk")}}


def _csv_writing(report: Report, out) -> tuple[PeopleCsvWriter, Callable]:
    """(the writer of the report's CSV on `out`, its header written; write_rows(writer, rows))."""
    if report.is_range:
        revenue = report.revenue_columns

        def write_rows(writer, rows):
            history.range_csv_rows(writer, (_as_stored(row) for row in rows) if revenue else rows, revenue=revenue)

        return history.range_csv_header(out, revenue=revenue), write_rows
    return write_csv_header(out), write_csv_rows


def csv_part(*, report: Report, rows: list[dict]) -> str:
    """A chunk's rows (in store_id order) as its part of the report's CSV: the lines the
    finished file holds for them, as `csv_file_save` writes them from the stored rows."""
    out = io.StringIO()
    _, write_rows = _csv_writing(report, io.StringIO())
    write_rows(PeopleCsvWriter(out), rows)
    return out.getvalue()


def csv_table_part(*, table: ReportTable) -> str:
    """`csv_part` of a weekly report's chunk held as a table."""
    out = io.StringIO()
    write_csv_table(PeopleCsvWriter(out), table)
    return out.getvalue()


def csv_file_save(*, report: Report) -> tuple[str, int]:
    """Write the report's CSV (docs/rules.md §5; a range report's: §11) to the
    storage: the header, then its chunks' parts in order (`csv_part`), or, when a chunk
    has none (finished by an older version, or the parts already cleared), the stored
    rows; returns (its name, the rows in it). A report completed again (never, but a
    re-run must not leave two files) replaces it."""
    storage = report_storage()
    name = csv_file_name(report_id=report.pk)
    parts = list(report.chunks.order_by("index").values_list("csv_part", "rows_written"))
    from_parts = bool(parts) and all(part is not None for part, _ in parts)
    count = sum(written for _, written in parts) if from_parts else 0
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer, write_rows = _csv_writing(report, text)

        def counted(rows):
            nonlocal count
            for row in rows:
                count += 1
                yield row

        if from_parts:
            for part, _ in parts:
                text.write(part)
        else:
            write_rows(writer, counted(_stored_rows(report=report)))
        text.flush()
        text.detach()  # the spool stays open for the storage to read
        spool.seek(0)
        if storage.exists(name):
            storage.delete(name)  # storage.save would pick another name
        saved = storage.save(name, File(spool, name=name))
    return saved, count


def csv_file_size(*, name: str) -> int:
    return report_storage().size(name)


def csv_file_blocks(*, name: str) -> Iterator[bytes]:
    """The stored file, DOWNLOAD_BLOCK bytes at a time (closed when exhausted or dropped)."""
    with report_storage().open(name, "rb") as handle:
        while block := handle.read(DOWNLOAD_BLOCK):
            yield block


def csv_file_bytes(*, name: str) -> bytes:
    with report_storage().open(name, "rb") as handle:
        return handle.read()


def csv_files_delete(*, names: Iterable[str]) -> None:
    storage = report_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # already gone, or the store is away: the row is gone, that is what counts
            logger.warning("report file %s could not be deleted", name, exc_info=True)

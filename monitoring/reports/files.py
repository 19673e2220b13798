"""Finished report CSVs in the report storage (monitoring.kernel.storage): written from the
stored rows in store_id order through a spooled temporary file (memory bounded whatever
the fleet), read back in blocks for downloads, deleted with their report."""

import io
import logging
import tempfile
from decimal import Decimal
from typing import Iterable, Iterator

from django.core.files import File
from django.db.models.functions import Collate

from monitoring import history
from monitoring.models import Report
from monitoring.reports.compute import CSV_HEADER, write_csv_header, write_csv_rows
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


def _with_amounts(row: dict) -> dict:
    """A stored range row with its lost revenue as amounts (Decimal, or None)."""
    for column, cents in (("lost_revenue", row.pop("lost_revenue_cents")), ("revenue_at_risk", row.pop("revenue_at_risk_cents"))):
        row[column] = None if cents is None else Decimal(cents).scaleb(-2)
    return row


def csv_file_save(*, report: Report) -> tuple[str, int]:
    """Write the report's CSV (docs/rules.md §5; a range report's: §11) to the
    storage; returns (its name, stores in it). A report completed again (never, but a
    re-run must not leave two files) replaces it."""
    storage = report_storage()
    name = csv_file_name(report_id=report.pk)
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        if report.is_range:
            revenue = report.revenue_columns
            writer = history.range_csv_header(text, revenue=revenue)

            def write_rows(writer, rows):
                history.range_csv_rows(writer, rows, revenue=revenue)
        else:
            writer, write_rows = write_csv_header(text), write_csv_rows

        def counted(rows):
            nonlocal count
            for row in rows:
                count += 1
                yield row

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

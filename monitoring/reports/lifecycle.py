"""The background report lifecycle (PENDING → RUNNING → COMPLETE | FAILED): a report's
stores are split into chunks (consecutive in store_id order), each computed by a
worker task that writes its rows in one transaction; the last chunk in writes the CSV
to the report storage. Failover (heartbeats, the sweep) is in .failover; queueing in .queue."""

import logging
from datetime import datetime, timedelta
from typing import Sequence

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone as django_timezone

from monitoring import history
from monitoring.kernel.copy_format import copy_in, encode_rows
from monitoring.kernel.humanize import count as counted
from monitoring.models import Report, ReportChunk, ReportRangeRow, ReportRow
from monitoring.reports import failover, files
from monitoring.reports import queue
from monitoring.worker import thread as worker_thread
from monitoring.reports.compute import (
    FIGURE_COLUMNS,
    INCIDENT_COLUMNS,
    ReportTable,
    by_store_id,
    compute_table,
    validate_report_request,
)
from monitoring.stores.access import owner_access
from monitoring.stores.chunks import balanced_chunk_size
from monitoring.stores.revenue import revenue_in_scope
from monitoring.stores.selectors import (
    default_as_of,
    in_chunks,
    pk_array,
    stores_in_code_point_order,
    stores_in_scope,
)

logger = logging.getLogger(__name__)


def report_create(
    *,
    store_ids: Sequence[str] | None = None,
    as_of: datetime | None = None,
    horizon_minutes: int | None = None,
    owner_id: int | None = None,
    group_id: int | None = None,
    range_start: datetime | None = None,
) -> Report:
    """A new PENDING report, queued for the worker once this transaction commits. An
    owner's report covers only their stores; one asked by a role on a group (`group_id`:
    its stores named in `store_ids`) is by default as of the group's latest poll. With
    `range_start` it is a range report (docs/rules.md §11) over [range_start, as_of),
    `as_of` being its `to` (None: the caller's latest poll when it runs)."""
    if range_start is not None:
        # Checked now against today's default `to`; checked again when it runs.
        history.range_resolve(start=range_start, end=as_of, owner_id=owner_id, group_id=group_id)
    validate_report_request(
        as_of=None if range_start is not None else as_of, store_ids=store_ids, horizon_minutes=horizon_minutes,
        owner_id=owner_id,
    )
    report = Report.objects.create(
        owner_id=owner_id,
        group_id=group_id,
        store_ids=sorted(set(store_ids)) if store_ids is not None else None,
        requested_as_of=as_of,
        horizon_minutes=horizon_minutes or settings.REPORT_HORIZON_MINUTES,
        range_start=range_start,
    )
    transaction.on_commit(lambda: queue.report_enqueue(report=report))
    return report


def _plan_chunks(*, report: Report) -> None:
    """The report's chunks: its stores in store_id order, REPORT_CHUNK_SIZE at a time."""
    size = settings.REPORT_CHUNK_SIZE
    if report.is_range:  # longer ranges read more polls per store: fewer stores per chunk
        size = history.range_chunk_size(
            start=report.range_start, end=report.as_of, horizon=timedelta(minutes=report.horizon_minutes)
        )
    ordered = stores_in_code_point_order(store_ids=report.store_ids, owner_id=report.owner_id)
    size = balanced_chunk_size(total=len(ordered), size=size, parallel=settings.Q_CLUSTER["workers"])
    # One text parameter per chunk: a list of thousands of pks cost more to adapt and parse.
    chunks = [
        ReportChunk(
            report=report, index=index, store_pks=RawSQL("%s::bigint[]", (pk_array([pk for pk, _, _ in stores]),))
        )
        for index, stores in enumerate(in_chunks(ordered, size))
    ]
    # No store: one empty chunk completes the report (a header-only CSV).
    ReportChunk.objects.bulk_create(chunks or [ReportChunk(report=report, index=0, store_pks=[])])


def report_run(*, report_id) -> Report:
    """Start or resume a queued report. The first run fixes `as_of` and splits the stores
    into chunks; the first is computed right here, the others are queued as tasks that
    any number of workers run in parallel. Running this again is safe: a finished report is
    left alone, unfinished chunks that no live run holds are queued again."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status in (Report.Status.COMPLETE, Report.Status.FAILED):
            return report
        if report.attempts >= settings.REPORT_MAX_ATTEMPTS:
            return _report_fail(report=report, message=f"the report did not finish after {counted(report.attempts, 'attempt')}")
        now = django_timezone.now()
        report.status = Report.Status.RUNNING
        report.started_at = now
        report.progress_at = now
        report.attempts += 1
        if not report.chunks.exists():
            # As of the latest poll among the stores its caller sees (docs/rules.md §8).
            report.as_of = report.requested_as_of or default_as_of(
                owner_id=report.owner_id, group_id=report.group_id
            )
            if report.is_range:
                try:
                    history.range_validate(start=report.range_start, end=report.as_of)
                except history.HistoryInputError as error:
                    report.save()
                    return _report_fail(report=report, message=str(error))
                # The lost-revenue columns, when some store of the report has revenue rows
                # now (docs/rules.md §13): decided once, so every chunk writes them alike.
                report.revenue_columns = revenue_in_scope(access=owner_access(report.owner_id), store_ids=report.store_ids)
            _plan_chunks(report=report)
        report.save()
        unfinished = report.chunks.filter(finished_at__isnull=True).exclude(heartbeat_at__gte=failover.stale_cutoff())
        chunks = list(unfinished.values_list("pk", flat=True))
        unfinished.update(queued_at=now)

    # The first chunk is computed here, at once; the others wait for any worker.
    for chunk_id in chunks[1:]:
        queue.chunk_enqueue(chunk_id=chunk_id, report_id=report.id)
    if chunks:
        report_chunk_run(chunk_id=chunks[0])
    report.refresh_from_db()
    return report


def report_chunk_run(*, chunk_id: int) -> None:
    """Compute one chunk's rows and store them; the last chunk in completes the report.
    A chunk held by a live run (fresh heartbeat) or finished is skipped; should two runs
    compute it anyway (one thought dead, then alive), only the first to commit writes.
    A lost database connection queues the report again (bounded by its attempts); any
    other error fails it with a message (details in the log)."""
    chunk = _chunk_claim(chunk_id=chunk_id)
    if chunk is None:
        return
    report = chunk.report
    try:
        with failover.beating(chunk_id=chunk.pk):
            _chunk_compute_and_store(chunk=chunk, report=report)
    except (OperationalError, InterfaceError):
        logger.warning("report %s chunk %s lost the database connection", report.id, chunk.index)
        _report_retry_later(report_id=report.id, chunk_id=chunk.pk, reason="the database connection was lost")
        raise
    except Exception:
        logger.exception("report %s chunk %s failed", report.id, chunk.index)
        _report_fail(report=report, message="the report could not be computed (the error is logged)")


def _chunk_claim(*, chunk_id: int) -> ReportChunk | None:
    """The chunk, marked as taken by this run (heartbeat now, one more attempt), or None
    when there is nothing to do: finished, its report not running, or a live run on it."""
    with transaction.atomic():
        # Only the chunk's row is locked (of=self): completions lock the report, then the chunk.
        chunk = ReportChunk.objects.select_for_update(of=("self",)).select_related("report").filter(pk=chunk_id).first()
        if chunk is None or chunk.finished_at is not None or chunk.report.status != Report.Status.RUNNING:
            return None
        if chunk.heartbeat_at is not None and chunk.heartbeat_at >= failover.stale_cutoff():
            return None
        if chunk.attempts >= settings.REPORT_MAX_ATTEMPTS:
            _report_fail(
                report=chunk.report, message=f"a part of the report did not finish after {counted(chunk.attempts, 'attempt')}"
            )
            return None
        chunk.attempts += 1
        chunk.heartbeat_at = django_timezone.now()
        chunk.save(update_fields=["attempts", "heartbeat_at"])
    return chunk


def _chunk_compute_and_store(*, chunk: ReportChunk, report: Report) -> None:
    stores = stores_in_scope(store_ids=None, store_pks=chunk.store_pks)
    horizon = timedelta(minutes=report.horizon_minutes)
    # Rendered and encoded before the report's lock is taken: chunk completions wait only for the COPY.
    if report.is_range:
        rows = by_store_id(history.range_rows(
            stores=stores, start=report.range_start, end=report.as_of, horizon=horizon, revenue=report.revenue_columns
        ))
        part = files.csv_part(report=report, rows=rows)
        copy_data = _range_rows_copy_data(report=report, rows=rows)
    else:
        rows = compute_table(stores=stores, as_of=report.as_of, horizon=horizon).in_store_id_order()
        part = files.csv_table_part(table=rows)
        copy_data = _report_rows_copy_data(report=report, table=rows)
    failover.beat(chunk_id=chunk.pk)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A chunk can be computed again: should the server stop before this commit is
            # on disk, the report is found unfinished and run again (reports_recover_stale),
            # so its commit need not wait for the disk.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # Locking the report serialises chunk completions: exactly one sees the last chunk
        # in; the chunk's state is read under that lock, in the transaction that writes its
        # rows, so a chunk computed twice commits once.
        report = Report.objects.select_for_update().get(pk=report.pk)
        chunk = ReportChunk.objects.select_for_update().get(pk=chunk.pk)
        if chunk.finished_at is not None or report.status != Report.Status.RUNNING:
            return
        with connection.cursor() as cursor:
            if report.is_range:
                copy_in(cursor, ReportRangeRow._meta.db_table, ("report_id", *RANGE_ROW_COLUMNS), copy_data)
            else:
                copy_in(cursor, ReportRow._meta.db_table, ("report_id", *ROW_COLUMNS), copy_data)
        now = django_timezone.now()
        chunk.finished_at = now
        chunk.csv_part, chunk.rows_written = part, len(rows)
        chunk.save(update_fields=["finished_at", "csv_part", "rows_written"])
        report.progress_at = now
        if report.chunks.filter(finished_at__isnull=True).exists():
            report.save(update_fields=["progress_at"])
        else:
            _report_complete(report=report)
    worker_thread.sweep_soon()


ROW_COLUMNS = ("store_id", *FIGURE_COLUMNS, *INCIDENT_COLUMNS)


def _report_rows_copy_data(*, report: Report, table: ReportTable) -> bytes:
    """The rows as a binary COPY stream (bulk_create took ~0.5 s for 14,000 rows, COPY
    ~30 ms): any stored store id round-trips (docs/rules.md §7), even one from older data
    that holds a CR or a quote; the figures are encoded as arrays, a column at a time.
    Only an unfinished chunk's rows are written (under the report's lock), once: no
    chunk's stores have rows yet."""
    tail = [*table.figures.T, *table.incidents.astype(np.int32).T]
    data, _ = encode_rows(((report.pk, store_id) for store_id in table.store_ids), ("uuid", "text"), tail=tail)
    return data


#: The columns after RANGE_CSV_HEADER's of a range report's rows, and their PostgreSQL types.
RANGE_ROW_EXTRA = ("whole_days", "lost_revenue_cents", "revenue_at_risk_cents", "revenue_currency")
RANGE_ROW_COLUMNS = (*history.RANGE_CSV_HEADER, *RANGE_ROW_EXTRA)
#: PostgreSQL types of (report_id, *RANGE_ROW_COLUMNS), for the binary COPY.
RANGE_ROW_TYPES = ("uuid", "text", *("float8",) * (len(history.RANGE_CSV_HEADER) - 1), "boolean", "bigint", "bigint", "text")


def _range_rows_copy_data(*, report: Report, rows: list[dict]) -> bytes:
    """A range report's rows, as the weekly report's (lost revenue in whole cents: null
    without an estimate)."""
    columns = history.RANGE_CSV_HEADER
    records = (
        (
            report.pk, row["store_id"], *(float(row[c]) for c in columns[1:]), row["whole_days"],
            files.amount_cents(row.get("lost_revenue")), files.amount_cents(row.get("revenue_at_risk")),
            row.get("revenue_currency"),
        )
        for row in rows
    )
    data, _ = encode_rows(records, RANGE_ROW_TYPES)
    return data


def _report_complete(*, report: Report) -> None:
    """The CSV into the report storage (`files.csv_file_save`); the chunks' parts are
    not needed once it is written."""
    name, count = files.csv_file_save(report=report)
    report.chunks.update(csv_part=None)
    report.csv_file.name = name
    report.csv = ""
    report.store_count = count
    report.status = Report.Status.COMPLETE
    report.finished_at = django_timezone.now()
    report.error = ""
    report.save()


def _report_fail(*, report: Report, message: str) -> Report:
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error=message, finished_at=django_timezone.now()
    )
    report.refresh_from_db()
    return report


def _report_retry_later(*, report_id, chunk_id: int, reason: str) -> None:
    """After a lost database connection: queue the report again on a fresh connection
    (the chunk this run held is free to take at once), or fail it once its attempts are
    used up. If the database is still away this raises too, and the sweeps retry later."""
    connection.close()
    report = Report.objects.get(pk=report_id)
    if report.attempts >= settings.REPORT_MAX_ATTEMPTS:
        _report_fail(report=report, message=f"{reason}; gave up after {counted(report.attempts, 'attempt')}")
    else:
        ReportChunk.objects.filter(pk=chunk_id, finished_at__isnull=True).update(heartbeat_at=None)
        queue.report_enqueue(report=report)


def reports_recover_stale(*, now: datetime | None = None) -> int:
    """Queue again, or fail, reports that show no progress for REPORT_STALE_AFTER seconds
    (a lost task: the backstop behind the chunk sweep). Runs every minute on the worker."""
    now = now or django_timezone.now()
    cutoff = now - timedelta(seconds=settings.REPORT_STALE_AFTER)
    live_chunk = ReportChunk.objects.filter(
        report=OuterRef("pk"), finished_at__isnull=True, heartbeat_at__gte=failover.stale_cutoff(now)
    )
    stale = (
        Report.objects.filter(status__in=[Report.Status.PENDING, Report.Status.RUNNING])
        .filter(Q(progress_at__lt=cutoff) | Q(progress_at__isnull=True, created_at__lt=cutoff))
        .exclude(Exists(live_chunk))  # a chunk still beating: slow, not stale
    )
    count = 0
    for report in stale:
        count += 1
        if report.attempts >= settings.REPORT_MAX_ATTEMPTS:
            _report_fail(report=report, message=f"the report did not finish after {counted(report.attempts, 'attempt')}")
        else:
            Report.objects.filter(pk=report.pk).update(progress_at=now)  # not picked again next minute
            queue.report_enqueue(report=report)
    return count


#: Reports deleted per statement by reports_prune (short transactions, bounded memory).
_PRUNE_BATCH = 20


def reports_prune(*, now: datetime | None = None) -> int:
    """Delete reports created more than REPORT_RETENTION_DAYS ago, with their rows,
    chunks and CSV file; returns how many. Runs daily on the worker (a django-q2
    schedule). A signed download link of a deleted report then answers 410, its id 404."""
    now = now or django_timezone.now()
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    deleted = 0
    while True:
        batch = list(
            Report.objects.filter(created_at__lt=cutoff).values_list("pk", "csv_file")[:_PRUNE_BATCH]
        )
        if not batch:
            return deleted
        pks = [pk for pk, _ in batch]
        with transaction.atomic():
            ReportRow.objects.filter(report_id__in=pks).delete()
            ReportRangeRow.objects.filter(report_id__in=pks).delete()
            ReportChunk.objects.filter(report_id__in=pks).delete()
            deleted += Report.objects.filter(pk__in=pks).delete()[1].get(Report._meta.label, 0)
        # After the commit: at worst (the process dies right here) a file outlives its
        # row, never a row its file.
        files.csv_files_delete(names=[name for _, name in batch if name])

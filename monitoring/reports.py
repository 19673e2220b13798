"""Report services: compute a report with the engine, render its CSV, and run the
background report lifecycle (PENDING → RUNNING → COMPLETE | FAILED)."""

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone as django_timezone

from monitoring.engine import WINDOWS, compute_uptime
from monitoring.models import Report, ReportRow
from monitoring.selectors import latest_poll_timestamp, polls_between, store_schedules, stores_in_scope

logger = logging.getLogger(__name__)

# SPEC §5, exactly (the original assignment's `update_last_week` was a typo).
CSV_HEADER = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)
UNKNOWN_COLUMNS = ("unknown_last_hour", "unknown_last_day", "unknown_last_week")
LONGEST_WINDOW = max(length for _, length in WINDOWS)
MAX_HORIZON_MINUTES = 7 * 24 * 60


class ReportInputError(ValueError):
    """A report request that cannot be computed as asked (safe to show to clients)."""


@dataclass(frozen=True)
class ComputedReport:
    as_of: datetime
    horizon: timedelta
    rows: list[dict]  # SPEC §5 units plus unknown_*, sorted by store_id


def default_horizon() -> timedelta:
    return timedelta(minutes=settings.REPORT_HORIZON_MINUTES)


def validate_report_request(
    *,
    as_of: datetime | None,
    store_ids: Sequence[str] | None,
    horizon_minutes: int | None,
    owner_id: int | None = None,
) -> None:
    if as_of is not None and as_of.tzinfo is None:
        raise ReportInputError("as_of must include a time zone (e.g. 2023-01-25T18:13:22Z)")
    if horizon_minutes is not None and not 1 <= horizon_minutes <= MAX_HORIZON_MINUTES:
        raise ReportInputError(f"horizon_minutes must be between 1 and {MAX_HORIZON_MINUTES}")
    if store_ids is not None:
        if not store_ids:
            raise ReportInputError("store_ids, when given, must name at least one store")
        # Someone else's store is as unknown to an owner as a store that does not exist.
        known = {store_id for _, store_id, _ in stores_in_scope(store_ids=store_ids, owner_id=owner_id)}
        missing = sorted(set(store_ids) - known)
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            raise ReportInputError(f"unknown store_id(s): {shown}")


def report_compute(
    *,
    as_of: datetime | None = None,
    store_ids: Sequence[str] | None = None,
    horizon: timedelta | None = None,
    owner_id: int | None = None,
) -> ComputedReport:
    """The report of SPEC §5, computed now from what is stored (an owner's stores only
    when owner_id is given)."""
    horizon = horizon or default_horizon()
    if as_of is None:
        # SPEC §5: the latest poll stored; with no polls at all, the present.
        as_of = latest_poll_timestamp() or datetime.now(timezone.utc)
    stores = stores_in_scope(store_ids=store_ids, owner_id=owner_id)
    schedules = store_schedules(stores=stores)
    polls = polls_between(stores=stores, start=as_of - LONGEST_WINDOW - horizon, end=as_of)
    result = compute_uptime(schedules=schedules, polls=polls, as_of=as_of, horizon=horizon)
    # Opaque ids: code-point order, independent of the database's collation.
    rows = sorted(result.spec_rows(), key=lambda row: row["store_id"])
    return ComputedReport(as_of=as_of, horizon=horizon, rows=rows)


def _two_decimals(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}"  # + 0.0 turns -0.0 into 0.0


def report_csv(*, rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([row["store_id"], *(_two_decimals(row[column]) for column in CSV_HEADER[1:])])
    return out.getvalue()


def report_create(
    *,
    store_ids: Sequence[str] | None = None,
    as_of: datetime | None = None,
    horizon_minutes: int | None = None,
    owner_id: int | None = None,
) -> Report:
    """A new PENDING report, queued for the worker once this transaction commits. An
    owner's report covers only their stores."""
    validate_report_request(as_of=as_of, store_ids=store_ids, horizon_minutes=horizon_minutes, owner_id=owner_id)
    report = Report.objects.create(
        owner_id=owner_id,
        store_ids=sorted(set(store_ids)) if store_ids is not None else None,
        requested_as_of=as_of,
        horizon_minutes=horizon_minutes or settings.REPORT_HORIZON_MINUTES,
    )
    transaction.on_commit(lambda: report_enqueue(report=report))
    return report


def report_enqueue(*, report: Report) -> None:
    from django_q.tasks import async_task

    async_task("monitoring.tasks.run_report", str(report.id), task_name=f"report-{report.id}")


def report_run(*, report_id) -> Report:
    """Compute a queued report and store it. Safe to run again: a finished report is left
    as it is; one left RUNNING by a dead worker is computed afresh. Rows, CSV and the
    COMPLETE state are written in one transaction, so no one sees a half-written report."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status in (Report.Status.COMPLETE, Report.Status.FAILED):
            return report
        report.status = Report.Status.RUNNING
        report.started_at = django_timezone.now()
        report.save(update_fields=["status", "started_at"])

    try:
        computed = report_compute(
            as_of=report.requested_as_of,
            store_ids=report.store_ids,
            horizon=timedelta(minutes=report.horizon_minutes),
            owner_id=report.owner_id,
        )
    except ReportInputError as error:
        return _report_fail(report=report, message=str(error))
    except Exception:
        logger.exception("report %s failed", report.id)
        return _report_fail(report=report, message="the report could not be computed (the error is logged)")

    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        report.rows.all().delete()
        ReportRow.objects.bulk_create(
            (ReportRow(report=report, **row) for row in computed.rows), batch_size=5000
        )
        report.csv = report_csv(rows=computed.rows)
        report.as_of = computed.as_of
        report.store_count = len(computed.rows)
        report.status = Report.Status.COMPLETE
        report.finished_at = django_timezone.now()
        report.error = ""
        report.save()
    return report


def _report_fail(*, report: Report, message: str) -> Report:
    report.status = Report.Status.FAILED
    report.error = message
    report.finished_at = django_timezone.now()
    report.save(update_fields=["status", "error", "finished_at"])
    return report

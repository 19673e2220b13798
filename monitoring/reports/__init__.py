"""Report services: compute a report with the engine and render its CSV (.compute), run
the background report lifecycle, PENDING → RUNNING → COMPLETE | FAILED (.lifecycle),
with fast failover of its chunks (.failover), and keep finished CSVs in the report
storage (.files). Callers import from here."""

from monitoring.reports.compute import (
    CSV_HEADER,
    LONGEST_WINDOW,
    MAX_HORIZON_MINUTES,
    UNKNOWN_COLUMNS,
    ComputedReport,
    ReportInputError,
    INCIDENT_COLUMNS,
    chunked_tables,
    default_horizon,
    horizon_from_minutes,
    report_compute,
    report_csv,
    report_csv_write,
    store_report_compute,
    validate_report_request,
    window_seconds,
)
from monitoring.reports.failover import chunks_sweep
from monitoring.reports.queue import report_enqueue
from monitoring.reports.lifecycle import (
    ROW_COLUMNS,
    report_chunk_run,
    report_create,
    report_run,
    reports_prune,
    reports_recover_stale,
)

__all__ = [
    "CSV_HEADER",
    "INCIDENT_COLUMNS",
    "LONGEST_WINDOW",
    "MAX_HORIZON_MINUTES",
    "ROW_COLUMNS",
    "UNKNOWN_COLUMNS",
    "ComputedReport",
    "ReportInputError",
    "chunked_tables",
    "chunks_sweep",
    "default_horizon",
    "horizon_from_minutes",
    "report_chunk_run",
    "report_compute",
    "report_create",
    "report_csv",
    "report_csv_write",
    "report_enqueue",
    "report_run",
    "reports_prune",
    "reports_recover_stale",
    "store_report_compute",
    "validate_report_request",
    "window_seconds",
]

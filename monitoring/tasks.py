"""django-q2 task entry points: thin wrappers over the report services."""

from monitoring.reports import report_chunk_run, report_run, reports_recover_stale


def run_report(report_id: str) -> None:
    report_run(report_id=report_id)


def run_report_chunk(chunk_id: int) -> None:
    report_chunk_run(chunk_id=chunk_id)


def recover_stale_reports() -> int:
    return reports_recover_stale()

"""django-q2 task entry points: thin wrappers over the report services."""

from monitoring.reports import report_run


def run_report(report_id: str) -> None:
    report_run(report_id=report_id)

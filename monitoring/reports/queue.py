"""Putting report work on the workers' queue: a whole report (planned into chunks by the
worker) and one chunk. The task entry points are named by dotted path (monitoring.tasks)."""

from django.conf import settings

from monitoring.models import Report

# The report cluster is named: this also runs in the alerts cluster's background threads,
# whose default queue is the alerts one.


def report_enqueue(*, report: Report) -> None:
    from django_q.tasks import async_task

    async_task(
        "monitoring.tasks.run_report", str(report.id), task_name=f"report-{report.id}", cluster=settings.Q_REPORT_CLUSTER
    )


def chunk_enqueue(*, chunk_id: int, report_id) -> None:
    from django_q.tasks import async_task

    async_task(
        "monitoring.tasks.run_report_chunk", chunk_id,
        task_name=f"report-{report_id}-chunk-{chunk_id}", cluster=settings.Q_REPORT_CLUSTER,
    )

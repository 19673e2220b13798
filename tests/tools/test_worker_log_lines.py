"""An idle worker is quiet: django-q's INFO line per scheduled task (enqueued, created
from a schedule, processing, processed) is written only at LOG_LEVEL=DEBUG; the cluster's
start and stop, warnings and failures still are (settings.LOGGING)."""

import logging

import pytest

ROUTINE = [
    "Enqueued [uptime] 42",
    "Process-7a1f created task tango-eleven from schedule [alerts every minute]",
    "Process-7a1f:1 processing tango-eleven 'monitoring.alerts.tasks.every_minute'",
    "Processed 'monitoring.alerts.tasks.every_minute' (tango-eleven)",
]
KEPT = ["Q Cluster uptime starting.", "Process-7a1f:1 ready for work at 1234"]


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def test_routine_task_lines_are_dropped_at_info(lines):
    logger = logging.getLogger("django-q")
    for message in ROUTINE + KEPT:
        logger.info(message)
    logger.error("Failed 'monitoring.alerts.tasks.every_minute' (tango-eleven) - boom")
    assert [record.getMessage() for record in lines.records] == [
        *KEPT, "Failed 'monitoring.alerts.tasks.every_minute' (tango-eleven) - boom"
    ]
    lines.clear()
    lines.set_level(logging.DEBUG)  # LOG_LEVEL=DEBUG: every line
    for message in ROUTINE:
        logger.info(message)
    assert [record.getMessage() for record in lines.records] == ROUTINE


@pytest.mark.django_db
def test_enqueueing_a_task_writes_no_line(lines):
    from django_q.tasks import async_task

    async_task("monitoring.fleet.tasks.refresh_fleet_ranking", "all")
    assert [record for record in lines.records if record.name == "django-q"] == []

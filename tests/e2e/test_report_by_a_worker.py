"""Trigger → worker → COMPLETE → signed download, with a real `qcluster` process and a
real HTTP server (pytest-django's live_server) on the test database."""

import io
import json
import os
import urllib.request

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.factories import add_polls, make_store, worked_example_store
from tests.graphql_client import graphql_over_http
from tests.processes import free_port, running_web_server, running_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_trigger_poll_complete_download(live_server, tmp_path):
    store, noon = worked_example_store()
    late = make_store("late-night", zone="Asia/Kolkata", hours=[(2, "22:00", "02:00")])
    add_polls(late, [(noon, False)])
    make_store("no-polls")

    with running_worker(tmp_path / "qcluster.log") as worker:
        report_id = graphql_over_http(live_server.url, "mutation { triggerReport { id status } }")["triggerReport"]["id"]

        def finished():
            report = graphql_over_http(
                live_server.url, "query($id: ID!) { report(id: $id) { status downloadUrl error } }", {"id": report_id}
            )["report"]
            return report if report["status"] in ("COMPLETE", "FAILED") else None

        report = wait_for(finished, timeout=90, what="the worker to finish the report")
        # The process that ran the report lowered its CPU priority (REPORT_WORKER_NICE).
        assert settings.REPORT_WORKER_NICE > 0
        assert max(_nice(pid) for pid in _process_group(worker.pid)) == os.getpriority(os.PRIO_PROCESS, 0) + settings.REPORT_WORKER_NICE

    assert report["status"] == "COMPLETE", report["error"]
    with urllib.request.urlopen(report["downloadUrl"], timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        downloaded = response.read().decode()

    expected = io.StringIO()
    call_command("generate_report", stdout=expected)
    assert downloaded == expected.getvalue()
    assert downloaded.count("\n") == 4  # header + three stores


def _process_group(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except ProcessLookupError:
                pass
    return pids


def _nice(pid: int) -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except ProcessLookupError:
        return -100


def redis_available() -> bool:
    try:
        import redis

        return redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping()
    except Exception:
        return False


@pytest.mark.skipif(not redis_available(), reason="no Redis at 127.0.0.1:6379")
def test_redis_broker_is_a_setting_away(tmp_path):
    """The same flow with web server and worker both on django-q2's Redis broker, each a
    real process; the REST shapes in their compatible shapes."""
    worked_example_store()
    make_store("no-polls")
    env = {"Q_BROKER": "redis", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    port = free_port()
    with running_web_server(tmp_path / "web.log", port, **env) as base, running_worker(tmp_path / "q.log", **env):
        request = urllib.request.Request(f"{base}/trigger_report/", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            report_id = json.loads(response.read())["report_id"]

        def csv_ready():
            with urllib.request.urlopen(f"{base}/get_report/?report_id={report_id}", timeout=30) as response:
                body = response.read().decode()
                return body if response.headers["Content-Type"].startswith("text/csv") else None

        downloaded = wait_for(csv_ready, timeout=90, what="the report through the Redis broker")
    expected = io.StringIO()
    call_command("generate_report", stdout=expected)
    assert downloaded == expected.getvalue()

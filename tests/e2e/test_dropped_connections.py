"""A database connection the server dropped (restart, failover, pg_terminate_backend)
costs nothing: a web process (gunicorn, connections kept between requests) and a report
worker check a kept connection before reusing it, and an API request that still meets
a database error answers a JSON error with a code, never an HTML 500."""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import psycopg2
import pytest
from django.db import connection
from monitoring.models import Report
from monitoring.reports import report_create, report_run
from monitoring.tools.processes import stop_process_group

from tests import processes
from tests.factories import worked_example_store
from tests.processes import ROOT, free_port, running_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TERMINATE_OTHERS = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def terminate_the_apps_connections() -> int:
    """Every other client connection to the test database: the server's or worker's."""
    with connection.cursor() as cursor:
        cursor.execute(TERMINATE_OTHERS)
        return cursor.fetchone()[0]


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def gunicorn(tmp_path):
    """One sync gunicorn worker on the test database: one connection, kept between requests."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": processes.test_database_url()}
    with open(tmp_path / "gunicorn.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-w", "1", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _listening(port), timeout=60, what="gunicorn to listen")
            yield base
        finally:
            stop_process_group(server)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_web_requests_after_the_connection_is_dropped(gunicorn):
    _, noon = worked_example_store("s1")
    report = report_create(as_of=noon)
    report_run(report_id=report.id)
    graphql = json.dumps({"query": '{ store(id: "s1") { id } }'}).encode()
    json_post = {"Content-Type": "application/json"}
    get_report = f"{gunicorn}/get_report/?report_id={report.id}"
    assert fetch(f"{gunicorn}/graphql/", graphql, json_post)[0] == 200  # the connection is now kept
    assert terminate_the_apps_connections() >= 1
    for _ in range(12):
        status, headers, body = fetch(f"{gunicorn}/graphql/", graphql, json_post)
        assert status == 200 and json.loads(body)["data"] == {"store": {"id": "s1"}}, body[:300]
    assert terminate_the_apps_connections() >= 1
    for _ in range(8):
        status, headers, body = fetch(get_report)
        assert status == 200 and headers["Content-Type"].startswith("text/csv"), body[:300]


def test_a_worker_runs_the_next_report_after_its_connection_is_dropped(tmp_path):
    _, noon = worked_example_store("s1")
    with running_worker(tmp_path / "worker.log", Q_WORKERS="1"):
        def done(report):
            def check():
                report.refresh_from_db()
                return report.status in (Report.Status.COMPLETE, Report.Status.FAILED)
            return check

        first = report_create(as_of=noon)
        wait_for(done(first), timeout=60, what="the first report")
        assert first.status == Report.Status.COMPLETE, first.error
        assert terminate_the_apps_connections() >= 1
        second = report_create(as_of=noon)
        # Far sooner than the stale sweep (REPORT_STALE_AFTER) would queue it again.
        wait_for(done(second), timeout=30, what="the report queued after the drop")
        assert second.status == Report.Status.COMPLETE, second.error


def test_an_api_request_meeting_a_dropped_connection_answers_json(client):
    """The test client reuses this test's connection as is (it never checks it): the
    request meets the dropped connection, and answers the API's JSON error."""
    worked_example_store("s1")
    client.raise_request_exception = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = psycopg2.connect(processes.test_database_url())
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    try:
        for path in ("/get_report/?report_id=00000000-0000-0000-0000-000000000000", "/graphql/?query=%7B__typename%7D"):
            response = client.get(path, HTTP_AUTHORIZATION="Bearer not-a-token")
            assert response.status_code == 503, (path, response.content[:300])
            assert response["Content-Type"] == "application/json"
            body = response.json()
            assert body["errors"][0]["extensions"]["code"] == "INTERNAL" and "database" in body["error"]
            assert b"Traceback" not in response.content
    finally:
        connection.close()

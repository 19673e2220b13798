"""`make run` / `make stop` with real processes: `manage.py serve` (the web server + the two
supervised qcluster clusters, each a child in a process group of its own) on the test database, the port checked
before anything starts, nothing left behind however a run ends, and `stop` (what
`make stop` runs) stopping a serve and the embedded PostgreSQL.

Every process a test starts carries a marker in its environment (children inherit it),
so "nothing left behind" is checked against exactly the processes of that test, never
against what other tests or people run on the same machine."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from datetime import timedelta

import pytest
from django.utils import timezone
from monitoring.tools.processes import port_problem

from tests.graphql_client import graphql_over_http
from tests.live_client import LiveClient, until_listening, ws_url
from tests.processes import ROOT, embedded_data_dir, free_port, http_status, processes_marked, wait_for
from tests.processes import (
    test_database_url as database_url,  # (imported as test_*, pytest would run it)
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARKER = "UPTIME_TEST_RUN"
MANAGE = [sys.executable, str(ROOT / "manage.py")]
RECORD = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { rejected } }"""


def marked_env(marker: str, data_dir: Path, *, database: bool = True) -> dict:
    env = {**os.environ, MARKER: marker, "DATA_DIR": str(data_dir)}
    if database:
        env["DATABASE_URL"] = database_url()
    else:
        env.pop("DATABASE_URL", None)
    return env


def left_behind(marker: str) -> list[str]:
    return [f"{p.pid} {' '.join(p.info['cmdline'] or [])}" for p in processes_marked(MARKER, marker)]


def nothing_left(marker: str, timeout: float = 30) -> None:
    try:
        wait_for(lambda: not left_behind(marker), timeout=timeout, what="every process of the run to exit")
    except AssertionError:
        raise AssertionError(f"left behind: {left_behind(marker)}") from None


@contextmanager
def serving(tmp_path: Path, port: int):
    """`manage.py serve --port PORT` answering HTTP 200; on the way out, whatever of it
    is still running is killed (so a failing test leaks nothing either)."""
    marker = uuid.uuid4().hex
    data_dir = tmp_path / f"data-{marker[:8]}"
    log_path = tmp_path / f"serve-{marker[:8]}.log"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen(
            [*MANAGE, "serve", "--port", str(port)], cwd=ROOT, env=marked_env(marker, data_dir),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/") == 200 or serve.poll() is not None,
                 timeout=60, what="serve to answer HTTP 200")
        assert serve.poll() is None, log_path.read_text()
        yield serve, marker, data_dir, log_path
    finally:
        for process in processes_marked(MARKER, marker):
            process.kill()
        serve.wait(timeout=10)


def run_record(data_dir: Path, serve: subprocess.Popen) -> dict:
    return json.loads((data_dir / "run" / f"{serve.pid}.json").read_text())


def children_of(marker: str) -> str:
    return "\n".join(left_behind(marker))


def test_a_second_serve_fails_fast_and_ctrl_c_stops_the_first_and_its_children(tmp_path):
    port = free_port()
    with serving(tmp_path, port) as (first, first_marker, data_dir, log_path):
        running = children_of(first_marker)
        assert "qcluster" in running and "config.asgi:application" in running, running
        record = run_record(data_dir, first)
        assert record["port"] == port and len(record["workers"]) == 2 and record["web"] not in record["workers"]
        # Both worker clusters run, the alerts one with its own queue name.
        clusters = {p.info["environ"].get("Q_CLUSTER_NAME") for p in processes_marked(MARKER, first_marker)
                    if "qcluster" in (p.info["cmdline"] or [])}
        assert clusters == {"uptime", "alerts"}, clusters

        # A second one on the same port: one line, a non-zero exit, nothing started.
        second_marker = uuid.uuid4().hex
        env = marked_env(second_marker, tmp_path / "data-second")
        started = time.monotonic()
        second = subprocess.run([*MANAGE, "serve", "--port", str(port)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert time.monotonic() - started < 10
        assert second.stderr.strip().count("\n") == 0, second.stderr  # one line
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr
        assert second.stdout == ""  # nothing was started
        assert left_behind(second_marker) == []
        assert not (tmp_path / "data-second" / "run").exists()

        # make run's first step: the same check without Django, before migrate.
        check = subprocess.run([sys.executable, "-m", "monitoring.tools.processes", "check-port", "127.0.0.1", str(port)],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert check.returncode == 1
        assert check.stderr.strip() == second.stderr.strip().removeprefix("CommandError: ")
        assert left_behind(second_marker) == []

        # The first one is untouched; Ctrl-C stops it and all of its processes.
        assert first.poll() is None and http_status(f"http://127.0.0.1:{port}/") == 200
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=45) == 0, log_path.read_text()
        nothing_left(first_marker)
        assert not (data_dir / "run" / f"{first.pid}.json").exists()
        assert port_problem("127.0.0.1", port) is None
        assert "stopped (SIGINT)" in log_path.read_text()


def test_stop_command_stops_a_running_serve(tmp_path):
    port = free_port()
    with serving(tmp_path, port) as (serve, marker, data_dir, log_path):
        stop = subprocess.run([*MANAGE, "stop"], cwd=ROOT, env=marked_env(uuid.uuid4().hex, data_dir),
                              capture_output=True, text=True, timeout=90)
        assert stop.returncode == 0, stop.stderr
        assert f"stopped serve (pid {serve.pid}, http://127.0.0.1:{port}/)" in stop.stdout
        assert serve.wait(timeout=10) == 0, log_path.read_text()  # stop waited for it
        nothing_left(marker, timeout=5)
        assert list((data_dir / "run").iterdir()) == []

        again = subprocess.run([sys.executable, "-m", "monitoring.tools.processes", "stop"], cwd=ROOT,
                               env=marked_env(uuid.uuid4().hex, data_dir), capture_output=True, text=True, timeout=30)
        assert again.returncode == 0 and "nothing to stop" in again.stdout


def test_a_web_server_that_dies_takes_the_worker_down_and_serve_fails(tmp_path):
    port = free_port()
    with serving(tmp_path, port) as (serve, marker, data_dir, log_path):
        web = run_record(data_dir, serve)["web"]
        os.kill(web, signal.SIGKILL)
        assert serve.wait(timeout=45) != 0
        assert "the web server exited" in log_path.read_text()
        nothing_left(marker)
        assert not (data_dir / "run" / f"{serve.pid}.json").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_serve_killed_outright_leaves_nothing_and_stop_clears_its_record(tmp_path):
    port = free_port()
    with serving(tmp_path, port) as (serve, marker, data_dir, _):
        serve.kill()  # SIGKILL: no finally runs; the children get SIGTERM from the kernel
        serve.wait(timeout=10)
        nothing_left(marker)
        assert (data_dir / "run" / f"{serve.pid}.json").exists()
        stop = subprocess.run([sys.executable, "-m", "monitoring.tools.processes", "stop"], cwd=ROOT,
                              env=marked_env(uuid.uuid4().hex, data_dir), capture_output=True, text=True, timeout=30)
        assert stop.returncode == 0 and "had already exited" in stop.stdout, stop
        assert list((data_dir / "run").iterdir()) == []


def test_serve_on_the_embedded_default_tells_live_events_over_websocket(tmp_path):
    """`make run` with DATABASE_URL unset and nothing else running: HTTP and the GraphQL
    WebSocket on one port, events crossing through the embedded PostgreSQL's
    LISTEN/NOTIFY; a live inactive poll is told within a second. Then `make stop`."""
    with embedded_data_dir() as data_dir:
        _serve_on_the_embedded_default(tmp_path, data_dir)


def _serve_on_the_embedded_default(tmp_path, data_dir):
    marker = uuid.uuid4().hex
    env = {k: v for k, v in marked_env(marker, data_dir, database=False).items() if k != "REDIS_URL"}
    port = free_port()
    make_store = "from tests.factories import make_store; make_store('embedded-1')"
    for step in (["migrate", "--noinput"], ["shell", "-c", make_store]):
        done = subprocess.run([*MANAGE, *step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen([*MANAGE, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_status(base + "/") == 200 or serve.poll() is not None, timeout=60, what="serve")
        assert serve.poll() is None, log_path.read_text()

        def record(store_id, moment, status):  # anonymous access: the development default
            polls = [{"storeId": store_id, "timestampUtc": moment.isoformat(), "status": status}]
            assert graphql_over_http(base, RECORD, variables={"polls": polls})["recordPolls"]["rejected"] == 0

        with LiveClient(ws_url(base)) as client:
            assert client.acknowledged()
            client.subscribe("live")
            until_listening(client, "live", record, "embedded-1")
            heard = len(client.events("live"))
            sent = time.time()
            record("embedded-1", timezone.now() - timedelta(seconds=10), "inactive")
            wait_for(lambda: len(client.events("live")) > heard, timeout=5, interval=0.02, what="STORE_DOWN")
            arrived, down = client.events("live")[heard]
            assert down["event"] == "STORE_DOWN" and arrived - sent < 1.0
    finally:
        stop = subprocess.run([sys.executable, "-m", "monitoring.tools.processes", "stop"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        for process in processes_marked(MARKER, marker):
            process.kill()
        serve.wait(timeout=10)
    assert stop.returncode == 0 and "stopped the embedded PostgreSQL" in stop.stdout, stop
    nothing_left(marker)


def test_stop_stops_the_embedded_postgres():
    """With DATABASE_URL unset, `make stop` also stops the embedded server under DATA_DIR
    (here a throwaway one: the project's own .data/ is never touched)."""
    with embedded_data_dir() as data_dir:
        _stop_stops_the_embedded_postgres(data_dir)


def _stop_stops_the_embedded_postgres(data_dir):
    env = marked_env(uuid.uuid4().hex, data_dir, database=False)
    start = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from config.embedded_postgres import "
         "embedded_database_url; print(embedded_database_url(Path(sys.argv[1])))", str(data_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert start.returncode == 0, start.stderr[-3000:]
    pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    try:
        assert _alive(pid)
        stop = subprocess.run([sys.executable, "-m", "monitoring.tools.processes", "stop"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=90)
        assert stop.returncode == 0, stop.stderr
        assert f"stopped the embedded PostgreSQL ({data_dir / 'postgres'})" in stop.stdout
        wait_for(lambda: not _alive(pid), timeout=10, what="the embedded PostgreSQL to exit")
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

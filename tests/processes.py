"""Real processes for end-to-end tests: `qcluster` workers, a web server, a supervisor,
on the test database."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from monitoring.tools.processes import stop_process_group, stop_supervisor, web_server_command

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """A DATABASE_URL naming the database the tests run against (embedded or not)."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "")
    password = quote(settings["PASSWORD"] or "")
    host = settings["HOST"] or settings["OPTIONS"].get("host", "")  # the embedded server: a socket dir
    port = settings["PORT"] or ""
    if host.startswith("/"):  # a Unix socket directory (the embedded server)
        query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgres://{user}:{password}@/{settings['NAME']}{query}"
    return f"postgres://{user}:{password}@{host}:{port or 5432}/{settings['NAME']}"


@contextmanager
def running_worker(log_path: Path, *, alerts: bool = True, **extra_env: str):
    """A report cluster (`qcluster`, yielded) and, unless alerts=False, an alerts cluster
    (`Q_CLUSTER_NAME=alerts qcluster`, logging beside log_path), each in a process group
    of its own, unsupervised: a test kills them as it likes."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), **extra_env}
    env.pop("Q_CLUSTER_NAME", None)
    names = [None, "alerts"] if alerts else [None]
    clusters = []
    try:
        for name in names:
            path = log_path if name is None else log_path.with_name(f"{log_path.stem}-{name}{log_path.suffix}")
            with open(path, "wb") as log:
                clusters.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "manage.py"), "qcluster"],
                    cwd=ROOT,
                    env=env if name is None else {**env, "Q_CLUSTER_NAME": name},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: we can stop it and its children
                ))
        yield clusters[0]
    finally:
        for cluster in clusters:
            if cluster.poll() is None:
                cluster.terminate()  # together: each finishes or hands back its task
        for cluster in clusters:
            stop_process_group(cluster)


@contextmanager
def running_supervisor(log_path: Path, *args: str, **extra_env: str):
    """`manage.py supervise_workers` (both clusters, supervised) on the test database."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), **extra_env}
    env.pop("Q_CLUSTER_NAME", None)
    with open(log_path, "wb") as log:
        supervisor = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "supervise_workers", *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield supervisor
    finally:
        stop_supervisor(supervisor)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_web_server(log_path: Path, port: int, **extra_env: str):
    """The web server of `make run` (uvicorn: HTTP and the GraphQL WebSocket) in its own
    process on the test database."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), **extra_env}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            web_server_command("127.0.0.1", port),
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_for(lambda: _accepts(port), timeout=60, what="the web server to listen")
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process_group(server)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def processes_marked(name: str, value: str) -> list:
    """The live processes whose environment has name=value: everything a test started
    (children inherit the environment), whatever process group or parent they have now,
    and nothing that other tests or people run on the same machine."""
    import psutil

    found = []
    for process in psutil.process_iter(["environ", "status", "cmdline"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and (process.info["environ"] or {}).get(name) == value:
                found.append(process)
        except (psutil.Error, KeyError):
            continue
    return found


def http_status(url: str) -> int | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@contextmanager
def embedded_data_dir():
    """A DATA_DIR for an embedded PostgreSQL of a test's own, outside pytest's temporary
    folders: pgserver, run by root, starts the server as its own user and opens the way
    to the data (o+rx on each parent), and pytest takes that back from
    /tmp/pytest-of-<user> whenever a pytest run starts on the machine, locking the server
    out of its own files. Removed afterwards (stop the server first)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="uptime-embedded-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

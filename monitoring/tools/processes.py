"""Child processes in their own process groups (a `qcluster`, a web server), and what
`make run` / `make stop` need around them: used by `manage.py serve`, `manage.py stop`,
the tests and the benchmarks.

No Django here: `python -m monitoring.tools.processes check-port HOST PORT` (the first step
of `make run`) and `python -m monitoring.tools.processes stop` (`make stop`) run without
loading the settings, which would start the embedded PostgreSQL just to stop it.

What `serve` started is written to `<DATA_DIR>/run/<serve pid>.json` (its pid and the
process groups of its children: the web server and a worker cluster each, rewritten when
a cluster is replaced) and removed when it exits; `stop` signals every
serve found there (serve then stops its children), kills what is left of their groups,
and stops the embedded PostgreSQL under `<DATA_DIR>/postgres` unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stop_process_group(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Signal the main process (a qcluster stops its own children; signalling the whole
    group makes it hang), wait, then SIGKILL whatever of its process group is left."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    kill_group(process.pid)
    process.wait(timeout=10)


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_supervisor(process: subprocess.Popen, *, timeout: float = 45) -> None:
    """Stop a worker supervisor (`manage.py supervise_workers`): SIGTERM to it (it stops
    its clusters in order), then SIGKILL to whatever is left of its group and of the
    process groups of the clusters it ran (each a child of it, in a group of its own)."""
    import psutil

    try:
        groups = [child.pid for child in psutil.Process(process.pid).children()]
    except psutil.Error:
        groups = []
    stop_process_group(process, timeout=timeout)
    for pgid in groups:
        kill_group(pgid)


# --- make run: the port first ------------------------------------------------------


def port_problem(host: str, port: int | str) -> str | None:
    """None when HOST:PORT can be listened on now, otherwise a one-line reason. Bound
    the way the web server binds (SO_REUSEADDR: a port whose last connections linger in
    TIME_WAIT is free, one something listens on is not)."""
    host = host.strip("[]")
    try:
        port = int(port)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        return f"PORT must be a number from 1 to 65535, not {port!r}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        return f"cannot listen on {host}:{port}: unknown host ({error.strerror})"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another `make run`? `make stop` stops it; "
                    f"`make run PORT={port + 1 if port < 65535 else 8000}` uses another port)"
                )
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return None


def server_address(host: str, port: int | str) -> str:
    """host:port as a URL has it: an IPv6 address in brackets."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: Seconds the web server gives open connections (WebSockets included) when it stops.
WEB_SERVER_GRACE_SECONDS = 3


def web_server_command(host: str, port: int | str) -> list[str]:
    """The web server of `make run` and of the tests: uvicorn serving config.asgi (HTTP
    and the GraphQL WebSocket on one port; docs/decisions.md). X-Forwarded-* are left to
    Django (TRUSTED_PROXY), as under any other server; no lifespan events (Django has none)."""
    return [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--host", host.strip("[]"), "--port", str(port),
        "--no-proxy-headers", "--lifespan", "off", "--no-server-header",
        "--timeout-graceful-shutdown", str(WEB_SERVER_GRACE_SECONDS),
    ]


# --- serve's children ----------------------------------------------------------------


def start_child(args: list[str], **popen_kwargs) -> subprocess.Popen:
    """A child in its own session (so its process group is its own to stop, and a
    terminal's Ctrl-C reaches only its parent, which stops it in order) that gets SIGTERM
    when its parent dies, even by SIGKILL (Linux: PR_SET_PDEATHSIG)."""
    preexec = None
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)  # loaded here: nothing is imported in the forked child
        parent = os.getpid()
        PR_SET_PDEATHSIG = 1

        def preexec():
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the line above
                os.kill(os.getpid(), signal.SIGTERM)

    return subprocess.Popen(args, start_new_session=True, preexec_fn=preexec, **popen_kwargs)


def runs_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "run"


def write_run_record(data_dir: Path, **record) -> Path:
    """<DATA_DIR>/run/<this pid>.json, written whole (rename) so `stop` never reads half."""
    import psutil

    folder = runs_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    record = {"serve": pid, "serve_started": psutil.Process(pid).create_time(), **record}
    path = folder / f"{pid}.json"
    partial = folder / f".{pid}.json.partial"
    partial.write_text(json.dumps(record))
    partial.replace(path)
    return path


# --- make stop -----------------------------------------------------------------------


def default_data_dir() -> Path:
    """settings.DATA_DIR, read the same way without loading the settings."""
    return Path(os.environ.get("DATA_DIR", ROOT / ".data"))


def _ours(cmdline: list[str]) -> bool:
    """A command line of this project's: manage.py, or the web server of its ASGI application."""
    return any(part.endswith("manage.py") or part == "config.asgi:application" for part in cmdline)


def group_processes(pgid: int) -> list:
    """The live processes of process group `pgid` that run this project's manage.py or
    its web server."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE or os.getpgid(process.pid) != pgid:
                continue
        except (ProcessLookupError, PermissionError, OSError):
            continue
        if _ours(process.info["cmdline"] or []):
            found.append(process)
    return found


def _recorded_serve(record: dict):
    """The serve process of a run record, if it is still that process (not a reused pid)."""
    import psutil

    try:
        process = psutil.Process(record["serve"])
        same = abs(process.create_time() - record["serve_started"]) < 1 and "serve" in process.cmdline()
    except (psutil.Error, KeyError, TypeError):
        return None
    return process if same and process.status() != psutil.STATUS_ZOMBIE else None


def stop_runs(data_dir: Path, *, timeout: float = 45, say=print) -> int:
    """Stop every `serve` recorded under data_dir: SIGTERM to serve (it stops its web
    server and worker clusters and removes its record), then SIGKILL to whatever is left of their
    process groups (a serve that was SIGKILLed, or does not stop within `timeout`).
    Returns how many runs were found."""
    records = []
    for path in sorted(runs_dir(data_dir).glob("*.json")):
        try:
            records.append((path, json.loads(path.read_text())))
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
    serving = {}
    for path, record in records:
        process = _recorded_serve(record)
        if process is not None:
            process.send_signal(signal.SIGTERM)
            serving[path] = process
    still = _wait_gone(list(serving.values()), timeout=timeout)
    for process in still:
        process.kill()
    for path, record in records:
        groups = [record.get("web"), record.get("worker"), *(record.get("workers") or [])]
        left = [pgid for pgid in groups if isinstance(pgid, int) and group_processes(pgid)]
        for pgid in left:
            kill_group(pgid)
        path.unlink(missing_ok=True)
        what = f"serve (pid {record.get('serve')}, http://{server_address(str(record.get('host')), record.get('port'))}/)"
        if path in serving:
            say(f"stopped {what} and its web server and workers" + (" (killed: it did not stop in time)" if serving[path] in still else ""))
        elif left:
            say(f"killed what was left of {what}: process groups {', '.join(map(str, left))}")
        else:
            say(f"{what} had already exited; removed its record")
    return len(records)


def _wait_gone(processes: list, *, timeout: float) -> list:
    """Wait until each process has exited (a zombie its parent has not reaped yet counts
    as exited: psutil.wait_procs would wait for the reaping); the ones still running."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        running = []
        for process in processes:
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    running.append(process)
            except psutil.NoSuchProcess:
                pass
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def _pg_ctl() -> Path | None:
    spec = importlib.util.find_spec("pgserver")  # found, not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin" / "pg_ctl"


def stop_embedded_postgres(data_dir: Path, *, say=print) -> bool:
    """`pg_ctl stop` (fast: open sessions are ended) for the embedded server under
    <data_dir>/postgres (config/embedded_postgres.py), run as the user owning its files
    (pgserver runs it as its own `pgserver` user when started by root). True if a
    running server was stopped."""
    pgdata = Path(data_dir) / "postgres"
    pid_file = pgdata / "postmaster.pid"
    pg_ctl = _pg_ctl()
    if not pid_file.exists() or pg_ctl is None:
        return False
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (ValueError, OSError) as error:
        if not isinstance(error, PermissionError):
            return False  # a stale pid file: not running
    owner = pgdata.stat().st_uid
    as_owner = {"user": owner} if os.geteuid() == 0 and owner != 0 else {}
    result = subprocess.run(
        [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "-t", "60", "stop"],
        capture_output=True, text=True, cwd="/", **as_owner,
    )
    if result.returncode != 0:
        if "not running" in result.stderr.lower() or "no such process" in result.stderr.lower():
            return False
        raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip() or result.stdout.strip()}")
    say(f"stopped the embedded PostgreSQL ({pgdata})")
    return True


def stop_everything(data_dir: Path, *, embedded: bool, say=print) -> None:
    """What `make stop` does."""
    runs = stop_runs(data_dir, say=say)
    stopped_db = stop_embedded_postgres(data_dir, say=say) if embedded else False
    if not runs and not stopped_db:
        say("nothing to stop: no `make run` is recorded under " + str(runs_dir(data_dir))
            + ("" if embedded else " (DATABASE_URL is set: its server is left alone)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.tools.processes")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-port", help="exit 1 with a one-line reason unless HOST:PORT is free")
    check.add_argument("host")
    check.add_argument("port")
    commands.add_parser("stop", help="stop what `make run` started (and the embedded PostgreSQL)")
    options = parser.parse_args(argv)
    if options.command == "check-port":
        problem = port_problem(options.host, options.port)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    stop_everything(default_data_dir(), embedded=not os.environ.get("DATABASE_URL", "").strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a worker process tells its supervisor (monitoring.worker.supervisor): a small file,
<WORKER_BEAT_DIR>/<pid>.json, rewritten every BEAT_SECONDS by a thread of its own and at
each task's start and end: {"pid", "beat", "busy_since", "last_start", "started"} (Unix
times; how many tasks it started). The cluster's pusher writes <pid>.json too, {"pid",
"taken"}, each time it takes tasks off the queue (monitoring.worker.brokers): more taken than
started is work waiting inside the cluster.

Only a supervised cluster beats (its supervisor sets WORKER_BEAT_DIR for it). The beat
has a thread of its own, not the report failover thread: that one waits on the database,
and a slow database must not look like a frozen worker. A file on the supervisor's own
machine, not a database row: a supervisor watches the cluster it started, and the
beat must keep going while the database is away."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

BEAT_DIR_ENV = "WORKER_BEAT_DIR"
BEAT_SECONDS = 1.0

_lock = threading.Lock()
_state: dict = {"busy_since": None, "last_start": None, "started": 0}
_taken = 0
_thread: threading.Thread | None = None


def beat_dir() -> Path | None:
    folder = os.environ.get(BEAT_DIR_ENV, "").strip()
    return Path(folder) if folder else None


def _write(*, record: dict | None = None) -> None:
    folder = beat_dir()
    if folder is None:
        return
    pid = os.getpid()
    with _lock:
        record = {"pid": pid, "beat": time.time(), **(_state if record is None else record)}
    partial = folder / f".{pid}.partial"
    try:
        partial.write_text(json.dumps(record))
        partial.replace(folder / f"{pid}.json")  # whole: the supervisor never reads half
    except OSError:
        pass  # the folder is gone: the supervisor is replacing this cluster


def _loop() -> None:
    while True:
        _write()
        time.sleep(BEAT_SECONDS)


def beats_start(**_signal_arguments) -> None:
    """Start beating (once per process): a django-q2 post_spawn receiver."""
    global _thread
    if beat_dir() is None or (_thread is not None and _thread.is_alive()):
        return
    _thread = threading.Thread(target=_loop, name="worker-beat", daemon=True)
    _thread.start()


def task_started(**_signal_arguments) -> None:
    """A django-q2 pre_execute receiver."""
    if beat_dir() is None:
        return
    now = time.time()
    with _lock:
        _state.update(busy_since=now, last_start=now, started=_state["started"] + 1)
    _write()


def task_finished(**_signal_arguments) -> None:
    """A django-q2 post_execute_in_worker receiver."""
    if beat_dir() is None:
        return
    with _lock:
        _state.update(busy_since=None)
    _write()


def tasks_taken(*, count: int) -> None:
    """The pusher took `count` tasks off the queue (negative: handed none of them on)."""
    global _taken
    if beat_dir() is None:
        return
    with _lock:
        _taken += count
        record = {"taken": _taken}
    _write(record=record)


def beats_read(*, folder: Path) -> list[dict]:
    """Every worker's and pusher's last record in `folder` (the supervisor's side)."""
    records = []
    for path in folder.glob("*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return records

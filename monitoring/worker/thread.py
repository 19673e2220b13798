"""The background thread of a worker process. It does two cheap things while the main
thread is busy with a task: it beats for that task (the task says how, with `beating`),
and every REPORT_SWEEP_SECONDS it runs the sweeps registered by other packages (report
chunks gone silent, alert retries that are due). Several processes sweeping at once is
harmless: every sweep claims what it queues in the database.

Why a thread and not a django-q2 schedule: schedules are minute-grained and the
cluster's scheduler looks at them every 30 s; a sweep must run at least every 15 s. The
thread starts when django-q2 spawns a worker process (its post_spawn signal), so a
cluster started to replace a dead one sweeps at once. `sweep_soon` wakes it (work just
freed up)."""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

#: Called every REPORT_HEARTBEAT_SECONDS while the main thread runs a task that beats.
_beat: Callable[[], None] | None = None
_sweeps: list[Callable[[], object]] = []
_wake = threading.Event()
_stop = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def register_sweep(sweep: Callable[[], object]) -> None:
    """Runs `sweep()` in every worker's background thread, every REPORT_SWEEP_SECONDS."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)


@contextmanager
def beating(beat: Callable[[], None]):
    """While the block runs, this process's background thread (when it has one) calls
    `beat()` every REPORT_HEARTBEAT_SECONDS."""
    global _beat
    _beat = beat
    try:
        yield
    finally:
        _beat = None


def sweep_soon() -> None:
    _wake.set()


def start(**_signal_arguments) -> None:
    """Start this process's background thread (once): a django-q2 post_spawn receiver."""
    global _thread, _stop
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return
        _stop = threading.Event()
        _thread = threading.Thread(target=_loop, args=(_stop,), name="worker-background", daemon=True)
        _thread.start()


def stop() -> None:
    """Stop the background thread (tests; a worker process just exits)."""
    global _thread
    with _thread_lock:
        if _thread is None:
            return
        _stop.set()
        _wake.set()
        _thread.join(timeout=10)
        _thread = None


def _loop(stop_event: threading.Event) -> None:
    last_sweep = float("-inf")
    while not stop_event.is_set():
        try:
            beat = _beat
            if beat is not None:
                beat()
            if _wake.is_set() or time.monotonic() - last_sweep >= settings.REPORT_SWEEP_SECONDS:
                _wake.clear()
                last_sweep = time.monotonic()
                for sweep in list(_sweeps):
                    sweep()
        except Exception:  # the database away for a while: try again on a fresh connection
            logger.warning("worker background: beat or sweep failed", exc_info=True)
            connection.close()
        _wake.wait(settings.REPORT_HEARTBEAT_SECONDS)
    connection.close()

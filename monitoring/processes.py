"""Stopping a child process started in its own process group (a `qcluster`, a web
server): used by `manage.py serve`, the tests and the benchmarks."""

import os
import signal
import subprocess


def stop_process_group(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Signal the main process (a qcluster stops its own children; signalling the whole
    group makes it hang), wait, then SIGKILL whatever of its process group is left."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)

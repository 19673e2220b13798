"""A supervisor for one django-q2 cluster (`qcluster`, its own process group): started
by `serve` (`make run`) and by `manage.py supervise_workers` (production), it restarts
the cluster when

- the cluster exited (after a pause that grows while it keeps exiting at once);
- a process of it has been stopped (SIGSTOP, a debugger) for SUPERVISOR_STALL_SECONDS;
- a dead process of it has been neither reaped nor replaced for DEAD_PROCESS_SECONDS: its guard loop is stuck
  (django-q2's sentinel blocks on a lock a SIGKILLed worker held, and then reincarnates
  nothing and ignores SIGTERM);
- tasks have waited for that long, in its queue or taken off it by its pusher, while no
  task started and no worker beat on a task of its own (monitoring.worker.beats,
  monitoring.worker.brokers): the workers are wedged (blocked on a queue lock a killed process
  held) or gone.

A restart is SIGTERM to the cluster's main process, SIGKILL to its whole process group
after SUPERVISOR_GRACE_SECONDS, then a new cluster. With the ORM broker the queue entries
the old cluster had taken and not finished are handed out again at once instead of
after Q_RETRY: every task of this app is safe to run twice (reports and alerts claim
their work first)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from monitoring.tools.processes import kill_group, start_child
from monitoring.worker.beats import BEAT_DIR_ENV, beats_read

logger = logging.getLogger(__name__)

#: How often the queue and the beats are looked at (the process states: at every watch).
CHECK_SECONDS = 0.5
#: A cluster that exits within this long of its start is started again after a pause
#: that doubles each time (up to MAX_BACKOFF), not at once.
QUICK_EXIT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 30.0
#: django-q2's guard replaces a dead worker within a cycle (0.5 s): one dead this long,
#: neither reaped nor replaced, means the guard loop is stuck.
DEAD_PROCESS_SECONDS = 3.0
#: A new cluster whose workers have not beaten once yet is starting (Django's start-up on
#: a busy machine), not stalled: judged only after this long.
STARTUP_SECONDS = 30.0


def cluster_names() -> list[str]:
    """The clusters this app runs: reports, then alerts."""
    return [settings.Q_REPORT_CLUSTER, settings.Q_ALERT_CLUSTER]


def cluster_workers(*, name: str) -> int:
    """The worker processes of cluster `name` (its settings are this process's)."""
    alternative = settings.Q_CLUSTER.get("ALT_CLUSTERS", {}).get(name, {})
    return int(alternative.get("workers", settings.Q_CLUSTER["workers"]))


class ClusterSupervisor:
    """Starts and watches one cluster; call watch() often (every ~0.2 s) from the thread
    that started it (its children get SIGTERM when that thread's process dies)."""

    def __init__(self, *, name: str, data_dir: Path, env: dict | None = None, say=None, log=None):
        self.name = name
        self.data_dir = Path(data_dir)
        self.env = env or {}
        self.say = say or (lambda message: logger.warning("%s", message))
        self.log = log  # a file the cluster writes to (default: this process's output)
        self.workers = cluster_workers(name=name)
        self.stall = settings.SUPERVISOR_STALL_SECONDS
        self.grace = settings.SUPERVISOR_GRACE_SECONDS
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._backoff = 0.0
        self._quick_exits = 0
        self._start_at = 0.0
        self._incarnation = 0
        self._reset_observations()

    # --- the cluster's life ------------------------------------------------------------

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def beat_folder(self) -> Path:
        return self.data_dir / "worker-beats" / f"{os.getpid()}-{self.name}-{self._incarnation}"

    def start(self) -> None:
        self._incarnation += 1
        folder = self.beat_folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        env = {**os.environ, **self.env, "Q_CLUSTER_NAME": self.name, BEAT_DIR_ENV: str(folder)}
        output = {"stdout": self.log, "stderr": subprocess.STDOUT} if self.log is not None else {}
        self.process = start_child([sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"], env=env, **output)
        self._started = time.monotonic()
        self._started_wall = time.time()
        self._reset_observations()

    def _reset_observations(self) -> None:
        self._stopped_since: float | None = None
        self._zombies: dict[int, float] = {}
        self._waiting_seen: float | None = None
        self._backlog_seen: float | None = None
        self._first_beat_seen: float | None = None
        self._checked = 0.0

    def signal_stop(self) -> None:
        """SIGTERM to the main process (it stops its own children; signalling the whole
        group makes a healthy cluster hang). A stopped one is woken to receive it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            kill_group(self.process.pid, signal.SIGCONT)

    def finish_stop(self) -> None:
        """SIGKILL to whatever is left of the group; the beat folder goes."""
        if self.process is not None:
            kill_group(self.process.pid)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.beat_folder, ignore_errors=True)

    def _restart(self, *, reason: str, idle: bool = False) -> None:
        """`idle`: no worker is on a task (work waits and none starts), so nothing is cut
        short by killing the cluster at once; a wedged cluster ignores SIGTERM anyway."""
        self.say(f"{self.name} cluster (pid {self.pgid}): {reason}; restarting it")
        if not idle:
            self.signal_stop()
            try:
                self.process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                pass
        self.finish_stop()
        self._release_taken()
        self.restarts += 1
        self.start()

    # --- watching ----------------------------------------------------------------------

    def watch(self) -> str | None:
        """Look at the cluster; restart it if it needs to be. Returns why it was
        restarted (None: it was not)."""
        now = time.monotonic()
        if self.process is None:
            return None
        code = self.process.poll()
        if code is not None:
            if self._start_at == 0.0:  # first noticed: start again now, or after a pause
                quick = now - self._started < QUICK_EXIT_SECONDS
                # The first quick exit starts it again at once; then 1 s, 2 s, 4 s … apart.
                self._backoff = min(MAX_BACKOFF_SECONDS, max(1.0, self._backoff * 2)) if quick and self._quick_exits else 0.0
                self._quick_exits = self._quick_exits + 1 if quick else 0
                self._start_at = now + self._backoff
                self.say(f"{self.name} cluster (pid {self.pgid}) exited with code {code}; "
                         f"starting it again{f' in {self._backoff:.0f} s' if self._backoff else ''}")
            if now >= self._start_at:
                self._start_at = 0.0
                self.finish_stop()
                self._release_taken()
                self.restarts += 1
                self.start()
                return f"exited with code {code}"
            return None
        reason, idle = self._process_problem(now=now), False
        if reason is None and now - self._checked >= CHECK_SECONDS:
            self._checked = now
            reason = self._stall_problem()
            idle = reason is not None
        if reason is not None:
            self._restart(reason=reason, idle=idle)
        return reason

    def _process_problem(self, *, now: float) -> str | None:
        import psutil

        try:
            main = psutil.Process(self.process.pid)
            family = [main, *main.children(recursive=True)]
        except psutil.Error:
            return None  # exiting: poll() sees it next time
        stopped, zombies, live = False, set(), 0
        for process in family:
            try:
                status = process.status()
            except psutil.Error:
                continue
            stopped |= status == psutil.STATUS_STOPPED
            if status == psutil.STATUS_ZOMBIE:
                zombies.add(process.pid)
            else:
                live += 1
        self._stopped_since = (self._stopped_since or now) if stopped else None
        # A worker stopped for its timeout stays unreaped until the next spawn: only a dead
        # process not replaced (fewer live ones than main, sentinel, monitor, pusher and
        # the workers) means the guard loop is stuck.
        short = live < self.workers + 4
        self._zombies = {pid: self._zombies.get(pid, now) for pid in zombies} if short else {}
        if self._stopped_since is not None and now - self._stopped_since >= self.stall:
            return f"a process of it has been stopped for {now - self._stopped_since:.0f} s"
        if self._zombies and now - min(self._zombies.values()) >= DEAD_PROCESS_SECONDS:
            return f"a dead process of it has been neither reaped nor replaced for {now - min(self._zombies.values()):.0f} s"
        return None

    def _stall_problem(self) -> str | None:
        now = time.time()
        beats = beats_read(folder=self.beat_folder)
        if beats:
            self._first_beat_seen = self._first_beat_seen or now
        elif now - self._started_wall < STARTUP_SECONDS:
            return None  # no worker has started yet: starting, not stalled
        if any(b.get("busy_since") and now - b.get("beat", 0) < self.stall for b in beats):
            self._backlog_seen = None
            return None  # a live worker is on a task: slow work, not a stall
        # Tasks the pusher took that no worker started: waiting inside the cluster.
        backlog = sum(b.get("taken", 0) for b in beats) - sum(b.get("started", 0) for b in beats)
        self._backlog_seen = (self._backlog_seen or now) if backlog > 0 else None
        pending = [since for since in (self._waiting_since(), self._backlog_seen) if since is not None]
        if not pending:
            return None
        last_start = max((b.get("last_start") or 0 for b in beats), default=0)
        quiet = now - max(min(pending), last_start, self._started_wall, self._first_beat_seen or 0)
        if quiet < self.stall:
            return None
        return f"tasks have waited for {quiet:.0f} s while none started"

    def _waiting_since(self) -> float | None:
        """Since when (Unix time) the oldest task free to take has waited in this
        cluster's queue; None when none waits or the broker cannot be asked now."""
        try:
            if settings.Q_BROKER == "orm":
                from django.db.models import Min
                from django_q.models import OrmQ

                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL statement_timeout = 5000")
                    oldest = OrmQ.objects.filter(key=self.name, lock__lte=timezone.now()).aggregate(Min("lock"))["lock__min"]
                return oldest.timestamp() if isinstance(oldest, datetime) else None
            from django_q.brokers import get_broker

            if get_broker(self.name).queue_size():  # no ages: since first seen
                self._waiting_seen = self._waiting_seen or time.time()
            else:
                self._waiting_seen = None
            return self._waiting_seen
        except Exception:  # the database or Redis away: nothing to judge by; ask again later
            logger.warning("supervisor: could not read the %s queue", self.name, exc_info=True)
            connection.close()
            return None

    def _release_taken(self) -> None:
        """ORM broker: the entries of this queue taken and not finished (by the cluster
        just killed) are free to take again now."""
        if settings.Q_BROKER != "orm":
            return
        try:
            from django_q.models import OrmQ

            now = timezone.now()
            released = OrmQ.objects.filter(key=self.name, lock__gt=now).update(lock=now)
            if released:
                self.say(f"{self.name} cluster: {released} task(s) it had taken are queued again")
        except Exception:
            logger.warning("supervisor: could not release the %s queue's taken tasks", self.name, exc_info=True)
            connection.close()


def supervisors_stop(supervisors: list[ClusterSupervisor], *, timeout: float) -> None:
    """Stop clusters together: SIGTERM to each, up to `timeout` seconds for all of them to
    finish or hand back their tasks, then SIGKILL to what is left of their groups."""
    for supervisor in supervisors:
        supervisor.signal_stop()
    deadline = time.monotonic() + timeout
    for supervisor in supervisors:
        if supervisor.process is not None:
            try:
                supervisor.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        supervisor.finish_stop()

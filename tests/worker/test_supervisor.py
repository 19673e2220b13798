"""The worker supervisor (monitoring.worker.supervisor, `manage.py supervise_workers`): how it
judges a stall (tasks waiting, none started, no worker on a task), and with real
processes: a cluster stopped outright (SIGSTOP) is replaced and a queued report
completes; workers SIGKILLed again and again (which can leave django-q2's cluster
wedged on a lock a killed process held) and reports still complete."""

import json
import os
import random
import shutil
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from monitoring.worker.brokers import OrmBroker
from monitoring.models import Report
from monitoring.reports import report_create
from monitoring.worker.supervisor import STARTUP_SECONDS, ClusterSupervisor
from tests.factories import worked_example_store
from tests.processes import running_supervisor, wait_for


def _beat(folder: Path, pid: int, *, beat: float, busy_since=None, last_start=None) -> None:
    record = {"pid": pid, "beat": beat, "busy_since": busy_since, "last_start": last_start}
    (folder / f"{pid}.json").write_text(json.dumps(record))


@pytest.mark.django_db
def test_a_stall_is_tasks_waiting_while_none_starts_and_no_worker_is_on_one(tmp_path, settings):
    settings.SUPERVISOR_STALL_SECONDS = 10
    supervisor = ClusterSupervisor(name="uptime", data_dir=tmp_path)
    supervisor._incarnation = 1
    supervisor.beat_folder.mkdir(parents=True)
    now = time.time()
    supervisor._started_wall = now - 100
    supervisor._first_beat_seen = now - 100  # its workers have beaten since
    assert supervisor._stall_problem() is None  # nothing waits

    OrmQ.objects.create(key="alerts", payload="x", lock=timezone.now() - timedelta(seconds=60))
    assert supervisor._stall_problem() is None  # another cluster's queue
    entry = OrmQ.objects.create(key="uptime", payload="x", lock=timezone.now() - timedelta(seconds=60))
    _beat(supervisor.beat_folder, 1, beat=now, last_start=now - 50)
    assert "waited for" in supervisor._stall_problem()

    _beat(supervisor.beat_folder, 2, beat=now, busy_since=now - 50, last_start=now - 50)
    assert supervisor._stall_problem() is None  # a worker beats on a long task: slow, not stalled
    _beat(supervisor.beat_folder, 2, beat=now - 30, busy_since=now - 50, last_start=now - 50)
    assert "waited for" in supervisor._stall_problem()  # ... until its beat goes silent

    _beat(supervisor.beat_folder, 1, beat=now, last_start=now - 2)
    assert supervisor._stall_problem() is None  # a task started lately
    _beat(supervisor.beat_folder, 1, beat=now, last_start=now - 50)
    OrmQ.objects.filter(pk=entry.pk).update(lock=timezone.now() + timedelta(seconds=300))
    assert supervisor._stall_problem() is None  # taken (by a worker): nothing waits
    OrmQ.objects.filter(pk=entry.pk).update(lock=timezone.now() - timedelta(seconds=2))
    assert supervisor._stall_problem() is None  # waiting, but not for long
    supervisor._started_wall = now
    OrmQ.objects.filter(pk=entry.pk).update(lock=timezone.now() - timedelta(seconds=60))
    assert supervisor._stall_problem() is None  # the cluster has just started


@pytest.mark.django_db
def test_tasks_taken_by_the_pusher_and_never_started_are_a_stall(tmp_path, settings, monkeypatch):
    """A wedged cluster's pusher took tasks off the queue (their entries look busy until
    Q_RETRY) and no worker starts them: the pusher's count tells."""
    settings.SUPERVISOR_STALL_SECONDS = 10
    supervisor = ClusterSupervisor(name="uptime", data_dir=tmp_path)
    supervisor._incarnation = 1
    folder = supervisor.beat_folder
    folder.mkdir(parents=True)
    now = time.time()
    supervisor._started_wall = now - 100
    supervisor._first_beat_seen = now - 100  # its workers have beaten since

    # The pusher's broker notes what it takes (monitoring.worker.brokers), in this process here.
    monkeypatch.setenv("WORKER_BEAT_DIR", str(folder))
    monkeypatch.setattr("monitoring.worker.beats._taken", 0)
    broker = OrmBroker(list_key="uptime")
    for _ in range(2):
        broker.enqueue("payload")
    assert len(broker.dequeue()) == 1 and len(broker.dequeue()) == 1
    assert json.loads((folder / f"{os.getpid()}.json").read_text())["taken"] == 2
    assert OrmQ.objects.filter(key="uptime", lock__lte=timezone.now()).count() == 0  # nothing free to take

    _beat(folder, 1, beat=now, last_start=now - 50)
    (folder / "1.json").write_text(json.dumps({"pid": 1, "beat": now, "busy_since": None, "last_start": now - 50, "started": 1}))
    assert supervisor._stall_problem() is None  # just seen
    supervisor._backlog_seen = now - 30
    assert "waited for" in supervisor._stall_problem()
    (folder / "1.json").write_text(json.dumps({"pid": 1, "beat": now, "busy_since": None, "last_start": now - 1, "started": 2}))
    assert supervisor._stall_problem() is None  # both started


def _cluster_pid(supervisor, name: str) -> int:
    import psutil

    def found():
        for child in psutil.Process(supervisor.pid).children():
            try:
                if child.environ().get("Q_CLUSTER_NAME") == name and len(child.children(recursive=True)) >= 3:
                    return child.pid
            except psutil.Error:
                continue
        return None

    return wait_for(found, timeout=60, what=f"the {name} cluster to run")


def _worker_pids(data_dir: Path, name: str) -> list[int]:
    """The live workers of the newest `name` cluster, from their beat files."""
    folders = sorted((data_dir / "worker-beats").glob(f"*-{name}-*"), key=lambda f: int(f.name.rsplit("-", 1)[1]))
    if not folders:
        return []
    pids = [int(path.stem) for path in folders[-1].glob("*.json")]
    return [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


def _env(tmp_path: Path, worker_report_files: Path, **extra) -> dict:
    from django.conf import settings

    return {
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": settings.SECRET_KEY,  # tasks are signed with it (and DATA_DIR holds the default one)
        "REPORT_FILES_DIR": str(worker_report_files),
        "SUPERVISOR_STALL_SECONDS": "5",
        "SUPERVISOR_GRACE_SECONDS": "2",
        "REPORT_CHUNK_STALE_AFTER": "5",
        "REPORT_HEARTBEAT_SECONDS": "1",
        "REPORT_SWEEP_SECONDS": "2",
        **extra,
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_stopped_cluster_is_replaced_and_a_queued_report_completes(tmp_path, worker_report_files):
    _, noon = worked_example_store()
    log = tmp_path / "supervisor.log"
    with running_supervisor(log, **_env(tmp_path, worker_report_files, Q_WORKERS="1")) as supervisor:
        stopped = _cluster_pid(supervisor, "uptime")
        wait_for(lambda: _worker_pids(tmp_path / "data", "uptime"), timeout=60, what="a worker's beat")
        os.killpg(stopped, signal.SIGSTOP)
        report = report_create(as_of=noon)
        started = time.monotonic()

        def finished():
            report.refresh_from_db()
            return report.status in (Report.Status.COMPLETE, Report.Status.FAILED)

        wait_for(finished, timeout=60, what="the report, on a replaced cluster")
        took = time.monotonic() - started
        assert report.status == Report.Status.COMPLETE, report.error
        assert "restarting it" in log.read_text()
        # The stopped cluster is stopped for good, not left behind (woken to take SIGTERM,
        # it may finish the report itself within the grace period).
        wait_for(lambda: not _alive(stopped), timeout=30, what="the stopped cluster to be gone")
    print(f"report COMPLETE {took:.1f} s after its cluster was stopped")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_workers_killed_again_and_again_and_reports_still_complete(tmp_path, worker_report_files):
    noon = None
    for index in range(6):
        _, noon = worked_example_store(f"store-{index}")
    data_dir = tmp_path / "data"
    env = _env(tmp_path, worker_report_files, Q_WORKERS="2", REPORT_CHUNK_SIZE="1", REPORT_MAX_ATTEMPTS="100")
    log = tmp_path / "supervisor.log"
    random.seed(7)
    reports = []
    with running_supervisor(log, **env) as supervisor:
        _cluster_pid(supervisor, "uptime")
        kills, deadline = 0, time.monotonic() + 120
        while kills < 40 and time.monotonic() < deadline:
            if kills % 5 == 0:
                reports.append(report_create(as_of=noon))  # six chunk tasks each, flowing while workers die
            workers = _worker_pids(data_dir, "uptime")
            if workers:
                try:
                    os.kill(random.choice(workers), signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass
            time.sleep(random.uniform(0.1, 0.6))
        assert kills == 40
        reports.append(report_create(as_of=noon))

        def all_finished():
            return not Report.objects.filter(pk__in=[r.pk for r in reports]).exclude(
                status__in=[Report.Status.COMPLETE, Report.Status.FAILED]).exists()

        wait_for(all_finished, timeout=120, what="every report to finish")
    statuses = dict(Report.objects.filter(pk__in=[r.pk for r in reports]).values_list("pk", "status"))
    assert set(statuses.values()) == {Report.Status.COMPLETE}, statuses
    restarts = log.read_text().count("restarting it")
    print(f"{kills} workers killed, {len(reports)} reports COMPLETE, cluster replaced {restarts} times")


@pytest.mark.django_db
def test_a_cluster_whose_workers_have_not_started_is_starting_not_stalled(tmp_path, settings):
    """Django's start-up on a busy machine can outlast the stall limit: waiting tasks count
    against a new cluster only from its workers' first beat (or after STARTUP_SECONDS)."""
    settings.SUPERVISOR_STALL_SECONDS = 5
    supervisor = ClusterSupervisor(name="uptime", data_dir=tmp_path)
    supervisor._incarnation = 1
    supervisor.beat_folder.mkdir(parents=True)
    now = time.time()
    supervisor._started_wall = now - 20
    OrmQ.objects.create(key="uptime", payload="x", lock=timezone.now() - timedelta(seconds=60))
    assert supervisor._stall_problem() is None  # no worker has beaten yet: starting
    _beat(supervisor.beat_folder, 1, beat=now)
    assert supervisor._stall_problem() is None  # first beat just now: its workers get their turn
    supervisor._first_beat_seen = now - 6
    assert "waited for" in supervisor._stall_problem()
    supervisor._first_beat_seen = None
    shutil.rmtree(supervisor.beat_folder)
    supervisor.beat_folder.mkdir()
    supervisor._started_wall = now - STARTUP_SECONDS - 1
    assert "waited for" in supervisor._stall_problem()  # never started at all

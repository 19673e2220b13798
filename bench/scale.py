"""Benchmark: reports across workers, chunk sizes, and bigger data sets.

    .venv/bin/python bench/scale.py [--stores 14000] [--big 56000] [--skip-big]
                                    [--skip-workers] [--huge 250000] [--skip-huge]

1. On --stores × 1 week: trigger-to-COMPLETE of a full report through real `qcluster`
   workers, with 1 and 2 worker processes and several REPORT_CHUNK_SIZE values (the
   report is identical whatever the split; see tests/reports/test_reports.py).
2. Memory bounded by the chunk: on --stores and --big (4×) × 1 week, peak
   RSS of one process running a whole report as a worker does (every chunk in turn,
   rows stored, CSV written to the report storage) and of `report_csv_write` (the CSV
   streamed chunk by chunk, no rows stored), at the REPORT_CHUNK_SIZE in force; the
   ratio big/small (goal ≤ 1.3×); and the whole `generate_report` command (it writes chunk by chunk too).
3. --huge × 1 week (250,000 stores ≈ 40 M polls): wall time, polls/s and peak RSS of
   the worker path, and a line of projection to 1 M stores.
The machine has 2 cores shared by PostgreSQL, the workers and this script.
"""

import argparse
import os
import urllib.error
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, fresh_database, generated, load_and_settle, machine, start_workers, stop_workers
from monitoring.tools.processes import stop_process_group  # after harness: it puts the project on sys.path


def poll_count(url: str) -> int:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_statuspoll")
        return cursor.fetchone()[0]


def report_through_workers(url: str, *, workers: int, chunk_size: int) -> float:
    """Seconds from trigger to COMPLETE with `workers` worker processes."""
    import psycopg2

    env = {**os.environ, "DATABASE_URL": url, "Q_WORKERS": str(workers), "REPORT_CHUNK_SIZE": str(chunk_size)}
    cluster = start_workers(env, Path(os.devnull))
    try:
        time.sleep(4)  # let the cluster start its processes
        trigger = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from django.db import transaction\n"
             "from monitoring.reports import report_create\n"
             "with transaction.atomic():\n"
             "    r = report_create()\n"
             "print(r.id)"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )
        report_id = trigger.stdout.strip().splitlines()[-1]
        with psycopg2.connect(url) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                while True:
                    cursor.execute(
                        "SELECT status, EXTRACT(EPOCH FROM finished_at - created_at) FROM monitoring_report WHERE id = %s",
                        [report_id],
                    )
                    status, seconds = cursor.fetchone()
                    if status in ("COMPLETE", "FAILED"):
                        break
                    time.sleep(0.05)
        if status != "COMPLETE":
            raise SystemExit(f"report {report_id} failed")
        return float(seconds)
    finally:
        stop_workers(cluster)


#: One process runs a whole report as a worker would: every chunk in turn (none queued).
WORKER_PATH = """
import time
from monitoring.models import Report
from monitoring.reports import queue, report_chunk_run, report_run
queue.chunk_enqueue = lambda *, chunk_id, report_id: None
start = time.perf_counter()
report = Report.objects.create()
report_run(report_id=report.id)
for chunk_id in report.chunks.filter(finished_at__isnull=True).values_list("pk", flat=True):
    report_chunk_run(chunk_id=chunk_id)
report.refresh_from_db()
assert report.status == "COMPLETE", report.error
print(f"{time.perf_counter() - start:.2f}", report.chunks.count(), report.store_count)
"""

#: The CSV streamed chunk by chunk to a file, nothing stored (what generate_report does).
STREAMED = """
import os
from monitoring.reports import report_csv_write
with open(os.devnull, "w") as out:
    report_csv_write(out=out)
"""


def _high_water_mib(pid: int) -> float | None:
    """The process's peak RSS so far (VmHWM), None once it has exited. Not ru_maxrss: a
    child forked from this (large) process inherits its high-water mark."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def measured(args: list[str], url: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, standard output) of `manage.py ARGS` in a child
    process, its high-water mark sampled every 10 ms until it exits."""
    env = {**os.environ, "DATABASE_URL": url, "REPORT_FILES_DIR": str(ROOT / "bench" / "out" / "reports")}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, stdout=out)
        peak = 0.0
        while child.poll() is None:
            sample = _high_water_mib(child.pid)
            peak = max(peak, sample or 0.0)
            time.sleep(0.01)
        wall = time.perf_counter() - start
        out.seek(0)
        output = out.read().decode()
    if child.returncode:
        raise SystemExit(f"manage.py {args[0]} failed: {output[-2000:]}")
    return wall, peak, output.strip()


def in_process(code: str, url: str) -> tuple[float, float, str]:
    return measured(["shell", "--no-imports", "-c", code], url)


def memory_section(sizes: list[tuple[int, str, int]]) -> None:
    chunk = os.environ.get("REPORT_CHUNK_SIZE", "the default")
    print(f"memory bounded by the chunk (REPORT_CHUNK_SIZE {chunk}; best wall / highest peak of 2 runs):")
    peaks: dict[str, list[float]] = {"worker": [], "streamed": [], "generate_report": []}
    for stores, db_url, count in sizes:
        worker = [in_process(WORKER_PATH, db_url) for _ in range(2)]
        streamed = [in_process(STREAMED, db_url) for _ in range(2)]
        whole = [measured(["generate_report", "--output", os.devnull], db_url) for _ in range(2)]
        chunks = worker[0][2].split()[-2]
        for name, runs in (("worker", worker), ("streamed", streamed), ("generate_report", whole)):
            peaks[name].append(max(run[1] for run in runs))
        print(
            f"  {stores:>7,} stores, {count:>10,} polls: worker path ({chunks} chunks) "
            f"{min(run[0] for run in worker):6.2f} s, peak {peaks['worker'][-1]:5.0f} MiB; "
            f"streamed CSV {min(run[0] for run in streamed):6.2f} s, peak {peaks['streamed'][-1]:5.0f} MiB; "
            f"generate_report {min(run[0] for run in whole):6.2f} s, peak {peaks['generate_report'][-1]:5.0f} MiB"
        )
    for stores, db_url, _count in sizes:
        size, before, after = download_peak(db_url)
        print(
            f"  download of the {stores:,}-store CSV ({size / 1e6:.1f} MB) through the signed link: "
            f"web process peak RSS {before:.0f} MiB before, {after:.0f} MiB after"
        )
    if len(sizes) > 1:
        ratio = sizes[-1][0] / sizes[0][0]
        print(
            f"  peak RSS at {ratio:.0f}x the stores: worker path {peaks['worker'][-1] / peaks['worker'][0]:.2f}x, "
            f"streamed CSV {peaks['streamed'][-1] / peaks['streamed'][0]:.2f}x, "
            f"generate_report {peaks['generate_report'][-1] / peaks['generate_report'][0]:.2f}x (goal <= 1.3x)"
        )


LATEST_LINK = """
from monitoring.web.links import report_download_path
from monitoring.models import Report
report = Report.objects.filter(status="COMPLETE").order_by("-finished_at").first()
print(report_download_path(report_id=report.pk))
"""


def download_peak(url: str) -> tuple[int, float, float]:
    """(bytes, web process peak RSS MiB before, after) of downloading the latest report's
    CSV through its signed link from a `runserver --noreload` (one process)."""
    import socket
    import urllib.request

    link = in_process(LATEST_LINK, url)[2].splitlines()[-1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "REPORT_FILES_DIR": str(ROOT / "bench" / "out" / "reports")}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/get_report/?report_id=warm-up", timeout=5)
            except urllib.error.HTTPError:
                break  # 400: up, and the views imported
            except OSError:
                time.sleep(0.1)
        before = _high_water_mib(server.pid)
        size = 0
        with urllib.request.urlopen(base + link, timeout=120) as response:
            while block := response.read(1 << 16):
                size += len(block)
        return size, before, _high_water_mib(server.pid)
    finally:
        stop_process_group(server)


def huge_section(stores: int) -> None:
    import psycopg2

    started = time.perf_counter()
    url = fresh_database("bench_scale_huge")
    data = generated(stores)
    load_and_settle(data, url)
    count = poll_count(url)
    took = time.perf_counter() - started
    print(f"{stores:,} stores x 7 days: {count:,} polls (generated and loaded in {took:.0f} s)")
    wall, peak, output = in_process(WORKER_PATH, url)
    seconds, chunks, written = output.split()[-3:]
    print(
        f"  worker path: {float(seconds):.1f} s for the report ({chunks} chunks, {int(written):,} rows), "
        f"{count / float(seconds) / 1e6:.2f} M polls/s, peak RSS {peak:.0f} MiB"
    )
    # Each chunk visits every page of the week's polls (they are stored in time order), so
    # at 4x the stores a chunk's read costs ~4x and there are 4x the chunks: ~16x the
    # time, at the same peak memory.
    per_chunk = float(seconds) / int(chunks)
    scale = 1_000_000 / stores
    projected = int(chunks) * scale * per_chunk * scale
    print(
        f"  projection to 1,000,000 stores (~{count * scale / 1e6:.0f} M polls a week): "
        f"{int(chunks) * scale:.0f} chunks of ~{per_chunk * scale:.0f} s each, ~{projected / 60:.0f} min on one "
        f"worker process, ~{projected / 60 / 8:.0f} min on 8 in parallel; peak RSS per worker ~{peak:.0f} MiB "
        f"(REPORT_CHUNK_SIZE, not the fleet)"
    )
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('monitoring_statuspoll'))")
        print(f"  poll table with its indexes: {cursor.fetchone()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--big", type=int, default=56_000)
    parser.add_argument("--huge", type=int, default=250_000)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-huge", action="store_true")
    parser.add_argument("--skip-workers", action="store_true", help="no qcluster trigger-to-COMPLETE runs")
    args = parser.parse_args()
    print(f"bench/scale.py on {machine()}; load average {os.getloadavg()[0]:.2f}")

    url = fresh_database("bench_scale")
    load_and_settle(generated(args.stores), url)
    polls = poll_count(url)
    if not args.skip_workers:
        print(f"{args.stores:,} stores, {polls:,} polls: trigger → COMPLETE through qcluster")
        for workers in (1, 2):
            for chunk_size in (args.stores, args.stores // 2, args.stores // 4):
                seconds = report_through_workers(url, workers=workers, chunk_size=chunk_size)
                chunks = -(-args.stores // chunk_size)
                print(f"  {workers} worker(s), chunk size {chunk_size:>6,} ({chunks} chunk(s)): {seconds:.2f} s")

    sizes = [(args.stores, url, polls)]
    if not args.skip_big:
        big_url = fresh_database("bench_scale_big")
        load_and_settle(generated(args.big), big_url)
        sizes.append((args.big, big_url, poll_count(big_url)))
    memory_section(sizes)
    if not args.skip_huge:
        huge_section(args.huge)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

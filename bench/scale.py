"""Benchmark: reports across workers, chunk sizes, and a bigger data set.

    .venv/bin/python bench/scale.py [--stores 14000] [--big 56000] [--skip-big]

1. On --stores × 1 week: trigger-to-COMPLETE of a full report through real `qcluster`
   workers, with 1 and 2 worker processes and several REPORT_CHUNK_SIZE values (the
   report is identical whatever the split; see tests/test_reports.py).
2. On --big × 1 week (≥ 8 M polls): `generate_report` wall time and peak memory next to
   the --stores figures, and the cost per million polls (linear growth shows as a
   constant cost per poll).
The machine has 2 cores shared by PostgreSQL, the workers and this script.
"""

import argparse
import os
import subprocess
import sys
import time

from harness import ROOT, fresh_database, generated, load_and_settle, machine, timed_child
from monitoring.processes import stop_process_group  # after harness: it puts the project on sys.path


def poll_count(url: str) -> int:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_statuspoll")
        return cursor.fetchone()[0]


def report_through_workers(url: str, *, workers: int, chunk_size: int) -> float:
    """Seconds from trigger to COMPLETE with `workers` worker processes."""
    import psycopg2

    env = {**os.environ, "DATABASE_URL": url, "Q_WORKERS": str(workers), "REPORT_CHUNK_SIZE": str(chunk_size)}
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
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
        stop_process_group(cluster)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--big", type=int, default=56_000)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    print(f"bench/scale.py on {machine()}")

    url = fresh_database("bench_scale")
    load_and_settle(generated(args.stores), url)
    polls = poll_count(url)
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
    print("generate_report (one process, best of 3):")
    for stores, db_url, count in sizes:
        runs = [timed_child(["generate_report", "--output", os.devnull], db_url) for _ in range(3)]
        wall = min(run[0] for run in runs)
        peak = max(run[1] for run in runs)
        print(f"  {stores:>7,} stores, {count:>10,} polls: {wall:6.2f} s wall, peak RSS {peak:5.0f} MiB, "
              f"{wall / count * 1e6:.2f} s per million polls")


if __name__ == "__main__":
    main()

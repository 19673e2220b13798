"""Benchmark: the full report (`generate_report`) on generated data in PostgreSQL.

    .venv/bin/python bench/report.py [--scales 14000 56000]

For each scale (stores × 1 week of roughly hourly polls): loads the data into a
database of its own, then prints
- the wall time and peak memory of `manage.py generate_report` in a child process
  (best of 3; includes Python and Django start-up),
- in-process: the time to read the polls (selector) and to compute (engine),
- the floor: a bare `COPY (SELECT … polls of the same range) TO STDOUT`, and the ratio,
- one store's report (best of 5).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta

from harness import ROOT, fresh_database, generated, load_and_settle, machine, timed_child


def measure_in_process() -> dict:
    """Run inside a child whose DATABASE_URL is the bench database."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from monitoring.engine import compute_uptime
    from monitoring.models import StatusPoll, Store
    from monitoring.reports import LONGEST_WINDOW, default_horizon, report_compute
    from monitoring.selectors import latest_poll_timestamp, polls_between, store_schedules, stores_in_scope

    as_of = latest_poll_timestamp()
    start = as_of - LONGEST_WINDOW - default_horizon()
    figures: dict = {"stores": Store.objects.count(), "polls_stored": StatusPoll.objects.count()}

    class Sink:
        def write(self, data):
            return len(data)

    best = lambda runs: min(runs)  # noqa: E731
    copy_runs, select_runs, schedule_runs, engine_runs = [], [], [], []
    for _ in range(3):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            sql = cursor.mogrify(
                "COPY (SELECT store_id, timestamp_utc, is_active FROM monitoring_statuspoll"
                " WHERE timestamp_utc >= %s AND timestamp_utc <= %s) TO STDOUT",
                [start, as_of],
            ).decode()
            cursor.copy_expert(sql, Sink())
        copy_runs.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        stores = stores_in_scope(store_ids=None)
        schedules = store_schedules(stores=stores)
        schedule_runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        polls = polls_between(stores=stores, start=start, end=as_of)
        select_runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        compute_uptime(schedules=schedules, polls=polls, as_of=as_of, horizon=default_horizon())
        engine_runs.append(time.perf_counter() - t0)

    one_store = stores[len(stores) // 2][1]
    single_runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        report_compute(store_ids=[one_store])
        single_runs.append(time.perf_counter() - t0)

    figures.update(
        polls_read=int(len(polls.timestamp_us)),
        bare_copy_s=best(copy_runs),
        read_hours_s=best(schedule_runs),
        read_polls_s=best(select_runs),
        engine_s=best(engine_runs),
        one_store_ms=best(single_runs) * 1000,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=int, nargs="+", default=[14_000, 56_000])
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(measure_in_process()))
        return

    print(f"bench/report.py on {machine()}")
    for stores in args.scales:
        data = generated(stores)
        url = fresh_database(f"bench_report_{stores}")
        load_and_settle(data, url)
        walls, peak = [], 0.0
        for _ in range(3):
            wall, peak = timed_child(["generate_report", "--output", os.devnull], url)
            walls.append(wall)
        child = subprocess.run(
            [sys.executable, __file__, "--in-process"],
            env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True, text=True,
        )
        f = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"{f['stores']:>7,} stores, {f['polls_read']:>10,} polls read ({f['polls_stored']:,} stored): "
            f"generate_report {min(walls):.2f} s wall (best of 3), peak RSS {peak:.0f} MiB | "
            f"in-process: hours {f['read_hours_s']:.2f} s, polls {f['read_polls_s']:.2f} s, "
            f"engine {f['engine_s']:.2f} s | bare COPY {f['bare_copy_s']:.2f} s, "
            f"ratio {min(walls) / f['bare_copy_s']:.1f}x (in-process {(f['read_hours_s'] + f['read_polls_s'] + f['engine_s']) / f['bare_copy_s']:.1f}x) | "
            f"one store {f['one_store_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()

"""Benchmark: the full report (`generate_report`) on generated data in PostgreSQL.

    .venv/bin/python bench/report.py [--scales 14000 56000] [--special-share 0.1 --special-dates 5]

For each scale (stores × 1 week of roughly hourly polls): loads the data into a
database of its own, then prints
- the wall time and peak memory of `manage.py generate_report` in a child process
  (best of 3; includes Python and Django start-up),
- in-process: the time to read the polls (selector) and to compute (engine),
- the floor: a bare `COPY (SELECT … polls of the same range) TO STDOUT`, and the ratio,
- one store's report (best of 5).

With --special-share S (and --special-dates N, default 5), the same scale is then measured
again after loading a special-hours file (docs/rules.md §9) that gives a share S of the stores N
special dates each in the report's week (closed days, short days, overnight shifts).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from harness import OUT, ROOT, fresh_database, generated, load_and_settle, machine, manage, settle, timed_child

#: The special days the bench gives: (start, end) local times; None = closed all day.
SPECIAL_KINDS = (None, ("10:00", "14:00"), ("20:00", "02:00"))


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
    from monitoring.stores.selectors import latest_poll_timestamp, polls_between, store_schedules, stores_in_scope

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
        schedules = store_schedules(stores=stores, start=start, end=as_of)
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
        stores_with_special=sum(1 for schedule in schedules if schedule.special_shifts),
        polls_read=int(len(polls.timestamp_us)),
        bare_copy_s=best(copy_runs),
        read_hours_s=best(schedule_runs),
        read_polls_s=best(select_runs),
        engine_s=best(engine_runs),
        one_store_ms=best(single_runs) * 1000,
    )
    return figures


def special_hours_file(url: str, *, share: float, dates: int, seed: int = 1) -> Path:
    """A special-hours file for a share of the stores of the bench database: `dates`
    distinct local dates each among the 8 dates of the report's week, each date closed,
    short or overnight (docs/rules.md §9)."""
    import numpy as np
    import psycopg2

    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT store_id FROM monitoring_store ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT max(timestamp_utc) FROM monitoring_statuspoll")
        as_of = cursor.fetchone()[0]
    connection.close()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(ids), size=round(share * len(ids)), replace=False)
    week = [(as_of - timedelta(days=k)).date() for k in range(8)]
    folder = OUT / f"special-{len(ids)}-{share}-{dates}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "special_hours.csv"
    lines = ["store_id,date,start_time_local,end_time_local"]
    for index in sorted(chosen):
        for day in sorted(rng.choice(len(week), size=min(dates, len(week)), replace=False)):
            kind = SPECIAL_KINDS[rng.integers(len(SPECIAL_KINDS))]
            start, end = kind or ("", "")
            lines.append(f"{ids[index]},{week[day].isoformat()},{start},{end}")
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(url: str, label: str) -> None:
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
        f"{label}{f['stores']:>7,} stores, {f['polls_read']:>10,} polls read ({f['polls_stored']:,} stored): "
        f"generate_report {min(walls):.2f} s wall (best of 3), peak RSS {peak:.0f} MiB | "
        f"in-process: hours {f['read_hours_s']:.2f} s, polls {f['read_polls_s']:.2f} s, "
        f"engine {f['engine_s']:.2f} s | bare COPY {f['bare_copy_s']:.2f} s, "
        f"ratio {min(walls) / f['bare_copy_s']:.1f}x (in-process {(f['read_hours_s'] + f['read_polls_s'] + f['engine_s']) / f['bare_copy_s']:.1f}x) | "
        f"one store {f['one_store_ms']:.1f} ms"
        + (f" | {f['stores_with_special']:,} stores with special hours" if f["stores_with_special"] else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=int, nargs="+", default=[14_000, 56_000])
    parser.add_argument("--special-share", type=float, default=0.0, help="share of stores given special dates")
    parser.add_argument("--special-dates", type=int, default=5, help="special dates per such store")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(measure_in_process()))
        return

    print(f"bench/report.py on {machine()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for stores in args.scales:
        data = generated(stores)
        url = fresh_database(f"bench_report_{stores}")
        load_and_settle(data, url)
        measure(url, "")
        if args.special_share > 0:
            path = special_hours_file(url, share=args.special_share, dates=args.special_dates)
            manage(["load_data", str(path.parent)], url, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            settle(url)
            measure(url, f"special hours ({args.special_share:.0%} of stores x {args.special_dates} dates): ")


if __name__ == "__main__":
    main()

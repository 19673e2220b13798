"""Benchmark: `load_data` of a ~2 M-poll status file into an empty database.

    .venv/bin/python bench/load.py [--stores 14000] [--days 7] [--seed 1] [--runs 1]

Generates the files once (monitoring.generation, cached under bench/out/), then in a
database of its own (`bench_load`, created on the server of DATABASE_URL, or on the
embedded one when unset; migrated; dropped at the end):

1. the floor: a bare `COPY` of the same file into an unindexed table of three text
   columns (a regular table, and an UNLOGGED one for reference);
2. `manage.py load_data --status FILE` into the empty tables (a real process, so
   Django's start-up is included; the loader's own time is printed too);
3. the same command again (idempotent reload: nothing written);
4. a day of new polls (the file's last day, one day later) into the loaded table;
5. with --stress: the file with every status flipped (every poll replaced);
6. with --shuffled: the file's lines shuffled (no time order, like the public
   release), into a fresh database, after its own floor.

Prints rows/s and the ratio to the floor. Other processes may share the machine:
run it a few times (`--runs`) and read the best figures.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

from harness import ROOT, database_url, fresh_database, generated

BENCH_DB = "bench_load"


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1


def bare_copy(url: str, path: Path, *, unlogged: bool) -> float:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
            kind = "UNLOGGED " if unlogged else ""
            cursor.execute(f"CREATE {kind}TABLE bench_bare_copy (a text, b text, c text)")
            connection.commit()
            started = time.perf_counter()
            with path.open("rb") as handle:
                cursor.copy_expert("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)", handle, size=1 << 20)
            connection.commit()
            elapsed = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_bare_copy")
            connection.commit()
        return elapsed
    finally:
        connection.close()


def timed_manage(url: str, *args: str) -> tuple[float, str]:
    """Wall seconds and output of one `manage.py` run (Django's start-up included)."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout.strip()


def next_day(path: Path) -> Path:
    """The polls of the file's last day, one day later: a day of new polls."""
    target = path.with_name("store_status_next_day.csv")
    if target.exists():
        return target
    from datetime import date, timedelta

    with path.open() as handle:
        header = handle.readline()
        lines = handle.readlines()
    columns = [c.strip() for c in header.split(",")]
    ts = columns.index("timestamp_utc")
    last = max(line.split(",")[ts][:10] for line in lines)
    with target.open("w") as out:
        out.write(header)
        for line in lines:
            fields = line.split(",")
            if fields[ts][:10] == last:
                shifted = date.fromisoformat(fields[ts][:10]) + timedelta(days=1)
                fields[ts] = shifted.isoformat() + fields[ts][10:]
                out.write(",".join(fields))
    return target


def flipped(path: Path) -> Path:
    target = path.with_name("store_status_flipped.csv")
    if not target.exists():
        data = path.read_bytes()
        data = data.replace(b",inactive", b",\x00").replace(b",active", b",inactive").replace(b",\x00", b",active")
        target.write_bytes(data)
    return target


def shuffled(path: Path) -> Path:
    target = path.with_name("store_status_shuffled.csv")
    if not target.exists():
        header, *lines = path.read_bytes().splitlines(keepends=True)
        random.Random(1).shuffle(lines)
        target.write_bytes(header + b"".join(lines))
    return target


def load_once(bench_url: str, path: Path) -> tuple[float, float, str]:
    """(wall seconds, the loader's own seconds, its output) of one load_data run."""
    wall, output = timed_manage(bench_url, "load_data", "--status", str(path), "--no-rejects-file", "-v", "2")
    return wall, float(re.search(r" in ([0-9.]+) s", output).group(1)), output


def print_load(label: str, wall: float, inner: float, output: str, count: int, floor: float | None) -> None:
    print(
        f"  load_data {label:<22} {wall:6.1f} s  {count / wall:>10,.0f} rows/s"
        f"  (loader itself {inner:.1f} s{f', {inner / floor:.1f}x floor' if floor else ''})"
    )
    print("\n".join(f"      {line.strip()}" for line in output.splitlines()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=14000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole measurement")
    parser.add_argument("--keep", action="store_true", help="keep the bench_load database")
    parser.add_argument("--stress", action="store_true", help="also load the file with every status flipped")
    parser.add_argument("--shuffled", action="store_true", help="also load the file shuffled, into an empty database")
    options = parser.parse_args()

    status = generated(options.stores, options.days, options.seed) / "store_status.csv"
    rows = count_rows(status)
    size = status.stat().st_size / 1e6
    print(f"file: {status.relative_to(ROOT)}: {rows:,} polls, {size:.0f} MB; cores: {os.cpu_count()},"
          f" load average: {os.getloadavg()[0]:.2f}")

    for run in range(1, options.runs + 1):
        bench_url = fresh_database(BENCH_DB)
        conn = psycopg2.connect(bench_url)
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version')")
            version = cursor.fetchone()[0]
        conn.close()

        floor = bare_copy(bench_url, status, unlogged=False)
        floor_unlogged = bare_copy(bench_url, status, unlogged=True)
        figures = []
        scenarios = [("load (empty db)", status), ("reload (same file)", status), ("next day (new polls)", next_day(status))]
        if options.stress:
            scenarios.append(("replace (all flipped)", flipped(status)))
        for label, path in scenarios:
            figures.append((label, *load_once(bench_url, path), count_rows(path)))
        if options.shuffled:
            bench_url = fresh_database(BENCH_DB)
            shuffled_floor = bare_copy(bench_url, shuffled(status), unlogged=False)
            shuffled_load = load_once(bench_url, shuffled(status))

        print(f"\nrun {run} (PostgreSQL {version}, load average {os.getloadavg()[0]:.2f}):")
        print(f"  bare COPY, regular table            {floor:6.1f} s  {rows / floor:>10,.0f} rows/s  (the floor)")
        print(f"  bare COPY, unlogged table           {floor_unlogged:6.1f} s  {rows / floor_unlogged:>10,.0f} rows/s")
        for label, wall, inner, output, count in figures:
            print_load(label, wall, inner, output, count, floor if count == rows else None)
        if options.shuffled:
            print(f"  bare COPY of the shuffled file      {shuffled_floor:6.1f} s  {rows / shuffled_floor:>10,.0f} rows/s")
            print_load("load (shuffled file)", *shuffled_load, rows, shuffled_floor)
        if not options.keep:
            admin = psycopg2.connect(database_url("postgres"))
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            admin.close()

if __name__ == "__main__":
    main()

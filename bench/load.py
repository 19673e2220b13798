"""Benchmark: `load_data` of a ~2 M-poll status file into an empty database.

    .venv/bin/python bench/load.py [--stores 14000] [--days 7] [--seed 1] [--runs 1]

Generates the files once (monitoring.tools.generation, cached under bench/out/), then in a
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

    .venv/bin/python bench/load.py --whole [--runs 3]

The whole `load_data DIR`: the three generated files, the status file
shaped like the public release (`shape_whole`: every block of 5,000 lines spans the
whole week; ~0.1% exact duplicate lines and ~0.02% conflicting re-polls of a key,
the same store and instant with the other status), made once under
bench/out/whole-*/. Per run: the floor, a bare `COPY` of the three files into three
unindexed text tables; then a fresh, empty, migrated database and the wall time of
the `manage.py load_data DIR` process; both and their ratio. Then the database is
checked: one poll per distinct key, each conflict resolved to its later line, the
polls stored in time order, the hours and zones counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

from harness import OUT, ROOT, database_url, databases_keep, fresh_database, generated

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


# --------------------------------------------------------------------------- --whole

#: Shares of the status file's lines added as exact duplicates, and as re-polls of a
#: key with the other status (the later line wins).
DUPLICATE_SHARE = 0.001
CONFLICT_SHARE = 0.0002
BLOCK_LINES = 5_000


def shape_whole(source: Path, seed: int) -> Path:
    """The generated files of `source`, the status file shaped like the public
    release, in a folder of their own (made once): lines in random order, plus
    duplicates and conflicting re-polls at random places. A manifest holds what a
    load must give."""
    import numpy as np

    target = OUT / f"whole-{source.name.removeprefix('gen-')}"
    manifest_path = target / "expected.json"
    if manifest_path.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    header, *lines = (source / "store_status.csv").read_bytes().splitlines(keepends=True)
    columns = [name.strip() for name in header.decode().strip().split(",")]
    sid_at, ts_at, status_at = (columns.index(name) for name in ("store_id", "timestamp_utc", "status"))
    count = len(lines)
    rng = np.random.default_rng(seed)
    duplicates, conflicts = round(count * DUPLICATE_SHARE), round(count * CONFLICT_SHARE)
    picked = rng.choice(count, duplicates + conflicts, replace=False).tolist()

    def flipped(line: bytes) -> bytes:
        fields = line.rstrip(b"\n").split(b",")
        fields[status_at] = b"inactive" if fields[status_at].lower() == b"active" else b"active"
        return b",".join(fields) + b"\n"

    extra = [lines[i] for i in picked[:duplicates]] + [flipped(lines[i]) for i in picked[duplicates:]]
    everything = lines + extra
    order = rng.permutation(len(everything))
    position = np.empty(len(everything), np.int64)
    position[order] = np.arange(len(everything))
    with (target / "store_status.csv").open("wb") as out:
        out.write(header)
        out.writelines(everything[i] for i in order.tolist())
    expected_conflicts = []
    for k, original in enumerate(picked[duplicates:]):
        copy = count + duplicates + k
        later = everything[copy] if position[copy] > position[original] else everything[original]
        fields = later.rstrip(b"\n").decode().split(",")
        expected_conflicts.append([fields[sid_at], fields[ts_at], fields[status_at].lower() == "active"])
    for name in ("menu_hours.csv", "timezones.csv"):
        (target / name).write_bytes((source / name).read_bytes())
    manifest_path.write_text(json.dumps({
        "lines": len(everything), "polls": count, "duplicates": duplicates, "conflicts": conflicts,
        "conflict_keys": expected_conflicts, **expected_small_files(target),
    }))
    return target


def expected_small_files(folder: Path) -> dict:
    """The shifts (distinct store, day, start, end) and zones (stores with a named
    zone) a load of the hours and zones files must store, read with the grammar."""
    import csv

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from monitoring.kernel.values import day_of_week, local_time, store_id, zone

    with (folder / "menu_hours.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    shifts = {
        (store_id(r["store_id"], trim=True), day_of_week(r["dayOfWeek"], trim=True),
         local_time(r["start_time_local"], end=False, trim=True), local_time(r["end_time_local"], end=True, trim=True))
        for r in rows
    }
    with (folder / "timezones.csv").open(newline="") as handle:
        zones = {
            store_id(r["store_id"], trim=True): zone(r["timezone_str"], trim=True, empty_ok=True)
            for r in csv.DictReader(handle)
        }
    return {"hours_rows": len(rows), "shifts": len(shifts), "zone_rows": len(zones),
            "zones": sum(1 for name in zones.values() if name)}


def block_spans(path: Path) -> tuple[float, float]:
    """(smallest, median) time span in days of the blocks of BLOCK_LINES lines."""
    import numpy as np

    with path.open() as handle:
        handle.readline()
        days = [line.split(",")[1][:19] for line in handle]
    stamps = np.array(days, dtype="datetime64[s]").astype(np.int64)
    stamps = stamps[: len(stamps) // BLOCK_LINES * BLOCK_LINES].reshape(-1, BLOCK_LINES)
    spans = (stamps.max(axis=1) - stamps.min(axis=1)) / 86400
    return float(spans.min()), float(np.median(spans))


WHOLE_TABLES = {
    "store_status.csv": "bench_bare_status (a text, b text, c text)",
    "menu_hours.csv": "bench_bare_hours (a text, b text, c text, d text)",
    "timezones.csv": "bench_bare_zones (a text, b text)",
}


def bare_copy_whole(url: str, folder: Path) -> float:
    """The floor: each of the three files `COPY`ed into an unindexed table of text
    columns, each committed; seconds from the first COPY to the last commit."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            for table in WHOLE_TABLES.values():
                cursor.execute(f"DROP TABLE IF EXISTS {table.split()[0]}")
                cursor.execute(f"CREATE TABLE {table}")
            connection.commit()
            started = time.perf_counter()
            for name, table in WHOLE_TABLES.items():
                with (folder / name).open("rb") as handle:
                    cursor.copy_expert(
                        f"COPY {table.split()[0]} FROM STDIN WITH (FORMAT csv, HEADER true)", handle, size=1 << 20
                    )
                connection.commit()
            elapsed = time.perf_counter() - started
            for table in WHOLE_TABLES.values():
                cursor.execute(f"DROP TABLE {table.split()[0]}")
            connection.commit()
        return elapsed
    finally:
        connection.close()


def check_whole(url: str, expected: dict, output: str) -> list[str]:
    """What is wrong with the loaded database (nothing: [])."""
    problems = []
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM monitoring_statuspoll")
            polls = cursor.fetchone()[0]
            if polls != expected["polls"]:
                problems.append(f"{polls} polls stored, {expected['polls']} distinct keys in the file")
            cursor.execute("CREATE TEMP TABLE expected_conflicts (store_id text, ts timestamptz, is_active boolean)")
            cursor.execute(
                "INSERT INTO expected_conflicts SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::boolean[])",
                [list(column) for column in zip(*expected["conflict_keys"])],
            )
            cursor.execute(
                "SELECT count(*), count(p.is_active), count(*) FILTER (WHERE p.is_active = e.is_active)"
                " FROM expected_conflicts e JOIN monitoring_store s ON s.store_id = e.store_id"
                " LEFT JOIN monitoring_statuspoll p ON p.store_id = s.id AND p.timestamp_utc = e.ts"
            )
            keys, found, right = cursor.fetchone()
            if not keys == found == right == expected["conflicts"]:
                problems.append(
                    f"conflicts: {expected['conflicts']} expected, {found} found, {right} resolved to the later line"
                )
            cursor.execute(
                "SELECT correlation FROM pg_stats WHERE tablename = 'monitoring_statuspoll'"
                " AND attname = 'timestamp_utc'"
            )
            correlation = (cursor.fetchone() or [None])[0]
            if correlation is None or correlation < 0.99:
                problems.append(f"polls not stored in time order (correlation {correlation})")
            cursor.execute("SELECT count(*) FROM monitoring_businesshours")
            shifts = cursor.fetchone()[0]
            if shifts != expected["shifts"]:
                problems.append(f"{shifts} shifts stored, {expected['shifts']} expected")
            cursor.execute("SELECT count(*) FROM monitoring_store WHERE timezone_name IS NOT NULL")
            zones = cursor.fetchone()[0]
            if zones != expected["zones"]:
                problems.append(f"{zones} zones stored, {expected['zones']} expected")
    finally:
        connection.close()
    superseded = re.search(r"store_status\.csv \(status\): (\d+) rows: loaded (\d+), .*superseded (\d+)", output)
    wanted = (expected["lines"], expected["polls"], expected["duplicates"] + expected["conflicts"])
    if superseded is None or tuple(map(int, superseded.groups())) != wanted:
        problems.append(f"status counts (rows, loaded, superseded) not {wanted}: {superseded and superseded.group(0)}")
    return problems


def run_whole(options) -> None:
    folder = shape_whole(generated(options.stores, options.days, options.seed), options.seed)
    expected = json.loads((folder / "expected.json").read_text())
    sizes = sum((folder / name).stat().st_size for name in WHOLE_TABLES) / 1e6
    smallest, median = block_spans(folder / "store_status.csv")
    print(
        f"folder: {folder.relative_to(ROOT)}: {expected['lines']:,} status lines ({expected['polls']:,} keys,"
        f" {expected['duplicates']} duplicates, {expected['conflicts']} conflicts), {expected['hours_rows']:,} hours"
        f" rows, {expected['zone_rows']:,} zone rows, {sizes:.0f} MB; blocks of {BLOCK_LINES} lines span"
        f" {smallest:.2f}-{median:.2f} days (min-median); cores: {os.cpu_count()}"
    )
    ratios = []
    for run in range(1, options.runs + 1):
        bench_url = fresh_database(BENCH_DB)
        floor = bare_copy_whole(bench_url, folder)
        bench_url = fresh_database(BENCH_DB)
        load = os.getloadavg()[0]
        wall, output = timed_manage(bench_url, "load_data", str(folder), "-v", "2")
        problems = check_whole(bench_url, expected, output)
        ratios.append(wall / floor)
        print(f"\nrun {run} (load average {load:.2f}): floor (bare COPY of the 3 files) {floor:5.2f} s,"
              f" load_data DIR {wall:5.2f} s, ratio {wall / floor:.2f}x")
        print("\n".join(f"    {line.strip()}" for line in output.splitlines()))
        print("    check: " + ("OK" if not problems else "; ".join(problems)))
        if problems:
            sys.exit(1)
    print(f"\nratios: {', '.join(f'{r:.2f}' for r in ratios)} (best {min(ratios):.2f}x, median"
          f" {sorted(ratios)[len(ratios) // 2]:.2f}x)")
    if options.keep:
        databases_keep()
    else:
        drop_bench_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=14000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole measurement")
    parser.add_argument("--keep", action="store_true", help="keep the bench_load database")
    parser.add_argument("--stress", action="store_true", help="also load the file with every status flipped")
    parser.add_argument("--shuffled", action="store_true", help="also load the file shuffled, into an empty database")
    parser.add_argument("--whole", action="store_true", help="the whole load_data DIR, public-release shaped")
    options = parser.parse_args()
    if options.whole:
        run_whole(options)
        return

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
        if options.keep:
            databases_keep()
        else:
            drop_bench_database()

def drop_bench_database() -> None:
    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    admin.close()


if __name__ == "__main__":
    main()

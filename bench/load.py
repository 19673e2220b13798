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
5. with --stress: the file with every status flipped (every poll replaced).

Prints rows/s and the ratio to the floor. Other processes may share the machine:
run it a few times (`--runs`) and read the best figures.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_DB = "bench_load"
sys.path.insert(0, str(ROOT))


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    from config.embedded_postgres import embedded_database_url

    return embedded_database_url(Path(os.environ.get("DATA_DIR", ROOT / ".data")))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def connect(url: str):
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    kwargs = {"dbname": config["NAME"], "user": config.get("USER") or None, "password": config.get("PASSWORD") or None}
    if config.get("HOST"):
        kwargs["host"] = config["HOST"]
    if config.get("PORT"):
        kwargs["port"] = config["PORT"]
    kwargs.update(config.get("OPTIONS", {}))
    return psycopg2.connect(**{k: v for k, v in kwargs.items() if v is not None})


def generate(stores: int, days: int, seed: int) -> Path:
    folder = OUT / f"gen-{stores}-{days}-{seed}"
    status = folder / "store_status.csv"
    if status.exists():
        return status
    try:
        from monitoring.generation import generate_dataset
    except ImportError:  # the generator is not there: a plain one for the status file
        return _numpy_status_file(folder, stores, days, seed)
    started = time.perf_counter()
    summary = generate_dataset(out_dir=folder, stores=stores, days=days, seed=seed)
    print(f"generated {summary.polls} polls for {stores} stores in {time.perf_counter() - started:.1f} s -> {folder}")
    return status


def _numpy_status_file(folder: Path, stores: int, days: int, seed: int) -> Path:
    import numpy as np

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [str(int(x)) for x in rng.integers(10**18, 9 * 10**18, size=stores)]
    per_store = days * 24
    end = 1674670402  # 2023-01-25 18:13:22 UTC
    with (folder / "store_status.csv").open("w") as out:
        out.write("store_id,timestamp_utc,status\n")
        for hour in range(per_store):
            base = end - (per_store - hour) * 3600
            offsets = rng.integers(0, 3_600_000_000, size=stores)
            active = rng.random(stores) > 0.06
            for sid, offset, up in zip(ids, offsets, active):
                seconds, micro = divmod(int(offset), 1_000_000)
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(base + seconds))
                out.write(f"{sid},{stamp}.{micro:06d} UTC,{'active' if up else 'inactive'}\n")
    return folder / "store_status.csv"


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1


def bare_copy(url: str, path: Path, *, unlogged: bool) -> float:
    connection = connect(url)
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


def manage(url: str, *args: str) -> tuple[float, str]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=14000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole measurement")
    parser.add_argument("--keep", action="store_true", help="keep the bench_load database")
    parser.add_argument("--stress", action="store_true", help="also load the file with every status flipped")
    options = parser.parse_args()

    status = generate(options.stores, options.days, options.seed)
    rows = count_rows(status)
    size = status.stat().st_size / 1e6
    print(f"file: {status.relative_to(ROOT)}: {rows:,} polls, {size:.0f} MB; cores: {os.cpu_count()},"
          f" load average: {os.getloadavg()[0]:.2f}")

    server = server_url()
    admin_url = with_database(server, "postgres")
    bench_url = with_database(server, BENCH_DB)
    for run in range(1, options.runs + 1):
        admin = connect(admin_url)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            cursor.execute(f"CREATE DATABASE {BENCH_DB}")
            cursor.execute("SELECT current_setting('server_version')")
            version = cursor.fetchone()[0]
        manage(bench_url, "migrate", "--noinput", "-v0")

        floor = bare_copy(bench_url, status, unlogged=False)
        floor_unlogged = bare_copy(bench_url, status, unlogged=True)
        figures = []
        scenarios = [("load (empty db)", status), ("reload (same file)", status), ("next day (new polls)", next_day(status))]
        if options.stress:
            scenarios.append(("replace (all flipped)", flipped(status)))
        for label, path in scenarios:
            wall, output = manage(bench_url, "load_data", "--status", str(path), "--no-rejects-file", "-v", "2")
            inner = float(re.search(r" in ([0-9.]+) s", output).group(1))
            figures.append((label, wall, inner, output, count_rows(path)))

        print(f"\nrun {run} (PostgreSQL {version}, load average {os.getloadavg()[0]:.2f}):")
        print(f"  bare COPY, regular table            {floor:6.1f} s  {rows / floor:>10,.0f} rows/s  (the floor)")
        print(f"  bare COPY, unlogged table           {floor_unlogged:6.1f} s  {rows / floor_unlogged:>10,.0f} rows/s")
        for label, wall, inner, output, count in figures:
            print(
                f"  load_data {label:<22} {wall:6.1f} s  {count / wall:>10,.0f} rows/s"
                f"  (loader itself {inner:.1f} s{f', {inner / floor:.1f}x floor' if count == rows else ''})"
            )
            print("\n".join(f"      {line.strip()}" for line in output.splitlines()))
        if not options.keep:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        admin.close()


if __name__ == "__main__":
    main()

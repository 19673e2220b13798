"""Benchmark: our reports side by side with an exact DuckDB baseline (bench/duckdb_report.py).

    .venv/bin/python bench/history_speed.py [--scales 1 4] [--only week|range] [--half] [--divide N] [--runs 3]

Two questions, each at 1x and 4x:
- the weekly report (docs/rules.md §5): 14,000 stores x 7 days of polls, and 56,000 x 7;
- a 90-day range report (§11, `[latest poll - 90 days, latest poll)`): 3,500 stores x 97
  days, and 14,000 x 97 (`--half` halves the stores of every scale).

For each: the generated files (cached under bench/out/) are loaded into a PostgreSQL
database of its own (`load_data`, dropped when done) and into a DuckDB file (timed
separately), then it measures, each the best of --runs (ours and DuckDB's in turn)
- ours warm: `triggerReport` -> COMPLETE through a live web server (gunicorn) and the
  worker clusters (`supervise_workers`), as the API serves it;
- ours whole process: `manage.py generate_report [--from --to] --output F`, start-up included;
- DuckDB warm: the query on an open connection, CSV written to memory;
- DuckDB whole process: `python bench/duckdb_report.py week|range DB --output F`;
and checks that DuckDB's CSV is ours, byte for byte. It prints a table with the ratios
ours / DuckDB and the growth 4x / 1x of each figure.
"""

import argparse
import http.client
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from harness import OUT, ROOT, database_drop, free_port, fresh_database, generated, load_and_settle, machine, start_workers, stop_workers
from monitoring.tools.processes import stop_process_group  # after harness: it puts the project on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_report  # noqa: E402  (bench/ is not a package)

#: kind -> scale -> (stores, days of polls)
SCALES = {"week": {1: (14_000, 7), 4: (56_000, 7)}, "range": {1: (3_500, 97), 4: (14_000, 97)}}
RANGE_DAYS = 90
#: The project's Python packages (compiled before timing).
PACKAGES = ("config", "monitoring", "graphql_schema")
DUCKDB_REPORT = Path(__file__).with_name("duckdb_report.py")


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- ours, through the API


class Api:
    """gunicorn and the worker clusters on one database; GraphQL over keep-alive HTTP."""

    def __init__(self, url: str):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "RATE_LIMIT_REPORTS": "1000000"}
        log = OUT / "history_speed"
        log.mkdir(parents=True, exist_ok=True)
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--threads", "4", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=open(log / "web.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.workers = start_workers(env, log / "workers.log")
        deadline = time.monotonic() + 90
        while True:
            try:
                self.graphql("{ __typename }")
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"the web server did not start; see {log / 'web.log'}")
                time.sleep(0.2)
        time.sleep(4)  # the worker clusters finish starting

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            connection.request("POST", "/graphql/", json.dumps({"query": query, "variables": variables or {}}),
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = json.loads(response.read())
        finally:
            connection.close()
        if response.status != 200 or payload.get("errors"):
            raise RuntimeError(f"HTTP {response.status}: {payload.get('errors')}")
        return payload["data"]

    def trigger_to_complete(self, variables: dict) -> float:
        """Seconds from triggerReport to COMPLETE seen by polling report(id) every 50 ms."""
        start = time.perf_counter()
        answer = self.graphql(
            "mutation($from: DateTime, $to: DateTime) { triggerReport(from: $from, to: $to)"
            " { id userErrors { field message } } }", variables,
        )["triggerReport"]
        if answer["userErrors"]:
            raise SystemExit(f"triggerReport refused: {answer['userErrors']}")
        while True:
            report = self.graphql("query($id: ID!) { report(id: $id) { status error } }", {"id": answer["id"]})["report"]
            if report["status"] in ("COMPLETE", "FAILED"):
                break
            time.sleep(0.05)
        if report["status"] != "COMPLETE":
            raise SystemExit(f"report {answer['id']} failed: {report['error']}")
        return time.perf_counter() - start

    def stop(self) -> None:
        stop_process_group(self.web)
        stop_workers(self.workers)


# --------------------------------------------------------------------------- one scale


def timed(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command. On a
    busy shared machine the CPU time moves less than the wall time (for ours it leaves out
    PostgreSQL's own work)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime


def latest_poll(url: str) -> datetime:
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT max(timestamp_utc) FROM monitoring_statuspoll")
        return cursor.fetchone()[0].astimezone(timezone.utc)


def measure(kind: str, scale: int, stores: int, days: int, runs: int) -> dict:
    began = time.perf_counter()
    data = generated(stores, days)
    generated_s = time.perf_counter() - began
    name = f"hduck_{kind}_{scale}x"
    url = fresh_database(name)
    t0 = time.perf_counter()
    load_and_settle(data, url)
    pg_load_s = time.perf_counter() - t0
    database = OUT / f"duckdb-{stores}-{days}.duckdb"
    duck_load_s, _ = timed([sys.executable, str(DUCKDB_REPORT), "load", str(data), str(database)])
    env = {**os.environ, "DATABASE_URL": url}
    end = latest_poll(url)
    if kind == "week":
        ours_args, duck_args, variables = [], ["week", str(database)], {}
    else:
        start = end - timedelta(days=RANGE_DAYS)
        ours_args = ["--from", start.isoformat(), "--to", end.isoformat()]
        duck_args = ["range", str(database), "--from", start.isoformat(), "--to", end.isoformat()]
        variables = {"from": start.isoformat(), "to": end.isoformat()}
    print(f"  {kind} {scale}x: {stores:,} stores x {days} days (files {generated_s:.0f} s), loaded: PostgreSQL "
          f"{pg_load_s:.1f} s (with VACUUM ANALYZE), DuckDB {duck_load_s:.1f} s; load average {load_average()}",
          flush=True)

    ours_csv, duck_csv = OUT / "history_speed" / "ours.csv", OUT / "history_speed" / "duckdb.csv"
    ours_csv.parent.mkdir(parents=True, exist_ok=True)
    ours_runs, duck_runs = [], []
    for _ in range(runs):  # in turn, so that the machine's noise falls on both alike
        ours_runs.append(timed([sys.executable, str(ROOT / "manage.py"), "generate_report", *ours_args, "--output",
                                str(ours_csv)], env))
        duck_runs.append(timed([sys.executable, str(DUCKDB_REPORT), *duck_args, "--output", str(duck_csv)]))
    ours_process, ours_cpu = min(ours_runs)
    duck_process, duck_cpu = min(duck_runs)
    problems = duckdb_report.csv_differences(ours_csv.read_text(), duck_csv.read_text())
    rows = ours_csv.read_text().count("\n") - 1

    import duckdb

    connection = duckdb.connect(str(database))
    duck_warm, duck_warm_cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        if kind == "week":
            figures = duckdb_report.week_rows(connection)
            header = duckdb_report.WEEK_HEADER
        else:
            figures = duckdb_report.range_rows(connection, start_us=duckdb_report.instant_us(variables["from"]),
                                               end_us=duckdb_report.instant_us(variables["to"]))
            header = duckdb_report.RANGE_HEADER
        duckdb_report.write_csv(io.StringIO(), header, figures)
        duck_warm.append(time.perf_counter() - t0)
        duck_warm_cpu.append(time.process_time() - c0)
    connection.close()

    api = Api(url)
    try:
        ours_warm = [api.trigger_to_complete(variables) for _ in range(runs)]
    finally:
        api.stop()
    database_drop(name)
    database.unlink(missing_ok=True)
    result = {
        "kind": kind, "scale": scale, "stores": stores, "days": days, "rows": rows, "problems": problems,
        "ours_warm": min(ours_warm), "ours_process": ours_process, "duck_warm": min(duck_warm),
        "duck_process": duck_process, "pg_load": pg_load_s, "duck_load": duck_load_s,
        "ours_cpu": ours_cpu, "duck_cpu": duck_cpu, "duck_warm_cpu": min(duck_warm_cpu),
    }
    print(f"    ours warm {' / '.join(f'{x:.2f}' for x in ours_warm)} s, whole process "
          f"{' / '.join(f'{x:.2f}' for x, _ in ours_runs)} s (best's CPU {ours_cpu:.2f} s, PostgreSQL's not counted); "
          f"DuckDB warm {' / '.join(f'{x:.2f}' for x in duck_warm)} s (CPU {min(duck_warm_cpu):.2f} s), whole process "
          f"{' / '.join(f'{x:.2f}' for x, _ in duck_runs)} s (best's CPU {duck_cpu:.2f} s); "
          f"CSV {'equal' if not problems else 'DIFFERENT'} ({rows:,} rows); load average {load_average()}", flush=True)
    return result


# --------------------------------------------------------------------------- the table


def table(results: list[dict]) -> None:
    columns = ("ours_warm", "ours_process", "duck_warm", "duck_process")
    print()
    print(f"{'':<34}{'ours warm':>11}{'ours proc':>11}{'DuckDB warm':>13}{'DuckDB proc':>13}"
          f"{'ours/DuckDB warm':>18}{'ours/DuckDB proc':>18}  CSV")
    for r in results:
        label = f"{r['kind']} {r['scale']}x ({r['stores']:,} x {r['days']} d)"
        print(f"{label:<34}" + "".join(f"{r[c]:>{w - 2}.2f} s" for c, w in zip(columns, (11, 11, 13, 13)))
              + f"{r['ours_warm'] / r['duck_warm']:>17.1f}x{r['ours_process'] / r['duck_process']:>17.1f}x"
              + f"  {'equal' if not r['problems'] else 'DIFFERENT: ' + '; '.join(r['problems'][:2])} ({r['rows']:,} rows)")
    print(f"{'CPU seconds (ours: without PostgreSQL)':<34}{'':>11}{'ours proc':>11}{'DuckDB warm':>13}{'DuckDB proc':>13}"
          f"{'':>18}{'ours/DuckDB proc':>18}")
    for r in results:
        label = f"{r['kind']} {r['scale']}x"
        print(f"{label:<34}{'':>11}{r['ours_cpu']:>9.2f} s{r['duck_warm_cpu']:>11.2f} s{r['duck_cpu']:>11.2f} s"
              f"{'':>18}{r['ours_cpu'] / r['duck_cpu']:>17.1f}x")
    for kind in ("week", "range"):
        by_scale = {r["scale"]: r for r in results if r["kind"] == kind}
        if 1 in by_scale and 4 in by_scale:
            small, big = by_scale[1], by_scale[4]
            label = f"{kind} growth 4x / 1x"
            print(f"{label:<34}" + "".join(f"{big[c] / small[c]:>{w - 1}.1f}x" for c, w in zip(columns, (11, 11, 13, 13))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=int, nargs="+", choices=(1, 4), default=[1, 4])
    parser.add_argument("--only", choices=("week", "range"), help="one of the two questions")
    parser.add_argument("--half", action="store_true", help="half the stores at every scale")
    parser.add_argument("--divide", type=int, default=1, help="the stores of every scale divided by this (a quick run)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each figure, ours and DuckDB's in turn (the best of each is compared)")
    args = parser.parse_args()
    print(f"bench/history_speed.py on {machine()}, load average {load_average()}", flush=True)
    # Our processes start from the project's compiled bytecode, as an installed copy does
    # (`make run` compiles it; a machine may set PYTHONDONTWRITEBYTECODE, and then every
    # start would compile the project's modules again).
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=ROOT, check=True)
    results = []
    for kind in ("week", "range"):
        if args.only and kind != args.only:
            continue
        for scale in sorted(args.scales):
            stores, days = SCALES[kind][scale]
            divisor = args.divide * (2 if args.half else 1)
            results.append(measure(kind, scale, stores // divisor, days, args.runs))
    table(results)
    if any(r["problems"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

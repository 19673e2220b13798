"""Shared plumbing for the benchmarks: a database of their own on the same server the
project uses (DATABASE_URL, or the embedded one), generated data cached under bench/out/,
and `manage.py` runs against that database.

The databases a benchmark creates are dropped when it exits (a 56,000-store one holds
gigabytes, in `.data/postgres` on the embedded server), unless BENCH_KEEP=1 (for
`--reuse` in a later run). bench/out/ is a cache kept between runs: `make bench` removes
it when done, `rm -rf bench/out` by hand."""

import atexit
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    from config.embedded_postgres import embedded_database_url

    return embedded_database_url(Path(os.environ.get("DATA_DIR", ROOT / ".data")))


def database_url(name: str) -> str:
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(path=f"/{name}"))


#: Databases this run created: dropped at exit unless BENCH_KEEP=1.
_created: list[str] = []


def _drop(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@atexit.register
def _drop_created() -> None:
    if os.environ.get("BENCH_KEEP", "").strip() in {"1", "true", "yes"}:
        if _created:
            print(f"BENCH_KEEP: kept database(s) {', '.join(_created)}", file=sys.stderr)
        return
    for name in _created:
        try:
            _drop(name)
        except Exception as error:  # the server may be gone already; say so, don't hide the figures
            print(f"could not drop bench database {name}: {error}", file=sys.stderr)


def database_drop(name: str) -> None:
    """Drop a database this run created now rather than at exit (a bench moving on to a
    bigger one), unless BENCH_KEEP=1."""
    if os.environ.get("BENCH_KEEP", "").strip() in {"1", "true", "yes"}:
        return
    _drop(name)
    if name in _created:
        _created.remove(name)


def databases_keep() -> None:
    """This run's databases stay after it (a bench's own `--keep`)."""
    _created.clear()


def fresh_database(name: str) -> str:
    """Drop and create `name`, migrate it, return its URL (dropped again at exit)."""
    import psycopg2

    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    if name not in _created:
        _created.append(name)
    url = database_url(name)
    manage(["migrate", "--noinput", "-v", "0"], url)
    return url


def manage(args: list[str], url: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True, **kwargs
    )


def generated(stores: int, days: int = 7, seed: int = 1) -> Path:
    """A generated data set, made once and cached."""
    from monitoring.tools.generation import generate_dataset

    target = OUT / f"gen-{stores}-{days}-{seed}"
    if not (target / "store_status.csv").exists():
        generate_dataset(out_dir=target, stores=stores, days=days, seed=seed)
        # The benches measure uptime (and compare with a baseline that knows no revenue).
        (target / "store_revenue.csv").unlink(missing_ok=True)
    return target


def timed_child(args: list[str], url: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `manage.py` run in a child process."""
    env = {**os.environ, "DATABASE_URL": url}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own resource usage
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, args)
    return wall, usage.ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def load_and_settle(data: Path, url: str) -> None:
    """`load_data` the generated set, then VACUUM ANALYZE and CHECKPOINT, so that the
    measurements that follow don't share the machine with autovacuum and a checkpoint."""
    manage(["load_data", str(data)], url, stdout=subprocess.DEVNULL)
    settle(url)


def bench_database(name: str, *, reuse: bool, stores: int, days: int = 7) -> str:
    """The URL of a bench's database: the one a previous run left (`reuse`, after
    BENCH_KEEP=1), or `name` made afresh with the generated set loaded and settled."""
    if reuse:
        return database_url(name)
    data = generated(stores, days)
    url = fresh_database(name)
    started = time.perf_counter()
    load_and_settle(data, url)
    print(f"loaded {data.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return url


def settle(url: str) -> None:
    """VACUUM ANALYZE and CHECKPOINT: what follows does not share the machine with them."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    connection.close()


def start_workers(env: dict, log_path: Path) -> subprocess.Popen:
    """Both worker clusters (reports, alerts) under their supervisor, as production runs
    them (`manage.py supervise_workers`), in a process group of its own."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "supervise_workers"], cwd=ROOT, env=env,
        stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop_workers(supervisor: subprocess.Popen) -> None:
    """The supervisor stopped, and whatever is left of its clusters."""
    from monitoring.tools.processes import stop_supervisor

    stop_supervisor(supervisor)


def latency_summary(samples_ms: list[float], *, digits: int = 1) -> str:
    """Median, p95 (nearest rank) and max of request times in milliseconds."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    width = 5 + digits
    return (f"median {statistics.median(ordered):{width}.{digits}f} ms   p95 {p95:{width}.{digits}f} ms"
            f"   max {ordered[-1]:{width}.{digits}f} ms")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of `values` (nearest rank, from below); NaN when there are none."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server the bench starts)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

"""Benchmark: the API under load, with real processes on loopback.

    .venv/bin/python bench/api.py [--stores 14000] [--seconds 15] [--clients 20]

Serves the app with gunicorn (2 workers × 4 threads) and one `qcluster` worker on a
database of its own loaded with generated data, then prints
- trigger-to-COMPLETE latency of a report over all stores (GraphQL trigger, then polling),
- throughput and p50/p99 latency of a `stores` page query and a single-store `uptime`
  query under N concurrent clients (keep-alive connections, one thread per client).
The clients share the machine's 2 cores with the server: figures are pessimistic.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time

from harness import ROOT, fresh_database, generated, load_and_settle, machine, start_workers, stop_workers
from monitoring.tools.processes import stop_process_group  # after harness: it puts the project on sys.path

PORT = 8765


class Client:
    def __init__(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}})
        self.connection.request("POST", "/graphql/", body, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        payload = json.loads(response.read())
        if response.status != 200 or payload.get("errors"):
            raise RuntimeError(f"HTTP {response.status}: {payload.get('errors')}")
        return payload["data"]


def start_servers(url: str, log_dir, q_workers: int = 1) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "Q_WORKERS": str(q_workers)}
    # The clients are anonymous, from one address, and trigger reports far faster than a
    # person (traffic.py: thousands a minute): limits high enough never to refuse them,
    # so the benchmark measures capacity and still pays for counting each hit.
    env.setdefault("RATE_LIMIT_REPORTS", "1000000")
    env.setdefault("RATE_LIMIT_POLLS", "1000000")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{PORT}",
         "--workers", os.environ.get("WEB_WORKERS", "2"), "--threads", os.environ.get("WEB_THREADS", "4"),
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=open(log_dir / "web.log", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = start_workers(env, log_dir / "qcluster.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            Client().graphql("{ __typename }")
            return [web, worker]
        except (OSError, RuntimeError):
            time.sleep(0.2)
    raise SystemExit("the web server did not start; see bench/out/web.log")


def trigger_to_complete() -> float:
    client = Client()
    time.sleep(3)  # let the worker finish starting
    start = time.perf_counter()
    report_id = client.graphql("mutation { triggerReport { id } }")["triggerReport"]["id"]
    while True:
        status = client.graphql("query($id: ID!) { report(id: $id) { status error } }", {"id": report_id})["report"]
        if status["status"] in ("COMPLETE", "FAILED"):
            break
        time.sleep(0.05)
    if status["status"] != "COMPLETE":
        raise SystemExit(f"report failed: {status['error']}")
    return time.perf_counter() - start


def load(query: str, variables_for, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(index: int):
        nonlocal errors
        client = Client()
        mine, failed, n = [], 0, 0
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                client.graphql(query, variables_for(index, n))
                mine.append(time.perf_counter() - t0)
            except Exception:
                failed += 1
                client = Client()
            n += 1
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"requests": len(latencies), "rps": len(latencies) / seconds, "p50_ms": pick(0.50),
            "p99_ms": pick(0.99), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()

    data = generated(args.stores)
    url = fresh_database("bench_api")
    load_and_settle(data, url)
    log_dir = ROOT / "bench" / "out"
    processes = start_servers(url, log_dir)
    try:
        print(f"bench/api.py on {machine()}: {args.stores:,} stores, {args.clients} clients, {args.seconds:.0f} s each")
        latency = trigger_to_complete()
        print(f"trigger → COMPLETE (all {args.stores:,} stores): {latency:.2f} s")
        store_ids = [r["id"] for r in Client().graphql("{ stores(pagination: {limit: 500}) { results { id } } }")["stores"]["results"]]
        page = load(
            "query($offset: Int!) { stores(pagination: {offset: $offset, limit: 50}) { totalCount results { id timezone is24x7 } } }",
            lambda i, n: {"offset": (i * 50 + n * 50) % 10_000}, args.clients, args.seconds,
        )
        uptime = load(
            "query($id: ID!) { store(id: $id) { uptime { windows { kind uptimeMinutes downtimeMinutes unknownMinutes } } } }",
            lambda i, n: {"id": store_ids[(i * 7 + n) % len(store_ids)]}, args.clients, args.seconds,
        )
        for name, f in (("stores page (50)", page), ("single-store uptime", uptime)):
            print(f"{name:<20} {f['rps']:7.1f} req/s  p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms  "
                  f"errors {f['errors']}  ({f['requests']} requests)")
    finally:
        stop_servers(processes)


def stop_servers(processes: list[subprocess.Popen]) -> None:
    web, workers = processes
    stop_process_group(web)
    stop_workers(workers)

if __name__ == "__main__":
    main()

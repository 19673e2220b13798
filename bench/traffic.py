"""Benchmark: mixed traffic from concurrent clients, then a burst of reports.

    .venv/bin/python bench/traffic.py [--stores 14000] [--clients 20] [--seconds 60]

Serves the app with gunicorn (2 workers × 4 threads) and a 2-process `qcluster` on a
database of its own loaded with generated data (as bench/api.py). Then:
1. --clients clients for --seconds seconds, each request drawn from a mix of store
   pages (GraphQL `stores`, 50 a page), single-store live `uptime`, and trigger + poll
   of a one-store report: throughput, p50/p99 per kind, errors;
2. 20 full reports triggered at once: time until all are COMPLETE.
Clients run on the same 2 cores as the server (a process per 5 clients, a thread per
client): the figures are pessimistic.
"""

import argparse
import multiprocessing
import random
import threading
import time

from api import Client, start_servers
from harness import ROOT, fresh_database, generated, load_and_settle, machine, percentile

STORES_PAGE = "query($offset: Int!) { stores(pagination: {offset: $offset, limit: 50}) { totalCount results { id timezone } } }"
UPTIME = "query($id: ID!) { store(id: $id) { uptime { windows { kind uptimeMinutes downtimeMinutes } } } }"
TRIGGER = "mutation($id: ID!) { triggerReport(storeIds: [$id]) { id } }"
STATUS = "query($id: ID!) { report(id: $id) { status } }"


def _client_process(store_ids: list[str], seeds: list[int], stop_at: float, results) -> None:
    """One client process: a thread per client (a Python process per few clients, so
    the clients' own GIL does not add to the latencies they measure)."""
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors = {"count": 0}
    lock = threading.Lock()

    def run(seed: int):
        rng = random.Random(seed)
        client = Client()
        mine = {kind: [] for kind in KINDS}
        failed = 0
        while time.monotonic() < stop_at:
            kind = rng.choices(KINDS, weights=[5, 4, 1])[0]
            t0 = time.perf_counter()
            try:
                if kind == "stores page":
                    client.graphql(STORES_PAGE, {"offset": rng.randrange(0, 10_000, 50)})
                elif kind == "uptime":
                    client.graphql(UPTIME, {"id": rng.choice(store_ids)})
                else:
                    report_id = client.graphql(TRIGGER, {"id": rng.choice(store_ids)})["triggerReport"]["id"]
                    while client.graphql(STATUS, {"id": report_id})["report"]["status"] not in ("COMPLETE", "FAILED"):
                        time.sleep(0.1)
                mine[kind].append(time.perf_counter() - t0)
            except Exception:
                failed += 1
                client = Client()
        with lock:
            for kind, values in mine.items():
                latencies[kind].extend(values)
            errors["count"] += failed

    threads = [threading.Thread(target=run, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, errors["count"]))


KINDS = ["stores page", "uptime", "trigger+poll"]
CLIENTS_PER_PROCESS = 5


def mixed_load(store_ids: list[str], clients: int, seconds: float) -> dict:
    stop_at = time.monotonic() + seconds
    results = multiprocessing.Queue()
    seeds = list(range(clients))
    groups = [seeds[i : i + CLIENTS_PER_PROCESS] for i in range(0, clients, CLIENTS_PER_PROCESS)]
    processes = [
        multiprocessing.Process(target=_client_process, args=(store_ids, group, stop_at, results)) for group in groups
    ]
    for process in processes:
        process.start()
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors = 0
    for _ in processes:
        group_latencies, group_errors = results.get()
        for kind, values in group_latencies.items():
            latencies[kind].extend(values)
        errors += group_errors
    for process in processes:
        process.join()
    return {"latencies": latencies, "errors": errors}


def report_burst(count: int) -> float:
    client = Client()
    start = time.perf_counter()
    ids = [client.graphql("mutation { triggerReport { id } }")["triggerReport"]["id"] for _ in range(count)]
    pending = set(ids)
    while pending:
        for report_id in list(pending):
            status = client.graphql(STATUS, {"id": report_id})["report"]["status"]
            if status == "FAILED":
                raise SystemExit(f"report {report_id} failed")
            if status == "COMPLETE":
                pending.discard(report_id)
        time.sleep(0.2)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument(
        "--warmup", type=float, default=0, help="seconds of the same mix first, not measured (warms the read caches)"
    )
    args = parser.parse_args()

    url = fresh_database("bench_traffic")
    load_and_settle(generated(args.stores), url)
    processes = start_servers(url, ROOT / "bench" / "out", q_workers=2)
    try:
        store_ids = [s["id"] for s in Client().graphql("{ stores(pagination: {limit: 500}) { results { id } } }")["stores"]["results"]]
        print(
            f"bench/traffic.py on {machine()}: {args.stores:,} stores, {args.clients} clients for {args.seconds:.0f} s"
            f" (after {args.warmup:.0f} s of warm-up)"
        )
        if args.warmup:
            mixed_load(store_ids, args.clients, args.warmup)
        result = mixed_load(store_ids, args.clients, args.seconds)
        total = sum(len(v) for v in result["latencies"].values())
        print(f"  {total} requests, {total / args.seconds:.1f}/s, errors {result['errors']}")
        for kind, values in result["latencies"].items():
            print(f"  {kind:<13} n={len(values):>6}  p50 {percentile(values, 0.5) * 1000:7.1f} ms  p99 {percentile(values, 0.99) * 1000:7.1f} ms")
        seconds = report_burst(args.burst)
        print(f"  {args.burst} full reports triggered at once: all COMPLETE after {seconds:.1f} s")
    finally:
        from api import stop_servers

        stop_servers(processes)


if __name__ == "__main__":
    main()

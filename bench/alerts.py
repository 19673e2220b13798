"""Benchmark: alerts from live polls to a local webhook receiver (docs/rules.md §10).

    .venv/bin/python bench/alerts.py [--stores 1000] [--rate 20] [--seconds 60] [--load-stores 14000]

1. Serves the app (gunicorn 2 × 4 threads, a 2-process `qcluster`) on a database of its
   own with a staff webhook pointing at a receiver in this process. `--stores` stores
   (no hours: open 24×7) send live polls through `recordPolls` at `--rate` requests a
   second, each poll the opposite of the store's last (so every poll is a STORE_DOWN or
   a STORE_UP). Prints poll sent → webhook received p50/p95/p99 and how many arrived
   (goal: p99 ≤ 5 s, none missing, none twice).
2. A historical load: `load_data` of the generated `--load-stores` set (2.25 M polls at
   14,000 stores) into an empty database, with a webhook subscribed and without one
   (the alerts' cost on a load: one query for recent polls), `--load-runs` times each, alternating.
"""

import argparse
import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from api import Client, start_servers, stop_servers
from harness import ROOT, fresh_database, generated, machine, manage, percentile, timed_child

RECORD = "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }"
CREATE = "mutation($url: String!) { createWebhook(url: $url) { webhook { id } secret } }"


class Receiver:
    """Records when each (store, poll) event arrives."""

    def __init__(self):
        self.arrivals: dict[tuple[str, str, str], list[float]] = {}
        lock = threading.Lock()
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    key = (body["event"], body["store_id"], body["poll_timestamp"])
                    arrivals.setdefault(key, []).append(time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def live_polls(args) -> None:
    url = fresh_database("bench_alerts")
    receiver = Receiver()
    processes = start_servers(url, ROOT / "bench" / "out", q_workers=2)
    try:
        client = Client()
        client.graphql(CREATE, {"url": receiver.url})
        stores = [f"alert-bench-{i:04d}" for i in range(args.stores)]
        active = {store: True for store in stores}
        sent: dict[tuple[str, str, str], float] = {}
        time.sleep(3)  # the workers finish starting
        interval, next_at = 1 / args.rate, time.monotonic()
        end = next_at + args.seconds
        index = 0
        while time.monotonic() < end:
            store = stores[index % len(stores)]
            index += 1
            active[store] = not active[store]
            moment = datetime.now(timezone.utc).replace(microsecond=0)
            stamp = moment.isoformat().replace("+00:00", "Z")
            event = "STORE_UP" if active[store] else "STORE_DOWN"
            sent[(event, store, stamp)] = time.time()  # a store's first poll: inactive, its first evidence poll
            poll = {"storeId": store, "timestampUtc": stamp, "status": "active" if active[store] else "inactive"}
            try:
                client.graphql(RECORD, {"polls": [poll]})
            except OSError:  # the server closed an idle keep-alive connection: once more on a new one
                client = Client()
                client.graphql(RECORD, {"polls": [poll]})
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        time.sleep(10)  # the last deliveries
    finally:
        stop_servers(processes)
        receiver.server.shutdown()
    latencies = [receiver.arrivals[key][0] - at for key, at in sent.items() if key in receiver.arrivals]
    missing = sum(1 for key in sent if key not in receiver.arrivals)
    twice = sum(1 for times in receiver.arrivals.values() if len(times) > 1)
    print(
        f"  live polls: {args.stores:,} stores, {args.rate:g} requests/s for {args.seconds:.0f} s:"
        f" {len(sent)} events expected, {len(latencies)} delivered, {missing} missing, {twice} delivered twice"
    )
    print(
        f"  poll sent → webhook received: p50 {percentile(latencies, 0.5) * 1000:.0f} ms,"
        f" p95 {percentile(latencies, 0.95) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms,"
        f" max {max(latencies, default=float('nan')) * 1000:.0f} ms"
    )


def historical_load(args) -> None:
    """Loads with and without a webhook, alternating (the machine's noise hits both alike)."""
    data = generated(args.load_stores)
    walls: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.load_runs):
        for subscribed in (False, True):
            url = fresh_database("bench_alerts_load")
            if subscribed:
                manage(["create_webhook", "https://example.com/hook"], url, capture_output=True)
            walls[subscribed].append(timed_child(["load_data", str(data)], url)[0])
    for subscribed, label in ((False, "no webhook"), (True, "a webhook subscribed")):
        times = sorted(walls[subscribed])
        print(
            f"  historical load of {data.name} ({label}): median {times[len(times) // 2]:.2f} s"
            f" (runs: {', '.join(f'{t:.2f}' for t in walls[subscribed])})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--load-stores", type=int, default=14_000)
    parser.add_argument("--load-runs", type=int, default=3)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    print(f"bench/alerts.py on {machine()}")
    live_polls(args)
    if not args.skip_load:
        historical_load(args)


if __name__ == "__main__":
    main()

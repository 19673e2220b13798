"""Chaos bench: the real stack under faults for a bounded time, then its promises checked.

    .venv/bin/python bench/chaos.py [--minutes 10] [--stores 500] [--database h2]

Runs `manage.py serve` (web server, both worker clusters under their supervisors) on a
generated data set loaded into --database (dropped and created again), with a local
webhook receiver: tenant "fleet" has a webhook answering at once, tenant "slowpoke" one
answering one byte every 3 s, tenant "probe" owns one store. For --minutes, at once:

- polls recorded through the API (recordPolls), each with a timestamp of its own; the
  24×7 stores of fleet and slowpoke flip inactive/active, so alerts are sent;
- fleet's whole-tenant reports triggered now and then;
- a probe: probe's one-store report triggered every --probe-every seconds, its time to
  COMPLETE measured (another tenant's report must not wait on anything else);
- worker processes SIGKILLed at random (now and then another process of a cluster);
- the app's database connections ended (pg_terminate_backend).

Then, after the faults stop and the work drains, it checks: every report COMPLETE, every
poll stored exactly once, every alert to the prompt receiver delivered exactly once per
delivery id, no delivery id arriving twice at the same time at the slow one, no HTTP 500,
the probe's report within 10 s throughout; and prints its figures. Exit status 1 when a
check fails.
"""

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness import OUT, ROOT, free_port, fresh_database, generated, machine, manage, percentile

RECORD = "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }"
TRIGGER = "mutation($ids: [ID!]) { triggerReport(storeIds: $ids) { id status } }"
STATUS = "query($id: ID!) { report(id: $id) { status error } }"
CREATE_HOOK = "mutation($url: String!) { createWebhook(url: $url) { webhook { id } } }"
PROBE_LIMIT_SECONDS = 10.0
SLOW_BYTE_SECONDS = 3.0

SETUP = """
import json
from monitoring.stores.access import token_create
from monitoring.models import BusinessHours, Owner, Store

stores = list(Store.objects.order_by("store_id"))
owners = {name: Owner.objects.get_or_create(name=name)[0] for name in ("fleet", "slowpoke", "probe")}
probe, slow, live = stores[0], stores[1:4], stores[4:4 + LIVE]
Store.objects.filter(pk__in=[s.pk for s in stores]).update(owner=owners["fleet"])
Store.objects.filter(pk=probe.pk).update(owner=owners["probe"])
Store.objects.filter(pk__in=[s.pk for s in slow]).update(owner=owners["slowpoke"])
# No hours: open 24x7, so their live polls raise alerts whatever the time of day.
BusinessHours.objects.filter(store__in=[*slow, *live]).delete()
print(json.dumps({
    "tokens": {name: token_create(name="chaos", owner=owner)[1] for name, owner in owners.items()},
    "probe": probe.store_id, "slow": [s.store_id for s in slow], "live": [s.store_id for s in live],
    "fleet": [s.store_id for s in stores[4:]],
}))
"""


class Receiver:
    """Records each webhook request: its X-Delivery-Id, path, when it arrived and ended.
    `/slow` answers one byte every SLOW_BYTE_SECONDS (the status line itself)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                entry = {"id": self.headers.get("X-Delivery-Id"), "path": self.path, "start": time.time(), "end": None}
                with receiver.lock:
                    receiver.requests.append(entry)
                try:
                    if self.path.startswith("/slow"):
                        for byte in b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n":
                            if receiver.closing.wait(SLOW_BYTE_SECONDS):
                                break
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        self.close_connection = True
                    else:
                        self.send_response(204)
                        self.end_headers()
                except OSError:
                    pass  # the sender gave up
                finally:
                    entry["end"] = time.time()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.closing.set()
        self.server.shutdown()


class Api:
    """GraphQL over HTTP with a token; counts answers by status and failed connections.
    A request that fails (connection dropped, 5xx) is sent again, up to `tries` times."""

    def __init__(self, port: int, stats: dict, lock: threading.Lock):
        self.port, self.stats, self.lock = port, stats, lock
        self.connection = None

    def _count(self, key: str) -> None:
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def graphql(self, token: str, query: str, variables: dict, *, tries: int = 20) -> dict | None:
        body = json.dumps({"query": query, "variables": variables})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        for _ in range(tries):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.connection.request("POST", "/graphql/", body, headers)
                response = self.connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                self._count("connection errors")
                self.connection = None
                time.sleep(0.2)
                continue
            self._count(f"HTTP {response.status}")
            if response.status == 200:
                answer = json.loads(payload)
                if not answer.get("errors"):
                    return answer["data"]
                self._count("GraphQL errors")
                with self.lock:
                    self.stats.setdefault("error samples", []).append(str(answer["errors"])[:300])
            time.sleep(0.2)
        return None


class Chaos:
    def __init__(self, args, url: str, setup: dict, port: int, data_dir: Path, serve: subprocess.Popen):
        self.args, self.url, self.setup, self.port, self.data_dir, self.serve = args, url, setup, port, data_dir, serve
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.stats: dict = {}
        self.polls: list[tuple[str, datetime]] = []
        self.lost_polls: list[tuple[str, datetime]] = []
        self.reports: list[str] = []
        self.probes: list[tuple[float, float, str]] = []  # (sent at, seconds to COMPLETE or inf, id)
        self.kills = {"worker": 0, "other cluster process": 0}
        self.terminated = 0
        self._last_instant = datetime.now(timezone.utc)
        self.tokens = setup["tokens"]
        self.rng = random.Random(args.seed)

    # --- load -------------------------------------------------------------------------

    def _instant(self) -> datetime:
        """Now, but after every instant handed out before: each poll's own timestamp."""
        with self.lock:
            self._last_instant = max(datetime.now(timezone.utc), self._last_instant + timedelta(microseconds=1))
            return self._last_instant

    def polls_loop(self) -> None:
        api = Api(self.port, self.stats, self.lock)
        flips: dict[str, bool] = {}
        last_slow = 0.0
        while not self.stop.is_set():
            batches = {"fleet": []}
            for store_id in self.rng.sample(self.setup["fleet"], k=min(5, len(self.setup["fleet"]))):
                if store_id in self.setup["live"]:
                    flips[store_id] = not flips.get(store_id, True)  # down, up, down...
                    status = "active" if flips[store_id] else "inactive"
                else:
                    status = self.rng.choice(["active", "active", "inactive"])
                batches["fleet"].append((store_id, status))
            if time.monotonic() - last_slow > self.args.slow_every:  # slow alerts now and then only
                last_slow = time.monotonic()
                store_id = self.rng.choice(self.setup["slow"])
                flips[store_id] = not flips.get(store_id, True)
                batches["slowpoke"] = [(store_id, "active" if flips[store_id] else "inactive")]
            for tenant, batch in batches.items():
                polls = [(store_id, self._instant(), status) for store_id, status in batch]
                variables = {"polls": [{"storeId": s, "timestampUtc": t.isoformat(), "status": st} for s, t, st in polls]}
                done = api.graphql(self.tokens[tenant], RECORD, variables) is not None
                with self.lock:
                    (self.polls if done else self.lost_polls).extend((s, t) for s, t, _ in polls)
            self.stop.wait(self.args.poll_every)

    def reports_loop(self) -> None:
        api = Api(self.port, self.stats, self.lock)
        while not self.stop.wait(self.rng.uniform(0.5, 1.5) * self.args.report_every):
            answer = api.graphql(self.tokens["fleet"], TRIGGER, {"ids": None})
            if answer:
                with self.lock:
                    self.reports.append(answer["triggerReport"]["id"])

    def probe_loop(self) -> None:
        api = Api(self.port, self.stats, self.lock)
        while not self.stop.is_set():
            sent = time.monotonic()
            answer = api.graphql(self.tokens["probe"], TRIGGER, {"ids": [self.setup["probe"]]})
            if answer:
                report_id = answer["triggerReport"]["id"]
                with self.lock:
                    self.reports.append(report_id)
                took = float("inf")
                while time.monotonic() - sent < 600:
                    status = api.graphql(self.tokens["probe"], STATUS, {"id": report_id})
                    if status and status["report"]["status"] in ("COMPLETE", "FAILED"):
                        took = time.monotonic() - sent
                        break
                    time.sleep(0.1)
                with self.lock:
                    self.probes.append((sent, took, report_id))
            self.stop.wait(max(0.0, self.args.probe_every - (time.monotonic() - sent)))

    # --- faults -----------------------------------------------------------------------

    def _cluster_mains(self) -> list:
        import psutil

        try:
            return [c for c in psutil.Process(self.serve.pid).children() if "qcluster" in c.cmdline()]
        except psutil.Error:
            return []

    def _workers(self) -> list[int]:
        """The live workers of each cluster's newest incarnation (their beat files)."""
        import psutil

        pids = []
        for name in ("uptime", "alerts"):
            folders = sorted((self.data_dir / "worker-beats").glob(f"*-{name}-*"), key=lambda f: int(f.name.rsplit("-", 1)[1]))
            if folders:
                for path in folders[-1].glob("*.json"):
                    try:
                        if psutil.Process(int(path.stem)).status() != psutil.STATUS_ZOMBIE:
                            pids.append(int(path.stem))
                    except (psutil.Error, ValueError):
                        continue
        return pids

    def kill_loop(self) -> None:
        import psutil

        while not self.stop.wait(self.rng.uniform(0.5, 1.5) * self.args.kill_every):
            kind, pid = "worker", None
            if self.rng.random() < self.args.other_kill_share:
                others = []
                for main in self._cluster_mains():
                    try:
                        others += [p.pid for p in main.children(recursive=True)]
                    except psutil.Error:
                        continue
                others = [pid for pid in others if pid not in self._workers()]
                if others:
                    kind, pid = "other cluster process", self.rng.choice(others)
            if pid is None:
                workers = self._workers()
                pid = self.rng.choice(workers) if workers else None
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.kills[kind] += 1
                except ProcessLookupError:
                    pass

    def terminate_loop(self) -> None:
        import psycopg2

        while not self.stop.wait(self.rng.uniform(0.5, 1.5) * self.args.terminate_every):
            try:
                connection = psycopg2.connect(self.url)
                connection.autocommit = True
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND backend_type = 'client backend'"
                    )
                    self.terminated += cursor.fetchone()[0]
                connection.close()
            except psycopg2.Error as error:
                print(f"  (could not end connections: {error})", file=sys.stderr)

    # --- the run ----------------------------------------------------------------------

    def run(self) -> None:
        loops = [self.polls_loop, self.reports_loop, self.probe_loop, self.kill_loop, self.terminate_loop]
        threads = [threading.Thread(target=loop, name=loop.__name__, daemon=True) for loop in loops]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        end = started + self.args.minutes * 60
        while time.monotonic() < end and self.serve.poll() is None:
            time.sleep(1)
        self.stop.set()
        self.faults_for = time.monotonic() - started
        for thread in threads:  # a probe in flight is waited for (its time still counts)
            thread.join(timeout=700)


def drained(url: str, reports: list[str], ok_hook: str) -> bool:
    import psycopg2

    try:
        connection = psycopg2.connect(url)
    except psycopg2.Error:
        return False
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_report WHERE id = ANY(%s::uuid[])"
                       " AND status NOT IN ('COMPLETE', 'FAILED')", [reports])
        unfinished = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM alerts_delivery d JOIN alerts_webhook w ON w.id = d.webhook_id"
                       " WHERE w.url = %s AND d.status NOT IN ('DELIVERED', 'FAILED')", [ok_hook])
        undelivered = cursor.fetchone()[0]
    connection.close()
    return unfinished == 0 and undelivered == 0


def checks(chaos: Chaos, receiver: Receiver, ok_hook: str, slow_hook: str) -> list[tuple[str, bool, str]]:
    import psycopg2

    results = []
    connection = psycopg2.connect(chaos.url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM monitoring_report WHERE id = ANY(%s::uuid[]) GROUP BY status",
                       [chaos.reports])
        statuses = dict(cursor.fetchall())
        results.append(("every report COMPLETE", set(statuses) <= {"COMPLETE"} and sum(statuses.values()) == len(chaos.reports),
                        f"{len(chaos.reports)} triggered: {statuses}"))

        stores, instants = [s for s, _ in chaos.polls], [t for _, t in chaos.polls]
        cursor.execute(
            "SELECT count(p.store_id) AS n FROM unnest(%s::text[], %s::timestamptz[]) AS sent(store_id, at)"
            " JOIN monitoring_store s ON s.store_id = sent.store_id"
            " LEFT JOIN monitoring_statuspoll p ON p.store_id = s.id AND p.timestamp_utc = sent.at"
            " GROUP BY sent.store_id, sent.at",
            [stores, instants],
        )
        counts = [n for (n,) in cursor.fetchall()]
        once = sum(1 for n in counts if n == 1)
        results.append(("every poll stored exactly once", once == len(chaos.polls) and not chaos.lost_polls,
                        f"{len(chaos.polls)} acknowledged, {once} stored once, {sum(1 for n in counts if n == 0)} missing,"
                        f" {sum(1 for n in counts if n > 1)} more than once; {len(chaos.lost_polls)} never acknowledged"))

        cursor.execute("SELECT d.id, w.url, d.status, d.attempts FROM alerts_delivery d"
                       " JOIN alerts_webhook w ON w.id = d.webhook_id")
        deliveries = cursor.fetchall()
    connection.close()

    arrivals: dict[str, list[dict]] = {}
    with receiver.lock:
        for request in receiver.requests:
            arrivals.setdefault(request["id"], []).append(request)
    ok = [(str(i), status) for i, url, status, _ in deliveries if url == ok_hook]
    ok_once = sum(1 for i, status in ok if status == "DELIVERED" and len(arrivals.get(i, [])) == 1)
    twice = sum(1 for i, _ in ok if len(arrivals.get(i, [])) > 1)
    ok_statuses = {}
    for _, status in ok:
        ok_statuses[status] = ok_statuses.get(status, 0) + 1
    results.append(("every alert delivered exactly once (prompt receiver)", ok_once == len(ok) and ok,
                    f"{len(ok)} deliveries {ok_statuses}, {ok_once} arrived once, {twice} more than once"))

    slow = [str(i) for i, url, _, _ in deliveries if url == slow_hook]
    overlapping = 0
    for delivery_id in slow:
        tries = sorted(arrivals.get(delivery_id, []), key=lambda r: r["start"])
        overlaps = [(a, b) for a, b in zip(tries, tries[1:]) if (a["end"] or float("inf")) > b["start"]]
        overlapping += len(overlaps)
        for a, b in overlaps:
            print(f"delivery {delivery_id}: a try from {a['start']:.1f} to {a['end'] or float('inf'):.1f},"
                  f" the next from {b['start']:.1f} (Unix time)")
    slow_statuses = {}
    for _, url, status, _ in deliveries:
        if url == slow_hook:
            slow_statuses[status] = slow_statuses.get(status, 0) + 1
    results.append(("no delivery id arriving twice at once (slow receiver)", overlapping == 0,
                    f"{len(slow)} deliveries {slow_statuses}, {sum(len(arrivals.get(i, [])) for i in slow)} tries arrived,"
                    f" {overlapping} overlapping another try of the same id"))

    errors = chaos.stats.get("HTTP 500", 0)
    results.append(("no HTTP 500", errors == 0, f"{errors} answers 500; answers: "
                    + ", ".join(f"{k} {v}" for k, v in sorted(chaos.stats.items()) if k != "error samples")))

    latencies = [took for _, took, _ in chaos.probes]
    finite = [t for t in latencies if t != float("inf")]
    results.append((f"probe report within {PROBE_LIMIT_SECONDS:.0f} s throughout",
                    bool(latencies) and max(latencies) <= PROBE_LIMIT_SECONDS,
                    f"{len(latencies)} probes: p50 {statistics.median(finite) if finite else float('nan'):.2f} s,"
                    f" p95 {percentile(finite, 0.95):.2f} s, max {max(latencies) if latencies else float('nan'):.2f} s,"
                    f" {sum(1 for t in latencies if t > PROBE_LIMIT_SECONDS)} over the limit"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--database", default="h2", help="dropped and created again (default h2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--live", type=int, default=8, help="fleet stores (24x7) whose polls flip: alerts")
    parser.add_argument("--poll-every", type=float, default=0.25, help="seconds between recordPolls batches")
    parser.add_argument("--slow-every", type=float, default=20, help="seconds between alerts to the slow receiver")
    parser.add_argument("--report-every", type=float, default=20, help="mean seconds between fleet reports")
    parser.add_argument("--probe-every", type=float, default=5)
    parser.add_argument("--kill-every", type=float, default=6, help="mean seconds between SIGKILLs")
    parser.add_argument("--other-kill-share", type=float, default=0.15,
                        help="share of kills aimed at a cluster's other processes (sentinel, pusher, monitor)")
    parser.add_argument("--terminate-every", type=float, default=30,
                        help="mean seconds between ending the app's database connections")
    parser.add_argument("--drain", type=float, default=240, help="at most this long for the work to finish after")
    args = parser.parse_args()

    print(f"chaos bench: {args.minutes:g} min, {args.stores} stores, {machine()}")
    data = generated(args.stores, days=7, seed=args.seed)
    url = fresh_database(args.database)
    manage(["load_data", str(data)], url, stdout=subprocess.DEVNULL)
    setup_code = SETUP.replace("LIVE", str(args.live))
    shell = manage(["shell", "-c", setup_code], url, capture_output=True, text=True)
    setup = json.loads(shell.stdout.strip().splitlines()[-1])

    out = OUT / "chaos"
    out.mkdir(parents=True, exist_ok=True)
    data_dir = out / "data"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir),
           "RATE_LIMIT_REPORTS": "1000000", "RATE_LIMIT_POLLS": "1000000"}
    receiver = Receiver()
    serve_log = out / "serve.log"
    serve = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port)], cwd=ROOT, env=env,
                             stdout=open(serve_log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stats, lock = {}, threading.Lock()
        api = Api(port, stats, lock)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and api.graphql(setup["tokens"]["probe"], "{ __typename }", {}, tries=1) is None:
            time.sleep(0.5)
        ok_hook, slow_hook = receiver.url + "/ok", receiver.url + "/slow"
        api.graphql(setup["tokens"]["fleet"], CREATE_HOOK, {"url": ok_hook})
        api.graphql(setup["tokens"]["slowpoke"], CREATE_HOOK, {"url": slow_hook})
        time.sleep(5)  # both clusters up
        chaos = Chaos(args, url, setup, port, data_dir, serve)
        chaos.run()
        print(f"faults for {chaos.faults_for:.0f} s; draining (at most {args.drain:.0f} s)")
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < args.drain and not drained(url, chaos.reports, ok_hook):
            time.sleep(2)
        drain_took = time.monotonic() - drain_started
        results = checks(chaos, receiver, ok_hook, slow_hook)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
        receiver.close()

    log = serve_log.read_text(errors="replace")
    print(f"kills: {chaos.kills['worker']} workers, {chaos.kills['other cluster process']} other cluster processes;"
          f" {chaos.terminated} database connections ended; drained in {drain_took:.0f} s")
    print(f"supervisor: {log.count('restarting it')} clusters restarted (stalled/stuck/stopped),"
          f" {log.count('exited with code')} restarted after exiting; serve exit code {serve.returncode}")
    print(f"polls: {len(chaos.polls)} recorded; reports: {len(chaos.reports)} (probe {len(chaos.probes)});"
          f" webhook tries arrived: {len(receiver.requests)}")
    failed = 0
    for name, passed, detail in results:
        failed += not passed
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {detail}")
    for sample in chaos.stats.get("error samples", [])[:3]:
        print(f"  GraphQL error sample: {sample}")
    slow_probes = sorted(((took, report_id) for _, took, report_id in chaos.probes), reverse=True)[:3]
    print("slowest probes: " + ", ".join(f"{took:.1f} s ({report_id})" for took, report_id in slow_probes))
    print(f"(serve's log: {serve_log})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: server CPU per GraphQL request, in process (no HTTP, no client threads).

    .venv/bin/python bench/request_cpu.py [--stores 14000] [-n 100] [--rounds 5] [--reuse] [--profile KIND]

Loads generated data into a database of its own (as bench/traffic.py; --reuse keeps an
already loaded one), then sends bench/traffic.py's requests through Django's WSGI
handler in rounds of N and prints, per kind, the CPU time per request of the best round
(process_time: it does not count the time other programs on the machine take) and the
SQL statements per request (through Django's cursor: the COPY of the polls is not
counted). The database's own CPU is not in these figures. --profile KIND prints a
cProfile of that kind instead.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time

from harness import database_url, fresh_database, generated, load_and_settle, machine

DATABASE = "bench_request_cpu"
STORES_PAGE = "query($offset: Int!) { stores(pagination: {offset: $offset, limit: 50}) { totalCount results { id timezone } } }"
UPTIME = "query($id: String!) { store(id: $id) { uptime { windows { window uptimeMinutes downtimeMinutes } } } }"
TRIGGER = "mutation($id: String!) { triggerReport(storeIds: [$id]) { id } }"
STATUS = "query($id: ID!) { report(id: $id) { status } }"


def _environ(body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/graphql/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def post(application, query: str, variables: dict) -> dict:
    """One request through the whole WSGI stack, as gunicorn would send it."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    status: list[str] = []
    chunks = application(_environ(body), lambda s, headers, exc_info=None: status.append(s))
    payload = json.loads(b"".join(chunks))
    if not status[0].startswith("200") or payload.get("errors"):
        raise RuntimeError(f"{status[0]}: {payload.get('errors')}")
    return payload["data"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("-n", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--profile", choices=["stores", "uptime", "trigger", "status"])
    args = parser.parse_args()

    if args.reuse:
        url = database_url(DATABASE)
    else:
        url = fresh_database(DATABASE)
        load_and_settle(generated(args.stores), url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    application = get_wsgi_application()
    rng = random.Random(1)
    store_ids = [s["id"] for s in post(application, "{ stores(pagination: {limit: 500}) { results { id } } }", {})["stores"]["results"]]
    report_id = post(application, TRIGGER, {"id": store_ids[0]})["triggerReport"]["id"]
    kinds = {
        "stores": (STORES_PAGE, lambda: {"offset": rng.randrange(0, 10_000, 50)}),
        "uptime": (UPTIME, lambda: {"id": rng.choice(store_ids)}),
        "trigger": (TRIGGER, lambda: {"id": rng.choice(store_ids)}),
        "status": (STATUS, lambda: {"id": report_id}),
    }
    print(f"bench/request_cpu.py on {machine()}: {args.stores:,} stores, {args.rounds} rounds of {args.n} requests")
    for kind, (query, variables) in kinds.items():
        if args.profile and kind != args.profile:
            continue
        n = args.n if kind != "trigger" else max(1, args.n // 10)
        for _ in range(20):  # warm up: caches, connections
            post(application, query, variables())
        queries: list[str] = []
        # Not CaptureQueriesContext: the handler's request_started signal empties its log.
        with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
            post(application, query, variables())
        profiler = cProfile.Profile() if args.profile else None
        # Rounds, the best one kept: the other programs on the machine only ever add time.
        cpu_rounds, wall_rounds = [], []
        for _ in range(args.rounds):
            requests = [variables() for _ in range(n)]
            if profiler:
                profiler.enable()
            cpu, wall = time.process_time(), time.perf_counter()
            for request in requests:
                post(application, query, request)
            cpu_rounds.append((time.process_time() - cpu) / n * 1000)
            wall_rounds.append((time.perf_counter() - wall) / n * 1000)
            if profiler:
                profiler.disable()
        if profiler:
            profiler.dump_stats(f"/tmp/profile-{kind}.prof")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        print(f"  {kind:<8} CPU {min(cpu_rounds):6.2f} ms/request (median of rounds {statistics.median(cpu_rounds):6.2f})"
              f"  wall {min(wall_rounds):6.2f} ms  SQL queries {len(queries)}")
        if args.profile:
            for sql in queries:
                print("   ", sql)


if __name__ == "__main__":
    main()

"""Benchmark: server CPU per GraphQL request, in process (no HTTP, no client threads).

    .venv/bin/python bench/request_cpu.py [--stores 14000] [-n 100] [--rounds 5] [--reuse] [--profile KIND]
                                          [--database NAME] [--pricing] [--only KIND] [--uncached]

Loads generated data into a database of its own (as bench/traffic.py; --reuse keeps an
already loaded one), then sends bench/traffic.py's requests through Django's WSGI
handler in rounds of N and prints, per kind, the CPU time per request of the best round
(process_time: it does not count the time other programs on the machine take) and the
SQL statements per request (through Django's cursor: the COPY of the polls is not
counted). The database's own CPU is not in these figures. --profile KIND prints a
cProfile of that kind instead.

Kinds: `stores` (a page of 50 stores, ids and zones), `fleet` (a page of 50 stores with
their uptime windows: one batched engine call), `uptime` (one store's), `trigger`,
`status`. Each also prints the median wall time of a request. --uncached turns the read
cache off (API_READ_CACHE_SECONDS=0): every request runs; --only KIND runs one kind.

--pricing measures what pricing a query (graphql_schema.limits.pricing, docs/rules.md §8) adds: each
kind with pricing on and off (GRAPHQL_MAX_NODES=0), rounds interleaved, the read cache
off so that every request runs; the pricing call alone (remembered and computed anew);
and the wall time to refuse the alias-cost query (new document, then repeated).
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

from harness import bench_database, machine

DATABASE = "bench_request_cpu"
STORES_PAGE = "query($offset: Int!) { stores(pagination: {offset: $offset, limit: 50}) { totalCount results { id timezone } } }"
FLEET = (
    "query($offset: Int!) { stores(pagination: {offset: $offset, limit: 50}) { totalCount results { id timezone"
    " uptime { asOf hour { uptimeMinutes downtimeMinutes unknownMinutes } day { uptimeMinutes downtimeMinutes"
    " unknownMinutes } week { uptimeMinutes downtimeMinutes unknownMinutes } } } } }"
)
UPTIME = "query($id: ID!) { store(id: $id) { uptime { windows { kind uptimeMinutes downtimeMinutes } } } }"
TRIGGER = "mutation($id: ID!) { triggerReport(storeIds: [$id]) { id } }"
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


ALIASES = "query Aliases%s { " + " ".join(
    f"a{i}: stores(pagination: {{limit: 500}}) {{ results {{ statusPolls(pagination: {{limit: 500}}) "
    "{ results { timestampUtc } } } }"
    for i in range(15)
) + " }"


def refused(application, query: str) -> dict:
    body = json.dumps({"query": query}).encode()
    status: list[str] = []
    chunks = application(_environ(body), lambda s, headers, exc_info=None: status.append(s))
    payload = json.loads(b"".join(chunks))
    if payload.get("errors", [{}])[0].get("extensions", {}).get("code") != "TOO_COSTLY":
        raise RuntimeError(f"{status[0]}: not refused: {str(payload)[:300]}")
    return payload


def pricing_bench(application, kinds: dict, args) -> None:
    """Pricing's cost per request (see the module's docstring)."""
    from types import SimpleNamespace

    from django.conf import settings
    from graphql import parse

    from graphql_schema.limits import pricing
    from graphql_schema.schema import schema

    limit = settings.GRAPHQL_MAX_NODES
    print(f"pricing (GRAPHQL_MAX_NODES={limit:,} vs 0), read cache off")
    for kind, (query, variables) in kinds.items():
        if kind == "trigger":
            continue
        for _ in range(20):
            post(application, query, variables())
        cpu = {True: [], False: []}
        for _ in range(args.rounds):
            for on in (True, False):
                settings.GRAPHQL_MAX_NODES = limit if on else 0
                requests = [variables() for _ in range(args.n)]
                started = time.process_time()
                for request in requests:
                    post(application, query, request)
                cpu[on].append((time.process_time() - started) / args.n * 1000)
        settings.GRAPHQL_MAX_NODES = limit
        # The pricing call alone: remembered (the same document again) and computed anew.
        context = SimpleNamespace(
            query=query, operation_name=None, variables=variables(), schema=schema, graphql_document=parse(query)
        )
        calls = 20_000
        started = time.perf_counter()
        for _ in range(calls):
            pricing.request_price(context)
        remembered = (time.perf_counter() - started) / calls * 1e6
        started = time.perf_counter()
        for _ in range(calls // 10):
            pricing.operation_price(schema._schema, context.graphql_document, None, context.variables)
        computed = (time.perf_counter() - started) / (calls // 10) * 1e6
        on, off = min(cpu[True]), min(cpu[False])
        print(f"  {kind:<8} CPU on {on:6.3f} ms  off {off:6.3f} ms  added {on - off:+.3f} ms/request"
              f"  | pricing call: {remembered:5.1f} µs remembered, {computed:5.1f} µs computed"
              f"  price {pricing.request_price(context):,}")
    # The alias-cost query: refused before any resolver runs.
    cold = []
    for index in range(20):  # a new document each time: parsed, validated and priced
        started = time.perf_counter()
        payload = refused(application, ALIASES % index)
        cold.append((time.perf_counter() - started) * 1000)
    warm = []
    for _ in range(100):
        started = time.perf_counter()
        refused(application, ALIASES % 0)
        warm.append((time.perf_counter() - started) * 1000)
    print(f"  15-alias query ({len(ALIASES % 0):,} bytes, price {payload['errors'][0]['extensions']['price']:,}) refused in"
          f" {statistics.median(cold):.2f} ms as a new document (max {max(cold):.2f}),"
          f" {statistics.median(warm):.2f} ms repeated (wall, median)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("-n", type=int, default=100, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--profile", choices=["stores", "fleet", "uptime", "trigger", "status"])
    parser.add_argument("--only", choices=["stores", "fleet", "uptime", "trigger", "status"], help="run this kind only")
    parser.add_argument("--uncached", action="store_true", help="read cache off: every request runs")
    parser.add_argument("--database", default=DATABASE, help=f"database name (default {DATABASE})")
    parser.add_argument("--pricing", action="store_true", help="measure what pricing queries adds")
    args = parser.parse_args()

    url = bench_database(args.database, reuse=args.reuse, stores=args.stores)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Hundreds of anonymous triggers a round: counted (the cost is measured), never refused.
    os.environ.setdefault("RATE_LIMIT_REPORTS", "1000000")
    if args.pricing or args.uncached:
        os.environ["API_READ_CACHE_SECONDS"] = "0"  # every request runs

    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    application = get_wsgi_application()
    rng = random.Random(1)
    store_ids = [s["id"] for s in post(application, "{ stores(pagination: {limit: 500}) { results { id } } }", {})["stores"]["results"]]
    report_id = post(application, TRIGGER, {"id": store_ids[0]})["triggerReport"]["id"]
    last_page = max(1, min(args.stores, 10_000) - 50)
    kinds = {
        "stores": (STORES_PAGE, lambda: {"offset": rng.randrange(0, last_page, 50)}),
        "fleet": (FLEET, lambda: {"offset": rng.randrange(0, last_page, 50)}),
        "uptime": (UPTIME, lambda: {"id": rng.choice(store_ids)}),
        "trigger": (TRIGGER, lambda: {"id": rng.choice(store_ids)}),
        "status": (STATUS, lambda: {"id": report_id}),
    }
    print(f"bench/request_cpu.py on {machine()}: {args.stores:,} stores, {args.rounds} rounds of {args.n} requests")
    if args.pricing:
        pricing_bench(application, kinds, args)
        return
    for kind, (query, variables) in kinds.items():
        if (args.profile and kind != args.profile) or (args.only and kind != args.only):
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
        cpu_rounds, wall_rounds, walls = [], [], []
        for _ in range(args.rounds):
            requests = [variables() for _ in range(n)]
            if profiler:
                profiler.enable()
            cpu, wall = time.process_time(), time.perf_counter()
            for request in requests:
                started = time.perf_counter()
                post(application, query, request)
                walls.append((time.perf_counter() - started) * 1000)
            cpu_rounds.append((time.process_time() - cpu) / n * 1000)
            wall_rounds.append((time.perf_counter() - wall) / n * 1000)
            if profiler:
                profiler.disable()
        if profiler:
            profiler.dump_stats(f"/tmp/profile-{kind}.prof")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        print(f"  {kind:<8} CPU {min(cpu_rounds):6.2f} ms/request (median of rounds {statistics.median(cpu_rounds):6.2f})"
              f"  wall {min(wall_rounds):6.2f} ms (median request {statistics.median(walls):6.2f})  SQL queries {len(queries)}")
        if args.profile:
            for sql in queries:
                print("   ", sql)


if __name__ == "__main__":
    main()

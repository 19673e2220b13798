"""Benchmark: what polling with ETags costs, in process (no HTTP, no client threads).

    .venv/bin/python bench/polling.py [--stores 2000] [-n 200]

Loads generated data into a database of its own (dropped at exit), then sends the same
`stores` page of 50 with GET through Django's WSGI handler and prints the median wall
time and the CPU time (process_time) per request of: an answer from the read cache, a 304
from the read cache (the query not run), a write then a 304 (the query runs again), and
the same two with the read cache off.
"""

import argparse
import io
import os
import statistics
import sys
import time
from urllib.parse import urlencode

from harness import fresh_database, generated, load_and_settle, machine

QUERY = "query { stores(pagination: {offset: 100, limit: 50}) { totalCount results { id timezone } } }"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=2_000)
    parser.add_argument("-n", type=int, default=200, help="requests per measure")
    args = parser.parse_args()
    url = fresh_database("bench_polling")
    load_and_settle(generated(args.stores), url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    application = get_wsgi_application()

    def get(etag: str | None = None) -> tuple[str, dict]:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/graphql/", "SCRIPT_NAME": "", "QUERY_STRING": urlencode({"query": QUERY}),
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_ACCEPT": "application/json", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        if etag:
            environ["HTTP_IF_NONE_MATCH"] = etag
        answer: dict = {}
        b"".join(application(environ, lambda status, headers, exc_info=None: answer.update(status=status, headers=dict(headers))))
        return answer["status"], answer["headers"]

    def measure(name: str, request, n: int) -> None:
        for _ in range(10):
            request()
        walls, cpu = [], time.process_time()
        for _ in range(n):
            started = time.perf_counter()
            request()
            walls.append((time.perf_counter() - started) * 1000)
        print(f"  {name:<44} median wall {statistics.median(walls):6.2f} ms  CPU {(time.process_time() - cpu) / n * 1000:6.2f} ms")

    def written_then_not_modified() -> None:
        with connection.cursor() as cursor:  # a write that changes nothing this page shows
            cursor.execute("UPDATE monitoring_store SET timezone_name = timezone_name WHERE id = (SELECT min(id) FROM monitoring_store)")
        status, headers = get(etag)
        assert status.startswith("304") and headers["X-Read-Cache"] == "miss", (status, headers)

    etag = get()[1]["ETag"]
    print(f"bench/polling.py on {machine()}: {args.stores:,} stores, {args.n} requests a measure")
    measure("GET, from the read cache (200)", get, args.n)
    measure("GET with the ETag, from the read cache (304)", lambda: get(etag), args.n)
    measure("a write, then GET with the ETag (runs, 304)", written_then_not_modified, max(1, args.n // 2))
    settings.API_READ_CACHE_SECONDS = 0
    measure("GET, read cache off (200)", get, args.n)
    measure("GET with the ETag, read cache off (runs, 304)", lambda: get(etag), args.n)


if __name__ == "__main__":
    main()

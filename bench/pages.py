"""Benchmark: the store status page and what it is built from, on generated data.

    .venv/bin/python bench/pages.py [--stores 14000] [--samples 30] [--reuse]

Loads a generated data set (14 000 stores × 7 days of hourly polls by default) into a
database of its own, then, in this process, for `--samples` stores picked at random:
- a week's `store_timeline` + `store_incidents` (the services the page calls), and
- the whole `/stores/<id>/` page through Django's request handler (middleware, the
  report row, timeline, incidents, the 90-day strip, the range picker's week, template),
  i.e. server time without the network, and with a 30-day range asked for;
- the fleet home page `/` (first page, `?state=down`, a later page) for every store
  (anonymous access sees them all): every store's figures in one batched engine call,
  sorted worst-first, 50 shown; once with the ranking computed in each request, then
  with it kept in the process (unchanged data version, monitoring.web.pages.fleet.fleet_ranking),
  and with a poll recorded before each request (the kept ranking shown while a `qcluster`
  worker computes the new one: monitoring.fleet, FLEET_SUMMARY_MAX_AGE_SECONDS);
- the fleet ranked over a range of 7 and of 30 days (`/?from=&to=`, computed per request);
and prints the cold first call, median and p95 of each. Goals: timeline+incidents
<= 20 ms, status page <= 100 ms, fleet page <= 150 ms.
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from harness import ROOT, bench_database, latency_summary, machine, start_workers, stop_workers

DB_NAME = "bench_pages"
WEEK = timedelta(days=7)
DAY = timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="use the database left by a previous run")
    parser.add_argument("--database", default=DB_NAME, help=f"database name (default {DB_NAME})")
    parser.add_argument("--fleet-samples", type=int, default=20)
    args = parser.parse_args()

    url = bench_database(args.database, reuse=args.reuse, stores=args.stores, days=args.days)

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["API_ANONYMOUS_ACCESS"] = "1"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from monitoring.models import StatusPoll, Store
    from monitoring.stores.selectors import latest_poll_timestamp
    from monitoring.stores.timeline import store_incidents, store_timeline

    store_count, poll_count = Store.objects.count(), StatusPoll.objects.count()
    as_of = latest_poll_timestamp()
    stores = list(Store.objects.order_by("pk"))
    picked = random.Random(1).sample(stores, min(args.samples, len(stores)))
    print(f"{store_count} stores, {poll_count} polls, as_of {as_of:%Y-%m-%d %H:%M:%S} UTC; {machine()}")

    def services(store) -> float:
        started = time.perf_counter()
        segments = store_timeline(store=store, start=as_of - WEEK, end=as_of)
        incidents = store_incidents(store=store, start=as_of - WEEK, end=as_of)
        elapsed = (time.perf_counter() - started) * 1000
        assert segments and incidents is not None
        return elapsed

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT="text/html")

    def page(store, query: dict | None = None) -> float:
        started = time.perf_counter()
        response = client.get(f"/stores/{store.store_id}/", query or {})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    cold_services = services(picked[0])
    cold_page = page(picked[1])
    service_times = [services(store) for store in picked]
    page_times = [page(store) for store in picked]
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: (queries.append(sql), execute(sql, *rest))[1]):
        page(picked[0])
    size = len(client.get(f"/stores/{picked[0].store_id}/").content)

    print(f"timeline + incidents, one store, a week   cold {cold_services:6.1f} ms   {latency_summary(service_times)}")
    print("    (goal <= 20 ms)")
    print(f"status page /stores/<id>/ (server time)   cold {cold_page:6.1f} ms   {latency_summary(page_times)}")
    print("    (goal <= 100 ms; 'cold' is this process's first request: URLconf, GraphQL schema, templates)")
    print(f"status page: {len(queries)} SQL queries, {size / 1024:.0f} KiB of HTML; {len(picked)} stores sampled")
    print("    (the page includes its strip of 90 local days and the range picker's default week)")
    month = {"from": (as_of - 30 * DAY).isoformat(), "to": as_of.isoformat()}
    range_times = [page(store, month) for store in picked]
    print(f"status page ?from=&to= (30 days)          {latency_summary(range_times)}")

    def fleet(query: dict) -> float:
        started = time.perf_counter()
        response = client.get("/", query)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    from monitoring.fleet.models import FleetRanking
    from monitoring.fleet.summary import fleet_rankings_forget

    def fleet_computed(query: dict) -> float:
        fleet_rankings_forget()  # every store's figures computed in this request
        FleetRanking.objects.all().delete()
        return fleet(query)

    computed = [fleet_computed({}) for _ in range(max(3, args.fleet_samples // 4))]
    print(f"{'fleet page /, ranking computed':40s}  {latency_summary(computed)}   ({len(computed)} requests)")
    for label, query in (("fleet page / (ranking kept)", {}), ("fleet page /?state=down (kept)", {"state": "down"}),
                         ("fleet page /?page=100 (kept)", {"page": 100})):
        fleet_times = [fleet(query) for _ in range(args.fleet_samples)]
        print(f"{label:40s}  {latency_summary(fleet_times)}")
    # The fleet over a range (?from=&to=): every store's figures over the range computed
    # in the request, a chunk of stores at a time (monitoring.fleet.ranges); nothing kept.
    range_samples = max(2, args.fleet_samples // 8)
    for days in (7, 30):
        asked = {"from": (as_of - days * DAY).isoformat(), "to": as_of.isoformat()}
        range_times = [fleet(asked) for _ in range(range_samples)]
        print(f"{f'fleet page /?from=&to= ({days} days)':40s}  {latency_summary(range_times)}   ({range_samples} requests)")
    # Data arriving: a poll for one store before each request. The page shows the ranking
    # kept (at most FLEET_SUMMARY_MAX_AGE_SECONDS old) while a `qcluster` worker computes the new one.
    from datetime import timedelta as _td

    from monitoring.stores.access import EVERYTHING
    from monitoring.ingest import polls_record

    worker = start_workers(dict(os.environ), Path(os.devnull))
    time.sleep(3)  # the worker starts
    after_write, moment = [], as_of
    for i in range(args.fleet_samples):
        moment += _td(seconds=1)
        polls_record(polls=[(stores[i].store_id, moment.isoformat(), "active")], access=EVERYTHING)
        after_write.append(fleet({}))
        time.sleep(0.5)  # a request every half second, as a busy dashboard would
    stop_workers(worker)
    refreshed = FleetRanking.objects.get(scope="all")
    print(f"{'fleet page /, each after a new poll':40s}  {latency_summary(after_write)}")
    print(f"    (the kept ranking shown while the worker refreshes it; the last refresh was for as_of"
          f" {refreshed.as_of:%H:%M:%S}, the newest poll {moment:%H:%M:%S})")
    queries.clear()
    with connection.execute_wrapper(lambda execute, sql, *rest: (queries.append(sql), execute(sql, *rest))[1]):
        fleet({})
    size = len(client.get("/").content)
    print(f"    (goal <= 150 ms; {store_count} stores ranked; {len(queries)} SQL queries, {size / 1024:.0f} KiB of HTML)")


if __name__ == "__main__":
    main()

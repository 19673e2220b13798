"""Benchmark: the store status page and what it is built from, on generated data.

    .venv/bin/python bench/pages.py [--stores 14000] [--samples 30] [--reuse]

Loads a generated data set (14 000 stores × 7 days of hourly polls by default) into a
database of its own, then, in this process, for `--samples` stores picked at random:
- a week's `store_timeline` + `store_incidents` (the services the page calls), and
- the whole `/stores/<id>/` page through Django's request handler (middleware, the
  report row, timeline, incidents, template), i.e. server time without the network;
and prints the cold first call, median and p95 of each. Goals: timeline+incidents
<= 20 ms, page <= 100 ms.

Loading uses `manage.py load_data` when the project has it; otherwise a bench-only
COPY of the three CSVs (same rows, no validation) so the figures are still on full data.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from harness import ROOT, database_url, fresh_database, generated, machine, manage

DB_NAME = "bench_pages"
WEEK = timedelta(days=7)


def has_load_data() -> bool:
    return (ROOT / "monitoring" / "management" / "commands" / "load_data.py").exists()


def copy_load(data: Path, url: str) -> None:
    """Bench-only loader: COPY the generated CSVs into staging tables, then INSERT …
    SELECT into the model tables. The generated files are clean, so no validation."""
    import psycopg2

    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE s_status (store_id text, ts text, status text);"
            "CREATE TEMP TABLE s_hours (store_id text, day int, start_t time, end_t text);"
            "CREATE TEMP TABLE s_zones (store_id text, zone text);"
        )
        files = (("s_status", "store_status.csv"), ("s_hours", "menu_hours.csv"), ("s_zones", "timezones.csv"))
        for table, name in files:
            with open(data / name) as handle:
                cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
        cursor.execute(
            """
            INSERT INTO monitoring_store (store_id, timezone_name)
            SELECT ids.store_id, z.zone FROM (
                SELECT store_id FROM s_status UNION SELECT store_id FROM s_hours UNION SELECT store_id FROM s_zones
            ) ids LEFT JOIN (SELECT DISTINCT ON (store_id) store_id, NULLIF(zone, '') AS zone FROM s_zones) z
              USING (store_id);
            INSERT INTO monitoring_businesshours (store_id, day_of_week, start_time_local, end_time_local)
            SELECT DISTINCT s.id, h.day, h.start_t,
                   CASE WHEN h.end_t LIKE '24:00%%' THEN '00:00'::time ELSE h.end_t::time END
            FROM s_hours h JOIN monitoring_store s USING (store_id);
            INSERT INTO monitoring_statuspoll (store_id, timestamp_utc, is_active)
            SELECT s.id, st.ts::timestamptz, lower(st.status) = 'active'
            FROM s_status st JOIN monitoring_store s USING (store_id)
            ON CONFLICT (store_id, timestamp_utc) DO UPDATE SET is_active = EXCLUDED.is_active;
            """
        )
    with connection.cursor() as cursor:
        connection.autocommit = True
        cursor.execute("ANALYZE")
    connection.close()


def summary(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="use the database left by a previous run")
    args = parser.parse_args()

    if args.reuse:
        url = database_url(DB_NAME)
        how = "reused"
    else:
        data = generated(args.stores, args.days)
        url = fresh_database(DB_NAME)
        started = time.perf_counter()
        if has_load_data():
            manage(["load_data", str(data)], url, stdout=open(os.devnull, "w"))
            how = "manage.py load_data"
        else:
            copy_load(data, url)
            how = "bench-only COPY (load_data not in the project yet)"
        print(f"loaded {data.name} with {how} in {time.perf_counter() - started:.1f} s")

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["API_ANONYMOUS_ACCESS"] = "1"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from monitoring.models import StatusPoll, Store
    from monitoring.selectors import latest_poll_timestamp
    from monitoring.timeline import store_incidents, store_timeline

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

    def page(store) -> float:
        started = time.perf_counter()
        response = client.get(f"/stores/{store.store_id}/")
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

    print(f"timeline + incidents, one store, a week   cold {cold_services:6.1f} ms   {summary(service_times)}")
    print("    (goal <= 20 ms)")
    print(f"status page /stores/<id>/ (server time)   cold {cold_page:6.1f} ms   {summary(page_times)}")
    print("    (goal <= 100 ms; 'cold' is this process's first request: URLconf, GraphQL schema, templates)")
    print(f"status page: {len(queries)} SQL queries, {size / 1024:.0f} KiB of HTML; {len(picked)} stores sampled")


if __name__ == "__main__":
    main()

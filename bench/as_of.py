"""Benchmark: the default `as_of` per caller (docs/rules.md §8), i.e. the latest poll among the
stores a caller can see, next to the global one (staff, anonymous, the CLI).

    .venv/bin/python bench/as_of.py [--stores 14000] [--calls 200] [--reuse]

Loads a generated data set (14,000 stores × 7 days of hourly polls by default) into a
database of its own, gives owners their stores with SQL (disjoint, picked at random):
- `owner-10` 10 stores and `owner-10000` 10,000 stores, polling as usual;
- `quiet-10`: 10 stores whose polls of the last 3 hours are deleted, so the recent
  window below the global latest poll holds none of theirs (the fallback path);
then prints, for `--calls` calls each, the median and p95 of
`selectors.latest_poll_timestamp()` (global) and `latest_poll_timestamp(owner_id=…)`,
plus, for the 10,000-store owner, the 2-hour window alone (as if the last 5 minutes
held none of their polls) and the per-store fallback alone (as if all of their stores
had gone quiet), and checks every answer against a plain max() over the owner's polls.
"""

import argparse
import os
import sys
import time
from datetime import timedelta

from harness import ROOT, bench_database, latency_summary, machine

DB_NAME = "bench_as_of"
OWNERS = (("owner-10", 10), ("owner-10000", 10_000), ("quiet-10", 10))


def assign_owners(cursor, *, seed: float = 0.42) -> None:
    """The owners of OWNERS, each with that many stores picked at random (repeatable);
    the quiet owner's polls of the last 3 hours deleted."""
    cursor.execute("UPDATE monitoring_store SET owner_id = NULL")
    cursor.execute("DELETE FROM monitoring_owner")
    cursor.execute("SELECT setseed(%s)", [seed])
    for name, count in OWNERS:
        cursor.execute("INSERT INTO monitoring_owner (name, created_at) VALUES (%s, now()) RETURNING id", [name])
        (owner_id,) = cursor.fetchone()
        cursor.execute(
            "UPDATE monitoring_store SET owner_id = %s WHERE id IN"
            " (SELECT id FROM monitoring_store WHERE owner_id IS NULL ORDER BY random() LIMIT %s)",
            [owner_id, count],
        )
    cursor.execute(
        "DELETE FROM monitoring_statuspoll p USING monitoring_store s, monitoring_owner o"
        " WHERE s.id = p.store_id AND o.id = s.owner_id AND o.name = 'quiet-10'"
        " AND p.timestamp_utc > (SELECT max(timestamp_utc) FROM monitoring_statuspoll) - interval '3 hours'"
    )
    cursor.execute("ANALYZE monitoring_store")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=14_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="use the database left by a previous run")
    args = parser.parse_args()
    if args.stores < sum(count for _, count in OWNERS):
        parser.error(f"--stores must be at least {sum(count for _, count in OWNERS)}")

    url = bench_database(DB_NAME, reuse=args.reuse, stores=args.stores, days=args.days)

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from monitoring.models import Owner, StatusPoll, Store
    from monitoring.stores.selectors import latest_poll_timestamp, owner_newest_poll_by_store, owner_recent_poll

    with connection.cursor() as cursor:
        assign_owners(cursor)
    owners = {owner.name: owner.pk for owner in Owner.objects.all()}
    print(
        f"{Store.objects.count():,} stores, {StatusPoll.objects.count():,} polls, "
        f"latest poll {latest_poll_timestamp():%Y-%m-%d %H:%M:%S} UTC; {machine()}; "
        f"{args.calls} calls each after 5 warm-up calls"
    )

    def measure(label: str, function, expected) -> None:
        for _ in range(5):
            function()
        samples = []
        for _ in range(args.calls):
            started = time.perf_counter()
            answer = function()
            samples.append((time.perf_counter() - started) * 1000)
        assert answer == expected, (label, answer, expected)
        print(f"{label:<56} {latency_summary(samples, digits=2)}   -> {answer:%Y-%m-%d %H:%M:%S.%f} UTC")

    def plain_max(owner_id: int | None):
        with connection.cursor() as cursor:
            if owner_id is None:
                cursor.execute("SELECT max(timestamp_utc) FROM monitoring_statuspoll")
            else:
                cursor.execute(
                    "SELECT max(p.timestamp_utc) FROM monitoring_statuspoll p"
                    " JOIN monitoring_store s ON s.id = p.store_id WHERE s.owner_id = %s",
                    [owner_id],
                )
            return cursor.fetchone()[0]

    measure("global (staff, anonymous, CLI)", latest_poll_timestamp, plain_max(None))
    for name, count in OWNERS:
        owner_id = owners[name]
        what = "recent windows" if name.startswith("owner") else "no recent poll: per-store fallback"
        measure(
            f"owner of {count:,} stores ({what})",
            lambda owner_id=owner_id: latest_poll_timestamp(owner_id=owner_id),
            plain_max(owner_id),
        )
    big = owners["owner-10000"]
    since = latest_poll_timestamp() - timedelta(hours=2)
    measure(
        "owner of 10,000 stores, the 2-hour window alone",
        lambda: owner_recent_poll(owner_id=big, since=since),
        plain_max(big),
    )
    measure(
        "owner of 10,000 stores, per-store fallback alone",
        lambda: owner_newest_poll_by_store(owner_id=big),
        plain_max(big),
    )


if __name__ == "__main__":
    main()

"""Benchmark: the escalation check (docs/rules.md §13) that every worker's sweep runs
every REPORT_SWEEP_SECONDS.

    .venv/bin/python bench/escalation.py [--incidents 100 1000] [--runs 10]

On a database of its own: one owner with a policy (nothing due for a day), `--incidents`
stores each with an open, unacknowledged incident (a mass outage), and the check timed
`--runs` times (median and max); then with no open incident, the usual case.
"""

import argparse
import os
import statistics
import sys
import time

from harness import ROOT, fresh_database, machine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    os.environ["DATABASE_URL"] = fresh_database("bench_escalation")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.alerts.escalation_check import incidents_escalate
    from monitoring.alerts.models import EscalationPolicy, Incident
    from monitoring.models import Owner, Store

    print(machine())
    owner = Owner.objects.create(name="bench")
    EscalationPolicy.objects.create(owner=owner, escalate_after_minutes=1440)
    for count in options.incidents:
        Incident.objects.all().delete()
        Store.objects.all().delete()
        stores = Store.objects.bulk_create(Store(store_id=f"s{i}", owner=owner) for i in range(count))
        now = timezone.now()
        Incident.objects.bulk_create(Incident(store=store, started_at=now - timedelta(minutes=5)) for store in stores)
        incidents_escalate()  # warm
        runs = []
        for _ in range(options.runs):
            start = time.perf_counter()
            assert incidents_escalate() == []
            runs.append(time.perf_counter() - start)
        print(f"{count} open incidents, none due: median {statistics.median(runs) * 1000:.1f} ms, max {max(runs) * 1000:.1f} ms")
    Incident.objects.all().delete()
    runs = []
    for _ in range(options.runs):
        start = time.perf_counter()
        incidents_escalate()
        runs.append(time.perf_counter() - start)
    print(f"no open incident: median {statistics.median(runs) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

"""Pure-engine benchmark on synthetic arrays (no database).

    .venv/bin/python bench/engine.py [--stores 14000] [--seed 7] [--repeat 3] [--real-hours]

Builds seeded synthetic schedules (mixed zones, 1–3 shifts a day, some stores 24x7,
some closed days) and about 2 million hourly polls over a week, then times
`compute_uptime` (best of N), `business_intervals` and the week's lost revenue of every
store (`engine.revenue`: time per local hour, priced at a rate for each hour of the
week, as the fleet ranking computes it), and prints peak RSS.
With --real-hours the schedules are the public data set's business hours and zones
(../shared/data/loop-2023, every store in either file) and the polls are generated.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time as clock
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.engine import Polls, Shift, StoreSchedule, business_intervals, compute_uptime  # noqa: E402
from monitoring.engine.revenue import priced, window_hour_exposure  # noqa: E402

ZONES = [
    None,
    "America/Chicago",
    "America/New_York",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Boise",
    "America/Detroit",
    "America/Indiana/Indianapolis",
    "Australia/Lord_Howe",
]


def build_schedules(n: int, rng: np.random.Generator) -> list[StoreSchedule]:
    out = []
    zone_pick = rng.integers(0, len(ZONES), n)
    kind = rng.random(n)
    for i in range(n):
        shifts = []
        if kind[i] >= 0.1:  # 10 % open 24x7 (no rows)
            for dow in range(7):
                if rng.random() < 0.1:  # closed that day
                    continue
                k = int(rng.integers(1, 4))
                starts = np.sort(rng.integers(0, 24 * 4, k)) * 15  # minutes
                for s in starts:
                    length = int(rng.integers(2, 12)) * 60
                    e = (int(s) + length) % (24 * 60)
                    shifts.append(Shift(dow, time(int(s) // 60, int(s) % 60), time(e // 60, e % 60)))
        out.append(StoreSchedule(store_id=f"{i:019d}", timezone_name=ZONES[zone_pick[i]], shifts=tuple(shifts)))
    return out


def real_schedules(folder: Path) -> list[StoreSchedule]:
    import csv

    zones: dict[str, str | None] = {}
    shifts: dict[str, list[Shift]] = {}
    with open(folder / "timezones.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            zones[row["store_id"].strip()] = row["timezone_str"].strip() or None
    with open(folder / "menu_hours.csv", newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            shifts.setdefault(row["store_id"].strip(), []).append(
                Shift(int(row["day"]), time.fromisoformat(row["start_time_local"].strip()),
                      time.fromisoformat(row["end_time_local"].strip()))
            )
    ids = sorted(set(zones) | set(shifts))
    return [StoreSchedule(i, zones.get(i), tuple(shifts.get(i, ()))) for i in ids]


def build_polls(n: int, as_of: datetime, rng: np.random.Generator, per_hour: float = 1.0) -> Polls:
    as_of_us = int(as_of.timestamp() * 1_000_000)
    start = as_of_us - (7 * 24 + 2) * 3_600_000_000
    hours = 7 * 24 + 2
    slots = int(hours * per_hour)
    step = int(3_600_000_000 / per_hour)
    # each store misses ~15 % of its polls
    keep = rng.random((n, slots)) > 0.15
    jitter = rng.integers(0, step, (n, slots))
    t = start + np.arange(slots, dtype=np.int64)[None, :] * step + jitter
    store = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], (n, slots))
    down_store = rng.random(n) < 0.2
    active = rng.random((n, slots)) > np.where(down_store, 0.3, 0.02)[:, None]
    keep &= t <= as_of_us
    return Polls(store[keep].copy(), t[keep].copy(), active[keep].copy())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stores", type=int, default=14_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--real-hours", action="store_true", help="use the public data set's hours and zones")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    as_of = datetime(2023, 3, 15, 12, tzinfo=timezone.utc)  # the week includes the US spring-forward
    t0 = clock.perf_counter()
    if args.real_hours:
        as_of = datetime(2023, 1, 25, 18, 13, 22, tzinfo=timezone.utc)  # the public data's latest poll
        schedules = real_schedules(Path(__file__).resolve().parents[2] / "shared" / "data" / "loop-2023")
        args.stores = len(schedules)
    else:
        schedules = build_schedules(args.stores, rng)
    polls = build_polls(args.stores, as_of, rng)
    build = clock.perf_counter() - t0
    n_shifts = sum(len(s.shifts) for s in schedules)
    kind = "public hours + generated polls" if args.real_hours else "synthetic data"
    print(f"{kind}: {args.stores} stores, {n_shifts} shift rows, {len(polls.timestamp_us):,} polls, "
          f"{len({s.timezone_name for s in schedules})} zone values (built in {build:.2f} s)")

    times = []
    for _ in range(args.repeat):
        t0 = clock.perf_counter()
        result = compute_uptime(schedules=schedules, polls=polls, as_of=as_of)
        times.append(clock.perf_counter() - t0)
    print(f"compute_uptime: best {min(times) * 1000:.0f} ms, first {times[0] * 1000:.0f} ms (cold: zone tables, "
          f"fresh memory), all {[round(t * 1000) for t in times]} ms")

    times = []
    for _ in range(args.repeat):
        t0 = clock.perf_counter()
        store, s, e = business_intervals(schedules=schedules, start=as_of - timedelta(days=7), end=as_of)
        times.append(clock.perf_counter() - t0)
    print(f"business_intervals (one week): best {min(times) * 1000:.0f} ms, {len(store):,} merged intervals")

    n = len(schedules)
    rates = rng.integers(0, 50_000, (n, 7 * 24))  # cents per local hour of the week
    ends = np.full(n, int(as_of.timestamp() * 1_000_000))
    times = []
    for _ in range(args.repeat):
        t0 = clock.perf_counter()
        exposure = window_hour_exposure(
            schedules=schedules, polls=polls, window_store=np.arange(n), window_start_us=ends - 7 * 86_400_000_000,
            window_end_us=ends,
        )
        lost, at_risk = priced(exposure, rates_cents=rates, window_store=np.arange(n), windows=n)
        times.append(clock.perf_counter() - t0)
    print(f"lost revenue (one week, every store): best {min(times) * 1000:.0f} ms, {len(exposure.window):,}"
          f" (store, hour) entries; total lost {lost.total().rounded()[0] / 100:,.2f}, at risk"
          f" {at_risk.total().rounded()[0] / 100:,.2f}")

    week = result.seconds[:, 2, :].sum(axis=0) / 3600
    print(f"week totals (hours): up {week[0]:,.0f}, down {week[1]:,.0f}, unknown {week[2]:,.0f}; "
          f"max |up+down+unknown-business| = "
          f"{np.abs(result.seconds.sum(axis=2) - result.business_seconds).max():.2e} s")
    inc = result.incident_counts.sum(axis=0)
    print(f"incidents (all stores): last hour {inc[0]:,}, last day {inc[1]:,}, last week {inc[2]:,}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()

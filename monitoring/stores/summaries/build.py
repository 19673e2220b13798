"""Writing kept daily figures (`DaySummary`, docs/rules.md §11): rows that are stale, and
the days not kept yet up to where polls have arrived.

A row is computed and written inside one transaction that holds the writer lock
(monitoring.stores.data_version): no write of polls, hours or zones can commit between
the read of its inputs and its commit, and every such write marks the rows it can
change stale in its own transaction (triggers of migration 0020). So a row that is not
stale always equals a computation from the raw polls. Each transaction computes a
bounded slice (about BUILD_POLLS polls), so writers wait for the lock no longer than that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from psycopg2.extras import execute_values

from monitoring.engine import StoreSchedule, from_us, local_midnights, to_us, window_figures
from monitoring.engine.zones import td_us
from monitoring.kernel.periods import default_horizon
from monitoring.models import DaySummary, Store
from monitoring.stores.data_version import writer_lock
from monitoring.stores.selectors import earliest_poll_timestamp, latest_poll_timestamp, polls_between, store_schedules

#: Polls one build transaction reads, about (a day of a store is ~24).
BUILD_POLLS = 300_000
_POLLS_PER_DAY = 24
_TABLE = DaySummary._meta.db_table
_COLUMNS = (
    "store_id", "day", "start_utc", "end_utc", "horizon_us", "evidence_from", "evidence_to", "up_seconds",
    "down_seconds", "business_seconds", "day_up_seconds", "day_down_seconds", "incidents", "starts_down",
    "ends_down", "stale", "frozen",
)


def summaries_compute_and_write(*, spans: Sequence[tuple[int, date, date]], horizon: timedelta) -> int:
    """Computes and writes the rows of every (store pk, first date, last date) span, under
    the writer lock (the caller's transaction; the lock is taken here if not held).
    Rows that exist are replaced unless frozen. Returns the rows written."""
    if not spans:
        return 0
    with connection.cursor() as cursor:
        writer_lock(cursor)
        cursor.execute(
            f"SELECT id, store_id, timezone_name FROM {Store._meta.db_table} WHERE id = ANY(%s)",
            [sorted({pk for pk, _, _ in spans})],
        )
        by_pk = {pk: (pk, store_id, zone) for pk, store_id, zone in cursor.fetchall()}
    spans = [(pk, first, last) for pk, first, last in spans if pk in by_pk and first <= last]
    if not spans:
        return 0
    stores = [by_pk[pk] for pk in sorted({pk for pk, _, _ in spans})]
    index = {pk: i for i, (pk, _, _) in enumerate(stores)}
    first = min(f for _, f, _ in spans)
    last = max(l for _, _, l in spans)
    H = td_us(horizon)
    # Generous UTC bounds: local midnights lie within a day of UTC ones.
    lo = datetime.combine(first, datetime.min.time(), tzinfo=UTC) - timedelta(days=1) - horizon
    hi = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(days=2) + horizon
    schedules = store_schedules(stores=stores, start=lo, end=hi)
    polls = polls_between(stores=stores, start=lo, end=hi)
    midnights = local_midnights(schedules=schedules, first=first, last=last)
    w_store, w_day = [], []
    for pk, f, l in spans:
        i = index[pk]
        for k in range((f - first).days, (l - first).days + 1):
            w_store.append(i)
            w_day.append(k)
    w_store = np.array(w_store, dtype=np.int64)
    w_day = np.array(w_day, dtype=np.int64)
    starts = midnights[w_store, w_day]
    ends = midnights[w_store, w_day + 1]
    # Both readings in one pass: every poll as evidence, and the day alone.
    m = len(w_store)
    figures = window_figures(
        schedules=schedules, polls=polls,
        window_store=np.concatenate((w_store, w_store)),
        window_start_us=np.concatenate((starts, starts)),
        window_end_us=np.concatenate((ends, ends)),
        window_as_of_us=np.concatenate((ends + H, ends)),
        horizon=horizon,
    )
    rows = []
    for j in range(m):
        start, end = int(starts[j]), int(ends[j])
        rows.append((
            stores[w_store[j]][0], first + timedelta(days=int(w_day[j])), from_us(start), from_us(end), H,
            from_us(start - H), from_us(end + H),
            float(figures.seconds[j, 0]), float(figures.seconds[j, 1]), float(figures.business[j]),
            float(figures.seconds[m + j, 0]), float(figures.seconds[m + j, 1]),
            int(figures.incidents[j]), bool(figures.starts_down[j]), bool(figures.ends_down[j]), False, False,
        ))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[2:])
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES %s"
            f" ON CONFLICT (store_id, day) DO UPDATE SET {updates} WHERE NOT {_TABLE}.frozen",
            rows,
            page_size=5000,
        )
    return len(rows)


def _slices(spans: Iterable[tuple[int, date, date]]) -> Iterable[list[tuple[int, date, date]]]:
    """Spans grouped so that each group reads about BUILD_POLLS polls (a long span is cut)."""
    budget_days = max(1, BUILD_POLLS // _POLLS_PER_DAY)
    group: list[tuple[int, date, date]] = []
    days = 0
    for pk, first, last in spans:
        while first <= last:
            take = min((last - first).days + 1, budget_days - days)
            group.append((pk, first, first + timedelta(days=take - 1)))
            days += take
            first += timedelta(days=take)
            if days >= budget_days:
                yield group
                group, days = [], 0
    if group:
        yield group


def _write_slices(spans: Iterable[tuple[int, date, date]], *, horizon: timedelta, budget: int | None) -> int:
    written = 0
    for group in _slices(spans):
        with transaction.atomic():
            written += summaries_compute_and_write(spans=group, horizon=horizon)
        if budget is not None and written >= budget:
            break
    return written


def summaries_refresh_stale(*, budget: int | None = None) -> int:
    """Recomputes the rows marked stale (and rows kept for another horizon); returns how many."""
    horizon = default_horizon()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT store_id, day FROM {_TABLE} WHERE (stale OR horizon_us <> %s) AND NOT frozen"
            f" ORDER BY store_id, day",
            [td_us(horizon)],
        )
        rows = cursor.fetchall()
    by_store: dict[int, list[date]] = defaultdict(list)
    for pk, day in rows:
        by_store[pk].append(day)
    spans = []
    for pk, days in by_store.items():
        run_first = prev = days[0]
        for day in days[1:]:
            if day != prev + timedelta(days=1):
                spans.append((pk, run_first, prev))
                run_first = day
            prev = day
        spans.append((pk, run_first, prev))
    return _write_slices(spans, horizon=horizon, budget=budget)


def summaries_extend(*, until: datetime | None = None, store_pks: Sequence[int] | None = None,
                     budget: int | None = None) -> int:
    """Keeps every day not kept yet, per store, from its first kept day (or the first
    poll's date, at most HISTORY_RETENTION_DAYS back) to the last local date that ends at
    least H before `until` (default: the latest poll of all). Returns the rows written."""
    horizon = default_horizon()
    until = until or latest_poll_timestamp()
    earliest = earliest_poll_timestamp()
    if until is None or earliest is None:
        return 0
    oldest = max(earliest, until - timedelta(days=settings.HISTORY_RETENTION_DAYS)) - timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.timezone_name,"
            f" (SELECT min(day) FROM {_TABLE} d WHERE d.store_id = s.id),"
            f" (SELECT max(day) FROM {_TABLE} d WHERE d.store_id = s.id)"
            f" FROM {Store._meta.db_table} s" + (" WHERE s.id = ANY(%s)" if store_pks is not None else "")
            + " ORDER BY s.id",
            [list(store_pks)] if store_pks is not None else [],
        )
        stores = cursor.fetchall()
    if not stores:
        return 0
    # The last date whose end + H is at most `until`, per zone (midnights per zone, once).
    zones = sorted({zone for _, zone, _, _ in stores}, key=lambda z: z or "")
    schedules = [StoreSchedule(str(z), z, ()) for z in zones]
    first_day = oldest.date() - timedelta(days=1)
    last_day = until.date() + timedelta(days=1)
    midnights = local_midnights(schedules=schedules, first=first_day, last=last_day)
    limit = to_us(until) - td_us(horizon)
    start_us = to_us(oldest)
    span_by_zone = {}
    for z, zone in enumerate(zones):
        ends = midnights[z, 1:]
        starts = midnights[z, :-1]
        ok = np.flatnonzero((ends <= limit) & (starts >= start_us))
        span_by_zone[zone] = (
            (first_day + timedelta(days=int(ok[0])), first_day + timedelta(days=int(ok[-1]))) if len(ok) else None
        )
    spans = []
    for pk, zone, kept_first, kept_last in stores:
        span = span_by_zone[zone]
        if span is None:
            continue
        first, last = span
        if kept_last is None:
            spans.append((pk, first, last))
        elif kept_last < last:
            spans.append((pk, kept_last + timedelta(days=1), last))
    return _write_slices(spans, horizon=horizon, budget=budget)


def summaries_bring_up_to_date(*, until: datetime | None = None, budget: int | None = None) -> int:
    """What the worker's sweep and `load_data` run: stale rows first, then new days."""
    written = summaries_refresh_stale(budget=budget)
    if budget is not None and written >= budget:
        return written
    return written + summaries_extend(until=until, budget=None if budget is None else budget - written)

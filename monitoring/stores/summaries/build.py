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

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from monitoring.engine import StoreSchedule, from_us, local_midnights, to_us, window_figures
from monitoring.engine.zones import td_us
from monitoring.kernel.copy_format import HEADER, TRAILER, binary_rows
from monitoring.kernel.periods import PG_EPOCH_DATE, PG_EPOCH_UNIX_US, default_horizon
from monitoring.models import DaySummary, Store
from monitoring.stores.data_version import writer_lock
from monitoring.stores.selectors import earliest_poll_timestamp, latest_poll_timestamp, polls_between, store_schedules

#: Polls one build transaction reads, about (a day of a store is ~24).
BUILD_POLLS = 1_000_000
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
    zones_only = [StoreSchedule(store_id, zone, ()) for _pk, store_id, zone in stores]
    midnights = local_midnights(schedules=zones_only, first=first, last=last)
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
    # Exactly the polls that can matter: from the earliest start - H to the latest end + H.
    lo, hi = from_us(int(starts.min()) - H), from_us(int(ends.max()) + H)
    schedules = store_schedules(stores=stores, start=lo, end=hi)
    polls = polls_between(stores=stores, start=lo, end=hi)
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
    pg_us = np.int64(PG_EPOCH_UNIX_US)
    columns = [
        np.array([stores[i][0] for i in w_store], dtype=np.int64),
        (w_day + (first - PG_EPOCH_DATE).days).astype(np.int32),
        starts - pg_us, ends - pg_us, np.full(m, H, np.int64), starts - H - pg_us, ends + H - pg_us,
        figures.seconds[:m, 0].copy(), figures.seconds[:m, 1].copy(), figures.business[:m].copy(),
        figures.seconds[m:, 0].copy(), figures.seconds[m:, 1].copy(),
        figures.incidents[:m].astype(np.int32), figures.starts_down[:m].copy(), figures.ends_down[:m].copy(),
        np.zeros(m, bool), np.zeros(m, bool),
    ]
    staging = "monitoring_day_summary_rows"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[2:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS"
            f" AS SELECT {', '.join(_COLUMNS)} FROM {_TABLE} WITH NO DATA"
        )
        cursor.copy_expert(
            f"COPY {staging} ({', '.join(_COLUMNS)}) FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(HEADER + binary_rows(columns) + TRAILER),
        )
        cursor.execute(
            f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM {staging}"
            f" ON CONFLICT (store_id, day) DO UPDATE SET {updates} WHERE NOT {_TABLE}.frozen"
        )
        cursor.execute(f"TRUNCATE {staging}")
    return m


def _slices(spans: Sequence[tuple[int, date, date]]) -> Iterable[list[tuple[int, date, date]]]:
    """Spans regrouped by dates: each group covers a run of dates for every store whose
    span holds them (so each reads a band of time once, not every store's whole span),
    about BUILD_POLLS polls a group; a date with more stores than that is split by stores."""
    if not spans:
        return
    budget = max(1, BUILD_POLLS // _POLLS_PER_DAY)  # store-days a group
    pks = np.array([pk for pk, _, _ in spans], dtype=np.int64)
    origin = min(first for _, first, _ in spans)
    firsts = np.array([(first - origin).days for _, first, _ in spans], dtype=np.int64)
    lasts = np.array([(last - origin).days for _, _, last in spans], dtype=np.int64)
    per_day = np.bincount(firsts, minlength=lasts.max() + 2) - np.bincount(lasts + 1, minlength=lasts.max() + 2)
    per_day = np.cumsum(per_day)[: lasts.max() + 1]  # stores whose span holds each date
    day = 0
    while day <= lasts.max():
        if per_day[day] == 0:
            day += 1
            continue
        end, held = day, 0
        while end <= lasts.max() and held + per_day[end] <= budget:
            held += per_day[end]
            end += 1
        if end == day:  # one date holds more stores than a group: split it by stores
            covering = np.flatnonzero((firsts <= day) & (lasts >= day))
            for k in range(0, len(covering), budget):
                d = origin + timedelta(days=int(day))
                yield [(int(pks[i]), d, d) for i in covering[k : k + budget]]
            day += 1
            continue
        covering = np.flatnonzero((firsts < end) & (lasts >= day))
        yield [
            (int(pks[i]), origin + timedelta(days=int(max(firsts[i], day))),
             origin + timedelta(days=int(min(lasts[i], end - 1))))
            for i in covering
        ]
        day = end


def _write_slices(spans: Sequence[tuple[int, date, date]], *, horizon: timedelta, budget: int | None) -> int:
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


def summaries_freeze_before_pruning(*, cuts_sql: str, params: Sequence = ()) -> int:
    """Before polls are pruned: every day whose evidence reaches before its store's cut
    (`cuts_sql`: a query of store_id, cut) is kept and current, then frozen so that it
    outlives its polls; the stores with polls before their cut are marked
    (`Store.polls_pruned_before`). Returns the rows frozen."""
    summaries_bring_up_to_date()
    with transaction.atomic(), connection.cursor() as cursor:
        writer_lock(cursor)  # nothing can mark a row stale between the refresh and the freeze
        cursor.execute(
            f"SELECT d.store_id, d.day FROM {_TABLE} d JOIN ({cuts_sql}) c ON c.store_id = d.store_id"
            f" WHERE d.stale AND NOT d.frozen AND d.evidence_from < c.cut ORDER BY d.store_id, d.day",
            list(params),
        )
        stale = cursor.fetchall()
        summaries_compute_and_write(spans=[(pk, day, day) for pk, day in stale], horizon=default_horizon())
        cursor.execute(
            f"UPDATE {_TABLE} d SET frozen = true FROM ({cuts_sql}) c"
            f" WHERE c.store_id = d.store_id AND d.evidence_from < c.cut AND NOT d.frozen",
            list(params),
        )
        frozen = cursor.rowcount
        cursor.execute(
            f"UPDATE {Store._meta.db_table} s SET polls_pruned_before = greatest(s.polls_pruned_before, c.cut)"
            f" FROM ({cuts_sql}) c WHERE c.store_id = s.id AND EXISTS"
            f" (SELECT 1 FROM monitoring_statuspoll p WHERE p.store_id = s.id AND p.timestamp_utc < c.cut)",
            list(params),
        )
    return frozen


def summaries_prune(*, cuts_sql: str, params: Sequence = ()) -> int:
    """Deletes kept days that end before their store's history cut (`cuts_sql`: store_id,
    cut); returns how many."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_TABLE} d USING ({cuts_sql}) c WHERE c.store_id = d.store_id AND d.end_utc <= c.cut",
            list(params),
        )
        return cursor.rowcount

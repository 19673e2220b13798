"""History over any range (docs/rules.md §11): business minutes up, down and unknown over
``[from, to)`` for many stores, and per local calendar day for one store, computed from
the stored polls with the engine (monitoring.engine.ranges); the range CSV.

Every figure uses the polls at or before the end of its own range as evidence: the
report's rule with ``as_of = to``. `to` defaults to the caller's default as_of (the
latest poll among the stores they can see, docs/rules.md §8).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TextIO

import numpy as np
from django.conf import settings

from monitoring.engine import from_us
from monitoring.kernel import values
from monitoring.kernel.errors import InputError
from monitoring.kernel.people_csv import PeopleCsvWriter, figures_csv, figures_rows, spreadsheet_safe, two_decimals
from monitoring.kernel.periods import WEEK, default_horizon
from monitoring.models import Store
from monitoring.history.revenue import LostRevenue, lost_revenue_of_range, lost_revenue_of_windows
from monitoring.stores.access import owner_access
from monitoring.stores.chunks import balanced_chunk_size, computed_in_order
from monitoring.stores.revenue import revenue_in_scope
from monitoring.stores.selectors import (
    default_as_of,
    in_chunks,
    stores_in_code_point_order,
)
from monitoring.stores.summaries import daily_totals, range_totals

#: The range CSV's header, exactly (docs/rules.md §11).
RANGE_CSV_HEADER = ("store_id", "uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes")
#: The two columns a range CSV gains when revenue rows are stored (docs/rules.md §13).
REVENUE_CSV_COLUMNS = ("lost_revenue", "revenue_at_risk")
#: Most local dates one daily question answers: a year, leap day included. The API
#: prices `Store.daily` with it (graphql_schema.limits.pricing).
DAILY_MAX_DAYS = 366


class HistoryInputError(InputError):
    """A history question that cannot be answered as asked; `field` names the input at
    fault (from, to)."""


@dataclass(frozen=True)
class DayFigures:
    """One local calendar date of one store: ``[start, end)`` is its 00:00 to the next
    date's 00:00 in the store's zone (23 or 25 hours across a DST change); minutes
    unrounded."""

    date: date
    start: datetime
    end: datetime
    uptime_minutes: float
    downtime_minutes: float
    unknown_minutes: float
    business_minutes: float
    #: docs/rules.md §13, when asked for: None without an estimate.
    lost_revenue: LostRevenue | None = None


def max_range() -> timedelta:
    return timedelta(days=settings.HISTORY_RETENTION_DAYS)


def range_validate(*, start: datetime, end: datetime) -> None:
    """Refuses a range the rules do not answer: an instant without an offset or outside
    the years 2000–2100, `to` not after `from`, or longer than HISTORY_RETENTION_DAYS."""
    for moment, field in ((start, "from"), (end, "to")):
        try:
            values.as_of_range(moment, field=field)
        except values.InvalidValue as error:
            raise HistoryInputError(error.reason, field=field) from None
    if end <= start:
        raise HistoryInputError(
            f"must be after from ({values.instant_text(end)} is not after {values.instant_text(start)})", field="to"
        )
    if end - start > max_range():
        raise HistoryInputError(
            f"is {_days(end - start)} days before to: a range spans at most"
            f" {settings.HISTORY_RETENTION_DAYS} days (HISTORY_RETENTION_DAYS)",
            field="from",
        )


def range_resolve(
    *, start: datetime, end: datetime | None, owner_id: int | None = None, group_id: int | None = None
) -> tuple[datetime, datetime]:
    """(from, to) checked, `to` defaulting to the caller's default as_of (an owner's
    latest poll when owner_id is given, its group's with group_id, else everyone's)."""
    if end is None:
        end = default_as_of(owner_id=owner_id, group_id=group_id)
    range_validate(start=start, end=end)
    return start, end


def daily_validate(*, first: date, last: date) -> None:
    """Refuses dates the rules do not answer: `to` before `from`, more than DAILY_MAX_DAYS
    dates, or a span longer than HISTORY_RETENTION_DAYS."""
    if last < first:
        raise HistoryInputError(f"must not be before from ({last.isoformat()} is before {first.isoformat()})", field="to")
    days = (last - first).days + 1
    most = min(DAILY_MAX_DAYS, settings.HISTORY_RETENTION_DAYS)
    if days > most:
        raise HistoryInputError(f"from–to holds {days} dates: at most {most} are answered at once", field="from")


def _days(length: timedelta) -> str:
    return f"{length / timedelta(days=1):.10g}"


def _figures_row(store_id: str, seconds, business: float, whole_days: bool) -> dict:
    return {
        "store_id": store_id,
        "uptime_minutes": float(seconds[0]) / 60,
        "downtime_minutes": float(seconds[1]) / 60,
        "unknown_minutes": float(seconds[2]) / 60,
        "business_minutes": float(business) / 60,
        "whole_days": whole_days,
    }


def range_rows(
    *, stores: Sequence[tuple[int, str, str | None]], start: datetime, end: datetime, horizon: timedelta,
    revenue: bool = False,
) -> list[dict]:
    """One row per store given (pk, store_id, zone), in their order: minutes up, down,
    unknown and business over [start, end), unrounded, from kept days and the raw polls
    at their edges (monitoring.stores.summaries); `whole_days` when part of the range
    lay where the store's polls are pruned, answered from the whole kept days there
    (docs/rules.md §11); with `revenue`, `lost_revenue` (LostRevenue, or None without an
    estimate: docs/rules.md §13). The caller has checked the range."""
    totals = range_totals(stores=stores, start=start, end=end, horizon=horizon)
    rows = [
        _figures_row(store_id, totals.seconds[i], totals.business[i], bool(totals.whole_days[i]))
        for i, (_pk, store_id, _zone) in enumerate(stores)
    ]
    if revenue:
        for row, lost in zip(rows, lost_revenue_of_range(stores=stores, start=start, end=end, horizon=horizon).items()):
            row.update(revenue_columns(lost))
    return rows


def revenue_columns(lost: LostRevenue | None) -> dict:
    """A row's lost-revenue values (docs/rules.md §13): amounts as Decimals, None (an
    empty cell) without an estimate."""
    return {
        "lost_revenue": None if lost is None else lost.amount,
        "revenue_at_risk": None if lost is None else lost.at_risk,
        "revenue_currency": None if lost is None else lost.currency,
    }


def lost_revenue_of_row(row: dict) -> LostRevenue | None:
    """A row's lost revenue as `revenue_columns` wrote it (None: no estimate)."""
    if row.get("lost_revenue") is None:
        return None
    return LostRevenue(amount=row["lost_revenue"], at_risk=row["revenue_at_risk"], currency=row["revenue_currency"])


def store_range_figures(
    *, store: Store, start: datetime, end: datetime | None = None, horizon: timedelta | None = None,
    owner_id: int | None = None, group_id: int | None = None, revenue: bool = False,
) -> tuple[datetime, datetime, dict]:
    """(from, to, row) of one store the caller has read already (through
    stores_visible); `to` defaults to the caller's default as_of; `revenue` as
    `range_rows`."""
    start, end = range_resolve(start=start, end=end, owner_id=owner_id, group_id=group_id)
    (row,) = range_rows(
        stores=[(store.pk, store.store_id, store.timezone_name)], start=start, end=end,
        horizon=horizon or default_horizon(), revenue=revenue,
    )
    return start, end, row


def store_daily_figures(
    *, store: Store, first: date, last: date, horizon: timedelta | None = None, revenue: bool = False
) -> list[DayFigures]:
    """The figures of each local date from `first` to `last` (both included) of one
    store the caller has read already; each day's evidence is the polls at or before
    its end, so a finished day's figures do not move with later polls; with `revenue`,
    each day's lost revenue (docs/rules.md §13)."""
    daily_validate(first=first, last=last)
    horizon = horizon or default_horizon()
    midnights, seconds, business, answered = daily_totals(
        stores=[(store.pk, store.store_id, store.timezone_name)], first=first, last=last, horizon=horizon
    )
    if not answered.all():
        missing = first + timedelta(days=int(np.flatnonzero(~answered[0])[0]))
        cut = Store.objects.filter(pk=store.pk).values_list("polls_pruned_before", flat=True).first()
        raise HistoryInputError(
            f"no daily figures are kept for {missing.isoformat()}: this store's polls before"
            f" {values.instant_text(cut)} are pruned (POLL_RETENTION_DAYS), and daily figures"
            f" are kept {settings.HISTORY_RETENTION_DAYS} days (HISTORY_RETENTION_DAYS)",
            field="from",
        )
    days = seconds.shape[1]
    starts = [from_us(int(midnights[0, k])) for k in range(days + 1)]
    lost = [None] * days
    if revenue:
        lost = lost_revenue_of_windows(
            stores=[(store.pk, store.store_id, store.timezone_name)], window_store=np.zeros(days, np.int64),
            window_start=starts[:-1], window_end=starts[1:], horizon=horizon,
        ).items()
    return [
        DayFigures(
            date=first + timedelta(days=k),
            start=starts[k],
            end=starts[k + 1],
            uptime_minutes=float(seconds[0, k, 0]) / 60,
            downtime_minutes=float(seconds[0, k, 1]) / 60,
            unknown_minutes=float(seconds[0, k, 2]) / 60,
            business_minutes=float(business[0, k]) / 60,
            lost_revenue=lost[k],
        )
        for k in range(days)
    ]


def range_chunk_size(*, start: datetime, end: datetime, horizon: timedelta) -> int:
    """Stores per chunk of a range report: REPORT_CHUNK_SIZE for a week or less, fewer
    for longer ranges, so that a chunk reads about as many polls as a weekly report's
    (memory follows the chunk, not the range)."""
    size = settings.REPORT_CHUNK_SIZE
    ratio = (WEEK + horizon) / max(end - start + horizon, timedelta(microseconds=1))
    return max(1, min(size, math.floor(size * ratio)))


def range_rows_chunked(
    *,
    start: datetime,
    end: datetime,
    horizon: timedelta,
    store_ids: Sequence[str] | None = None,
    owner_id: int | None = None,
    chunk_size: int | None = None,
    parallel: int = 1,
    revenue: bool = False,
) -> Iterator[list[dict]]:
    """The range's rows a chunk of stores at a time, in store_id code-point order (each
    chunk read and computed once the previous one is consumed; with `parallel` > 1, that
    many chunks at a time in threads); `revenue` as `range_rows`."""
    ordered = stores_in_code_point_order(store_ids=store_ids, owner_id=owner_id)
    if chunk_size is None:
        chunk_size = balanced_chunk_size(
            total=len(ordered), size=range_chunk_size(start=start, end=end, horizon=horizon), parallel=parallel
        )

    def compute(stores: list[tuple[int, str, str | None]]) -> list[dict]:
        rows = range_rows(stores=stores, start=start, end=end, horizon=horizon, revenue=revenue)
        return sorted(rows, key=lambda r: r["store_id"])

    batches = in_chunks(ordered, chunk_size)
    yield from computed_in_order(batches, compute, parallel=parallel)


def range_csv_header(out: TextIO, *, revenue: bool = False) -> PeopleCsvWriter:
    """The range CSV's writer, its header written: with `revenue`, two more columns,
    `lost_revenue,revenue_at_risk` (docs/rules.md §13)."""
    return figures_csv(out, RANGE_CSV_HEADER + (REVENUE_CSV_COLUMNS if revenue else ()))


def range_csv_rows(writer: PeopleCsvWriter, rows: Iterable[dict], *, revenue: bool = False) -> None:
    """Rows of the range CSV, a file for people, as the weekly report's (docs/rules.md §7);
    with `revenue`, each row's lost revenue and revenue at risk in its store's currency,
    two decimals, or empty cells where there is no estimate."""
    if not revenue:
        figures_rows(writer, rows, RANGE_CSV_HEADER)
        return
    for row in rows:
        writer.writerow(
            [
                spreadsheet_safe(row["store_id"]),
                *(two_decimals(row[column]) for column in RANGE_CSV_HEADER[1:]),
                *("" if row.get(column) is None else f"{row[column]:.2f}" for column in REVENUE_CSV_COLUMNS),
            ]
        )


def range_csv_write(
    *,
    out: TextIO,
    start: datetime,
    end: datetime | None = None,
    store_ids: Sequence[str] | None = None,
    horizon: timedelta | None = None,
    owner_id: int | None = None,
) -> tuple[datetime, datetime, int]:
    """Write the range CSV to `out` chunk by chunk, with the lost-revenue columns when
    some store in scope has revenue rows; returns (from, to, stores written)."""
    start, end = range_resolve(start=start, end=end, owner_id=owner_id)
    horizon = horizon or default_horizon()
    revenue = revenue_in_scope(access=owner_access(owner_id), store_ids=store_ids)
    writer = range_csv_header(out, revenue=revenue)
    count = 0
    for rows in range_rows_chunked(
        start=start, end=end, horizon=horizon, store_ids=store_ids, owner_id=owner_id, revenue=revenue,
        parallel=settings.REPORT_PROCESS_THREADS,
    ):
        range_csv_rows(writer, rows, revenue=revenue)
        count += len(rows)
    return start, end, count


def stores_answered_from_whole_days(
    *, start: datetime, store_ids: Sequence[str] | None = None, owner_id: int | None = None,
    horizon: timedelta | None = None,
) -> int:
    """How many stores in scope have polls pruned where a range from `start` needs them:
    their rows are answered from whole kept days there (docs/rules.md §11)."""
    horizon = horizon or default_horizon()
    stores = Store.objects.filter(polls_pruned_before__gt=start - horizon)
    if owner_id is not None:
        stores = stores.filter(owner_id=owner_id)
    if store_ids is not None:
        stores = stores.filter(store_id__in=list(store_ids))
    return stores.count()

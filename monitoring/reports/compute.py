"""Computing a report with the engine and rendering its CSV (docs/rules.md §5), for any set of
stores: the whole fleet at once (the API's rows) or chunk by chunk (a report's tasks and
`report_csv_write`, whose memory depends on REPORT_CHUNK_SIZE, not on the fleet)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Iterator, Sequence, TextIO

import numpy as np
from django.conf import settings

from monitoring.engine import WINDOWS, UptimeResult
from monitoring.kernel import values
from monitoring.kernel.errors import InputError
from monitoring.kernel.periods import default_horizon
from monitoring.models import Store
from monitoring.kernel.people_csv import PeopleCsvWriter, figures_csv, figures_rows, figures_table
from monitoring.stores.chunks import balanced_chunk_size, computed_in_order
from monitoring.stores.selectors import (
    default_as_of,
    in_chunks,
    stores_in_code_point_order,
    stores_in_scope,
    weekly_hours_kept_for,
    weekly_hours_warm,
)
from monitoring.stores.summaries import range_totals

# docs/rules.md §5, exactly (the compatible REST `update_last_week` was a typo).
CSV_HEADER = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)
UNKNOWN_COLUMNS = ("unknown_last_hour", "unknown_last_day", "unknown_last_week")
#: A report row's figures after store_id, in `ReportTable.figures`' column order.
FIGURE_COLUMNS = (*CSV_HEADER[1:], *UNKNOWN_COLUMNS)
INCIDENT_COLUMNS = ("incidents_last_hour", "incidents_last_day", "incidents_last_week")
LONGEST_WINDOW = max(length for _, length in WINDOWS)
MAX_HORIZON_MINUTES = 7 * 24 * 60


class ReportInputError(InputError):
    """A report request that cannot be computed as asked; `field` names the input at
    fault when one is (as_of, store_ids, store_ids[i], horizon_minutes)."""


@dataclass(frozen=True)
class ReportTable:
    """A report's rows as columns, in docs/rules.md §5 units: what a report's chunk stores
    and writes, and the command writes, with no dict per store."""

    store_ids: list[str]
    figures: np.ndarray  # float64 (n, len(FIGURE_COLUMNS))
    incidents: np.ndarray  # int64 (n, len(INCIDENT_COLUMNS))

    def __len__(self) -> int:
        return len(self.store_ids)

    def rows(self) -> list[dict]:
        """One dict per store (the API's rows): store_id, FIGURE_COLUMNS, INCIDENT_COLUMNS."""
        return [
            {"store_id": store_id, **dict(zip(FIGURE_COLUMNS, figures)), **dict(zip(INCIDENT_COLUMNS, counts))}
            for store_id, figures, counts in zip(self.store_ids, self.figures.tolist(), self.incidents.tolist())
        ]

    def in_store_id_order(self) -> ReportTable:
        """The same rows in store_id code-point order (opaque ids, whatever the database's
        collation)."""
        order = sorted(range(len(self.store_ids)), key=self.store_ids.__getitem__)
        if order == list(range(len(order))):
            return self
        return ReportTable([self.store_ids[i] for i in order], self.figures[order], self.incidents[order])


@dataclass(frozen=True)
class ComputedReport:
    as_of: datetime
    horizon: timedelta
    rows: list[dict]  # docs/rules.md §5 units plus unknown_*, sorted by store_id


def horizon_from_minutes(minutes: int | None) -> timedelta | None:
    """A report's H asked for in minutes (None = the default), checked."""
    if minutes is None:
        return None
    if not 1 <= minutes <= MAX_HORIZON_MINUTES:
        raise ReportInputError(f"must be between 1 and {MAX_HORIZON_MINUTES}", field="horizon_minutes")
    return timedelta(minutes=minutes)


def validate_report_request(
    *,
    as_of: datetime | None,
    store_ids: Sequence[str] | None,
    horizon_minutes: int | None,
    owner_id: int | None = None,
) -> None:
    """Refuses, before any report is made, what the grammar of docs/rules.md §7 refuses: an
    `as_of` without an offset or outside the years 2000–2100, an invalid store id (it
    is named), a horizon out of range, a store the caller cannot see."""
    if as_of is not None:
        try:
            values.as_of_range(as_of, field="as_of")
        except values.InvalidValue as error:
            raise ReportInputError(error.reason, field="as_of") from None
    horizon_from_minutes(horizon_minutes)
    if store_ids is not None:
        if not store_ids:
            raise ReportInputError("when given, must name at least one store", field="store_ids")
        for index, store_id in enumerate(store_ids):
            try:
                values.store_id(store_id, field=f"store_ids[{index}]")
            except values.InvalidValue as error:
                raise ReportInputError(error.reason, field=error.field) from None
        # Someone else's store is as unknown to an owner as a store that does not exist.
        known = {store_id for _, store_id, _ in stores_in_scope(store_ids=store_ids, owner_id=owner_id)}
        missing = sorted(set(store_ids) - known)
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            raise ReportInputError(f"no such store{'' if len(missing) == 1 else 's'}: {shown}", field="store_ids")


def compute_rows(*, stores: Sequence[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta) -> list[dict]:
    """docs/rules.md §5 rows (plus unknown and incident counts) of the given stores, in
    their order (`compute_table`'s, as dicts)."""
    return compute_table(stores=stores, as_of=as_of, horizon=horizon).rows()


def compute_table(*, stores: Sequence[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta) -> ReportTable:
    """docs/rules.md §5 figures (plus unknown and incident counts) of the given stores, in
    their order: the week from kept days and the polls at its edges, the shorter windows
    from the polls (monitoring.stores.summaries)."""
    shorter = [length for _, length in WINDOWS if length != LONGEST_WINDOW]
    totals = range_totals(
        stores=stores, start=as_of - LONGEST_WINDOW, end=as_of, horizon=horizon, incidents=True, tails=shorter
    )
    result = UptimeResult(
        store_ids=[store_id for _, store_id, _ in stores],
        seconds=np.concatenate((totals.tail_seconds, totals.seconds[:, None, :]), axis=1),
        business_seconds=np.concatenate((totals.tail_business, totals.business[:, None]), axis=1),
        incident_counts=np.concatenate((totals.tail_incidents, totals.incidents[:, None]), axis=1),
    )
    return ReportTable(store_ids=result.store_ids, figures=result.spec_figures(), incidents=result.incident_counts)


def by_store_id(rows: Iterable[dict]) -> list[dict]:
    # Opaque ids: code-point order, independent of the database's collation.
    return sorted(rows, key=lambda row: row["store_id"])


def report_compute(
    *,
    as_of: datetime | None = None,
    store_ids: Sequence[str] | None = None,
    horizon: timedelta | None = None,
    owner_id: int | None = None,
    group_id: int | None = None,
) -> ComputedReport:
    """The report of docs/rules.md §5, computed now from what is stored (an owner's stores only,
    and by default as of their latest poll, when owner_id is given; of the group's with group_id)."""
    stores = stores_in_scope(store_ids=store_ids, owner_id=owner_id)
    return _computed_report(stores=stores, as_of=as_of, horizon=horizon, owner_id=owner_id, group_id=group_id)


def store_report_compute(
    *,
    store: Store,
    as_of: datetime | None = None,
    horizon: timedelta | None = None,
    owner_id: int | None = None,
    group_id: int | None = None,
) -> ComputedReport:
    """report_compute for one store the caller has read already (the live uptime of
    the API and of the status page): no query to find it again. `owner_id` and
    `group_id` are the caller's (Access; None for staff and anonymous): the default
    as_of is the latest poll among the stores the caller can see (docs/rules.md §8)."""
    return _computed_report(
        stores=[(store.pk, store.store_id, store.timezone_name)], as_of=as_of, horizon=horizon, owner_id=owner_id,
        group_id=group_id,
    )


def _computed_report(
    *,
    stores: Sequence[tuple[int, str, str | None]],
    as_of: datetime | None,
    horizon: timedelta | None,
    owner_id: int | None,
    group_id: int | None,
) -> ComputedReport:
    horizon = horizon or default_horizon()
    as_of = as_of or default_as_of(owner_id=owner_id, group_id=group_id)
    rows = by_store_id(compute_rows(stores=stores, as_of=as_of, horizon=horizon))
    return ComputedReport(as_of=as_of, horizon=horizon, rows=rows)


def window_seconds(row: dict, window: str) -> tuple[float, float, float]:
    """(up, down, unknown) seconds of one window ("hour", "day", "week") of a report row,
    whose figures are in docs/rules.md §5 units (minutes for the hour, hours for day and week)."""
    unit = 60.0 if window == "hour" else 3600.0
    return tuple(row[f"{kind}_last_{window}"] * unit for kind in ("uptime", "downtime", "unknown"))


def write_csv_header(out: TextIO) -> PeopleCsvWriter:
    return figures_csv(out, CSV_HEADER)


def write_csv_rows(writer: PeopleCsvWriter, rows: Iterable[dict]) -> None:
    """Rows of the CSV of docs/rules.md §5, a file for people (docs/rules.md §7)."""
    figures_rows(writer, rows, CSV_HEADER)


def write_csv_table(writer: PeopleCsvWriter, table: ReportTable) -> None:
    """`write_csv_rows` of a table's rows, in its order."""
    figures_table(writer, table.store_ids, table.figures[:, : len(CSV_HEADER) - 1])


def report_csv(*, rows: Iterable[dict]) -> str:
    """The CSV of docs/rules.md §5 as one text (rows in the order given)."""
    out = io.StringIO()
    write_csv_rows(write_csv_header(out), rows)
    return out.getvalue()


def chunked_tables(
    *,
    as_of: datetime,
    horizon: timedelta,
    store_ids: Sequence[str] | None = None,
    owner_id: int | None = None,
    chunk_size: int | None = None,
    parallel: int = 1,
) -> Iterator[ReportTable]:
    """The report's rows, a chunk of stores at a time in store_id code-point order: each
    chunk's hours and polls are read and computed only when the previous chunk has been
    consumed (with `parallel` > 1, that many chunks at a time in threads), so memory
    follows REPORT_CHUNK_SIZE, not the fleet."""
    ordered = stores_in_code_point_order(store_ids=store_ids, owner_id=owner_id)
    if chunk_size is None:
        chunk_size = balanced_chunk_size(total=len(ordered), size=settings.REPORT_CHUNK_SIZE, parallel=parallel)

    def compute(stores: list[tuple[int, str, str | None]]) -> ReportTable:
        return compute_table(stores=stores, as_of=as_of, horizon=horizon).in_store_id_order()

    batches = in_chunks(ordered, chunk_size)
    prepare = weekly_hours_warm if weekly_hours_kept_for(store_count=chunk_size) else None
    yield from computed_in_order(batches, compute, parallel=parallel, prepare=prepare)


def report_csv_write(
    *,
    out: TextIO,
    as_of: datetime | None = None,
    store_ids: Sequence[str] | None = None,
    horizon: timedelta | None = None,
    owner_id: int | None = None,
) -> tuple[datetime, int]:
    """Write the CSV of docs/rules.md §5 to `out` chunk by chunk (the same bytes as
    report_csv(rows=report_compute(...).rows)); returns (as_of, stores written)."""
    as_of = as_of or default_as_of(owner_id=owner_id)
    writer = write_csv_header(out)
    count = 0
    for table in chunked_tables(
        as_of=as_of, horizon=horizon or default_horizon(), store_ids=store_ids, owner_id=owner_id,
        parallel=settings.REPORT_PROCESS_THREADS,
    ):
        write_csv_table(writer, table)
        count += len(table)
    return as_of, count

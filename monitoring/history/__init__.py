"""History over any range (docs/rules.md §11): figures of any range and of each local
calendar day, computed from the stored polls, and the range CSV. Callers import from
here. Scheduled range reports are monitoring.schedules. The figures come from kept days and the raw polls at their edges
(monitoring.stores.summaries)."""

from monitoring.history.ranges import (
    DAILY_MAX_DAYS,
    RANGE_CSV_HEADER,
    DayFigures,
    HistoryInputError,
    daily_validate,
    max_range,
    range_chunk_size,
    range_csv_header,
    range_csv_rows,
    range_csv_write,
    range_resolve,
    range_rows,
    range_rows_chunked,
    range_validate,
    store_daily_figures,
    store_range_figures,
    stores_answered_from_whole_days,
)

__all__ = [
    "DAILY_MAX_DAYS",
    "RANGE_CSV_HEADER",
    "DayFigures",
    "HistoryInputError",
    "daily_validate",
    "max_range",
    "range_chunk_size",
    "range_csv_header",
    "range_csv_rows",
    "range_csv_write",
    "range_resolve",
    "range_rows",
    "range_rows_chunked",
    "range_validate",
    "store_daily_figures",
    "store_range_figures",
    "stores_answered_from_whole_days",
]

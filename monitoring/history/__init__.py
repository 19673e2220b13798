"""History over any range (docs/rules.md §11): figures of any range and of each local
calendar day, computed from the stored polls, the range CSV, and lost revenue of any
windows (docs/rules.md §13). Callers import from
here. Scheduled range reports are monitoring.schedules. The figures come from kept days and the raw polls at their edges
(monitoring.stores.summaries)."""

from monitoring.history.ranges import (
    DAILY_MAX_DAYS,
    RANGE_CSV_HEADER,
    REVENUE_CSV_COLUMNS,
    DayFigures,
    HistoryInputError,
    daily_validate,
    lost_revenue_of_row,
    max_range,
    range_chunk_size,
    range_csv_header,
    range_csv_rows,
    range_csv_write,
    range_resolve,
    range_rows,
    range_rows_chunked,
    range_validate,
    revenue_columns,
    store_daily_figures,
    store_range_figures,
    stores_answered_from_whole_days,
)
from monitoring.history.revenue import (
    CurrencyTotal,
    LostRevenue,
    WindowsLostRevenue,
    lost_revenue_computed,
    lost_revenue_of_range,
    lost_revenue_of_windows,
)

__all__ = [
    "CurrencyTotal",
    "DAILY_MAX_DAYS",
    "LostRevenue",
    "RANGE_CSV_HEADER",
    "REVENUE_CSV_COLUMNS",
    "WindowsLostRevenue",
    "DayFigures",
    "HistoryInputError",
    "daily_validate",
    "lost_revenue_computed",
    "lost_revenue_of_range",
    "lost_revenue_of_row",
    "lost_revenue_of_windows",
    "max_range",
    "range_chunk_size",
    "range_csv_header",
    "range_csv_rows",
    "range_csv_write",
    "range_resolve",
    "range_rows",
    "range_rows_chunked",
    "range_validate",
    "revenue_columns",
    "store_daily_figures",
    "store_range_figures",
    "stores_answered_from_whole_days",
]

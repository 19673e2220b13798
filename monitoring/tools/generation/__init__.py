"""Synthetic, deterministic input files shaped like the public store-monitoring data.

`generate_dataset()` writes the three files of docs/rules.md §1, and the expected
revenue of §13, into a folder:

- ``store_status.csv`` (``store_id,timestamp_utc,status``): roughly hourly polls of
  every store (spacing 55–65 min, random seconds and microseconds; trailing zeros of
  the fraction are cut like in the public file, so it has 0–6 digits), missed polls,
  outage episodes (runs of 1–6 inactive polls), flaky stores, a few long outages,
  stores that go silent for a day or more, stop polling, start late or never poll.
  Rows are written across all stores in roughly time order, like a poller appending
  to a file (small jitter, and ~0.1% of rows written up to 6 hours late), so a loader
  must not assume sorted input. No ``(store_id, timestamp)`` pair repeats. The latest
  poll is exactly ``end``, the earliest is at or after ``end - days``.
- ``menu_hours.csv`` (``store_id,dayOfWeek,start_time_local,end_time_local``):
  regular hours, split shifts, shifts past midnight both as one row with end < start
  and in the public data's style (``y–23:59:59`` plus next day ``00:00:00–x``),
  ``start == end`` rows (24 h), ``00:00:00–23:59:59`` / ``23:59:00`` rows, closed
  weekdays, overlapping rows, and ~18% of stores with no rows at all (open 24x7).
- ``timezones.csv`` (``store_id,timezone_str``): mostly US zones, a few others
  (half-hour, 30-minute-DST and no-DST zones), ~5% of stores without a row and ~1%
  with an empty name.
- ``store_revenue.csv`` (``store_id,dayOfWeek,hour,expected_revenue,currency``): revenue
  profiles, busier at lunch and dinner and on Fridays and Saturdays, for the local hours
  10–22 of every weekday; ~15% of stores without rows (no estimate), ~5% in EUR.

Store ids are opaque text: mostly 19-digit numbers up to ~9.22e18 (made from random
integers, never floats), a few shorter numbers, and ~3% UUIDs.

Everything comes from ``numpy.random.default_rng``-style generators seeded by
``seed``, so the same arguments give byte-identical files. The poll file is built
with vectorised numpy byte arithmetic (no per-row ``strftime``): about 2.3 M polls
(14,000 stores x 7 days) take a few seconds.

This module deliberately imports nothing from Django.

The flow, file by file: `shapes` (what the data looks like) -> `stores` (ids, zones,
hours) -> `polls` -> `revenue` -> `writers` (the CSV files) -> `dataset` (`generate_dataset`).
"""

from monitoring.tools.generation.shapes import DEFAULT_END
from monitoring.tools.generation.dataset import GeneratedSummary, generate_dataset

__all__ = [
    "DEFAULT_END",
    "GeneratedSummary",
    "generate_dataset",
]

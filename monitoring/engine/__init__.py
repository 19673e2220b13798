"""The pure report engine: business hours, interpolation and uptime (docs/rules.md §2–§5).

The flow, file by file: `types` (constants and data types) -> `zones` (wall time to UTC)
-> `schedules` (business hours as intervals on one axis) -> `uptime` (polls, pieces,
the report) -> `timeline` (one store's segments and incidents) -> `ranges` (any range, and local
calendar days, with the range's end as as_of: docs/rules.md §11).

No Django here: stdlib, numpy and zoneinfo only, so the engine can be tested and
benchmarked on plain arrays.

Internally every instant is an ``int64`` count of microseconds since the Unix epoch
(UTC).  The outputs are float seconds.

How `compute_uptime` stays fast (no Python loop over polls or stores):

1. Business hours as UTC intervals, vectorised per time zone.  For each distinct
   zone the UTC-offset transitions around the report range are found once (hourly
   probes of ``ZoneInfo`` refined by bisection to the second).  A local wall time
   ``w`` (µs, "as if UTC") converts with the offset in force before a transition at
   UTC instant ``T`` when ``w < T + max(o_before, o_after)`` and with the offset after
   it otherwise: that single rule is exactly zoneinfo's ``fold=0`` for both the
   spring-forward gap (02:30 -> the instant it would have been under the old offset)
   and the fall-back fold (the first occurrence).  Wall-clock starts and ends for
   every (store, local date, shift) are built with numpy and converted with
   ``searchsorted`` over the thresholds, then merged per store (sort + running max).
2. Each store's intervals are laid out on one global int64 axis,
   ``key = store * K + (t - r0 + P)`` (``K`` larger than the range plus twice the padding
   ``P = H``, with a zero-length sentinel interval at each end), and a global cumulative
   business-time function ``C(key)`` makes the business measure of any ``[a, b)`` of one
   store ``C(b) - C(a)``.
3. Evidence polls are those inside a business interval: their sorted keys are located
   among the interval starts by searching the (far fewer) interval starts among the poll
   keys and counting.  Each evidence poll owns
   ``[max(mid(prev), t - H), min(mid(next), t + H))`` (mids between consecutive evidence
   polls of the same store); these pieces are disjoint and are exactly the instants whose
   nearest evidence poll is that poll and is within ``H``.  ``C`` at a piece's ends is
   linear inside the poll's own interval, so only pieces crossing an interval bound need
   a ``searchsorted``.  Uptime in a window is the business measure of the active polls'
   pieces inside the window; since ``C`` is monotone, clipping to a window is clipping
   the ``C`` values.  Per-store sums use ``np.bincount``.
4. Incident counts (what ``store_incidents`` returns for ``[as_of - window, as_of)``) come from
   the same pieces clipped to the week: walking each store's pieces *with business time* in
   order, a DOWN piece continues the incident of the one before iff that one is DOWN too and
   no business time lies between them (``C`` equal at the two ends: only closed time, so no
   UNKNOWN).  Each incident's end ``C`` is kept, and a window counts the incidents ending
   after its start (``C(end) > C(ws)``); see ``incident_ends``.

With ~14,000 stores and ~2 million polls the cost is a few dozen numpy passes over the
poll arrays plus one Python pass over the shift objects (see bench/engine.py).

A change point half-way between two polls is rounded down to the microsecond (the
resolution of the inputs); everything else is exact.

Special hours (docs/rules.md §9) are a correction applied only to the stores that have them: the
weekly occurrences of such a store whose local date is one of its special dates are
dropped (one ``searchsorted`` among the special (store, date) keys), and the special
shifts of the dates near the range are converted with the same per-zone table and added
before the merge.  A store without special rows costs nothing more.  A store with special
rows but no weekly rows is open 24 hours on every other date (docs/rules.md §2's 24x7), built as
seven 00:00–00:00 weekly shifts.

A shift whose converted UTC end is not after its converted UTC start (possible only
for a shift lying inside a spring-forward gap, e.g. 02:30–03:00 on the day clocks go
from 02:00 to 03:00) is empty: docs/rules.md §3 maps both ends with the rule above and the
resulting interval has no length.
"""

from monitoring.engine.types import (
    DEFAULT_TIMEZONE,
    DEFAULT_HORIZON,
    WINDOWS,
    STATES,
    TIMELINE_STATES,
    Shift,
    ShiftRows,
    SpecialShift,
    StoreSchedule,
    Polls,
    UptimeResult,
    Segment,
    Incident,
    WeeklyShiftArrays,
)
from monitoring.engine.zones import from_us, to_us
from monitoring.engine.uptime import business_intervals, compute_uptime, inside_intervals
from monitoring.engine.timeline import StoreNow, store_incidents, store_now, store_timeline, stores_now
from monitoring.engine.ranges import (
    RangeFigures,
    WindowFigures,
    daily_uptime,
    incidents_joined,
    local_midnights,
    range_uptime,
    window_figures,
    window_uptime,
)

__all__ = [
    "StoreNow",
    "store_now",
    "stores_now",
    "DEFAULT_HORIZON",
    "DEFAULT_TIMEZONE",
    "Incident",
    "Polls",
    "RangeFigures",
    "STATES",
    "TIMELINE_STATES",
    "Segment",
    "Shift",
    "ShiftRows",
    "SpecialShift",
    "StoreSchedule",
    "UptimeResult",
    "WeeklyShiftArrays",
    "WindowFigures",
    "WINDOWS",
    "business_intervals",
    "inside_intervals",
    "compute_uptime",
    "daily_uptime",
    "from_us",
    "incidents_joined",
    "local_midnights",
    "range_uptime",
    "store_incidents",
    "store_timeline",
    "to_us",
    "window_figures",
    "window_uptime",
]

"""The fleet ranking: every store's state now, its last day's and last week's figures
and latest poll, from one read of hours and polls and one engine call, worst first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitoring import engine, humanize
from monitoring.reports import default_horizon
from monitoring.selectors import polls_between, store_schedules

WEEK = timedelta(days=7)
#: The fields a ranking keeps (monitoring.fleet.models.FleetRanking.rows); the others are
#: filled for the rows a page shows.
KEPT_FIELDS = ("pk", "store_id", "timezone_name", "state", "day", "week", "last_poll_us", "last_poll_active")


@dataclass(slots=True)  # a ranking holds one per store (fleet_ranking keeps a few)
class FleetRow:
    pk: int
    store_id: str
    timezone_name: str | None
    state: str  # "UP" | "DOWN" | "CLOSED" | "UNKNOWN"
    day: tuple[float, float, float]  # (up, down, unknown) seconds, last day
    week: tuple[float, float, float]
    last_poll_us: int | None = None  # the last poll within the week (+ H) read for the figures
    last_poll_active: bool | None = None
    label: str = ""  # for UNKNOWN: "silent" or "never reported"
    page_url: str | None = None
    down_for: str = ""
    down_since_local: str = ""
    last_poll_text: str = ""
    last_poll_local: str = ""

    @property
    def state_label(self) -> str:
        return self.label or self.state.lower()

    @property
    def week_percent(self) -> float | None:
        return humanize.uptime_percent(self.week[0], self.week[1])

    @property
    def day_figure(self) -> dict:
        return humanize.coverage(*self.day)

    @property
    def week_figure(self) -> dict:
        return humanize.coverage(*self.week)

    def sort_key(self):
        """Worst first: down now, then the lowest weekly uptime; no known weekly time after
        every known figure; then by id."""
        percent = self.week_percent
        return (self.state != "DOWN", percent is None, percent if percent is not None else 0.0, self.store_id)


def _current_states(schedules, polls, *, as_of: datetime, horizon: timedelta) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per store (batched, no loop over stores): its state just before `as_of` as the
    status page's timeline ends (CLOSED outside business hours; else the status of the
    latest evidence poll within H, SPEC §4; else UNKNOWN; and UNKNOWN for a store with
    no poll at all in the week read), and its latest poll read (µs, or -1) with that
    poll's status."""
    n = len(schedules)
    t1 = engine.to_us(as_of)
    h_us = int(horizon.total_seconds() * 1_000_000)
    store_index, stamp, active = polls.store_index, polls.timestamp_us, polls.is_active
    last_us = np.full(n, -1, np.int64)
    last_active = np.zeros(n, bool)
    if len(store_index):
        last = np.ones(len(store_index), bool)
        last[:-1] = store_index[1:] != store_index[:-1]
        last_us[store_index[last]] = stamp[last]
        last_active[store_index[last]] = active[last]
    lo = t1 - h_us
    istore, istart, iend = engine.business_intervals(
        schedules=schedules, start=as_of - horizon, end=as_of + timedelta(microseconds=1)
    )
    open_now = np.zeros(n, bool)
    at = t1 - 1
    open_now[istore[(istart <= at) & (iend > at)]] = True
    # Evidence polls in [as_of - H, as_of]: inside one of their store's business intervals.
    span = t1 + 2 - lo
    keys_start, keys_end = istore * span + (istart - lo), istore * span + (iend - lo)
    recent = stamp >= lo
    r_store, r_t, r_active = store_index[recent], stamp[recent], active[recent]
    state = np.full(n, 2, np.int8)  # 0 UP, 1 DOWN, 2 UNKNOWN, 3 CLOSED
    if len(r_t) and len(keys_start):
        keys = r_store * span + (r_t - lo)
        j = np.searchsorted(keys_start, keys, side="right") - 1
        evidence = (j >= 0) & (keys < keys_end[np.maximum(j, 0)])
        e_store, e_active = r_store[evidence], r_active[evidence]
        if len(e_store):
            latest = np.ones(len(e_store), bool)
            latest[:-1] = e_store[1:] != e_store[:-1]
            state[e_store[latest]] = np.where(e_active[latest], 0, 1)
    state[~open_now] = 3
    state[last_us < 0] = 2  # no poll in the week read: unknown, open or not (silent, or never reported)
    names = ("UP", "DOWN", "UNKNOWN", "CLOSED")
    return [names[code] for code in state.tolist()], last_us, last_active


def fleet_rows(
    *, stores: list[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta | None = None
) -> list[FleetRow]:
    """Every store's current state, last day's and last week's figures and latest poll:
    one read of the hours and of the week's polls, one engine call (compute_uptime), and
    the current state from the same arrays."""
    horizon = horizon or default_horizon()
    start = as_of - WEEK - horizon
    schedules = store_schedules(stores=stores, start=start, end=as_of)
    polls = polls_between(stores=stores, start=start, end=as_of)
    result = engine.compute_uptime(schedules=schedules, polls=polls, as_of=as_of, horizon=horizon)
    states, last_us, last_active = _current_states(schedules, polls, as_of=as_of, horizon=horizon)
    seconds = result.seconds.tolist()
    rows = []
    for i, (pk, store_id, zone) in enumerate(stores):
        row = FleetRow(
            pk=pk, store_id=store_id, timezone_name=zone, state=states[i],
            day=tuple(seconds[i][1]), week=tuple(seconds[i][2]),
        )
        if last_us[i] >= 0:
            row.last_poll_us, row.last_poll_active = int(last_us[i]), bool(last_active[i])
        rows.append(row)
    return rows


def fleet_ranked(*, stores: list[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta) -> list[FleetRow]:
    """fleet_rows of `stores`, worst first."""
    rows = fleet_rows(stores=stores, as_of=as_of, horizon=horizon)
    rows.sort(key=FleetRow.sort_key)
    return rows


def rows_to_json(rows: list[FleetRow]) -> list[list]:
    return [[getattr(row, name) for name in KEPT_FIELDS] for row in rows]


def rows_from_json(data: list[list]) -> list[FleetRow]:
    rows = []
    for values in data:
        row = FleetRow(*values)
        row.day, row.week = tuple(row.day), tuple(row.week)
        rows.append(row)
    return rows

"""The fleet ranking: every store's state now, its last day's and last week's figures
and latest poll, from one read of hours and polls and one engine call, worst first.

Data only: how a row reads on a page (words, links, local times) is the page's
(monitoring.web.pages.fleet).

"Silent" (docs/rules.md §4.4) is an UNKNOWN store that is open now, has reported at some
time, and has had more than H of business time since its last evidence poll (the same
rule as the STORE_SILENT alert, §10). A store that opened less than H of business time
ago, its last poll before opening, is unknown, not silent: it has not missed a poll yet."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitoring import engine
from monitoring.engine.revenue import ExactCents
from monitoring.history import CurrencyTotal, LostRevenue, WindowsLostRevenue, lost_revenue_computed
from monitoring.kernel.states import CLOSED, DOWN, STATES, UNKNOWN, UP
from monitoring.kernel.periods import default_horizon
from monitoring.stores.revenue import revenue_rates
from monitoring.stores.selectors import polls_between, store_schedules, stores_polled

WEEK = timedelta(days=7)


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
    silent: bool = False  # UNKNOWN, open, and more than H of business time without an evidence poll
    lost_revenue: LostRevenue | None = None  # over the last week (docs/rules.md §13); None: no estimate


def _silent(schedules, polls, stores, *, candidates: np.ndarray, start: datetime, as_of: datetime, h_us: int) -> np.ndarray:
    """Of the `candidates` (UNKNOWN and open now), those that have reported at some time
    and have had more than H of business time since their last evidence poll (or since
    `start`, the read's beginning, without one in the read): True per store. One engine
    call over the candidates' hours; the stores with no poll in the read are asked of the
    database once (have they ever polled?)."""
    n = len(schedules)
    silent = np.zeros(n, bool)
    if not len(candidates):
        return silent
    t0, t1 = engine.to_us(start), engine.to_us(as_of)
    position = np.full(n, -1, np.int64)
    position[candidates] = np.arange(len(candidates))
    intervals = engine.business_intervals(
        schedules=[schedules[i] for i in candidates], start=start, end=as_of + timedelta(microseconds=1)
    )
    mine = position[polls.store_index] >= 0
    p_store, p_t = position[polls.store_index[mine]], polls.timestamp_us[mine]
    evidence = engine.inside_intervals(intervals, p_store, p_t) & (p_t <= t1)
    since = np.full(len(candidates), t0, np.int64)
    np.maximum.at(since, p_store[evidence], p_t[evidence])
    index, starts, ends = intervals
    quiet = np.maximum(np.minimum(ends, t1) - np.maximum(starts, since[index]), 0)
    business = np.bincount(index, weights=quiet, minlength=len(candidates))
    polled = np.zeros(len(candidates), bool)
    polled[np.unique(p_store)] = True
    unread = candidates[~polled]
    if len(unread):
        ever = stores_polled(store_pks=[stores[i][0] for i in unread], until=as_of)
        polled |= np.isin([stores[i][0] for i in candidates], list(ever))
    silent[candidates] = polled & (business > h_us)
    return silent


def _current_states(schedules, polls, *, as_of: datetime, horizon: timedelta) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per store (batched, no loop over stores): its state just before `as_of` as the
    status page's timeline ends (CLOSED outside business hours; else the status of the
    latest evidence poll within H, docs/rules.md §4; else UNKNOWN; and UNKNOWN for a store with
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
    hours = engine.business_intervals(schedules=schedules, start=as_of - horizon, end=as_of + timedelta(microseconds=1))
    open_now = engine.inside_intervals(hours, np.arange(n), np.full(n, t1 - 1))
    # Evidence polls in [as_of - H, as_of]: inside one of their store's business intervals.
    recent = stamp >= t1 - h_us
    r_store, r_t, r_active = store_index[recent], stamp[recent], active[recent]
    state = np.full(n, UNKNOWN, np.int8)
    evidence = engine.inside_intervals(hours, r_store, r_t)
    e_store, e_active = r_store[evidence], r_active[evidence]
    if len(e_store):
        latest = np.ones(len(e_store), bool)
        latest[:-1] = e_store[1:] != e_store[:-1]
        state[e_store[latest]] = np.where(e_active[latest], UP, DOWN)
    state[~open_now] = CLOSED
    state[last_us < 0] = UNKNOWN  # no poll in the week read: unknown, open or not (silent, or never reported)
    return state, last_us, last_active, open_now


def fleet_rows(
    *, stores: list[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta | None = None
) -> list[FleetRow]:
    """Every store's current state, last day's and last week's figures and latest poll,
    in the order given: see `fleet_columns`."""
    columns = fleet_columns(stores=stores, as_of=as_of, horizon=horizon)
    return [columns.row(i) for i in range(len(columns))]


def fleet_columns(
    *, stores: list[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta | None = None
) -> "FleetColumns":
    """Every store's current state, last day's and last week's figures and latest poll:
    one read of the hours and of the week's polls, one engine call (compute_uptime), and
    the current state from the same arrays."""
    horizon = horizon or default_horizon()
    start = as_of - WEEK - horizon
    schedules = store_schedules(stores=stores, start=start, end=as_of)
    polls = polls_between(stores=stores, start=start, end=as_of)
    result = engine.compute_uptime(schedules=schedules, polls=polls, as_of=as_of, horizon=horizon)
    n = len(stores)
    # The week's lost revenue, from the hours and polls just read (docs/rules.md §13).
    lost = lost_revenue_computed(
        schedules=schedules, polls=polls, rates=revenue_rates(store_pks=[pk for pk, _, _ in stores]),
        window_store=np.arange(n), window_start_us=np.full(n, engine.to_us(as_of - WEEK)),
        window_end_us=np.full(n, engine.to_us(as_of)), horizon=horizon,
    )
    states, last_us, last_active, open_now = _current_states(schedules, polls, as_of=as_of, horizon=horizon)
    silent = _silent(
        schedules, polls, stores, candidates=np.flatnonzero((states == UNKNOWN) & open_now), start=start, as_of=as_of,
        h_us=int(horizon.total_seconds() * 1_000_000),
    )
    return FleetColumns(
        pk=np.fromiter((pk for pk, _, _ in stores), np.int64, len(stores)),
        store_id=[store_id for _, store_id, _ in stores],
        timezone_name=[zone for _, _, zone in stores],
        state=states,
        day=result.seconds[:, 1, :].copy(),
        week=result.seconds[:, 2, :].copy(),
        last_poll_us=last_us,
        last_poll_active=last_active,
        silent=silent,
        revenue=lost,
    )


def worst_first_order(
    *, up: np.ndarray, down: np.ndarray, store_ids: list[str], down_now: np.ndarray | None = None
) -> np.ndarray:
    """Positions, worst first: the stores down now (when `down_now` is given), then the
    lowest uptime up / (up + down) (stores with no known time after every known figure,
    so never-reporting stores do not bury real outages), then by id in code-point order.
    The kept ranking orders by the last week's figures; the fleet over a range by the
    range's, with no "down now" (a range has no now)."""
    known = up + down
    percent = np.where(known > 0, 100.0 * up / np.where(known > 0, known, 1.0), 0.0)
    ids = np.array(store_ids, dtype=object)
    keys = (ids, percent, known <= 0) + (() if down_now is None else (~down_now,))
    return np.lexsort(keys)


@dataclass(frozen=True)
class FleetColumns:
    """Fleet rows as columns: cheap to keep, store, load, count and filter; a FleetRow
    is made only for the rows a page shows."""

    pk: np.ndarray  # int64
    store_id: list[str]
    timezone_name: list[str | None]
    state: np.ndarray  # int8 codes of STATES
    day: np.ndarray  # (n, 3) float64 seconds up, down, unknown
    week: np.ndarray
    last_poll_us: np.ndarray  # int64; -1: no poll in the week read
    last_poll_active: np.ndarray  # bool
    silent: np.ndarray | None = None  # bool: UNKNOWN stores that are silent (None: none are)
    #: The last week's lost revenue (docs/rules.md §13), exact (None: no store has an estimate).
    revenue: WindowsLostRevenue | None = None

    def __post_init__(self) -> None:
        if self.silent is None:
            object.__setattr__(self, "silent", np.zeros(len(self.store_id), bool))
        if self.revenue is None:
            object.__setattr__(self, "revenue", WindowsLostRevenue.none(len(self.store_id)))

    def __len__(self) -> int:
        return len(self.store_id)

    def row(self, i: int) -> FleetRow:
        last = int(self.last_poll_us[i])
        return FleetRow(
            pk=int(self.pk[i]),
            store_id=self.store_id[i],
            timezone_name=self.timezone_name[i],
            state=STATES[self.state[i]],
            day=tuple(self.day[i].tolist()),
            week=tuple(self.week[i].tolist()),
            last_poll_us=last if last >= 0 else None,
            last_poll_active=bool(self.last_poll_active[i]) if last >= 0 else None,
            silent=bool(self.silent[i]),
            lost_revenue=self.revenue.item(i),
        )

    def worst_first(self) -> "FleetColumns":
        """Worst first (`worst_first_order`): down now, then the lowest weekly uptime."""
        up, down = self.week[:, 0], self.week[:, 1]
        return self.take(worst_first_order(up=up, down=down, store_ids=self.store_id, down_now=self.state == DOWN))

    def by_lost_revenue(self) -> "FleetColumns":
        """Ordered by the last week's lost revenue (`lost_revenue_order`)."""
        return self.take(lost_revenue_order(self.revenue, store_ids=self.store_id))

    def revenue_totals(self, index: np.ndarray | None = None) -> list[CurrencyTotal]:
        """The last week's lost revenue of the rows (of `index`), per currency."""
        return self.revenue.totals(index)

    def take(self, index: np.ndarray) -> "FleetColumns":
        return FleetColumns(
            pk=self.pk[index],
            store_id=[self.store_id[i] for i in index],
            timezone_name=[self.timezone_name[i] for i in index],
            state=self.state[index],
            day=self.day[index],
            week=self.week[index],
            last_poll_us=self.last_poll_us[index],
            last_poll_active=self.last_poll_active[index],
            silent=self.silent[index],
            revenue=self.revenue.take(np.asarray(index, dtype=np.int64)),
        )

    def silent_count(self, index: np.ndarray | None = None) -> int:
        """Silent rows (of `index`, or of all): counted among UNKNOWN by `counts`."""
        return int(np.count_nonzero(self.silent if index is None else self.silent[index]))

    def counts(self, index: np.ndarray | None = None) -> dict[str, int]:
        """Rows per state (of `index`, or of all)."""
        codes = self.state if index is None else self.state[index]
        found = np.bincount(codes, minlength=len(STATES))
        return {name: int(found[code]) for code, name in enumerate(STATES)}

    def select(self, *, prefix: str = "", state: str | None = None, silent: bool | None = None) -> np.ndarray:
        """Positions of the rows whose id starts with `prefix`, whose state is `state` and
        (unless None) that are silent or not."""
        keep = np.ones(len(self), bool)
        if prefix:
            keep &= np.fromiter((store_id.startswith(prefix) for store_id in self.store_id), bool, len(self))
        if state:
            keep &= self.state == STATES.index(state)
        if silent is not None:
            keep &= self.silent == silent
        return np.flatnonzero(keep)

    def to_bytes(self) -> bytes:
        """One blob (numpy's .npz, no pickles): ids and zones joined by NUL, which
        PostgreSQL text cannot hold; no zone is ''."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            pk=self.pk,
            state=self.state,
            day=self.day,
            week=self.week,
            last_poll_us=self.last_poll_us,
            last_poll_active=self.last_poll_active,
            silent=self.silent,
            store_id=np.frombuffer("\0".join(self.store_id).encode(), np.uint8),
            timezone_name=np.frombuffer("\0".join(zone or "" for zone in self.timezone_name).encode(), np.uint8),
            revenue_known=self.revenue.known,
            lost_whole=self.revenue.lost.whole,
            lost_part=self.revenue.lost.part,
            risk_whole=self.revenue.at_risk.whole,
            risk_part=self.revenue.at_risk.part,
            currency=np.frombuffer("\0".join(code or "" for code in self.revenue.currency).encode(), np.uint8),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "FleetColumns":
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            n = len(arrays["pk"])
            ids = arrays["store_id"].tobytes().decode().split("\0") if n else []
            zones = [zone or None for zone in arrays["timezone_name"].tobytes().decode().split("\0")] if n else []
            return cls(
                pk=arrays["pk"], store_id=ids, timezone_name=zones, state=arrays["state"], day=arrays["day"],
                week=arrays["week"], last_poll_us=arrays["last_poll_us"], last_poll_active=arrays["last_poll_active"],
                # A ranking stored before silence was kept: none silent until its refresh.
                silent=arrays["silent"] if "silent" in arrays.files else None,
                # One stored before lost revenue was kept: no estimate until its refresh.
                revenue=WindowsLostRevenue(
                    lost=ExactCents(arrays["lost_whole"], arrays["lost_part"]),
                    at_risk=ExactCents(arrays["risk_whole"], arrays["risk_part"]),
                    currency=[code or None for code in arrays["currency"].tobytes().decode().split("\0")] if n else [],
                    known=arrays["revenue_known"],
                ) if "revenue_known" in arrays.files else None,
            )


def lost_revenue_order(revenue: WindowsLostRevenue, *, store_ids: list[str]) -> np.ndarray:
    """Positions by lost revenue: the stores with an estimate first, grouped by currency
    (amounts of different currencies are not compared: the currency of the most stores
    first, then by code), the largest amount first, then the largest at risk, then by id
    in code-point order; the stores without an estimate last, by id."""
    lost, at_risk = revenue.rounded_cents()
    codes = [code or "" for code in revenue.currency]
    counts: dict[str, int] = {}
    for code, known in zip(codes, revenue.known.tolist()):
        if known:
            counts[code] = counts.get(code, 0) + 1
    rank = {code: r for r, code in enumerate(sorted(counts, key=lambda code: (-counts[code], code)))}
    group = np.fromiter((rank.get(code, len(rank)) if known else len(rank) for code, known in
                         zip(codes, revenue.known.tolist())), np.int64, len(codes))
    ids = np.array(store_ids, dtype=object)
    return np.lexsort((ids, -at_risk, -lost, group))


def fleet_ranked(*, stores: list[tuple[int, str, str | None]], as_of: datetime, horizon: timedelta) -> FleetColumns:
    """fleet_columns of `stores`, worst first."""
    return fleet_columns(stores=stores, as_of=as_of, horizon=horizon).worst_first()

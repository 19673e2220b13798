"""Lost revenue of any windows (docs/rules.md §13): what the downtime of each window cost a
store at the revenue it expects in each local hour, and the same over its unknown time
(at risk), in the store's currency, exact until each figure is rounded to cents, once.

Computed from the raw polls over the windows asked for (one engine pass besides the
uptime figures, which may come from kept days): the store's hours and the polls of
``[start - H, as_of]`` of every window are read once for all the windows, and the
engine (monitoring.engine.revenue) cuts the down and unknown time at the local hours.

A window has no estimate (None, never 0) when its store has no revenue rows, or when
part of its evidence lies where the store's polls are pruned (POLL_RETENTION_DAYS):
kept days hold no time per hour, so those figures could only be wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from monitoring.engine import Polls, StoreSchedule, from_us, to_us
from monitoring.engine.revenue import ExactCents, priced, window_hour_exposure
from monitoring.engine.zones import td_us
from monitoring.models import Store
from monitoring.stores.revenue import RevenueRates, revenue_rates
from monitoring.stores.selectors import polls_between, store_schedules

StoreRef = tuple[int, str, str | None]  # (pk, store_id, zone), as the history's selectors take stores


@dataclass(frozen=True)
class LostRevenue:
    """Lost revenue of one window and its at-risk part, in whole cents of `currency`."""

    amount: Decimal
    at_risk: Decimal
    currency: str


@dataclass(frozen=True)
class CurrencyTotal:
    """The sum of many windows' lost revenue in one currency (never added across
    currencies), rounded once from the exact amounts; `stores`: how many windows."""

    currency: str
    amount: Decimal
    at_risk: Decimal
    stores: int


def _decimal(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


@dataclass
class WindowsLostRevenue:
    """Lost revenue of m windows: exact amounts, each window's currency, and whether it
    has an estimate (`known`)."""

    lost: ExactCents
    at_risk: ExactCents
    currency: list[str | None]
    known: np.ndarray

    @classmethod
    def none(cls, count: int) -> WindowsLostRevenue:
        return cls(ExactCents.zeros(count), ExactCents.zeros(count), [None] * count, np.zeros(count, bool))

    def __len__(self) -> int:
        return len(self.currency)

    def take(self, index: np.ndarray) -> WindowsLostRevenue:
        index = np.asarray(index, dtype=np.int64)
        return WindowsLostRevenue(
            self.lost.take(index), self.at_risk.take(index), [self.currency[i] for i in index.tolist()], self.known[index]
        )

    @classmethod
    def concatenate(cls, parts: Sequence[WindowsLostRevenue]) -> WindowsLostRevenue:
        return cls(
            ExactCents(*(np.concatenate([getattr(p.lost, f) for p in parts] or [np.zeros(0, np.int64)])
                         for f in ("whole", "part"))),
            ExactCents(*(np.concatenate([getattr(p.at_risk, f) for p in parts] or [np.zeros(0, np.int64)])
                         for f in ("whole", "part"))),
            [code for p in parts for code in p.currency],
            np.concatenate([p.known for p in parts] or [np.zeros(0, bool)]),
        )

    def item(self, i: int) -> LostRevenue | None:
        """Window i's figures rounded to cents; None: no estimate."""
        if not self.known[i]:
            return None
        lost, at_risk = self.lost.take(np.array([i])).rounded()[0], self.at_risk.take(np.array([i])).rounded()[0]
        return LostRevenue(amount=_decimal(lost), at_risk=_decimal(at_risk), currency=self.currency[i])

    def items(self) -> list[LostRevenue | None]:
        lost, at_risk = self.lost.rounded(), self.at_risk.rounded()
        return [
            LostRevenue(amount=_decimal(lost[i]), at_risk=_decimal(at_risk[i]), currency=self.currency[i])
            if self.known[i] else None
            for i in range(len(self))
        ]

    def totals(self, index: np.ndarray | None = None) -> list[CurrencyTotal]:
        """Per currency (in code order), the exact sum of the windows with an estimate
        (of `index`), rounded once."""
        chosen = np.arange(len(self)) if index is None else np.asarray(index, dtype=np.int64)
        chosen = chosen[self.known[chosen]]
        by_currency: dict[str, list[int]] = {}
        for i in chosen.tolist():
            by_currency.setdefault(self.currency[i], []).append(i)
        out = []
        for code in sorted(by_currency):
            members = np.array(by_currency[code], dtype=np.int64)
            out.append(
                CurrencyTotal(
                    currency=code,
                    amount=_decimal(self.lost.total(members).rounded()[0]),
                    at_risk=_decimal(self.at_risk.total(members).rounded()[0]),
                    stores=len(members),
                )
            )
        return out

    def rounded_cents(self) -> tuple[np.ndarray, np.ndarray]:
        """(lost, at risk) of every window in whole cents (0 where there is no estimate)."""
        return np.where(self.known, self.lost.rounded(), 0), np.where(self.known, self.at_risk.rounded(), 0)


def lost_revenue_computed(
    *,
    schedules: Sequence[StoreSchedule],
    polls: Polls,
    rates: RevenueRates,
    window_store: np.ndarray,
    window_start_us: np.ndarray,
    window_end_us: np.ndarray,
    window_as_of_us: np.ndarray | None = None,
    horizon: timedelta,
) -> WindowsLostRevenue:
    """Lost revenue of windows over hours and polls already read (the stores in the
    order of `schedules` and `rates`; the polls of every window's [start - H, as_of]):
    windows of stores without rows have no estimate."""
    window_store = np.asarray(window_store, dtype=np.int64)
    m = len(window_store)
    result = WindowsLostRevenue.none(m)
    known = rates.has_rows[window_store] if m else np.zeros(0, bool)
    chosen = np.flatnonzero(known)
    if not len(chosen):
        return result
    ends = np.asarray(window_end_us, dtype=np.int64)
    as_ofs = ends if window_as_of_us is None else np.asarray(window_as_of_us, dtype=np.int64)
    exposure = window_hour_exposure(
        schedules=schedules, polls=polls, window_store=window_store[chosen],
        window_start_us=np.asarray(window_start_us, dtype=np.int64)[chosen], window_end_us=ends[chosen],
        window_as_of_us=as_ofs[chosen], horizon=horizon,
    )
    lost, at_risk = priced(exposure, rates_cents=rates.cents, window_store=window_store[chosen], windows=len(chosen))
    result.lost.whole[chosen], result.lost.part[chosen] = lost.whole, lost.part
    result.at_risk.whole[chosen], result.at_risk.part[chosen] = at_risk.whole, at_risk.part
    result.known[chosen] = True
    for i in chosen.tolist():
        result.currency[i] = rates.currency[window_store[i]]
    return result


def lost_revenue_of_windows(
    *,
    stores: Sequence[StoreRef],
    window_store: Sequence[int] | np.ndarray,
    window_start: Sequence[datetime],
    window_end: Sequence[datetime],
    window_as_of: Sequence[datetime] | None = None,
    horizon: timedelta,
) -> WindowsLostRevenue:
    """Lost revenue of windows of `stores` (window i: store ``stores[window_store[i]]``,
    ``[window_start[i], window_end[i])``, the polls at or before ``window_as_of[i]``,
    default its end, as evidence), reading the hours, polls and expected revenue of the
    stores that have rows."""
    window_store = np.asarray(window_store, dtype=np.int64)
    m = len(window_store)
    if not m:
        return WindowsLostRevenue.none(0)
    rates = revenue_rates(store_pks=[pk for pk, _, _ in stores])
    starts = np.array([to_us(moment) for moment in window_start], dtype=np.int64)
    ends = np.array([to_us(moment) for moment in window_end], dtype=np.int64)
    as_ofs = ends if window_as_of is None else np.array([to_us(moment) for moment in window_as_of], dtype=np.int64)
    as_ofs = np.maximum(as_ofs, ends)
    H = td_us(horizon)
    # No estimate where the evidence reaches polls pruned away.
    usable = rates.has_rows[window_store].copy()
    cuts = dict(
        Store.objects.filter(pk__in=[pk for pk, _, _ in stores], polls_pruned_before__isnull=False)
        .values_list("pk", "polls_pruned_before")
    )
    if cuts:
        cut = np.array([to_us(cuts[pk]) if pk in cuts else np.iinfo(np.int64).min // 2 for pk, _, _ in stores])
        usable &= starts - H >= cut[window_store]
    chosen = np.flatnonzero(usable)
    result = WindowsLostRevenue.none(m)
    if not len(chosen):
        return result
    # Only the stores of the chosen windows are read, in their own order.
    own = np.unique(window_store[chosen])
    local = np.searchsorted(own, window_store[chosen])
    subset = [stores[i] for i in own.tolist()]
    lo, hi = from_us(int(starts[chosen].min()) - H), from_us(int(as_ofs[chosen].max()))
    found = lost_revenue_computed(
        schedules=store_schedules(stores=subset, start=lo, end=hi),
        polls=polls_between(stores=subset, start=lo, end=hi),
        rates=RevenueRates(has_rows=rates.has_rows[own], cents=rates.cents[own],
                           currency=[rates.currency[i] for i in own.tolist()]),
        window_store=local, window_start_us=starts[chosen], window_end_us=ends[chosen],
        window_as_of_us=as_ofs[chosen], horizon=horizon,
    )
    result.lost.whole[chosen], result.lost.part[chosen] = found.lost.whole, found.lost.part
    result.at_risk.whole[chosen], result.at_risk.part[chosen] = found.at_risk.whole, found.at_risk.part
    result.known[chosen] = found.known
    for k, i in enumerate(chosen.tolist()):
        result.currency[i] = found.currency[k]
    return result


def lost_revenue_of_range(
    *, stores: Sequence[StoreRef], start: datetime, end: datetime, horizon: timedelta
) -> WindowsLostRevenue:
    """Each store's lost revenue over [start, end), the polls at or before `end` as
    evidence (a range's rule, docs/rules.md §11)."""
    n = len(stores)
    return lost_revenue_of_windows(
        stores=stores, window_store=np.arange(n), window_start=[start] * n, window_end=[end] * n, horizon=horizon
    )

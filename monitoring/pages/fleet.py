"""The home page: the fleet of stores the caller can see, worst first, from one batched
engine call (the ranking kept per data version)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.core.paginator import Paginator
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from monitoring import engine, humanize
from monitoring.access import Access, stores_visible
from monitoring.data_version import data_version_read
from monitoring.engine import DEFAULT_TIMEZONE
from monitoring.links import store_page_url
from monitoring.models import StatusPoll
from monitoring.reports import default_horizon
from monitoring.selectors import latest_poll_timestamp, polls_between, store_schedules

from zoneinfo import ZoneInfo

import numpy as np

from monitoring.pages.display import STATE_LABELS, UTC, WEEK
from monitoring.pages.common import _bad_request, render


# --------------------------------------------------------------------------- the fleet (home page)

#: Stores a page of the fleet table shows.
FLEET_PAGE_SIZE = 50
#: Up to this many visible stores (after the search), every store's figures are computed in
#: one batched engine call per request and the table is sorted worst-first across all of them
#: (~14,000 stores: see bench/pages.py). Above it, only the page's stores are computed and
#: the table is in id order: narrow the search.
FLEET_RANK_LIMIT = 20_000
FLEET_STATES = ("down", "up", "closed", "unknown")


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
        return self.label or STATE_LABELS[self.state].lower()

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


def _fleet_details(rows: list[FleetRow], *, as_of: datetime, horizon: timedelta) -> None:
    """What only the shown rows need: links, last poll in words and local time (one query
    for stores with no poll in the week read), 'silent' / 'never reported', and how long a
    down store has been down (its open incident: the down stores' hours and polls, read
    for them alone, and the engine's incidents)."""
    older_needed = [row.pk for row in rows if row.last_poll_us is None]
    older = {}
    if older_needed:
        older = dict(
            StatusPoll.objects.filter(store_id__in=older_needed, timestamp_utc__lte=as_of)
            .values("store_id").annotate(latest=Max("timestamp_utc")).values_list("store_id", "latest")
        )
    down = [(row.pk, row.store_id, row.timezone_name) for row in rows if row.state == "DOWN"]
    incidents_by_pk = {}
    # Most outages are short: look back a day first, and a week only for those that began earlier.
    for reach in (timedelta(days=1), WEEK):
        if not down:
            break
        start = as_of - reach - horizon
        schedules = store_schedules(stores=down, start=start, end=as_of)
        polls = polls_between(stores=down, start=start, end=as_of)
        longer = []
        for i, store in enumerate(down):
            a, b = np.searchsorted(polls.store_index, [i, i + 1])
            incidents = engine.store_incidents(
                schedule=schedules[i], timestamps_us=polls.timestamp_us[a:b], is_active=polls.is_active[a:b],
                start=as_of - reach, end=as_of, horizon=horizon,
            )
            incidents_by_pk[store[0]] = incidents
            if reach < WEEK and (not incidents or incidents[-1].start <= as_of - reach):
                longer.append(store)
        down = longer
    for row in rows:
        zone = ZoneInfo(row.timezone_name or DEFAULT_TIMEZONE)
        row.page_url = store_page_url(row.store_id)
        last = engine.from_us(row.last_poll_us) if row.last_poll_us is not None else older.get(row.pk)
        if last is None:
            row.last_poll_text = "never"
            if row.state == "UNKNOWN":
                row.label = "never reported"
        else:
            row.last_poll_text = humanize.ago(last, now=as_of)
            row.last_poll_local = humanize.local_time(last, zone)
            if row.state == "UNKNOWN":
                row.label = "silent"
        if incidents_by_pk.get(row.pk):
            began = incidents_by_pk[row.pk][-1].start
            row.down_for = ("over " if began <= as_of - WEEK else "") + humanize.duration((as_of - began).total_seconds())
            row.down_since_local = humanize.local_time(began, zone)


#: Rankings kept per process (monitoring.data_version: never stale), least recently used out.
FLEET_CACHE_ENTRIES = 4
_fleet_cache: "OrderedDict[tuple, list[FleetRow]]" = OrderedDict()
_fleet_cache_lock = threading.Lock()


def fleet_ranking(
    *, access: Access, stores: list[tuple[int, str, str | None]], query: str, as_of: datetime, horizon: timedelta
) -> list[FleetRow]:
    """fleet_rows of `stores`, worst first. Kept in this process under the data version
    (as the GraphQL read cache is, monitoring.data_version): the same ranking asked again,
    with no store, hours or poll changed since, is not computed again; any write makes
    the next request compute it anew. Never mutate the rows returned (copy them)."""
    version = data_version_read()
    key = (version.number, access.owner_id, access.all_stores, query, as_of, horizon, len(stores))
    with _fleet_cache_lock:
        rows = _fleet_cache.get(key)
        if rows is not None:
            _fleet_cache.move_to_end(key)
            return rows
    rows = fleet_rows(stores=stores, as_of=as_of, horizon=horizon)
    rows.sort(key=FleetRow.sort_key)
    if version.settled:
        with _fleet_cache_lock:
            _fleet_cache[key] = rows
            while len(_fleet_cache) > FLEET_CACHE_ENTRIES:
                _fleet_cache.popitem(last=False)
    return rows


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    """GET /[?state=down|up|closed|unknown][&q=prefix][&page=N]: the fleet. Every store the
    caller can see (an owner's; staff and anonymous demo: all) with its state now, uptime
    over the last day and week with how much of it is known, its open incident and its
    last poll, worst first, 50 a page (store_page_url links; an id the grammar refuses,
    from older data, is listed unlinked). as_of = the caller's latest poll (SPEC §8)."""
    query = request.GET.get("q", "").strip()
    if "\x00" in query:  # PostgreSQL text holds no NUL: no id starts with one
        return _bad_request(request, "q holds a NUL character (U+0000)")
    state_filter = request.GET.get("state", "").strip().lower()
    if state_filter and state_filter not in FLEET_STATES:
        return _bad_request(request, f"state must be one of: {', '.join(FLEET_STATES)}")
    access: Access = request.access
    as_of = latest_poll_timestamp(owner_id=access.owner_id) or datetime.now(UTC).replace(microsecond=0)
    horizon = default_horizon()
    stores = stores_visible(access=access)
    if query:
        stores = stores.filter(store_id__startswith=query)
    stores = stores.order_by("pk").values_list("pk", "store_id", "timezone_name")
    total_visible = stores.count()
    ranked = total_visible <= FLEET_RANK_LIMIT
    if ranked:
        rows = fleet_ranking(access=access, stores=list(stores), query=query, as_of=as_of, horizon=horizon)
    else:  # too many to rank per request: the page's stores in id order
        offset = (_page_number(request) - 1) * FLEET_PAGE_SIZE
        rows = fleet_rows(
            stores=list(stores.order_by("store_id")[offset : offset + FLEET_PAGE_SIZE]), as_of=as_of, horizon=horizon
        )
    counts = {state: 0 for state in FLEET_STATES}
    for row in rows:
        counts[row.state.lower()] += 1
    if state_filter:
        rows = [row for row in rows if row.state.lower() == state_filter]
    if ranked:
        paginator = Paginator(rows, FLEET_PAGE_SIZE, allow_empty_first_page=True)
        page = paginator.get_page(_page_number(request))
        shown, page_number, page_count = list(page.object_list), page.number, paginator.num_pages
        matching = paginator.count
    else:
        shown, page_number = rows, _page_number(request)
        page_count = -(-total_visible // FLEET_PAGE_SIZE)
        matching = total_visible
    shown = [replace(row) for row in shown]  # the ranking may be shared (fleet_ranking): copies
    _fleet_details(shown, as_of=as_of, horizon=horizon)

    def link(page_to: int) -> str:
        params = {key: value for key, value in (("q", query), ("state", state_filter)) if value}
        params["page"] = page_to
        return "?" + urlencode(params)

    context = {
        "rows": shown,
        "query": query,
        "state_filter": state_filter,
        "ranked": ranked,
        "rank_limit": f"{FLEET_RANK_LIMIT:,}",
        "total_text": humanize.count(total_visible, "store"),
        "matching_text": humanize.count(matching, "store"),
        "counts": [
            {"state": state, "count": f"{counts[state]:,}", "url": "?" + urlencode({**({"q": query} if query else {}), "state": state})}
            for state in FLEET_STATES
        ],
        "as_of": as_of,
        "as_of_utc": humanize.utc_time(as_of),
        "page_number": page_number,
        "page_count": max(page_count, 1),
        "previous_url": link(page_number - 1) if page_number > 1 else None,
        "next_url": link(page_number + 1) if page_number < page_count else None,
        "first_index": (page_number - 1) * FLEET_PAGE_SIZE + 1,
    }
    return render(request, "monitoring/home.html", context)

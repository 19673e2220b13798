"""The home page: the fleet of stores the caller can see, worst first, from the fleet
ranking (monitoring.fleet: computed in one batched engine call, kept and shared); or,
with `?from=…&to=…`, ranked over that range (monitoring.fleet.ranges: computed when
asked, from the history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from monitoring import engine
from monitoring.alerts.incidents import open_incidents_of
from monitoring.kernel import humanize, values
from monitoring.stores.access import Access, stores_visible
from monitoring.kernel.periods import zone_name
from monitoring.fleet.ranges import FleetRangeRow, fleet_range_ranked, fleet_range_rows
from monitoring.fleet.ranking import FleetRow, fleet_rows
from monitoring.fleet.listing import FLEET_RANK_LIMIT, fleet_listing
from monitoring.history import HistoryInputError
from monitoring.web.links import store_page_url
from monitoring.models import StatusPoll
from monitoring.kernel.periods import default_horizon
from monitoring.stores.selectors import default_as_of, polls_between, store_schedules
from monitoring.web.pages.display import UTC, WEEK, lost_revenue_view, open_incident_view, revenue_totals_view
from monitoring.web.pages.common import bad_request_page, page_requires, render
from monitoring.web.pages.ranges import RangeAsked, cap_text, range_asked, range_bounds

# --------------------------------------------------------------------------- the fleet (home page)

#: Stores a page of the fleet table shows.
FLEET_PAGE_SIZE = 50
#: Over a range, the fleet is ranked when its stores × the range's days are at most this
#: many (computed in the request: about 14,000 stores over a week, as long as computing the
#: kept ranking takes); above it, only the page's stores are computed, in id order.
FLEET_RANGE_RANK_STORE_DAYS = 100_000
#: The states a store is shown in: its badge's word is its filter's word. "silent" and
#: "unknown" are both UNKNOWN to the engine: silent is open for more than H of business
#: time with no evidence poll (monitoring.fleet.ranking); unknown is everything else
#: unknown (just opened with its last poll before opening, never reported, ...).
FLEET_STATES = ("down", "up", "closed", "silent", "unknown")
#: Each filter's word → (the ranking's state, silent or not; None: either).
FLEET_STATE_FILTERS = {
    "down": ("DOWN", None), "up": ("UP", None), "closed": ("CLOSED", None),
    "silent": ("UNKNOWN", True), "unknown": ("UNKNOWN", False),
}
#: The orders of the fleet (`?sort=`): worst first (the default), or by lost revenue
#: (docs/rules.md §13: the largest first, grouped by currency, stores without an estimate last).
FLEET_SORTS = ("worst", "lost")


def state_word(row: FleetRow) -> str:
    """The one word of a row's state, on its badge and in the filter that lists it."""
    return "silent" if row.silent else row.state.lower()


@dataclass
class FleetRowView:
    """How one row of the fleet table reads: the ranking's data (`row`) and its words."""

    row: FleetRow
    page_url: str | None = None
    last_poll_text: str = ""
    last_poll_local: str = ""
    note: str = ""  # under an unknown badge: "never reported"
    down_for: str = ""
    down_since_local: str = ""
    open_incident: dict | None = None  # display.open_incident_view

    @property
    def store_id(self) -> str:
        return self.row.store_id

    @property
    def timezone_name(self) -> str | None:
        return self.row.timezone_name

    @property
    def state(self) -> str:
        return self.row.state

    @property
    def state_word(self) -> str:
        return state_word(self.row)

    @property
    def day_figure(self) -> dict:
        return humanize.coverage(*self.row.day)

    @property
    def week_figure(self) -> dict:
        return humanize.coverage(*self.row.week)

    @property
    def lost_revenue(self) -> dict | None:
        return lost_revenue_view(self.row.lost_revenue)


def _fleet_details(rows: list[FleetRow], *, as_of: datetime, horizon: timedelta) -> list[FleetRowView]:
    """What only the shown rows need: links, last poll in words and local time (one query
    for stores with no poll in the week read), 'never reported', and how long a down
    store has been down (its open incident: the down stores' hours and polls, read for
    them alone, and the engine's incidents)."""
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
    open_incidents = open_incidents_of(store_pks=[row.pk for row in rows])
    views = []
    for row in rows:
        zone = ZoneInfo(zone_name(row.timezone_name))
        view = FleetRowView(row=row, page_url=store_page_url(row.store_id))
        view.open_incident = open_incident_view(open_incidents.get(row.pk), zone)
        last = engine.from_us(row.last_poll_us) if row.last_poll_us is not None else older.get(row.pk)
        if last is None:
            view.last_poll_text = "never"
            if row.state == "UNKNOWN":
                view.note = "never reported"
        else:
            view.last_poll_text = humanize.ago(last, now=as_of)
            view.last_poll_local = humanize.local_time(last, zone)
        if incidents_by_pk.get(row.pk):
            began = incidents_by_pk[row.pk][-1].start
            view.down_for = ("over " if began <= as_of - WEEK else "") + humanize.duration((as_of - began).total_seconds())
            view.down_since_local = humanize.local_time(began, zone)
        views.append(view)
    return views


@dataclass
class FleetRangeRowView:
    """How one row of the fleet over a range reads: its figures (`row`) and their words;
    its link opens the store's page on the same range."""

    row: FleetRangeRow
    page_url: str | None = None

    @property
    def store_id(self) -> str:
        return self.row.store_id

    @property
    def timezone_name(self) -> str | None:
        return self.row.timezone_name

    @property
    def figure(self) -> dict:
        row = self.row
        return humanize.coverage(row.uptime_minutes * 60, row.downtime_minutes * 60, row.unknown_minutes * 60)

    @property
    def up_text(self) -> str:
        return humanize.duration(self.row.uptime_minutes * 60)

    @property
    def down_text(self) -> str:
        return humanize.duration(self.row.downtime_minutes * 60)

    @property
    def unknown_text(self) -> str:
        return humanize.duration(self.row.unknown_minutes * 60)

    @property
    def business_text(self) -> str:
        return humanize.duration(self.row.business_minutes * 60)

    @property
    def lost_revenue(self) -> dict | None:
        return lost_revenue_view(self.row.lost_revenue)

    @property
    def span_local(self) -> str:
        zone = ZoneInfo(zone_name(self.row.timezone_name))
        return f"{humanize.local_time(self.row.start, zone)} to {humanize.local_time(self.row.end, zone)}"


def _with_query(url: str | None, params: dict[str, str]) -> str | None:
    if url is None or not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _fleet_over_range(request: HttpRequest, *, asked: RangeAsked, query: str, sort: str) -> HttpResponse:
    """The fleet ranked over the range `asked` for: every store the caller can see (and
    whose id starts with `query`), each over its range (the same instants for all, or,
    for local dates, each zone's own), worst first by the kept ranking's rule without
    "down now" (monitoring.fleet.ranges); paginated as the default page is. Above
    FLEET_RANK_LIMIT stores or FLEET_RANGE_RANK_STORE_DAYS, the page's stores in id order."""
    access: Access = request.access
    as_of = default_as_of(owner_id=access.owner_id, group_id=access.group_id)
    stores = stores_visible(access=access)
    if query:
        stores = stores.filter(store_id__startswith=query)
    # Local dates: each zone's own instants (and at least the default zone's, so that a
    # bad range is refused even when no store matches).
    zones = list(stores.order_by().values_list("timezone_name", flat=True).distinct()) if asked.by_date else []
    zones = zones or [None]
    try:
        bounds = {zone: range_bounds(asked, timezone_name=zone, default_end=as_of) for zone in zones}
    except HistoryInputError as error:
        return bad_request_page(request, str(error))
    one = None if asked.by_date else bounds[None]

    def bounds_of(zone: str | None) -> tuple[datetime, datetime]:
        found = one or bounds[zone]
        return found.start, found.end

    stores = stores.values_list("pk", "store_id", "timezone_name")
    total_visible = stores.count()
    days = max((b.end - b.start) / timedelta(days=1) for b in bounds.values())
    ranked = total_visible <= FLEET_RANK_LIMIT and total_visible * days <= FLEET_RANGE_RANK_STORE_DAYS
    page_count = max(1, -(-total_visible // FLEET_PAGE_SIZE))
    page_number = min(page_number_of(request), page_count)
    offset = (page_number - 1) * FLEET_PAGE_SIZE
    totals = []
    if ranked:
        ranking = fleet_range_ranked(stores=list(stores), bounds_of=bounds_of, by_lost_revenue=sort == "lost")
        totals = ranking.revenue_totals()
        rows = ranking[offset : offset + FLEET_PAGE_SIZE]
    else:
        page = list(stores.order_by("store_id")[offset : offset + FLEET_PAGE_SIZE])
        rows = fleet_range_rows(stores=page, bounds_of=bounds_of).rows
    kept = asked.query()
    views = [FleetRangeRowView(row=row, page_url=_with_query(store_page_url(row.store_id), kept)) for row in rows]
    sorted_by = {"sort": sort} if sort != "worst" else {}

    def link(page_to: int) -> str:
        return "?" + urlencode({**({"q": query} if query else {}), **kept, **sorted_by, "page": page_to})

    context = {
        "range_rows": views,
        "range": {
            "from_text": asked.from_text,
            "to_text": asked.to_text,
            "by_date": asked.by_date,
            "start_utc": humanize.utc_time(one.start) if one else "",
            "end_utc": humanize.utc_time(one.end) if one else "",
            "capped": cap_text() if any(b.capped for b in bounds.values()) else "",
        },
        "query": query,
        "ranked": ranked,
        "sort": sort,
        "sort_links": _sort_links(sort, {**({"q": query} if query else {}), **kept}) if ranked else [],
        "revenue_totals": revenue_totals_view(totals),
        "rank_limit": f"{FLEET_RANK_LIMIT:,}",
        "range_rank_limit": f"{FLEET_RANGE_RANK_STORE_DAYS:,}",
        "total_text": humanize.count(total_visible, "store"),
        "matching_text": humanize.count(total_visible, "store"),
        "as_of": as_of,
        "as_of_utc": humanize.utc_time(as_of),
        "page_number": page_number,
        "page_count": page_count,
        "previous_url": link(page_number - 1) if page_number > 1 else None,
        "next_url": link(page_number + 1) if page_number < page_count else None,
        "first_index": offset + 1,
    }
    return render(request, "monitoring/home.html", context)


def _sort_links(sort: str, params: dict[str, str]) -> list[dict]:
    """The orders the page offers, each a link keeping the other parameters."""
    labels = {"worst": "worst first", "lost": "most revenue lost"}
    return [
        {"sort": name, "label": labels[name], "on": name == sort,
         "url": "?" + urlencode({**params, **({"sort": name} if name != "worst" else {})})}
        for name in FLEET_SORTS
    ]


def page_number_of(request: HttpRequest) -> int:
    """`?page=N` by the one grammar (ASCII digits: `٣` is no page 3); anything else,
    or out of range, is the first page: a page number is never an error."""
    try:
        return values.whole_number(request.GET.get("page", "1"), field="page", minimum=1)
    except values.InvalidValue:
        return 1


@require_http_methods(["GET", "HEAD"])
@page_requires("store.read")
def home(request: HttpRequest) -> HttpResponse:
    """GET /[?state=down|up|closed|unknown][&q=prefix][&page=N]: the fleet. Every store the
    caller can see (an owner's; staff and anonymous demo: all) with its state now, uptime
    over the last day and week with how much of it is known, its open incident and its
    last poll, worst first, 50 a page (store_page_url links; an id the grammar refuses,
    from older data, is listed unlinked). as_of = the caller's latest poll (docs/rules.md §8)."""
    query = request.GET.get("q", "").strip()
    if "\x00" in query:  # PostgreSQL text holds no NUL: no id starts with one
        return bad_request_page(request, "q holds a NUL character (U+0000)")
    state_filter = request.GET.get("state", "").strip().lower()
    if state_filter and state_filter not in FLEET_STATES:
        return bad_request_page(request, f"state must be one of: {', '.join(FLEET_STATES)}")
    sort = request.GET.get("sort", "").strip().lower() or "worst"
    if sort not in FLEET_SORTS:
        return bad_request_page(request, f"sort must be one of: {', '.join(FLEET_SORTS)}")
    try:
        asked = range_asked(request)
    except values.InvalidValue as error:
        return bad_request_page(request, str(error))
    if asked.given:
        if state_filter:
            return bad_request_page(
                request, "state: a store's state is its state now; over a range, the stores are ranked by"
                " uptime (ask without from and to to filter by state)"
            )
        return _fleet_over_range(request, asked=asked, query=query, sort=sort)
    access: Access = request.access
    as_of = default_as_of(owner_id=access.owner_id, group_id=access.group_id)
    horizon = default_horizon()
    stores = stores_visible(access=access)
    ranked = stores.count() <= FLEET_RANK_LIMIT
    page_number = page_number_of(request)
    totals = []
    if ranked:  # the whole fleet's ranking (kept: monitoring.fleet), then the search and filter
        state, silent = FLEET_STATE_FILTERS.get(state_filter, (None, None))
        listing = fleet_listing(
            access=access, as_of=as_of, prefix=query, state=state, silent=silent, by_lost_revenue=sort == "lost"
        )
        columns, found, as_of, refreshing = listing.columns, listing.found, listing.kept.as_of, listing.kept.refreshing
        counts = dict(listing.counts)
        counts["SILENT"] = listing.silent
        counts["UNKNOWN"] -= counts["SILENT"]
        total_visible, matching = sum(counts.values()), len(found)
        totals = columns.revenue_totals(found)
        page_count = max(1, -(-matching // FLEET_PAGE_SIZE))
        page_number = min(page_number, page_count)
        offset = (page_number - 1) * FLEET_PAGE_SIZE
        shown = [columns.row(i) for i in found[offset : offset + FLEET_PAGE_SIZE]]
    else:  # too many to rank per request: the page's stores in id order
        refreshing = False
        if query:
            stores = stores.filter(store_id__startswith=query)
        stores = stores.values_list("pk", "store_id", "timezone_name")
        total_visible = stores.count()
        offset = (page_number - 1) * FLEET_PAGE_SIZE
        rows = fleet_rows(
            stores=list(stores.order_by("store_id")[offset : offset + FLEET_PAGE_SIZE]), as_of=as_of, horizon=horizon
        )
        counts = {state.upper(): 0 for state in FLEET_STATES}
        for row in rows:
            counts[state_word(row).upper()] += 1
        shown = [row for row in rows if not state_filter or state_word(row) == state_filter]
        page_count = -(-total_visible // FLEET_PAGE_SIZE)
        matching = total_visible
    shown = _fleet_details(shown, as_of=as_of, horizon=horizon)

    sorted_by = {"sort": sort} if sort != "worst" else {}

    def link(page_to: int) -> str:
        params = {key: value for key, value in (("q", query), ("state", state_filter)) if value}
        params.update(sorted_by)
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
            {"state": state, "count": f"{counts[state.upper()]:,}",
             "url": "?" + urlencode({**({"q": query} if query else {}), "state": state, **sorted_by})}
            for state in FLEET_STATES
        ],
        "sort": sort,
        "sort_links": _sort_links(
            sort, {key: value for key, value in (("q", query), ("state", state_filter)) if value}
        ) if ranked else [],
        "revenue_totals": revenue_totals_view(totals),
        "as_of": as_of,
        "as_of_utc": humanize.utc_time(as_of),
        "as_of_hhmm": f"{as_of.astimezone(UTC):%H:%M} UTC",
        "refreshing": refreshing,
        "page_number": page_number,
        "page_count": max(page_count, 1),
        "previous_url": link(page_number - 1) if page_number > 1 else None,
        "next_url": link(page_number + 1) if page_number < page_count else None,
        "first_index": (page_number - 1) * FLEET_PAGE_SIZE + 1,
    }
    return render(request, "monitoring/home.html", context)

"""Server-rendered pages for owners and operators: a store's status page and a report's
page. Thin: the numbers come from the report and timeline services (the same engine as
the CSV); what is here only arranges them for display.

Access is `request.access` (set by ApiAccessMiddleware for /stores/ and /reports/): a store
or report outside it is answered with the same 404 as one that does not exist."""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import numpy as np

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render as django_render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from monitoring import humanize
from monitoring.access import (
    SESSION_TOKEN_KEY,
    Access,
    AuthenticationFailed,
    reports_visible,
    session_sign_in,
    stores_visible,
)
from monitoring import engine
from monitoring.data_version import data_version_read
from monitoring.engine import DEFAULT_TIMEZONE
from monitoring.ingest import values
from monitoring.links import report_download_path, store_id_from_page_request, store_page_url
from monitoring.models import ApiToken, BusinessHours, Report, StatusPoll, Store
from monitoring.reports import ReportInputError, default_horizon, report_create, store_report_compute, window_seconds
from monitoring.selectors import latest_poll_timestamp, polls_between, store_schedules
from monitoring.special_hours import special_hours_between
from monitoring.timeline import store_incidents, store_timeline

UTC = dt_timezone.utc
WEEK = timedelta(days=7)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATE_LABELS = {"UP": "Up", "DOWN": "Down", "UNKNOWN": "Unknown", "CLOSED": "Closed"}
STATE_COLORS = {"UP": "#2e9d4f", "DOWN": "#d64541", "UNKNOWN": "#9aa0a6", "CLOSED": "#eceff1"}

# Timeline chart geometry (SVG user units): one row per local calendar day, a fixed scale
# of PX_PER_HOUR so that a 23- or 25-hour day (DST) is drawn as long as it really is.
PX_PER_HOUR = 40
DAY_WIDTH = 24 * PX_PER_HOUR
LABEL_WIDTH = 96
ROW_HEIGHT = 22
ROW_GAP = 8
AXIS_HEIGHT = 22
CHART_WIDTH = LABEL_WIDTH + DAY_WIDTH + PX_PER_HOUR + 8  # room for a 25-hour day
REPORT_PREVIEW_ROWS = 20


# --------------------------------------------------------------------------- display helpers


def _zone(store: Store) -> ZoneInfo:
    return ZoneInfo(store.timezone_name or DEFAULT_TIMEZONE)


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return humanize.local_time(moment, zone)


def _utc(moment: datetime | None) -> str:
    return humanize.utc_time(moment)


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _shift_text(start: time, end: time) -> str:
    if start == end:
        return f"{_clock(start)} for 24 hours"
    if end == time(0):
        return f"{_clock(start)}–24:00"
    if end < start:
        return f"{_clock(start)}–{_clock(end)} (next day)"
    return f"{_clock(start)}–{_clock(end)}"


def _hours_by_day(hours: list[BusinessHours]) -> list[dict]:
    """Each weekday with its shifts as text, in the store's local time (SPEC §2, §3)."""
    if not hours:
        return []
    days = []
    for day, name in enumerate(DAY_NAMES):
        shifts = [_shift_text(row.start_time_local, row.end_time_local) for row in hours if row.day_of_week == day]
        days.append({"name": name, "shifts": shifts})
    return days


#: Special hours shown on the status page: from the week's first local date to this far ahead.
SPECIAL_DAYS_AHEAD = timedelta(days=60)
SPECIAL_DAYS_SHOWN = 40


def _special_days(store: Store, *, first: date, last: date) -> list[dict]:
    """The store's special dates in [first, last] with their shifts as text (SPEC §9); a
    date with no shift is closed all day."""
    days: dict[date, list[str]] = {}
    for row in special_hours_between(store=store, start=first, end=last, limit=SPECIAL_DAYS_SHOWN * 4):
        shifts = days.setdefault(row.date, [])
        if not row.closed:
            shifts.append(_shift_text(row.start_time_local, row.end_time_local))
    return [
        {"date": day.strftime("%a %d %b %Y"), "shifts": shifts} for day, shifts in list(days.items())[:SPECIAL_DAYS_SHOWN]
    ]


@dataclass
class WindowFigures:
    label: str
    up_seconds: float
    down_seconds: float
    unknown_seconds: float

    @property
    def business_seconds(self) -> float:
        return self.up_seconds + self.down_seconds + self.unknown_seconds

    @property
    def uptime_percent(self) -> float | None:
        """up / (up + down): unknown time counts as neither (SPEC §4)."""
        return humanize.uptime_percent(self.up_seconds, self.down_seconds)

    @property
    def figure(self) -> dict:
        """The percentage with how much of the business time is known (humanize.coverage)."""
        return humanize.coverage(self.up_seconds, self.down_seconds, self.unknown_seconds)

    def share(self, seconds: float) -> float:
        return 0.0 if self.business_seconds <= 0 else round(100.0 * seconds / self.business_seconds, 3)

    @property
    def up_share(self) -> float:
        return self.share(self.up_seconds)

    @property
    def down_share(self) -> float:
        return self.share(self.down_seconds)

    @property
    def unknown_share(self) -> float:
        return self.share(self.unknown_seconds)

    @property
    def up_text(self) -> str:
        return humanize.duration(self.up_seconds)

    @property
    def down_text(self) -> str:
        return humanize.duration(self.down_seconds)

    @property
    def unknown_text(self) -> str:
        return humanize.duration(self.unknown_seconds)

    @property
    def business_text(self) -> str:
        return humanize.duration(self.business_seconds)


def _window_figures(row: dict) -> list[WindowFigures]:
    figures = []
    for key, label in (("hour", "Last hour"), ("day", "Last day"), ("week", "Last week")):
        up, down, unknown = window_seconds(row, key)
        figures.append(WindowFigures(label=label, up_seconds=up, down_seconds=down, unknown_seconds=unknown))
    return figures


@dataclass
class ChartRect:
    x: float
    width: float
    seconds: float
    state: str
    title: str

    @property
    def color(self) -> str:
        return STATE_COLORS[self.state]


@dataclass
class ChartRow:
    label: str
    y: float
    length: float  # the local day's length on the chart (23 or 25 hours across DST)
    rects: list[ChartRect] = field(default_factory=list)

    @property
    def text_y(self) -> float:
        return self.y + ROW_HEIGHT / 2 + 4


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _chart_rows(segments, *, zone: ZoneInfo, start: datetime, end: datetime) -> list[ChartRow]:
    """The timeline cut into local calendar days, one chart row each; x measures time since
    local midnight at PX_PER_HOUR, so the rects' widths add up to the whole range."""
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    rows: list[ChartRow] = []
    day = first_day
    index = 0
    while day <= last_day:
        day_start = _local_midnight(day, zone)
        day_end = _local_midnight(day + timedelta(days=1), zone)
        row = ChartRow(
            label=day.strftime("%a %d %b"),
            y=AXIS_HEIGHT + len(rows) * (ROW_HEIGHT + ROW_GAP),
            length=round((day_end - day_start).total_seconds() / 3600 * PX_PER_HOUR, 3),
        )
        lo_day, hi_day = max(day_start, start), min(day_end, end)
        while index < len(segments) and segments[index].end <= lo_day:
            index += 1
        j = index
        while j < len(segments) and segments[j].start < hi_day:
            segment = segments[j]
            lo, hi = max(segment.start, lo_day), min(segment.end, hi_day)
            if lo < hi:
                seconds = (hi - lo).total_seconds()
                row.rects.append(
                    ChartRect(
                        x=round(LABEL_WIDTH + (lo - day_start).total_seconds() / 3600 * PX_PER_HOUR, 3),
                        width=round(seconds / 3600 * PX_PER_HOUR, 3),
                        seconds=seconds,
                        state=segment.state,
                        title=(
                            f"{STATE_LABELS[segment.state]} {lo.astimezone(zone):%a %H:%M}"
                            f"–{hi.astimezone(zone):%H:%M} ({humanize.duration(seconds)})"
                        ),
                    )
                )
            j += 1
        rows.append(row)
        day += timedelta(days=1)
    return rows


def _not_found(request: HttpRequest, what: str, reason: str = "") -> HttpResponse:
    return render(request, "monitoring/not_found.html", {"what": what, "reason": reason}, status=404)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "monitoring/bad_request.html", {"message": message}, status=400)


def _as_of_param(request: HttpRequest) -> datetime | None:
    """The page's `as_of` by the one grammar (SPEC §7): an offset required, years
    2000–2100; absent or empty = the latest poll. Raises InvalidValue."""
    value = request.GET.get("as_of", "")
    if value == "":
        return None
    return values.as_of(value, field="as_of")


# --------------------------------------------------------------------------- views


def viewer(request: HttpRequest) -> dict | None:
    """Who the page header says is signed in: the owner of the token signed in to this
    browser session (or 'staff'), an admin user, a bearer token, or the anonymous demo.
    None where the page has no access (sign-in, errors)."""
    access: Access | None = getattr(request, "access", None)
    if access is None:
        return None
    key_hash = request.session.get(SESSION_TOKEN_KEY) if hasattr(request, "session") else None
    if key_hash:
        token = ApiToken.objects.select_related("owner").filter(key_hash=key_hash).first()
        name = token.owner.name if token and token.owner_id else "staff"
        return {"name": name, "session": True}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return {"name": f"{user.get_username()} (admin)", "session": True}
    if request.headers.get("Authorization"):
        return {"name": "an API token", "session": False}
    return {"name": None, "demo": True, "session": False}


def render(request: HttpRequest, template: str, context: dict | None = None, status: int | None = None) -> HttpResponse:
    """django.shortcuts.render with the header's `viewer`."""
    return django_render(request, template, {**(context or {}), "viewer": viewer(request)}, status=status)



def status_page_context(*, store: Store, access: Access, as_of: datetime | None = None) -> dict:
    """Everything the status page shows for one store over the week ending at `as_of`
    (default: the latest poll among the stores `access` can see, SPEC §5, §8)."""
    as_of = (
        as_of
        or latest_poll_timestamp(owner_id=access.owner_id)
        or datetime.now(UTC).replace(microsecond=0)
    )
    start = as_of - WEEK
    zone = _zone(store)
    (row,) = store_report_compute(store=store, as_of=as_of).rows
    segments = store_timeline(store=store, start=start, end=as_of)
    incidents = store_incidents(store=store, start=start, end=as_of)
    hours = list(store.business_hours.order_by("day_of_week", "start_time_local"))
    last_poll = store.polls.filter(timestamp_utc__lte=as_of).order_by("-timestamp_utc").first()
    chart_rows = _chart_rows(segments, zone=zone, start=start, end=as_of)
    return {
        "store": store,
        "zone_name": zone.key,
        "zone_is_default": not store.timezone_name,
        "hours_by_day": _hours_by_day(hours),
        "special_days": _special_days(
            store, first=start.astimezone(zone).date(), last=(as_of + SPECIAL_DAYS_AHEAD).astimezone(zone).date()
        ),
        "as_of": as_of,
        "as_of_local": _local(as_of, zone),
        "as_of_utc": _utc(as_of),
        "start_local": _local(start, zone),
        "current_state": segments[-1].state if segments else "UNKNOWN",
        "owner_name": store.owner.name if store.owner_id else None,
        "current_state_label": STATE_LABELS[segments[-1].state] if segments else "Unknown",
        "legend": [
            {"state": state, "label": label, "color": STATE_COLORS[state]} for state, label in STATE_LABELS.items()
        ],
        "last_poll": last_poll,
        "last_poll_local": _local(last_poll.timestamp_utc, zone) if last_poll else None,
        "windows": _window_figures(row),
        "chart": {
            "rows": chart_rows,
            "width": CHART_WIDTH,
            "height": AXIS_HEIGHT + len(chart_rows) * (ROW_HEIGHT + ROW_GAP),
            "row_height": ROW_HEIGHT,
            "label_width": LABEL_WIDTH,
            "ticks": [
                {"x": LABEL_WIDTH + hour * PX_PER_HOUR, "label": f"{hour:02d}:00"} for hour in range(0, 25, 3)
            ],
            "total_seconds": sum(segment.seconds for r in chart_rows for segment in r.rects),
        },
        "incidents": [
            {
                "start_local": _local(incident.start, zone),
                "end_local": _local(incident.end, zone),
                "start_utc": _utc(incident.start),
                "end_utc": _utc(incident.end),
                "minutes_lost": incident.business_seconds_lost / 60,
                "lost_text": humanize.duration(incident.business_seconds_lost),
                "length_text": humanize.duration((min(incident.end, as_of) - incident.start).total_seconds()),
                "ongoing": incident.end >= as_of,
                "began_earlier": incident.start <= start,
            }
            for incident in reversed(incidents)  # newest first
        ],
        "incident_minutes": sum(incident.business_seconds_lost for incident in incidents) / 60,
        "incident_lost_text": humanize.duration(sum(incident.business_seconds_lost for incident in incidents)),
        "last_poll_ago": humanize.ago(last_poll.timestamp_utc, now=as_of) if last_poll else None,
    }


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


@require_http_methods(["GET", "HEAD"])
def store_page(request: HttpRequest, store_id: str) -> HttpResponse:
    """GET /stores/<store_id>/[?as_of=ISO8601] (or /stores/by-id/?id=<store_id>, see
    links.store_page_url): uptime, last week's timeline, incidents. The id and `as_of`
    go through the one grammar (SPEC §7): an id it refuses is no store (404, saying
    why), a bad `as_of` is a 400 naming the field."""
    store_id = store_id_from_page_request(store_id, request.GET)
    try:
        store_id = values.store_id(store_id, field="store_id")
    except values.InvalidValue as error:
        return _not_found(request, f"store {values.shown(store_id)}", reason=error.reason)
    try:
        as_of = _as_of_param(request)
    except values.InvalidValue as error:
        return _bad_request(request, error.reason)
    store = stores_visible(access=request.access).select_related("owner").filter(store_id=store_id).first()
    if store is None:
        return _not_found(request, f"store {store_id}")
    try:
        context = status_page_context(store=store, access=request.access, as_of=as_of)
    except ReportInputError as error:
        return _bad_request(request, str(error))
    return render(request, "monitoring/store_status.html", context)


@require_http_methods(["GET", "HEAD"])
def report_page(request: HttpRequest, report_id) -> HttpResponse:
    """GET /reports/<uuid>/: state, timings, and the signed CSV link once COMPLETE;
    refreshes itself every 2 s while PENDING or RUNNING."""
    report = reports_visible(access=request.access).defer("csv").filter(pk=report_id).first()
    if report is None:
        return _not_found(request, f"report {report_id}")
    complete = report.status == Report.Status.COMPLETE
    in_progress = report.status in (Report.Status.PENDING, Report.Status.RUNNING)
    duration = None
    if report.started_at and report.finished_at:
        duration = (report.finished_at - report.started_at).total_seconds()
    preview = list(report.rows.order_by("store_id")[:REPORT_PREVIEW_ROWS]) if complete else []
    for row in preview:
        row.page_url = store_page_url(row.store_id)
    progress = None
    if report.status == Report.Status.RUNNING:
        progress = report.chunks.aggregate(total=Count("pk"), done=Count("pk", filter=Q(finished_at__isnull=False)))
    context = {
        "report": report,
        "complete": complete,
        "in_progress": in_progress,
        "duration": None if duration is None else (f"{duration:.2f} s" if duration < 60 else humanize.duration(duration)),
        "download_url": report_download_path(report_id=report.id) if complete else None,
        "created_utc": _utc(report.created_at),
        "started_utc": _utc(report.started_at),
        "finished_utc": _utc(report.finished_at),
        "as_of_utc": _utc(report.as_of),
        "requested_as_of_utc": _utc(report.requested_as_of) if report.requested_as_of else "latest poll",
        "scope_preview": (report.store_ids or [])[:10],
        "scope_more": max(0, len(report.store_ids or []) - 10),
        "preview": preview,
        "progress": progress,
        "preview_limit": REPORT_PREVIEW_ROWS,
    }
    response = render(request, "monitoring/report.html", context)
    if in_progress:
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Owners open their pages in a browser by signing in with their API token."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    error = ""
    if request.method == "POST":
        try:
            session_sign_in(request=request, raw=request.POST.get("token", ""))
        except AuthenticationFailed:
            error = "That token is not valid (or was revoked)."
        else:
            return HttpResponseRedirect(next_url)
    return render(request, "monitoring/sign_in.html", {"next": next_url, "error": error}, status=401 if error else 200)


@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST /sign-out/ (Django's CSRF token, from the header's form): forgets the signed-in
    token (and any admin login) by flushing the session."""
    request.session.flush()
    if hasattr(request, "user"):
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    return HttpResponseRedirect(reverse("sign-in"))


@require_http_methods(["POST"])
def report_generate(request: HttpRequest) -> HttpResponse:
    """POST /reports/generate/ (the home page's button, with Django's CSRF token): a new
    report of every store the caller can see, as of their latest poll; then its page."""
    report = report_create(owner_id=request.access.owner_id)
    return HttpResponseRedirect(reverse("report-page", kwargs={"report_id": report.id}))


REPORT_LIST_SIZE = 50


@require_http_methods(["GET", "HEAD"])
def report_list(request: HttpRequest) -> HttpResponse:
    """GET /reports/[?page=N]: the caller's reports, newest first, with their state, age
    and download link once COMPLETE."""
    reports = reports_visible(access=request.access).defer("csv").order_by("-created_at", "-pk")
    paginator = Paginator(reports, REPORT_LIST_SIZE, allow_empty_first_page=True)
    page = paginator.get_page(_page_number(request))
    now = datetime.now(UTC)
    rows = []
    for report in page.object_list:
        complete = report.status == Report.Status.COMPLETE
        rows.append(
            {
                "report": report,
                "age": humanize.ago(report.created_at, now=now),
                "created_utc": _utc(report.created_at),
                "as_of_utc": _utc(report.as_of) if report.as_of else "latest poll",
                "download_url": report_download_path(report_id=report.id) if complete else None,
                "stores": "—" if report.store_count is None else f"{report.store_count:,}",
            }
        )
    context = {
        "rows": rows,
        "total_text": humanize.count(paginator.count, "report"),
        "page_number": page.number,
        "page_count": paginator.num_pages,
        "previous_url": f"?page={page.number - 1}" if page.has_previous() else None,
        "next_url": f"?page={page.number + 1}" if page.has_next() else None,
        "in_progress": any(row["report"].status in (Report.Status.PENDING, Report.Status.RUNNING) for row in rows),
    }
    response = render(request, "monitoring/reports.html", context)
    response["Cache-Control"] = "no-store"
    return response

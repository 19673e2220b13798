"""Server-rendered pages for owners and operators: a store's status page and a report's
page. Thin: the numbers come from the report and timeline services (the same engine as
the CSV); what is here only arranges them for display.

Access is `request.access` (set by ApiAccessMiddleware for /stores/ and /reports/): a store
or report outside it is answered with the same 404 as one that does not exist."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from monitoring.access import Access, AuthenticationFailed, reports_visible, session_sign_in, stores_visible
from monitoring.engine import DEFAULT_TIMEZONE
from monitoring.ingest import values
from monitoring.links import report_download_path, store_id_from_page_request, store_page_url
from monitoring.models import BusinessHours, Report, Store
from monitoring.reports import ReportInputError, store_report_compute, window_seconds
from monitoring.selectors import latest_poll_timestamp
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
    if moment is None:
        return "—"
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def _utc(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    """Short human duration: '45 s', '12.5 min', '1 h 44.5 min', '98 h'."""
    if seconds < 59.95:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60, 1)
    hours, minutes = divmod(minutes, 60)
    text = f"{minutes:.1f}".removesuffix(".0") + " min"
    if hours:
        text = f"{hours:.0f} h" + (f" {text}" if minutes >= 0.05 else "")
    return text


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
        known = self.up_seconds + self.down_seconds
        return None if known <= 0 else 100.0 * self.up_seconds / known

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
        return _duration(self.up_seconds)

    @property
    def down_text(self) -> str:
        return _duration(self.down_seconds)

    @property
    def unknown_text(self) -> str:
        return _duration(self.unknown_seconds)

    @property
    def business_text(self) -> str:
        return _duration(self.business_seconds)


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
                            f"–{hi.astimezone(zone):%H:%M} ({_duration(seconds)})"
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
                "ongoing": incident.end >= as_of,
                "began_earlier": incident.start <= start,
            }
            for incident in reversed(incidents)  # newest first
        ],
        "incident_minutes": sum(incident.business_seconds_lost for incident in incidents) / 60,
    }


HOME_PAGE_STORES = 100


@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    """GET /[?q=prefix]: the stores the caller can see, each linked to its status page
    (store_page_url; an id the grammar refuses, from older data, is listed unlinked)."""
    query = request.GET.get("q", "").strip()
    if "\x00" in query:  # PostgreSQL text holds no NUL: no id starts with one
        return _bad_request(request, "q holds a NUL character (U+0000)")
    stores = stores_visible(access=request.access).order_by("store_id")
    if query:
        stores = stores.filter(store_id__startswith=query)
    shown = list(stores[:HOME_PAGE_STORES])
    for store in shown:
        store.page_url = store_page_url(store.store_id)
    context = {"stores": shown, "total": stores.count(), "query": query}
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
        "duration": None if duration is None else (f"{duration:.2f} s" if duration < 60 else _duration(duration)),
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

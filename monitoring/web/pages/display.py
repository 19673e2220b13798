"""How figures are shown to people on the pages: local and UTC times, shifts, special
days, uptime windows with their coverage and lost revenue, and the week chart's rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone

from monitoring.history import lost_revenue_of_row
from monitoring.kernel import humanize
from monitoring.kernel.people_csv import two_decimals
from monitoring.kernel.periods import WEEK, zone_name
from monitoring.kernel.states import STATES
from monitoring.models import BusinessHours, Store
from monitoring.reports import window_seconds
from monitoring.stores.special_hours import special_hours_between

from zoneinfo import ZoneInfo


UTC = dt_timezone.utc
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATE_LABELS = {state: state.capitalize() for state in STATES}
#: Colours in the order of STATES: up, down, unknown, closed.
STATE_COLORS = dict(zip(STATES, ("#2e9d4f", "#d64541", "#9aa0a6", "#eceff1"), strict=True))

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


def lost_revenue_view(lost) -> dict | None:
    """How a store's lost revenue reads (None: no estimate, shown as none, never 0)."""
    if lost is None:
        return None
    return {
        "amount": humanize.money(lost.amount, lost.currency),
        "at_risk": humanize.money(lost.at_risk, lost.currency),
        "amount_value": f"{lost.amount:.2f}",
        "at_risk_value": f"{lost.at_risk:.2f}",
        "currency": lost.currency,
    }


def revenue_totals_view(totals) -> list[dict]:
    """The totals per currency (history.CurrencyTotal), as the pages show them."""
    return [
        {
            "currency": total.currency,
            "amount": humanize.money(total.amount, total.currency),
            "at_risk": humanize.money(total.at_risk, total.currency),
            "amount_value": f"{total.amount:.2f}",
            "at_risk_value": f"{total.at_risk:.2f}",
            "stores": humanize.count(total.stores, "store"),
        }
        for total in totals
    ]


def zone_info(store: Store) -> ZoneInfo:
    return ZoneInfo(zone_name(store.timezone_name))


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    return humanize.local_time(moment, zone)


def utc_text(moment: datetime | None) -> str:
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


def hours_by_day_of(hours: list[BusinessHours]) -> list[dict]:
    """Each weekday with its shifts as text, in the store's local time (docs/rules.md §2, §3)."""
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


def special_days_of(store: Store, *, first: date, last: date) -> list[dict]:
    """The store's special dates in [first, last] with their shifts as text (docs/rules.md §9); a
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
    lost: object = None  # history.LostRevenue, or None: no estimate (docs/rules.md §13)

    @property
    def lost_revenue(self) -> dict | None:
        return lost_revenue_view(self.lost)

    @property
    def business_seconds(self) -> float:
        return self.up_seconds + self.down_seconds + self.unknown_seconds

    @property
    def uptime_percent(self) -> float | None:
        """up / (up + down): unknown time counts as neither (docs/rules.md §4)."""
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


def window_figures(row: dict, lost: list | None = None) -> list[WindowFigures]:
    """The report row's windows (hour, day, week), with their lost revenue in that order
    when given."""
    figures = []
    for k, (key, label) in enumerate((("hour", "Last hour"), ("day", "Last day"), ("week", "Last week"))):
        up, down, unknown = window_seconds(row, key)
        figures.append(
            WindowFigures(label=label, up_seconds=up, down_seconds=down, unknown_seconds=unknown,
                          lost=lost[k] if lost else None)
        )
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


def chart_rows_of(segments, *, zone: ZoneInfo, start: datetime, end: datetime) -> list[ChartRow]:
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


# --------------------------------------------------------------------------- the daily strip

#: Local days the status page's strip shows, the last one being the day of its as_of.
STRIP_DAYS = 90
#: A day's colour by the share of its business time that was up (docs/rules.md §11's
#: daily figures): the first level whose lower bound it reaches, as a CSS class.
STRIP_LEVELS = ((99.0, "up-full"), (95.0, "up-high"), (80.0, "up-mid"), (50.0, "up-low"), (0.0, "up-poor"))
STRIP_LEGEND = (
    ("up-full", "99% or more of business time up"),
    ("up-high", "95–99%"),
    ("up-mid", "80–95%"),
    ("up-low", "50–80%"),
    ("up-poor", "under 50%"),
    ("unknown", "no polls: unknown"),
    ("closed", "closed all day"),
)


#: A range's or a day's figures (history's rows and DayFigures), in minutes.
FIGURE_KEYS = ("uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes")


def figure_attributes(figures) -> list[tuple[str, str]]:
    """(name, value) of `data-*` attributes holding a row's minutes as the range CSV
    writes them (2 decimals), for programs and tests that read the page."""
    get = figures.get if isinstance(figures, dict) else lambda key: getattr(figures, key)
    return [(key.replace("_", "-"), two_decimals(get(key))) for key in FIGURE_KEYS]


def minutes_text(minutes: float) -> str:
    """'104.5 min', '600 min', '1,380 min': minutes to 2 decimals, trailing zeros cut."""
    text = f"{minutes:,.2f}".rstrip("0").rstrip(".")
    return f"{text} min"


@dataclass(frozen=True)
class StripCell:
    """One local day of the strip: its figures in minutes (history.DayFigures)."""

    date: date
    uptime_minutes: float
    downtime_minutes: float
    unknown_minutes: float
    business_minutes: float
    ongoing: bool = False  # not over at the page's as_of: the rest of it is unknown

    @property
    def up_share(self) -> float | None:
        """Percent of the business time up; None on a closed day."""
        return None if self.business_minutes <= 0 else 100.0 * self.uptime_minutes / self.business_minutes

    @property
    def level(self) -> str:
        """The CSS class of its colour: closed, unknown (nothing known), or a level of up share."""
        share = self.up_share
        if share is None:
            return "closed"
        if self.uptime_minutes + self.downtime_minutes <= 0:
            return "unknown"
        return next(name for bound, name in STRIP_LEVELS if share >= bound)

    @property
    def data(self) -> list[tuple[str, str]]:
        return figure_attributes(self)

    @property
    def title(self) -> str:
        """The hover text (and accessible label): the date, then its figures."""
        day = self.date.strftime("%a %d %b %Y")
        if self.ongoing:
            day += " (not over at the time shown: the rest of it is unknown)"
        if self.level == "closed":
            return f"{day}: closed (no business hours)"
        figures = (
            f"up {minutes_text(self.uptime_minutes)}, down {minutes_text(self.downtime_minutes)},"
            f" unknown {minutes_text(self.unknown_minutes)} of {minutes_text(self.business_minutes)} business time"
        )
        if self.level == "unknown":
            return f"{day}: uptime unknown (no polls) · {figures}"
        return f"{day}: {humanize.percent_text(self.up_share)} of business time up · {figures}"


def strip_cells(days, *, as_of: datetime) -> list[StripCell]:
    """The strip's cells from a store's daily figures (history.store_daily_figures)."""
    return [
        StripCell(
            date=day.date, uptime_minutes=day.uptime_minutes, downtime_minutes=day.downtime_minutes,
            unknown_minutes=day.unknown_minutes, business_minutes=day.business_minutes, ongoing=day.end > as_of,
        )
        for day in days
    ]


def range_window(row: dict, label: str) -> WindowFigures:
    """A range's figures (history's row, in minutes, with its lost revenue when computed)
    as a window the page shows."""
    return WindowFigures(
        label=label, up_seconds=row["uptime_minutes"] * 60, down_seconds=row["downtime_minutes"] * 60,
        unknown_seconds=row["unknown_minutes"] * 60, lost=lost_revenue_of_row(row),
    )


def open_incident_view(incident, zone) -> dict | None:
    """How a store's open incident (monitoring.alerts.incidents) reads on the pages: since
    when, who acknowledged it and when (or that nobody has), its notes."""
    if incident is None:
        return None
    notes = list(incident.notes.all())
    return {
        "id": str(incident.pk),
        "started_local": local_time(incident.started_at, zone),
        "started_utc": utc_text(incident.started_at),
        "acknowledged": incident.acknowledged_at is not None,
        "acknowledged_by": incident.acknowledged_by,
        "acknowledged_local": local_time(incident.acknowledged_at, zone) if incident.acknowledged_at else "",
        "notes": [
            {"author": note.author, "at_local": local_time(note.created_at, zone), "text": note.text} for note in notes
        ],
        "last_note": notes[-1].text if notes else "",
    }

"""A store's status page: uptime with coverage and lost revenue, a strip of the last 90
local days, the figures of any range (a GET form, `?from=…&to=…`), the week's timeline
chart, incidents, business and special hours."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from monitoring.alerts.incidents import actor_of, incident_acknowledge, incident_note_add, open_incidents_of
from monitoring.alerts.models import Incident
from monitoring.kernel.errors import Forbidden, InputError
from monitoring.stores.access import allowed
from monitoring.fleet.ranking import fleet_rows
from monitoring.history import HistoryInputError, lost_revenue_of_windows, store_daily_figures, store_range_figures
from monitoring.kernel import humanize
from monitoring.kernel.periods import WINDOWS
from monitoring.stores.access import Access, stores_visible
from monitoring.kernel import values
from monitoring.web.links import STORE_BY_ID, STORE_BY_ID_PARAMETER, store_id_from_page_request
from monitoring.models import Store
from monitoring.reports import ReportInputError, store_report_compute
from monitoring.stores.selectors import default_as_of
from monitoring.stores.timeline import store_incidents, store_timeline

from monitoring.web.pages.display import (
    AXIS_HEIGHT,
    CHART_WIDTH,
    LABEL_WIDTH,
    PX_PER_HOUR,
    ROW_GAP,
    ROW_HEIGHT,
    SPECIAL_DAYS_AHEAD,
    STATE_COLORS,
    STATE_LABELS,
    STRIP_DAYS,
    STRIP_LEGEND,
    UTC,
    WEEK,
    chart_rows_of,
    figure_attributes,
    hours_by_day_of,
    local_time,
    open_incident_view,
    range_window,
    special_days_of,
    strip_cells,
    utc_text,
    window_figures,
    zone_info,
)
from monitoring.web.pages.common import as_of_param, bad_request_page, forbidden_page, not_found_page, page_requires, render
from monitoring.web.pages.ranges import RangeAsked, range_asked, range_bounds


def strip_context(*, store: Store, as_of: datetime) -> dict:
    """The strip: the daily figures (docs/rules.md §11) of the last STRIP_DAYS local dates
    in the store's zone, the last one the date of `as_of`."""
    zone = zone_info(store)
    last = as_of.astimezone(zone).date()
    first = last - timedelta(days=min(STRIP_DAYS, settings.HISTORY_RETENTION_DAYS) - 1)
    cells = strip_cells(store_daily_figures(store=store, first=first, last=last), as_of=as_of)
    return {"cells": cells, "first": first.strftime("%a %d %b %Y"), "last": last.strftime("%a %d %b %Y"),
            "days": len(cells), "legend": STRIP_LEGEND}


def range_context(*, store: Store, asked: RangeAsked, as_of: datetime, refused: str = "") -> dict:
    """The range picker: the store's figures over the range asked for (docs/rules.md
    §11), by default the week ending at `as_of`; `error` (naming the field) when the
    range cannot be answered as asked (or its text was `refused` by the grammar)."""
    zone = zone_info(store)
    last = as_of.astimezone(zone).date()
    shown = {
        "from_text": asked.from_text, "to_text": asked.to_text,
        "from_example": (last - timedelta(days=6)).isoformat(), "to_example": last.isoformat(),
    }
    if refused:
        return {**shown, "error": refused}
    try:
        bounds = range_bounds(asked, timezone_name=store.timezone_name, default_end=as_of)
        start, end, row = store_range_figures(store=store, start=bounds.start, end=bounds.end, revenue=True)
    except HistoryInputError as error:
        return {**shown, "error": str(error)}
    return {
        **shown,
        "default": not asked.given,
        "start_local": local_time(start, zone),
        "end_local": local_time(end, zone),
        "start_utc": utc_text(start),
        "end_utc": utc_text(end),
        "capped": bounds.cap_text if bounds.capped else "",
        "figures": range_window(row, "Range"),
        "data": figure_attributes(row),
    }


def status_page_context(
    *, store: Store, access: Access, as_of: datetime | None = None, asked: RangeAsked | None = None,
    asked_error: str = "",
) -> dict:
    """Everything the status page shows for one store over the week ending at `as_of`
    (default: the latest poll among the stores `access` can see, docs/rules.md §5, §8),
    the strip of its last 90 days and the figures of the range `asked` for (or the
    reason it was refused, `asked_error`)."""
    as_of = as_of or default_as_of(owner_id=access.owner_id, group_id=access.group_id)
    start = as_of - WEEK
    zone = zone_info(store)
    computed = store_report_compute(store=store, as_of=as_of)
    (row,) = computed.rows
    # The windows' lost revenue (docs/rules.md §13): hour, day and week before as_of.
    lost = lost_revenue_of_windows(
        stores=[(store.pk, store.store_id, store.timezone_name)], window_store=[0, 0, 0],
        window_start=[computed.as_of - length for _, length in WINDOWS], window_end=[computed.as_of] * 3,
        horizon=computed.horizon,
    ).items()
    segments = store_timeline(store=store, start=start, end=as_of)
    incidents = store_incidents(store=store, start=start, end=as_of)
    hours = list(store.business_hours.order_by("day_of_week", "start_time_local"))
    last_poll = store.polls.filter(timestamp_utc__lte=as_of).order_by("-timestamp_utc").first()
    chart_rows = chart_rows_of(segments, zone=zone, start=start, end=as_of)
    current_state = segments[-1].state if segments else "UNKNOWN"
    current_label = STATE_LABELS[current_state]
    if current_state == "UNKNOWN":
        # The fleet page's word for it (monitoring.fleet.ranking): silent, or unknown.
        (ranked,) = fleet_rows(stores=[(store.pk, store.store_id, store.timezone_name)], as_of=as_of)
        current_label = "Silent" if ranked.silent else current_label
    return {
        "store": store,
        "zone_name": zone.key,
        "zone_is_default": not store.timezone_name,
        "hours_by_day": hours_by_day_of(hours),
        "special_days": special_days_of(
            store, first=start.astimezone(zone).date(), last=(as_of + SPECIAL_DAYS_AHEAD).astimezone(zone).date()
        ),
        "as_of": as_of,
        "as_of_local": local_time(as_of, zone),
        "as_of_utc": utc_text(as_of),
        "start_local": local_time(start, zone),
        "current_state": current_state,
        "owner_name": store.owner.name if store.owner_id else None,
        "current_state_label": current_label,
        "legend": [
            {"state": state, "label": label, "color": STATE_COLORS[state]} for state, label in STATE_LABELS.items()
        ],
        "last_poll": last_poll,
        "last_poll_local": local_time(last_poll.timestamp_utc, zone) if last_poll else None,
        "windows": window_figures(row, lost),
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
                "start_local": local_time(incident.start, zone),
                "end_local": local_time(incident.end, zone),
                "start_utc": utc_text(incident.start),
                "end_utc": utc_text(incident.end),
                "minutes_lost": incident.business_seconds_lost / 60,
                "lost_text": humanize.duration(incident.business_seconds_lost),
                "length_text": humanize.duration((min(incident.end, as_of) - incident.start).total_seconds()),
                "ongoing": incident.end >= as_of,
                "began_earlier": incident.start <= start,
            }
            for incident in reversed(incidents)  # newest first
        ],
        "open_incident": open_incident_view(open_incidents_of(store_pks=[store.pk]).get(store.pk), zone),
        "incident_minutes": sum(incident.business_seconds_lost for incident in incidents) / 60,
        "incident_lost_text": humanize.duration(sum(incident.business_seconds_lost for incident in incidents)),
        "last_poll_ago": humanize.ago(last_poll.timestamp_utc, now=as_of) if last_poll else None,
        "strip": strip_context(store=store, as_of=as_of),
        "range": range_context(store=store, asked=asked or RangeAsked(), as_of=as_of, refused=asked_error),
    }


@require_http_methods(["GET", "HEAD", "POST"])
def store_page(request: HttpRequest, store_id: str) -> HttpResponse:
    """The store page (GET, store_page_show); a POST acts on its open incident
    (store_incident_act)."""
    if request.method == "POST":
        return store_incident_act(request, store_id)
    return store_page_show(request, store_id)


@page_requires("incident.acknowledge")
def store_incident_act(request: HttpRequest, store_id: str) -> HttpResponse:
    """POST /stores/<store_id>/ (the page's forms, Django's CSRF token, docs/rules.md §8):
    `incident` (its id) and `action`: `acknowledge` (with an optional `note`) or `note`
    (with `text`); then back to the page (303), which shows the outcome. Refused with 403
    to anyone not signed in or whose role may not acknowledge; 404 for an incident
    outside the store; 400 naming the field for bad input."""
    if request.caller.startswith("address:"):  # the anonymous demo: nobody to name
        return forbidden_page(request, "sign in to acknowledge incidents or add notes")
    store = _store_of_page_request(request, store_id)
    if store is None:
        return not_found_page(request, f"store {values.shown(store_id_from_page_request(store_id, request.GET))}")
    action = request.POST.get("action", "")
    incident_id = request.POST.get("incident", "").strip()
    try:
        incident_id = str(uuid.UUID(incident_id))
    except ValueError:
        return bad_request_page(request, f"incident: not an incident id: {values.shown(incident_id)}")
    if not Incident.objects.filter(pk=incident_id, store=store, status=Incident.Status.OPEN).exists():
        return not_found_page(request, f"open incident {incident_id} of store {store.store_id}")
    actor = actor_of(caller=request.caller)
    try:
        if action == "acknowledge":
            incident_acknowledge(access=request.access, incident_id=incident_id, actor=actor, note=request.POST.get("note"))
        elif action == "note":
            incident_note_add(access=request.access, incident_id=incident_id, actor=actor, text=request.POST.get("text", ""))
        else:
            return bad_request_page(request, f"action: 'acknowledge' or 'note', not {values.shown(action)}")
    except Forbidden as error:
        return forbidden_page(request, error.reason)
    except InputError as error:
        return bad_request_page(request, str(error))
    return HttpResponseRedirect(request.get_full_path() + "#open-incident", status=303)


def _store_of_page_request(request: HttpRequest, store_id: str) -> Store | None:
    """The visible store a store page URL names; None when there is none (or the id is refused)."""
    try:
        store_id = values.store_id(store_id_from_page_request(store_id, request.GET), field="store_id")
    except values.InvalidValue:
        return None
    return stores_visible(access=request.access).filter(store_id=store_id).first()


@page_requires("store.read")
def store_page_show(request: HttpRequest, store_id: str) -> HttpResponse:
    """GET /stores/<store_id>/[?as_of=ISO8601][&from=…&to=…] (or /stores/by-id/?id=<store_id>,
    see links.store_page_url): uptime, the last 90 days, a range's figures, last week's
    timeline, incidents. The id, `as_of`, `from` and `to` go through the one grammar
    (docs/rules.md §7): an id it refuses is no store (404, saying why), a bad `as_of` is
    a 400 naming the field; a bad `from` or `to` is the page with a 400 and the error,
    naming the field, in its range form."""
    id_in_query = store_id == STORE_BY_ID and STORE_BY_ID_PARAMETER in request.GET
    store_id = store_id_from_page_request(store_id, request.GET)
    try:
        store_id = values.store_id(store_id, field="store_id")
    except values.InvalidValue as error:
        return not_found_page(request, f"store {values.shown(store_id)}", reason=error.reason)
    try:
        as_of = as_of_param(request)
    except values.InvalidValue as error:
        return bad_request_page(request, str(error))  # "as_of: …": the reason never names its field
    store = stores_visible(access=request.access).select_related("owner").filter(store_id=store_id).first()
    if store is None:
        return not_found_page(request, f"store {store_id}")
    try:
        asked, asked_error = range_asked(request), ""
    except values.InvalidValue as error:  # the page still shows, its form saying what is wrong
        asked = RangeAsked(from_text=request.GET.get("from", ""), to_text=request.GET.get("to", ""))
        asked_error = str(error)
    try:
        context = status_page_context(
            store=store, access=request.access, as_of=as_of, asked=asked, asked_error=asked_error
        )
    except ReportInputError as error:
        return bad_request_page(request, str(error))
    # The range form asks for the same page again: the same store and as_of.
    context["as_of_param"] = request.GET.get("as_of", "")
    context["id_param"] = store_id if id_in_query else ""
    # The incident's forms: for a signed-in caller whose role may acknowledge.
    context["may_acknowledge"] = not request.caller.startswith("address:") and allowed(request.access, "incident.acknowledge")
    status = 400 if "error" in context["range"] else None
    return render(request, "monitoring/store_status.html", context, status=status)

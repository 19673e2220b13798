"""The operators' admin: stores and their hours, polls (read-only), reports (read-only),
owners and API tokens. Built for a poll table of millions of rows: no full COUNT(*) per
page, no per-row queries, no huge text columns loaded into change lists.

A store is reachable by its store id (not only its database key): the search lists an
exact id first, `/admin/monitoring/store/by-id/<store id>/` (or `by-id/?id=<store id>`)
redirects to its change page, and so does `/admin/monitoring/store/<store id>/change/`
when <store id> is not a store's database key. Its change page links to its status page
and the status page back (staff only); "Trigger a report for these stores" queues a
report for the stores selected."""

import re
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator

from monitoring.access import token_create
from monitoring.engine import DEFAULT_TIMEZONE
from monitoring.ingest import values
from monitoring.ingest.copy_format import PG_EPOCH  # of StatusPollRow.key
from monitoring.links import report_download_path, store_page_url
from monitoring.selectors import earliest_poll_timestamp, latest_poll_timestamp
from monitoring.models import ApiToken, BusinessHours, Owner, Report, ReportRow, StatusPollRow, Store
from monitoring.reports import ReportInputError, report_create

UTC = dt_timezone.utc
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _count_of(model, fk: str) -> Coalesce:
    """A correlated COUNT(*) per row of the change list page (only the rows shown are
    counted, unlike a GROUP BY over the whole table)."""
    counted = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class EstimatedCountPaginator(Paginator):
    """For a change list of many rows, the planner's row estimate instead of an exact
    COUNT(*) (which reads every row on every page view); a list the planner expects to
    be short (a store, the inactive polls of a day) is counted exactly."""

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None:
            sql, params = query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                estimate = int(cursor.fetchone()[0][0]["Plan"]["Plan Rows"])
            if estimate >= self.EXACT_BELOW:
                return estimate
        return super().count


def titled(base: type[admin.FieldListFilter], title: str, labels: dict[str, str] | None = None):
    """A field's list filter under `title` ("By status", not "By is active"), its
    choices renamed by `labels` ({"Yes": "active"}); the query parameters unchanged."""

    class Titled(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

        def choices(self, changelist):
            for choice in super().choices(changelist):
                shown = str(choice["display"])
                for old, new in (labels or {}).items():
                    if shown == old or shown.startswith(f"{old} ("):  # with facet counts: "Yes (12)"
                        choice = {**choice, "display": new + shown[len(old) :]}
                        break
                yield choice

    Titled.__name__ = f"{base.__name__}_{title.replace(' ', '_')}"
    return Titled


def _holds_nul(request) -> bool:
    return any("\x00" in key or any("\x00" in value for value in items) for key, items in request.GET.lists())


class NulSafeAdmin(admin.ModelAdmin):
    """PostgreSQL text holds no NUL, and a NUL in a query makes it raise: a change
    list asked for with one (search, filters) is a 400, the search of the
    autocomplete widgets finds nothing, never a 500. (Form fields refuse a NUL
    already: forms.CharField's ProhibitNullCharactersValidator.)"""

    def changelist_view(self, request, extra_context=None):
        if _holds_nul(request):
            return HttpResponseBadRequest("a NUL character (U+0000) is not a valid search or filter")
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


# --------------------------------------------------------------------------- stores


class GrammarField(forms.CharField):
    """A text field read by one function of the grammar (monitoring.ingest.values):
    the text as typed (not stripped), its refusal shown as the field's error."""

    def __init__(self, *, parse, show=None, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(strip=False, **kwargs)
        self.parse, self.show = parse, show

    def prepare_value(self, value):
        if self.show is None or value is None or isinstance(value, str):
            return value  # as typed (a bound form shows back the text refused)
        return self.show(value)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return self.parse(text)
        except values.InvalidValue as error:
            raise forms.ValidationError(error.reason, code="invalid") from None


def _clock_text(value: time) -> str:
    return value.strftime("%H:%M:%S.%f" if value.microsecond else "%H:%M:%S" if value.second else "%H:%M")


class StoreAdminForm(forms.ModelForm):
    """The id and the zone as typed, checked by the grammar (Store.clean_fields): an id
    is never trimmed or altered; a zone must be an IANA name the tz database knows,
    kept in its canonical spelling; empty is the default zone."""

    store_id = forms.CharField(
        strip=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=(
            "1–255 characters, exactly as the status files spell it "
            "(no control characters, no space at either end)."
        ),
    )
    timezone_name = forms.CharField(
        strip=False,
        required=False,
        label="Time zone",
        widget=forms.TextInput(attrs={"size": 40}),
        help_text=f"An IANA time zone name such as America/New_York; empty = the default zone ({DEFAULT_TIMEZONE}).",
    )

    class Meta:
        model = Store
        fields = ("store_id", "timezone_name", "owner")


class BusinessHoursForm(forms.ModelForm):
    """A shift read by the grammar of the hours file: day 0–6 (0 = Monday), times
    HH:MM or HH:MM:SS, 24:00 only as an end time (stored as 00:00, SPEC §3)."""

    day_of_week = forms.TypedChoiceField(
        choices=[("", "---------"), *((str(day), name) for day, name in enumerate(DAY_NAMES))],
        coerce=lambda text: values.day_of_week(text, field="day_of_week"),
    )
    start_time_local = GrammarField(
        parse=lambda text: values.local_time(text, end=False, field="start_time_local"),
        show=_clock_text,
        help_text="HH:MM (local time)",
        widget=forms.TextInput(attrs={"size": 8}),
    )
    end_time_local = GrammarField(
        parse=lambda text: values.local_time(text, end=True, field="end_time_local"),
        show=_clock_text,
        help_text="HH:MM; at or before the start = past midnight; 24:00 = midnight",
        widget=forms.TextInput(attrs={"size": 8}),
    )

    class Meta:
        model = BusinessHours
        fields = ("store", "day_of_week", "start_time_local", "end_time_local")


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    form = BusinessHoursForm
    extra = 0
    fields = ("day_of_week", "start_time_local", "end_time_local")
    ordering = ("day_of_week", "start_time_local")


class DayOfWeekFilter(admin.SimpleListFilter):
    title = "day"
    parameter_name = "day_of_week__exact"  # the parameter Django's own filter used

    def lookups(self, request, model_admin):
        return [(str(day), name) for day, name in enumerate(DAY_NAMES)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in {str(day) for day in range(7)}:
            return queryset.none()
        return queryset.filter(day_of_week=int(value))


class DefaultZoneFilter(admin.SimpleListFilter):
    title = "uses default zone"
    parameter_name = "default_zone"

    def lookups(self, request, model_admin):
        return (("yes", f"Yes ({DEFAULT_TIMEZONE})"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(timezone_name__isnull=True)
        if self.value() == "no":
            return queryset.filter(timezone_name__isnull=False)
        return queryset


#: A store's database key as the admin's URLs spell it (a bigint).
_PK_RE = re.compile(r"[0-9]{1,18}")


def _search_term(request) -> str:
    """The change list's search as typed, without the spaces around it (a store id has
    no space at either end)."""
    return request.GET.get(SEARCH_VAR, "").strip(" \t")


@admin.register(Store)
class StoreAdmin(NulSafeAdmin):
    list_display = ("store_id", "zone", "uses_default_zone", "owner", "hours_count", "status_page")
    list_select_related = ("owner",)
    list_filter = (DefaultZoneFilter, ("timezone_name", titled(admin.AllValuesFieldListFilter, "time zone")), "owner")
    search_fields = ("store_id",)
    search_help_text = "Store id (an exact match is listed first), or part of it."
    autocomplete_fields = ("owner",)
    inlines = (BusinessHoursInline,)
    form = StoreAdminForm
    readonly_fields = ("status_page_link",)
    list_per_page = 100
    show_full_result_count = False
    actions = ("trigger_report",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(hours_count=_count_of(BusinessHours, "store"))

    def get_ordering(self, request):
        term = _search_term(request)
        if term and "\x00" not in term:  # the store whose id is the search first
            exact_first = Case(When(store_id=term, then=Value(0)), default=Value(1), output_field=IntegerField())
            return (exact_first.asc(), "store_id")
        return super().get_ordering(request)

    def view_on_site(self, obj):
        return store_page_url(obj.store_id)  # None (no button) for an id the grammar refuses

    # ---------------------------------------------------------------- by store id

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_by_id"
        by_id = self.admin_site.admin_view(self.by_id_view)
        return [
            path("by-id/", by_id, name=name),  # ?id=<store id> (ids such as "." or "..")
            path("by-id/<path:store_id>/", by_id, name=f"{name}_path"),
            *super().get_urls(),
        ]

    def _change_url(self, store: Store) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(store.pk)])

    def by_id_view(self, request, store_id: str | None = None):
        """/admin/monitoring/store/by-id/<store id>/ → that store's change page; an id
        no store has → the change list searching for it, with a message."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if store_id is None:
            store_id = request.GET.get("id", "")
        store = Store.objects.filter(store_id=store_id).first() if store_id and "\x00" not in store_id else None
        if store is None:
            self.message_user(request, f"No store has the id {values.shown(store_id)}.", messages.WARNING)
            changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return HttpResponseRedirect(f"{changelist}?{urlencode({SEARCH_VAR: store_id})}")
        return HttpResponseRedirect(self._change_url(store))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """/admin/monitoring/store/<x>/change/: <x> is a database key when a store has
        it, else a store id (a numeric store id that is also another store's key opens
        that store: by-id/<store id>/ is never ambiguous)."""
        if not (_PK_RE.fullmatch(object_id) and Store.objects.filter(pk=int(object_id)).exists()):
            for store_id in dict.fromkeys((object_id, unquote(object_id))):
                store = Store.objects.filter(store_id=store_id).first() if "\x00" not in store_id else None
                if store is not None:
                    return HttpResponseRedirect(self._change_url(store))
        return super().change_view(request, object_id, form_url, extra_context)

    # ---------------------------------------------------------------- links and actions

    @admin.display(description="status page")
    def status_page_link(self, obj: Store | None) -> str:
        url = store_page_url(obj.store_id) if obj is not None and obj.pk else None
        if url is None:
            return "—" if obj is None or not obj.pk else "none: the grammar refuses this id"
        return format_html('<a href="{}" id="status-page-link">{}</a>', url, url)

    @admin.action(description="Trigger a report for these stores", permissions=("view",))
    def trigger_report(self, request, queryset):
        store_ids = list(queryset.order_by().values_list("store_id", flat=True))
        try:
            report = report_create(store_ids=store_ids, owner_id=None)
        except ReportInputError as error:
            self.message_user(request, f"No report: {error}", messages.ERROR)
            return None
        url = reverse("report-page", kwargs={"report_id": report.id})
        self.message_user(
            request,
            format_html(
                'Report queued for {} store{}: <a href="{}">{}</a>', len(store_ids), "" if len(store_ids) == 1 else "s", url, url
            ),
            messages.SUCCESS,
        )
        return None

    @admin.display(description="zone", ordering="timezone_name")
    def zone(self, obj: Store) -> str:
        return obj.timezone_name or DEFAULT_TIMEZONE

    @admin.display(description="default zone", boolean=True)
    def uses_default_zone(self, obj: Store) -> bool:
        return not obj.timezone_name

    @admin.display(description="hours rows", ordering="hours_count")
    def hours_count(self, obj: Store) -> int:
        return obj.hours_count

    @admin.display(description="status page")
    def status_page(self, obj: Store) -> str:
        url = store_page_url(obj.store_id)
        return format_html('<a href="{}">view</a>', url) if url else "invalid id"


@admin.register(BusinessHours)
class BusinessHoursAdmin(NulSafeAdmin):
    form = BusinessHoursForm
    list_display = ("store", "day", "start_time_local", "end_time_local")
    list_select_related = ("store",)
    list_filter = (DayOfWeekFilter,)
    search_fields = ("store__store_id__exact",)
    search_help_text = "Exact store id."
    autocomplete_fields = ("store",)
    ordering = ("store__store_id", "day_of_week", "start_time_local")
    show_full_result_count = False

    @admin.display(description="day", ordering="day_of_week")
    def day(self, obj: BusinessHours) -> str:
        return DAY_NAMES[obj.day_of_week]


# --------------------------------------------------------------------------- polls


class PollDayFilter(admin.SimpleListFilter):
    """A UTC calendar day of the polls, the latest by default: the time index is BRIN,
    which finds a day's polls but cannot list the newest of millions in order, so
    "all days" is a choice (a full sort), not the default. The days come from the
    first and last poll instants (selectors), never a DISTINCT over millions of rows."""

    title = "day (UTC)"
    parameter_name = "day"
    MAX_DAYS = 31
    ALL_DAYS = "all"

    def lookups(self, request, model_admin):
        first, last = earliest_poll_timestamp(), latest_poll_timestamp()
        if first is None:
            return ()
        first, last = first.astimezone(UTC).date(), last.astimezone(UTC).date()
        days = []
        day = last
        while day >= first and len(days) < self.MAX_DAYS:
            days.append((day.isoformat(), day.strftime("%a %d %b %Y")))
            day -= timedelta(days=1)
        return [*days, (self.ALL_DAYS, "All days")]

    def value(self):
        chosen = super().value()
        if chosen is None and self.lookup_choices:
            return self.lookup_choices[0][0]  # the latest day
        return chosen

    def choices(self, changelist):
        # No "All" entry clearing the parameter: that is the latest day.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value is None or value == self.ALL_DAYS:
            return queryset
        try:
            day = datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(0), UTC)
        except ValueError:
            return queryset.none()
        return queryset.filter(timestamp_utc__gte=day, timestamp_utc__lt=day + timedelta(days=1))


@admin.register(StatusPollRow)
class StatusPollAdmin(NulSafeAdmin):
    """Read-only: polls come from the loader, and the report must reflect them as loaded."""

    list_display = ("timestamp_utc", "store", "status")
    list_select_related = ("store",)
    list_filter = (
        ("is_active", titled(admin.BooleanFieldListFilter, "status", {"Yes": "active", "No": "inactive"})),
        PollDayFilter,
    )
    search_fields = ("store__store_id__exact",)
    search_help_text = "Exact store id (within the day chosen on the right)."
    # A total order without the view's computed key (which no index covers).
    ordering = ("-timestamp_utc", "-store_id")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100

    @admin.display(description="status", ordering="is_active")
    def status(self, obj: StatusPollRow) -> str:
        return obj.status

    def get_object(self, request, object_id, from_field=None):
        """By the poll's (store, instant) from its key: the primary-key index, not a
        scan of the view's computed key."""
        store_pk, _, micros = str(object_id).partition("@")
        try:
            moment = PG_EPOCH + timedelta(microseconds=int(micros))
            return self.get_queryset(request).get(store_id=int(store_pk), timestamp_utc=moment)
        except (ValueError, OverflowError, StatusPollRow.DoesNotExist):
            return None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- reports


@admin.register(Report)
class ReportAdmin(NulSafeAdmin):
    """Reports are made by the API and the worker; here they are only looked at (and old
    ones deleted)."""

    list_display = (
        "id",
        "status",
        "as_of",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "store_count",
        "row_count",
        "download",
        "short_error",
    )
    list_filter = ("status",)
    search_fields = ("id", "status")
    search_help_text = "Report id (or part of it), or status."
    ordering = ("-created_at",)
    show_full_result_count = False
    fields = (
        "id",
        "status",
        "page",
        "download",
        "requested_as_of",
        "as_of",
        "horizon_minutes",
        "owner",
        "scope",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "store_count",
        "row_count",
        "attempts",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The CSV of a big report is megabytes: never load it just to list reports.
        return (
            super()
            .get_queryset(request)
            .defer("csv")
            .select_related("owner")
            .annotate(row_count=_count_of(ReportRow, "report"))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        return reverse("report-page", kwargs={"report_id": obj.id})

    @admin.display(description="duration")
    def duration(self, obj: Report) -> str:
        if obj.started_at and obj.finished_at:
            return f"{(obj.finished_at - obj.started_at).total_seconds():.2f} s"
        return "—"

    @admin.display(description="rows", ordering="row_count")
    def row_count(self, obj: Report) -> int:
        return obj.row_count

    @admin.display(description="CSV")
    def download(self, obj: Report) -> str:
        if obj.status != Report.Status.COMPLETE:
            return "—"
        return format_html('<a href="{}">download</a>', report_download_path(report_id=obj.id))

    @admin.display(description="report page")
    def page(self, obj: Report) -> str:
        url = reverse("report-page", kwargs={"report_id": obj.id})
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.display(description="stores asked for")
    def scope(self, obj: Report) -> str:
        if not obj.store_ids:
            return "all stores" + (" of the owner" if obj.owner_id else "")
        shown = ", ".join(obj.store_ids[:20])
        return shown + (f" … and {len(obj.store_ids) - 20} more" if len(obj.store_ids) > 20 else "")

    @admin.display(description="error")
    def short_error(self, obj: Report) -> str:
        return Truncator(obj.error).chars(80) if obj.error else ""


# --------------------------------------------------------------------------- owners and tokens


@admin.register(Owner)
class OwnerAdmin(NulSafeAdmin):
    list_display = ("name", "stores_count", "tokens_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(stores_count=_count_of(Store, "owner"), tokens_count=_count_of(ApiToken, "owner"))
        )

    @admin.display(description="stores", ordering="stores_count")
    def stores_count(self, obj: Owner) -> int:
        return obj.stores_count

    @admin.display(description="API tokens", ordering="tokens_count")
    def tokens_count(self, obj: Owner) -> int:
        return obj.tokens_count


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name", "owner", "is_staff")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("owner")) == bool(cleaned.get("is_staff")):
            raise forms.ValidationError("A token belongs to an owner, or is a staff token: choose exactly one.")
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(NulSafeAdmin):
    """Creating a token here makes the secret with monitoring.access.token_create (only
    its SHA-256 is stored) and shows the raw token once, on the page that answers the
    form; it is never stored, logged, put in a cookie or shown again."""

    list_display = ("name", "owner", "is_staff", "key_prefix", "created_at", "last_used_at", "revoked")
    list_select_related = ("owner",)
    list_filter = (
        ("is_staff", titled(admin.BooleanFieldListFilter, "staff token")),
        ("revoked_at", titled(admin.EmptyFieldListFilter, "revoked", {"Empty": "No", "Not empty": "Yes"})),
        "owner",
    )
    search_fields = ("name", "key_prefix", "owner__name")
    autocomplete_fields = ("owner",)
    actions = ("revoke",)
    add_form = ApiTokenAddForm

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "owner", "is_staff")
        return ("name", "owner", "is_staff", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The scope of an existing token never changes: make a new one instead.
        return ("owner", "is_staff", "key_prefix", "created_at", "last_used_at")

    @admin.display(description="revoked", boolean=True, ordering="revoked_at")
    def revoked(self, obj: ApiToken) -> bool:
        return obj.revoked_at is not None

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, raw = token_create(name=obj.name, owner=obj.owner, is_staff=obj.is_staff)
        # The admin goes on with `obj` (log entry, redirects): make it the saved token.
        obj.pk = token.pk
        obj.key_prefix, obj.key_hash, obj.created_at = token.key_prefix, token.key_hash, token.created_at
        obj._state.adding, obj._state.db = False, token._state.db
        request._new_api_token_raw = raw  # for response_add, this request only

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_new_api_token_raw", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        # Rendered in this response rather than redirected: a message read in the same
        # request is never written to the session or the messages cookie.
        messages.warning(
            request,
            format_html(
                "API token “{}” created. Copy it now, it will not be shown again: <code id=\"new-token\">{}</code>",
                obj.name,
                raw,
            ),
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "change_url": reverse("admin:monitoring_apitoken_change", args=[obj.pk]),
            "changelist_url": reverse("admin:monitoring_apitoken_changelist"),
        }
        response = TemplateResponse(request, "monitoring/admin/token_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

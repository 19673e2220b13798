"""Stores, their business hours and expected revenue: forms read with the grammar
(docs/rules.md §7), stores reachable by their store id, links to the status page, a
trigger-report action."""

from __future__ import annotations

import re
from datetime import time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from monitoring.kernel.periods import DEFAULT_TIMEZONE, zone_name
from monitoring.kernel import values
from monitoring.web.links import store_page_url
from monitoring.models import BusinessHours, Store, StoreRevenue
from monitoring.reports import ReportInputError, report_create

from monitoring.admin.audited import AuditedAdmin
from monitoring.admin.common import DAY_NAMES, NulSafeAdmin, count_of, titled


# --------------------------------------------------------------------------- stores


class GrammarField(forms.CharField):
    """A text field read by one function of the grammar (monitoring.kernel.values):
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
    HH:MM or HH:MM:SS, 24:00 only as an end time (stored as 00:00, docs/rules.md §3)."""

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


class StoreRevenueForm(forms.ModelForm):
    """An hour's expected revenue read by the grammar of the revenue file (docs/rules.md
    §13): day 0–6 (0 = Monday), hour 0–23 local, an amount with at most 2 decimals, an
    ISO 4217 code."""

    day_of_week = forms.TypedChoiceField(
        choices=[("", "---------"), *((str(day), name) for day, name in enumerate(DAY_NAMES))],
        coerce=lambda text: values.day_of_week(text, field="day_of_week"),
    )
    hour = GrammarField(
        parse=lambda text: values.hour_of_day(text, field="hour"),
        show=str,
        help_text="0–23: the local hour from HH:00 to HH+1:00",
        widget=forms.TextInput(attrs={"size": 4}),
    )
    expected_revenue = GrammarField(
        parse=lambda text: values.money_amount(text, field="expected_revenue"),
        show=lambda amount: f"{amount:.2f}",
        help_text="e.g. 85.50",
        widget=forms.TextInput(attrs={"size": 12}),
    )
    currency = GrammarField(
        parse=lambda text: values.currency(text, field="currency"),
        initial=values.DEFAULT_CURRENCY,
        help_text="ISO 4217, the same on every row",
        widget=forms.TextInput(attrs={"size": 4}),
    )

    class Meta:
        model = StoreRevenue
        fields = ("store", "day_of_week", "hour", "expected_revenue", "currency")


class StoreRevenueFormSet(forms.BaseInlineFormSet):
    """A store's rows share one currency: a change of currency is made on every row."""

    def clean(self):
        super().clean()
        codes = {
            form.cleaned_data["currency"]
            for form in self.forms
            if form.cleaned_data.get("currency") and not form.cleaned_data.get("DELETE")
        }
        if len(codes) > 1:
            raise forms.ValidationError(
                f"A store's expected revenue has one currency: these rows give {', '.join(sorted(codes))}."
            )


class StoreRevenueInline(admin.TabularInline):
    model = StoreRevenue
    form = StoreRevenueForm
    formset = StoreRevenueFormSet
    extra = 0
    fields = ("day_of_week", "hour", "expected_revenue", "currency")
    ordering = ("day_of_week", "hour")
    verbose_name = "expected revenue (one local hour)"
    verbose_name_plural = "expected revenue per local hour (docs/rules.md §13: none = no lost-revenue estimate)"


class DayOfWeekFilter(admin.SimpleListFilter):
    title = "day"
    parameter_name = "day_of_week__exact"  # the parameter Django's own filter used

    def lookups(self, request, model_admin):
        return [(str(day), name) for day, name in enumerate(DAY_NAMES)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        try:
            day = values.whole_number(value, field="day", maximum=6)
        except values.InvalidValue:
            return queryset.none()
        return queryset.filter(day_of_week=day)


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
class StoreAdmin(AuditedAdmin, NulSafeAdmin):
    list_display = ("store_id", "zone", "uses_default_zone", "owner", "hours_count", "status_page")
    list_select_related = ("owner",)
    list_filter = (DefaultZoneFilter, ("timezone_name", titled(admin.AllValuesFieldListFilter, "time zone")), "owner")
    search_fields = ("store_id",)
    search_help_text = "Store id (an exact match is listed first), or part of it."
    autocomplete_fields = ("owner",)
    inlines = (BusinessHoursInline, StoreRevenueInline)
    form = StoreAdminForm
    readonly_fields = ("status_page_link",)
    audit_after_related = True  # its inlines: weekly hours and revenue
    list_per_page = 100
    show_full_result_count = False
    actions = ("trigger_report",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(hours_count=count_of(BusinessHours, "store"))

    def audit_snapshot(self, obj: Store) -> dict:
        """A store in the audit log: its zone, organization, weekly hours and revenue rows."""
        return {
            "store_id": obj.store_id,
            "timezone_name": obj.timezone_name,
            "organization": obj.owner.name if obj.owner_id else None,
            "hours": [
                [row.day_of_week, f"{row.start_time_local:%H:%M:%S}", f"{row.end_time_local:%H:%M:%S}"]
                for row in BusinessHours.objects.filter(store_id=obj.pk).order_by("day_of_week", "start_time_local")
            ] if obj.pk else [],
            "revenue": [
                [row.day_of_week, row.hour, str(row.expected_revenue), row.currency]
                for row in StoreRevenue.objects.filter(store_id=obj.pk).order_by("day_of_week", "hour")
            ] if obj.pk else [],
        }

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
        return zone_name(obj.timezone_name)

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
class BusinessHoursAdmin(AuditedAdmin, NulSafeAdmin):
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

"""Polls, read-only: the latest day by default (the time index is BRIN), estimated counts."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import admin

from monitoring.kernel.copy_format import PG_EPOCH
from monitoring.models import StatusPollRow
from monitoring.stores.selectors import earliest_poll_timestamp, latest_poll_timestamp

from monitoring.admin.common import EstimatedCountPaginator, NulSafeAdmin, ReadOnlyAdmin, UTC, titled


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
class StatusPollAdmin(ReadOnlyAdmin, NulSafeAdmin):
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

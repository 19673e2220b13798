"""What every admin page here shares: counts that never scan a big table, list filters
with people's titles, and refusing a NUL in a change list's query."""

from __future__ import annotations

from datetime import timezone as dt_timezone

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseBadRequest
from django.utils.functional import cached_property


UTC = dt_timezone.utc
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def count_of(model, fk: str) -> Coalesce:
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


class ReadOnlyAdmin:
    """A ModelAdmin mix-in for what is only ever read here (polls, the audit log): no add,
    change or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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

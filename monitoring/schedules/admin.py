"""Scheduled reports in the admin, read-mostly: schedules (their secret never shown, nor
filtered on; made through the API, which shows the secret once) and their delivery log."""

from django.contrib import admin

from monitoring.admin.audited import AuditedAdmin
from monitoring.admin.owners import SecretLookupsRefused
from monitoring.schedules.models import ReportSchedule, ScheduledDelivery

_DELIVERY_FIELDS = (
    "period_start", "period_end", "status", "attempts", "last_attempt_at", "last_result", "report", "store_count",
)


class ScheduledDeliveryInline(admin.TabularInline):
    model = ScheduledDelivery
    fields = _DELIVERY_FIELDS
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ("-period_start",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportSchedule)
class ReportScheduleAdmin(AuditedAdmin, SecretLookupsRefused, admin.ModelAdmin):
    list_display = ("url", "owner", "period", "zone", "next_period_end", "created_at")
    list_filter = ("period", "owner")
    search_fields = ("url", "owner__name", "zone")
    fields = (
        "id", "owner", "period", "zone", "url", "store_ids", "created_at",
        "last_period_start", "last_period_end", "next_period_start", "next_period_end",
    )
    readonly_fields = fields
    inlines = [ScheduledDeliveryInline]

    def has_add_permission(self, request):
        return False  # made through the API, which shows the secret once

    def has_change_permission(self, request, obj=None):
        return False  # delete and make a new one: its periods follow from its zone

    def audit_type(self) -> str:
        return "schedule"  # as the API's changes name it


@admin.register(ScheduledDelivery)
class ScheduledDeliveryAdmin(SecretLookupsRefused, admin.ModelAdmin):
    list_display = ("period_start", "schedule", "status", "attempts", "last_attempt_at", "last_result")
    list_filter = ("status",)
    search_fields = ("schedule__url", "schedule__owner__name")
    list_select_related = ("schedule",)
    readonly_fields = [field.name for field in ScheduledDelivery._meta.fields]
    date_hierarchy = "period_start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

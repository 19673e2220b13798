"""The alerts in the admin: webhooks (their secret never shown, nor filtered on) and the
delivery log, read-only: deliveries are made by the evaluation, not by hand."""

from django.contrib import admin

from monitoring.admin.audited import AuditedAdmin
from monitoring.admin.owners import SecretLookupsRefused
from monitoring.alerts.models import Delivery, Webhook


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("created_at", "event", "store", "status", "attempts", "last_attempt_at", "last_result")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(AuditedAdmin, SecretLookupsRefused, admin.ModelAdmin):
    list_display = ("url", "owner", "events", "confirm_polls", "created_at")
    list_filter = ("owner",)
    search_fields = ("url", "owner__name")
    fields = ("id", "owner", "url", "events", "confirm_polls", "created_at")
    readonly_fields = ("id", "owner", "url", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False  # made through the API or `create_webhook`, which show the secret once


@admin.register(Delivery)
class DeliveryAdmin(SecretLookupsRefused, admin.ModelAdmin):
    list_display = ("created_at", "event", "store", "webhook", "status", "attempts", "last_attempt_at", "last_result")
    list_filter = ("status", "event")
    search_fields = ("store__store_id", "webhook__url")
    list_select_related = ("store", "webhook")
    readonly_fields = [field.name for field in Delivery._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

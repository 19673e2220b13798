"""Groups of an organization's stores, members and their roles, and the audit log
(read only: it is append-only)."""

from __future__ import annotations

from django.contrib import admin

from monitoring.audit.models import AuditEntry
from monitoring.organizations.models import Group, Member

from monitoring.admin.audited import AuditedAdmin
from monitoring.admin.common import NulSafeAdmin, ReadOnlyAdmin


@admin.register(Group)
class GroupAdmin(AuditedAdmin, NulSafeAdmin):
    list_display = ("name", "organization", "created_at")
    list_select_related = ("organization",)
    list_filter = ("organization",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization", "stores")
    readonly_fields = ("created_at",)
    audit_after_related = True  # its stores, a many-to-many

    def audit_snapshot(self, obj: Group) -> dict:
        stores = sorted(obj.stores.values_list("store_id", flat=True)) if obj.pk else []
        return {"name": obj.name, "organization": obj.organization_id, "stores": stores}


@admin.register(Member)
class MemberAdmin(AuditedAdmin, NulSafeAdmin):
    list_display = ("user", "organization", "group", "role", "created_at")
    list_select_related = ("user", "organization", "group")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "organization__name", "group__name")
    autocomplete_fields = ("user", "organization", "group")
    readonly_fields = ("created_at",)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin, NulSafeAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "organization_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "object_id")
    show_full_result_count = False

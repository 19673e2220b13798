"""Changes made in the admin go to the audit log (docs/rules.md §12), as those made
through the API do: `AuditedAdmin` records one row per object saved or deleted, in the
admin's transaction, with the object's values before and after."""

from __future__ import annotations

from django.db import models, transaction
from django.forms.models import model_to_dict

from monitoring.audit import audit_record

#: Never written to the log: secrets and what proves them.
HIDDEN_FIELDS = frozenset({"key_hash", "secret", "csv", "password"})


def admin_actor(request) -> str:
    return f"user:{request.user.get_username()}"


class AuditedAdmin:
    """A ModelAdmin mixin. `audit_snapshot` is what the log keeps of an object (its
    fields, secrets left out); `audit_type` how it is named there. With
    `audit_after_related`, the row is written once the many-to-many fields and inlines
    are saved too (save_related), so that it holds them."""

    audit_after_related = False

    def audit_type(self) -> str:
        return self.model._meta.model_name

    def audit_snapshot(self, obj: models.Model) -> dict:
        values = model_to_dict(obj)
        return {name: value for name, value in values.items() if name not in HIDDEN_FIELDS}

    def audit_organization_id(self, obj: models.Model) -> int | None:
        for path in ("owner_id", "organization_id"):
            if getattr(obj, path, None) is not None:
                return getattr(obj, path)
        store = getattr(obj, "store", None)
        return getattr(store, "owner_id", None)

    def _stored(self, obj: models.Model):
        if obj.pk is None:
            return None
        stored = type(obj).objects.filter(pk=obj.pk).first()
        return None if stored is None else self.audit_snapshot(stored)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = self._stored(obj) if change else None
            super().save_model(request, obj, form, change)
            if self.audit_after_related:  # the admin's changeform_view is one transaction
                request._audit_before = before
            else:
                self.audit_saved(request, obj, before=before, change=change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if self.audit_after_related:
            self.audit_saved(request, form.instance, before=getattr(request, "_audit_before", None), change=change)

    def audit_saved(self, request, obj: models.Model, *, before: dict | None, change: bool) -> None:
        """The row of a save, unless nothing the log shows changed."""
        after = self.audit_snapshot(obj)
        if before != after:
            audit_record(
                actor=admin_actor(request), action=f"{self.audit_type()}.{'change' if change else 'create'}",
                object_type=self.audit_type(), object_id=obj.pk, before=before, after=after,
                organization_id=self.audit_organization_id(obj),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                actor=admin_actor(request), action=f"{self.audit_type()}.delete", object_type=self.audit_type(),
                object_id=obj.pk, before=self.audit_snapshot(obj), organization_id=self.audit_organization_id(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit_record(
                    actor=admin_actor(request), action=f"{self.audit_type()}.delete", object_type=self.audit_type(),
                    object_id=obj.pk, before=self.audit_snapshot(obj), organization_id=self.audit_organization_id(obj),
                )
            super().delete_queryset(request, queryset)

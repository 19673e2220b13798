"""Writing and reading the audit log."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet

from monitoring.audit.models import AuditEntry


def snapshot(value):
    """A value as the log keeps it: JSON (dates, times, decimals and UUIDs as text)."""
    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    before=None,
    after=None,
    organization_id: int | None = None,
) -> AuditEntry:
    """One row for one change; call it inside the change's transaction."""
    return AuditEntry.objects.create(
        actor=actor or "unknown",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=snapshot(before),
        after=snapshot(after),
        organization_id=organization_id,
    )


def audited_delete(*, rows: QuerySet, pk, actor: str, action: str, object_type: str, before_of) -> bool:
    """Deletes the row `pk` among `rows` (the caller's visible ones), locked first, with
    its audit entry (`before_of(row)` as it was; the row's `owner_id` its organization),
    in one transaction; False if there is no such row."""
    with transaction.atomic():
        row = rows.select_for_update().filter(pk=pk).first()
        if row is None:
            return False
        audit_record(
            actor=actor, action=action, object_type=object_type, object_id=row.pk, before=before_of(row),
            organization_id=row.owner_id,
        )
        row.delete()
    return True


def audit_entries_visible(*, organization_id: int | None, everything: bool) -> QuerySet[AuditEntry]:
    """Staff (`everything`): the whole log; otherwise one organization's."""
    entries = AuditEntry.objects.all()
    return entries if everything else entries.filter(organization_id=organization_id)

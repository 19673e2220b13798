"""Escalation policies (docs/rules.md §13): one per owner (the unit of tenancy today; an
organization's when organizations come), set through GraphQL or the admin."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet

from monitoring.alerts.escalation import MAX_MINUTES, MAX_REMINDERS
from monitoring.alerts.models import EscalationPolicy, Webhook
from monitoring.alerts.webhooks import webhooks_visible
from monitoring.kernel.values import InvalidValue, shown
from monitoring.models import Owner
from monitoring.audit import audit_record
from monitoring.stores.access import Access, require

MAX_TARGETS = 20

#: field → (lowest, highest) of each number of a policy.
BOUNDS = {
    "escalate_after_minutes": (1, MAX_MINUTES),
    "remind_every_minutes": (1, MAX_MINUTES),
    "max_reminders": (0, MAX_REMINDERS),
    "quiet_before_close_minutes": (0, MAX_MINUTES),
}


def policies_visible(*, access: Access) -> QuerySet[EscalationPolicy]:
    """An owner's policy; staff see every owner's."""
    policies = EscalationPolicy.objects.all()
    return policies if access.all_stores else policies.filter(owner_id=access.owner_id)


def policy_owner(*, access: Access, owner_name: str | None) -> Owner:
    """The owner whose policy `access` reads or sets: an owner's own (naming another is
    refused as not found), any named owner for staff."""
    if access.is_owner:
        if owner_name is not None and not Owner.objects.filter(pk=access.owner_id, name=owner_name).exists():
            raise InvalidValue("owner", f"no owner named {shown(owner_name)}")
        return Owner.objects.get(pk=access.owner_id)
    if owner_name is None:
        raise InvalidValue("owner", "staff name the owner whose policy this is")
    owner = Owner.objects.filter(name=owner_name).first()
    if owner is None:
        raise InvalidValue("owner", f"no owner named {shown(owner_name)}")
    return owner


def policy_number(value, *, field: str) -> int:
    low, high = BOUNDS[field]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(field, f"must be a whole number from {low} to {high} (got {value!r})")
    return value


def policy_targets(*, access: Access, owner: Owner, target_ids: Sequence[str], field: str = "targets") -> list[Webhook]:
    """The webhooks named, each the owner's (or a staff webhook, for staff) and seen by `access`."""
    if len(target_ids) > MAX_TARGETS:
        raise InvalidValue(field, f"at most {MAX_TARGETS} targets")
    ids = []
    for index, raw in enumerate(target_ids):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            raise InvalidValue(f"{field}[{index}]", f"not a webhook id: {shown(str(raw))}") from None
    found = {
        webhook.pk: webhook
        for webhook in webhooks_visible(access=access).filter(pk__in=ids)
        if webhook.owner_id in (owner.pk, None)
    }
    for index, webhook_id in enumerate(ids):
        if webhook_id not in found:
            raise InvalidValue(f"{field}[{index}]", f"no webhook {str(webhook_id)!r} of this owner")
    return [found[webhook_id] for webhook_id in dict.fromkeys(ids)]


def escalation_policy_set(
    *,
    access: Access,
    owner_name: str | None = None,
    escalate_after_minutes: int | None = None,
    remind_every_minutes: int | None = None,
    max_reminders: int | None = None,
    quiet_before_close_minutes: int | None = None,
    target_ids: Sequence[str] | None = None,
) -> EscalationPolicy:
    """Creates or changes an owner's policy: the values given replace the current ones
    (a new policy starts from the defaults); `target_ids` replaces the targets. Needs the
    ADMIN role on the whole organization (docs/rules.md §12)."""
    require(access, "escalation.manage")
    owner = policy_owner(access=access, owner_name=owner_name)
    given = {
        "escalate_after_minutes": escalate_after_minutes,
        "remind_every_minutes": remind_every_minutes,
        "max_reminders": max_reminders,
        "quiet_before_close_minutes": quiet_before_close_minutes,
    }
    numbers = {field: policy_number(value, field=field) for field, value in given.items() if value is not None}
    targets = None if target_ids is None else policy_targets(access=access, owner=owner, target_ids=target_ids)
    with transaction.atomic():
        policy, created = EscalationPolicy.objects.select_for_update().get_or_create(owner=owner)
        before = None if created else policy_values(policy)
        for field, value in numbers.items():
            setattr(policy, field, value)
        policy.save()
        if targets is not None:
            policy.targets.set(targets)
        after = policy_values(policy)
        if after != before:
            audit_record(
                actor=access.actor, action="escalation_policy.set", object_type="escalation_policy",
                object_id=policy.pk, before=before, after=after, organization_id=owner.pk,
            )
    return policy


def policy_values(policy: EscalationPolicy) -> dict:
    """A policy as the audit log keeps it."""
    return {
        **{field: getattr(policy, field) for field in BOUNDS},
        "targets": sorted(str(pk) for pk in policy.targets.values_list("pk", flat=True)),
    }


def escalation_policy_of(*, access: Access, owner_name: str | None = None) -> EscalationPolicy | None:
    owner = policy_owner(access=access, owner_name=owner_name)
    return policies_visible(access=access).filter(owner=owner).first()

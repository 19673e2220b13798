"""Invites by email: an admin gives a person without a password a role and an address;
the one-time link to set a password (`services.invite_path`) is emailed to it from a
worker (the alerts cluster, whose tasks are short sends), never from the request, so a
slow mail relay holds no web process."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction

from monitoring.audit import audit_record
from monitoring.kernel import values
from monitoring.organizations.models import Member
from monitoring.organizations.services import invite_path, member_set_for
from monitoring.stores.access import Access

TASK = "monitoring.organizations.tasks.send_invite"
#: Seconds per SMTP step (Django's default is none).
SEND_TIMEOUT = 10


def member_set_and_invited_for(
    *, access: Access, username: str, role: str, group_name: str | None, email: str | None
) -> tuple[Member, bool]:
    """`services.member_set_for`, and with `email` (checked first: a refused address
    changes nothing) the invite emailed to a person without a password; (the member,
    whether an invite was queued)."""
    if email is not None:
        email = values.email_address(email, field="email")
    with transaction.atomic():
        member = member_set_for(access=access, username=username, role=role, group_name=group_name)
        invited = email is not None and invite_email(member=member, email=email, actor=access.actor)
    return member, invited


def invite_email(*, member: Member, email: str, actor: str) -> bool:
    """Records `email` (checked by `values.email_address`) as the person's address and
    queues the invite to it once the caller's transaction commits; True when queued,
    False when the person has a password already (nothing to invite to)."""
    if invite_path(member=member) is None:
        return False
    user = member.user
    if user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    audit_record(
        actor=actor, action="member.invite", object_type="member", object_id=member.pk,
        after={"user": user.get_username(), "email": email}, organization_id=member.organization_id,
    )

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(TASK, member.pk, task_name=f"invite-{member.pk}", cluster=settings.Q_ALERT_CLUSTER)

    transaction.on_commit(enqueue)
    return True


def invite_send(*, member_id: int, base_url: str) -> bool:
    """Emails the person of role `member_id` their one-time link, made now (`base_url`
    and its path), to the address recorded; False (nothing sent) when the role is gone,
    the person has set a password meanwhile, or has no address."""
    member = Member.objects.select_related("user", "organization", "group").filter(pk=member_id).first()
    path = invite_path(member=member) if member is not None else None
    if path is None or not member.user.email:
        return False
    where = member.organization.name + (f" ({member.group.name})" if member.group_id else "")
    send_mail(
        subject=f"Store uptime: you have a role in {where}",
        message=(
            f"You are now {member.role.lower()} of {where} on Store uptime, as {member.user.get_username()}.\n\n"
            f"Set your password with this one-time link, then sign in:\n{base_url}{path}\n\n"
            "The link works once, and only until you set a password.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[member.user.email],
        connection=get_connection(timeout=SEND_TIMEOUT),
    )
    return True

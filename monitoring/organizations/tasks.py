"""django-q2 entry point for invites by email: a thin wrapper that knows the server's
public address (the edges' knowledge, not the domain's)."""

from django.conf import settings

from monitoring.organizations.invites import invite_send


def send_invite(member_id: int) -> bool:
    return invite_send(member_id=member_id, base_url=settings.PUBLIC_URL)

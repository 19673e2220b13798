"""Subscriptions: create, list and delete webhooks within a caller's access, and the
check that keeps webhooks off private addresses in production (a webhook is a request
our server makes for a caller: it must not reach what only our server can reach)."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet

from monitoring.stores.access import Access
from monitoring.alerts.events import ALERT_EVENTS, DEFAULT_CONFIRM_POLLS, MAX_CONFIRM_POLLS
from monitoring.alerts.models import Webhook
from monitoring.kernel.values import InvalidValue
from monitoring.models import Owner

MAX_URL_LENGTH = 2000
MAX_WEBHOOKS_PER_OWNER = 20


def webhook_url(text: str, *, field: str = "url") -> str:
    """A webhook's destination: an absolute http(s) URL, or `mailto:` one address. Under
    DJANGO_ENV=production (unless WEBHOOK_ALLOW_PRIVATE=1) a host that is, or resolves
    to, a loopback, private, link-local or otherwise non-public address is refused."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue(field, "a URL is required (https://… or mailto:address)")
    text = text.strip()
    if len(text) > MAX_URL_LENGTH:
        raise InvalidValue(field, f"longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise InvalidValue(field, "contains spaces or control characters")
    if text.lower().startswith("mailto:"):
        address = text[len("mailto:") :]
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidValue(field, f"not an email address: {address!r}") from None
        return "mailto:" + address
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise InvalidValue(field, "must be an absolute http:// or https:// URL, or mailto:address")
    if parts.username or parts.password:
        raise InvalidValue(field, "must not carry a user name or password: the signature authenticates us")
    try:
        parts.port
    except ValueError:
        raise InvalidValue(field, "has an invalid port") from None
    problem = private_address_problem(parts.hostname)
    if problem:
        raise InvalidValue(field, problem)
    return text


def private_address_problem(host: str) -> str | None:
    """Why `host` may not receive webhooks here, or None. Checked when a webhook is made
    and again before each delivery (a name may resolve elsewhere later)."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return None
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"host {host!r} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global:
            return (
                f"host {host!r} is a loopback or private address ({address}): refused in production"
                " (WEBHOOK_ALLOW_PRIVATE=1 allows it)"
            )
    return None


def alert_events(names: Sequence[str] | None, *, field: str = "events") -> list[str]:
    """The events asked for (all when None or empty), known names only, no repeats."""
    if not names:
        return list(ALERT_EVENTS)
    unknown = [name for name in names if name not in ALERT_EVENTS]
    if unknown:
        raise InvalidValue(field, f"unknown event {unknown[0]!r}; one of {', '.join(ALERT_EVENTS)}")
    return [event for event in ALERT_EVENTS if event in names]


def confirm_polls(value: int | None, *, field: str = "confirm_polls") -> int:
    if value is None:
        return DEFAULT_CONFIRM_POLLS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONFIRM_POLLS:
        raise InvalidValue(field, f"must be a whole number from 1 to {MAX_CONFIRM_POLLS}")
    return value


def webhooks_visible(*, access: Access) -> QuerySet[Webhook]:
    """An owner's webhooks; staff (and the demo's anonymous access) see every webhook."""
    webhooks = Webhook.objects.all()
    return webhooks if access.all_stores else webhooks.filter(owner_id=access.owner_id)


def webhook_create(
    *, access: Access, url: str, events: Sequence[str] | None = None, confirm: int | None = None
) -> tuple[Webhook, str]:
    """A new webhook for the caller's stores (an owner's), or for every store (staff).
    Returns it with its signing secret, which is shown this once."""
    owner_id = None if access.all_stores else access.owner_id
    checked_url = webhook_url(url)
    checked_events = alert_events(events)
    checked_confirm = confirm_polls(confirm)
    if owner_id is not None and Webhook.objects.filter(owner_id=owner_id).count() >= MAX_WEBHOOKS_PER_OWNER:
        raise InvalidValue("url", f"at most {MAX_WEBHOOKS_PER_OWNER} webhooks per owner; delete one first")
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(
        owner_id=owner_id, url=checked_url, events=checked_events, confirm_polls=checked_confirm, secret=secret
    )
    return webhook, secret


def webhook_create_for_owner(*, owner_name: str | None, url: str, events=None, confirm=None) -> tuple[Webhook, str]:
    """The command line's way in: an owner by name (None: a staff webhook)."""
    if owner_name is None:
        return webhook_create(access=Access(owner_id=None, all_stores=True), url=url, events=events, confirm=confirm)
    owner = Owner.objects.filter(name=owner_name).first()
    if owner is None:
        raise InvalidValue("owner", f"no owner named {owner_name!r}")
    return webhook_create(access=Access(owner_id=owner.pk, all_stores=False), url=url, events=events, confirm=confirm)


def webhook_delete(*, access: Access, webhook_id) -> bool:
    """Deletes one of the caller's webhooks (and its delivery log); False if none."""
    deleted, _ = webhooks_visible(access=access).filter(pk=webhook_id).delete()
    return deleted > 0

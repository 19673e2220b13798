"""Subscriptions: create, list and delete webhooks within a caller's access, and the
check that keeps webhooks off private addresses in production (a webhook is a request
our server makes for a caller: it must not reach what only our server can reach)."""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from monitoring.alerts.escalation import ESCALATION_EVENTS
from monitoring.audit import audit_record, audited_delete
from monitoring.stores.access import Access, require
from monitoring.alerts.events import ALERT_EVENTS, DEFAULT_CONFIRM_POLLS, MAX_CONFIRM_POLLS
from monitoring.alerts.models import Webhook
from monitoring.kernel import values
from monitoring.kernel.values import InvalidValue, shown
from monitoring.models import Owner

MAX_URL_LENGTH = 2000
MAX_WEBHOOKS_PER_OWNER = 20

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: `host[:port]` or `[IPv6][:port]`, nothing else (no user info, nothing after `]`).
_HOST_PORT = re.compile(r"(?:\[(?P<bracketed>[^\[\]]*)\]|(?P<name>[^\[\]:@]+))(?::(?P<port>[0-9]*))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
#: The characters a request target keeps as they are; the rest (non-ASCII, quotes, …) is
#: percent-encoded, so what reaches the socket is one line of ASCII.
_TARGET_SAFE = "/?:@!$&'()*+,;=-._~%"
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: IPv6 prefixes that carry an IPv4 address we cannot check for what it reaches (the
#: deprecated IPv4-compatible and 6to4 forms, IPv4-translated, Teredo whose client
#: address is obfuscated and relayed, and local-use NAT64 whose embedding the operator
#: chooses): refused outright, no public receiver needs them.
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in ("::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "2002::/16", "2001::/32")
)
#: The well-known NAT64 prefix: the embedded IPv4 (the last 32 bits) is checked instead
#: of refused, because on an IPv6-only host behind DNS64 every IPv4-only receiver has
#: such an address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: Names that never mean a public host (RFC 6761 and the private-use suffixes); a name
#: of one label is completed by the resolver's search list, i.e. the local network.
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")


@dataclass(frozen=True)
class WebhookTarget:
    """An http(s) webhook URL taken apart, the same way when it is made and when it is
    posted to: the connection goes to `host` (or `literal`), the request names
    `host_header` and `target`."""

    scheme: str
    #: An ASCII (IDNA) name, or an address's text (no brackets).
    host: str
    port: int
    #: The address itself when the URL names one (then there is nothing to resolve).
    literal: Address | None
    host_header: str
    #: The request target: path and query, percent-encoded ASCII.
    target: str


def webhook_target(url: str, *, field: str = "url") -> WebhookTarget:
    """Parses an absolute http(s) URL, or raises InvalidValue naming `field`. No DNS."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an unbalanced or misplaced bracket, an IPv4 in brackets
        raise InvalidValue(field, f"not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise InvalidValue(field, "must be an absolute http:// or https:// URL, or mailto:address")
    if "@" in parts.netloc:
        raise InvalidValue(field, "must not carry a user name or password: the signature authenticates us")
    found = _HOST_PORT.fullmatch(parts.netloc)
    if found is None:
        raise InvalidValue(field, f"not a valid host[:port]: {shown(parts.netloc)}")
    port = _DEFAULT_PORTS[scheme]
    if found["port"]:
        port = int(found["port"]) if len(found["port"]) <= 5 else 0
        if not 1 <= port <= 65535:
            raise InvalidValue(field, "has an invalid port (1–65535)")
    literal: Address | None
    if found["bracketed"] is not None:
        literal = _address_or_none(found["bracketed"])
        if not isinstance(literal, ipaddress.IPv6Address) or "%" in found["bracketed"]:
            raise InvalidValue(field, f"[{shown(found['bracketed'])}] is not an IPv6 address (brackets hold only one)")
        host = str(literal)
    else:
        name = found["name"].lower()
        literal = _address_or_none(name) or _legacy_ipv4(name)
        host = str(literal) if literal is not None else _ascii_name(name, field)
    shown_host = f"[{host}]" if isinstance(literal, ipaddress.IPv6Address) else host
    host_header = shown_host if port == _DEFAULT_PORTS[scheme] else f"{shown_host}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(scheme, host, port, literal, host_header, quote(path, safe=_TARGET_SAFE))


def _address_or_none(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _legacy_ipv4(name: str) -> ipaddress.IPv4Address | None:
    """`127.1`, `0x7f.1`, `2130706433`: the resolver reads these as IPv4 addresses
    (inet_aton, no DNS), so they are checked as the address they are."""
    if not re.fullmatch(r"[0-9a-fx.]+", name):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


def _ascii_name(name: str, field: str) -> str:
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidValue(field, f"not a valid host name: {shown(name)}") from None
    labels = ascii_name.removesuffix(".").split(".")
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidValue(field, f"not a valid host name: {shown(name)}")
    return ascii_name


def webhook_url(text: str, *, field: str = "url") -> str:
    """A webhook's destination: an absolute http(s) URL, or `mailto:` one address.

    Under DJANGO_ENV=production (unless WEBHOOK_ALLOW_PRIVATE=1) a host that is a
    loopback, private, link-local or otherwise non-public address, or a local name
    (`localhost`, `*.internal`, one label, …), is refused here. Names are not resolved
    here: a lookup would hold the web worker as long as a slow resolver pleases, and
    its answer proves nothing, since a name may answer differently a second later.
    The check that counts is made at delivery, on the addresses actually connected to
    (monitoring.alerts.delivery), so a name that does not resolve, or resolves to a
    private address, is accepted here and fails each delivery."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue(field, "a URL is required (https://… or mailto:address)")
    text = text.strip()
    if len(text) > MAX_URL_LENGTH:
        raise InvalidValue(field, f"longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise InvalidValue(field, "contains spaces or control characters")
    if text.lower().startswith("mailto:"):
        return "mailto:" + values.email_address(text[len("mailto:") :], field=field)
    target = webhook_target(text, field=field)
    problem = host_problem(target)
    if problem:
        raise InvalidValue(field, problem)
    return text


def host_problem(target: WebhookTarget) -> str | None:
    """Why the host a URL names may not receive webhooks here, without a DNS lookup:
    an address it names, or a local name. None when allowed (or not yet known)."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return None
    if target.literal is not None:
        return address_problem(target.host, target.literal)
    name = target.host.removesuffix(".")
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES) or "." not in name:
        return f"host {name!r} is a local or private name: refused in production (WEBHOOK_ALLOW_PRIVATE=1 allows it)"
    return None


def address_problem(host: str, address: Address) -> str | None:
    """Why `address` (what `host` names or resolves to) may not receive webhooks, or
    None. Applies in production (unless WEBHOOK_ALLOW_PRIVATE=1) to every address
    connected to."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return None
    checked: Address = address
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            checked = address.ipv4_mapped
        elif address in _NAT64:
            checked = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        elif address.is_global and any(address in prefix for prefix in _REFUSED_V6):
            return (
                f"host {host!r} is an IPv6 address that carries an IPv4 address ({address}): refused as private"
                " in production (WEBHOOK_ALLOW_PRIVATE=1 allows it)"
            )
    if not checked.is_global or checked.is_multicast:
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
    if unknown and unknown[0] in ESCALATION_EVENTS:
        raise InvalidValue(field, f"{unknown[0]} goes to the targets of an escalation policy, not to subscriptions")
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
    require(access, "webhooks.manage")
    owner_id = None if access.all_stores else access.owner_id
    checked_url = webhook_url(url)
    checked_events = alert_events(events)
    checked_confirm = confirm_polls(confirm)
    if owner_id is not None and Webhook.objects.filter(owner_id=owner_id).count() >= MAX_WEBHOOKS_PER_OWNER:
        raise InvalidValue("url", f"at most {MAX_WEBHOOKS_PER_OWNER} webhooks per owner; delete one first")
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            owner_id=owner_id, url=checked_url, events=checked_events, confirm_polls=checked_confirm, secret=secret
        )
        audit_record(
            actor=access.actor, action="webhook.create", object_type="webhook", object_id=webhook.pk,
            after=_audited(webhook), organization_id=owner_id,
        )
    return webhook, secret


def _audited(webhook: Webhook) -> dict:
    """A webhook as the audit log shows it (never its secret)."""
    return {"url": webhook.url, "events": list(webhook.events), "confirm_polls": webhook.confirm_polls}


def webhook_create_for_owner(
    *, owner_name: str | None, url: str, events=None, confirm=None, actor: str
) -> tuple[Webhook, str]:
    """The command line's way in: an owner by name (None: a staff webhook); `actor` as
    the audit log names the command (`command:<name>`)."""
    if owner_name is None:
        return webhook_create(
            access=Access(owner_id=None, all_stores=True, actor=actor), url=url, events=events, confirm=confirm
        )
    owner = Owner.objects.filter(name=owner_name).first()
    if owner is None:
        raise InvalidValue("owner", f"no owner named {owner_name!r}")
    return webhook_create(
        access=Access(owner_id=owner.pk, all_stores=False, actor=actor), url=url, events=events, confirm=confirm
    )


def webhook_delete(*, access: Access, webhook_id) -> bool:
    """Deletes one of the caller's webhooks (and its delivery log); False if none."""
    require(access, "webhooks.manage")
    return audited_delete(
        rows=webhooks_visible(access=access), pk=webhook_id, actor=access.actor, action="webhook.delete",
        object_type="webhook", before_of=_audited,
    )

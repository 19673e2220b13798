"""Who may see what: API tokens (stored hashed), owners and their stores.

An owner's token sees only that owner's stores, their polls and reports; a staff token
sees everything. Without a token, access depends on API_ANONYMOUS_ACCESS (on for the
demo of `make run`, off under DJANGO_ENV=production)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from monitoring.models import ApiToken, Owner, Report, StatusPoll, Store

TOKEN_PREFIX = "sum_"  # store uptime monitor; makes leaked tokens easy to grep for
_LAST_USED_PRECISION = timedelta(minutes=1)  # don't write on every request


@dataclass(frozen=True)
class Access:
    owner_id: int | None  # the owner whose stores are visible; None with all_stores
    all_stores: bool

    @property
    def is_owner(self) -> bool:
        return not self.all_stores


EVERYTHING = Access(owner_id=None, all_stores=True)


class AuthenticationFailed(Exception):
    """No usable credentials: the API answers 401."""


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, name: str, owner: Owner | None = None, is_staff: bool = False) -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and never stored."""
    if (owner is None) == (not is_staff):
        raise ValueError("a token belongs to an owner, or is a staff token; not both, not neither")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, owner=owner, is_staff=is_staff, key_prefix=raw[: len(TOKEN_PREFIX) + 4], key_hash=_hash(raw)
    )
    return token, raw


SESSION_TOKEN_KEY = "api_token_hash"


def token_access(*, raw: str | None = None, key_hash: str | None = None) -> Access:
    """The access of a token, given raw or (from a browser session) by its hash."""
    key_hash = key_hash or _hash((raw or "").strip())
    token = ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is None:
        raise AuthenticationFailed("invalid or revoked API token")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return EVERYTHING if token.is_staff else Access(owner_id=token.owner_id, all_stores=False)


def session_sign_in(*, request, raw: str) -> Access:
    """Browser pages: remember a valid token (by its hash) in the session."""
    access = token_access(raw=raw)
    request.session.cycle_key()
    request.session[SESSION_TOKEN_KEY] = _hash(raw.strip())
    return access


def request_access(request) -> Access:
    """The access of an HTTP request: its bearer token, a token signed in to the browser
    session, a staff user's admin session, or anonymous access where allowed. Raises
    AuthenticationFailed."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        return token_access(raw=raw)
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_TOKEN_KEY):
        return token_access(key_hash=session[SESSION_TOKEN_KEY])
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return EVERYTHING
    if settings.API_ANONYMOUS_ACCESS:
        return EVERYTHING
    raise AuthenticationFailed("an API token is required: send 'Authorization: Bearer <token>'")


def stores_visible(*, access: Access) -> QuerySet[Store]:
    stores = Store.objects.all()
    return stores if access.all_stores else stores.filter(owner_id=access.owner_id)


def polls_visible(*, access: Access) -> QuerySet[StatusPoll]:
    polls = StatusPoll.objects.all()
    return polls if access.all_stores else polls.filter(store__owner_id=access.owner_id)


def reports_visible(*, access: Access) -> QuerySet[Report]:
    reports = Report.objects.all()
    return reports if access.all_stores else reports.filter(owner_id=access.owner_id)

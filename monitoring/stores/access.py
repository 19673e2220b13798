"""Who may see what: API tokens (stored hashed), owners and their stores.

An owner's token sees only that owner's stores, their polls and reports; a staff token
sees everything. Without a token, access depends on API_ANONYMOUS_ACCESS (on for the
demo of `make run`, off under DJANGO_ENV=production).

A request authenticated by a browser session (the sign-in cookie, or a staff admin
session) may change state only from our own pages (docs/rules.md §8): `cross_site_problem`."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db.models import QuerySet
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware, RejectRequest, rotate_token
from django.utils import timezone

from monitoring.models import ApiToken, Owner, Report, StatusPoll, Store
from monitoring.throttle.limits import client_address

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


def _token_used(*, raw: str | None = None, key_hash: str | None = None) -> ApiToken:
    """The live token, given raw or (from a browser session) by its hash."""
    key_hash = key_hash or _hash((raw or "").strip())
    token = ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is None:
        raise AuthenticationFailed("invalid or revoked API token")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def _token_access(token: ApiToken) -> Access:
    return EVERYTHING if token.is_staff else Access(owner_id=token.owner_id, all_stores=False)


def token_access(*, raw: str | None = None, key_hash: str | None = None) -> Access:
    """The access of a token, given raw or (from a browser session) by its hash."""
    return _token_access(_token_used(raw=raw, key_hash=key_hash))


def session_sign_in(*, request, raw: str) -> Access:
    """Browser pages: remember a valid token (by its hash) in the session. A new session
    key and a new CSRF secret, as Django's own login does (no fixation of either)."""
    access = token_access(raw=raw)
    request.session.cycle_key()
    request.session[SESSION_TOKEN_KEY] = _hash(raw.strip())
    rotate_token(request)
    return access


@dataclass(frozen=True)
class Credentials:
    """How a request authenticated: its access, by what, and who is counted for rate
    limits (monitoring.throttle.limits)."""

    access: Access
    via: str  # "token" (Authorization header), "session" (sign-in cookie), "admin", "anonymous"
    caller: str  # "token:<pk>", "user:<pk>" or "address:<client address>"

    @property
    def by_cookie(self) -> bool:
        """Authenticated by a browser session cookie, which a cross-site request carries too."""
        return self.via in ("session", "admin")


def request_credentials(request) -> Credentials:
    """The credentials of an HTTP request: its bearer token, a token signed in to the
    browser session, a staff user's admin session, or anonymous access where allowed.
    Raises AuthenticationFailed."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        token = _token_used(raw=raw)
        return Credentials(access=_token_access(token), via="token", caller=f"token:{token.pk}")
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_TOKEN_KEY):
        token = _token_used(key_hash=session[SESSION_TOKEN_KEY])
        return Credentials(access=_token_access(token), via="session", caller=f"token:{token.pk}")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return Credentials(access=EVERYTHING, via="admin", caller=f"user:{user.pk}")
    if settings.API_ANONYMOUS_ACCESS:
        return Credentials(access=EVERYTHING, via="anonymous", caller=f"address:{client_address(request) or 'unknown'}")
    raise AuthenticationFailed("an API token is required: send 'Authorization: Bearer <token>'")


def request_access(request) -> Access:
    """The access of an HTTP request (request_credentials). Raises AuthenticationFailed."""
    return request_credentials(request).access


# Django's own checks of the Origin header and of the CSRF token (the csrftoken cookie
# against the X-CSRFToken header or the csrfmiddlewaretoken form field), as its
# CsrfViewMiddleware makes them; its private methods, so Django is pinned and
# tests/web/test_csrf.py covers every branch.
_django_csrf = CsrfViewMiddleware(lambda request: None)
_SAME_ORIGIN_FETCH = ("same-origin", "none")  # Sec-Fetch-Site: our page, or typed by the user


def cross_site_problem(request) -> str | None:
    """None when a request riding a session cookie provably comes from our own pages:
    its Origin is ours (or in CSRF_TRUSTED_ORIGINS), or, without an Origin, the browser
    says Sec-Fetch-Site: same-origin (or none: typed or bookmarked), or it carries
    Django's CSRF token. Otherwise why it is refused. A foreign Origin is refused even
    with a token, as Django does."""
    if "HTTP_ORIGIN" in request.META:
        if _django_csrf._origin_verified(request):
            return None
        return f"cross-site request (Origin: {request.META['HTTP_ORIGIN']})"
    fetch_site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if fetch_site in _SAME_ORIGIN_FETCH:
        return None
    if fetch_site:
        return f"cross-site request (Sec-Fetch-Site: {fetch_site})"
    try:
        if request.is_secure() and request.method not in ("GET", "HEAD"):
            _django_csrf._check_referer(request)  # HTTPS without Origin: Django insists on a Referer
        _django_csrf._check_token(request)
    except RejectRequest as error:
        return f"no CSRF token or same-origin request: {error.reason}"
    except (MultiPartParserError, SuspiciousOperation, BadRequest, ValueError):  # reading the form's token
        return "no CSRF token or same-origin request: the form body cannot be read"
    return None


def stores_visible(*, access: Access) -> QuerySet[Store]:
    """The one tenancy rule: an owner sees their own stores, staff every store. Every
    other `*_visible` selector, and every raw query that must respect it
    (`store_keys_visible_sql`), is built on this one."""
    stores = Store.objects.all()
    return stores if access.all_stores else stores.filter(owner_id=access.owner_id)


def owner_access(owner_id: int | None) -> Access:
    """The access of an owner by id; None: every store (staff, the CLI)."""
    return EVERYTHING if owner_id is None else Access(owner_id=owner_id, all_stores=False)


def store_keys_visible_sql(*, access: Access) -> tuple[str, tuple]:
    """`(sql, params)` of a subquery giving the keys (pk) of the stores `access` sees,
    for raw SQL that must follow the same rule: `… WHERE p.store_id IN (<sql>)`."""
    return stores_visible(access=access).order_by().values("pk").query.sql_with_params()


def polls_visible(*, access: Access) -> QuerySet[StatusPoll]:
    polls = StatusPoll.objects.all()
    return polls if access.all_stores else polls.filter(store__owner_id=access.owner_id)


def reports_visible(*, access: Access) -> QuerySet[Report]:
    reports = Report.objects.all()
    return reports if access.all_stores else reports.filter(owner_id=access.owner_id)


# Live updates (docs/rules.md §14) travel to audiences: a subscriber listens to the
# audiences of its access, a store's events go to the audiences of its owner. The same
# rule as stores_visible, in those terms (tests/stores/test_access.py holds the two together).
EVERY_STORE_AUDIENCE = "all"


def audiences_visible(*, access: Access) -> list[str]:
    """The audiences whose store events `access` may receive."""
    return [EVERY_STORE_AUDIENCE] if access.all_stores else [f"owner-{access.owner_id}"]


def store_audiences(*, owner_id: int | None) -> list[str]:
    """The audiences told of the events of a store of this owner (None: no owner)."""
    return [EVERY_STORE_AUDIENCE] if owner_id is None else [EVERY_STORE_AUDIENCE, f"owner-{owner_id}"]

"""Who may see and do what: API tokens (stored hashed), organizations (each the `Owner`
row of its stores), their groups, roles and scopes (docs/rules.md §12).

An organization's token sees only that organization's stores, their polls and reports,
or only one group's when its role is held on a group; a staff token sees everything.
What it may do is `require`'s answer, from its role and scopes
(monitoring.organizations.roles.ACTIONS). Without a token, access depends on
API_ANONYMOUS_ACCESS (on for the demo of `make run`, off under DJANGO_ENV=production).

A request authenticated by a browser session (the sign-in cookie, or a staff admin
session) may change state only from our own pages (docs/rules.md §8): `cross_site_problem`."""

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, QuerySet, Subquery
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware, RejectRequest, rotate_token
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from monitoring.kernel.errors import Forbidden, InputError
from monitoring.models import ApiToken, Owner, Report, StatusPoll, Store
from monitoring.organizations.models import Group, Member
from monitoring.organizations.roles import ACTIONS, ADMIN, ALL_SCOPES, lower_role, role_rank
from monitoring.throttle.limits import client_address

TOKEN_PREFIX = "sum_"  # store uptime monitor; makes leaked tokens easy to grep for
_LAST_USED_PRECISION = timedelta(minutes=1)  # don't write on every request


@dataclass(frozen=True)
class Access:
    owner_id: int | None  # the organization whose stores are visible; None with all_stores
    all_stores: bool
    group_id: int | None = None  # only this group's stores of the organization; None: all of them
    role: str = ADMIN  # what it may change (ignored with all_stores)
    scopes: frozenset[str] = ALL_SCOPES
    # Who, for the audit log ("token:12 dashboard"); not part of what it may see or do.
    actor: str = field(default="", compare=False)

    @property
    def is_owner(self) -> bool:
        return not self.all_stores


EVERYTHING = Access(owner_id=None, all_stores=True)


class AuthenticationFailed(Exception):
    """No usable credentials: the API answers 401."""


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    *,
    name: str,
    owner: Owner | None = None,
    is_staff: bool = False,
    member: Member | None = None,
    group: Group | None = None,
    role: str = ADMIN,
    scopes=ALL_SCOPES,
    expires_at=None,
) -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and never stored. An organization's
    token is a member's (`member`: never more than the member's role and group) or a
    service token (`owner`, with its own `role`, on the organization or one `group`)."""
    if member is not None:
        owner, group = member.organization, member.group
        role = lower_role(role, member.role)
    if (owner is None) == (not is_staff):
        raise ValueError("a token belongs to an owner, or is a staff token; not both, not neither")
    if group is not None and group.organization_id != owner.pk:
        raise ValueError("a token's group must be a group of its organization")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, owner=owner, is_staff=is_staff, key_prefix=raw[: len(TOKEN_PREFIX) + 4], key_hash=_hash(raw),
        member=member, group=group, role=role, scopes=sorted(scopes), expires_at=expires_at,
    )
    return token, raw


SESSION_TOKEN_KEY = "api_token_hash"


def _token_used(*, raw: str | None = None, key_hash: str | None = None) -> ApiToken:
    """The live token, given raw or (from a browser session) by its hash."""
    key_hash = key_hash or _hash((raw or "").strip())
    token = ApiToken.objects.select_related("member").filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is None:
        raise AuthenticationFailed("invalid or revoked API token")
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthenticationFailed("expired API token")
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def _token_access(token: ApiToken) -> Access:
    actor = f"token:{token.pk} {token.name}"
    if token.is_staff:
        return replace(EVERYTHING, actor=actor)
    role, group_id = token.role, token.group_id
    if token.member is not None:  # the member's role and group today, not when it was made
        role, group_id = lower_role(role, token.member.role), token.member.group_id
    return Access(
        owner_id=token.owner_id, all_stores=False, group_id=group_id, role=role, scopes=frozenset(token.scopes),
        actor=actor,
    )


def token_access(*, raw: str | None = None, key_hash: str | None = None) -> Access:
    """The access of a token, given raw or (from a browser session) by its hash."""
    return _token_access(_token_used(raw=raw, key_hash=key_hash))


SESSION_MEMBER_KEY = "member_id"
SESSION_MEMBER_HASH_KEY = "member_auth_hash"  # the user's session hash: a new password signs them out


def _member_access(member: Member) -> Access:
    """A person signed in with their password: their role on their organization or group."""
    return Access(
        owner_id=member.organization_id, all_stores=False, group_id=member.group_id, role=member.role,
        scopes=ALL_SCOPES, actor=f"user:{member.user.get_username()}",
    )


def session_sign_in_member(*, request, username: str, password: str) -> Access:
    """Browser pages: a member signs in with username and password (Django's auth, its
    failures counted and locked out by django-axes as the admin's are). A person with
    roles in several places signs in to the widest: an organization-wide role first."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise AuthenticationFailed("wrong username or password")
    member = (
        Member.objects.select_related("user").filter(user=user)
        .order_by(F("group_id").asc(nulls_first=True), "organization_id").first()
    )
    if member is None:
        raise AuthenticationFailed("this person has no role in any organization")
    request.session.cycle_key()
    request.session.pop(SESSION_TOKEN_KEY, None)
    request.session[SESSION_MEMBER_KEY] = member.pk
    request.session[SESSION_MEMBER_HASH_KEY] = user.get_session_auth_hash()
    rotate_token(request)
    return _member_access(member)


def member_roles(*, member_id: int) -> list[Member]:
    """All the roles of the person holding the role `member_id`, in the order a sign-in
    picks from (`session_sign_in_member`), with their organization and group: one query."""
    same_person = Member.objects.filter(pk=member_id).values("user_id")
    return list(
        Member.objects.select_related("organization", "group").filter(user_id=Subquery(same_person))
        .order_by(F("group_id").asc(nulls_first=True), "organization_id", "group__name", "pk")
    )


def session_switch_role(*, request, member_id: int) -> Access:
    """Browser pages: a person signed in with roles in several places acts with another of
    their own roles from now on. Another person's role is as unknown as none."""
    session = request.session
    if session.get(SESSION_TOKEN_KEY) or not session.get(SESSION_MEMBER_KEY):
        raise AuthenticationFailed("sign in with your username and password first")
    current = _session_member(session)
    target = Member.objects.select_related("user").filter(pk=member_id, user_id=current.user_id).first()
    if target is None:
        raise AuthenticationFailed("no such role of yours")
    request.session.cycle_key()  # a new reach: a new session key, as at sign-in
    request.session[SESSION_MEMBER_KEY] = target.pk
    return _member_access(target)


def _session_member(session) -> Member:
    member = Member.objects.select_related("user").filter(pk=session[SESSION_MEMBER_KEY]).first()
    if (
        member is None
        or not member.user.is_active
        or not constant_time_compare(session.get(SESSION_MEMBER_HASH_KEY, ""), member.user.get_session_auth_hash())
    ):
        raise AuthenticationFailed("signed out: the role was removed or the password changed; sign in again")
    return member


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
    if session is not None and session.get(SESSION_MEMBER_KEY):
        member = _session_member(session)
        return Credentials(access=_member_access(member), via="session", caller=f"user:{member.user_id}")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        access = replace(EVERYTHING, actor=f"user:{user.get_username()}")
        return Credentials(access=access, via="admin", caller=f"user:{user.pk}")
    if settings.API_ANONYMOUS_ACCESS:
        caller = f"address:{client_address(request) or 'unknown'}"
        return Credentials(access=replace(EVERYTHING, actor="anonymous"), via="anonymous", caller=caller)
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
    """The one tenancy rule: an organization's caller sees its stores (a role held on a
    group: that group's stores), staff every store. Every other `*_visible` selector,
    and every raw query that must respect it (`store_keys_visible_sql`), is built on
    this one."""
    stores = Store.objects.all()
    if access.all_stores:
        return stores
    stores = stores.filter(owner_id=access.owner_id)
    return stores if access.group_id is None else stores.filter(groups__id=access.group_id)


def owner_access(owner_id: int | None) -> Access:
    """The access of an owner by id; None: every store (staff, the CLI)."""
    return EVERYTHING if owner_id is None else Access(owner_id=owner_id, all_stores=False)


def store_keys_visible_sql(*, access: Access) -> tuple[str, tuple]:
    """`(sql, params)` of a subquery giving the keys (pk) of the stores `access` sees,
    for raw SQL that must follow the same rule: `… WHERE p.store_id IN (<sql>)`."""
    return stores_visible(access=access).order_by().values("pk").query.sql_with_params()


def polls_visible(*, access: Access) -> QuerySet[StatusPoll]:
    polls = StatusPoll.objects.all()
    if access.all_stores:
        return polls
    polls = polls.filter(store__owner_id=access.owner_id)
    return polls if access.group_id is None else polls.filter(store__groups__id=access.group_id)


def reports_visible(*, access: Access) -> QuerySet[Report]:
    reports = Report.objects.all()
    if access.all_stores:
        return reports
    reports = reports.filter(owner_id=access.owner_id)
    if access.group_id is None:
        return reports
    # A group's caller: the reports that name only stores of its group.
    group_store_ids = ArraySubquery(stores_visible(access=access).order_by().values("store_id"))
    return reports.filter(store_ids__isnull=False, store_ids__contained_by=group_store_ids)


def report_store_ids(*, access: Access, store_ids: list[str] | None) -> list[str] | None:
    """The stores a report asked by `access` names: as asked, except that a group's
    caller asking for every store gets its group's stores (a report of the organization
    would reach past the group), and a store outside its group is unknown to it."""
    if access.all_stores or access.group_id is None:
        return store_ids
    if store_ids is None:
        group_store_ids = sorted(stores_visible(access=access).values_list("store_id", flat=True))
        if not group_store_ids:
            raise InputError("the group your role is held on has no stores", field="store_ids")
        return group_store_ids
    visible = set(stores_visible(access=access).filter(store_id__in=store_ids).values_list("store_id", flat=True))
    outside = sorted(set(store_ids) - visible)
    if outside:  # as unknown as another organization's store, in the same words
        shown = ", ".join(outside[:10]) + (" …" if len(outside) > 10 else "")
        raise InputError(f"no such store{'' if len(outside) == 1 else 's'}: {shown}", field="store_ids")
    return store_ids


# Live updates (docs/rules.md §14) travel to audiences: a subscriber listens to the
# audiences of its access, a store's events go to the audiences of its owner. The same
# rule as stores_visible, in those terms (tests/stores/test_access.py holds the two together).
EVERY_STORE_AUDIENCE = "all"


def audiences_visible(*, access: Access) -> list[str]:
    """The audiences whose store events `access` may receive."""
    if access.all_stores:
        return [EVERY_STORE_AUDIENCE]
    return [f"owner-{access.owner_id}" if access.group_id is None else f"group-{access.group_id}"]


def store_audiences(*, owner_id: int | None, group_ids=()) -> list[str]:
    """The audiences told of the events of a store of this owner (None: no owner) in
    these groups."""
    if owner_id is None:
        return [EVERY_STORE_AUDIENCE]
    return [EVERY_STORE_AUDIENCE, f"owner-{owner_id}", *(f"group-{group_id}" for group_id in sorted(group_ids))]


def require(access: Access, action: str, *, store: Store | None = None) -> None:
    """The one permission check (docs/rules.md §12): `access` may do `action` (a key of
    monitoring.organizations.roles.ACTIONS), on `store` when given; otherwise Forbidden
    (code FORBIDDEN), saying which role or scope is missing."""
    rule = ACTIONS[action]
    if access.all_stores:
        return
    doing = rule.doing
    if role_rank(access.role) < role_rank(rule.role):
        raise Forbidden(f"the {access.role} role cannot {doing}: it needs {rule.role} or above")
    if not access.scopes & rule.scopes:
        needed = " or ".join(repr(scope) for scope in sorted(rule.scopes))
        raise Forbidden(f"this token cannot {doing}: it needs the {needed} scope")
    if rule.organization_wide and access.group_id is not None:
        raise Forbidden(f"a role held on a group cannot {doing}: it needs {rule.role} on the whole organization")
    if store is not None and not stores_visible(access=access).filter(pk=store.pk).exists():
        raise Forbidden(f"store {store.store_id!r} is outside what your role covers")


def allowed(access: Access, action: str) -> bool:
    """Whether `require(access, action)` passes (for pages deciding what to show)."""
    try:
        require(access, action)
    except Forbidden:
        return False
    return True


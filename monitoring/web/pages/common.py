"""What every page shares: the 404 and 400 pages, the `as_of` query parameter (read by
the grammar), who is viewing, and rendering with that."""

from __future__ import annotations

from datetime import datetime
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render as django_render

from monitoring.kernel.errors import Forbidden
from monitoring.stores.access import SESSION_MEMBER_KEY, SESSION_TOKEN_KEY, Access, member_roles, require
from monitoring.kernel import values
from monitoring.models import ApiToken


def not_found_page(request: HttpRequest, what: str, reason: str = "") -> HttpResponse:
    return render(request, "monitoring/not_found.html", {"what": what, "reason": reason}, status=404)


def bad_request_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "monitoring/bad_request.html", {"message": message}, status=400)


def forbidden_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "monitoring/forbidden.html", {"message": message}, status=403)


def page_requires(action: str):
    """A page the caller's role and scopes must allow (monitoring.stores.access.require):
    otherwise 403 with what is missing."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            access: Access | None = getattr(request, "access", None)
            if access is not None:
                try:
                    require(access, action)
                except Forbidden as error:
                    return forbidden_page(request, error.reason)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def as_of_param(request: HttpRequest) -> datetime | None:
    """The page's `as_of` by the one grammar (docs/rules.md §7): an offset required, years
    2000–2100; absent or empty = the latest poll. Raises InvalidValue."""
    value = request.GET.get("as_of", "")
    if value == "":
        return None
    return values.as_of(value, field="as_of")


# --------------------------------------------------------------------------- views


def viewer(request: HttpRequest) -> dict | None:
    """Who the page header says is signed in: the owner of the token signed in to this
    browser session (or 'staff'), an admin user, a bearer token, or the anonymous demo.
    None where the page has no access (sign-in, errors)."""
    access: Access | None = getattr(request, "access", None)
    if access is None:
        return None
    key_hash = request.session.get(SESSION_TOKEN_KEY) if hasattr(request, "session") else None
    if key_hash:
        token = ApiToken.objects.select_related("owner").filter(key_hash=key_hash).first()
        name = token.owner.name if token and token.owner_id else "staff"
        return {"name": name, "session": True}
    if access.actor.startswith("user:") and hasattr(request, "session") and request.session.get(SESSION_MEMBER_KEY):
        current = request.session[SESSION_MEMBER_KEY]
        roles = member_roles(member_id=current)
        return {
            "name": access.actor.removeprefix("user:"), "session": True,
            # A person with roles in several places picks which one the pages act with.
            "roles": [(role.pk, role_label(role), role.pk == current) for role in roles] if len(roles) > 1 else [],
        }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return {"name": f"{user.get_username()} (admin)", "session": True}
    if request.headers.get("Authorization"):
        return {"name": "an API token", "session": False}
    return {"name": None, "demo": True, "session": False}


def role_label(member) -> str:
    """A role as the header's role picker names it: "Operator · North / East"."""
    where = member.organization.name + (f" / {member.group.name}" if member.group_id else "")
    return f"{member.role.capitalize()} · {where}"


def render(request: HttpRequest, template: str, context: dict | None = None, status: int | None = None) -> HttpResponse:
    """django.shortcuts.render with the header's `viewer`."""
    return django_render(request, template, {**(context or {}), "viewer": viewer(request)}, status=status)

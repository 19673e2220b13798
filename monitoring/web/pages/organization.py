"""An organization's pages for its admins (docs/rules.md §12): the audit log, its API
tokens (list, make one, revoke one) and its members (list, give a role, remove one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from monitoring.audit import audit_entries_visible
from monitoring.kernel.errors import InputError
from monitoring.kernel.values import InvalidValue
from monitoring.organizations.roles import ROLES, SCOPES, parse_role, parse_scopes
from monitoring.organizations.invites import member_set_and_invited_for
from monitoring.organizations.services import (
    invite_path,
    member_remove_for,
    members_visible,
    token_create_for,
    token_revoke,
    tokens_visible,
)
from monitoring.web.pages.common import bad_request_page, page_requires, render
from monitoring.web.pages.fleet import page_number_of

AUDIT_PAGE_SIZE = 100


def _json(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True)


@require_http_methods(["GET", "HEAD"])
@page_requires("audit.read")
def audit_log_page(request: HttpRequest) -> HttpResponse:
    """GET /organization/audit/[?actor=…&object_type=…&object_id=…&page=N]: the log, newest first."""
    access = request.access
    entries = audit_entries_visible(organization_id=access.owner_id, everything=access.all_stores).order_by("-id")
    filters = {name: request.GET.get(name, "") for name in ("actor", "object_type", "object_id")}
    for name, value in filters.items():
        if value:
            entries = entries.filter(**{name: value})
    page = Paginator(entries, AUDIT_PAGE_SIZE, allow_empty_first_page=True).get_page(page_number_of(request))
    rows = [
        {"entry": entry, "before": _json(entry.before), "after": _json(entry.after)} for entry in page.object_list
    ]
    return render(request, "monitoring/audit_log.html", {"rows": rows, "filters": filters, "page": page})


@require_http_methods(["GET", "HEAD", "POST"])
@page_requires("tokens.manage")
def tokens_page(request: HttpRequest) -> HttpResponse:
    """GET /organization/tokens/: the tokens an admin manages; POST makes one (its secret
    shown on the answer, once) or, with `revoke`, revokes one."""
    access = request.access
    secret = None
    if request.method == "POST":
        try:
            if request.POST.get("revoke"):
                revoked = request.POST["revoke"]
                if not revoked.isdigit() or token_revoke(access=access, token_id=int(revoked)) is None:
                    return bad_request_page(request, f"no such token: {revoked}")
                return HttpResponseRedirect(reverse("organization-tokens"))
            name = request.POST.get("name", "").strip()
            if not name or len(name) > 200:
                raise InvalidValue("name", "1 to 200 characters, not only spaces")
            _, secret = token_create_for(
                access=access,
                name=name,
                role=parse_role(request.POST.get("role", ""), field="role"),
                scopes=parse_scopes(",".join(request.POST.getlist("scopes")), field="scopes"),
            )
        except InputError as error:
            return bad_request_page(request, str(error))
    tokens = tokens_visible(access=access).order_by("-created_at")[:500]
    response = render(
        request,
        "monitoring/tokens.html",
        {"tokens": tokens, "secret": secret, "roles": ROLES, "scopes": SCOPES, "now": datetime.now(UTC)},
    )
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@page_requires("members.manage")
def members_page(request: HttpRequest) -> HttpResponse:
    """GET /organization/members/: the members an admin manages; POST gives `username` a
    `role` (on `group`, empty: the organization; the invite link of a person without a
    password shown once), or with `remove` removes one."""
    access = request.access
    invite = emailed = None
    if request.method == "POST":
        group = request.POST.get("group", "").strip() or None
        try:
            if request.POST.get("remove"):
                if not member_remove_for(access=access, username=request.POST["remove"], group_name=group):
                    return bad_request_page(request, f"no such member: {request.POST['remove']}")
                return HttpResponseRedirect(reverse("organization-members"))
            member, invited = member_set_and_invited_for(
                access=access,
                username=request.POST.get("username", ""),
                role=parse_role(request.POST.get("role", ""), field="role"),
                group_name=group,
                email=request.POST.get("email", "").strip() or None,
            )
            invite = invite_path(member=member)
            emailed = member.user.email if invited else None
        except InputError as error:
            return bad_request_page(request, str(error))
    members = members_visible(access=access).order_by("user__username", "group__name")[:500]
    response = render(
        request, "monitoring/members.html", {"members": members, "roles": ROLES, "invite": invite, "emailed": emailed}
    )
    if invite:
        response["Cache-Control"] = "no-store"
    return response

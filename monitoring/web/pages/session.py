"""Signing in (a member with username and password, or anyone with an API token),
switching between a person's roles, and signing out."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_http_methods

from monitoring.stores.access import AuthenticationFailed, session_sign_in, session_sign_in_member, session_switch_role

from monitoring.web.pages.common import bad_request_page, forbidden_page, render


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Members open their pages in a browser by signing in with their username and
    password, or with an API token."""
    next_url = _next_url(request)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("username"):
                session_sign_in_member(
                    request=request, username=request.POST["username"], password=request.POST.get("password", "")
                )
            else:
                session_sign_in(request=request, raw=request.POST.get("token", ""))
        except AuthenticationFailed as failure:
            error = (
                f"Not signed in: {failure}." if request.POST.get("username")
                else "That token is not valid (or was revoked)."
            )
        else:
            return HttpResponseRedirect(next_url)
    return render(request, "monitoring/sign_in.html", {"next": next_url, "error": error}, status=401 if error else 200)


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in or switching: `next`, a path of this site only."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    return next_url if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}) else "/"


@require_http_methods(["GET", "POST"])
def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """GET|POST /set-password/<uid>/<token>/: the one-time link of an invited member (or
    of a password reset) sets their password; then they sign in with it."""
    user = _user_of_link(uidb64, token)
    if user is None:
        return render(request, "monitoring/set_password.html", {"invalid": True}, status=400)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return HttpResponseRedirect(reverse("sign-in"))
    response = render(request, "monitoring/set_password.html", {"form": form}, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the link is a secret: never sent on
    return response


def _user_of_link(uidb64: str, token: str):
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    return user if user is not None and default_token_generator.check_token(user, token) else None


@require_http_methods(["POST"])
def switch_role(request: HttpRequest) -> HttpResponse:
    """POST /session/role/ (`member`: one of the signed-in person's roles; Django's CSRF
    token, from the header's form): the pages act with that role from now on; back to
    `next` (this site's only)."""
    next_url = _next_url(request)
    member_id = request.POST.get("member", "")
    if not member_id.isascii() or not member_id.isdigit() or len(member_id) > 18:  # a bigint id
        return bad_request_page(request, "member: must be the id of one of your roles")
    try:
        session_switch_role(request=request, member_id=int(member_id))
    except AuthenticationFailed as failure:
        return forbidden_page(request, f"Not switched: {failure}.")
    return HttpResponseRedirect(next_url)


@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST /sign-out/ (Django's CSRF token, from the header's form): forgets the signed-in
    token (and any admin login) by flushing the session."""
    request.session.flush()
    if hasattr(request, "user"):
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    return HttpResponseRedirect(reverse("sign-in"))

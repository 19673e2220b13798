"""Signing in (a member with username and password, or anyone with an API token), and
signing out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from monitoring.stores.access import AuthenticationFailed, session_sign_in, session_sign_in_member

from monitoring.web.pages.common import render


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Members open their pages in a browser by signing in with their username and
    password, or with an API token."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
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


@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST /sign-out/ (Django's CSRF token, from the header's form): forgets the signed-in
    token (and any admin login) by flushing the session."""
    request.session.flush()
    if hasattr(request, "user"):
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    return HttpResponseRedirect(reverse("sign-in"))

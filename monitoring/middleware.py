from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from monitoring.access import AuthenticationFailed, request_access

# Everything that shows store data needs an Access; the signed download link is its own
# credential, and the admin has Django's session login.
PROTECTED_PREFIXES = ("/graphql/", "/trigger_report/", "/get_report/", "/store/", "/stores/", "/reports/")
OPEN_PREFIXES = ("/reports/download/",)
PAGE_PREFIXES = ("/stores/", "/reports/")


def _wants_html(request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


class ApiAccessMiddleware:
    """Sets request.access for protected paths, or answers 401 with a JSON error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (path == "/" or path.startswith(PROTECTED_PREFIXES)) and not path.startswith(OPEN_PREFIXES):
            if path == "/graphql/" and request.method == "GET" and "query" not in request.GET and _wants_html(request):
                return self.get_response(request)  # the GraphiQL page itself: it sends the token per request
            try:
                request.access = request_access(request)
            except AuthenticationFailed as error:
                if (path == "/" or path.startswith(PAGE_PREFIXES)) and _wants_html(request):
                    return HttpResponseRedirect(f"{reverse('sign-in')}?{urlencode({'next': path})}")
                response = JsonResponse({"error": str(error)}, status=401)
                response["WWW-Authenticate"] = 'Bearer realm="store-uptime"'
                return response
        return self.get_response(request)

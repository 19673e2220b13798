"""An HTTP client that keeps cookies and posts forms as a browser would, for tests
against a live server."""

import http.client
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TRIGGER = "mutation { triggerReport { id status } }"


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """An HTTP client with a cookie jar, as a browser would keep one for the site."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if isinstance(body, str):
            body = body.encode()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        connection.close()
        return response

    def form_token(self, path: str) -> str:
        response = self.request("GET", path)
        assert response.status == 200, response.body[:300]
        return CSRF_FIELD.search(response.body.decode()).group(1)

    def post_form(self, path: str, fields: dict, headers: dict | None = None):
        return self.request(
            "POST",
            path,
            urlencode(fields),
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin, **(headers or {})},
        )


def json_of(response) -> dict:
    return json.loads(response.body)


def state_changing_requests(store_id: str):
    """(name, method, path, body, headers) of every request that changes state."""
    yield "POST /trigger_report/ text/plain", "POST", "/trigger_report/", "{}", {"Content-Type": "text/plain"}
    yield (
        "POST /trigger_report/ form",
        "POST",
        "/trigger_report/",
        "as_of=2023-01-25T18%3A13%3A22Z",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    yield "POST /store/<id>/trigger_report/", "POST", f"/store/{store_id}/trigger_report/", "", {}
    yield "GET /store/<id>/trigger_report/", "GET", f"/store/{store_id}/trigger_report/", None, {}
    yield (
        "POST /graphql/ triggerReport",
        "POST",
        "/graphql/",
        json.dumps({"query": TRIGGER}),
        {"Content-Type": "application/json"},
    )


def assert_served(name: str, response) -> None:
    assert response.status == 200, (name, response.status, response.body[:300])
    payload = json_of(response)
    assert "report_id" in payload or payload.get("data", {}).get("triggerReport", {}).get("id"), (name, payload)

"""GraphQL requests as the tests send them, and the one HTTP request to a live server they
build on.

`graphql` sends one document through Django's test client (the real middleware, views
and schema) as a given caller, and returns the parsed answer:

- anonymous: no token, on a client that has not signed in;
- an owner or staff: `token=` their bearer token;
- a signed-in browser: a client that has signed in (`client.force_login`, or /sign-in/
  with its CSRF token), and no token.

`graphql_over_http` does the same against a real server (pytest-django's live_server,
or a web server a test started), for tests that cross process boundaries."""

import json
import urllib.error
import urllib.request

ENDPOINT = "/graphql/"


def graphql_response(
    client,
    query: str,
    variables: dict | None = None,
    *,
    token: str | None = None,
    headers: dict | None = None,
    operation_name: str | None = None,
):
    """The HTTP response to `query` (with `variables`) POSTed to /graphql/ as the caller:
    for the tests that read its headers (Retry-After, caching)."""
    body = {"query": query, "variables": variables or {}}
    if operation_name is not None:
        body["operationName"] = operation_name
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return client.post(ENDPOINT, json.dumps(body), content_type="application/json", headers=sent)


def graphql(
    client,
    query: str,
    variables: dict | None = None,
    *,
    token: str | None = None,
    headers: dict | None = None,
    operation_name: str | None = None,
    status: int | None = 200,
) -> dict:
    """POST `query` (with `variables`) to /graphql/ as the caller and return the JSON answer.
    `status`: the HTTP status expected (None: any, as long as it is below 500)."""
    response = graphql_response(
        client, query, variables, token=token, headers=headers, operation_name=operation_name
    )
    if status is None:
        assert response.status_code < 500, response.content[:300]
    else:
        assert response.status_code == status, (response.status_code, response.content[:300])
    return response.json()


def live_request(
    url: str, *, token: str | None = None, body: dict | None = None, accept: str = "application/json", headers: dict | None = None
):
    """(status, headers, body text) of one real HTTP request to a live server: a GET, or a
    POST of `body` as JSON; `headers` added to the request's own."""
    headers = {"Accept": accept, **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def graphql_over_http(base_url: str, query: str, variables: dict | None = None, *, token: str | None = None) -> dict:
    """The `data` of a GraphQL request to the server at `base_url`, which must answer 200
    without errors."""
    status, _, text = live_request(f"{base_url}{ENDPOINT}", token=token, body={"query": query, "variables": variables or {}})
    assert status == 200, text
    answer = json.loads(text)
    assert "errors" not in answer, answer
    return answer["data"]

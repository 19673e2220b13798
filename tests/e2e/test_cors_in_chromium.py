"""A browser app on another origin (docs/rules.md §14), in headless Chromium: a page
served by a small HTTP server on another port calls the API (a real `runserver`, anonymous
access off, CORS_ALLOWED_ORIGINS naming that page's origin) with fetch() and a bearer
token: the preflight passes without a token, the POSTed query answers, a GET answers
with an ETag the page can read, and sending it back answers 304. The same page served
from an origin not in the list is blocked by the browser, and the API never sees its
request. Skipped when Chromium is not installed."""

import json
import os
import subprocess
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from monitoring.models import Owner
from monitoring.stores.access import token_create
from monitoring.tools.processes import stop_process_group

from tests.chromium import HEADLESS_FLAGS
from tests.factories import make_store
from tests.processes import free_port, running_web_server, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>another origin</title></head><body><pre id="result">running</pre>
<script>
const API = %(api)s, TOKEN = %(token)s;
const QUERY = "query { stores(pagination: {limit: 5}) { totalCount results { id } } }";
async function run() {
  const result = {};
  try {
    const auth = {"Authorization": "Bearer " + TOKEN};
    const posted = await fetch(API + "/graphql/", {
      method: "POST", headers: {...auth, "Content-Type": "application/json"}, body: JSON.stringify({query: QUERY}),
    });
    result.post = {status: posted.status, body: await posted.json()};
    const url = API + "/graphql/?query=" + encodeURIComponent(QUERY);
    const first = await fetch(url, {headers: auth});
    result.etag = first.headers.get("ETag");
    result.get = await first.json();
    const again = await fetch(url, {headers: {...auth, "If-None-Match": result.etag}});
    result.again = {status: again.status, body: await again.text()};
  } catch (error) {
    result.error = String(error);
  }
  document.getElementById("result").textContent = JSON.stringify(result);
  await fetch("/result", {method: "POST", body: JSON.stringify(result)});
}
run();
</script></body></html>
"""


@contextmanager
def page_server(page: str):
    """Serves `page` at / on a port of its own; yields (origin, the results the page POSTs to /result)."""
    results: list[dict] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = page.encode()
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            results.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", results
    finally:
        server.shutdown()
        server.server_close()


def page_result(binary: str, tmp_path, origin: str, results: list[dict]) -> dict:
    """Opens `origin`'s page in headless Chromium until the page has sent its result."""
    profile = tmp_path / f"profile-{origin.rsplit(':', 1)[1]}"
    profile.mkdir()
    browser = subprocess.Popen(
        [binary, *HEADLESS_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", f"{origin}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "HOME": str(tmp_path)}, cwd=tmp_path,
    )
    try:
        wait_for(lambda: results, timeout=60, what=f"the page at {origin} to send its result")
    finally:
        stop_process_group(browser)
    return results[0]


def test_a_page_on_an_allowed_origin_calls_the_api_and_another_is_blocked(chromium, tmp_path):
    owner = Owner.objects.create(name="app")
    store = make_store("app-store")
    store.owner = owner
    store.save()
    make_store("someone-elses")
    _, token = token_create(name="browser app", owner=owner)
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    page = PAGE % {"api": json.dumps(api), "token": json.dumps(token)}
    log = tmp_path / "web.log"
    with page_server(page) as (allowed, allowed_results), page_server(page) as (other, other_results):
        env = {"CORS_ALLOWED_ORIGINS": allowed, "API_ANONYMOUS_ACCESS": "0"}
        with running_web_server(log, api_port, **env):
            result = page_result(chromium, tmp_path, allowed, allowed_results)
            assert "error" not in result, result
            expected = {"data": {"stores": {"totalCount": 1, "results": [{"id": "app-store"}]}}}
            assert result["post"]["status"] == 200 and result["post"]["body"]["data"] == expected["data"]
            assert result["get"]["data"] == expected["data"]
            assert result["etag"] and result["etag"].startswith('"')  # exposed to the page
            assert result["again"] == {"status": 304, "body": ""}
            served = log.read_text()

            blocked = page_result(chromium, tmp_path, other, other_results)
            assert set(blocked) == {"error"} and "Failed to fetch" in blocked["error"], blocked
            after = log.read_text()
    # The preflights were answered without a token; the blocked page's query never reached the API.
    assert "OPTIONS /graphql/" in served and "401" not in served, served
    assert after.count("POST /graphql/") == served.count("POST /graphql/") == 1, after

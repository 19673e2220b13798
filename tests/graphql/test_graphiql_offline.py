"""GraphiQL at /graphql/ works with no network: its scripts and styles are this
server's static files (graphql_schema/static/graphiql/), not a CDN's.

Headless Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
stdlib only, no websocket client) with every host but this machine unreachable: names
resolve to nothing and anything else goes to a proxy that is not there. The test runs a
query with GraphiQL's own run button and reads the result editor, opens the docs
explorer and the history, and checks that the headers editor's `Authorization: Bearer`
reaches the API, that the CSRF cookie is sent as X-CSRFToken (as strawberry's page does),
that nothing left this machine and that the page's Content-Security-Policy refused
nothing. Those two tests are skipped when Chromium is not installed; the others check
the page's HTML and that WhiteNoise serves its files."""

import base64
import fcntl
import hashlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from monitoring.models import Owner
from monitoring.stores.access import token_create

from tests.chromium import HEADLESS_FLAGS
from tests.factories import make_store, worked_example_store
from tests.graphql_client import graphql_over_http
from tests.processes import free_port, running_web_server

STATIC_GRAPHIQL = Path(__file__).resolve().parents[2] / "graphql_schema" / "static" / "graphiql"
# Every name but this machine's resolves to nothing; what is not loopback goes to a dead proxy.
NETWORK_OFF = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9",
)
# Records what the page's Content-Security-Policy refuses (DevTools scripts are exempt).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""
RESULT_TEXT = """(() => {
  const editor = document.querySelector(".result-window .CodeMirror");
  return editor && editor.CodeMirror ? editor.CodeMirror.getValue() : "";
})()"""
TIMEOUT = 30


class DevTools:
    """A Chromium driven over --remote-debugging-pipe: JSON messages ending in NUL on
    the browser's fd 3 (commands in) and fd 4 (answers and events out)."""

    def __init__(self, binary: str, tmp_path: Path, *flags: str):
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Above 4, so that moving them to 3 and 4 in the child never overwrites one with the other.
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)
        profile = tmp_path / "devtools-profile"
        profile.mkdir(exist_ok=True)
        self.log_path = tmp_path / "chromium.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"import os, sys; os.dup2({child_in}, 3); os.dup2({child_out}, 4); "
                    f"os.close({child_in}); os.close({child_out}); os.execv(sys.argv[1], sys.argv[1:])",
                    binary,
                    *HEADLESS_FLAGS,
                    "--remote-debugging-pipe",
                    f"--user-data-dir={profile}",
                    "--window-size=1400,900",
                    *flags,
                    "about:blank",
                ],
                pass_fds=(child_in, child_out),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "HOME": str(tmp_path)},
                cwd=tmp_path,
                start_new_session=True,
            )
        os.close(child_in)
        os.close(child_out)
        self._out = os.fdopen(to_browser_w, "wb", buffering=0)
        self._in = os.fdopen(from_browser_r, "rb", buffering=0)
        self._answers: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        pending = b""
        while chunk := self._in.read(65536):
            pending += chunk
            *messages, pending = pending.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        answer = self._answers.get(message["id"])
                    if answer is not None:
                        answer.put(message)
                else:
                    self.events.append(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            answer: queue.Queue = queue.Queue()
            self._answers[message_id] = answer
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        try:
            reply = answer.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"Chromium did not answer {method}; its log:\n{self.log()}") from None
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        try:
            self._out.write(json.dumps({"id": 0, "method": "Browser.close", "params": {}}).encode() + b"\0")
        except OSError:  # already gone
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # the browser and its helpers: the group we started
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        finally:
            self._out.close()
            self._reader.join(timeout=5)
            self._in.close()


class Page:
    """One tab, attached with a flat session."""

    def __init__(self, browser: DevTools):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, session=self.session)

    def events(self, method: str) -> list[dict]:
        return [e["params"] for e in self.browser.events if e.get("sessionId") == self.session and e["method"] == method]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        body = self.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
        raise AssertionError(f"timed out waiting for {what}; the page shows:\n{body}\n{self.problems()}")

    def click(self, selector: str) -> None:
        """Clicks the first element at `selector`, once there is one."""
        script = f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e && e.click(); return !!e; }})()"
        self.wait_for(script, f"something to click at {selector}")

    def requests(self) -> list[dict]:
        return [e["request"] | {"requestId": e["requestId"]} for e in self.events("Network.requestWillBeSent")]

    def problems(self) -> str:
        exceptions = [e["exceptionDetails"].get("exception", {}).get("description") or e["exceptionDetails"]["text"]
                      for e in self.events("Runtime.exceptionThrown")]
        failed = [(e["requestId"], e.get("errorText")) for e in self.events("Network.loadingFailed")]
        logs = [e["entry"]["text"] for e in self.events("Log.entryAdded") if e["entry"]["level"] == "error"]
        requests = [f"{r['method']} {r['url'][:100]}" for r in self.requests()]
        console = [[a.get("value", a.get("description")) for a in e["args"]] for e in self.events("Runtime.consoleAPICalled")]
        return (
            f"exceptions: {exceptions}\nfailed loads: {failed}\nerror log: {logs}\nrequests: {requests}\n"
            f"console: {console}\nCSP violations: {self.evaluate('window.__cspViolations')}"
        )

    def run_query(self) -> dict:
        """Presses GraphiQL's run button; the JSON its result editor then shows. GraphiQL
        makes its editors after the button: a press before that does nothing (the button
        then still says "Execute" and no result comes), and is made again."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            self.click(".graphiql-execute-button")
            try:
                return json.loads(self.wait_for(RESULT_TEXT, "a result in GraphiQL's result editor", timeout=1))
            except AssertionError:
                idle = "document.querySelector('.graphiql-execute-button').ariaLabel.startsWith('Execute')"
                if not self.evaluate(idle):  # running: wait for it
                    return json.loads(self.wait_for(RESULT_TEXT, "a result in GraphiQL's result editor"))
        raise AssertionError(f"GraphiQL ran no query\n{self.problems()}")


@pytest.fixture
def browser(chromium, tmp_path):
    devtools = DevTools(chromium, tmp_path, *NETWORK_OFF)
    try:
        yield devtools
    finally:
        devtools.close()


def graphiql_url(base: str, **parameters: str) -> str:
    return f"{base}/graphql/?{urlencode(parameters, quote_via=quote)}"


def assert_only_this_server(page: Page, base: str) -> None:
    origin = urlsplit(base)
    for request in page.requests():
        url = urlsplit(request["url"])
        assert url.scheme == "data" or (url.scheme, url.netloc) == (origin.scheme, origin.netloc), request["url"]
    assert not page.events("Network.loadingFailed"), page.problems()
    assert not page.events("Runtime.exceptionThrown"), page.problems()
    assert page.evaluate("window.__cspViolations") == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_graphiql_runs_a_query_with_the_network_off(browser, live_server, settings):
    settings.API_ANONYMOUS_ACCESS = True
    worked_example_store("offline-1")
    worked_example_store("offline-2")
    page = Page(browser)
    # GraphiQL's CSRF behaviour (strawberry's): the csrftoken cookie goes out as X-CSRFToken.
    host = urlsplit(live_server.url).hostname
    page.send("Network.setCookie", {"name": "csrftoken", "value": "c" * 32, "domain": host, "path": "/"})

    # The network really is off for anything but this machine.
    page.send("Page.navigate", {"url": "https://unpkg.com/react@18.2.0/umd/react.production.min.js"})
    page.wait_for("document.readyState === 'complete'", "the error page")
    assert page.events("Network.loadingFailed"), "unpkg.com was reachable: the network is not off"
    browser.events.clear()

    query = "query Offline { stores { totalCount results { id } } }"
    page.send("Page.navigate", {"url": graphiql_url(live_server.url, q=query)})
    result = page.run_query()
    assert result["data"] == {"stores": {"totalCount": 2, "results": [{"id": "offline-1"}, {"id": "offline-2"}]}}
    posts = [r for r in page.requests() if r["method"] == "POST" and r["url"].startswith(f"{live_server.url}/graphql/")]
    assert posts, "GraphiQL sent no query"
    assert all(r["headers"].get("x-csrftoken") == "c" * 32 for r in posts), posts[-1]["headers"]

    # The docs explorer shows the schema GraphiQL read by introspection (same origin).
    page.click("button[aria-label='Show Documentation Explorer']")
    page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name")  # query: Query
    page.wait_for("(document.querySelector('.graphiql-doc-explorer') || {}).innerText?.includes('stores')",
                  "the docs explorer to list the root fields")
    # The history keeps the query just run.
    page.click("button[aria-label='Show History']")
    page.wait_for("(document.querySelector('.graphiql-history') || {}).innerText?.includes('Offline')",
                  "the history to list the query")
    # A dialog (they add <style> elements: the CSP allows inline styles, not scripts).
    page.click("button[aria-label='Open settings dialog']")
    page.wait_for("!!document.querySelector('[role=dialog]')", "the settings dialog")
    # And the query explorer plugin is there.
    assert page.evaluate("!!document.querySelector(\"button[aria-label='Show GraphiQL Explorer']\")")
    assert_only_this_server(page, live_server.url)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_graphiql_headers_editor_sends_the_bearer_token(browser, live_server, settings):
    settings.API_ANONYMOUS_ACCESS = False  # the token is the only way in
    owner = Owner.objects.create(name="graphiql")
    mine, _ = worked_example_store("mine")
    mine.owner = owner
    mine.save()
    worked_example_store("not-mine")
    token = token_create(name="graphiql", owner=owner)[1]

    page = Page(browser)
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    page.send("Page.navigate", {"url": graphiql_url(live_server.url, q="{ stores { results { id } } }", headers=headers)})
    assert page.run_query()["data"] == {"stores": {"results": [{"id": "mine"}]}}
    sent = [r["headers"].get("Authorization") for r in page.requests() if r["method"] == "POST"]
    assert sent and set(sent) == {f"Bearer {token}"}
    assert_only_this_server(page, live_server.url)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_graphiql_runs_a_subscription(browser, tmp_path):
    """On the web server of `make run` (HTTP and WebSocket): GraphiQL runs storeEvents over
    graphql-transport-ws, its headers editor's token going in connection_init, and shows
    the events of a live poll as they come."""
    owner = Owner.objects.create(name="graphiql")
    store = make_store("live-1")  # open 24×7
    store.owner = owner
    store.save()
    token = token_create(name="graphiql", owner=owner)[1]
    record = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded } }"""
    with running_web_server(tmp_path / "web.log", free_port(), API_ANONYMOUS_ACCESS="0") as base:
        page = Page(browser)
        headers = json.dumps({"Authorization": f"Bearer {token}"})
        subscription = "subscription Live { storeEvents { event storeId } }"
        page.send("Page.navigate", {"url": graphiql_url(base, q=subscription, headers=headers)})
        page.wait_for("!!document.querySelector('.result-window .CodeMirror')", "GraphiQL's editors")
        page.click(".graphiql-execute-button")
        # Polls until one is told (the subscription starts after GraphiQL's socket opens).
        start = timezone.now() - timedelta(minutes=30)
        for step in range(30):
            polls = [{"storeId": "live-1", "timestampUtc": (start + timedelta(seconds=step)).isoformat(),
                      "status": "inactive" if step % 2 == 0 else "active"}]
            graphql_over_http(base, record, token=token, variables={"polls": polls})
            time.sleep(0.3)
            if "STORE_" in page.evaluate(RESULT_TEXT):
                break
        shown = json.loads(page.wait_for(RESULT_TEXT, "an event in the result editor"))
        assert shown["data"]["storeEvents"]["storeId"] == "live-1"
        assert shown["data"]["storeEvents"]["event"] in ("STORE_DOWN", "STORE_UP")
        sockets = [e["url"] for e in page.events("Network.webSocketCreated")]
        assert sockets == [f"{base.replace('http://', 'ws://')}/graphql/"], sockets
        assert_only_this_server(page, base)


# No browser needed below: the page and how its files are served.


def page_html(client) -> tuple[str, object]:
    response = client.get("/graphql/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.content.decode(), response


@pytest.mark.django_db
def test_graphiql_page_loads_nothing_from_elsewhere(client):
    html, response = page_html(client)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "a file from another site"
    assert "unpkg" not in html and "jsdelivr" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script (the CSP forbids it)"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_graphiql_files_are_served_by_whitenoise_and_match_their_hashes(client):
    """Through the middleware stack (no test static handler): WhiteNoise serves every file
    the page names, byte for byte the npm files whose sha384 strawberry's page pinned."""
    html, _ = page_html(client)
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)"(?:\s+integrity="([^"]+)")?""", html)
    assert len(assets) == 8, assets  # 3 stylesheets, 5 scripts
    for url, integrity in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert type(response).__name__ == "WhiteNoiseFileResponse", url
        body = b"".join(response.streaming_content)
        assert body == Path(finders.find(url.removeprefix("/static/"))).read_bytes()
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        assert response["Content-Type"].startswith(kind), (url, response["Content-Type"])
        if "/graphiql/page." in url:  # ours: short cache, no integrity pinned
            assert not integrity and "immutable" not in response["Cache-Control"]
        else:  # vendored, in a folder named by version: pinned and kept for good
            digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
            assert integrity == f"sha384-{digest}", url
            assert "immutable" in response["Cache-Control"], url
    # Every vendored file has its licence beside it.
    for folder in STATIC_GRAPHIQL.iterdir():
        if folder.is_dir():
            assert (folder / "LICENSE").is_file(), folder

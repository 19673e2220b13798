"""Acknowledging an open incident from the store page in headless Chromium, driven over
the DevTools protocol: sign in with a token at /sign-in/, open the store page, type a
note and press Acknowledge; after the redirect the page shows who acknowledged it and
the note (the form carried Django's CSRF token, as a browser sends it)."""

import json
import subprocess
import time
import urllib.request
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone
from websockets.sync.client import connect

from monitoring.alerts.models import Incident
from monitoring.models import Owner
from monitoring.stores.access import token_create
from monitoring.tools.processes import stop_process_group

from tests.chromium import HEADLESS_FLAGS
from tests.factories import make_store
from tests.processes import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class DevTools:
    """One page of a running Chromium, over its DevTools WebSocket."""

    def __init__(self, socket) -> None:
        self._socket = socket
        self._ids = count(1)

    def call(self, method: str, **params):
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self._socket.recv(timeout=30))
            if answer.get("id") == message_id:
                assert "error" not in answer, answer
                return answer["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for_page(self, path: str) -> None:
        """Until the page at `path` has loaded."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.evaluate(f"location.pathname === {json.dumps(path)} && document.readyState === 'complete'"):
                return
            time.sleep(0.1)
        raise AssertionError(f"{path} did not load: at {self.evaluate('location.href')}")


def test_an_operator_acknowledges_the_open_incident_in_chromium(chromium, live_server, tmp_path):
    alice = Owner.objects.create(name="alice")
    store = make_store("kitchen-7")
    store.owner = alice
    store.save()
    incident = Incident.objects.create(store=store, started_at=timezone.now() - timedelta(minutes=12))
    raw = token_create(name="night desk", owner=alice, role="OPERATOR")[1]

    port = free_port()
    profile = tmp_path / "profile"
    browser = subprocess.Popen(
        [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    try:
        wait_for(lambda: _pages(port), timeout=30)
        with connect(_pages(port)[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as socket:
            page = DevTools(socket)
            page.call("Page.enable")
            page.call("Page.navigate", url=f"{live_server.url}/sign-in/?next=/stores/kitchen-7/")
            page.wait_for_page("/sign-in/")
            page.evaluate(
                f"document.querySelector('input[name=token]').value = {json.dumps(raw)};"
                "document.querySelector('input[name=token]').form.querySelector('button').click()"
            )
            page.wait_for_page("/stores/kitchen-7/")
            assert page.evaluate("!!document.getElementById('acknowledge-incident')")
            page.evaluate(
                "document.querySelector('#acknowledge-incident input[name=note]').value = 'rider called, tablet rebooting';"
                "document.querySelector('#acknowledge-incident button[value=acknowledge]').click()"
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not page.evaluate("!!document.querySelector('#open-incident .acknowledged')"):
                time.sleep(0.1)
            shown = page.evaluate("document.getElementById('open-incident').innerText")
            assert "acknowledged by token night desk (alice)" in shown and "rider called, tablet rebooting" in shown, shown
            assert page.evaluate("location.pathname + location.hash") == "/stores/kitchen-7/#open-incident"
            assert not page.evaluate("!!document.getElementById('acknowledge-incident')")
    finally:
        stop_process_group(browser)
    incident.refresh_from_db()
    assert incident.acknowledged_by == "token night desk (alice)"
    assert [note.text for note in incident.notes.all()] == ["rider called, tablet rebooting"]


def _pages(port: int) -> list[dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:
            return [target for target in json.loads(answer.read()) if target["type"] == "page"]
    except OSError:
        return []

"""A local HTTP receiver for webhook tests: records every request; `/ok...` answers 204,
`/fail...` 500, `/slow...` 204 one byte every SLOW_BYTE_SECONDS (the status line itself:
a client's per-read timeout never fires, only a limit on the whole try stops it)."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


SLOW_BYTE_SECONDS = 3.0


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.slow_open = 0  # slow answers being written now
        self._lock = threading.Lock()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body, time.time()))
                if self.path.startswith("/slow"):
                    self._trickle(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    return
                self.send_response(500 if self.path.startswith("/fail") else 204)
                self.end_headers()

            def _trickle(self, answer: bytes):
                with receiver._lock:
                    receiver.slow_open += 1
                try:
                    for byte in answer:
                        if receiver._closing.wait(SLOW_BYTE_SECONDS):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    pass  # the client gave up
                finally:
                    with receiver._lock:
                        receiver.slow_open -= 1
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

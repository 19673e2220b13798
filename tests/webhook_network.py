"""A small network for webhook delivery tests: raw TCP receivers that answer as slowly
as asked (optionally over TLS, recording the SNI name), a self-signed certificate, and
a name resolver that answers one address to the first lookup and another to the rest
(DNS rebinding), with public addresses routed to local receivers so nothing leaves the
machine."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: The status line and header a drip receiver writes, a byte at a time.
NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


def answer_at_once(data: bytes = NO_CONTENT):
    def respond(conn: socket.socket) -> None:
        conn.sendall(data)

    return respond


def answer_a_byte_every(seconds: float, data: bytes = NO_CONTENT):
    """A receiver that takes its time: one byte of the answer every `seconds`."""

    def respond(conn: socket.socket) -> None:
        for index in range(len(data)):
            time.sleep(seconds)
            conn.sendall(data[index : index + 1])

    return respond


@dataclass
class Request:
    head: str
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


@dataclass
class TcpReceiver:
    """Accepts connections on `host` (port 0: any free one); each in a thread of its own
    reads one request and calls `respond`. `tls`: a server SSLContext."""

    respond: object = field(default_factory=answer_at_once)
    host: str = "127.0.0.1"
    port: int = 0
    tls: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    def __enter__(self) -> "TcpReceiver":
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server((self.host, self.port))
        self._listener.settimeout(0.1)  # a blocked accept() would not notice the stop
        self.port = self._listener.getsockname()[1]
        if self.tls is not None:
            self.tls.sni_callback = lambda sslobj, name, context: self.server_names.append(name)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            request = Request(head.decode("latin-1"), body)
            length = int(request.header("Content-Length") or 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                body += chunk
            with self._lock:
                self.requests.append(Request(request.head, body))
            self.respond(conn)
        except OSError:
            pass  # the client gave up (its deadline), or the handshake failed
        finally:
            conn.close()


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for DNS name `name` (its own CA) and its key."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
            "-addext", f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class LocalNetwork:
    """Installed over socket.getaddrinfo and socket.create_connection (monkeypatch):
    `answers[name]` is a list of address lists, the first for the first lookup of the
    name, the last for every later one; `routes` maps a (public) address to the local
    address that plays it; a connection to any other address that is not loopback is
    refused at once, so nothing leaves the machine."""

    def __init__(self, monkeypatch, *, answers: dict[str, list[list[str]]], routes: dict[str, str] | None = None,
                 slow: dict[str, float] | None = None):
        self.answers, self.routes, self.slow = answers, routes or {}, slow or {}
        self.lookups: list[str] = []
        self.connected: list[str] = []
        self._getaddrinfo, self._create_connection = socket.getaddrinfo, socket.create_connection
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", self.create_connection)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host in self.slow:
            self.lookups.append(host)
            time.sleep(self.slow[host])
        if host not in self.answers:
            return self._getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        seen = self.lookups.count(host)
        addresses = self.answers[host][min(seen, len(self.answers[host])) - 1]
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
             (address, int(port or 0)) if ":" not in address else (address, int(port or 0), 0, 0))
            for address in addresses
        ]

    def create_connection(self, address, *args, **kwargs):
        host, port = address[0], address[1]
        try:
            literal = socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host) and host
        except OSError:
            literal = None  # a name: resolved by getaddrinfo above, as the real one does
        if literal is not None:
            self.connected.append(host)
            if host in self.routes:
                host = self.routes[host]
            elif not (host.startswith("127.") or host == "::1"):
                raise ConnectionRefusedError(f"no route to {host} in the test network")
        return self._create_connection((host, port), *args, **kwargs)

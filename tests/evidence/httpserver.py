"""A real HTTP server on 127.0.0.1 for fetch tests, and the `web` fixture that runs one.

Use it from a test module with `from tests.evidence.httpserver import web  # noqa: F401`, or
through tests/evidence/conftest.py. The fixture allows loopback in FETCH_ALLOW_NETWORKS, starts
the server on a free port with the built-in routes below, and stops it after the test.
`no_network` makes any name lookup or connection fail the test, to show a URL was refused
before the network.

    def test_something(web):
        web.route("/extra", 200, [("Content-Type", "text/plain")], b"hi")
        web.route("/custom", lambda request: request.respond(418, [], b"teapot"))
        fetch(web.url("/company"), ...)
        assert web.requests[0].path == "/company"

Built-in routes: /company (HTML, Cyrillic, a link), /contacts, /redirect/1 -> 2 -> 3 -> /company
(301, 302, 302: absolute-path, relative and absolute Locations), /to-metadata (302 to
169.254.169.254), /to-loopback (302 to 127.0.0.2 on this port), /loop (redirects to itself),
/slow (headers, then a byte every 0.2 s), /stall (no answer at all), /huge (50 MB),
/gzip (gzip-encoded HTML), /report.pdf, /missing (404), /unavailable (503), /cut (closes the
connection a hundred bytes into a 10 000 byte body), /empty (200, no body).
"""

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

Headers = list[tuple[str, str]]
Handler = Callable[["Request"], None]

COMPANY_HTML = """<!doctype html>
<html lang="uk">
<head><meta charset="utf-8"><title>ТОВ «Степ Агро Трейд» — про компанію</title></head>
<body>
<h1>ТОВ «Степ Агро Трейд»</h1>
<p>Експорт зерна з 2014 року. Директор: Олена Коваленко. Київ, вул. Хрещатик, 22.</p>
<p><a href="/contacts">Контакти</a></p>
</body>
</html>
""".encode()

CONTACTS_HTML = """<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><title>Контакти</title></head>
<body><p>info@step-agro.example</p></body></html>
""".encode()

MISSING_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>404</title></head>
<body><p>Сторінку не знайдено</p></body></html>
""".encode()

HUGE_SIZE = 50 * 1024 * 1024
SLOW_SIZE = 1000
CUT_DECLARED, CUT_SENT = 10_000, 100

HTML = [("Content-Type", "text/html; charset=utf-8")]


def small_pdf() -> bytes:
    """A valid one-page PDF, with the binary comment line real PDFs start with."""
    text = b"BT /F1 24 Tf 72 760 Td (Annual report 2024) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@dataclass
class Received:
    method: str
    path: str
    headers: Headers


class Request(BaseHTTPRequestHandler):
    """One request; route handlers answer through respond() or by writing to wfile."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the client's
    # delayed ACK would add 40 ms to every response.
    disable_nagle_algorithm = True
    server: "_Server"

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.requests.append(Received(self.command, self.path, list(self.headers.items())))
        route = owner.routes.get(self.path) or owner.routes.get(self.path.partition("?")[0])
        if route is None:
            self.respond(404, [("Content-Type", "text/plain")], b"no such route")
        elif callable(route):
            route(self)
        else:
            self.respond(*route)

    def respond(self, status: int, headers: Headers, body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stopping

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: "LoopbackServer"

    def process_request(self, request: object, client_address: object) -> None:
        self.owner.connections += 1
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up on purpose here (size caps, timeouts)


class LoopbackServer:
    """An HTTP(S) server in a background thread, with a route table you can add to."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, tuple[int, Headers, bytes] | Handler] = {}
        self.requests: list[Received] = []
        self.connections = 0
        # How much of /huge went out before the client hung up, set when the handler ends.
        self.huge_sent = 0
        self.huge_done = threading.Event()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), Request)
        self._server.owner = self
        if ssl_context is not None:
            # The handshake happens in the request thread, so a client that gives up on the
            # certificate does not block the accept loop.
            self._server.socket = ssl_context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.scheme = "https" if ssl_context is not None else "http"
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def route(
        self,
        path: str,
        status_or_handler: int | Handler,
        headers: Headers | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer `path` with (status, headers, body), or hand the request to a callable."""
        if callable(status_or_handler):
            self.routes[path] = status_or_handler
        else:
            self.routes[path] = (status_or_handler, headers or [], body)

    def add_builtin_routes(self) -> None:
        self.route("/company", 200, HTML, COMPANY_HTML)
        self.route("/contacts", 200, HTML, CONTACTS_HTML)
        self.route("/redirect/1", 301, [("Location", "/redirect/2")])
        self.route("/redirect/2", 302, [("Location", "3")])
        self.route("/redirect/3", 302, [("Location", self.url("/company"))])
        self.route("/to-metadata", 302, [("Location", "http://169.254.169.254/latest/meta-data/")])
        self.route("/to-loopback", 302, [("Location", self.url("/company", host="127.0.0.2"))])
        self.route("/loop", 302, [("Location", "/loop")])
        self.route("/slow", _slow)
        self.route("/stall", _stall)
        self.route("/huge", _huge)
        gzipped = gzip.compress(COMPANY_HTML)
        self.route("/gzip", 200, [*HTML, ("Content-Encoding", "gzip")], gzipped)
        self.route("/report.pdf", 200, [("Content-Type", "application/pdf")], small_pdf())
        self.route("/missing", 404, HTML, MISSING_HTML)
        self.route("/unavailable", 503, [("Retry-After", "1"), *HTML], b"<p>maintenance</p>")
        self.route("/cut", _cut)
        self.route("/empty", 200, [("Content-Type", "text/plain")], b"")


def _slow(request: Request) -> None:
    """Send the headers at once, then drip the body a byte at a time."""
    request.send_response(200)
    request.send_header("Content-Type", "text/plain")
    request.send_header("Content-Length", str(SLOW_SIZE))
    request.end_headers()
    request.wfile.flush()
    for _ in range(SLOW_SIZE):
        if request.stopping.wait(0.2):
            return
        request.wfile.write(b".")
        request.wfile.flush()


def _stall(request: Request) -> None:
    """Read the request and never answer it."""
    request.stopping.wait(30)
    request.close_connection = True


def _huge(request: Request) -> None:
    """50 MB in 64 KiB writes; stops as soon as the client hangs up."""
    request.send_response(200)
    request.send_header("Content-Type", "application/octet-stream")
    request.send_header("Content-Length", str(HUGE_SIZE))
    request.end_headers()
    chunk = b"\x00" * 65536
    owner = request.server.owner
    try:
        for _ in range(HUGE_SIZE // len(chunk)):
            if request.stopping.is_set():
                return
            request.wfile.write(chunk)
            owner.huge_sent += len(chunk)
    finally:
        owner.huge_done.set()


def _cut(request: Request) -> None:
    """Promise 10 000 bytes, send a hundred, hang up."""
    request.send_response(200)
    request.send_header("Content-Type", "text/plain")
    request.send_header("Content-Length", str(CUT_DECLARED))
    request.end_headers()
    request.wfile.write(b"x" * CUT_SENT)
    request.wfile.flush()
    request.close_connection = True


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for casefile.test (and only that name), via openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=casefile.test",
            "-addext", "subjectAltName=DNS:casefile.test", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context for LoopbackServer(ssl_context=...)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def no_network(monkeypatch) -> None:
    """Fail the test if anything resolves a name or opens a connection."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)


@pytest.fixture
def web(settings) -> Iterator[LoopbackServer]:
    """A loopback HTTP server with the built-in routes, reachable through the SSRF guard."""
    settings.FETCH_ALLOW_NETWORKS = ["127.0.0.0/8", "::1/128"]
    server = LoopbackServer().start()
    server.add_builtin_routes()
    yield server
    server.stop()

"""Small servers to check a transport against, all on 127.0.0.1.

:func:`echo_app` is the echo service :class:`~amcards.testing.TransportSuite`
talks to.  It runs in memory (:class:`EchoTransport`) or over real sockets
(:class:`EchoServer`).  What it answers:

- ``/status/<code>`` answers with that status and ``{"status": code}``;
- ``/unicode`` answers :data:`UNICODE_TEXT` as UTF-8 ``text/plain``;
- ``/large?size=N`` answers N bytes of :func:`large_body`;
- a ``nonce`` query parameter is counted (:func:`echo_requests_seen`);
- every other path answers 200 with a JSON description of the request:
  ``method``, ``path``, ``query`` (a list of pairs), ``headers`` (names in
  lower case) and ``body_base64``; the header ``X-Echo-Method`` repeats
  the method.

:class:`ScriptedServer` runs a function per connection on a raw socket,
for servers that misbehave; :func:`never_answer`, :func:`hang_up`,
:func:`cut_body_short` and :func:`stall_body` are such functions.

Everything here uses the standard library only and listens on loopback.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from amcards.core.http import Request, Response, Timeout

__all__ = [
    "LARGE_DEFAULT",
    "UNICODE_TEXT",
    "EchoServer",
    "EchoTransport",
    "ScriptedServer",
    "cut_body_short",
    "echo_app",
    "echo_requests_seen",
    "hang_up",
    "large_body",
    "never_answer",
    "read_request_head",
    "stall_body",
    "unused_port",
]

#: Text in several scripts, with an emoji, that the echo service answers.
UNICODE_TEXT = "Grüße aus Köln, 東京からこんにちは, 🎉 ½ — ünïcödé"
#: How many bytes ``/large`` answers when no ``size`` is asked for.
LARGE_DEFAULT = 1024 * 1024


def large_body(size: int) -> bytes:
    """``size`` bytes of a pattern that shows where a body was cut."""
    pattern = bytes(range(256))
    whole, rest = divmod(size, len(pattern))
    return pattern * whole + pattern[:rest]


_seen: collections.Counter[str] = collections.Counter()
_seen_lock = threading.Lock()


def echo_requests_seen(nonce: str) -> int:
    """How many requests carrying ``?nonce=<nonce>`` the echo service has
    answered in this process, in memory or over sockets: a transport that
    repeats a request on its own shows up here."""
    with _seen_lock:
        return _seen[nonce]


def echo_app(request: Request) -> Response:
    """Answer ``request`` following the echo contract above."""
    for name, value in request.query:
        if name == "nonce":
            with _seen_lock:
                _seen[value] += 1
    if request.path.startswith("/status/"):
        status = int(request.path.rsplit("/", 1)[1])
        body = json.dumps({"status": status}).encode()
        return Response(status, [("Content-Type", "application/json")], body)
    if request.path == "/unicode":
        return Response(
            200,
            [("Content-Type", "text/plain; charset=utf-8")],
            UNICODE_TEXT.encode("utf-8"),
        )
    if request.path == "/large":
        size = int(dict(request.query).get("size", LARGE_DEFAULT))
        return Response(
            200,
            [("Content-Type", "application/octet-stream")],
            large_body(size),
        )
    description = {
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in request.query],
        "headers": {name.lower(): value for name, value in request.headers},
        "body_base64": base64.b64encode(request.body).decode("ascii"),
    }
    body = json.dumps(description, ensure_ascii=False).encode("utf-8")
    headers = [
        ("Content-Type", "application/json"),
        ("X-Echo-Method", request.method),
    ]
    return Response(200, headers, body)


class EchoTransport:
    """A transport that answers from :func:`echo_app`, with no sockets."""

    def __init__(self) -> None:
        self.closed = 0

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        """Answer ``request`` from :func:`echo_app`; the timeout is moot."""
        return echo_app(request)

    def close(self) -> None:
        """Count the call in ``closed``; there is nothing to release."""
        self.closed += 1

    def __enter__(self) -> EchoTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qsl(url.query, keep_blank_values=True),
            headers=list(self.headers.items()),
            body=self.rfile.read(length),
        )
        response = echo_app(request)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class EchoServer:
    """:func:`echo_app` over HTTP/1.1 on 127.0.0.1, in a thread.

    With ``tls`` (a server-side SSL context) it speaks HTTPS instead.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _EchoHandler)
        self._scheme = "http"
        if tls is not None:
            self._scheme = "https"
            self._server.socket = tls.wrap_socket(
                self._server.socket, server_side=True
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:<port>``, for a request's ``base_url``."""
        port = self._server.server_address[1]
        return f"{self._scheme}://127.0.0.1:{port}"

    def start(self) -> EchoServer:
        """Start serving in a background thread; returns the server."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EchoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def read_request_head(conn: socket.socket) -> bytes:
    """Read up to the blank line that ends a request's headers."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class ScriptedServer:
    """Accepts connections on 127.0.0.1 and runs ``script`` on each.

    A connection stays open until the script closes it (a server that
    never answers just returns); :meth:`stop` closes whatever is left.
    """

    def __init__(
        self,
        script: Callable[[socket.socket], None],
        *,
        backlog: int = 16,
    ) -> None:
        self._script = script
        self._listener = socket.create_server(
            ("127.0.0.1", 0), backlog=backlog
        )
        self._listener.settimeout(0.05)
        self._open: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.connections = 0

    @property
    def port(self) -> int:
        """The loopback port the server listens on."""
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, for a request's ``base_url``."""
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(5)
            self._open.append(conn)
            self.connections += 1
            threading.Thread(
                target=self._run, args=(conn,), daemon=True
            ).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._script(conn)

    def start(self) -> ScriptedServer:
        """Start accepting in a background thread; returns the server."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every connection still open."""
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for conn in self._open:
            conn.close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def never_answer(conn: socket.socket) -> None:
    """Read the request and keep the connection open without a word."""
    read_request_head(conn)


def hang_up(conn: socket.socket) -> None:
    """Read the request, then close the connection without answering."""
    read_request_head(conn)
    conn.close()


def cut_body_short(conn: socket.socket) -> None:
    """Promise 100 bytes of body, send 3, then close."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
    conn.close()


def stall_body(conn: socket.socket) -> None:
    """Send the status line and headers, then never the body."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nab")


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

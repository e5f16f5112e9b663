"""The fake service over real HTTP, on loopback only.

:class:`FakeServer` runs a threaded HTTP/1.1 server (connections are kept
alive) in a background thread and hands every request to a
:class:`~amcards.transports.fake.FakeAMcards`.  Requests under
``/__fake__/`` go to a small control API instead; it needs no bearer
token and answers only peers on the loopback interface.  A request body
larger than :data:`MAX_BODY` (10 MiB) is answered 413 without being read.
``HEAD``, ``OPTIONS`` and any method a route does not take get a 405
whose ``Allow`` header names the methods it does take.

Control API (JSON in, JSON out).  Request bodies are read as JSON
whatever their ``Content-Type`` says, so that ``curl -d '{...}'`` works
as typed; the AMcards endpoints themselves keep the real service's rule
and refuse a JSON body sent without ``Content-Type: application/json``.
Booleans must be JSON ``true`` or ``false``; a refused request is a 400
whose ``message`` names the field and what was expected:

``GET /__fake__/counters``
    Requests seen by method and path, cards created, credits per user,
    object counts.
``POST /__fake__/reset``
    Back to the starting state (the demo account when the service was
    made by ``FakeAMcards.demo()``), settings included;
    ``{"empty": true}`` empties it.
``POST /__fake__/seed``
    Add objects; see :meth:`FakeAMcards.seed`.  Answers the new ids.
``GET``, ``POST`` or ``DELETE /__fake__/faults``
    List, queue (one fault object or ``{"faults": [...]}``) or clear
    staged faults; see :mod:`amcards.transports.fake.faults`.
``POST /__fake__/mailings/process``
    Create the cards of mailings still PROCESSING.
``POST /__fake__/settings``
    ``{"hold_mailings": bool, "token_lifetime": seconds}`` (0 to a
    year); answers the settings now in force.
``GET /__fake__/objects/<kind>/``
    The stored wire objects of one kind (``?owner=<user id>``).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import logging
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from amcards.core.http import Request, Response
from amcards.transports.fake import wire
from amcards.transports.fake.demo import (
    DEMO_ACCESS_TOKEN,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
)
from amcards.transports.fake.faults import Fault
from amcards.transports.fake.service import KINDS, FakeAMcards
from amcards.transports.fake.transport import fault_response

__all__ = [
    "CONTROL_PREFIX",
    "MAX_BODY",
    "FakeServer",
    "add_arguments",
    "connection_settings",
    "main",
    "serve",
]

CONTROL_PREFIX = "/__fake__/"

_DROPS = ("drop_before", "drop_after")

SETTINGS = ("hold_mailings", "token_lifetime")

#: The largest request body the server reads, in bytes (10 MiB); a
#: longer one is answered 413 without being read.
MAX_BODY = 10 * 1024 * 1024

_TOO_LARGE = (
    f"body: too large; this server reads at most {MAX_BODY} bytes "
    f"({MAX_BODY // (1024 * 1024)} MiB)"
)

# A chunk size: hexadecimal digits only (int(..., 16) also takes "0x",
# "+" and "_").
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_MAX_LINE = 1024
_MAX_TRAILERS = 100
_PIECE = 64 * 1024

DEFAULT_PROG = "python -m amcards.transports.fake"

# The methods each control route takes (objects/<kind>/ takes GET).
_CONTROL_METHODS = {
    "counters": ("GET",),
    "reset": ("POST",),
    "seed": ("POST",),
    "faults": ("DELETE", "GET", "POST"),
    "mailings/process": ("POST",),
    "settings": ("POST",),
}

logger = logging.getLogger(__name__)


class FakeServer:
    """Serve a fake AMcards service on loopback, in a background thread.

    Args:
        service: The service to serve; a fresh demo account when None.
        host: A loopback address (``127.0.0.1``, ``::1`` or
            ``localhost``); anything else is refused.
        port: The port; 0 picks a free one (see :attr:`base_url`).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with FakeServer() as server:
            client = AMcardsClient(DEMO_ACCESS_TOKEN,
                                   base_url=server.base_url)
    """

    def __init__(
        self,
        service: FakeAMcards | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.service = service if service is not None else FakeAMcards.demo()
        self.host = _loopback(host)
        self.port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connection_count(self) -> int:
        """How many TCP connections the server has accepted so far."""
        return 0 if self._httpd is None else self._httpd.accepted

    def start(self) -> FakeServer:
        """Start serving; returns the server itself."""
        if self._httpd is not None:
            raise RuntimeError("the fake server is already running")
        httpd = _HTTPServer(self.host, self.port, self.service)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-amcards-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("fake AMcards server on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.base_url if self._httpd is not None else "stopped"
        return f"<FakeServer {state}>"


def _loopback(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"the fake server listens on loopback only, not {host!r}"
        )
    return str(address)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, host: str, port: int, service: FakeAMcards) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.service = service
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self.accepted += 1
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client resetting a kept-alive connection is no fault of the
        # server's: say nothing.  Anything else is printed as usual.
        if isinstance(sys.exc_info()[1], ConnectionResetError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:  # 405 from every route, headers only
        self._dispatch()

    def do_OPTIONS(self) -> None:  # 405 from every route, naming Allow
        self._dispatch()

    def log_request(
        self, code: int | str = "-", size: int | str = "-"
    ) -> None:
        # Paths only: a query string carries names and addresses.
        line = _without_query(self.requestline)
        logger.debug('fake server: "%s" %s', line, code)

    def log_message(self, format: str, *args: Any) -> None:
        shown = [_without_query(a) if isinstance(a, str) else a for a in args]
        logger.debug("fake server: " + format, *shown)

    # One request ---------------------------------------------------------

    def _dispatch(self) -> None:
        self._fault: Fault | None = None
        self._started = False
        try:
            self._respond()
        except ConnectionResetError:  # the client went away: nothing to say
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: say so, keep serving
            self._failed(exc)

    def _respond(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        body = self._read_body()
        if body is None:
            return
        request = Request(
            self.command, parts.path, query, list(self.headers.items()), body
        )
        if parts.path.startswith(CONTROL_PREFIX):
            self._write(self._control(request))
            return
        fault = self.server.service.take_fault(self.command, parts.path)
        self._fault = fault
        if fault is None:
            self._write(self._handle(request))
        elif fault.kind in ("status", "html"):
            self._write(fault_response(fault))
        elif fault.kind == "drop_before":
            self._drop()
        elif fault.kind == "drop_after":
            self._handle(request)
            self._drop()
        else:  # slow: the work is done at once, the answer comes late
            response = self._handle(request)
            time.sleep(fault.delay)
            self._write(response)

    def _failed(self, exc: Exception) -> None:
        """Answer 500 for an exception, unless the answer was meant to be
        dropped or has already begun: an empty reply would look exactly
        like a staged drop fault."""
        print(
            f"fake server: {self.command} {_without_query(self.path)} failed:",
            file=sys.stderr,
        )
        traceback.print_exception(exc, file=sys.stderr)
        sys.stderr.flush()
        dropping = self._fault is not None and self._fault.kind in _DROPS
        if dropping or self._started:
            self._drop()
            return
        message = f"fake server error: {type(exc).__name__}"
        self._write(_json(500, {"message": message}), close=True)

    def _read_body(self) -> bytes | None:
        """The request body, or None once a refusal has been written."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunks()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        length = length.strip()
        size = wire.whole_number(length)
        if size is None and not wire.is_digits(length):
            self._refuse(400, "Content-Length: expected a number of bytes")
            return None
        if size is None or size > MAX_BODY:
            self._refuse(413, _TOO_LARGE)
            return None
        body = self._read_exactly(size)
        if body is None:
            self._refuse(
                400,
                "body: the connection ended before the Content-Length "
                "bytes came",
            )
            return None
        return body

    def _read_chunks(self) -> bytes | None:
        data = bytearray()
        while True:
            line = self.rfile.readline(_MAX_LINE)
            size_text = line.split(b";")[0].strip()
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
                message = "Transfer-Encoding: chunked: bad chunk size"
                self._refuse(400, message)
                return None
            size = int(size_text, 16)
            if size == 0:
                return self._end_chunks(bytes(data))
            if len(data) + size > MAX_BODY:
                self._refuse(413, _TOO_LARGE)
                return None
            chunk = self._read_exactly(size)
            if chunk is None:
                message = "Transfer-Encoding: chunked: the body ended early"
                self._refuse(400, message)
                return None
            data += chunk
            self.rfile.readline(_MAX_LINE)

    def _end_chunks(self, body: bytes) -> bytes | None:
        """Skip the trailer after the last chunk; ``body`` when it ends."""
        for _ in range(_MAX_TRAILERS):
            line = self.rfile.readline(_MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                return body
        message = "Transfer-Encoding: chunked: too many trailer lines"
        self._refuse(400, message)
        return None

    def _read_exactly(self, size: int) -> bytes | None:
        """``size`` bytes, read a piece at a time so that memory follows
        what arrives rather than what was announced; None when the
        connection ends first."""
        pieces = []
        left = size
        while left:
            piece = self.rfile.read(min(left, _PIECE))
            if not piece:
                return None
            pieces.append(piece)
            left -= len(piece)
        return b"".join(pieces)

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request whose body cannot be read, then close."""
        self._write(_json(status, {"message": message}), close=True)

    def _handle(self, request: Request) -> Response:
        return self.server.service.handle(request)

    def _write(self, response: Response, *, close: bool = False) -> None:
        self._started = True
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer is its headers
                self.wfile.write(response.body)
        except OSError:  # the client went away first
            self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # The control API -----------------------------------------------------

    def _control(self, request: Request) -> Response:
        peer = ipaddress.ip_address(self.client_address[0])
        if not peer.is_loopback:
            return _json(403, {"message": "loopback peers only"})
        try:
            return self._control_route(request)
        except ValueError as exc:  # the fake's own words; others are bugs
            return _json(400, {"message": str(exc)})

    def _control_route(self, request: Request) -> Response:
        service = self.server.service
        route = (request.method, request.path[len(CONTROL_PREFIX) :])
        allowed = _CONTROL_METHODS.get(route[1])
        if route[1].startswith("objects/"):
            allowed = ("GET",)
        if allowed is not None and route[0] not in allowed:
            message = f"Method {route[0]} is not allowed here."
            body = json.dumps({"message": message}).encode("utf-8")
            headers = [
                ("Content-Type", "application/json"),
                ("Allow", ", ".join(allowed)),
            ]
            return Response(405, headers, body)
        if route == ("GET", "counters"):
            return _json(200, service.counters())
        if route == ("POST", "reset"):
            data = _json_body(request, ["empty"])
            service.reset(empty="empty" in data and _flag(data, "empty"))
            return _json(200, {"reset": True})
        if route == ("POST", "seed"):
            return _json(200, {"ids": service.seed(_json_body(request))})
        if route[1] == "faults":
            return self._faults(request)
        if route == ("POST", "mailings/process"):
            created = service.process_mailings()
            return _json(200, {"cards_created": created})
        if route == ("POST", "settings"):
            data = _json_body(request, SETTINGS)
            return _json(200, _settings(service, data))
        if route[0] == "GET" and route[1].startswith("objects/"):
            kind = route[1][len("objects/") :].strip("/")
            if kind not in KINDS:
                return _json(404, {"message": f"no kind {kind!r}"})
            owner = dict(request.query).get("owner")
            owner_id = wire.whole_number(owner) if owner else None
            if owner and owner_id is None:
                raise ValueError(
                    f"'owner' must be a user id (a whole number), "
                    f"got {owner!r}"
                )
            objects = service.objects(kind, owner_id)
            return _json(200, {"objects": objects})
        return _json(404, {"message": f"no control route {request.path}"})

    def _faults(self, request: Request) -> Response:
        queue = self.server.service.faults
        if request.method == "GET":
            pending = [fault.to_json() for fault in queue.pending()]
            return _json(200, {"faults": pending})
        if request.method == "DELETE":
            cleared = len(queue.pending())
            queue.clear()
            return _json(200, {"cleared": cleared})
        data = _json_body(request)
        if "faults" not in data:
            faults = [Fault.from_json(data)]
        elif len(data) > 1:
            raise ValueError(
                "'faults' cannot be mixed with the fields of a single fault"
            )
        else:
            faults = _fault_list(data["faults"])
        for fault in faults:
            queue.add(fault)
        return _json(200, {"queued": len(faults)})


_QUERY = re.compile(r"\?[^\s'\"]*")


def _without_query(text: str) -> str:
    """``text`` with the query of any URL in it cut off."""
    return _QUERY.sub("", text)


def _fault_list(items: Any) -> list[Fault]:
    if not isinstance(items, list):
        raise ValueError(
            f"'faults' must be a list of fault objects, got {_shown(items)}"
        )
    faults = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(
                f"faults[{index}]: expected a fault object, got {_shown(item)}"
            )
        try:
            faults.append(Fault.from_json(item))
        except ValueError as exc:
            raise ValueError(f"faults[{index}]: {exc}") from None
    return faults


def _json(status: int, payload: Any) -> Response:
    body = json.dumps(payload).encode("utf-8")
    return Response(status, [("Content-Type", "application/json")], body)


def _json_body(
    request: Request, allowed: Sequence[str] | None = None
) -> dict[str, Any]:
    """The body as a JSON object; any Content-Type is accepted."""
    if not request.body.strip():
        return {}
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("body: expected UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"body: expected a JSON object, but it is not valid JSON "
            f"({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError:  # an integer longer than int() reads
        raise ValueError(
            "body: expected a JSON object, but it holds a number too long "
            "to read"
        ) from None
    except RecursionError:
        data, deep = None, True
    else:
        deep = wire.too_deep(data)
    if deep:
        raise ValueError(
            f"body: nested too deeply (more than {wire.MAX_JSON_DEPTH} "
            "levels of arrays and objects)"
        )
    if not isinstance(data, dict):
        raise ValueError(f"body: expected a JSON object, got {_shown(data)}")
    if allowed is not None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown field {unknown[0]!r}; expected {_one_of(allowed)}"
            )
    return data


def _shown(value: Any) -> str:
    """A JSON value as the caller wrote it, shortened."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_of(names: Sequence[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return "one of " + ", ".join(quoted)


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data[name]
    if not isinstance(value, bool):
        raise ValueError(
            f"{name!r} must be true or false (a JSON boolean), "
            f"got {_shown(value)}"
        )
    return value


#: The longest token lifetime the settings take: one year, in seconds.
MAX_TOKEN_LIFETIME = 365 * 24 * 3600


def _settings(service: FakeAMcards, data: dict[str, Any]) -> dict[str, Any]:
    hold = _flag(data, "hold_mailings") if "hold_mailings" in data else None
    lifetime = data.get("token_lifetime")
    if "token_lifetime" in data and (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, int)
        or not 0 <= lifetime <= MAX_TOKEN_LIFETIME
    ):
        raise ValueError(
            f"'token_lifetime' must be a whole number of seconds from 0 "
            f"to {MAX_TOKEN_LIFETIME} (a year), got {_shown(lifetime)}"
        )
    if hold is not None:
        service.hold_mailings = hold
    if isinstance(lifetime, int):
        service.token_lifetime = lifetime
    return {
        "hold_mailings": service.hold_mailings,
        "token_lifetime": service.token_lifetime,
    }


def connection_settings(base_url: str) -> list[tuple[str, str]]:
    """What a client needs to reach the demo account, as NAME, value."""
    return [
        ("AMCARDS_BASE_URL", base_url),
        ("AMCARDS_ACCESS_TOKEN", DEMO_ACCESS_TOKEN),
        ("AMCARDS_REFRESH_TOKEN", DEMO_REFRESH_TOKEN),
        ("AMCARDS_CLIENT_ID", DEMO_CLIENT_ID),
        ("AMCARDS_CLIENT_SECRET", DEMO_CLIENT_SECRET),
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the serving command."""
    parser.add_argument(
        "--host",
        type=_host,
        default="127.0.0.1",
        help="a loopback address (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8765,
        help="port to listen on (default: 8765; 0 picks a free one)",
    )
    parser.add_argument(
        "--hold-mailings",
        action="store_true",
        help="keep mailings PROCESSING until POST /__fake__/mailings/process",
    )


def _host(text: str) -> str:
    """A loopback address for argparse; anything else is a usage error."""
    try:
        return _loopback(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    """A TCP port number for argparse: 0 to 65535."""
    port = wire.whole_number(text)
    if port is None or port > 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number (0 to 65535; 0 picks a free one)"
        )
    return port


def serve(args: argparse.Namespace, prog: str = DEFAULT_PROG) -> int:
    """Serve the demo account until interrupted or terminated.

    Standard output gets one ``NAME=value`` line per setting a client
    needs (see :func:`connection_settings`); notes for people go to
    standard error, and so do startup errors, as ``PROG: cannot serve:
    ...`` (exit status 1).
    """
    service = FakeAMcards.demo(hold_mailings=args.hold_mailings)
    try:
        server = FakeServer(service, args.host, args.port).start()
    except ValueError as exc:
        print(f"{prog}: cannot serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(
            f"{prog}: cannot serve: cannot listen on {args.host} port "
            f"{args.port}: {reason} (--port 0 picks a free port)",
            file=sys.stderr,
        )
        return 1
    stop = threading.Event()
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for name, value in connection_settings(server.base_url):
        print(f"{name}={value}")
    sys.stdout.flush()
    print(
        "Fake AMcards service (nothing is ever mailed); control API at "
        f"{server.base_url}{CONTROL_PREFIX}counters. Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def main(
    argv: Sequence[str] | None = None,
    prog: str = DEFAULT_PROG,
) -> int:
    """Serve the demo account until interrupted or terminated.

    This is ``amcards fake-server`` and ``python -m
    amcards.transports.fake``.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the fake AMcards service's demo account over "
        "HTTP on loopback, for tests in any language. Prints one "
        "NAME=value line per setting a client needs, then serves until "
        "Ctrl-C. Nothing is ever mailed.",
    )
    add_arguments(parser)
    return serve(parser.parse_args(argv), prog)

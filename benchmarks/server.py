"""A small, fast HTTP/1.1 server on loopback that answers canned JSON.

It speaks just enough HTTP for the benchmarks: a request line, headers,
a body of ``Content-Length`` bytes, and keep-alive unless the client
asks to close.  One thread per connection; no parsing beyond the path
and the query, so the time a client spends shows rather than the
server's.

Run alone, it prints its base URL and serves until interrupted::

    python benchmarks/server.py
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
from urllib.parse import parse_qsl

import canned

_REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found"}
_NOT_FOUND = b'{"error":"not found"}'
_UNAUTHORIZED = b'{"error":"authentication required"}'

# Pages of the listing benchmark are built once, before the clock runs.
PRECOMPUTED_PAGES = 20


class CannedServer:
    """Serves canned AMcards answers on 127.0.0.1 from daemon threads.

    Args:
        total_cards: How many cards the card listing holds.
        port: 0 picks a free port.
    """

    def __init__(self, *, total_cards: int = 100_000, port: int = 0) -> None:
        self.total_cards = total_cards
        self.requests = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", port))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._card_bodies: dict[int, bytes] = {}
        self._send_card = canned.send_card_body()
        self._user = canned.user_body()
        self._templates = canned.templates_body()
        self._pages = {
            (canned.PAGE_SIZE, n * canned.PAGE_SIZE): self._page(
                canned.PAGE_SIZE, n * canned.PAGE_SIZE
            )
            for n in range(PRECOMPUTED_PAGES)
        }

    @property
    def base_url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> CannedServer:
        thread = threading.Thread(
            target=self._accept_loop, name="canned-accept", daemon=True
        )
        thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._listener.close()
        with self._lock:
            for conn in list(self._open):
                _close_quietly(conn)
            self._open.clear()

    def __enter__(self) -> CannedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Connections --------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.add(conn)
                self.connections += 1
            threading.Thread(
                target=self._serve, args=(conn,), daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._exchange_until_closed(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(conn)
            _close_quietly(conn)

    def _exchange_until_closed(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                end = buffer.find(b"\r\n\r\n")
            head, buffer = buffer[:end], buffer[end + 4 :]
            method, target, headers = _read_head(head)
            length = int(headers.get(b"content-length", b"0"))
            while len(buffer) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[length:]
            status, body = self._answer(method, target, headers)
            self.requests += 1
            closing = headers.get(b"connection", b"").lower() == b"close"
            conn.sendall(_response(status, body, closing))
            if closing:
                return

    # Answers ------------------------------------------------------------

    def _answer(
        self, method: bytes, target: bytes, headers: dict[bytes, bytes]
    ) -> tuple[int, bytes]:
        if not headers.get(b"authorization", b"").startswith(b"Bearer "):
            return 401, _UNAUTHORIZED
        path, _, query = target.decode("latin-1").partition("?")
        if method == b"GET" and path.startswith(canned.CARD_PATH):
            rest = path[len(canned.CARD_PATH) :].strip("/")
            if not rest:
                return 200, self._listing(query)
            if rest.isdigit():
                return 200, self._card(int(rest))
        elif method == b"POST" and path == canned.SEND_CARD_PATH:
            return 200, self._send_card
        elif method == b"GET" and path == canned.USER_PATH:
            return 200, self._user
        elif method == b"GET" and path == canned.TEMPLATE_PATH:
            return 200, self._templates
        return 404, _NOT_FOUND

    def _card(self, card_id: int) -> bytes:
        body = self._card_bodies.get(card_id)
        if body is None:
            body = canned.card_body(card_id)
            if len(self._card_bodies) < 1024:
                self._card_bodies[card_id] = body
        return body

    def _listing(self, query: str) -> bytes:
        params = dict(parse_qsl(query))
        limit = int(params.get("limit", "20"))
        offset = int(params.get("offset", "0"))
        page = self._pages.get((limit, offset))
        return page if page is not None else self._page(limit, offset)

    def _page(self, limit: int, offset: int) -> bytes:
        return canned.cards_page_body(limit, offset, self.total_cards)


def _read_head(head: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    method, target, _version = lines[0].split(b" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def _response(status: int, body: bytes, closing: bool) -> bytes:
    head = (
        b"HTTP/1.1 %d %s\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n" % (status, _REASONS[status], len(body))
    )
    if closing:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


def _close_quietly(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve canned answers.")
    parser.add_argument("--total-cards", type=int, default=100_000)
    args = parser.parse_args(argv)
    with CannedServer(total_cards=args.total_cards) as server:
        print(f"BASE_URL={server.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The behaviour every transport shares, as one pytest suite to inherit.

The client leans on a transport for four things: every request arrives as
it was built, every answer comes back as a :class:`~amcards.core.http.Response`
whatever its status, failures on the way are
:class:`~amcards.core.errors.TransportError` subclasses that say truly
whether the request may have reached the server, and nothing is ever
repeated behind the client's back (a repeated send would mail a card
twice).  :class:`TransportSuite` checks all four.

To check a transport, subclass it in a ``test_*`` module and provide a
``transport`` fixture that yields a fresh one and closes it afterwards::

    from amcards.testing import TransportSuite

    class TestMyTransport(TransportSuite):
        @pytest.fixture
        def transport(self):
            with MyTransport() as transport:
                yield transport

By default the cases talk to an :class:`~amcards.testing.EchoServer` on
127.0.0.1, and the failure cases to small misbehaving servers there too.
A transport that answers in memory sets ``over_sockets = False``, serves
:func:`~amcards.testing.echo_app` and overrides ``base_url`` to return
``""``; the failure cases are then skipped.

The class name does not start with ``Test``, so pytest collects its cases
only through subclasses.  Importing this module needs pytest.
"""

from __future__ import annotations

import atexit
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from amcards.core.errors import (
    ConnectError,
    ReadTimeoutError,
    TransportError,
)
from amcards.core.http import Request, Response, Timeout
from amcards.testing.servers import (
    UNICODE_TEXT,
    EchoServer,
    ScriptedServer,
    cut_body_short,
    echo_requests_seen,
    hang_up,
    large_body,
    never_answer,
    unused_port,
)
from amcards.transports.base import Transport

__all__ = ["TransportSuite"]

JSON_BODY = (
    '{"template_id":"1","initiator":"suite",'
    '"message":"Dear Zoë,\\n\\tthanks! 🎉","amount":4.35,'
    '"nested":{"list":[1,2,{"a":null}],"empty":""}}'
).encode()

#: The timeout the failure cases pass to ``send``.
SHORT = Timeout(connect=2.0, read=0.5)

#: How long past the read timeout a silent server may keep a send waiting.
GRACE = 1.0


_shared_server: EchoServer | None = None
_shared_lock = threading.Lock()


def shared_echo_server() -> EchoServer:
    """One echo server on 127.0.0.1 for the whole test run.

    It starts on first use and stops when the interpreter exits.
    """
    global _shared_server
    with _shared_lock:
        if _shared_server is None:
            _shared_server = EchoServer().start()
            atexit.register(_shared_server.stop)
        return _shared_server


class TransportSuite:
    """Cases every transport must pass; subclass it to run them."""

    #: Set it to ``False`` on a transport that answers in memory, and the
    #: cases that need real sockets (refused connections, silent servers)
    #: are skipped.
    over_sockets = True

    @pytest.fixture
    def transport(self) -> Iterator[Transport]:
        """A fresh transport, closed afterwards; subclasses provide it."""
        raise NotImplementedError(
            f"{type(self).__name__} must define a 'transport' fixture"
        )

    @pytest.fixture
    def base_url(self) -> str:
        """Where the echo service answers; ``""`` for in-memory ones."""
        return shared_echo_server().base_url

    @pytest.fixture
    def sockets(self) -> None:
        """Skips a case when the transport answers in memory."""
        if not self.over_sockets:
            pytest.skip("this transport does not open sockets")

    @staticmethod
    def request(
        base_url: str, method: str, path: str, **fields: Any
    ) -> Request:
        """A request for ``path`` on ``base_url``."""
        return Request(method, path, base_url=base_url, **fields)

    @staticmethod
    def echoed(response: Response) -> dict[str, Any]:
        """The echo service's description of the request it received."""
        assert response.status == 200, response
        description: dict[str, Any] = json.loads(response.body)
        return description

    # What arrives ------------------------------------------------------

    def test_get_with_query_round_trip(
        self, transport: Transport, base_url: str
    ) -> None:
        """A GET arrives with its method, path and query intact."""
        query = [
            ("limit", "25"),
            ("offset", "50"),
            ("last_name", "Müller & Söhne"),
            ("q", "a=b?c/d e+f"),
            ("empty", ""),
        ]
        request = self.request(base_url, "GET", "/.api/v1/card/", query=query)
        echo = self.echoed(transport.send(request))
        assert echo["method"] == "GET"
        assert echo["path"] == "/.api/v1/card/"
        assert [tuple(pair) for pair in echo["query"]] == query

    def test_post_json_body_arrives_byte_exact(
        self, transport: Transport, base_url: str
    ) -> None:
        """The body of a POST reaches the server byte for byte."""
        request = self.request(
            base_url,
            "POST",
            "/cards/open-card-form-oa/",
            headers=[("Content-Type", "application/json")],
            body=JSON_BODY,
        )
        echo = self.echoed(transport.send(request))
        assert echo["method"] == "POST"
        assert base64.b64decode(echo["body_base64"]) == JSON_BODY
        assert echo["headers"]["content-type"] == "application/json"

    @pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
    def test_other_methods_arrive(
        self, transport: Transport, base_url: str, method: str
    ) -> None:
        """PUT, PATCH and DELETE reach the server as themselves."""
        request = self.request(base_url, method, "/thing/7/", body=b"x=1")
        echo = self.echoed(transport.send(request))
        assert echo["method"] == method

    def test_request_headers_arrive(
        self, transport: Transport, base_url: str
    ) -> None:
        """A request's own headers reach the server with their values."""
        request = self.request(
            base_url,
            "GET",
            "/echo",
            headers=[("X-Custom-Header", "Value With Case")],
        )
        echo = self.echoed(transport.send(request))
        assert echo["headers"]["x-custom-header"] == "Value With Case"

    # What comes back ---------------------------------------------------

    @pytest.mark.parametrize(
        "status", [201, 302, 400, 401, 404, 429, 500, 503]
    )
    def test_statuses_are_returned_not_raised(
        self, transport: Transport, base_url: str, status: int
    ) -> None:
        """Every status comes back as a Response, with its body, after
        exactly one request: a 5xx or a 429 is not tried again by the
        transport (only the client decides that)."""
        nonce = uuid.uuid4().hex
        request = self.request(
            base_url, "POST", f"/status/{status}", query=[("nonce", nonce)]
        )
        response = transport.send(request)
        assert response.status == status
        assert json.loads(response.body) == {"status": status}
        assert echo_requests_seen(nonce) == 1, "the request was repeated"

    def test_headers_are_read_case_insensitively(
        self, transport: Transport, base_url: str
    ) -> None:
        """A response header is found whatever case the name is in."""
        response = transport.send(self.request(base_url, "GET", "/echo"))
        for name in ("X-Echo-Method", "x-echo-method", "X-ECHO-METHOD"):
            assert response.header(name) == "GET"
        assert response.header("content-TYPE") == "application/json"
        assert response.header("X-Not-There") is None

    def test_unicode_bodies_round_trip(
        self, transport: Transport, base_url: str
    ) -> None:
        """UTF-8 bodies arrive and come back unchanged."""
        body = UNICODE_TEXT.encode("utf-8")
        request = self.request(
            base_url,
            "POST",
            "/echo",
            headers=[("Content-Type", "text/plain; charset=utf-8")],
            body=body,
        )
        echo = self.echoed(transport.send(request))
        assert base64.b64decode(echo["body_base64"]) == body
        response = transport.send(self.request(base_url, "GET", "/unicode"))
        assert response.body.decode("utf-8") == UNICODE_TEXT

    def test_large_body_both_ways(
        self, transport: Transport, base_url: str
    ) -> None:
        """A 1 MB request body and a 1 MB answer arrive whole."""
        size = 1024 * 1024
        big = large_body(size)
        request = self.request(base_url, "POST", "/echo", body=big)
        echo = self.echoed(transport.send(request))
        assert base64.b64decode(echo["body_base64"]) == big
        request = self.request(
            base_url, "GET", "/large", query=[("size", str(size))]
        )
        response = transport.send(request)
        assert response.status == 200
        assert response.body == big

    # Sharing and closing -----------------------------------------------

    def test_concurrent_use_from_threads(
        self, transport: Transport, base_url: str
    ) -> None:
        """One transport shared by 8 threads gives each its own answer."""

        def one(number: int) -> int:
            request = self.request(
                base_url,
                "POST",
                f"/worker/{number}",
                query=[("n", str(number))],
                body=str(number).encode(),
            )
            echo = self.echoed(transport.send(request))
            assert echo["path"] == f"/worker/{number}"
            assert echo["query"] == [["n", str(number)]]
            return int(base64.b64decode(echo["body_base64"]))

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, range(64)))
        assert results == list(range(64))

    def test_close_is_idempotent(
        self, transport: Transport, base_url: str
    ) -> None:
        """close() may be called again without error."""
        transport.send(self.request(base_url, "GET", "/before-close"))
        transport.close()
        transport.close()

    def test_context_manager_closes(
        self, transport: Any, base_url: str
    ) -> None:
        """``with transport`` returns the transport and closes it.

        Skipped for a transport that is not a context manager: the client
        needs only ``send`` and ``close``.
        """
        if not hasattr(transport, "__enter__") or not hasattr(
            transport, "__exit__"
        ):
            pytest.skip("this transport is not a context manager")
        with transport as entered:
            assert entered is transport
            response = entered.send(self.request(base_url, "GET", "/with"))
            assert response.status == 200
        transport.close()

    # Failures on the way (real sockets only) ---------------------------

    @pytest.mark.usefixtures("sockets")
    def test_a_refused_connection_was_not_sent(
        self, transport: Transport
    ) -> None:
        """A port nobody listens on: ConnectError, ``request_sent`` False.

        This is the one failure after which the client repeats a send, so
        it must never be reported for a request that may have arrived.
        """
        base_url = f"http://127.0.0.1:{unused_port()}"
        request = self.request(base_url, "POST", "/cards/open-card-form-oa/")
        with pytest.raises(ConnectError) as caught:
            transport.send(request, timeout=SHORT)
        assert caught.value.request_sent is False

    @pytest.mark.usefixtures("sockets")
    def test_a_silent_server_times_out_within_the_timeout(
        self, transport: Transport
    ) -> None:
        """No answer within ``timeout.read``: ReadTimeoutError, promptly.

        The request did arrive, so ``request_sent`` is True.
        """
        with ScriptedServer(never_answer) as server:
            request = self.request(server.base_url, "POST", "/slow/")
            started = time.monotonic()
            with pytest.raises(ReadTimeoutError) as caught:
                transport.send(request, timeout=SHORT)
            waited = time.monotonic() - started
            time.sleep(0.1)
            assert server.connections == 1, "the request was repeated"
        assert waited < SHORT.read + GRACE
        assert caught.value.request_sent is True

    @pytest.mark.parametrize("script", [hang_up, cut_body_short])
    @pytest.mark.usefixtures("sockets")
    def test_a_broken_answer_is_a_transport_error_sent_once(
        self, transport: Transport, script: Any
    ) -> None:
        """A hang-up or a short body: TransportError, one connection only.

        The request may have been processed, so it counts as sent and the
        transport must not try it again by itself.
        """
        with ScriptedServer(script) as server:
            request = self.request(
                server.base_url, "POST", "/cards/open-card-form-oa/"
            )
            with pytest.raises(TransportError) as caught:
                transport.send(request, timeout=SHORT)
            time.sleep(0.1)
            assert server.connections == 1
        assert caught.value.request_sent is True

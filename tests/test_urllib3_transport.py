"""Tests for the urllib3 transport: failures, timeouts, TLS and logging.

The behaviour every transport shares is in tests/test_transports.py.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import socket
import ssl
import time

import pytest
import urllib3.exceptions as u3
from certificates import make_self_signed_certificate

from amcards.core.errors import (
    ConnectError,
    ConnectionLostError,
    ConnectTimeoutError,
    ReadTimeoutError,
    TransportError,
)
from amcards.core.http import Request, Timeout
from amcards.testing.servers import (
    EchoServer,
    ScriptedServer,
    cut_body_short,
    hang_up,
    never_answer,
    read_request_head,
    stall_body,
    unused_port,
)
from amcards.transports.base import Transport
from amcards.transports.urllib3_transport import Urllib3Transport, _translate

TOKEN = "tok-Sup3rS3cretAccessToken"
QUERY_SECRET = "Personal-Query-Value"
SHORT = Timeout(connect=1.0, read=0.3)


@pytest.fixture(scope="module")
def echo_server():
    with EchoServer() as server:
        yield server


@pytest.fixture
def transport():
    with Urllib3Transport(timeout=SHORT) as transport:
        yield transport


def get(base_url: str, path: str = "/thing/", **kw) -> Request:
    return Request("GET", path, base_url=base_url, **kw)


def test_is_a_transport():
    """Urllib3Transport satisfies the Transport protocol."""
    with Urllib3Transport() as transport:
        assert isinstance(transport, Transport)
        assert transport.timeout == Timeout()


# Failures on real sockets --------------------------------------------------


@pytest.mark.sockets
def test_a_server_that_never_answers_raises_read_timeout(transport):
    """No answer within the read timeout is a ReadTimeoutError, promptly."""
    with ScriptedServer(never_answer) as server:
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError) as caught:
            transport.send(get(server.base_url, "/slow/"))
        assert time.monotonic() - started < 2.0
    error = caught.value
    assert error.request_sent
    assert (error.method, error.path) == ("GET", "/slow/")
    assert isinstance(error.__cause__, u3.ReadTimeoutError)


@pytest.mark.sockets
def test_a_body_that_stops_coming_raises_read_timeout(transport):
    """A body that stalls half-way is a ReadTimeoutError too."""
    with ScriptedServer(stall_body) as server, pytest.raises(ReadTimeoutError):
        transport.send(get(server.base_url))


@pytest.mark.sockets
def test_the_per_call_timeout_overrides_the_default():
    """send(timeout=...) replaces the transport's own timeouts."""
    slow = Timeout(connect=5.0, read=30.0)
    with (
        Urllib3Transport(timeout=slow) as transport,
        ScriptedServer(never_answer) as server,
    ):
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            transport.send(get(server.base_url), timeout=SHORT)
        assert time.monotonic() - started < 2.0


@pytest.mark.sockets
def test_a_refused_connection_raises_connect_error(transport):
    """A refused port is a ConnectError; the request was never sent."""
    port = unused_port()
    with pytest.raises(ConnectError) as caught:
        transport.send(get(f"http://127.0.0.1:{port}", "/x/"))
    error = caught.value
    assert type(error) is ConnectError
    assert error.request_sent is False
    assert (error.method, error.path) == ("GET", "/x/")
    assert isinstance(error.__cause__, u3.NewConnectionError)


@pytest.mark.sockets
def test_a_full_listen_queue_raises_connect_timeout(transport):
    """A connection that cannot open in time is a ConnectTimeoutError."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    queued = []
    try:
        # Fill the listen queue until a further connection hangs.
        for _ in range(16):
            probe = socket.socket()
            probe.settimeout(0.2)
            queued.append(probe)
            try:
                probe.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("this system accepts connections past the backlog")
        quick = Timeout(connect=0.2, read=5.0)
        started = time.monotonic()
        with pytest.raises(ConnectTimeoutError) as caught:
            transport.send(get(f"http://127.0.0.1:{port}"), timeout=quick)
        assert time.monotonic() - started < 1.5
        assert caught.value.request_sent is False
    finally:
        for probe in queued:
            probe.close()
        listener.close()


@pytest.mark.sockets
def test_a_server_hanging_up_raises_connection_lost(transport):
    """A server that closes without answering: ConnectionLostError."""
    with ScriptedServer(hang_up) as server:
        request = Request(
            "POST", "/cards/open-card-form-oa/", base_url=server.base_url
        )
        with pytest.raises(ConnectionLostError) as caught:
            transport.send(request)
        assert server.connections == 1
    error = caught.value
    assert error.request_sent is True
    assert (error.method, error.path) == ("POST", "/cards/open-card-form-oa/")


@pytest.mark.sockets
def test_a_body_cut_short_raises_connection_lost(transport):
    """A body shorter than its Content-Length is a ConnectionLostError."""
    with (
        ScriptedServer(cut_body_short) as server,
        pytest.raises(ConnectionLostError),
    ):
        transport.send(get(server.base_url))


@pytest.mark.sockets
def test_nothing_is_retried_by_urllib3(transport):
    """After any failure the server has seen exactly one connection."""
    for script in (hang_up, cut_body_short, never_answer):
        with ScriptedServer(script) as server:
            with pytest.raises(TransportError):
                transport.send(get(server.base_url))
            time.sleep(0.05)
            assert server.connections == 1, script.__name__


@pytest.mark.sockets
def test_redirects_are_returned_not_followed(transport):
    """A 302 comes back as a response; its Location is not visited."""

    def redirect(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: /elsewhere/\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        conn.close()

    with ScriptedServer(redirect) as server:
        response = transport.send(get(server.base_url))
        assert response.status == 302
        assert response.header("location") == "/elsewhere/"
        assert server.connections == 1


@pytest.mark.sockets
def test_connections_are_kept_alive(transport, echo_server, caplog):
    """Two requests in a row share one connection."""
    caplog.set_level(logging.DEBUG, logger="urllib3")
    for _ in range(3):
        assert transport.send(get(echo_server.base_url)).status == 200
    opened = [r for r in caplog.records if "Starting new" in r.getMessage()]
    assert len(opened) == 1


@pytest.mark.sockets
def test_default_headers_are_sent_and_request_headers_win(echo_server):
    """headers= are added to every request unless the request has them."""
    defaults = {"User-Agent": "amcards-test", "X-Default": "yes"}
    with Urllib3Transport(timeout=SHORT, headers=defaults) as transport:
        request = get(echo_server.base_url, headers=[("x-default", "mine")])
        response = transport.send(request)
    echoed = response.body.decode()
    assert '"user-agent": "amcards-test"' in echoed
    assert '"x-default": "mine"' in echoed
    assert '"yes"' not in echoed


@pytest.mark.sockets
def test_repeated_response_headers_are_kept(transport):
    """Two headers with the same name both come back."""

    def two_cookies(conn: socket.socket) -> None:
        read_request_head(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\nok"
        )
        conn.close()

    with ScriptedServer(two_cookies) as server:
        response = transport.send(get(server.base_url))
    cookies = [v for k, v in response.headers if k.lower() == "set-cookie"]
    assert cookies == ["a=1", "b=2"]
    assert response.body == b"ok"


# TLS ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool is needed to make a certificate")
    return make_self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with EchoServer(tls=context) as server:
        yield server


@pytest.mark.sockets
def test_an_untrusted_certificate_is_refused(transport, tls_server):
    """Certificates are verified: a self-signed one is a ConnectError."""
    with pytest.raises(ConnectError) as caught:
        transport.send(get(tls_server.base_url, "/secure/"))
    assert caught.value.request_sent is False
    assert "certificate" in str(caught.value)


@pytest.mark.sockets
def test_a_certificate_from_ca_certs_is_trusted(certificate, tls_server):
    """ca_certs= adds the authorities to verify servers with."""
    cert, _ = certificate
    with Urllib3Transport(timeout=SHORT, ca_certs=str(cert)) as transport:
        response = transport.send(get(tls_server.base_url, "/secure/"))
    assert response.status == 200


@pytest.mark.sockets
def test_an_ssl_context_is_used_and_still_verifies(certificate, tls_server):
    """ssl_context= is used, but never with verification turned off."""
    cert, _ = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    with Urllib3Transport(timeout=SHORT, ssl_context=trusting) as transport:
        assert transport.send(get(tls_server.base_url)).status == 200
    careless = ssl.create_default_context()
    careless.check_hostname = False
    careless.verify_mode = ssl.CERT_NONE
    with (
        Urllib3Transport(timeout=SHORT, ssl_context=careless) as transport,
        pytest.raises(ConnectError),
    ):
        transport.send(get(tls_server.base_url))


# Logging and secrets -------------------------------------------------------


@pytest.mark.sockets
def test_logs_hold_no_token_body_or_query(transport, echo_server, caplog):
    """At DEBUG, no logger (urllib3's included) shows the token or body;
    the transport's own line shows no query either."""
    caplog.set_level(logging.DEBUG)
    request = Request(
        "POST",
        "/cards/open-card-form-oa/",
        query=[("q", QUERY_SECRET)],
        headers=[("Authorization", f"Bearer {TOKEN}")],
        body=b'{"refresh_token":"BODY-SECRET"}',
        base_url=echo_server.base_url,
    )
    assert transport.send(request).status == 200
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "urllib3" in {r.name.split(".")[0] for r in caplog.records}
    assert TOKEN not in everything
    assert "BODY-SECRET" not in everything
    own = [
        r.getMessage()
        for r in caplog.records
        if r.name == "amcards.transports.urllib3_transport"
    ]
    assert own and own[0].startswith("POST /cards/open-card-form-oa/ -> 200")
    assert QUERY_SECRET not in "\n".join(own)


@pytest.mark.sockets
def test_failures_hold_no_token_or_query(transport, caplog):
    """Error messages, their causes and the logs name no secret."""
    caplog.set_level(logging.DEBUG)
    with ScriptedServer(never_answer) as server:
        request = get(
            server.base_url,
            query=[("q", QUERY_SECRET)],
            headers=[("Authorization", f"Bearer {TOKEN}")],
        )
        with pytest.raises(ReadTimeoutError) as caught:
            transport.send(request)
    error = caught.value
    texts = [str(error), repr(error), str(error.__cause__)]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert TOKEN not in text
    assert QUERY_SECRET not in str(error)
    assert "GET /thing/" in str(error)


# Life cycle and arguments --------------------------------------------------


def test_send_after_close_is_refused():
    """A closed transport refuses to send instead of reopening."""
    transport = Urllib3Transport()
    transport.close()
    with pytest.raises(RuntimeError):
        transport.send(get("http://127.0.0.1:9"))
    assert "closed" in repr(transport)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"timeout": 5}, TypeError), ({"pool_maxsize": 0}, ValueError)],
)
def test_bad_arguments_are_refused(kwargs, error):
    """A timeout that is not a Timeout, or an empty pool, is refused."""
    with pytest.raises(error):
        Urllib3Transport(**kwargs)


def test_a_url_without_a_host_is_a_connect_error(transport):
    """A request with no base URL cannot be sent: ConnectError."""
    with pytest.raises(ConnectError) as caught:
        transport.send(Request("GET", "/nowhere/"))
    assert caught.value.request_sent is False


# The translation table -----------------------------------------------------


def _certificate_error() -> ssl.SSLCertVerificationError:
    return ssl.SSLCertVerificationError(1, "certificate verify failed")


@pytest.mark.parametrize(
    ("raised", "expected", "sent"),
    [
        (u3.NewConnectionError(None, "refused"), ConnectError, False),
        (
            u3.NameResolutionError("host", None, socket.gaierror(-2, "x")),
            ConnectError,
            False,
        ),
        (u3.ConnectTimeoutError("slow"), ConnectTimeoutError, False),
        (u3.ReadTimeoutError(None, "/", "slow"), ReadTimeoutError, True),
        (
            u3.ProtocolError(
                "Connection aborted.", http.client.RemoteDisconnected("x")
            ),
            ConnectionLostError,
            True,
        ),
        (
            u3.ProtocolError("broken", u3.IncompleteRead(3, 97)),
            ConnectionLostError,
            True,
        ),
        (u3.SSLError(_certificate_error()), ConnectError, False),
        (u3.SSLError(ssl.SSLEOFError(8, "EOF")), ConnectionLostError, True),
        (u3.LocationValueError("No host"), ConnectError, False),
        (ConnectionResetError(104, "reset"), ConnectionLostError, True),
        (u3.DecodeError("bad gzip"), TransportError, True),
    ],
)
def test_urllib3_failures_translate_to_package_errors(raised, expected, sent):
    """Each urllib3 failure becomes one package error, in one place."""
    error = _translate(raised, Request("POST", "/send/"))
    assert type(error) is expected
    assert error.request_sent is sent
    assert (error.method, error.path) == ("POST", "/send/")

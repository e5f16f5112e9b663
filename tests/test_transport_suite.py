"""TransportSuite as a user runs it on a transport of their own.

``HttpClientTransport`` is written the way an integrator might write one,
on the standard library's ``http.client``; it passes the suite.  The
broken transports below each miss one rule of the suite, and the suite
must catch each of them.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from amcards.core.errors import (
    ConnectError,
    ConnectionLostError,
    ReadTimeoutError,
    TransportError,
)
from amcards.core.http import Request, Response, Timeout
from amcards.testing import EchoServer, TransportSuite, hang_up


class HttpClientTransport:
    """One connection a request, with the package's error types."""

    def __init__(self, timeout: Timeout | None = None) -> None:
        self.timeout = timeout or Timeout()

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        limits = timeout or self.timeout
        url = urlsplit(request.base_url)
        conn = http.client.HTTPConnection(
            url.hostname or "", url.port, timeout=limits.connect
        )
        where = {"method": request.method, "path": request.path}
        try:
            try:
                conn.connect()
            except OSError as error:
                raise ConnectError("cannot connect", **where) from error
            assert conn.sock is not None
            conn.sock.settimeout(limits.read)
            try:
                conn.request(
                    request.method,
                    request.target,
                    body=request.body,
                    headers=dict(request.headers),
                )
                answer = conn.getresponse()
                body = answer.read()
            except TimeoutError as error:
                raise ReadTimeoutError("no answer", **where) from error
            except (OSError, http.client.HTTPException) as error:
                raise ConnectionLostError("connection lost", **where) from (
                    error
                )
            return Response(answer.status, answer.getheaders(), body)
        finally:
            conn.close()

    def close(self) -> None:
        pass

    def __enter__(self) -> HttpClientTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.mark.sockets
class TestHttpClientTransport(TransportSuite):
    """A user's own transport, checked by inheriting the suite."""

    @pytest.fixture
    def transport(self) -> Iterator[HttpClientTransport]:
        with HttpClientTransport() as transport:
            yield transport


# The suite fails transports that break its rules -----------------------


class RetriesOnItsOwn(HttpClientTransport):
    """Tries a request again after a lost connection: a card sent twice."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        try:
            return super().send(request, timeout=timeout)
        except ConnectionLostError:
            return super().send(request, timeout=timeout)


class CallsEverythingUnsent(HttpClientTransport):
    """Says no failure was sent: the client would then repeat sends."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        try:
            return super().send(request, timeout=timeout)
        except TransportError as error:
            raise ConnectError("failed", path=request.path) from error


class IgnoresTheCallTimeout(HttpClientTransport):
    """Waits its own 5 seconds whatever timeout the call asks for."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        return super().send(request, timeout=Timeout(connect=5, read=5))


class RaisesOnErrorStatuses(HttpClientTransport):
    """Turns a 4xx or 5xx answer into an exception."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        response = super().send(request, timeout=timeout)
        if response.status >= 400:
            raise ConnectionLostError("bad status", path=request.path)
        return response


class DropsTheQuery(HttpClientTransport):
    """Sends the path without its query string."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        bare = Request(
            request.method,
            request.path,
            headers=request.headers,
            body=request.body,
            base_url=request.base_url,
        )
        return super().send(bare, timeout=timeout)


@pytest.fixture(scope="module")
def echo_server() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


SUITE = TransportSuite()


@pytest.mark.sockets
def test_the_suite_catches_a_transport_that_retries() -> None:
    with pytest.raises(AssertionError):
        SUITE.test_a_broken_answer_is_a_transport_error_sent_once(
            RetriesOnItsOwn(), hang_up
        )


@pytest.mark.sockets
def test_the_suite_catches_a_transport_that_hides_a_sent_request() -> None:
    with pytest.raises(AssertionError):
        SUITE.test_a_broken_answer_is_a_transport_error_sent_once(
            CallsEverythingUnsent(), hang_up
        )
    # The silent-server case expects a ReadTimeoutError; the ConnectError
    # this transport raises instead escapes it.
    with pytest.raises(ConnectError):
        SUITE.test_a_silent_server_times_out_within_the_timeout(
            CallsEverythingUnsent()
        )


@pytest.mark.sockets
def test_the_suite_catches_a_transport_that_ignores_the_timeout() -> None:
    with pytest.raises(AssertionError):
        SUITE.test_a_silent_server_times_out_within_the_timeout(
            IgnoresTheCallTimeout()
        )


@pytest.mark.sockets
def test_the_suite_catches_a_transport_that_raises_on_statuses(
    echo_server: EchoServer,
) -> None:
    with pytest.raises(ConnectionLostError):
        SUITE.test_statuses_are_returned_not_raised(
            RaisesOnErrorStatuses(), echo_server.base_url, 404
        )


@pytest.mark.sockets
def test_the_suite_catches_a_transport_that_drops_the_query(
    echo_server: EchoServer,
) -> None:
    with pytest.raises(AssertionError):
        SUITE.test_get_with_query_round_trip(
            DropsTheQuery(), echo_server.base_url
        )


def test_importing_amcards_testing_does_not_load_pytest() -> None:
    """The echo servers work without pytest; the suite loads it on demand."""
    code = textwrap.dedent(
        """
        import sys
        import amcards.testing
        assert "pytest" not in sys.modules, "loaded early"
        amcards.testing.TransportSuite
        assert "pytest" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import amcards.testing

    with pytest.raises(AttributeError, match="NoSuchThing"):
        amcards.testing.NoSuchThing  # noqa: B018


class SendAndCloseOnly:
    """The least a transport needs: send and close, no ``with``."""

    def __init__(self) -> None:
        self._inner = HttpClientTransport()

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        return self._inner.send(request, timeout=timeout)

    def close(self) -> None:
        self._inner.close()


@pytest.mark.sockets
class TestSendAndCloseOnly(TransportSuite):
    """A transport without ``with`` support passes; that case skips."""

    @pytest.fixture
    def transport(self) -> Iterator[SendAndCloseOnly]:
        transport = SendAndCloseOnly()
        yield transport
        transport.close()


class RetriesOnServerErrors(HttpClientTransport):
    """Sends again after a 5xx or a 429: a send could be mailed twice."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        response = super().send(request, timeout=timeout)
        if response.status >= 500 or response.status == 429:
            response = super().send(request, timeout=timeout)
        return response


class RetriesOnTimeout(HttpClientTransport):
    """Sends again after a read timeout, still within the time allowed."""

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        short = Timeout(connect=1.0, read=0.2)
        try:
            return super().send(request, timeout=short)
        except ReadTimeoutError:
            return super().send(request, timeout=short)


@pytest.mark.sockets
@pytest.mark.parametrize("status", [429, 500, 503])
def test_the_suite_catches_a_transport_that_repeats_after_a_status(
    echo_server: EchoServer, status: int
) -> None:
    with pytest.raises(AssertionError, match="repeated"):
        SUITE.test_statuses_are_returned_not_raised(
            RetriesOnServerErrors(), echo_server.base_url, status
        )


@pytest.mark.sockets
def test_the_suite_catches_a_transport_that_repeats_after_a_timeout() -> None:
    with pytest.raises(AssertionError, match="repeated"):
        SUITE.test_a_silent_server_times_out_within_the_timeout(
            RetriesOnTimeout()
        )

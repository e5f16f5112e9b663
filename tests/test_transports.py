"""The shared transport suite, run for every transport in the package."""

from __future__ import annotations

import itertools
import threading

import pytest

from amcards.core.http import Request, Response, Timeout
from amcards.testing import EchoTransport, TransportSuite, echo_app
from amcards.transports import fake
from amcards.transports.base import Transport
from amcards.transports.recorded import RecordingTransport, ReplayTransport
from amcards.transports.urllib3_transport import Urllib3Transport

FAST = Timeout(connect=2.0, read=5.0)


def echo_service():
    """The fake service with its routes replaced by the echo app."""

    class EchoService(fake.FakeAMcards):
        def handle(self, request: Request) -> Response:
            return echo_app(request)

    return EchoService()


@pytest.fixture(scope="module")
def fake_server():
    with fake.FakeServer(echo_service()) as server:
        yield server


class TestInMemoryEchoTransport(TransportSuite):
    """The suite itself, against the echo app with no sockets."""

    over_sockets = False

    @pytest.fixture
    def transport(self):
        with EchoTransport() as transport:
            yield transport

    @pytest.fixture
    def base_url(self):
        return ""


@pytest.mark.sockets
class TestUrllib3Transport(TransportSuite):
    """The urllib3 transport over real loopback sockets."""

    @pytest.fixture
    def transport(self):
        with Urllib3Transport(timeout=FAST) as transport:
            yield transport


@pytest.mark.sockets
class TestRecordingTransport(TransportSuite):
    """Recording over urllib3 changes nothing the caller sees."""

    @pytest.fixture
    def transport(self, tmp_path):
        inner = Urllib3Transport(timeout=FAST)
        with RecordingTransport(inner, tmp_path / "suite.json") as recorder:
            yield recorder


class RecordThenReplay:
    """Each request is recorded over urllib3, saved, then replayed.

    The answer the test sees is the replayed one, so every case of the
    suite checks what survives a trip through a cassette file.
    """

    def __init__(self, inner: Transport, directory) -> None:
        self._inner = inner
        self._directory = directory
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        with self._lock:
            number = next(self._numbers)
        path = self._directory / f"exchange-{number}.json"
        with RecordingTransport(
            self._inner, path, close_inner=False
        ) as recorder:
            recorder.send(request, timeout=timeout)
        with ReplayTransport(path) as replay:
            response = replay.send(request)
            assert replay.remaining == 0
        return response

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> RecordThenReplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.mark.sockets
class TestReplayTransport(TransportSuite):
    """Answers replayed from a cassette recorded over urllib3."""

    @pytest.fixture
    def transport(self, tmp_path):
        inner = Urllib3Transport(timeout=FAST)
        with RecordThenReplay(inner, tmp_path) as transport:
            yield transport


class TestFakeTransport(TransportSuite):
    """The fake service's in-memory transport, serving the echo app."""

    over_sockets = False

    @pytest.fixture
    def transport(self):
        with fake.FakeTransport(echo_service()) as transport:
            yield transport

    @pytest.fixture
    def base_url(self):
        return ""


@pytest.mark.sockets
class TestUrllib3OverFakeServer(TransportSuite):
    """urllib3 against the fake service's loopback HTTP server."""

    @pytest.fixture
    def transport(self):
        with Urllib3Transport(timeout=FAST) as transport:
            yield transport

    @pytest.fixture
    def base_url(self, fake_server):
        return fake_server.base_url

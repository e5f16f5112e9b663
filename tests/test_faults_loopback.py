"""Faults over real loopback sockets: the client against the fake server.

Each test stages a fault in the fake server's queue, makes one call
through the urllib3 transport, and reads the server's own counters to
show what happened: how many requests arrived, how many cards were made,
what was charged.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from amcards import AMcardsClient
from amcards.core.errors import (
    ConnectError,
    OAuthTokenRefreshError,
    ReadTimeoutError,
    SendOutcomeUnknownError,
    ServerError,
)
from amcards.core.http import Timeout
from amcards.core.retry import RetryPolicy
from amcards.transports import fake
from amcards.transports.fake.server import FakeServer
from amcards.transports.urllib3_transport import Urllib3Transport

pytestmark = pytest.mark.sockets

SEND_PATH = "/cards/open-card-form-oa/"
ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
    "third_party_contact_id": "crm-42",
}
SECRETS = (
    fake.DEMO_ACCESS_TOKEN,
    fake.DEMO_EXPIRED_ACCESS_TOKEN,
    fake.DEMO_REFRESH_TOKEN,
    fake.DEMO_CLIENT_SECRET,
)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: FakeServer, sleeps: list[float]) -> Iterator[AMcardsClient]:
    transport = Urllib3Transport(timeout=Timeout(connect=1.0, read=0.5))
    with AMcardsClient(
        fake.DEMO_ACCESS_TOKEN,
        base_url=server.base_url,
        transport=transport,
        sleep=sleeps.append,
    ) as made:
        yield made


def stage(server: FakeServer, kind: str, **options: Any) -> None:
    server.service.add_fault(fake.Fault(kind, **options))


def test_slow_answer_to_a_send_is_outcome_unknown_and_charged_once(
    client: AMcardsClient, server: FakeServer
) -> None:
    """A send answered after the read timeout is not repeated."""
    credits = server.service.credits(fake.DEMO_USER_ID)
    stage(server, "slow", delay=1.0, path=SEND_PATH)
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert isinstance(caught.value.__cause__, ReadTimeoutError)
    assert server.service.requests_seen.get(f"POST {SEND_PATH}") == 1
    found = client.find_recent_cards(third_party_contact_id="crm-42")
    assert len(found) == 1
    assert server.service.cards_created == 1
    charged = credits - server.service.credits(fake.DEMO_USER_ID)
    assert charged == found[0].amount_charged


def test_connection_dropped_after_commit_sends_exactly_one_card(
    client: AMcardsClient, server: FakeServer
) -> None:
    """A send committed, then cut off, leaves one card and one charge."""
    credits = server.service.credits(fake.DEMO_USER_ID)
    stage(server, "drop_after", path=SEND_PATH)
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert caught.value.sent["third_party_contact_id"] == "crm-42"
    assert server.service.cards_created == 1
    assert server.service.requests_seen[f"POST {SEND_PATH}"] == 1
    cost = client.send_card_cost(fake.DEMO_TEMPLATE_ID, ADDRESS)
    assert server.service.credits(fake.DEMO_USER_ID) == credits - cost


def test_connection_dropped_before_processing_a_send_is_not_repeated(
    client: AMcardsClient, server: FakeServer
) -> None:
    """A dropped send is reported unknown even when nothing was made."""
    stage(server, "drop_before", path=SEND_PATH)
    with pytest.raises(SendOutcomeUnknownError):
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert server.service.cards_created == 0
    assert server.service.requests_seen[f"POST {SEND_PATH}"] == 1


def test_server_error_on_a_send_is_not_repeated(
    client: AMcardsClient, server: FakeServer
) -> None:
    """A 503 to a send is outcome unknown, after exactly one request."""
    stage(server, "status", status=503, path=SEND_PATH)
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert isinstance(caught.value.__cause__, ServerError)
    assert server.service.requests_seen[f"POST {SEND_PATH}"] == 1


def test_read_is_retried_after_429_honouring_retry_after(
    client: AMcardsClient, server: FakeServer, sleeps: list[float]
) -> None:
    """A 429 with Retry-After on a read waits that long, then succeeds."""
    stage(server, "status", status=429, retry_after="3", path="/.api/v1/user/")
    assert client.user().id == fake.DEMO_USER_ID
    assert sleeps == [3.0]
    assert server.service.requests_seen["GET /.api/v1/user/"] == 2


def test_read_is_retried_after_an_html_proxy_page(
    client: AMcardsClient, server: FakeServer, sleeps: list[float]
) -> None:
    """A 502 HTML page from a proxy is retried on a read."""
    stage(server, "html", path="/.api/v1/user/")
    assert client.user().id == fake.DEMO_USER_ID
    assert len(sleeps) == 1


def test_html_page_that_persists_is_a_typed_error(
    server: FakeServer, sleeps: list[float]
) -> None:
    """A proxy page on every attempt ends in ServerError with an excerpt."""
    stage(server, "html", path="/.api/v1/user/", count=5)
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN,
        base_url=server.base_url,
        transport=Urllib3Transport(timeout=Timeout(1.0, 1.0)),
        sleep=sleeps.append,
        retry=RetryPolicy(max_attempts=3),
    )
    with pytest.raises(ServerError) as caught:
        client.user()
    assert caught.value.status == 502
    assert caught.value.body_excerpt
    assert server.service.requests_seen["GET /.api/v1/user/"] == 3


def test_slow_read_is_retried_within_the_timeout(
    client: AMcardsClient, server: FakeServer, sleeps: list[float]
) -> None:
    """A read that timed out once is tried again."""
    stage(server, "slow", delay=1.0, path="/.api/v1/user/")
    assert client.user().id == fake.DEMO_USER_ID
    assert len(sleeps) == 1


def test_refused_connection_on_a_send_is_retried_then_raised(
    sleeps: list[float],
) -> None:
    """A send that cannot connect is retried (it never left) and then
    raised as ConnectError, not as an unknown outcome."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN,
        base_url=f"http://127.0.0.1:{port}",
        transport=Urllib3Transport(timeout=Timeout(0.5, 0.5)),
        sleep=sleeps.append,
        retry=RetryPolicy(max_attempts=3),
    )
    with pytest.raises(ConnectError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert caught.value.request_sent is False
    assert len(sleeps) == 2


def test_no_secret_in_any_log_line_or_error(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, across refreshes, faults and errors, no secret is shown."""
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    client = expired_client(server, client_timeout=Timeout(1.0, 0.5))
    client.user()
    new_token = client._tokens.access_token
    stage(server, "drop_after", path=SEND_PATH)
    stage(server, "status", status=401, path="/.api/v1/card/1001/")
    stage(server, "slow", delay=1.0, path="/.api/v1/template/1/", count=9)
    calls = [
        lambda: client.send_card(fake.DEMO_TEMPLATE_ID, "t", ADDRESS),
        lambda: client.card(1001),
        lambda: client.template(1),
        lambda: client.card(fake.OTHER_CARD_ID),
    ]
    for call in calls:
        try:
            call()
        except Exception as exc:
            errors.append(f"{exc!s} {exc!r} {exc.__cause__!r}")
    text = "\n".join(errors + [r.getMessage() for r in caplog.records])
    text += repr(client)
    assert len(errors) == 3
    assert "Retrying" in text
    assert "Refreshing" in text
    latest = client._tokens
    for secret in (*SECRETS, new_token, latest.access_token):
        assert secret not in text
    assert str(latest.refresh_token) not in text


def expired_client(
    server: FakeServer, *, client_timeout: Timeout, **options: Any
) -> AMcardsClient:
    """A client whose access token has expired, with OAuth settings."""
    return AMcardsClient(
        fake.DEMO_EXPIRED_ACCESS_TOKEN,
        {
            "refresh_token": fake.DEMO_REFRESH_TOKEN,
            "expiration": 1_600_000_000_000,
            "client_id": fake.DEMO_CLIENT_ID,
            "client_secret": fake.DEMO_CLIENT_SECRET,
        },
        base_url=server.base_url,
        transport=Urllib3Transport(timeout=client_timeout),
        sleep=lambda seconds: None,
        **options,
    )


TOKEN_PATH = "/oauth2/token/"


def test_a_lost_refresh_answer_is_not_repeated_with_a_spent_token(
    server: FakeServer,
) -> None:
    """The service replaced the tokens, the answer was lost: the client
    says so once, and does not present the spent refresh token again."""
    stage(server, "drop_after", path=TOKEN_PATH)
    client = expired_client(server, client_timeout=Timeout(1.0, 2.0))
    with pytest.raises(OAuthTokenRefreshError) as caught:
        client.user()
    assert "answer to the token refresh was lost" in str(caught.value)
    assert "authorise again" in str(caught.value)
    assert server.service.requests_seen.get(f"POST {TOKEN_PATH}") == 1
    for secret in SECRETS:
        assert secret not in str(caught.value)


def test_a_refresh_that_never_left_is_tried_again(server: FakeServer) -> None:
    """A 503 from the token endpoint was not handled: tried again."""
    stage(server, "status", status=503, path=TOKEN_PATH)
    client = expired_client(server, client_timeout=Timeout(1.0, 2.0))
    assert client.user().id == fake.DEMO_USER_ID
    assert server.service.requests_seen.get(f"POST {TOKEN_PATH}") == 2


def test_the_per_call_timeout_bounds_a_refresh_too(server: FakeServer) -> None:
    """user(timeout=0.5) ends within about half a second even when the
    token endpoint is slow, whatever the client's own timeout."""
    stage(server, "slow", delay=5.0, path=TOKEN_PATH, count=5)
    client = expired_client(server, client_timeout=Timeout(5.0, 10.0))
    started = time.monotonic()
    with pytest.raises(OAuthTokenRefreshError):
        client.user(timeout=0.5)
    assert time.monotonic() - started < 2.0

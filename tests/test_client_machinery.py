"""The client's own state: tokens, refresh, retries, and lost sends.

These tests drive the client through a scripted transport, so each can
say exactly what the server answers and count what was asked.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from amcards import AMcardsClient
from amcards.core.errors import (
    AuthenticationError,
    ConnectError,
    ReadTimeoutError,
    SendOutcomeUnknownError,
    ServerError,
    UnexpectedResponseError,
    ValidationError,
)
from amcards.core.http import Request, Response, Timeout
from amcards.core.retry import RetryPolicy

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}
USER_LIST = {
    "meta": {"limit": 1, "offset": 0, "total_count": 1},
    "objects": [
        {
            "resource_uri": "/.api/v1/user/7/",
            "first_name": "Demo",
            "last_name": "User",
            "credits": 5000,
            "email": "demo@example.com",
            "date_joined": "2023-01-05T10:20:30",
            "address_line_1": "1 Main St",
            "city": "Southfield",
            "state": "MI",
            "postal": "48075",
            "country": "US",
            "postage": {
                "domestic_cost": 68,
                "international_cost": 150,
                "domestic_countries": ["US"],
            },
            "product_pricing_info": {"5x7greetingcard": 300},
        }
    ],
}
CARD_SENT = {
    "card": 99,
    "total_cost": 368,
    "user": "demo@example.com",
    "message": "ok",
}


def json_response(status: int, body: Any, **headers: str) -> Response:
    """A JSON answer with the given status."""
    return Response(status, tuple(headers.items()), json.dumps(body).encode())


class Scripted:
    """A transport that answers from a function and counts requests."""

    def __init__(self, answer: Callable[[Request], Response]) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        with self.lock:
            self.requests.append(request)
        return self.answer(request)

    def close(self) -> None:
        pass

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


def make_client(
    transport: Scripted,
    *,
    oauth: dict[str, Any] | None = None,
    callback: Callable[..., Any] | None = None,
    sleeps: list[float] | None = None,
    retry: RetryPolicy | None = None,
) -> AMcardsClient:
    waits = sleeps if sleeps is not None else []
    return AMcardsClient(
        "old-access-token",
        oauth,
        callback,
        transport=transport,
        clock=lambda: NOW,
        sleep=waits.append,
        random_source=lambda: 0.0,
        retry=retry,
    )


def oauth_config(expiration: int) -> dict[str, Any]:
    return {
        "refresh_token": "old-refresh-token",
        "expiration": expiration,
        "client_id": "client-id",
        "client_secret": "client-secret",
    }


def token_answer(request: Request) -> Response | None:
    if request.path != "/oauth2/token/":
        return None
    return json_response(
        200,
        {
            "access_token": "new-access-token",
            "refresh_token": "new-refresh-token",
            "expires_in": 3600,
        },
    )


def test_expiration_given_in_seconds_is_reported() -> None:
    """An expiration that looks like seconds names the field and the fix."""
    with pytest.raises(ValidationError) as caught:
        make_client(Scripted(token_answer), oauth=oauth_config(1671692131))
    assert caught.value.field == "oauth_config['expiration']"
    assert "milliseconds" in str(caught.value)


def test_missing_oauth_keys_are_named() -> None:
    """An oauth_config without every key names the missing ones."""
    with pytest.raises(ValidationError, match="client_secret"):
        make_client(
            Scripted(token_answer),
            oauth={"refresh_token": "r", "expiration": NOW_MS},
        )


def test_token_is_refreshed_shortly_before_expiry() -> None:
    """A token that expires within the margin is refreshed first."""

    def answer(request: Request) -> Response:
        return token_answer(request) or json_response(200, USER_LIST)

    transport = Scripted(answer)
    client = make_client(transport, oauth=oauth_config(NOW_MS + 30_000))
    client.user()
    assert transport.paths() == ["/oauth2/token/", "/.api/v1/user/"]
    used = transport.requests[1].header("Authorization")
    assert used == "Bearer new-access-token"


def test_token_far_from_expiry_is_not_refreshed() -> None:
    """A token with an hour left is used as it is."""
    transport = Scripted(lambda request: json_response(200, USER_LIST))
    client = make_client(transport, oauth=oauth_config(NOW_MS + 3_600_000))
    client.user()
    assert transport.paths() == ["/.api/v1/user/"]


def test_many_threads_refresh_once() -> None:
    """Threads that find the token expired together cause one refresh."""
    calls: list[dict[str, Any]] = []
    gate = threading.Barrier(8)

    def answer(request: Request) -> Response:
        if request.path == "/oauth2/token/":
            used = request.body.decode()
            assert "old-refresh-token" in used, "a rotated token was reused"
        return token_answer(request) or json_response(200, USER_LIST)

    transport = Scripted(answer)
    client = make_client(
        transport,
        oauth=oauth_config(NOW_MS - 1),
        callback=lambda **kw: calls.append(kw),
    )
    errors: list[BaseException] = []

    def work() -> None:
        gate.wait()
        try:
            client.user()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert transport.paths().count("/oauth2/token/") == 1
    assert len(calls) == 1
    assert calls[0]["access_token"] == "new-access-token"
    assert calls[0]["expiration"] == NOW_MS + 3_600_000


def test_401_with_oauth_refreshes_and_repeats_once() -> None:
    """A 401 refreshes the token and repeats the call, even a send."""

    def answer(request: Request) -> Response:
        refreshed = token_answer(request)
        if refreshed:
            return refreshed
        if request.header("Authorization") == "Bearer old-access-token":
            return json_response(401, {"error": "expired"})
        return json_response(200, CARD_SENT)

    transport = Scripted(answer)
    client = make_client(transport, oauth=oauth_config(NOW_MS + 3_600_000))
    result = client.send_card(1, "me", ADDRESS)
    assert result.card_id == 99
    assert transport.paths() == [
        "/cards/open-card-form-oa/",
        "/oauth2/token/",
        "/cards/open-card-form-oa/",
    ]


def test_401_without_oauth_is_an_authentication_error() -> None:
    """Without OAuth settings a 401 is an AuthenticationError at once."""
    transport = Scripted(lambda request: json_response(401, {}))
    client = make_client(transport)
    with pytest.raises(AuthenticationError) as caught:
        client.user()
    assert caught.value.status == 401
    assert caught.value.path == "/.api/v1/user/"
    assert len(transport.requests) == 1


def test_callback_error_reaches_caller_and_new_tokens_stay() -> None:
    """If the callback raises, the error surfaces; the new token is used."""

    def answer(request: Request) -> Response:
        return token_answer(request) or json_response(200, USER_LIST)

    def failing_callback(**tokens: Any) -> None:
        raise RuntimeError("database is down")

    transport = Scripted(answer)
    client = make_client(
        transport, oauth=oauth_config(NOW_MS - 1), callback=failing_callback
    )
    with pytest.raises(RuntimeError, match="database is down"):
        client.user()
    client.user()
    assert transport.paths().count("/oauth2/token/") == 1
    last = transport.requests[-1].header("Authorization")
    assert last == "Bearer new-access-token"


def test_read_timeout_on_a_send_is_outcome_unknown_and_not_repeated() -> None:
    """A send whose answer timed out is raised as outcome unknown, once."""

    def answer(request: Request) -> Response:
        raise ReadTimeoutError("no answer in time")

    transport = Scripted(answer)
    client = make_client(transport)
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(1, "me", {**ADDRESS, "third_party_contact_id": "c1"})
    assert len(transport.requests) == 1
    error = caught.value
    assert isinstance(error.__cause__, ReadTimeoutError)
    assert error.sent["third_party_contact_id"] == "c1"
    assert "find_recent_cards" in str(error)
    assert "old-access-token" not in str(error)


def test_server_error_on_a_send_is_outcome_unknown() -> None:
    """A 5xx answer to a send is not repeated: the outcome is unknown."""
    transport = Scripted(lambda request: json_response(502, {}))
    client = make_client(transport)
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(1, "me", ADDRESS)
    assert isinstance(caught.value.__cause__, ServerError)
    assert len(transport.requests) == 1


def test_send_that_never_connected_is_retried() -> None:
    """A send that could not even connect is tried again."""
    attempts: list[int] = []

    def answer(request: Request) -> Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectError("connection refused")
        return json_response(200, CARD_SENT)

    sleeps: list[float] = []
    client = make_client(Scripted(answer), sleeps=sleeps)
    assert client.send_card(1, "me", ADDRESS).card_id == 99
    assert len(attempts) == 2
    assert len(sleeps) == 1


def test_read_is_retried_on_503_with_retry_after() -> None:
    """A read answered 503 with Retry-After waits that long and retries."""
    answers = [
        json_response(503, {}, **{"Retry-After": "2"}),
        json_response(200, USER_LIST),
    ]
    sleeps: list[float] = []
    client = make_client(
        Scripted(lambda request: answers.pop(0)), sleeps=sleeps
    )
    assert client.user().id == 7
    assert sleeps == [2.0]


def test_read_gives_up_after_the_policy_attempts() -> None:
    """A read that keeps failing raises after max_attempts tries."""
    transport = Scripted(lambda request: json_response(503, {}))
    client = make_client(transport, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ServerError):
        client.user()
    assert len(transport.requests) == 3


def test_repr_shows_no_token() -> None:
    """The client's repr names the server, never the token."""
    client = make_client(Scripted(token_answer), oauth=oauth_config(NOW_MS))
    text = repr(client) + repr(client.__dict__)
    for secret in ("old-access-token", "old-refresh-token", "client-secret"):
        assert secret not in text


def test_card_cost_uses_domestic_postage_for_us_addresses() -> None:
    """send_card_cost adds card price, domestic postage and gifts."""
    template = {
        "id": 1,
        "name": "Thanks",
        "has_message_on_default_panel": "Hi",
        "thumbnail": "",
        "gifts": [
            {
                "gift_name": "Cookies",
                "image": "",
                "price": 1000,
                "shipping_and_handling": 200,
            }
        ],
    }

    def answer(request: Request) -> Response:
        if request.path == "/.api/v1/template/1/":
            return json_response(200, template)
        return json_response(200, USER_LIST)

    client = make_client(Scripted(answer))
    assert client.send_card_cost(1, {**ADDRESS, "country": "USA"}) == 1568
    abroad = {**ADDRESS, "country": "Canada"}
    assert client.send_card_cost(1, abroad) == 300 + 150 + 1200


def test_unreadable_success_answer_to_a_send_is_outcome_unknown() -> None:
    """A 200 answer to a send that cannot be read means it may have gone
    out: the error says so instead of inviting a retry."""
    transport = Scripted(lambda request: Response(200, (), b"<html>OK</html>"))
    client = make_client(transport)
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(1, "me", ADDRESS)
    assert isinstance(caught.value.__cause__, UnexpectedResponseError)
    assert str(caught.value).count("/cards/open-card-form-oa/") == 1


@pytest.mark.parametrize(
    "token", ["tok\r\nX-Evil: 1", "two words", "tab\there", "\x00nul"]
)
def test_a_token_a_header_cannot_carry_is_refused_without_showing_it(
    token: str,
) -> None:
    """Line breaks or spaces inside a token are a typed error that never
    quotes the token."""
    with pytest.raises(ValidationError) as caught:
        AMcardsClient(token, transport=Scripted(token_answer))
    assert caught.value.field == "access_token"
    assert token not in str(caught.value)


def test_a_token_read_from_a_file_loses_its_line_end() -> None:
    """Surrounding white space, as a file's last line end, is stripped."""
    transport = Scripted(lambda request: json_response(200, USER_LIST))
    AMcardsClient("file-token\n", transport=transport).user()
    assert transport.requests[0].header("Authorization") == (
        "Bearer file-token"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "https://",
        "http:///path",
        "http://127.0.0.1:99999",
        "ftp://example.invalid",
        "http://127.0.0.1:8765/?x=1",
        "127.0.0.1:8765",
        "http://user:secret@127.0.0.1:8765",
        "https://token@127.0.0.1",
    ],
)
def test_a_base_url_without_a_usable_server_is_refused(url: str) -> None:
    """base_url must be http(s) with a host, a valid port, no query."""
    with pytest.raises(ValidationError) as caught:
        AMcardsClient("t", base_url=url, transport=Scripted(token_answer))
    assert caught.value.field == "base_url"
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("transport", "nope", "send(request"),
        ("transport", object(), "not object"),
        ("ledger", "journal.db", "expected a SendLedger, not str"),
        ("retry", 3, "expected a RetryPolicy, not int"),
        ("callback", "print", "expected a function"),
        ("sleep", None, "expected a function"),
        ("clock", 5, "expected a function"),
        ("random_source", 0.5, "expected a function"),
    ],
)
def test_parts_of_the_wrong_kind_are_refused_when_the_client_is_made(
    field: str, value: object, expected: str
) -> None:
    """Not at first use, deep inside a call, as an AttributeError."""
    kwargs: dict[str, Any] = {"transport": Scripted(token_answer)}
    kwargs[field] = value
    with pytest.raises(ValidationError) as caught:
        AMcardsClient("t", **kwargs)
    assert caught.value.field == field
    assert expected in caught.value.reason


@pytest.mark.parametrize("timeout", [-1, 0, float("inf")])
def test_a_timeout_that_is_not_a_positive_number_is_refused(
    timeout: float,
) -> None:
    """Timeouts are checked, per client and per call, with a typed error."""
    with pytest.raises(ValidationError) as caught:
        AMcardsClient("t", transport=Scripted(token_answer), timeout=timeout)
    assert caught.value.field == "timeout"
    client = make_client(Scripted(token_answer))
    with pytest.raises(ValidationError):
        client.user(timeout=timeout)


def test_a_message_that_is_not_text_is_refused() -> None:
    """send_card's message must be a string; nothing is sent otherwise."""
    transport = Scripted(token_answer)
    with pytest.raises(ValidationError) as caught:
        make_client(transport).send_card(1, "me", ADDRESS, message=5)  # type: ignore[arg-type]
    assert caught.value.field == "message"
    assert transport.requests == []


def create_ralph(transport: Scripted, options: dict[str, Any]) -> None:
    """create_contact for Ralph Mullins with ``options`` added."""
    make_client(transport).create_contact(
        "Ralph",
        "Mullins",
        "2285 Reppert Road",
        "Southfield",
        "MI",
        "48075",
        **options,
    )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"birth_year": "86"}, "birth_year"),
        ({"birth_month": "13"}, "birth_month"),
        ({"birth_month": "2", "birth_day": "30"}, "birth_day"),
        ({"anniversary_day": "\u00b2"}, "anniversary_day"),
        ({"anniversary_year": 1986.0}, "anniversary_year"),
    ],
)
def test_create_contact_checks_date_parts_before_any_request(
    options: dict[str, Any], field: str
) -> None:
    transport = Scripted(token_answer)
    with pytest.raises(ValidationError) as caught:
        create_ralph(transport, options)
    assert caught.value.field == field
    assert transport.requests == []


@pytest.mark.parametrize(
    "options",
    [{"third_party_contact_id": 5}, {"initiator": ["me"]}],
)
def test_find_recent_cards_refuses_values_that_are_not_text(
    options: dict[str, Any],
) -> None:
    transport = Scripted(token_answer)
    with pytest.raises(ValidationError) as caught:
        make_client(transport).find_recent_cards(**options)
    assert caught.value.field == next(iter(options))
    assert transport.requests == []


def test_a_transport_class_instead_of_an_instance_is_refused() -> None:
    from amcards.transports.fake import FakeTransport

    with pytest.raises(ValidationError) as caught:
        AMcardsClient("t", transport=FakeTransport)  # type: ignore[arg-type]
    assert caught.value.field == "transport"
    assert "FakeTransport()" in caught.value.reason


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("3", "timeout.connect"),
        (None, "timeout.connect"),
        (True, "timeout.connect"),
    ],
)
def test_a_timeout_of_the_wrong_type_names_its_part(
    value: object, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Timeout(connect=value)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_scheme_of_base_url_may_be_in_capitals() -> None:
    client = AMcardsClient(
        "t",
        base_url="HTTPS://127.0.0.1:8765/",
        transport=Scripted(token_answer),
    )
    assert client.base_url == "https://127.0.0.1:8765"


@pytest.mark.parametrize("options", [{"notes": 5}, {"email": ["a@b.c"]}])
def test_create_contact_refuses_notes_or_email_that_are_not_text(
    options: dict[str, Any],
) -> None:
    transport = Scripted(token_answer)
    with pytest.raises(ValidationError) as caught:
        create_ralph(transport, options)
    assert caught.value.field == next(iter(options))
    assert transport.requests == []


@pytest.mark.parametrize(
    ("initiator", "message", "field"),
    [
        ("shop\nsync", None, "initiator"),
        ("x" * 201, None, "initiator"),
        ("shop", "\x1b[2Jhello", "message"),
    ],
)
def test_send_card_checks_initiator_and_message_before_any_request(
    initiator: str, message: str | None, field: str
) -> None:
    transport = Scripted(token_answer)
    with pytest.raises(ValidationError) as caught:
        make_client(transport).send_card(
            1, initiator, ADDRESS, message=message
        )
    assert caught.value.field == field
    assert transport.requests == []

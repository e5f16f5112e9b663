"""Tests for amcards.transports.recorded: cassettes, redaction, replay."""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from amcards.core.errors import ConnectionLostError, ReplayMismatchError
from amcards.core.http import Request, Response, Timeout
from amcards.transports.base import Transport
from amcards.transports.recorded import (
    MASKED,
    PERSONAL_FIELDS,
    REDACTED,
    SECRET_FIELDS,
    RecordingTransport,
    ReplayTransport,
)

ACCESS = "acc-7d1f0c2e9b"
REFRESH = "ref-55aa91c3f0"
NEW_ACCESS = "acc-new-0f9e8d7c"
NEW_REFRESH = "ref-new-1a2b3c4d"
CLIENT_SECRET = "cs-99887766554433"
JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")


class FunctionTransport:
    """A transport answering with ``answer(request)``; counts its calls."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.sent: list[Request] = []
        self.closed = 0

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        self.sent.append(request)
        return self.answer(request)

    def close(self) -> None:
        self.closed += 1


def json_response(value, status: int = 200, headers=()) -> Response:
    body = json.dumps(value).encode()
    return Response(status, [JSON, *headers], body)


def json_request(path: str, value, headers=(), **kw) -> Request:
    body = json.dumps(value, separators=(",", ":")).encode()
    return Request("POST", path, headers=[JSON, *headers], body=body, **kw)


def refresh_request() -> Request:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "client-1",
        "client_secret": CLIENT_SECRET,
    }
    return Request(
        "POST",
        "/oauth2/token/",
        headers=[FORM, ("Authorization", f"Bearer {ACCESS}")],
        body=urlencode(form).encode(),
    )


def token_answer(request: Request) -> Response:
    return json_response(
        {
            "access_token": NEW_ACCESS,
            "refresh_token": NEW_REFRESH,
            "expires_in": 3600,
        },
        headers=[("Set-Cookie", "sessionid=abc123")],
    )


def echo_json(request: Request) -> Response:
    return Response(200, [JSON], request.body or b"{}")


def record(tmp_path, answer, *requests, **options):
    """Record ``requests`` answered by ``answer``; the cassette's path."""
    path = tmp_path / "cassette.json"
    with RecordingTransport(
        FunctionTransport(answer), path, **options
    ) as recorder:
        for request in requests:
            recorder.send(request)
    return path


def test_recorded_transports_are_transports(tmp_path):
    """Both classes satisfy the Transport protocol."""
    recorder = RecordingTransport(echo_transport(), tmp_path / "c.json")
    assert isinstance(recorder, Transport)
    recorder.close()
    assert isinstance(ReplayTransport(recorder.path), Transport)


def echo_transport() -> FunctionTransport:
    return FunctionTransport(echo_json)


# Secrets -------------------------------------------------------------------


def test_secrets_never_reach_the_file(tmp_path):
    """Tokens and the client secret are redacted in requests and answers."""
    path = record(tmp_path, token_answer, refresh_request())
    text = path.read_text(encoding="utf-8")
    for secret in (ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, CLIENT_SECRET):
        assert secret not in text
    assert "abc123" not in text
    assert "Authorization" not in text
    exchange = json.loads(text)["exchanges"][0]
    assert exchange["request"]["body"] == {
        "form": [
            ["grant_type", "refresh_token"],
            ["refresh_token", REDACTED],
            ["client_id", "client-1"],
            ["client_secret", REDACTED],
        ]
    }
    assert exchange["response"]["body"] == {
        "json": {
            "access_token": REDACTED,
            "refresh_token": REDACTED,
            "expires_in": 3600,
        }
    }


def test_secrets_are_redacted_in_json_bodies_and_queries(tmp_path):
    """Secret keys are found at any depth of a JSON body and in a query."""
    request = json_request(
        "/nested/",
        {"outer": [{"access_token": ACCESS}], "client_secret": CLIENT_SECRET},
        query=[("refresh_token", REFRESH), ("limit", "5")],
    )
    text = record(tmp_path, echo_json, request).read_text(encoding="utf-8")
    for secret in (ACCESS, REFRESH, CLIENT_SECRET):
        assert secret not in text
    stored = json.loads(text)["exchanges"][0]["request"]
    assert stored["query"] == [["refresh_token", REDACTED], ["limit", "5"]]
    assert stored["body"]["json"]["outer"] == [{"access_token": REDACTED}]


def test_the_caller_gets_the_real_answer(tmp_path):
    """Only the file is cleaned; the recorded answer is passed on whole."""
    path = tmp_path / "c.json"
    with RecordingTransport(FunctionTransport(token_answer), path) as rec:
        response = rec.send(refresh_request())
    assert json.loads(response.body)["access_token"] == NEW_ACCESS


def test_the_secret_field_list():
    """The three OAuth secrets are among the redacted fields."""
    assert {"access_token", "refresh_token", "client_secret"} <= SECRET_FIELDS


# Personal fields -----------------------------------------------------------

SEND_CARD = {
    "template_id": "1",
    "initiator": "crm",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address_line_1": "12 Analytical Row",
    "address_line_2": "Flat 3",
    "city": "London",
    "state": "LDN",
    "postal_code": "N1 9GU",
    "phone_number": "5551234567",
    "birth_date": "1815-12-10",
    "return_first_name": "Charles",
    "return_address_line_1": "1 Difference St",
    "extra_data": {"contact": "ada@example.com"},
}
CARD = {
    "id": 77,
    "user": "sender@example.org",
    "ship_to_first_name": "Ada",
    "ship_to_last_name": "Lovelace",
    "ship_to_line_1": "12 Analytical Row",
    "ship_to_city": "London",
    "return_to_first_name": "Charles",
    "return_to_line_1": "1 Difference St",
    "email_address": "ada@example.com",
    "birth_year": 1815,
    "organization": "",
}
PERSONAL_VALUES = [
    "Ada",
    "Lovelace",
    "Analytical",
    "Flat 3",
    "5551234567",
    "1815",
    "Charles",
    "Difference",
    "example.com",
    "example.org",
]


def send_card_exchange(tmp_path, **options):
    request = json_request("/cards/open-card-form-oa/", SEND_CARD)
    return record(
        tmp_path, lambda request: json_response(CARD), request, **options
    )


def test_mask_personal_masks_recipients_in_requests_and_answers(tmp_path):
    """Names, address lines, phones, emails and birth dates are masked."""
    path = send_card_exchange(tmp_path, mask_personal=True)
    text = path.read_text(encoding="utf-8")
    for value in PERSONAL_VALUES:
        assert value not in text
    cassette = json.loads(text)
    assert cassette["mask_personal"] is True
    sent = cassette["exchanges"][0]["request"]["body"]["json"]
    assert sent["first_name"] == MASKED
    assert sent["return_address_line_1"] == MASKED
    assert sent["extra_data"] == {"contact": MASKED}
    assert (sent["city"], sent["template_id"]) == ("London", "1")
    card = cassette["exchanges"][0]["response"]["body"]["json"]
    assert card["ship_to_line_1"] == MASKED
    assert card["user"] == MASKED
    assert card["birth_year"] == 0
    assert (card["id"], card["organization"]) == (77, "")


def test_personal_fields_are_kept_unless_asked(tmp_path):
    """Without mask_personal the recipients stay readable."""
    text = send_card_exchange(tmp_path).read_text(encoding="utf-8")
    assert "Lovelace" in text
    assert json.loads(text)["mask_personal"] is False


@pytest.mark.parametrize(
    "field",
    [
        "first_name",
        "last_name",
        "address_line_1",
        "address_line_2",
        "phone_number",
        "email",
        "email_address",
        "birth_date",
        "ship_to_first_name",
        "ship_to_line_1",
        "return_to_last_name",
        "return_first_name",
    ],
)
def test_personal_field_names(field):
    """The documented personal keys are all masked."""
    assert field in PERSONAL_FIELDS


def test_a_masked_cassette_replays_real_requests(tmp_path):
    """Incoming requests are masked the same way before matching."""
    path = send_card_exchange(tmp_path, mask_personal=True)
    replay = ReplayTransport(path)
    response = replay.send(
        json_request("/cards/open-card-form-oa/", SEND_CARD)
    )
    assert json.loads(response.body)["ship_to_first_name"] == MASKED


# Replay --------------------------------------------------------------------


def test_replay_answers_what_was_recorded(tmp_path):
    """Status, headers and body come back as recorded."""
    answer = Response(
        201, [JSON, ("X-Request-Id", "r-1")], b'{"card": 5, "total_cost": 3}'
    )
    request = json_request("/cards/", {"a": 1})
    path = record(tmp_path, lambda r: answer, request)
    replayed = ReplayTransport(path).send(request)
    assert replayed.status == 201
    assert replayed.header("x-request-id") == "r-1"
    assert json.loads(replayed.body) == {"card": 5, "total_cost": 3}


def test_replay_needs_no_network(tmp_path, monkeypatch):
    """Replaying opens no socket."""
    path = record(tmp_path, echo_json, json_request("/x/", {"b": 2}))

    def no_sockets(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr("socket.socket.connect", no_sockets)
    assert ReplayTransport(path).send(json_request("/x/", {"b": 2})).status


def test_replay_fixes_content_length(tmp_path):
    """A re-serialised body gets a Content-Length that fits it."""
    body = b'{ "spaced" :  true }'
    answer = Response(200, [JSON, ("Content-Length", str(len(body)))], body)
    path = record(tmp_path, lambda r: answer, Request("GET", "/s/"))
    replayed = ReplayTransport(path).send(Request("GET", "/s/"))
    assert replayed.body == b'{"spaced":true}'
    assert replayed.header("content-length") == str(len(replayed.body))


@pytest.mark.parametrize(
    ("content_type", "body", "form"),
    [
        ("application/octet-stream", bytes(range(256)), "base64"),
        ("text/html; charset=utf-8", "<p>Grüße</p>".encode(), "text"),
        ("application/json", b"{not json", "text"),
        ("application/vnd.api+json", b'{"a":[1,2]}', "json"),
        (None, b'["no", "type"]', "json"),
        ("application/x-www-form-urlencoded", b"a=1&b=%C3%A9", "form"),
    ],
)
def test_bodies_are_stored_readably_and_replayed(
    tmp_path, content_type, body, form
):
    """Each kind of body is stored in its form and comes back."""
    headers = [("Content-Type", content_type)] if content_type else []
    request = Request("POST", "/b/", headers=headers, body=body)
    answer = Response(200, headers, body)
    path = record(tmp_path, lambda r: answer, request)
    stored = json.loads(path.read_text())["exchanges"][0]
    assert list(stored["request"]["body"]) == [form]
    replayed = ReplayTransport(path).send(request).body
    if form == "json":
        assert json.loads(replayed) == json.loads(body)
    else:
        assert replayed == body


def test_an_empty_body_is_stored_as_null(tmp_path):
    """No body is ``null`` in the file and b"" on replay."""
    path = record(tmp_path, lambda r: Response(204), Request("DELETE", "/c/"))
    stored = json.loads(path.read_text())["exchanges"][0]
    assert stored["request"]["body"] is None
    assert stored["response"]["body"] is None
    assert ReplayTransport(path).send(Request("DELETE", "/c/")).body == b""


def test_requests_must_come_in_order(tmp_path):
    """By default each request must match the next entry."""
    first, second = Request("GET", "/1/"), Request("GET", "/2/")
    path = record(tmp_path, echo_json, first, second)
    replay = ReplayTransport(path)
    with pytest.raises(ReplayMismatchError):
        replay.send(second)
    assert replay.send(first).status == 200
    assert replay.send(second).status == 200
    assert replay.remaining == 0


def test_any_order_takes_the_first_matching_entry(tmp_path):
    """any_order=True lets requests come in any order, each once."""
    first, second = Request("GET", "/1/"), Request("GET", "/2/")
    path = record(tmp_path, echo_json, first, second)
    replay = ReplayTransport(path, any_order=True)
    assert replay.send(second).status == 200
    assert replay.send(first).status == 200
    with pytest.raises(ReplayMismatchError, match="no unused entries"):
        replay.send(first)


def test_each_entry_answers_once(tmp_path):
    """A request recorded once cannot be replayed twice."""
    request = Request("GET", "/once/")
    replay = ReplayTransport(record(tmp_path, echo_json, request))
    replay.send(request)
    with pytest.raises(ReplayMismatchError) as caught:
        replay.send(request)
    assert "no unused entries left" in str(caught.value)


@pytest.mark.parametrize(
    ("asked", "differs"),
    [
        (Request("DELETE", "/.api/v1/card/"), "method"),
        (Request("GET", "/.api/v1/cards/"), "path"),
        (Request("GET", "/.api/v1/card/", query=[("limit", "9")]), "query"),
        (
            Request(
                "GET", "/.api/v1/card/", query=[("limit", "5")], body=b"x=1"
            ),
            "body",
        ),
    ],
)
def test_replay_matches_method_path_query_and_body(tmp_path, asked, differs):
    """A difference in any of the four parts is a mismatch naming it."""
    recorded = Request("GET", "/.api/v1/card/", query=[("limit", "5")])
    replay = ReplayTransport(record(tmp_path, echo_json, recorded))
    with pytest.raises(ReplayMismatchError) as caught:
        replay.send(asked)
    assert f"they differ in: {differs}" in str(caught.value)


def test_headers_are_not_compared(tmp_path):
    """A different token or header still matches."""
    recorded = Request("GET", "/u/", headers=[("Authorization", "Bearer a")])
    replay = ReplayTransport(record(tmp_path, echo_json, recorded))
    other = Request("GET", "/u/", headers=[("Authorization", "Bearer b")])
    assert replay.send(other).status == 200


def test_json_bodies_match_whatever_their_key_order(tmp_path):
    """Bodies are compared as JSON, not as bytes."""
    recorded = json_request("/j/", {"a": 1, "b": [1, 2]})
    replay = ReplayTransport(record(tmp_path, echo_json, recorded))
    reordered = Request(
        "POST", "/j/", headers=[JSON], body=b'{"b": [1, 2], "a": 1}'
    )
    assert replay.send(reordered).status == 200


def test_mismatch_error_shows_both_sides_without_secrets(tmp_path):
    """The error shows what was asked and what comes next, no secret."""
    path = record(
        tmp_path,
        token_answer,
        refresh_request(),
    )
    replay = ReplayTransport(path)
    asked = json_request(
        "/cards/open-card-form-oa/",
        {"template_id": "2", "access_token": ACCESS},
        headers=[JSON, ("Authorization", f"Bearer {ACCESS}")],
    )
    with pytest.raises(ReplayMismatchError) as caught:
        replay.send(asked)
    message = str(caught.value)
    assert "asked:   POST /cards/open-card-form-oa/" in message
    assert '"template_id": "2"' in message
    assert "next (entry 1 of 1): POST /oauth2/token/" in message
    assert "they differ in: path, body" in message
    for secret in (ACCESS, REFRESH, CLIENT_SECRET, NEW_ACCESS):
        assert secret not in message
    assert caught.value.method == "POST"
    assert caught.value.path == "/cards/open-card-form-oa/"


def test_a_file_that_is_not_a_cassette_is_refused(tmp_path):
    """Loading anything but a cassette raises ValueError."""
    path = tmp_path / "other.json"
    path.write_text('{"exchanges": []}')
    with pytest.raises(ValueError, match="not an amcards cassette"):
        ReplayTransport(path)


# The file ------------------------------------------------------------------


def test_the_file_is_stable(tmp_path):
    """Recording the same exchanges twice writes the same bytes."""
    requests = [refresh_request(), json_request("/x/", {"z": 1, "a": 2})]
    first = record(tmp_path / "1", token_answer, *requests).read_bytes()
    second = record(tmp_path / "2", token_answer, *requests).read_bytes()
    assert first == second
    assert first.endswith(b"}\n")
    cassette = json.loads(first)
    assert list(cassette) == ["amcards_cassette", "mask_personal", "exchanges"]
    exchange = cassette["exchanges"][0]
    assert list(exchange) == ["request", "response"]
    assert list(exchange["request"]) == [
        "method",
        "path",
        "query",
        "headers",
        "body",
    ]
    assert list(exchange["response"]) == ["status", "headers", "body"]
    assert b'\n  "exchanges": [\n' in first


def test_the_file_is_written_on_close_and_on_with(tmp_path):
    """Nothing is written until close() or the end of a with block."""
    path = tmp_path / "c.json"
    inner = echo_transport()
    recorder = RecordingTransport(inner, path)
    recorder.send(Request("GET", "/a/"))
    assert not path.exists()
    recorder.close()
    assert len(json.loads(path.read_text())["exchanges"]) == 1
    assert inner.closed == 1
    recorder.close()
    assert inner.closed == 1


def test_close_inner_false_leaves_the_inner_transport_open(tmp_path):
    """close_inner=False does not close the wrapped transport."""
    inner = echo_transport()
    with RecordingTransport(inner, tmp_path / "c.json", close_inner=False):
        pass
    assert inner.closed == 0


def test_writing_is_atomic(tmp_path, monkeypatch):
    """A failed write leaves the old file whole and no temporary file."""
    path = record(tmp_path, echo_json, Request("GET", "/old/"))
    before = path.read_bytes()
    recorder = RecordingTransport(echo_transport(), path)
    recorder.send(Request("GET", "/new/"))

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        recorder.save()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_failures_are_passed_on_and_not_recorded(tmp_path):
    """An error from the inner transport reaches the caller unrecorded."""

    def fail(request):
        raise ConnectionLostError("dropped")

    path = tmp_path / "c.json"
    with (
        RecordingTransport(FunctionTransport(fail), path) as recorder,
        pytest.raises(ConnectionLostError),
    ):
        recorder.send(Request("GET", "/x/"))
    assert json.loads(path.read_text())["exchanges"] == []


def test_the_timeout_is_passed_to_the_inner_transport(tmp_path):
    """send(timeout=...) reaches the wrapped transport."""
    seen = []

    class Inner(FunctionTransport):
        def send(self, request, *, timeout=None):
            seen.append(timeout)
            return super().send(request)

    limit = Timeout(connect=1.0, read=2.0)
    with RecordingTransport(Inner(echo_json), tmp_path / "c.json") as rec:
        rec.send(Request("GET", "/t/"), timeout=limit)
    assert seen == [limit]


# Threads -------------------------------------------------------------------


def test_recording_from_many_threads_keeps_every_exchange(tmp_path):
    """Concurrent sends are all recorded, each exchange whole."""
    path = tmp_path / "c.json"
    with RecordingTransport(echo_transport(), path) as recorder:

        def one(number):
            recorder.send(json_request(f"/n/{number}/", {"n": number}))

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(one, range(200)))
    exchanges = json.loads(path.read_text())["exchanges"]
    numbers = sorted(e["response"]["body"]["json"]["n"] for e in exchanges)
    assert numbers == list(range(200))
    for exchange in exchanges:
        n = exchange["request"]["body"]["json"]["n"]
        assert exchange["request"]["path"] == f"/n/{n}/"


def test_replaying_from_many_threads_answers_each_entry_once(tmp_path):
    """With any_order, concurrent replays share the entries exactly."""
    requests = [json_request(f"/n/{n}/", {"n": n}) for n in range(100)]
    replay = ReplayTransport(
        record(tmp_path, echo_json, *requests), any_order=True
    )
    barrier = threading.Barrier(4)

    def replay_some(chunk):
        barrier.wait(timeout=5)
        return [json.loads(replay.send(r).body)["n"] for r in chunk]

    chunks = [requests[i::4] for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = sorted(
            n for ns in pool.map(replay_some, chunks) for n in ns
        )
    assert answered == list(range(100))
    assert replay.remaining == 0


# Round trips ---------------------------------------------------------------

# Text that names a secret as a parameter or a quoted field is cleaned
# wherever it appears, so the round trips leave it out.
SECRET_LOOKING = re.compile(
    r"(token|secret|password|code)['\"]?\s*[=:]", re.IGNORECASE
)
plain_text = st.text().filter(lambda text: not SECRET_LOOKING.search(text))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | plain_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text().filter(
                lambda k: k.lower() not in SECRET_FIELDS | PERSONAL_FIELDS
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_json_bodies_survive_a_cassette(tmp_path, value):
    """Any JSON body without secret keys replays equal as JSON."""
    request = json_request("/rt/", value)
    path = record(tmp_path, echo_json, request)
    replayed = ReplayTransport(path).send(request)
    assert json.loads(replayed.body) == value


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1), st.sampled_from([None, "application/pdf"]))
def test_other_bodies_survive_a_cassette_byte_for_byte(
    tmp_path, body, content_type
):
    """Bodies that are not JSON or form replay byte for byte."""
    assume(not SECRET_LOOKING.search(body.decode("latin-1")))
    headers = [("Content-Type", content_type)] if content_type else []
    answer = Response(200, headers, body)
    request = Request("GET", "/bin/")
    path = record(tmp_path, lambda r: answer, request)
    replayed = ReplayTransport(path).send(request)
    if replayed.body != body:
        # Without a Content-Type, a body that parses as JSON is stored
        # as JSON: it must then be equal as JSON.
        assert content_type is None
        assert json.loads(replayed.body) == json.loads(body)

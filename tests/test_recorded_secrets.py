"""Cassettes keep no secret, whatever label a body carries."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from amcards import AMcardsClient
from amcards.core.builders import build_refresh_token_request
from amcards.core.http import Request, Response, Timeout
from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    FakeAMcards,
    FakeTransport,
    Fault,
)
from amcards.transports.recorded import (
    REDACTED,
    RecordingTransport,
    ReplayTransport,
)

SECRET = "s3cr3t-value-9f8e7d"


class RelabellingTransport:
    """Passes requests to ``inner`` and relabels each answer's type."""

    def __init__(self, inner: FakeTransport, content_type: str) -> None:
        self.inner = inner
        self.content_type = content_type

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        answer = self.inner.send(request, timeout=timeout)
        headers = [
            (name, value)
            for name, value in answer.headers
            if name.lower() != "content-type"
        ]
        headers.append(("Content-Type", self.content_type))
        return Response(answer.status, headers, answer.body)

    def close(self) -> None:
        self.inner.close()


class AnsweringTransport:
    """Answers every request with the same response."""

    def __init__(self, answer: Response) -> None:
        self.answer = answer

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        return self.answer

    def close(self) -> None:
        pass


def record(tmp_path, inner, *requests):
    """Send ``requests`` through a recorder; the answers and the file."""
    path = tmp_path / "cassette.json"
    with RecordingTransport(inner, path) as recorder:
        answers = [recorder.send(request) for request in requests]
    return answers, path


def refresh() -> Request:
    return build_refresh_token_request(
        DEMO_REFRESH_TOKEN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/html; charset=utf-8",
        "application/javascript",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    ],
)
def test_new_tokens_are_redacted_whatever_the_answer_is_labelled(
    tmp_path, content_type
):
    """A token answer that is JSON is redacted as JSON under any label."""
    inner = RelabellingTransport(FakeTransport(), content_type)
    (answer,), path = record(tmp_path, inner, refresh())
    tokens = json.loads(answer.body)
    text = path.read_text(encoding="utf-8")
    for secret in (
        tokens["access_token"],
        tokens["refresh_token"],
        DEMO_REFRESH_TOKEN,
        DEMO_CLIENT_SECRET,
    ):
        assert secret not in text
    stored = json.loads(text)["exchanges"][0]["response"]["body"]
    assert stored["json"]["access_token"] == REDACTED
    assert stored["json"]["refresh_token"] == REDACTED
    assert stored["json"]["expires_in"] == tokens["expires_in"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/html", "application/pdf", None]
)
def test_json_bodies_of_any_endpoint_are_redacted_under_any_label(
    tmp_path, content_type
):
    """Requests and answers that parse as JSON lose their secret fields."""
    labels = [("Content-Type", content_type)] if content_type else []
    body = json.dumps({"user": 1, "password": SECRET}).encode()
    inner = AnsweringTransport(Response(200, labels, body))
    request = Request("POST", "/.api/v1/user/", headers=labels, body=body)
    _, path = record(tmp_path, inner, request)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    exchange = json.loads(text)["exchanges"][0]
    for side in ("request", "response"):
        stored = exchange[side]["body"]
        assert stored == {"json": {"user": 1, "password": REDACTED}}


def test_a_body_labelled_otherwise_keeps_its_bytes_when_nothing_is_secret(
    tmp_path,
):
    """JSON text under another label is kept as text if nothing changes."""
    body = b'{ "spaced" : [1, 2] }'
    answer = Response(200, [("Content-Type", "text/plain")], body)
    _, path = record(tmp_path, AnsweringTransport(answer), Request("GET", "/"))
    stored = json.loads(path.read_text())["exchanges"][0]["response"]["body"]
    assert stored == {"text": body.decode()}
    assert ReplayTransport(path).send(Request("GET", "/")).body == body


def test_an_unreadable_token_answer_is_redacted_whole(tmp_path):
    """A token-endpoint body that is neither JSON nor a form is replaced."""
    service = FakeAMcards.demo()
    service.add_fault(
        Fault(
            "html",
            status=200,
            path="/oauth2/token/",
            body=f"<p>access_token: {SECRET}</p>",
        )
    )
    _, path = record(tmp_path, FakeTransport(service), refresh())
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    stored = json.loads(text)["exchanges"][0]["response"]["body"]
    assert stored == {"text": REDACTED}


def test_an_unreadable_token_request_is_redacted_whole_and_still_replays(
    tmp_path,
):
    """A token request body that cannot be read is replaced; it matches."""
    request = Request(
        "POST",
        "/oauth2/token/",
        headers=[("Content-Type", "text/plain")],
        body=f"refresh {SECRET} please".encode(),
    )
    answer = Response(400, [("Content-Type", "text/plain")], b"no")
    _, path = record(tmp_path, AnsweringTransport(answer), request)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    stored = json.loads(text)["exchanges"][0]["request"]["body"]
    assert stored == {"text": REDACTED}
    assert ReplayTransport(path).send(request).status == 400


def test_a_token_form_labelled_as_text_is_redacted(tmp_path):
    """A form-encoded token request is read as a form under any label."""
    form = urlencode(
        {
            "grant_type": "authorization_code",
            "code": SECRET,
            "client_secret": SECRET + "x",
        }
    )
    request = Request(
        "POST",
        "/oauth2/token/",
        headers=[("Content-Type", "text/plain")],
        body=form.encode(),
    )
    answer = Response(400, [], b"")
    _, path = record(tmp_path, AnsweringTransport(answer), request)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    stored = json.loads(text)["exchanges"][0]["request"]["body"]
    assert stored == {
        "form": [
            ["grant_type", "authorization_code"],
            ["code", REDACTED],
            ["client_secret", REDACTED],
        ]
    }


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain"]
)
def test_secrets_in_form_bodies_of_any_endpoint_are_redacted(
    tmp_path, content_type
):
    """A form body anywhere loses its secrets, labelled as a form or not."""
    body = f"name=x&access_token={SECRET}&password={SECRET}&code={SECRET}"
    request = Request(
        "POST",
        "/somewhere/",
        headers=[("Content-Type", content_type)],
        body=body.encode(),
    )
    _, path = record(tmp_path, AnsweringTransport(Response(204)), request)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert "name" in text
    assert ReplayTransport(path).send(request).status == 204


@pytest.mark.parametrize(
    "name", ["access_token", "refresh_token", "client_secret", "code"]
)
def test_tokens_in_a_query_are_redacted(tmp_path, name):
    """A token in the query, or in a query written into the path, is gone."""
    requests = [
        Request("GET", "/q/", query=[(name, SECRET), ("limit", "5")]),
        Request("GET", f"/q/?{name}={SECRET}&limit=5"),
        Request("GET", "/q/", query=[(name.upper(), SECRET)]),
    ]
    inner = AnsweringTransport(Response(204))
    _, path = record(tmp_path, inner, *requests)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    stored = [e["request"] for e in json.loads(text)["exchanges"]]
    assert stored[0]["query"] == [[name, REDACTED], ["limit", "5"]]
    assert stored[1]["path"] == f"/q/?{name}={REDACTED}&limit=5"
    replay = ReplayTransport(path)
    for request in requests:
        assert replay.send(request).status == 204


@pytest.mark.parametrize(
    "header",
    ["Authorization", "authorization", "AUTHORIZATION", "Proxy-Authorization"],
)
def test_authorization_headers_never_reach_the_file(tmp_path, header):
    """The credential header is left out, however it is spelled."""
    request = Request("GET", "/.api/v1/user/", headers=[(header, SECRET)])
    _, path = record(tmp_path, AnsweringTransport(Response(204)), request)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert "authorization" not in text.lower()


def test_token_like_headers_and_urls_in_headers_are_redacted(tmp_path):
    """Headers that carry tokens, and tokens in a redirect URL, are gone."""
    request = Request(
        "GET",
        "/.api/v1/user/",
        headers=[("X-Api-Key", SECRET), ("X-Auth-Token", SECRET)],
    )
    answer = Response(
        302, [("Location", f"https://example.invalid/cb?code={SECRET}&x=1")]
    )
    _, path = record(tmp_path, AnsweringTransport(answer), request)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    stored = json.loads(text)["exchanges"][0]["response"]["headers"]
    assert stored == [
        ["Location", f"https://example.invalid/cb?code={REDACTED}&x=1"]
    ]


def test_tokens_inside_text_answers_are_redacted(tmp_path):
    """A text answer quoting a token as a parameter or a key loses it."""
    body = (
        f'<a href="/cb?access_token={SECRET}">go</a>'
        f'<script>var t = {{"refresh_token": "{SECRET}"}};</script>'
    )
    answer = Response(200, [("Content-Type", "text/html")], body.encode())
    _, path = record(tmp_path, AnsweringTransport(answer), Request("GET", "/"))
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    stored = json.loads(text)["exchanges"][0]["response"]["body"]["text"]
    assert f"access_token={REDACTED}" in stored
    assert f'"refresh_token": "{REDACTED}"' in stored


def test_a_relabelled_token_exchange_replays(tmp_path):
    """The token request recorded under any answer label replays."""
    inner = RelabellingTransport(FakeTransport(), "text/plain")
    _, path = record(tmp_path, inner, refresh())
    replayed = ReplayTransport(path).send(refresh())
    assert json.loads(replayed.body)["access_token"] == REDACTED


def test_the_access_token_of_a_client_never_reaches_the_file(tmp_path):
    """A whole client session records no token at all."""
    path = tmp_path / "c.json"
    recorder = RecordingTransport(FakeTransport(), path)
    with AMcardsClient(DEMO_ACCESS_TOKEN, transport=recorder) as client:
        client.user()
    assert DEMO_ACCESS_TOKEN not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "body",
    ["a=" * 100_000, "x" * 200_000 + "@", '"a": "' * 50_000, "?x=" * 50_000],
)
def test_long_bodies_full_of_parameters_are_recorded(tmp_path, body):
    """Text that looks like many parameters is cleaned in one pass."""
    answer = Response(200, [("Content-Type", "text/plain")], body.encode())
    path = tmp_path / "c.json"
    with RecordingTransport(
        AnsweringTransport(answer), path, mask_personal=True
    ) as recorder:
        recorder.send(Request("GET", "/"))
    assert ReplayTransport(path).send(Request("GET", "/")).body == answer.body


def test_a_code_in_a_url_inside_a_parameter_is_redacted(tmp_path):
    """A redirect address carrying a code loses the code."""
    request = Request(
        "GET",
        "/cb/",
        query=[("next", f"https://example.invalid/?code={SECRET}&x=1")],
    )
    _, path = record(tmp_path, AnsweringTransport(Response(204)), request)
    stored = json.loads(path.read_text())["exchanges"][0]["request"]
    assert stored["query"] == [
        ["next", f"https://example.invalid/?code={REDACTED}&x=1"]
    ]

"""A cassette is checked whole when it is loaded, with typed errors."""

from __future__ import annotations

import json

import pytest

from amcards.core.errors import (
    AMcardsException,
    CassetteError,
    ValidationError,
)
from amcards.core.http import Request
from amcards.transports.fake import FakeTransport
from amcards.transports.recorded import RecordingTransport, ReplayTransport


@pytest.fixture
def cassette(tmp_path):
    """A good cassette of three entries, as loaded JSON, and its path."""
    path = tmp_path / "good.json"
    with RecordingTransport(FakeTransport(), path) as recorder:
        recorder.send(Request("GET", "/.api/v1/template/1/"))
        recorder.send(Request("GET", "/.api/v1/card/", query=[("limit", "2")]))
        recorder.send(
            Request(
                "POST",
                "/oauth2/token/",
                headers=[
                    ("Content-Type", "application/x-www-form-urlencoded")
                ],
                body=b"grant_type=refresh_token&refresh_token=x",
            )
        )
    return json.loads(path.read_text(encoding="utf-8")), path


def broken(path, text):
    """Write ``text`` as a cassette and load it; the error raised."""
    target = path.with_name("broken.json")
    target.write_text(text, encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        ReplayTransport(target)
    assert isinstance(caught.value, AMcardsException)
    assert isinstance(caught.value, ValidationError)
    assert "broken.json" in str(caught.value)
    assert caught.value.file == str(target)
    assert str(caught.value).count("broken.json") == 1
    return caught.value


def test_a_good_cassette_loads(cassette):
    """The recorder's own files pass the check."""
    _, path = cassette
    assert ReplayTransport(path).remaining == 3


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"amcards_cassette": 1,', "not JSON"),
        ('{"amcards_cassette": 1,\n "x": }', "line 2, column 7"),
        ('{"amcards_cassette": NaN}', "NaN is not JSON"),
        ("[]", "not a cassette"),
        ('{"exchanges": []}', "amcards_cassette"),
    ],
)
def test_a_file_that_is_not_a_cassette_is_a_typed_error(
    cassette, text, reason
):
    """Empty, not JSON or not a cassette: one error naming the file."""
    error = broken(cassette[1], text)
    assert reason in str(error)


def test_a_file_that_is_not_utf8_is_a_typed_error(cassette):
    """Bytes that are not UTF-8 are refused plainly."""
    target = cassette[1].with_name("broken.json")
    target.write_bytes(b'{"amcards_cassette": 1, "x": "\xff"}')
    with pytest.raises(ValidationError, match=r"broken\.json.*UTF-8"):
        ReplayTransport(target)


@pytest.mark.parametrize("version", [True, 1.0, "1", None, 0, 2])
def test_the_version_must_be_the_whole_number_1(cassette, version):
    """true, 1.0, "1" or another version are not version 1."""
    data, path = cassette
    data["amcards_cassette"] = version
    error = broken(path, json.dumps(data))
    assert error.field == "amcards_cassette"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.update(mask_personal="yes"), "mask_personal"),
        (lambda c: c.update(exchanges={}), "exchanges"),
        (lambda c: c.update(extra=1), "extra"),
    ],
)
def test_the_top_level_is_checked(cassette, change, field):
    """mask_personal is true or false; exchanges a list; no other keys."""
    data, path = cassette
    change(data)
    assert broken(path, json.dumps(data)).field == field


ENTRY_CHANGES = [
    (lambda e: e.pop("response"), "exchanges[1].response", "missing"),
    (lambda e: e.pop("request"), "exchanges[1].request", "missing"),
    (lambda e: e.update(note="x"), "exchanges[1].note", "unknown"),
    (lambda e: e.update(request=[]), "exchanges[1].request", "object"),
    (
        lambda e: e["request"].pop("query"),
        "exchanges[1].request.query",
        "missing",
    ),
    (
        lambda e: e["request"].update(query=[["limit"]]),
        "exchanges[1].request.query[0]",
        "pair",
    ),
    (
        lambda e: e["request"].update(query=[["limit", 2]]),
        "exchanges[1].request.query[0]",
        "pair",
    ),
    (
        lambda e: e["request"].update(query="limit=2"),
        "exchanges[1].request.query",
        "list",
    ),
    (
        lambda e: e["request"].update(method=5),
        "exchanges[1].request.method",
        "method",
    ),
    (
        lambda e: e["request"].update(method="get"),
        "exchanges[1].request.method",
        "method",
    ),
    (
        lambda e: e["request"].update(path=None),
        "exchanges[1].request.path",
        "text",
    ),
    (
        lambda e: e["response"]["headers"].insert(0, ["X", 1]),
        "exchanges[1].response.headers[0]",
        "pair",
    ),
    (
        lambda e: e["response"].update(status="200"),
        "exchanges[1].response.status",
        "status",
    ),
    (
        lambda e: e["response"].update(status=True),
        "exchanges[1].response.status",
        "status",
    ),
    (
        lambda e: e["response"].update(status=200.0),
        "exchanges[1].response.status",
        "status",
    ),
    (
        lambda e: e["response"].update(status=99),
        "exchanges[1].response.status",
        "status",
    ),
    (
        lambda e: e["response"].update(body={"xml": "<a/>"}),
        "exchanges[1].response.body",
        "xml",
    ),
    (
        lambda e: e["response"].update(body={"text": "a", "json": 1}),
        "exchanges[1].response.body",
        "one",
    ),
    (
        lambda e: e["response"].update(body="plain"),
        "exchanges[1].response.body",
        "object",
    ),
    (
        lambda e: e["response"].update(body={"text": 5}),
        "exchanges[1].response.body.text",
        "text",
    ),
    (
        lambda e: e["response"].update(body={"base64": "not base64!"}),
        "exchanges[1].response.body.base64",
        "base64",
    ),
    (
        lambda e: e["response"].update(body={"form": [["a", "b", "c"]]}),
        "exchanges[1].response.body.form[0]",
        "pair",
    ),
]


@pytest.mark.parametrize(("change", "field", "reason"), ENTRY_CHANGES)
def test_a_broken_entry_is_named_when_the_cassette_loads(
    cassette, change, field, reason
):
    """The error names the file, the entry and the field, in plain words."""
    data, path = cassette
    change(data["exchanges"][1])
    error = broken(path, json.dumps(data))
    assert error.field == field
    assert reason in error.reason
    assert "entry 2 of 3" in str(error)
    assert error.entry == 2
    assert field in str(error)


def test_an_entry_that_is_not_an_object_is_named(cassette):
    """A stray value among the exchanges is refused by index."""
    data, path = cassette
    data["exchanges"][2] = "oops"
    error = broken(path, json.dumps(data))
    assert error.field == "exchanges[2]"
    assert "entry 3 of 3" in str(error)
    assert error.entry == 3


def test_the_error_is_a_value_error_too(cassette):
    """Code that caught ValueError for a bad cassette still catches it."""
    data, path = cassette
    data["amcards_cassette"] = True
    target = path.with_name("broken.json")
    target.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="amcards_cassette"):
        ReplayTransport(target)


def test_a_missing_file_is_a_cassette_error_naming_it(tmp_path):
    """No file at all: the same error as any other unusable cassette."""
    with pytest.raises(CassetteError) as caught:
        ReplayTransport(tmp_path / "absent.json")
    assert "absent.json" in str(caught.value)


def test_any_method_the_recorder_writes_loads_again(tmp_path):
    """Methods with digits or hyphens are HTTP methods too."""
    path = tmp_path / "c.json"
    request = Request("m-search", "/")
    with RecordingTransport(FakeTransport(), path) as recorder:
        recorder.send(request)
    assert ReplayTransport(path).send(request).status == 404


def test_a_byte_order_mark_is_allowed(cassette):
    """An editor's UTF-8 byte order mark does not break a cassette."""
    _, path = cassette
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert ReplayTransport(path).remaining == 3


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "missing.json", "there is no such file"),
        (lambda tmp: tmp, "it is a folder, not a file"),
    ],
)
def test_a_cassette_that_is_not_a_file_is_a_cassette_error(
    tmp_path, make, reason
):
    with pytest.raises(CassetteError) as caught:
        ReplayTransport(make(tmp_path))
    assert caught.value.reason == reason


@pytest.mark.parametrize("path", ["", "  ", None, 5])
def test_a_cassette_needs_a_path(path):
    with pytest.raises(ValidationError) as caught:
        ReplayTransport(path)
    assert caught.value.field == "path"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: "", "give the path"),
        (lambda tmp: tmp, "is a folder"),
    ],
)
def test_a_recorder_checks_where_it_will_write_before_sending(
    tmp_path, make, reason
):
    """Nothing goes out when the cassette could not be written at close."""
    from amcards.testing import EchoTransport
    from amcards.transports.recorded import RecordingTransport

    inner = EchoTransport()
    with pytest.raises(ValidationError) as caught:
        RecordingTransport(inner, make(tmp_path))
    assert caught.value.field == "path"
    assert reason in caught.value.reason

"""Staged faults are checked when they are made, in Python or from the
control API's JSON, so that a bad one cannot break the request it meets."""

from __future__ import annotations

import re
from typing import Any

import pytest

from amcards.core.http import Request
from amcards.transports.fake import FakeAMcards, FakeTransport, Fault
from amcards.transports.fake.transport import fault_response


@pytest.mark.parametrize(
    "retry_after",
    [
        "1\r\nX-Injected: yes",
        "5\n",
        "Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Injected: yes",
        "\x00",
        "-5",
        -5,
        "soon",
        "",
        "1.5",
        "\u0661",
        "Wed, 32 Oct 2015 07:28:00 GMT",
        True,
        1.5,
    ],
)
def test_a_retry_after_must_be_seconds_or_an_http_date(
    retry_after: Any,
) -> None:
    expected = (
        "'retry_after' must be a whole number of seconds (0 or more) or an "
        "HTTP date"
    )
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        Fault("status", status=429, retry_after=retry_after)
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        Fault.from_json({"kind": "status", "retry_after": retry_after})


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        ("0", "0"),
        (120, "120"),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ("Sun Nov  6 08:49:37 1994", "Sun Nov  6 08:49:37 1994"),
    ],
)
def test_a_good_retry_after_is_sent_as_given(
    retry_after: Any, header: str
) -> None:
    fault = Fault("status", status=503, retry_after=retry_after)
    assert fault_response(fault).header("Retry-After") == header


@pytest.mark.parametrize("body", ["\ud800", "ok \udfff then"])
def test_a_body_utf8_cannot_write_is_refused_when_queued(body: str) -> None:
    message = "'body' must be text UTF-8 can write (no lone surrogates)"
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        Fault("status", body=body)
    with pytest.raises(ValueError, match="'body' must be text UTF-8"):
        Fault.from_json({"kind": "html", "body": body})


@pytest.mark.parametrize(
    "status", [100, 101, 199, 204, 205, 304, 600, 0, 99, True, 503.0, "503"]
)
@pytest.mark.parametrize("kind", ["status", "html"])
def test_a_status_without_a_body_is_refused_when_queued(
    kind: str, status: Any
) -> None:
    message = (
        "'status' must be an HTTP status from 200 to 599 that carries a "
        "body (not 204, 205 or 304)"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        Fault(kind, status=status)


@pytest.mark.parametrize("status", [200, 201, 206, 301, 404, 429, 599])
def test_statuses_that_carry_a_body_are_taken(status: int) -> None:
    response = fault_response(Fault("status", status=status))
    assert (response.status, bool(response.body)) == (status, True)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"kind": 5}, "kind"),
        ({"kind": "slow", "delay": None}, "delay"),
        ({"kind": "slow", "delay": "1"}, "delay"),
        ({"kind": "slow", "delay": True}, "delay"),
        ({"kind": "slow", "delay": float("nan")}, "delay"),
        ({"kind": "status", "body": 5}, "body"),
        ({"kind": "status", "count": "2"}, "count"),
        ({"kind": "status", "method": 5}, "method"),
        ({"kind": "status", "path": ["/"]}, "path"),
    ],
)
def test_the_python_class_checks_what_the_json_does(
    options: dict[str, Any], field: str
) -> None:
    """Fault(...) refuses in the same words as Fault.from_json, never
    with a TypeError from deep inside."""
    kind = options.pop("kind")
    with pytest.raises(ValueError, match=rf"^'{field}' must be"):
        Fault(kind, **options)


def test_a_refused_fault_never_reaches_a_request() -> None:
    service = FakeAMcards.demo()
    with pytest.raises(ValueError):
        service.add_fault(Fault("status", body="\ud800"))
    assert service.faults.pending() == []
    request = Request("GET", "/.api/v1/user/", ())
    assert FakeTransport(service).send(request).status == 401

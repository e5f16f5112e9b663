"""The fake server at the edges of HTTP: odd framing, huge or deep
bodies, methods it does not serve, clients that vanish."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from amcards.transports.fake import FakeAMcards, FakeServer

pytestmark = pytest.mark.sockets


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeAMcards.demo()) as running:
        yield running


def exchange(server: FakeServer, raw: bytes, *, shut: bool = False) -> bytes:
    """Send raw bytes on a fresh connection; everything the server says
    until it closes (or 5 seconds pass)."""
    with socket.create_connection(("127.0.0.1", server.port), 5) as sock:
        sock.sendall(raw)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def status_and_json(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def post_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


@pytest.mark.parametrize("length", ["\u00b2", "1_0", "+1", "0x10"])
def test_a_content_length_of_other_digits_is_400(
    server: FakeServer, length: str
) -> None:
    raw = post_head("/__fake__/seed", f"Content-Length: {length}") + b"{}"
    status, payload = status_and_json(exchange(server, raw, shut=True))
    assert status == 400
    assert payload["message"] == "Content-Length: expected a number of bytes"


@pytest.mark.parametrize("size", [b"1_0", b"+2", b"0x2", b" "])
def test_a_chunk_size_that_is_not_plain_hex_is_400(
    server: FakeServer, size: bytes
) -> None:
    raw = post_head("/__fake__/seed", "Transfer-Encoding: chunked")
    raw += size + b"\r\n{}\r\n0\r\n\r\n"
    status, payload = status_and_json(exchange(server, raw, shut=True))
    assert status == 400
    assert "chunk size" in str(payload["message"])


@pytest.mark.parametrize("port", ["\uff18\uff10", "8_0", "+80", " 80"])
def test_a_port_of_other_digits_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    port: str,
) -> None:
    from amcards.transports.fake import server as module
    from amcards.transports.fake.server import main

    monkeypatch.setattr(module, "serve", lambda *_: 0)  # never listen
    with pytest.raises(SystemExit) as caught:
        main(["--port", port], prog="amcards fake-server")
    assert caught.value.code == 2
    assert "is not a port number" in capsys.readouterr().err


@pytest.mark.parametrize("owner", ["\u0661", "9" * 5000])
def test_an_objects_owner_of_other_digits_is_400(
    server: FakeServer, owner: str
) -> None:
    path = f"/__fake__/objects/card/?owner={owner}"
    raw = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, payload = status_and_json(exchange(server, raw.encode()))
    assert status == 400
    assert str(payload["message"]).startswith("'owner' must be a user id")


# Bodies nested too deeply --------------------------------------------------

DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000


def post_json(server: FakeServer, path: str, body: bytes) -> bytes:
    raw = post_head(path, f"Content-Length: {len(body)}", "Connection: close")
    return exchange(server, raw + body)


@pytest.mark.parametrize("route", ["faults", "seed", "reset", "settings"])
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT])
def test_a_control_body_nested_100000_deep_is_400(
    server: FakeServer, route: str, body: bytes
) -> None:
    answer = post_json(server, "/__fake__/" + route, body)
    status, payload = status_and_json(answer)
    assert status == 400
    assert payload["message"] == (
        "body: nested too deeply (more than 32 levels of arrays and objects)"
    )


def test_a_seed_nested_33_deep_is_refused_before_it_is_stored(
    server: FakeServer,
) -> None:
    value: object = "x"
    for _ in range(31):
        value = [value]
    user = {"email": "deep@example.com", "monthly_report_emails": value}
    body = json.dumps({"users": [user]}).encode()
    status, payload = status_and_json(
        post_json(server, "/__fake__/seed", body)
    )
    assert status == 400
    assert "nested too deeply" in str(payload["message"])
    assert server.service.counters()["objects"]["user"] == 2


def test_a_control_body_with_a_number_too_long_is_400_in_plain_words(
    server: FakeServer,
) -> None:
    body = b'{"kind": "status", "count": ' + b"7" * 5000 + b"}"
    status, payload = status_and_json(
        post_json(server, "/__fake__/faults", body)
    )
    assert status == 400
    assert payload["message"] == (
        "body: expected a JSON object, but it holds a number too long to read"
    )


# Bodies too large ------------------------------------------------------------


def test_the_body_limit_is_10_mib() -> None:
    from amcards.transports.fake.server import MAX_BODY

    assert MAX_BODY == 10 * 1024 * 1024


@pytest.mark.parametrize(
    "length", ["1000000000000000", "99999999999999999999999", "10485761"]
)
def test_a_content_length_over_the_limit_is_413_unread(
    server: FakeServer, length: str
) -> None:
    raw = post_head("/__fake__/seed", f"Content-Length: {length}")
    status, payload = status_and_json(exchange(server, raw))
    assert status == 413
    assert payload["message"] == (
        "body: too large; this server reads at most 10485760 bytes (10 MiB)"
    )


@pytest.mark.parametrize(
    "chunks",
    [
        b"fffffffffffff\r\n",
        b"ffffffffffffffffffffffffffffffff\r\n",
        b"64\r\n" + b"x" * 100 + b"\r\na00000\r\n",
    ],
    ids=["huge", "longer-than-any-size", "two-halves"],
)
def test_chunks_adding_up_over_the_limit_are_413(
    server: FakeServer, chunks: bytes
) -> None:
    raw = post_head("/cards/open-card-form-oa/", "Transfer-Encoding: chunked")
    status, payload = status_and_json(exchange(server, raw + chunks))
    assert status == 413
    assert "at most 10485760 bytes" in str(payload["message"])


def test_a_chunk_size_line_without_end_is_400(server: FakeServer) -> None:
    raw = post_head("/__fake__/seed", "Transfer-Encoding: chunked")
    status, payload = status_and_json(exchange(server, raw + b"1" * 5000))
    assert status == 400
    assert "chunk size" in str(payload["message"])


def test_a_body_shorter_than_its_length_is_400_and_not_allocated_at_once(
    server: FakeServer,
) -> None:
    """A client announcing 9 MiB and sending 100 bytes costs the server
    about 100 bytes, not 9 MiB set aside up front."""
    import tracemalloc

    raw = post_head("/__fake__/seed", f"Content-Length: {9 * 1024 * 1024}")
    tracemalloc.start()
    try:
        answer = exchange(server, raw + b" " * 100, shut=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    status, payload = status_and_json(answer)
    assert status == 400
    assert payload["message"] == (
        "body: the connection ended before the Content-Length bytes came"
    )
    assert peak < 1024 * 1024


def test_a_body_at_the_limit_is_read(server: FakeServer) -> None:
    from amcards.transports.fake.server import MAX_BODY

    body = b"{}" + b" " * (MAX_BODY - 2)
    raw = post_head(
        "/__fake__/reset", f"Content-Length: {MAX_BODY}", "Connection: close"
    )
    status, payload = status_and_json(exchange(server, raw + body))
    assert (status, payload) == (200, {"reset": True})


# Faults that could not be sent ---------------------------------------------


@pytest.mark.parametrize(
    ("fault", "start"),
    [
        (
            {"kind": "status", "retry_after": "1\r\nX-Injected: yes"},
            "'retry_after' must be a whole number of seconds",
        ),
        ({"kind": "status", "body": "\ud800"}, "'body' must be text UTF-8"),
        ({"kind": "status", "status": 100}, "'status' must be an HTTP status"),
        ({"kind": "status", "status": 204}, "'status' must be an HTTP status"),
        ({"kind": "html", "status": 304}, "'status' must be an HTTP status"),
    ],
)
def test_a_fault_that_could_not_be_sent_is_400_and_not_queued(
    server: FakeServer, fault: dict[str, object], start: str
) -> None:
    body = json.dumps(fault).encode()  # "\ud800" travels as an escape
    status, payload = status_and_json(
        post_json(server, "/__fake__/faults", body)
    )
    assert status == 400
    assert str(payload["message"]).startswith(start)
    assert server.service.faults.pending() == []
    user = (
        b"GET /.api/v1/user/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert exchange(server, user).startswith(b"HTTP/1.1 401 ")


# HEAD, OPTIONS and methods a route does not take -------------------------


def ask(
    server: FakeServer, method: str, path: str
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=5
    )
    connection.request(method, path)
    return connection.getresponse()


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/.api/v1/user/", "GET"),
        ("/.api/v1/contact/", "GET, POST"),
        ("/.api/v1/contact/301/", "DELETE, GET"),
        ("/cards/open-card-form-oa/", "POST"),
        ("/oauth2/token/", "POST"),
        ("/__fake__/counters", "GET"),
        ("/__fake__/faults", "DELETE, GET, POST"),
        ("/__fake__/reset", "POST"),
        ("/__fake__/objects/card/", "GET"),
    ],
)
@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_head_and_options_are_405_with_allow(
    server: FakeServer, method: str, path: str, allow: str
) -> None:
    response = ask(server, method, path)
    data = response.read()
    assert response.status == 405
    assert response.getheader("Allow") == allow
    assert response.getheader("Content-Type") == "application/json"
    if method == "HEAD":
        assert data == b""
    else:
        assert f"Method {method} is not allowed" in json.loads(data)["message"]


def test_a_head_answer_leaves_the_connection_usable(
    server: FakeServer,
) -> None:
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=5
    )
    try:
        connection.request("HEAD", "/.api/v1/user/")
        head = connection.getresponse()
        head.read()
        connection.request("GET", "/__fake__/counters")
        after = connection.getresponse()
        assert (head.status, after.status) == (405, 200)
        assert json.loads(after.read())["request_count"] == 1
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "route", "allow"),
    [
        ("GET", "reset", "POST"),
        ("POST", "counters", "GET"),
        ("PUT", "faults", "DELETE, GET, POST"),
        ("DELETE", "objects/card/", "GET"),
    ],
)
def test_a_control_route_named_with_the_wrong_method_is_405(
    server: FakeServer, method: str, route: str, allow: str
) -> None:
    response = ask(server, method, "/__fake__/" + route)
    assert response.status == 405
    assert response.getheader("Allow") == allow
    assert json.loads(response.read())["message"] == (
        f"Method {method} is not allowed here."
    )


# Clients that vanish, and what the server writes down ---------------------


def reset_after(server: FakeServer, raw: bytes) -> None:
    """Send ``raw`` then reset the connection (RST, not FIN), and wait
    until the server has finished with it."""
    import struct
    import time

    sock = socket.create_connection(("127.0.0.1", server.port), 5)
    sock.sendall(raw)
    if raw.startswith(b"GET"):
        sock.recv(65536)  # the answer: the connection is now kept alive
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
    )
    sock.close()
    deadline = time.monotonic() + 5
    while server.connection_count < 1 or _open_connections(server):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)


def _open_connections(server: FakeServer) -> int:
    httpd = server._httpd
    assert httpd is not None
    with httpd._open_lock:
        return len(httpd._open)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /__fake__/counters HTTP/1.1\r\nHost: x\r\n\r\n",
        post_head("/__fake__/seed", "Content-Length: 100") + b"{",
    ],
    ids=["between-requests", "mid-body"],
)
def test_a_client_resetting_its_connection_prints_no_traceback(
    server: FakeServer, capfd: pytest.CaptureFixture[str], raw: bytes
) -> None:
    reset_after(server, raw)
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert "ConnectionResetError" not in err
    assert exchange(
        server, b"GET /__fake__/counters HTTP/1.1\r\nConnection: close\r\n\r\n"
    ).startswith(b"HTTP/1.1 200 ")


def test_the_log_names_paths_without_their_query(
    server: FakeServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level("DEBUG", logger="amcards.transports.fake.server")
    path = "/.api/v1/card/?ship_to_last_name=Mullins&first_name=Ralph"
    exchange(
        server, f"GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n".encode()
    )
    bad = b"GET /x?first_name=Ralph HTTP/1.1 extra\r\n\r\n"
    assert b"400" in exchange(server, bad)
    assert "Traceback" not in capfd.readouterr().err
    assert '"GET /.api/v1/card/ HTTP/1.1" 401' in caplog.text
    assert "401" in caplog.text
    for name in ("Mullins", "Ralph", "first_name"):
        assert name not in caplog.text


def test_a_failure_report_names_the_path_without_its_query(
    server: FakeServer,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(request: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(server.service, "handle", broken)
    raw = b"GET /.api/v1/card/?ship_to_last_name=Mullins HTTP/1.1\r\n"
    answer = exchange(server, raw + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 ")
    err = capfd.readouterr().err
    assert "fake server: GET /.api/v1/card/ failed" in err
    assert "Mullins" not in err

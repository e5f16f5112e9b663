"""The fake service over real loopback HTTP, with its control API."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CREDITS,
    DEMO_USER_ID,
    FakeAMcards,
    FakeServer,
)

pytestmark = pytest.mark.sockets

NOW = dt.datetime(2024, 5, 10, 9, 30, 0)
AUTH = {"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"}
RALPH = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
}
CARD = {"template_id": 1, "initiator": "tests", **RALPH}


@pytest.fixture
def fake() -> FakeAMcards:
    return FakeAMcards.demo(clock=lambda: NOW)


@pytest.fixture
def server(fake: FakeAMcards) -> Iterator[FakeServer]:
    with FakeServer(fake) as running:
        yield running


@pytest.fixture
def pool() -> Iterator[urllib3.PoolManager]:
    manager = urllib3.PoolManager(retries=False, timeout=5.0)
    yield manager
    manager.clear()


def connect(server: FakeServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)


def call(
    pool: urllib3.PoolManager,
    server: FakeServer,
    method: str,
    path: str,
    payload: Any = None,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> urllib3.BaseHTTPResponse:
    sent = dict(AUTH if headers is None else headers)
    data = None
    if payload is not None:
        sent["Content-Type"] = "application/json"
        data = json.dumps(payload).encode()
    return pool.request(
        method, server.base_url + path, body=data, headers=sent, **kw
    )


def control(
    pool: urllib3.PoolManager,
    server: FakeServer,
    method: str,
    route: str,
    payload: Any = None,
) -> Any:
    response = call(pool, server, method, "/__fake__/" + route, payload, {})
    assert response.status == 200, response.data
    return json.loads(response.data)


def send_card(server: FakeServer) -> tuple[int, bytes]:
    """Post a card on a fresh connection; (status, body)."""
    connection = connect(server)
    try:
        headers = {**AUTH, "Content-Type": "application/json"}
        connection.request(
            "POST",
            "/cards/open-card-form-oa/",
            json.dumps(CARD).encode(),
            headers,
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# Starting and stopping ---------------------------------------------------


def test_start_gives_a_loopback_base_url_and_stop_ends_it(
    fake: FakeAMcards,
) -> None:
    server = FakeServer(fake)
    with pytest.raises(RuntimeError):
        server.base_url  # noqa: B018
    assert server.start() is server
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0
    server.stop()
    with pytest.raises(OSError):
        connect_to = http.client.HTTPConnection(
            "127.0.0.1", server.port, timeout=2
        )
        connect_to.request("GET", "/.api/v1/user/")
    server.stop()  # stopping twice is harmless


def test_the_server_defaults_to_the_demo_account() -> None:
    with FakeServer() as server:
        assert server.service.credits(DEMO_USER_ID) == DEMO_CREDITS


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com"])
def test_only_loopback_addresses_are_accepted(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeServer(host=host)


def test_localhost_means_127_0_0_1() -> None:
    assert FakeServer(host="localhost").host == "127.0.0.1"


# The API over HTTP -------------------------------------------------------


def test_reads_answer_json_over_http(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = call(pool, server, "GET", "/.api/v1/user/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    [user] = json.loads(response.data)["objects"]
    assert user["credits"] == DEMO_CREDITS
    unauthorised = call(pool, server, "GET", "/.api/v1/user/", headers={})
    assert unauthorised.status == 401


def test_query_strings_reach_the_filters(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = call(
        pool,
        server,
        "GET",
        "/.api/v1/card/",
        fields={"third_party_contact_id": "crm-1", "limit": "1"},
    )
    listing = json.loads(response.data)
    assert listing["meta"]["total_count"] == 2
    assert len(listing["objects"]) == 1


def test_a_send_over_http_creates_a_card(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = call(pool, server, "POST", "/cards/open-card-form-oa/", CARD)
    assert response.status == 200
    assert json.loads(response.data)["total_cost"] == 435
    assert server.service.cards_created == 1


def test_delete_answers_204_without_a_body(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = call(pool, server, "DELETE", "/.api/v1/contact/301/")
    assert response.status == 204
    assert response.data == b""


def test_a_chunked_body_is_read(server: FakeServer) -> None:
    connection = connect(server)
    headers = {**AUTH, "Content-Type": "application/json"}
    body = iter(
        [json.dumps(CARD)[:20].encode(), json.dumps(CARD)[20:].encode()]
    )
    connection.request(
        "POST",
        "/cards/open-card-form-oa/",
        body,
        headers,
        encode_chunked=True,
    )
    assert connection.getresponse().status == 200
    connection.close()


def test_connections_are_kept_alive(server: FakeServer) -> None:
    connection = connect(server)
    for _ in range(3):
        connection.request("GET", "/.api/v1/template/1/", headers=AUTH)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Connection") != "close"
        response.read()
    connection.close()
    assert server.connection_count == 1


def test_stop_closes_kept_alive_connections(fake: FakeAMcards) -> None:
    server = FakeServer(fake).start()
    connection = connect(server)
    connection.request("GET", "/.api/v1/user/", headers=AUTH)
    connection.getresponse().read()
    server.stop()
    with pytest.raises((OSError, http.client.HTTPException)):
        connection.request("GET", "/.api/v1/user/", headers=AUTH)
        connection.getresponse()
    connection.close()


# The control API ---------------------------------------------------------


def test_counters_show_requests_cards_and_credits(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    call(pool, server, "GET", "/.api/v1/user/")
    call(pool, server, "POST", "/cards/open-card-form-oa/", CARD)
    counters = control(pool, server, "GET", "counters")
    assert counters["requests"] == {
        "GET /.api/v1/user/": 1,
        "POST /cards/open-card-form-oa/": 1,
    }
    assert counters["cards_created"] == 1
    assert counters["credits"][str(DEMO_USER_ID)] == DEMO_CREDITS - 435


def test_reset_restores_the_demo_and_can_empty_it(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    call(pool, server, "POST", "/cards/open-card-form-oa/", CARD)
    assert control(pool, server, "POST", "reset") == {"reset": True}
    assert server.service.credits(DEMO_USER_ID) == DEMO_CREDITS
    assert server.service.request_count == 0
    control(pool, server, "POST", "reset", {"empty": True})
    assert call(pool, server, "GET", "/.api/v1/user/").status == 401


def test_seed_adds_objects_and_answers_their_ids(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    seeded = control(
        pool,
        server,
        "POST",
        "seed",
        {
            "users": [{"email": "new@example.com", "credits": 900}],
            "access_tokens": [{"token": "new-token", "user_id": 3}],
            "templates": [{"owner": 3, "name": "Hello"}],
            "contacts": [{"owner": 3, **RALPH, "notes": "seeded"}],
            "credits": {"1": 1234},
        },
    )
    assert seeded["ids"]["users"] == [3]
    template_id = seeded["ids"]["templates"][0]
    headers = {"Authorization": "Bearer new-token"}
    response = call(
        pool, server, "GET", f"/.api/v1/template/{template_id}/", None, headers
    )
    assert json.loads(response.data)["name"] == "Hello"
    assert server.service.credits(DEMO_USER_ID) == 1234


def test_a_bad_seed_is_400_and_adds_nothing(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    before = server.service.counters()["objects"]
    response = call(
        pool,
        server,
        "POST",
        "/__fake__/seed",
        {
            "users": [{"email": "new@example.com"}],
            "templates": [{"owner": 3, "colour": "red"}],
        },
        {},
    )
    assert response.status == 400
    assert "seed refused" in json.loads(response.data)["message"]
    assert server.service.counters()["objects"] == before


def test_faults_can_be_listed_queued_and_cleared(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    queued = control(
        pool,
        server,
        "POST",
        "faults",
        {"faults": [{"kind": "status", "status": 500}, {"kind": "html"}]},
    )
    assert queued == {"queued": 2}
    listed = control(pool, server, "GET", "faults")["faults"]
    assert [f["kind"] for f in listed] == ["status", "html"]
    assert control(pool, server, "DELETE", "faults") == {"cleared": 2}
    assert control(pool, server, "GET", "faults") == {"faults": []}


def test_a_bad_fault_is_400(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = call(
        pool, server, "POST", "/__fake__/faults", {"kind": "meteor"}, {}
    )
    assert response.status == 400


def test_settings_and_processing_mailings(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    settings = control(
        pool, server, "POST", "settings", {"hold_mailings": True}
    )
    assert settings["hold_mailings"] is True
    mailing = {
        "template_id": 1,
        "initiator": "tests",
        "recipients": [RALPH],
        "send_even_if_error": "false",
        "offset_type": "before",
        "date_offset": "0",
        "send_type": "immediate",
        "send_date": "2024-05-10",
    }
    answer = call(pool, server, "POST", "/cards/open-mailing-form/", mailing)
    uri = json.loads(answer.data)["mailing_uri"]
    assert json.loads(call(pool, server, "GET", uri).data)["status"] == 1
    assert control(pool, server, "POST", "mailings/process") == {
        "cards_created": 1
    }
    assert json.loads(call(pool, server, "GET", uri).data)["status"] == 0


def test_objects_route_shows_stored_objects(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    objects = control(pool, server, "GET", "objects/card/?owner=2")
    assert [card["id"] for card in objects["objects"]] == [1099]
    missing = call(pool, server, "GET", "/__fake__/objects/nothing/", None, {})
    assert missing.status == 404


def test_control_requests_are_not_counted_or_faulted(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(pool, server, "POST", "faults", {"kind": "drop_before"})
    control(pool, server, "GET", "counters")
    assert server.service.request_count == 0
    assert len(server.service.faults.pending()) == 1


# Each kind of fault ------------------------------------------------------


def test_status_fault_with_retry_after_and_body(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(
        pool,
        server,
        "POST",
        "faults",
        {
            "kind": "status",
            "status": 429,
            "retry_after": "7",
            "body": '{"detail": "slow down"}',
            "path": "/.api/v1/user/",
        },
    )
    response = call(pool, server, "GET", "/.api/v1/user/")
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    assert json.loads(response.data) == {"detail": "slow down"}
    assert call(pool, server, "GET", "/.api/v1/user/").status == 200


def test_html_fault_sends_a_proxy_page(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(pool, server, "POST", "faults", {"kind": "html", "status": 504})
    response = call(pool, server, "GET", "/.api/v1/user/")
    assert response.status == 504
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"504 Gateway Timeout" in response.data


def test_faults_wait_for_a_matching_method_and_path(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(
        pool,
        server,
        "POST",
        "faults",
        {"kind": "status", "status": 503, "method": "POST", "count": 2},
    )
    assert call(pool, server, "GET", "/.api/v1/user/").status == 200
    for _ in range(2):
        response = call(
            pool, server, "POST", "/cards/open-card-form-oa/", CARD
        )
        assert response.status == 503
    assert server.service.cards_created == 0


def test_slow_fault_delays_the_answer(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(pool, server, "POST", "faults", {"kind": "slow", "delay": 0.3})
    started = time.monotonic()
    assert call(pool, server, "GET", "/.api/v1/user/").status == 200
    assert time.monotonic() - started >= 0.3


def test_slow_fault_times_out_a_client_after_the_send_is_done(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(pool, server, "POST", "faults", {"kind": "slow", "delay": 1.0})
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        call(
            pool,
            server,
            "POST",
            "/cards/open-card-form-oa/",
            CARD,
            timeout=urllib3.Timeout(connect=2.0, read=0.2),
        )
    assert server.service.cards_created == 1


def test_drop_before_closes_without_handling(server: FakeServer) -> None:
    pool = urllib3.PoolManager(retries=False)
    control(pool, server, "POST", "faults", {"kind": "drop_before"})
    with pytest.raises(http.client.RemoteDisconnected):
        send_card(server)
    assert server.service.cards_created == 0
    assert server.service.credits(DEMO_USER_ID) == DEMO_CREDITS
    seen = server.service.requests_seen
    assert seen == {"POST /cards/open-card-form-oa/": 1}


def test_drop_after_commits_the_send_then_closes(server: FakeServer) -> None:
    pool = urllib3.PoolManager(retries=False)
    control(pool, server, "POST", "faults", {"kind": "drop_after"})
    with pytest.raises(http.client.RemoteDisconnected):
        send_card(server)
    assert server.service.cards_created == 1
    assert server.service.credits(DEMO_USER_ID) == DEMO_CREDITS - 435
    seen = server.service.requests_seen
    assert seen == {"POST /cards/open-card-form-oa/": 1}


def test_a_dropped_connection_shows_as_a_protocol_error_in_urllib3(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    control(pool, server, "POST", "faults", {"kind": "drop_after"})
    with pytest.raises(urllib3.exceptions.ProtocolError):
        call(pool, server, "POST", "/cards/open-card-form-oa/", CARD)
    assert call(pool, server, "GET", "/.api/v1/user/").status == 200


def test_the_client_runs_end_to_end_over_the_server(
    server: FakeServer,
) -> None:
    from amcards.client import AMcardsClient

    with AMcardsClient(DEMO_ACCESS_TOKEN, base_url=server.base_url) as client:
        assert client.template(1).name == "Thank You"
        sent = client.send_card(1, "tests", dict(RALPH))
        assert sent.total_cost == 435
        assert client.card(sent.card_id).amount_charged == 435


def test_python_m_serves_the_demo_until_interrupted() -> None:
    """`python -m amcards.transports.fake` prints its URL, serves, and
    stops cleanly on Ctrl-C."""
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "amcards.transports.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        name, _, base_url = first.partition("=")
        assert name == "AMCARDS_BASE_URL"
        assert base_url.startswith("http://127.0.0.1:")
        pool = urllib3.PoolManager(retries=False, timeout=5.0)
        response = pool.request(
            "GET", base_url + "/.api/v1/user/", headers=AUTH
        )
        assert response.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


# Failures inside the server -------------------------------------------------


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug in the fake")


def test_an_exception_in_the_service_answers_500_and_logs_it(
    server: FakeServer,
    pool: urllib3.PoolManager,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A failing handler never leaves the client with an empty reply: it
    answers 500 naming the exception's type; the traceback goes to the
    server's stderr."""
    monkeypatch.setattr(server.service, "handle", _broken)
    response = call(pool, server, "GET", "/.api/v1/user/")
    assert response.status == 500
    assert json.loads(response.data) == {
        "message": "fake server error: RuntimeError"
    }
    err = capsys.readouterr().err
    assert "Traceback" in err and "a bug in the fake" in err


def test_an_exception_in_the_control_api_answers_500(
    server: FakeServer,
    pool: urllib3.PoolManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server.service, "counters", _broken)
    response = call(pool, server, "GET", "/__fake__/counters", None, {})
    assert response.status == 500
    assert json.loads(response.data) == {
        "message": "fake server error: RuntimeError"
    }
    assert call(pool, server, "GET", "/.api/v1/user/").status == 200


def test_an_exception_under_a_drop_fault_still_drops(
    server: FakeServer,
    pool: urllib3.PoolManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    control(pool, server, "POST", "faults", {"kind": "drop_after"})
    monkeypatch.setattr(server.service, "handle", _broken)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        call(pool, server, "GET", "/.api/v1/user/")


def test_a_bad_chunk_size_is_400(server: FakeServer) -> None:
    connection = connect(server)
    try:
        connection.putrequest("POST", "/__fake__/seed")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders(b"zz\r\n{}\r\n0\r\n\r\n")
        response = connection.getresponse()
        assert response.status == 400
        assert "chunk" in json.loads(response.read())["message"]
    finally:
        connection.close()


# Starting from the command line ---------------------------------------------


def test_a_port_in_use_is_a_startup_error_with_the_prog_prefix(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from amcards.transports.fake.server import main

    status = main(["--port", str(server.port)], prog="amcards fake-server")
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("amcards fake-server: cannot serve: ")
    assert f"port {server.port}" in err and "--port 0" in err


@pytest.mark.parametrize("host", ["192.0.2.1", "0.0.0.0", "example.org"])
def test_a_host_off_loopback_is_a_usage_error_with_the_prog_prefix(
    capsys: pytest.CaptureFixture[str], host: str
) -> None:
    from amcards.transports.fake.server import main

    with pytest.raises(SystemExit) as caught:
        main(["--host", host], prog="amcards fake-server")
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "amcards fake-server: error: argument --host: " in err
    assert f"loopback only, not {host!r}" in err


def test_startup_errors_name_python_m_by_default(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from amcards.transports.fake.server import main

    assert main(["--port", str(server.port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m amcards.transports.fake: cannot serve")


# What the control API refuses ------------------------------------------------


def refused(
    pool: urllib3.PoolManager, server: FakeServer, route: str, body: Any
) -> str:
    """POST ``body`` to a control route; the 400's message."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = pool.request(
        "POST", f"{server.base_url}/__fake__/{route}", body=raw
    )
    assert response.status == 400, response.data
    message: str = json.loads(response.data)["message"]
    return message


@pytest.mark.parametrize("empty", ["no", "false", 0, 1, None, []])
def test_reset_takes_only_a_json_boolean(
    server: FakeServer, pool: urllib3.PoolManager, empty: Any
) -> None:
    before = server.service.counters()["objects"]
    message = refused(pool, server, "reset", {"empty": empty})
    assert message.startswith("'empty' must be true or false")
    assert server.service.counters()["objects"] == before


def test_reset_refuses_unknown_fields(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    message = refused(pool, server, "reset", {"emtpy": True})
    assert message == "unknown field 'emtpy'; expected 'empty'"


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ({"hold_mailings": "yes"}, "'hold_mailings' must be true or false"),
        ({"hold_mailings": 1}, "'hold_mailings' must be true or false"),
        ({"token_lifetime": -5}, "'token_lifetime' must be a whole number"),
        ({"token_lifetime": 1.5}, "'token_lifetime' must be a whole number"),
        ({"token_lifetime": "60"}, "'token_lifetime' must be a whole number"),
        ({"token_lifetime": True}, "'token_lifetime' must be a whole number"),
        ({"token_lifetime": 10**12}, "'token_lifetime' must be a whole"),
        ({"hold": True}, "unknown field 'hold'; expected one of"),
    ],
)
def test_settings_refuse_bad_values_naming_the_field(
    server: FakeServer, pool: urllib3.PoolManager, body: Any, start: str
) -> None:
    lifetime = server.service.token_lifetime
    message = refused(pool, server, "settings", {**body})
    assert message.startswith(start)
    assert server.service.token_lifetime == lifetime
    assert server.service.hold_mailings is False


def test_settings_change_nothing_when_one_value_is_refused(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    body = {"hold_mailings": True, "token_lifetime": -1}
    refused(pool, server, "settings", body)
    assert server.service.hold_mailings is False


def test_reset_undoes_the_settings(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    body = {"hold_mailings": True, "token_lifetime": 60}
    control(pool, server, "POST", "settings", body)
    control(pool, server, "POST", "reset")
    settings = control(pool, server, "POST", "settings", {})
    assert settings == {"hold_mailings": False, "token_lifetime": 36000}


def test_settings_take_good_values(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    body = {"hold_mailings": True, "token_lifetime": 0}
    assert control(pool, server, "POST", "settings", body) == body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{bad", "body: expected a JSON object, but it is not valid JSON"),
        (b"[1]", "body: expected a JSON object, got [1]"),
        (b"\xff", "body: expected UTF-8 text"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    server: FakeServer, pool: urllib3.PoolManager, body: bytes, message: str
) -> None:
    assert refused(pool, server, "seed", body).startswith(message)


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "text/plain"]
)
def test_the_control_api_reads_json_whatever_the_content_type(
    server: FakeServer, pool: urllib3.PoolManager, content_type: str | None
) -> None:
    """As `curl -d` sends it: the control API reads the body as JSON
    whatever Content-Type says (the AMcards endpoints do not)."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = pool.request(
        "POST",
        f"{server.base_url}/__fake__/reset",
        body=b'{"empty": true}',
        headers=headers,
    )
    assert response.status == 200
    assert server.service.counters()["objects"]["user"] == 0


def test_the_api_endpoints_still_want_a_json_content_type(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = pool.request(
        "POST",
        f"{server.base_url}/cards/open-card-form-oa/",
        body=json.dumps(CARD).encode(),
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "meteor"}, "'kind' must be one of status, html, slow"),
        ({"kind": 5}, "'kind' must be one of status, html, slow"),
        ({"status": 500}, "'kind' is required (one of status, html"),
        ({"kind": "slow", "delay": "x"}, "'delay' must be a number of"),
        ({"kind": "status", "status": "x"}, "'status' must be a whole"),
        ({"kind": "status", "status": 99}, "'status' must be an HTTP status"),
        ({"kind": "status", "body": 4}, "'body' must be text, got 4"),
        (
            {"kind": "status", "retry_after": []},
            "'retry_after' must be a whole number of seconds",
        ),
        ({"kind": "html", "colour": 1}, "unknown field 'colour'; expected"),
        ({"faults": "x"}, "'faults' must be a list of fault objects"),
        ({"faults": ["x"]}, 'faults[0]: expected a fault object, got "x"'),
        (
            {"faults": [{"kind": "html"}, {"kind": "slow", "count": 0}]},
            "faults[1]: 'count' must be at least 1",
        ),
        ({"faults": [], "kind": "html"}, "'faults' cannot be mixed"),
    ],
)
def test_a_bad_fault_is_400_naming_the_field(
    server: FakeServer, pool: urllib3.PoolManager, body: Any, message: str
) -> None:
    assert refused(pool, server, "faults", body).startswith(message)
    assert server.service.faults.pending() == []


def test_a_retry_after_in_seconds_may_be_a_number(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    fault = {"kind": "status", "status": 429, "retry_after": 5}
    control(pool, server, "POST", "faults", fault)
    assert server.service.faults.pending()[0].retry_after == "5"


def test_objects_owner_must_be_a_user_id(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    response = call(
        pool, server, "GET", "/__fake__/objects/card/?owner=x", None, {}
    )
    assert response.status == 400
    assert json.loads(response.data)["message"] == (
        "'owner' must be a user id (a whole number), got 'x'"
    )


def test_a_bad_seed_over_http_names_the_field(
    server: FakeServer, pool: urllib3.PoolManager
) -> None:
    message = refused(pool, server, "seed", {"templates": [{"name": "n"}]})
    assert message == "seed refused: templates[0]: 'owner' is required"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"kind": "status", "count": True},
            "'count' must be a whole number, got true",
        ),
        (
            {"kind": "status", "method": None, "path": 5},
            "'path' must be text, got 5",
        ),
        (
            {"kind": "slow", "delay": None},
            "'delay' must be a number of seconds, got null",
        ),
    ],
)
def test_control_refusals_show_values_as_json_wrote_them(
    server: FakeServer, pool: urllib3.PoolManager, body: Any, message: str
) -> None:
    assert refused(pool, server, "faults", body) == message

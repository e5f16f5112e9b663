"""The behaviour every transport shares, as one suite to inherit.

To check a transport, subclass :class:`TransportSuite` in a ``test_*``
module and provide two fixtures: ``transport`` (a fresh transport, closed
afterwards) and ``base_url`` (where the echo service of
``tests/servers.py`` answers; an empty string for in-memory transports)::

    class TestMyTransport(TransportSuite):
        @pytest.fixture
        def transport(self):
            with MyTransport() as transport:
                yield transport

        @pytest.fixture
        def base_url(self, echo_server):
            return echo_server.base_url

The class name does not start with ``Test``, so pytest collects its cases
only through subclasses.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from servers import UNICODE_TEXT, large_body

from amcards.core.http import Request, Response
from amcards.transports.base import Transport

JSON_BODY = (
    '{"template_id":"1","initiator":"suite",'
    '"message":"Dear Zoë,\\n\\tthanks! 🎉","amount":4.35,'
    '"nested":{"list":[1,2,{"a":null}],"empty":""}}'
).encode()


class TransportSuite:
    """Cases every transport must pass against the echo service."""

    @pytest.fixture
    def transport(self) -> Transport:
        raise NotImplementedError("subclasses provide a transport fixture")

    @pytest.fixture
    def base_url(self) -> str:
        raise NotImplementedError("subclasses provide a base_url fixture")

    def request(self, base_url: str, method: str, path: str, **kw: Any):
        return Request(method, path, base_url=base_url, **kw)

    @staticmethod
    def echoed(response: Response) -> dict[str, Any]:
        assert response.status == 200, response
        return json.loads(response.body)

    def test_get_with_query_round_trip(self, transport, base_url):
        """A GET arrives with its method, path and query intact."""
        query = [
            ("limit", "25"),
            ("offset", "50"),
            ("last_name", "Müller & Söhne"),
            ("q", "a=b?c/d e+f"),
            ("empty", ""),
        ]
        request = self.request(base_url, "GET", "/.api/v1/card/", query=query)
        echo = self.echoed(transport.send(request))
        assert echo["method"] == "GET"
        assert echo["path"] == "/.api/v1/card/"
        assert [tuple(pair) for pair in echo["query"]] == query

    def test_post_json_body_arrives_byte_exact(self, transport, base_url):
        """The body of a POST reaches the server byte for byte."""
        request = self.request(
            base_url,
            "POST",
            "/cards/open-card-form-oa/",
            headers=[("Content-Type", "application/json")],
            body=JSON_BODY,
        )
        echo = self.echoed(transport.send(request))
        assert echo["method"] == "POST"
        assert base64.b64decode(echo["body_base64"]) == JSON_BODY
        assert echo["headers"]["content-type"] == "application/json"

    @pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
    def test_other_methods_arrive(self, transport, base_url, method):
        """PUT, PATCH and DELETE reach the server as themselves."""
        request = self.request(base_url, method, "/thing/7/", body=b"x=1")
        echo = self.echoed(transport.send(request))
        assert echo["method"] == method

    @pytest.mark.parametrize("status", [201, 400, 401, 404, 429, 500, 503])
    def test_statuses_are_returned_not_raised(
        self, transport, base_url, status
    ):
        """Every status comes back as a Response, with its body."""
        request = self.request(base_url, "GET", f"/status/{status}")
        response = transport.send(request)
        assert response.status == status
        assert json.loads(response.body) == {"status": status}

    def test_headers_are_read_case_insensitively(self, transport, base_url):
        """A response header is found whatever case the name is in."""
        request = self.request(
            base_url,
            "GET",
            "/echo",
            headers=[("X-Custom-Header", "Value With Case")],
        )
        response = transport.send(request)
        for name in ("X-Echo-Method", "x-echo-method", "X-ECHO-METHOD"):
            assert response.header(name) == "GET"
        assert response.header("content-TYPE") == "application/json"
        assert response.header("X-Not-There") is None
        echo = self.echoed(response)
        assert echo["headers"]["x-custom-header"] == "Value With Case"

    def test_unicode_bodies_round_trip(self, transport, base_url):
        """UTF-8 bodies arrive and come back unchanged."""
        body = UNICODE_TEXT.encode("utf-8")
        request = self.request(
            base_url,
            "POST",
            "/echo",
            headers=[("Content-Type", "text/plain; charset=utf-8")],
            body=body,
        )
        echo = self.echoed(transport.send(request))
        assert base64.b64decode(echo["body_base64"]) == body
        response = transport.send(self.request(base_url, "GET", "/unicode"))
        assert response.body.decode("utf-8") == UNICODE_TEXT

    def test_large_body_both_ways(self, transport, base_url):
        """A 1 MB request body and a 1 MB answer arrive whole."""
        size = 1024 * 1024
        big = large_body(size)
        request = self.request(base_url, "POST", "/echo", body=big)
        echo = self.echoed(transport.send(request))
        assert base64.b64decode(echo["body_base64"]) == big
        request = self.request(
            base_url, "GET", "/large", query=[("size", str(size))]
        )
        response = transport.send(request)
        assert response.status == 200
        assert response.body == big

    def test_concurrent_use_from_threads(self, transport, base_url):
        """One transport shared by 8 threads gives each its own answer."""

        def one(number: int) -> int:
            request = self.request(
                base_url,
                "POST",
                f"/worker/{number}",
                query=[("n", str(number))],
                body=str(number).encode(),
            )
            echo = self.echoed(transport.send(request))
            assert echo["path"] == f"/worker/{number}"
            assert echo["query"] == [["n", str(number)]]
            return int(base64.b64decode(echo["body_base64"]))

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, range(64)))
        assert results == list(range(64))

    def test_close_is_idempotent(self, transport, base_url):
        """close() may be called again without error."""
        transport.send(self.request(base_url, "GET", "/before-close"))
        transport.close()
        transport.close()

    def test_context_manager_closes(self, transport, base_url):
        """``with transport`` returns the transport and closes it."""
        with transport as entered:
            assert entered is transport
            response = entered.send(self.request(base_url, "GET", "/with"))
            assert response.status == 200
        transport.close()

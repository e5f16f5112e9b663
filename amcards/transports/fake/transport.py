"""A transport that hands requests to an in-memory fake service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from amcards.core.errors import ConnectionLostError, ReadTimeoutError
from amcards.core.http import Request, Response, Timeout
from amcards.transports.fake.faults import Fault
from amcards.transports.fake.service import FakeAMcards

__all__ = ["FakeTransport", "fault_response"]


class FakeTransport:
    """The :class:`~amcards.transports.base.Transport` over a fake service.

    No socket is opened: :meth:`send` calls
    :meth:`FakeAMcards.handle <amcards.transports.fake.FakeAMcards.handle>`
    directly.  Faults queued on the service apply here as they would on
    the wire: a dropped connection raises
    :class:`~amcards.core.errors.ConnectionLostError` (after the request
    was handled, for ``drop_after``), and a ``slow`` fault longer than
    the read timeout raises :class:`~amcards.core.errors.ReadTimeoutError`
    once the service has handled the request.

    Args:
        service: The service to talk to; a fresh demo account when None.
        sleep: How a ``slow`` fault waits (injectable for tests).
    """

    #: The server a send ledger records for sends through a fake, whatever
    #: the client's ``base_url``.  A card sent to a fake is never taken for
    #: one sent to the real service (see :meth:`SendLedger.bind
    #: <amcards.ledger.SendLedger.bind>`).  Under ``.invalid``, a name
    #: that can never reach a real host.
    ledger_server = "https://amcards.fake.invalid"

    def __init__(
        self,
        service: FakeAMcards | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service if service is not None else FakeAMcards.demo()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self.closed = False

    @property
    def requests(self) -> list[Request]:
        """Every request sent through this transport, oldest first."""
        with self._lock:
            return list(self._requests)

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        """Hand ``request`` to the service and return its answer."""
        with self._lock:
            self._requests.append(request)
        fault = self.service.take_fault(request.method, request.path)
        if fault is None:
            return self.service.handle(request)
        return self._with_fault(fault, request, timeout)

    def close(self) -> None:
        """Nothing to release; later sends still work, as with a pool."""
        self.closed = True

    def __enter__(self) -> FakeTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FakeTransport {self.service!r}>"

    def _with_fault(
        self, fault: Fault, request: Request, timeout: Timeout | None
    ) -> Response:
        method, path = request.method, request.path
        if fault.kind in ("status", "html"):
            return fault_response(fault)
        if fault.kind == "drop_before":
            raise ConnectionLostError(
                "the fake service dropped the connection",
                method=method,
                path=path,
            )
        if fault.kind == "drop_after":
            self.service.handle(request)
            raise ConnectionLostError(
                "the fake service dropped the connection after handling "
                "the request",
                method=method,
                path=path,
            )
        # slow: the service does the work at once, the answer comes late
        response = self.service.handle(request)
        limit = timeout.read if timeout is not None else None
        if limit is not None and fault.delay > limit:
            self._sleep(limit)
            raise ReadTimeoutError(
                f"no answer within {limit} seconds", method=method, path=path
            )
        self._sleep(fault.delay)
        return response


_HTML_PAGE = """<!DOCTYPE html>
<html><head><title>{status} {reason}</title></head>
<body><h1>{status} {reason}</h1>
<p>The server in front of the service could not get an answer.</p>
</body></html>
"""

_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def fault_response(fault: Fault) -> Response:
    """The answer a ``status`` or ``html`` fault stands for."""
    status = fault.status or 503
    headers: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        headers.append(("Retry-After", fault.retry_after))
    if fault.kind == "html":
        reason = _REASONS.get(status, "Error")
        body = fault.body or _HTML_PAGE.format(status=status, reason=reason)
        headers.append(("Content-Type", "text/html; charset=utf-8"))
        return Response(status, headers, body.encode("utf-8"))
    if fault.body is not None:
        body = fault.body
        kind = (
            "text/plain"
            if not body.lstrip().startswith(("{", "["))
            else ("application/json")
        )
    else:
        body = '{"message": "A fault staged in the fake service."}'
        kind = "application/json"
    headers.append(("Content-Type", kind))
    return Response(status, headers, body.encode("utf-8"))

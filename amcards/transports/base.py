"""What every transport is: one method, a request in and a response out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from amcards.core.http import Request, Response, Timeout

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """Sends requests somewhere and returns the answers.

    ``send`` returns every answer the server gives, whatever its status;
    it raises only :class:`amcards.core.errors.TransportError` subclasses,
    for failures on the way (no connection, a timeout, a dropped line).
    """

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        """Send ``request`` and return the server's answer."""
        ...

    def close(self) -> None:
        """Release whatever the transport holds (connections, files)."""
        ...

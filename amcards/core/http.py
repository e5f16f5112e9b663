"""Plain values for one HTTP exchange: what is sent and what came back.

Builders produce a :class:`Request`, transports turn it into a
:class:`Response`, parsers read the response.  None of these values knows
how it travels; a transport never looks inside a body.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

import attrs

from amcards.core.errors import ValidationError

__all__ = ["Headers", "Request", "Response", "Timeout"]

Headers = tuple[tuple[str, str], ...]


def _to_pairs(value: Iterable[tuple[str, str]]) -> Headers:
    return tuple((str(name), str(val)) for name, val in value)


def _find_header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


@attrs.frozen
class Timeout:
    """How long to wait for a connection and for each read, in seconds.

    Attributes:
        connect: Seconds to wait for a connection to open.
        read: Seconds to wait for each read of the answer.

    Both must be finite numbers above zero; anything else raises
    :class:`~amcards.core.errors.ValidationError` (a ValueError).
    """

    connect: float = 5.0
    read: float = 30.0

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "read"):
            value = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(
                value, bool
            )
            if not number or not value > 0 or value == float("inf"):
                raise ValidationError(
                    f"Timeout.{name} must be a finite number of seconds "
                    f"above zero, got {value!r}",
                    field=f"timeout.{name}",
                    reason="expected a finite number of seconds above zero",
                )


@attrs.frozen
class Request:
    """An HTTP request as data: method, path, query, headers and body.

    Attributes:
        method: The HTTP method, such as ``"GET"``.
        path: The path, such as ``"/.api/v1/card/"``.
        query: The query parameters, as ``(name, value)`` pairs.
        headers: The headers, as ``(name, value)`` pairs.
        body: The body's bytes (empty when there is none).
        base_url: The server, such as ``"https://amcards.com"``.  It is
            empty until the client fills it in; the in-memory fake
            service ignores it.
    """

    method: str
    path: str
    query: Headers = attrs.field(default=(), converter=_to_pairs)
    headers: Headers = attrs.field(default=(), converter=_to_pairs)
    body: bytes = b""
    base_url: str = ""

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (any case), or None."""
        return _find_header(self.headers, name)

    @property
    def target(self) -> str:
        """The path with its query string, as sent on the request line."""
        if not self.query:
            return self.path
        return f"{self.path}?{urlencode(self.query)}"

    @property
    def url(self) -> str:
        """The absolute URL, ``base_url`` followed by :attr:`target`."""
        return self.base_url.rstrip("/") + self.target

    def with_headers(self, *extra: tuple[str, str]) -> Request:
        """Return a copy with ``extra`` headers replacing same-named ones."""
        names = {name.lower() for name, _ in extra}
        kept = [(k, v) for k, v in self.headers if k.lower() not in names]
        return attrs.evolve(self, headers=(*kept, *extra))

    def __repr__(self) -> str:
        # Headers may carry a bearer token and bodies carry addresses:
        # neither belongs in a repr that ends up in logs and tracebacks.
        return f"<Request {self.method} {self.path}>"


@attrs.frozen
class Response:
    """An HTTP response as data: status, headers and the whole body.

    Attributes:
        status: The HTTP status code.
        headers: The headers, as ``(name, value)`` pairs.
        body: The whole body's bytes.
    """

    status: int
    headers: Headers = attrs.field(default=(), converter=_to_pairs)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (any case), or None."""
        return _find_header(self.headers, name)

    def __repr__(self) -> str:
        return f"<Response {self.status}, {len(self.body)} bytes>"

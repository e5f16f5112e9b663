"""Faults the fake service can be told to stage for coming requests.

A fault is queued with how many requests it applies to and, optionally,
the method and path it waits for.  Each request takes the first queued
fault that matches it; a fault with no ``method`` or ``path`` matches any
request.  The in-memory :class:`~amcards.transports.fake.FakeTransport`
and the loopback :class:`~amcards.transports.fake.FakeServer` both act on
the same queue.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["FAULT_KINDS", "MAX_DELAY", "Fault", "FaultQueue"]

#: ``status``: answer with ``status`` (optional ``retry_after`` header and
#: ``body``) without handling the request.  ``html``: an HTML error page
#: as a proxy in front of the service would send (status 502 unless
#: given).  ``slow``: handle the request at once but hold the answer back
#: ``delay`` seconds.
#: ``drop_before``: drop the connection without handling the request.
#: ``drop_after``: handle the request (a send is committed), then drop the
#: connection instead of answering.
FAULT_KINDS = ("status", "html", "slow", "drop_before", "drop_after")

_DEFAULT_STATUS = {"status": 503, "html": 502}

#: The longest ``slow`` delay, in seconds: enough to outlast any timeout
#: a test sets, short enough that a typo cannot hang a server for good.
MAX_DELAY = 300.0


class Fault:
    """One staged fault: what happens and which requests it waits for.

    Every setting is checked here, whether the fault is made in Python or
    from the control API's JSON, so that a fault which could not be sent
    is refused when queued (a ValueError naming the field) rather than
    breaking the request it meets:

    * ``status``: 200 to 599, but not 204, 205 or 304 (answers that carry
      no body, so the staged body could not follow);
    * ``retry_after``: a whole number of seconds, 0 or more, or an HTTP
      date (``Wed, 21 Oct 2015 07:28:00 GMT``), with no control characters;
    * ``body``: text UTF-8 can write (no lone surrogates);
    * ``delay``: 0 to :data:`MAX_DELAY` seconds; ``count``: 1 or more.
    """

    def __init__(
        self,
        kind: str,
        *,
        status: int | None = None,
        retry_after: str | int | None = None,
        body: str | None = None,
        delay: float = 0.0,
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
    ) -> None:
        for name, text in (("method", method), ("path", path)):
            if text is not None and not isinstance(text, str):
                raise ValueError(f"{name!r} must be text, got {_shown(text)}")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ValueError(
                f"'count' must be a whole number, got {_shown(count)}"
            )
        seconds = _number(delay, "delay")
        if not 0 <= seconds <= MAX_DELAY:
            raise ValueError(
                f"'delay' must be 0 to {MAX_DELAY:g} seconds, "
                f"got {_shown(delay)}"
            )
        if not isinstance(kind, str) or kind not in FAULT_KINDS:
            raise ValueError(
                f"'kind' must be one of {', '.join(FAULT_KINDS)}; "
                f"got {_shown(kind)}"
            )
        if count < 1:
            raise ValueError(
                f"'count' must be at least 1, got {_shown(count)}"
            )
        if status is not None and not _carries_a_body(status):
            raise ValueError(
                "'status' must be an HTTP status from 200 to 599 that "
                "carries a body (not 204, 205 or 304), "
                f"got {_shown(status)}"
            )
        self.kind = kind
        self.status = status or _DEFAULT_STATUS.get(kind)
        self.retry_after = _retry_after(retry_after)
        self.body = _body(body)
        self.delay = seconds
        self.method = method.upper() if method else None
        self.path = path
        self.count = count

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from the control API's JSON object."""
        known = {
            "kind",
            "status",
            "retry_after",
            "body",
            "delay",
            "method",
            "path",
            "count",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown field {unknown[0]!r}; expected one of "
                f"{', '.join(sorted(known))}"
            )
        if "kind" not in data:
            raise ValueError(
                f"'kind' is required (one of {', '.join(FAULT_KINDS)})"
            )
        count = _optional_int(data.get("count"), "count")
        return cls(
            data["kind"],
            status=_optional_int(data.get("status"), "status"),
            retry_after=data.get("retry_after"),
            body=data.get("body"),
            delay=data.get("delay", 0.0),
            method=data.get("method"),
            path=data.get("path"),
            count=1 if count is None else count,
        )

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with ``method`` and ``path`` takes this fault.

        ``path`` ending in ``*`` matches every path starting with the rest.
        """
        if self.method is not None and self.method != method.upper():
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def to_json(self) -> dict[str, Any]:
        """The fault as the control API shows it."""
        return {
            "kind": self.kind,
            "status": self.status,
            "retry_after": self.retry_after,
            "body": self.body,
            "delay": self.delay,
            "method": self.method,
            "path": self.path,
            "count": self.count,
        }

    def __repr__(self) -> str:
        where = " ".join(p for p in (self.method, self.path) if p)
        return f"<Fault {self.kind} x{self.count} {where or 'any request'}>"


#: Statuses whose answers carry no body: a staged body could not follow.
_BODILESS = (204, 205, 304)

_SECONDS = re.compile(r"[0-9]+")


def _carries_a_body(status: Any) -> bool:
    return (
        isinstance(status, int)
        and not isinstance(status, bool)
        and 200 <= status <= 599
        and status not in _BODILESS
    )


def _retry_after(value: Any) -> str | None:
    """A Retry-After value as the header will carry it, or a ValueError:
    whole seconds (0 or more) or an HTTP date, printable ASCII only, so
    that it cannot end the header early and add another."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    printable = isinstance(value, str) and all(" " <= c <= "~" for c in value)
    if printable and (_SECONDS.fullmatch(value) or _is_http_date(value)):
        return str(value)
    raise ValueError(
        "'retry_after' must be a whole number of seconds (0 or more) or an "
        'HTTP date such as "Wed, 21 Oct 2015 07:28:00 GMT", '
        f"got {_shown(value)}"
    )


def _is_http_date(text: str) -> bool:
    try:
        email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return True


def _body(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"'body' must be text, got {_shown(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "'body' must be text UTF-8 can write (no lone surrogates)"
        ) from None
    return value


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{name!r} must be a whole number, got {_shown(value)}"
        )
    return value


class FaultQueue:
    """Faults waiting for requests, in the order they were queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue ``fault`` behind the ones already waiting."""
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Use up one count of the first fault matching the request."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        del self._faults[index]
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults still waiting, first first."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Forget every waiting fault."""
        with self._lock:
            self._faults.clear()


def _shown(value: Any) -> str:
    """A value as JSON writes it (the control API's callers send JSON)."""
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any, name: str) -> float:
    """A finite number from the control API's JSON, or a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{name!r} must be a number of seconds, got {_shown(value)}"
        )
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{name!r} must be a finite number of seconds")
    return number

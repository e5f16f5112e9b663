"""Faults the fake service can be told to stage for coming requests.

A fault is queued with how many requests it applies to and, optionally,
the method and path it waits for.  Each request takes the first queued
fault that matches it; a fault with no ``method`` or ``path`` matches any
request.  The in-memory :class:`~amcards.transports.fake.FakeTransport`
and the loopback :class:`~amcards.transports.fake.FakeServer` both act on
the same queue.
"""

from __future__ import annotations

import json
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
    """One staged fault: what happens and which requests it waits for."""

    def __init__(
        self,
        kind: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
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
        if not 0 <= delay <= MAX_DELAY:
            raise ValueError(
                f"'delay' must be 0 to {MAX_DELAY:g} seconds, "
                f"got {_shown(delay)}"
            )
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"'kind' must be one of {', '.join(FAULT_KINDS)}; "
                f"got {_shown(kind)}"
            )
        if count < 1:
            raise ValueError(
                f"'count' must be at least 1, got {_shown(count)}"
            )
        if status is not None and not 100 <= status <= 599:
            raise ValueError(
                f"'status' must be an HTTP status from 100 to 599, "
                f"got {_shown(status)}"
            )
        self.kind = kind
        self.status = status or _DEFAULT_STATUS.get(kind)
        self.retry_after = retry_after
        self.body = body
        self.delay = float(delay)
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
        retry_after = data.get("retry_after")
        if isinstance(retry_after, bool) or not isinstance(
            retry_after, (str, int, type(None))
        ):
            raise ValueError(
                "'retry_after' must be text or a whole number of seconds, "
                f"got {_shown(retry_after)}"
            )
        body = data.get("body")
        if body is not None and not isinstance(body, str):
            raise ValueError(f"'body' must be text, got {_shown(body)}")
        count = _optional_int(data.get("count"), "count")
        return cls(
            data["kind"],
            status=_optional_int(data.get("status"), "status"),
            retry_after=None if retry_after is None else str(retry_after),
            body=body,
            delay=_number(data.get("delay", 0.0), "delay"),
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

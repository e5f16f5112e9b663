"""Transports: the only part of the package that does I/O.

A transport sends a :class:`amcards.core.http.Request` and returns a
:class:`amcards.core.http.Response`.  It knows bytes, not AMcards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amcards.transports.base import Transport

__all__ = ["Transport"]


def __getattr__(name: str) -> Any:
    if name == "Transport":
        from amcards.transports.base import Transport

        return Transport
    raise AttributeError(name)

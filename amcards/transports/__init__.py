"""Transports: the only part of the package that does I/O.

A transport sends a :class:`amcards.core.http.Request` and returns a
:class:`amcards.core.http.Response`.  It knows bytes, not AMcards.  Each
class is loaded on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amcards.transports.base import Transport
    from amcards.transports.fake import FakeTransport
    from amcards.transports.recorded import (
        RecordingTransport,
        ReplayTransport,
    )
    from amcards.transports.urllib3_transport import Urllib3Transport

__all__ = [
    "FakeTransport",
    "RecordingTransport",
    "ReplayTransport",
    "Transport",
    "Urllib3Transport",
]

_HOMES = {
    "FakeTransport": "amcards.transports.fake",
    "RecordingTransport": "amcards.transports.recorded",
    "ReplayTransport": "amcards.transports.recorded",
    "Transport": "amcards.transports.base",
    "Urllib3Transport": "amcards.transports.urllib3_transport",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(
            f"module 'amcards.transports' has no attribute {name!r}"
        )
    return getattr(importlib.import_module(home), name)

"""Tools for testing code that talks to AMcards, and transports for it.

- :class:`TransportSuite`: the pytest suite every transport passes;
  subclass it to check a transport of your own (needs pytest).
- :func:`echo_app`, :class:`EchoServer`, :class:`EchoTransport`: the echo
  service the suite talks to, in memory or on 127.0.0.1.
- :class:`ScriptedServer` with :func:`never_answer`, :func:`hang_up`,
  :func:`cut_body_short` and :func:`stall_body`: servers that misbehave
  on purpose, on 127.0.0.1.

For a fake AMcards service to test an integration against, see
:mod:`amcards.transports.fake`.  Nothing here is imported by
``import amcards``, and pytest is loaded only when :class:`TransportSuite`
is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amcards.testing.servers import (
    UNICODE_TEXT,
    EchoServer,
    EchoTransport,
    ScriptedServer,
    cut_body_short,
    echo_app,
    echo_requests_seen,
    hang_up,
    large_body,
    never_answer,
    stall_body,
    unused_port,
)

if TYPE_CHECKING:
    from amcards.testing.suite import TransportSuite

__all__ = [
    "UNICODE_TEXT",
    "EchoServer",
    "EchoTransport",
    "ScriptedServer",
    "TransportSuite",
    "cut_body_short",
    "echo_app",
    "echo_requests_seen",
    "hang_up",
    "large_body",
    "never_answer",
    "stall_body",
    "unused_port",
]


def __getattr__(name: str) -> Any:
    if name == "TransportSuite":
        from amcards.testing.suite import TransportSuite

        return TransportSuite
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

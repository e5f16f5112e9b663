"""When to try a request again, and how long to wait first.

:class:`RetryPolicy` is a value: its :meth:`~RetryPolicy.decide` method
looks at what happened to one attempt and returns a :class:`Decision`.  It
never sleeps, reads no clock and draws no random number; the caller passes
the elapsed time and a random number in and does the waiting itself.  The
same inputs always give the same decision.

Three kinds of call are told apart:

- ``"read"`` is tried again after a failure on the way (no connection,
  a timeout, a dropped line) and after the statuses in
  :attr:`RetryPolicy.retry_statuses`;
- ``"auth"`` (a token refresh) is tried again after those statuses, but
  after a failure on the way only when the request provably never reached
  the server: the service replaces the refresh token when it handles a
  refresh, so repeating one it handled would present a spent token;
- ``"send"`` mails a card, so it is tried again only when the request
  provably never reached the server (``TransportError.request_sent`` is
  False), and never because of a status.

A ``Retry-After`` wait is honoured up to a cap; otherwise the wait grows
exponentially with the attempt number and is shortened by a random
fraction (the jitter) so that many clients do not retry in step.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
from typing import Literal

import attrs

from amcards.core.errors import (
    AMcardsException,
    RateLimitError,
    TransportError,
)

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "CallKind",
    "Decision",
    "RetryPolicy",
    "parse_retry_after",
]

CallKind = Literal["read", "send", "auth"]

DEFAULT_RETRY_STATUSES = frozenset({429, 502, 503, 504})

_KINDS = frozenset({"read", "send", "auth"})
_DELAY_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


@attrs.frozen
class Decision:
    """What to do after a failed attempt.

    Attributes:
        retry: Whether to try again.
        wait: How many seconds to wait first (0.0 when not retrying).
        reason: Why, in a few words.
    """

    retry: bool
    wait: float = 0.0
    reason: str = ""


def _non_negative_finite(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(
            f"RetryPolicy.{attribute.name} must be a finite number of "
            f"seconds, zero or more; got {value!r}"
        )


def _at_least_one(
    instance: object, attribute: attrs.Attribute[int], value: int
) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"RetryPolicy.{attribute.name} must be an integer of 1 or "
            f"more; got {value!r}"
        )


def _fraction(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    if not 0 <= value <= 1:
        raise ValueError(
            f"RetryPolicy.{attribute.name} must be between 0 and 1; "
            f"got {value!r}"
        )


def _statuses(value: object) -> frozenset[int]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"retry_statuses must be integers; got {value!r}")
    statuses = frozenset(value)
    if not all(isinstance(s, int) and 100 <= s <= 599 for s in statuses):
        raise ValueError(f"retry_statuses must be HTTP statuses; {value!r}")
    return statuses


@attrs.frozen
class RetryPolicy:
    """How often and how patiently a call is tried again.

    Attributes:
        max_attempts: Attempts in all, the first one included; 1 turns
            retrying off.
        max_total_seconds: No retry is planned whose wait would end more
            than this many seconds after the first attempt started.
        backoff_base: The wait after the first failed attempt, in seconds;
            it doubles with each further attempt.
        backoff_max: The longest wait the backoff ever asks for.
        jitter: The largest fraction taken off a backoff wait at random
            (0 turns jitter off).
        retry_statuses: Statuses after which reads and token refreshes are
            tried again.
        retry_after_max: The longest ``Retry-After`` wait honoured; a
            longer one is cut to this.
    """

    max_attempts: int = attrs.field(default=4, validator=_at_least_one)
    max_total_seconds: float = attrs.field(
        default=60.0, validator=_non_negative_finite
    )
    backoff_base: float = attrs.field(
        default=0.5, validator=_non_negative_finite
    )
    backoff_max: float = attrs.field(
        default=8.0, validator=_non_negative_finite
    )
    jitter: float = attrs.field(default=0.25, validator=_fraction)
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES, converter=_statuses
    )
    retry_after_max: float = attrs.field(
        default=30.0, validator=_non_negative_finite
    )

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that never tries anything twice."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int, random: float) -> float:
        """The wait after failed attempt number ``attempt`` (1-based).

        ``random`` is a number in [0, 1]; it takes up to :attr:`jitter` of
        the wait off, so the result lies between ``(1 - jitter)`` times the
        exponential wait and the exponential wait itself, never above
        :attr:`backoff_max`.
        """
        _check_attempt(attempt)
        _check_random(random)
        exponent = min(attempt - 1, 1000)
        full = min(self.backoff_base * 2.0**exponent, self.backoff_max)
        return full * (1.0 - self.jitter * random)

    def decide(
        self,
        kind: CallKind,
        attempt: int,
        elapsed: float,
        *,
        error: AMcardsException | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        random: float = 0.0,
    ) -> Decision:
        """Decide whether to try a call again after attempt ``attempt``.

        Args:
            kind: ``"read"``, ``"send"`` or ``"auth"`` (token refresh).
            attempt: How many attempts have been made so far (1 after the
                first).
            elapsed: Seconds since the first attempt started.
            error: The error the attempt raised, if it raised one.  An
                error that is not a ``TransportError`` counts by its
                ``status`` (and a ``RateLimitError`` by its
                ``retry_after``).
            status: The status it answered with, if it answered.
            retry_after: The server's ``Retry-After`` in seconds (already
                parsed, see :func:`parse_retry_after`), or None.
            random: A number in [0, 1] drawn by the caller, for jitter.

        Returns:
            A :class:`Decision`; when ``retry`` is True, wait ``wait``
            seconds, then try again.

        Raises:
            ValueError: ``kind`` is unknown, ``attempt`` is below 1 or
                ``random`` lies outside [0, 1].
        """
        if kind not in _KINDS:
            raise ValueError(f"unknown kind of call: {kind!r}")
        _check_attempt(attempt)
        _check_random(random)

        # 1. Is this failure one that may be tried again at all?
        why = self._retryable(kind, error, status)
        if why is None:
            return Decision(False, reason="not retryable")

        # 2. Are there attempts left?
        if attempt >= self.max_attempts:
            return Decision(False, reason="no attempts left")

        # 3. How long to wait, and does that fit the time budget?
        if retry_after is None and isinstance(error, RateLimitError):
            retry_after = error.retry_after
        if retry_after is not None and math.isfinite(retry_after):
            wait = min(max(retry_after, 0.0), self.retry_after_max)
            why += ", Retry-After"
        else:
            wait = self.backoff(attempt, random)
        if max(elapsed, 0.0) + wait > self.max_total_seconds:
            return Decision(False, reason="out of time")
        return Decision(True, wait=wait, reason=why)

    def _retryable(
        self,
        kind: CallKind,
        error: AMcardsException | None,
        status: int | None,
    ) -> str | None:
        """Why this outcome may be retried, or None if it may not."""
        if isinstance(error, TransportError):
            if kind in ("send", "auth") and error.request_sent:
                return None
            return type(error).__name__
        if error is not None:
            status = error.status
        if status is None or kind == "send":
            return None
        if status in self.retry_statuses:
            return f"HTTP {status}"
        return None


def _check_attempt(attempt: int) -> None:
    if isinstance(attempt, bool) or not isinstance(attempt, int):
        raise ValueError(f"attempt must be an integer; got {attempt!r}")
    if attempt < 1:
        raise ValueError(f"attempt counts from 1; got {attempt!r}")


def _check_random(random: float) -> None:
    if not 0.0 <= random <= 1.0:
        raise ValueError(f"random must lie in [0, 1]; got {random!r}")


def parse_retry_after(
    value: str, now: dt.datetime | None = None
) -> float | None:
    """Read a ``Retry-After`` header as a number of seconds from ``now``.

    The header holds either a number of seconds or an HTTP date.  A date
    in the past gives 0.0.  A naive ``now`` is taken to be in UTC; with
    no ``now`` at all, only the seconds form can be read.

    Returns:
        The wait in seconds, or None when the value is neither form.
    """
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    if now is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    try:
        return max((when - now).total_seconds(), 0.0)
    except OverflowError:
        return None

"""Tests for amcards.core.retry: pure retry decisions and Retry-After."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards.core.errors import (
    AMcardsException,
    ConnectError,
    ConnectionLostError,
    ConnectTimeoutError,
    RateLimitError,
    ReadTimeoutError,
    ServerError,
    TransportError,
)
from amcards.core.retry import (
    DEFAULT_RETRY_STATUSES,
    Decision,
    RetryPolicy,
    parse_retry_after,
)

NOW = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)

kinds = st.sampled_from(["read", "send", "auth"])
fractions = st.floats(min_value=0.0, max_value=1.0)
seconds = st.floats(min_value=0.0, max_value=1e6)
statuses = st.integers(min_value=100, max_value=599)
transport_errors = st.sampled_from(
    [
        ConnectError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionLostError,
        TransportError,
    ]
).map(lambda cls: cls("failed"))
errors = st.one_of(st.none(), transport_errors)
policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(min_value=1, max_value=10),
    max_total_seconds=st.floats(min_value=0.0, max_value=1e4),
    backoff_base=st.floats(min_value=0.0, max_value=100.0),
    backoff_max=st.floats(min_value=0.0, max_value=100.0),
    jitter=fractions,
    retry_after_max=st.floats(min_value=0.0, max_value=1e3),
)


DEFAULT_POLICY = RetryPolicy()


def decide(
    policy: RetryPolicy = DEFAULT_POLICY,
    kind: str = "read",
    attempt: int = 1,
    elapsed: float = 0.0,
    **kw: object,
) -> Decision:
    return policy.decide(kind, attempt, elapsed, **kw)  # type: ignore[arg-type]


# Properties ---------------------------------------------------------------


@given(
    policies,
    kinds,
    st.integers(min_value=1, max_value=20),
    seconds,
    errors,
    st.one_of(st.none(), statuses),
    st.one_of(st.none(), seconds),
    fractions,
)
def test_waits_never_exceed_the_caps(
    policy, kind, attempt, elapsed, error, status, retry_after, random
):
    """A planned wait stays under its cap and inside the time budget."""
    decision = policy.decide(
        kind,
        attempt,
        elapsed,
        error=error,
        status=status,
        retry_after=retry_after,
        random=random,
    )
    if not decision.retry:
        assert decision.wait == 0.0
        return
    assert decision.wait >= 0.0
    assert decision.wait <= max(policy.backoff_max, policy.retry_after_max)
    if retry_after is None:
        assert decision.wait <= policy.backoff_max
    else:
        assert decision.wait <= policy.retry_after_max
    assert elapsed + decision.wait <= policy.max_total_seconds


@given(
    policies,
    st.integers(min_value=1, max_value=20),
    seconds,
    st.sampled_from(
        [ReadTimeoutError, ConnectionLostError, TransportError]
    ).map(lambda cls: cls("failed")),
    st.one_of(st.none(), seconds),
    fractions,
)
def test_sends_are_never_retried_once_the_request_may_have_arrived(
    policy, attempt, elapsed, error, retry_after, random
):
    """A send whose request may have reached the server is not repeated."""
    assert error.request_sent
    decision = policy.decide(
        "send",
        attempt,
        elapsed,
        error=error,
        retry_after=retry_after,
        random=random,
    )
    assert not decision.retry


@given(policies, statuses, st.one_of(st.none(), seconds), fractions)
def test_sends_are_never_retried_because_of_a_status(
    policy, status, retry_after, random
):
    """No status, not even 429 or 503, makes a send repeat."""
    decision = policy.decide(
        "send", 1, 0.0, status=status, retry_after=retry_after, random=random
    )
    assert not decision.retry


@given(policies, kinds, seconds, errors, st.one_of(st.none(), statuses))
def test_attempts_are_capped(policy, kind, elapsed, error, status):
    """Once max_attempts attempts were made, nothing is retried."""
    for attempt in (policy.max_attempts, policy.max_attempts + 5):
        decision = policy.decide(
            kind, attempt, elapsed, error=error, status=status
        )
        assert not decision.retry


@given(
    policies,
    kinds,
    st.integers(min_value=1, max_value=20),
    seconds,
    errors,
    st.one_of(st.none(), statuses),
    st.one_of(st.none(), seconds),
    fractions,
)
def test_decisions_are_deterministic(
    policy, kind, attempt, elapsed, error, status, retry_after, random
):
    """The same inputs give the same decision, every time."""
    args = dict(
        error=error, status=status, retry_after=retry_after, random=random
    )
    first = policy.decide(kind, attempt, elapsed, **args)
    second = policy.decide(kind, attempt, elapsed, **args)
    assert first == second


@given(policies, st.integers(min_value=1, max_value=100), fractions)
def test_backoff_lies_within_the_jitter_band(policy, attempt, random):
    """Backoff is the capped exponential wait less at most jitter of it."""
    full = min(policy.backoff_base * 2.0 ** (attempt - 1), policy.backoff_max)
    wait = policy.backoff(attempt, random)
    assert full * (1 - policy.jitter) - 1e-9 <= wait <= full


@given(policies, st.integers(min_value=1, max_value=30))
def test_backoff_never_shrinks_with_more_attempts(policy, attempt):
    """Without jitter, each wait is at least as long as the one before."""
    assert policy.backoff(attempt + 1, 0.0) >= policy.backoff(attempt, 0.0)


# Examples -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["read", "auth", "send"])
@pytest.mark.parametrize("error_class", [ConnectError, ConnectTimeoutError])
def test_a_request_that_never_left_is_retried_for_every_kind(
    kind, error_class
):
    """ConnectError means nothing was sent, so even a send is retried."""
    decision = decide(kind=kind, error=error_class("refused"))
    assert decision == Decision(True, 0.5, error_class.__name__)


@pytest.mark.parametrize(
    "error_class", [ReadTimeoutError, ConnectionLostError]
)
def test_reads_are_retried_after_any_transport_error(error_class):
    """Reads are safe to repeat, whatever happened on the way."""
    assert decide(kind="read", error=error_class("x")).retry


@pytest.mark.parametrize("kind", ["auth", "send"])
@pytest.mark.parametrize(
    "error_class", [ReadTimeoutError, ConnectionLostError, TransportError]
)
def test_refreshes_and_sends_that_may_have_arrived_are_not_retried(
    kind, error_class
):
    """A refresh the service handled spent its refresh token; a send it
    handled mailed a card: neither is repeated once it may have arrived."""
    decision = decide(kind=kind, error=error_class("x"))
    assert decision == Decision(False, reason="not retryable")


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (429, True),
        (502, True),
        (503, True),
        (504, True),
        (500, False),
        (400, False),
        (401, False),
        (404, False),
        (200, False),
    ],
)
@pytest.mark.parametrize("kind", ["read", "auth"])
def test_reads_are_retried_only_after_the_retry_statuses(
    kind, status, retried
):
    """429 and 502/503/504 are retried; other statuses are answers."""
    assert decide(kind=kind, status=status).retry is retried


def test_nothing_to_retry_when_neither_error_nor_status():
    """With no error and no status there is nothing to retry."""
    assert decide() == Decision(False, reason="not retryable")


def test_backoff_doubles_and_is_capped():
    """0.5, 1, 2, 4, 8, 8... seconds without jitter."""
    policy = RetryPolicy(jitter=0.0)
    waits = [policy.backoff(n, 0.7) for n in range(1, 8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_takes_a_fraction_off():
    """random=1 takes the whole jitter fraction off the wait."""
    policy = RetryPolicy(backoff_base=2.0, jitter=0.5)
    assert policy.backoff(1, 0.0) == 2.0
    assert policy.backoff(1, 1.0) == 1.0
    assert policy.backoff(1, 0.5) == 1.5


def test_retry_after_is_honoured():
    """Retry-After replaces the backoff wait."""
    decision = decide(status=429, retry_after=7.0, random=0.9)
    assert decision == Decision(True, 7.0, "HTTP 429, Retry-After")


def test_retry_after_is_capped():
    """A Retry-After above retry_after_max waits retry_after_max."""
    policy = RetryPolicy(retry_after_max=10.0)
    assert decide(policy, status=503, retry_after=3600.0).wait == 10.0


def test_retry_after_in_the_past_waits_nothing():
    """A negative Retry-After counts as zero."""
    assert decide(status=429, retry_after=-5.0).wait == 0.0


def test_missing_retry_after_falls_back_to_backoff():
    """429 without Retry-After waits the backoff."""
    assert decide(status=429, attempt=3, random=0.0).wait == 2.0


def test_a_wait_past_the_time_budget_is_not_planned():
    """A retry that would end after max_total_seconds is given up."""
    policy = RetryPolicy(max_total_seconds=10.0)
    decision = decide(policy, elapsed=9.0, status=503, retry_after=5.0)
    assert decision == Decision(False, reason="out of time")
    assert decide(policy, elapsed=4.0, status=503, retry_after=5.0).retry


def test_max_attempts_counts_the_first_attempt():
    """max_attempts=3 allows retries after attempts 1 and 2 only."""
    policy = RetryPolicy(max_attempts=3)
    outcome = [decide(policy, attempt=n, status=503).retry for n in (1, 2, 3)]
    assert outcome == [True, True, False]


def test_never_turns_retrying_off():
    """RetryPolicy.never() retries nothing, not even a refused connection."""
    decision = decide(RetryPolicy.never(), error=ConnectError("refused"))
    assert decision == Decision(False, reason="no attempts left")


def test_error_with_a_status_counts_by_its_status():
    """A RateLimitError counts as its 429 and carries its Retry-After."""
    error = RateLimitError("slow down", status=429, retry_after=4.0)
    assert decide(error=error) == Decision(True, 4.0, "HTTP 429, Retry-After")
    assert not decide(error=ServerError("boom", status=500)).retry
    assert not decide(error=AMcardsException("other")).retry
    assert not decide(kind="send", error=error).retry


def test_retry_statuses_can_be_changed():
    """A policy can retry 500 too."""
    policy = RetryPolicy(retry_statuses={500, 503})
    assert policy.retry_statuses == frozenset({500, 503})
    assert decide(policy, status=500).retry
    assert not decide(policy, status=429).retry


def test_the_default_retry_statuses():
    """429, 502, 503 and 504 are retried by default."""
    assert RetryPolicy().retry_statuses == DEFAULT_RETRY_STATUSES
    assert {429, 502, 503, 504} == DEFAULT_RETRY_STATUSES


def test_policy_is_immutable():
    """A policy is a frozen value."""
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 9  # type: ignore[misc]
    assert policy == RetryPolicy()
    assert hash(policy) == hash(RetryPolicy())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 1.5},
        {"max_attempts": True},
        {"max_total_seconds": -1.0},
        {"backoff_base": float("inf")},
        {"backoff_max": float("nan")},
        {"jitter": 1.5},
        {"jitter": -0.1},
        {"retry_after_max": -2.0},
        {"retry_statuses": {42}},
        {"retry_statuses": {"503"}},
    ],
)
def test_bad_settings_are_refused(kwargs):
    """Settings out of range raise ValueError naming the setting."""
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "write"},
        {"attempt": 0},
        {"random": 1.5},
        {"random": float("nan")},
    ],
)
def test_bad_decision_inputs_are_refused(kwargs):
    """An unknown kind, attempt 0 or random outside [0, 1] is an error."""
    with pytest.raises(ValueError):
        decide(**kwargs)


# parse_retry_after ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("Fri, 01 Mar 2024 12:00:30 GMT", 30.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),
        ("Sat, 02 Mar 2024 12:00:00 GMT", 86400.0),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1e3", None),
        ("\u0663", None),
        ("Fri, 99 Mar 2024 12:00:30 GMT", None),
    ],
)
def test_parse_retry_after(value, expected):
    """Seconds or an HTTP date become seconds from now; anything else None."""
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_takes_a_naive_now_as_utc():
    """A naive now is read as UTC."""
    naive = NOW.replace(tzinfo=None)
    value = "Fri, 01 Mar 2024 12:01:00 GMT"
    assert parse_retry_after(value, naive) == 60.0


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_retry_after_reads_any_number_of_seconds(value):
    """Every non-negative integer is read as that many seconds."""
    assert parse_retry_after(str(value), NOW) == float(value)


@given(
    st.datetimes(
        min_value=dt.datetime(1971, 1, 1),
        max_value=dt.datetime(2200, 1, 1),
    )
)
def test_parse_retry_after_reads_http_dates(when):
    """An HTTP date gives the seconds from now to it, or 0 if past."""
    when = when.replace(microsecond=0, tzinfo=dt.timezone.utc)
    header = email.utils.format_datetime(when, usegmt=True)
    expected = max((when - NOW).total_seconds(), 0.0)
    assert parse_retry_after(header, NOW) == expected


@given(st.text())
def test_parse_retry_after_never_raises(value):
    """Any text gives a number of seconds of zero or more, or None."""
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0.0

"""Every exception the package raises.

All of them derive from :class:`AMcardsException`.  The ones the older
client documented keep their names and bases; the rest are new and more
precise.  An error about an HTTP answer carries the status, the request's
method and path and a short excerpt of the body; none ever carries a token.

This module imports nothing outside the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AMcardsException",
    "AuthenticationError",
    "BadRequestError",
    "CampaignSendError",
    "CardSendError",
    "CardsSendError",
    "CassetteError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "ContactCreateError",
    "DateFormatError",
    "DuplicateCampaignError",
    "ExtraDataError",
    "ForbiddenCampaignError",
    "ForbiddenCardError",
    "ForbiddenContactError",
    "ForbiddenMailingError",
    "ForbiddenResourceError",
    "ForbiddenTemplateError",
    "InsufficientCreditsError",
    "OAuthTokenRefreshError",
    "PhoneFormatError",
    "RateLimitError",
    "ReadTimeoutError",
    "ReplayMismatchError",
    "ReturnAddressError",
    "SendInProgressError",
    "SendOutcomeUnknownError",
    "ServerError",
    "ShippingAddressError",
    "SpendingLimitError",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
]

EXCERPT_LIMIT = 200


def body_excerpt(body: bytes, limit: int = EXCERPT_LIMIT) -> str:
    """Return the start of ``body`` as text, cut to ``limit`` characters."""
    text = body[: limit * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > limit:
        return text[: limit - 1] + "\u2026"
    return text


class AMcardsException(Exception):
    """The base of every exception this package raises.

    Errors about an HTTP answer fill in ``status``, ``method``, ``path``,
    ``body_excerpt`` and ``headers``; the others leave them as None.
    """

    def __init__(
        self,
        *args: object,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body_excerpt: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(*args)
        self.status = status
        self.method = method
        self.path = path
        self.body_excerpt = body_excerpt
        self.headers = dict(headers) if headers else {}

    def __str__(self) -> str:
        text = super().__str__()
        where = " ".join(p for p in (self.method, self.path) if p)
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if where:
            parts.append(where)
        if not parts:
            return text
        return f"{text} ({', '.join(parts)})" if text else ", ".join(parts)


# Answers of the service -------------------------------------------------


class AuthenticationError(AMcardsException):
    """The service refused the access token (HTTP 401)."""


class OAuthTokenRefreshError(AMcardsException):
    """The access token could not be refreshed.

    The refresh token was refused, the service could not be reached, or
    its answer was not understood.
    """


class InsufficientCreditsError(AMcardsException):
    """The user's balance does not cover the send (HTTP 402)."""


class DuplicateCampaignError(AMcardsException):
    """The campaign was already sent to this recipient (HTTP 409).

    Raised when the campaign refuses duplicates, or when the send asked
    the service to check for them.
    """


class CardSendError(AMcardsException):
    """The service refused to send a card (HTTP 400); nothing was sent."""


class CardsSendError(AMcardsException):
    """The service refused a batch of cards (HTTP 400); nothing was sent."""


class CampaignSendError(AMcardsException):
    """The service refused a drip campaign send, or to price one (HTTP 400)."""


class ContactCreateError(AMcardsException):
    """The service refused to create a contact (HTTP 400)."""


class BadRequestError(AMcardsException):
    """The service refused a request as malformed (HTTP 400 on a read)."""


class ForbiddenResourceError(AMcardsException):
    """An object that does not exist or belongs to another user."""


class ForbiddenCampaignError(ForbiddenResourceError):
    """The campaign does not exist, or belongs to another user."""


class ForbiddenCardError(ForbiddenResourceError):
    """The card does not exist, or belongs to another user."""


class ForbiddenContactError(ForbiddenResourceError):
    """The contact does not exist, or belongs to another user."""


class ForbiddenMailingError(ForbiddenResourceError):
    """The mailing does not exist, or belongs to another user."""


class ForbiddenTemplateError(ForbiddenResourceError):
    """The template does not exist, or belongs to another user."""


class RateLimitError(AMcardsException):
    """The service asked the client to slow down (HTTP 429).

    ``retry_after`` is the wait it asked for, in seconds, or None.
    """

    def __init__(
        self, *args: object, retry_after: float | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.retry_after = retry_after


class ServerError(AMcardsException):
    """The service failed to answer the request (HTTP 5xx)."""


class UnexpectedResponseError(AMcardsException):
    """An answer that is not what the endpoint sends: not JSON, wrong shape,
    a missing key, or a status the client does not expect.

    ``endpoint`` names the call and ``key`` the missing or bad key, if any.
    """

    def __init__(
        self,
        *args: object,
        endpoint: str | None = None,
        key: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.endpoint = endpoint
        self.key = key


# Failures on the way ----------------------------------------------------


class TransportError(AMcardsException):
    """The request could not be completed on the network.

    ``request_sent`` is False only when the request provably never reached
    the server, which is the one case where a send may be repeated.
    """

    request_sent = True


class ConnectError(TransportError):
    """No connection could be opened; the request was never sent."""

    request_sent = False


class ConnectTimeoutError(ConnectError):
    """Opening the connection took longer than the connect timeout."""


class ReadTimeoutError(TransportError):
    """The server took longer than the read timeout to answer."""


class ConnectionLostError(TransportError):
    """The connection dropped after the request may have been sent."""


class SendOutcomeUnknownError(AMcardsException):
    """A send may or may not have reached the service.

    It is not repeated automatically, because repeating it could mail the
    card twice.  ``endpoint`` names the call and ``sent`` holds what was
    being sent (never the token); look the card up
    (``AMcardsClient.find_recent_cards``) before sending again.
    """

    def __init__(
        self,
        *args: object,
        endpoint: str | None = None,
        sent: Mapping[str, object] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.endpoint = endpoint
        self.sent = dict(sent) if sent else {}


class SendInProgressError(AMcardsException):
    """Another process or thread is sending under the same ledger key.

    Raised by the send ledger instead of waiting, so two senders never
    both mail the same card.  ``key`` is the ledger key; ``owner`` says
    who holds it (``host``, process id and thread) and ``since`` when it
    was claimed (ISO 8601 text).  Try again once that send has finished,
    or after the claim goes stale.
    """

    def __init__(
        self,
        *args: object,
        key: str | None = None,
        owner: str | None = None,
        since: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.key = key
        self.owner = owner
        self.since = since


class SpendingLimitError(AMcardsException):
    """A send would cost more than the ``max_cost`` it was given.

    Nothing was sent.  ``estimate`` and ``limit`` are in cents.
    """

    def __init__(
        self,
        *args: object,
        estimate: int | None = None,
        limit: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.estimate = estimate
        self.limit = limit


class ReplayMismatchError(AMcardsException):
    """A replayed request does not match the next exchange in a cassette."""


# What the user sent -----------------------------------------------------


class ValidationError(AMcardsException, ValueError):
    """A value given to the client is not acceptable; nothing was sent.

    ``field`` names the value (for example ``shipping_address['city']`` or
    ``shipping_addresses[3]['postal_code']``) and ``reason`` says why.
    """

    def __init__(
        self,
        *args: object,
        field: str | None = None,
        reason: str | None = None,
        **kw: Any,
    ) -> None:
        if not args and field is not None and reason is not None:
            args = (f"{field}: {reason}",)
        super().__init__(*args, **kw)
        self.field = field
        self.reason = reason


class CassetteError(ValidationError):
    """A cassette file cannot be replayed: it is not a cassette this
    package reads, or one of its entries is broken.

    ``file`` names the file and ``entry`` the broken exchange, counting
    from 1 (None when the file as a whole is wrong); ``field`` and
    ``reason`` say what is wrong with it.
    """

    def __init__(
        self,
        *args: object,
        file: str | None = None,
        entry: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.file = file
        self.entry = entry


class ShippingAddressError(ValidationError):
    """A shipping address lacks a required key, or has a bad one."""


class ReturnAddressError(ShippingAddressError):
    """Some return address fields are invalid."""


class DateFormatError(ValidationError):
    """A date is not a real date written the expected way."""


class PhoneFormatError(ValidationError):
    """A phone number is not 10 digits, or 11 starting with 1."""


class ExtraDataError(ValidationError):
    """``extra_data`` is not a mapping of strings to strings."""

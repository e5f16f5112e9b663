"""The AMcards client: validators, builders, a transport and parsers, joined.

Each public method runs the same four steps: validate and normalise what
the caller gave (pure, the error names the field), build a request
(pure), send it through the transport under the retry policy for its kind
of call, and parse the answer (pure, raising the error the status calls
for).  The client itself owns only what must hold state: the tokens and
their refresh, the transport, and the retry loop.

A send is never repeated once it may have reached the service: if the
answer is lost, :class:`SendOutcomeUnknownError` says so and carries what
was being sent, so the caller can look the card up before trying again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

import attrs

from amcards.core import builders, parsers, validators
from amcards.core.errors import (
    AMcardsException,
    OAuthTokenRefreshError,
    SendOutcomeUnknownError,
    ServerError,
    SpendingLimitError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from amcards.core.http import Request, Response, Timeout
from amcards.core.models import (
    DEFAULT_BASE_URL,
    Campaign,
    CampaignMultiResponse,
    CampaignResponse,
    Card,
    CardResponse,
    CardsResponse,
    Contact,
    CreditTransaction,
    Mailing,
    Template,
    User,
)
from amcards.core.paging import walk_pages
from amcards.core.retry import RetryPolicy, parse_retry_after
from amcards.transports.base import Transport

if TYPE_CHECKING:
    from amcards.ledger import Entry, SendLedger
    from amcards.ledger import Kind as LedgerKind

__all__ = ["DEFAULT_TIMEOUT", "AMcardsClient"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = Timeout(connect=5.0, read=30.0)

# Refresh this long before the access token expires, not after.
REFRESH_MARGIN_MS = 60_000

# Expirations below this many milliseconds are before 1973: the caller
# almost certainly gave seconds.
_SMALLEST_PLAUSIBLE_MS = 100_000_000_000

_OAUTH_KEYS = ("refresh_token", "expiration", "client_id", "client_secret")

Kind = Literal["read", "send", "auth"]
T = TypeVar("T")
Id = str | int
TimeoutArg = Timeout | float | None
Address = Mapping[str, Any]


def _as_timeout(value: Timeout | float | None) -> Timeout | None:
    if value is None or isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(
            field="timeout",
            reason="expected a Timeout or a number of seconds",
        )
    try:
        return Timeout(connect=float(value), read=float(value))
    except ValueError as exc:
        raise ValidationError(
            field="timeout",
            reason="expected a finite number of seconds above zero",
        ) from exc


@attrs.define
class _Tokens:
    """The current tokens; replaced as a whole, read under the lock."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str | None = attrs.field(default=None, repr=False)
    expiration_ms: int | None = None
    client_id: str | None = attrs.field(default=None, repr=False)
    client_secret: str | None = attrs.field(default=None, repr=False)


def _check_token(value: object, field: str) -> str:
    """A token as a header can carry it: surrounding white space (a line
    end read from a file) is stripped; spaces or control characters
    inside are refused.  The error never shows the value."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            field=field, reason="expected a non-empty string"
        )
    token = value.strip()
    if not validators.is_header_token(token):
        raise ValidationError(
            field=field,
            reason="contains spaces or control characters (is it the "
            "whole token, and only the token?)",
        )
    return token


def _read_oauth_config(
    access_token: str, oauth_config: Mapping[str, Any] | None
) -> _Tokens:
    access_token = _check_token(access_token, "access_token")
    if oauth_config is None:
        return _Tokens(access_token)
    missing = [key for key in _OAUTH_KEYS if key not in oauth_config]
    if missing:
        raise ValidationError(
            field="oauth_config",
            reason=f"missing keys: {', '.join(missing)}",
        )
    expiration = oauth_config["expiration"]
    if isinstance(expiration, bool) or not isinstance(expiration, int):
        raise ValidationError(
            field="oauth_config['expiration']",
            reason="expected a unix timestamp in milliseconds (an int)",
        )
    if expiration < _SMALLEST_PLAUSIBLE_MS:
        raise ValidationError(
            field="oauth_config['expiration']",
            reason=(
                f"{expiration} looks like seconds since the epoch; "
                "give milliseconds (multiply by 1000)"
            ),
        )
    return _Tokens(
        access_token,
        _check_token(
            oauth_config["refresh_token"], "oauth_config['refresh_token']"
        ),
        expiration,
        str(oauth_config["client_id"]),
        str(oauth_config["client_secret"]),
    )


class AMcardsClient:
    """Talks to the AMcards API on behalf of one account.

    Args:
        access_token: Your AMcards access token.
        oauth_config: Optional OAuth settings with the keys
            ``refresh_token``, ``expiration`` (a unix timestamp in
            milliseconds), ``client_id`` and ``client_secret``.  With them
            the client refreshes the access token shortly before it
            expires, and once after a 401.
        callback: Called as ``callback(access_token=..., refresh_token=...,
            expiration=...)`` after each refresh, so the new tokens can be
            stored.  If it raises, the new tokens stay in use and the error
            reaches the caller.
        base_url: The AMcards server; links on models follow it.
        transport: Where requests go; a urllib3 connection pool by default.
        timeout: Connect and read timeouts for every call (a
            :class:`Timeout` or seconds).  When None, the transport's own
            apply (5 s to connect and 30 s to read for the default one).
            Each method also takes ``timeout=`` for that call alone.
        retry: The retry policy; see :class:`amcards.core.retry.RetryPolicy`.
        sleep: How to wait between attempts (injectable for tests).
        clock: Returns the current time as an aware datetime (for token
            expiry, ``Retry-After`` dates and today's date).
        random_source: Returns a number in [0, 1) for retry jitter.
        ledger: A :class:`amcards.ledger.SendLedger`; with one, every
            send is recorded before it goes out and is never repeated
            (see ``idempotency_key`` on the send calls).

    One client may be shared by many threads.
    """

    def __init__(
        self,
        access_token: str,
        oauth_config: Mapping[str, Any] | None = None,
        callback: Callable[..., Any] | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: Transport | None = None,
        timeout: Timeout | float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] | None = None,
        random_source: Callable[[], float] = random.random,
        ledger: SendLedger | None = None,
    ) -> None:
        self._tokens = _read_oauth_config(access_token, oauth_config)
        _check_parts(
            callback=callback,
            transport=transport,
            retry=retry,
            sleep=sleep,
            clock=clock,
            random_source=random_source,
            ledger=ledger,
        )
        self._callback = callback
        self._base_url = _check_base_url(base_url)
        self._timeout = _as_timeout(timeout)
        self._retry = retry if retry is not None else RetryPolicy()
        self._sleep = sleep
        self._clock = clock or _utc_now
        self._random = random_source
        self._refresh_lock = threading.Lock()
        self._ledger = ledger
        if transport is None:
            from amcards.transports.urllib3_transport import (
                Urllib3Transport,
            )

            transport = Urllib3Transport(
                timeout=self._timeout or DEFAULT_TIMEOUT
            )
        self._transport = transport

    # Housekeeping ------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._base_url

    @property
    def transport(self) -> Transport:
        """The transport requests go through."""
        return self._transport

    def close(self) -> None:
        """Close the transport and its connections."""
        self._transport.close()

    def __enter__(self) -> AMcardsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<AMcardsClient {self._base_url}>"

    # Reading -----------------------------------------------------------

    def user(self, *, timeout: TimeoutArg = None) -> User:
        """Return the account the access token belongs to.

        Raises:
            AuthenticationError: the token was refused.
        """
        request = builders.build_user_request()
        response = self._send("user", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_user(response, self._base_url)
        )

    def templates(
        self, limit: int = 25, skip: int = 0, *, timeout: TimeoutArg = None
    ) -> list[Template]:
        """Return one page of the account's card templates.

        Args:
            limit: How many templates at most.
            skip: How many to pass over first (the API's ``offset``).
        """
        limit, skip = validators.validate_limit_skip(limit, skip)
        request = builders.build_templates_request(limit, skip)
        response = self._send("templates", request, "read", timeout)
        return self._parse(request, lambda: parsers.parse_templates(response))

    def template(self, id: Id, *, timeout: TimeoutArg = None) -> Template:
        """Return the template ``id``.

        Raises:
            ForbiddenTemplateError: no such template in this account.
        """
        request = builders.build_template_request(
            validators.validate_id(id, "id")
        )
        response = self._send("template", request, "read", timeout)
        return self._parse(request, lambda: parsers.parse_template(response))

    def quicksends(
        self, limit: int = 25, skip: int = 0, *, timeout: TimeoutArg = None
    ) -> list[Template]:
        """Return one page of the account's quicksend templates."""
        limit, skip = validators.validate_limit_skip(limit, skip)
        request = builders.build_quicksends_request(limit, skip)
        response = self._send("quicksends", request, "read", timeout)
        return self._parse(
            request,
            lambda: parsers.parse_templates(response, endpoint="quicksends"),
        )

    def quicksend(self, id: Id, *, timeout: TimeoutArg = None) -> Template:
        """Return the quicksend template ``id``.

        Raises:
            ForbiddenTemplateError: no such quicksend in this account.
        """
        request = builders.build_quicksend_request(
            validators.validate_id(id, "id")
        )
        response = self._send("quicksend", request, "read", timeout)
        return self._parse(
            request,
            lambda: parsers.parse_template(response, endpoint="quicksend"),
        )

    def campaigns(
        self, limit: int = 25, skip: int = 0, *, timeout: TimeoutArg = None
    ) -> list[Campaign]:
        """Return one page of the account's drip campaigns."""
        limit, skip = validators.validate_limit_skip(limit, skip)
        request = builders.build_campaigns_request(limit, skip)
        response = self._send("campaigns", request, "read", timeout)
        return self._parse(request, lambda: parsers.parse_campaigns(response))

    def campaign(self, id: Id, *, timeout: TimeoutArg = None) -> Campaign:
        """Return the drip campaign ``id``.

        Raises:
            ForbiddenCampaignError: no such campaign in this account.
        """
        request = builders.build_campaign_request(
            validators.validate_id(id, "id")
        )
        response = self._send("campaign", request, "read", timeout)
        return self._parse(request, lambda: parsers.parse_campaign(response))

    def cards(
        self,
        limit: int = 25,
        skip: int = 0,
        filters: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> list[Card]:
        """Return one page of the cards the account has sent.

        ``filters`` are extra query parameters in the API's lookup style,
        for example ``{'third_party_contact_id': 'crm-1'}``.
        """
        limit, skip = validators.validate_limit_skip(limit, skip)
        request = builders.build_cards_request(limit, skip, filters)
        response = self._send("cards", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_cards(response, self._base_url)
        )

    def card(self, id: Id, *, timeout: TimeoutArg = None) -> Card:
        """Return the card ``id``.

        Raises:
            ForbiddenCardError: no such card in this account.
        """
        request = builders.build_card_request(validators.validate_id(id, "id"))
        response = self._send("card", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_card(response, self._base_url)
        )

    def card_count(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> int:
        """Counts the client's cards that match ``filters``."""
        request = builders.build_card_count_request(filters)
        response = self._send("card_count", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_count(response, "card_count")
        )

    def find_recent_cards(
        self,
        *,
        third_party_contact_id: str | None = None,
        initiator: str | None = None,
        limit: int = 25,
        timeout: TimeoutArg = None,
    ) -> list[Card]:
        """Looks up recent cards for a recipient or an initiator.

        This is how to check whether a send whose outcome is unknown went
        through before sending it again.
        """
        filters: dict[str, str] = {}
        for name, value in (
            ("third_party_contact_id", third_party_contact_id),
            ("initiator", initiator),
        ):
            if value is None:
                continue
            if not isinstance(value, str):
                raise ValidationError(
                    field=name,
                    reason=f"expected a string, not {type(value).__name__}",
                )
            if value.strip():
                filters[name] = value.strip()
        if not filters:
            raise ValidationError(
                field="third_party_contact_id",
                reason="give a third_party_contact_id or an initiator",
            )
        filters["order_by"] = "-id"
        return self.cards(limit=limit, filters=filters, timeout=timeout)

    def contacts(
        self,
        limit: int = 25,
        skip: int = 0,
        filters: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> list[Contact]:
        """Return one page of the account's contacts.

        ``filters`` are extra query parameters, such as
        ``{'last_name': 'Smith'}``.
        """
        limit, skip = validators.validate_limit_skip(limit, skip)
        request = builders.build_contacts_request(limit, skip, filters)
        response = self._send("contacts", request, "read", timeout)
        return self._parse(request, lambda: parsers.parse_contacts(response))

    def contact(self, id: Id, *, timeout: TimeoutArg = None) -> Contact:
        """Return the contact ``id``.

        Raises:
            ForbiddenContactError: no such contact in this account.
        """
        request = builders.build_contact_request(
            validators.validate_id(id, "id")
        )
        response = self._send("contact", request, "read", timeout)
        return self._parse(request, lambda: parsers.parse_contact(response))

    def mailing(self, id: Id, *, timeout: TimeoutArg = None) -> Mailing:
        """Return the mailing ``id`` (a batch sent by :meth:`send_cards`).

        Raises:
            ForbiddenMailingError: no such mailing in this account.
        """
        request = builders.build_mailing_request(
            validators.validate_id(id, "id")
        )
        response = self._send("mailing", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_mailing(response, self._base_url)
        )

    def credit_transactions(
        self,
        limit: int = 25,
        skip: int = 0,
        filters: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> list[CreditTransaction]:
        """Return one page of the movements of the credit balance."""
        limit, skip = validators.validate_limit_skip(limit, skip)
        request = builders.build_credit_transactions_request(
            limit, skip, filters
        )
        response = self._send("credit_transactions", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_credit_transactions(response)
        )

    def credit_transaction_count(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> int:
        """Counts the credit transactions that match ``filters``."""
        request = builders.build_credit_transaction_count_request(filters)
        response = self._send(
            "credit_transaction_count", request, "read", timeout
        )
        return self._parse(
            request,
            lambda: parsers.parse_count(response, "credit_transaction_count"),
        )

    # Walking whole listings ---------------------------------------------

    def iter_cards(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = 100,
        timeout: TimeoutArg = None,
    ) -> Iterator[Card]:
        """Yields every card that matches ``filters``, one page at a time.

        Cards created meanwhile do not make it yield one twice; see
        :mod:`amcards.core.paging`.  The same holds for every ``iter_*``
        method, and so does its limit: items deleted during the walk make
        it skip others, so collect what you mean to delete first.
        """
        return walk_pages(
            lambda limit, skip: self.cards(
                limit, skip, filters, timeout=timeout
            ),
            page_size,
            _by_id,
        )

    def iter_contacts(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = 100,
        timeout: TimeoutArg = None,
    ) -> Iterator[Contact]:
        """Yields every contact that matches ``filters``, lazily.

        Deleting contacts while walking them makes the walk skip others
        (see :mod:`amcards.core.paging`): to delete what it finds, use
        ``list(client.iter_contacts(...))`` first.
        """
        return walk_pages(
            lambda limit, skip: self.contacts(
                limit, skip, filters, timeout=timeout
            ),
            page_size,
            _by_id,
        )

    def iter_templates(
        self, *, page_size: int = 100, timeout: TimeoutArg = None
    ) -> Iterator[Template]:
        """Yields every template, lazily."""
        return walk_pages(
            lambda limit, skip: self.templates(limit, skip, timeout=timeout),
            page_size,
            _by_id,
        )

    def iter_campaigns(
        self, *, page_size: int = 100, timeout: TimeoutArg = None
    ) -> Iterator[Campaign]:
        """Yields every drip campaign, lazily."""
        return walk_pages(
            lambda limit, skip: self.campaigns(limit, skip, timeout=timeout),
            page_size,
            _by_id,
        )

    def iter_credit_transactions(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = 100,
        timeout: TimeoutArg = None,
    ) -> Iterator[CreditTransaction]:
        """Yields every credit transaction that matches ``filters``."""
        return walk_pages(
            lambda limit, skip: self.credit_transactions(
                limit, skip, filters, timeout=timeout
            ),
            page_size,
            _by_id,
        )

    # Contacts ----------------------------------------------------------

    def create_contact(
        self,
        first_name: str,
        last_name: str,
        address_line_1: str,
        city: str,
        state: str,
        postal_code: str,
        country: str | None = None,
        notes: str | None = None,
        email: str | None = None,
        organization: str | None = None,
        phone: str | None = None,
        birth_year: str | None = None,
        birth_month: str | None = None,
        birth_day: str | None = None,
        anniversary_year: str | None = None,
        anniversary_month: str | None = None,
        anniversary_day: str | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> None:
        """Add a contact to the account's address book.

        The phone number follows the same rule as on sends: 10 digits, or
        11 starting with 1, once spaces, dots, dashes and brackets are
        removed; it is sent as digits only.  Birthday and anniversary
        parts are checked by
        :func:`~amcards.core.validators.validate_date_parts` (digits, real
        months and days) and sent as given.
        """
        address = validators.validate_shipping_address(
            {
                "first_name": first_name,
                "last_name": last_name,
                "address_line_1": address_line_1,
                "city": city,
                "state": state,
                "postal_code": postal_code,
                "country": country or "",
                "organization": organization or "",
            },
            field="contact",
        )
        phone_digits = (
            validators.validate_phone(phone, "phone") if phone else None
        )
        for name, value in (("notes", notes), ("email", email)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(
                    field=name,
                    reason=f"expected a string, not {type(value).__name__}",
                )
        birth = validators.validate_date_parts(
            birth_year, birth_month, birth_day, "birth"
        )
        anniversary = validators.validate_date_parts(
            anniversary_year, anniversary_month, anniversary_day, "anniversary"
        )
        user = self.user(timeout=timeout)
        request = builders.build_create_contact_request(
            user.id,
            first_name=address["first_name"],
            last_name=address["last_name"],
            address_line_1=address["address_line_1"],
            city=address["city"],
            state=address["state"],
            postal_code=address["postal_code"],
            country=address.get("country"),
            notes=notes,
            email=email,
            organization=address.get("organization"),
            phone=phone_digits,
            birth_year=birth[0],
            birth_month=birth[1],
            birth_day=birth[2],
            anniversary_year=anniversary[0],
            anniversary_month=anniversary[1],
            anniversary_day=anniversary[2],
        )
        self._post(
            "create_contact", request, timeout, parsers.parse_create_contact
        )

    def delete_contact(self, id: Id, *, timeout: TimeoutArg = None) -> None:
        """Remove the contact ``id`` from the account.

        Raises:
            ForbiddenContactError: no such contact in this account.
        """
        request = builders.build_delete_contact_request(
            validators.validate_id(id, "id")
        )
        self._post(
            "delete_contact", request, timeout, parsers.parse_delete_contact
        )

    # Sending -----------------------------------------------------------

    def send_card(
        self,
        template_id: Id,
        initiator: str,
        shipping_address: Address,
        return_address: Address | None = None,
        send_date: str | dt.date | None = None,
        message: str | None = None,
        *,
        extra_data: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        max_cost: int | None = None,
        timeout: TimeoutArg = None,
    ) -> CardResponse:
        """Mail one card made from template ``template_id``.

        ``initiator`` records who asked for the card (useful when several
        people or systems share one account).  ``shipping_address`` needs
        ``first_name``, ``last_name``, ``address_line_1``, ``city``,
        ``state`` (outside the US, Canada and Australia it may be blank)
        and ``postal_code``; it may add ``address_line_2``, ``country``,
        ``organization`` and ``third_party_contact_id``.  Every value is
        checked before anything is sent.  ``return_address`` overrides
        the account's own.  Without ``send_date`` the service picks the
        next day.

        With a ledger (``AMcardsClient(..., ledger=...)``), the card is
        sent at most once under ``idempotency_key``, or under a key
        derived from the template, address, send date and message: a
        second call returns the first answer without a request.  See
        :mod:`amcards.ledger`.

        With ``max_cost`` (in cents), the card is priced first (see
        :meth:`send_card_cost`) and not sent if it would cost more.

        Raises:
            ShippingAddressError, DateFormatError, ExtraDataError: before
                anything is sent, naming the bad field.
            CardSendError, ForbiddenTemplateError, InsufficientCreditsError,
            AuthenticationError: as the service answers.
            SendOutcomeUnknownError: the answer was lost; the card may or
                may not have been sent.  Check before sending again.
            SendInProgressError: another sender holds the ledger key.
            SpendingLimitError: the card would cost more than max_cost.
        """
        if self._ledger is None:
            _no_ledger_for(idempotency_key)
            return self._send_card_now(
                template_id,
                initiator,
                shipping_address,
                return_address,
                send_date,
                message,
                extra_data=extra_data,
                max_cost=max_cost,
                timeout=timeout,
            )
        from amcards.ledger import send_card_once

        def send_now(*args: Any, **options: Any) -> CardResponse:
            return self._send_card_now(*args, max_cost=max_cost, **options)

        return send_card_once(
            self,
            self._ledger,
            template_id,
            initiator,
            shipping_address,
            return_address,
            send_date,
            message,
            extra_data=extra_data,
            idempotency_key=idempotency_key,
            timeout=timeout,
            send=send_now,
        )

    def _send_card_now(
        self,
        template_id: Id,
        initiator: str,
        shipping_address: Address,
        return_address: Address | None = None,
        send_date: str | dt.date | None = None,
        message: str | None = None,
        *,
        extra_data: Mapping[str, str] | None = None,
        max_cost: int | None = None,
        timeout: TimeoutArg = None,
    ) -> CardResponse:
        template = validators.validate_id(template_id, "template_id")
        who = _check_initiator(initiator)
        address = validators.validate_shipping_address(shipping_address)
        back = validators.validate_return_address(return_address)
        when = _optional_date(send_date, "send_date")
        extras = validators.validate_extra_data(extra_data)
        if message is not None:
            validators.validate_message(message)
        if max_cost is not None:
            self._check_spend(
                max_cost,
                lambda: self._batch_cost(template, [address], back, timeout),
            )
        request = builders.build_send_card_request(
            template, who, address, back, when, message, extras or None
        )
        return self._post(
            "send_card",
            request,
            timeout,
            lambda response: parsers.parse_send_card(
                response, address, self._base_url
            ),
        )

    def send_cards(
        self,
        template_id: Id,
        initiator: str,
        shipping_addresses: Sequence[Address],
        return_address: Address | None = None,
        send_date: str | dt.date | None = None,
        send_if_error: bool = False,
        *,
        idempotency_key: str | None = None,
        max_cost: int | None = None,
        timeout: TimeoutArg = None,
    ) -> CardsResponse:
        """Mail the same card to several recipients as one mailing.

        The service answers with a mailing whose cards are created
        asynchronously; see :meth:`mailing`.  Every address is checked
        before anything is sent, and errors name the address's index.
        With a ledger the batch is sent at most once (see
        :meth:`send_card`).  With ``max_cost`` (in cents), nothing is
        sent if the whole batch would cost more.
        """
        template = validators.validate_id(template_id, "template_id")
        who = _check_initiator(initiator)
        addresses = validators.validate_shipping_addresses(shipping_addresses)
        back = validators.validate_return_address(return_address)
        when = _optional_date(send_date, "send_date")
        if max_cost is not None:
            _check_max_cost(max_cost)
        today = self._clock().date().isoformat()
        request = builders.build_send_cards_request(
            template,
            who,
            addresses,
            back,
            when,
            bool(send_if_error),
            today=today,
        )
        record = {
            "template_id": template,
            "initiator": who,
            "shipping_addresses": addresses,
            "return_address": back,
            "send_date": when,
            "send_if_error": bool(send_if_error),
        }
        return self._once(
            "cards",
            idempotency_key,
            record,
            lambda: _derive_key("cards", template, addresses, when),
            lambda: self._post(
                "send_cards",
                request,
                timeout,
                lambda response: parsers.parse_send_cards(
                    response, addresses, self._base_url
                ),
                max_cost,
                lambda: self._batch_cost(template, addresses, back, timeout),
            ),
            CardsResponse,
        )

    def send_card_cost(
        self,
        template_id: Id,
        shipping_address: Address,
        return_address: Address | None = None,
        send_date: str | dt.date | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> int:
        """Price one card in cents without sending it.

        The cost is the user's greeting-card price, plus domestic postage
        when both the shipping country and the return country (the user's
        own when none is given) are among the user's domestic countries
        and international postage otherwise, plus the template's gifts.
        """
        template_key = validators.validate_id(template_id, "template_id")
        address = validators.validate_shipping_address(shipping_address)
        back = validators.validate_return_address(return_address)
        _optional_date(send_date, "send_date")
        user = self.user(timeout=timeout)
        template = self.template(template_key, timeout=timeout)
        return card_cost(user, template, address, back)

    def send_campaign_cost(
        self,
        campaign_id: Id,
        shipping_address: Address,
        return_address: Address | None = None,
        send_date: str | dt.date | None = None,
        *,
        timeout: TimeoutArg = None,
    ) -> int:
        """Ask the service what a drip campaign send would cost, in cents.

        Nothing is sent.  Campaign addresses may also carry
        ``phone_number``, ``birth_date`` and ``anniversary_date``.
        """
        campaign = validators.validate_id(campaign_id, "campaign_id")
        address = validators.validate_shipping_address(
            shipping_address, campaign=True
        )
        back = validators.validate_return_address(return_address)
        when = _optional_date(send_date, "send_date")
        request = builders.build_campaign_cost_request(
            campaign, address, back, when
        )
        response = self._send("campaign_cost", request, "read", timeout)
        return self._parse(
            request, lambda: parsers.parse_campaign_cost(response)
        )

    def send_campaign(
        self,
        campaign_id: Id,
        initiator: str,
        shipping_address: Address,
        return_address: Address | None = None,
        send_date: str | dt.date | None = None,
        *,
        extra_data: Mapping[str, str] | None = None,
        bypass_duplicate_check: bool = True,
        idempotency_key: str | None = None,
        max_cost: int | None = None,
        timeout: TimeoutArg = None,
    ) -> CampaignResponse:
        """Start drip campaign ``campaign_id`` for one recipient.

        ``bypass_duplicate_check`` is sent as the older client always sent
        it (true); a campaign set to refuse duplicates still refuses them
        with :class:`DuplicateCampaignError`.  Pass False to ask the
        service to check for duplicates on any campaign.  With a ledger
        the campaign is sent at most once (see :meth:`send_card`).  With
        ``max_cost`` (in cents), the service prices it first and nothing
        is sent if it would cost more.
        """
        campaign = validators.validate_id(campaign_id, "campaign_id")
        who = _check_initiator(initiator)
        address = validators.validate_shipping_address(
            shipping_address, campaign=True
        )
        back = validators.validate_return_address(return_address)
        when = _optional_date(send_date, "send_date")
        extras = validators.validate_extra_data(extra_data)
        if max_cost is not None:
            _check_max_cost(max_cost)
        request = builders.build_send_campaign_request(
            campaign,
            who,
            address,
            back,
            when,
            extras or None,
            bool(bypass_duplicate_check),
        )
        record = {
            "campaign_id": campaign,
            "initiator": who,
            "shipping_address": address,
            "return_address": back,
            "send_date": when,
            "extra_data": extras,
            "bypass_duplicate_check": bool(bypass_duplicate_check),
        }
        return self._once(
            "campaign",
            idempotency_key,
            record,
            lambda: _derive_key("campaign", campaign, address, when),
            lambda: self._post(
                "send_campaign",
                request,
                timeout,
                lambda response: parsers.parse_send_campaign(
                    response, address, self._base_url
                ),
                max_cost,
                lambda: self.send_campaign_cost(
                    campaign, address, back, when, timeout=timeout
                ),
            ),
            CampaignResponse,
        )

    def send_campaign_multi(
        self,
        campaign_id: Id,
        initiator: str,
        contacts: Sequence[Address],
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutArg = None,
    ) -> CampaignMultiResponse:
        """Start a drip campaign for many recipients in one request.

        Each contact is a shipping address (campaign keys allowed) and may
        carry its own ``extra_data`` mapping.  With a ledger the batch is
        sent at most once (see :meth:`send_card`).
        """
        campaign = validators.validate_id(campaign_id, "campaign_id")
        who = _check_initiator(initiator)
        checked = [
            _campaign_contact(contact, index)
            for index, contact in enumerate(_as_list(contacts, "contacts"))
        ]
        request = builders.build_send_campaign_multi_request(
            campaign, who, checked
        )
        record = {
            "campaign_id": campaign,
            "initiator": who,
            "contacts": checked,
        }
        return self._once(
            "campaign_multi",
            idempotency_key,
            record,
            lambda: _derive_key("campaign_multi", campaign, checked, None),
            lambda: self._post(
                "send_campaign_multi",
                request,
                timeout,
                lambda response: parsers.parse_send_campaign_multi(
                    response, self._base_url
                ),
            ),
            CampaignMultiResponse,
        )

    # The machinery -----------------------------------------------------

    def _check_spend(self, max_cost: int, estimate: Callable[[], int]) -> None:
        """Raise SpendingLimitError if ``estimate()`` exceeds the limit."""
        _check_max_cost(max_cost)
        cost = estimate()
        if cost > max_cost:
            raise SpendingLimitError(
                f"this send would cost about ${cost / 100:.2f}, more than "
                f"max_cost ${max_cost / 100:.2f}; nothing was sent",
                estimate=cost,
                limit=max_cost,
            )

    def _batch_cost(
        self,
        template_id: str,
        addresses: Sequence[Mapping[str, str]],
        return_address: Mapping[str, str] | None,
        timeout: TimeoutArg,
    ) -> int:
        user = self.user(timeout=timeout)
        template = self.template(template_id, timeout=timeout)
        return sum(
            card_cost(user, template, address, return_address)
            for address in addresses
        )

    def _post(
        self,
        endpoint: str,
        request: Request,
        timeout: TimeoutArg,
        parse: Callable[[Response], T],
        max_cost: int | None = None,
        estimate: Callable[[], int] | None = None,
    ) -> T:
        """Send a request that costs money or creates data; parse it.

        With ``max_cost``, ``estimate()`` prices the send first; it runs
        here, after a ledger has let the send through, so a send the
        ledger already holds costs no pricing requests.

        A success answer that cannot be read still means the send went
        through, probably: it is reported as an unknown outcome, not as a
        plain error that invites a retry.
        """
        if max_cost is not None and estimate is not None:
            self._check_spend(max_cost, estimate)
        response = self._send(endpoint, request, "send", timeout)
        try:
            return self._parse(request, lambda: parse(response))
        except UnexpectedResponseError as exc:
            if not 200 <= response.status < 300:
                raise
            raise _outcome_unknown(endpoint, request, exc) from exc

    def _once(
        self,
        kind: LedgerKind,
        idempotency_key: str | None,
        record: Mapping[str, Any],
        derived_key: Callable[[], str],
        send: Callable[[], T],
        model: type[T],
    ) -> T:
        """Run ``send``, at most once under its key when there is a
        ledger (see :func:`amcards.ledger.run_once`)."""
        if self._ledger is None:
            _no_ledger_for(idempotency_key)
            return send()
        from amcards import ledger
        from amcards.core.convert import to_plain

        key = (
            derived_key()
            if idempotency_key is None
            else ledger.check_key(idempotency_key)
        )
        answer: T = ledger.run_once(
            self._ledger,
            self,
            kind,
            key,
            record,
            send,
            to_plain,
            lambda entry: _restore(entry, model, ledger.no_answer_kept),
        )
        return answer

    def _parse(self, request: Request, parse: Callable[[], T]) -> T:
        try:
            return parse()
        except AMcardsException as exc:
            _fill_where(exc, request)
            raise

    def _send(
        self,
        endpoint: str,
        request: Request,
        kind: Kind,
        timeout: TimeoutArg,
    ) -> Response:
        """Send ``request`` with a fresh token, under the retry policy."""
        limit = _as_timeout(timeout) or self._timeout
        request = attrs.evolve(request, base_url=self._base_url)
        started = time.monotonic()
        attempt = 0
        refreshed_after_401 = False
        while True:
            attempt += 1
            token = ""
            signed = request
            if kind != "auth":
                token = self._fresh_access_token(limit)
                signed = _signed(request, token)
            try:
                response = self._transport.send(signed, timeout=limit)
            except TransportError as exc:
                _fill_where(exc, request)
                wait = self._retry_wait(kind, attempt, started, error=exc)
                if wait is not None:
                    self._pause(endpoint, request, attempt, wait, str(exc))
                    continue
                if kind == "send" and exc.request_sent:
                    raise _outcome_unknown(endpoint, request, exc) from exc
                raise
            if (
                response.status == 401
                and kind != "auth"
                and self._can_refresh()
                and not refreshed_after_401
            ):
                refreshed_after_401 = True
                self._refresh(stale_token=token, timeout=limit)
                continue
            if kind != "send" and response.status >= 400:
                wait = self._retry_wait(
                    kind, attempt, started, response=response
                )
                if wait is not None:
                    reason = f"HTTP {response.status}"
                    self._pause(endpoint, request, attempt, wait, reason)
                    continue
            if kind == "send" and response.status >= 500:
                cause = ServerError(
                    f"the service failed while handling {endpoint}",
                    status=response.status,
                    method=request.method,
                    path=request.path,
                )
                raise _outcome_unknown(endpoint, request, cause) from cause
            return response

    def _retry_wait(
        self,
        kind: Kind,
        attempt: int,
        started: float,
        *,
        error: TransportError | None = None,
        response: Response | None = None,
    ) -> float | None:
        """Ask the policy whether to try again; the wait, or None."""
        retry_after = None
        if response is not None:
            header = response.header("Retry-After")
            if header is not None:
                retry_after = parse_retry_after(header, self._clock())
        decision = self._retry.decide(
            kind,
            attempt,
            time.monotonic() - started,
            error=error,
            status=None if response is None else response.status,
            retry_after=retry_after,
            random=self._random(),
        )
        return decision.wait if decision.retry else None

    def _pause(
        self,
        endpoint: str,
        request: Request,
        attempt: int,
        wait: float,
        reason: str,
    ) -> None:
        log.warning(
            "Retrying %s %s (%s) after %s, attempt %d, in %.2fs",
            request.method,
            request.path,
            endpoint,
            reason,
            attempt + 1,
            wait,
        )
        self._sleep(wait)

    # Tokens ------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock().timestamp() * 1000)

    def _can_refresh(self) -> bool:
        return self._tokens.refresh_token is not None

    def _fresh_access_token(self, timeout: Timeout | None) -> str:
        tokens = self._tokens
        due = tokens.expiration_ms
        if tokens.refresh_token is None or due is None:
            return tokens.access_token
        if self._now_ms() < due - REFRESH_MARGIN_MS:
            return tokens.access_token
        return self._refresh(stale_token=tokens.access_token, timeout=timeout)

    def _refresh(self, stale_token: str, timeout: Timeout | None) -> str:
        """Refresh the tokens once, however many threads ask together.

        Threads that arrive while a refresh runs wait for it, then find
        the token changed and use the new one without refreshing again.
        """
        with self._refresh_lock:
            tokens = self._tokens
            if tokens.access_token != stale_token:
                return tokens.access_token
            assert tokens.refresh_token is not None
            assert tokens.client_id is not None
            assert tokens.client_secret is not None
            log.warning("Refreshing the AMcards access token")
            request = builders.build_refresh_token_request(
                tokens.refresh_token, tokens.client_id, tokens.client_secret
            )
            token_set = self._request_tokens(request, timeout)
            expiration = self._now_ms() + token_set.expires_in * 1000
            self._tokens = attrs.evolve(
                tokens,
                access_token=token_set.access_token,
                refresh_token=token_set.refresh_token,
                expiration_ms=expiration,
            )
        if self._callback is not None:
            self._callback(
                access_token=token_set.access_token,
                refresh_token=token_set.refresh_token,
                expiration=expiration,
            )
        return token_set.access_token

    def _request_tokens(
        self, request: Request, timeout: Timeout | None
    ) -> parsers.TokenSet:
        try:
            response = self._send("refresh_token", request, "auth", timeout)
        except TransportError as exc:
            if exc.request_sent:
                message = (
                    "the answer to the token refresh was lost "
                    f"({type(exc).__name__}); the service may have "
                    "replaced the tokens, and then the refresh token this "
                    "client holds is spent: if the next call fails too, "
                    "authorise again for new tokens"
                )
            else:
                message = "could not reach the service to refresh the token"
            raise OAuthTokenRefreshError(
                message, method=request.method, path=request.path
            ) from exc
        try:
            return self._parse(request, lambda: parsers.parse_token(response))
        except UnexpectedResponseError as exc:
            raise OAuthTokenRefreshError(
                f"the token answer was not understood: {exc}",
                status=exc.status,
                method=request.method,
                path=request.path,
            ) from exc


# Helpers -----------------------------------------------------------------


def card_cost(
    user: User,
    template: Template,
    shipping_address: Mapping[str, str],
    return_address: Mapping[str, str] | None = None,
) -> int:
    """The price of one card in cents, computed as the service prices it.

    Domestic postage applies when both the shipping country and the return
    country (the user's own when none is given) are among the user's
    domestic countries.  A shipping address with no country is taken to be
    in the user's own country.
    """
    own_country = user.country
    ship_to = shipping_address.get("country") or own_country
    ship_from = (return_address or {}).get("country") or own_country
    domestic = validators.is_domestic(
        ship_to, user.domestic_postage_countries
    ) and validators.is_domestic(ship_from, user.domestic_postage_countries)
    postage = (
        user.domestic_postage_cost
        if domestic
        else user.international_postage_cost
    )
    return user.greeting_card_cost + postage + template.gifts_total


def _by_id(
    item: Card | Contact | Template | Campaign | CreditTransaction,
) -> int:
    return item.id


def _check_max_cost(max_cost: object) -> None:
    if isinstance(max_cost, bool) or not isinstance(max_cost, int):
        raise ValidationError(
            field="max_cost", reason="expected whole cents (an int)"
        )
    if max_cost < 0:
        raise ValidationError(field="max_cost", reason="must not be negative")


def _no_ledger_for(idempotency_key: str | None) -> None:
    if idempotency_key is not None:
        raise ValidationError(
            field="idempotency_key",
            reason="a key needs a ledger: AMcardsClient(..., "
            "ledger=SendLedger(path))",
        )


def _derive_key(
    kind: LedgerKind,
    target_id: str,
    addresses: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    send_date: str | None,
) -> str:
    from amcards.ledger import derive_key

    return derive_key(kind, target_id, addresses, send_date)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _check_parts(
    *,
    callback: object,
    transport: object,
    retry: object,
    sleep: object,
    clock: object,
    random_source: object,
    ledger: object,
) -> None:
    """Refuse a client part of the wrong kind when the client is made,
    not at its first use deep inside a call."""
    for field, value, optional in (
        ("callback", callback, True),
        ("sleep", sleep, False),
        ("clock", clock, True),
        ("random_source", random_source, False),
    ):
        if not callable(value) and not (optional and value is None):
            raise ValidationError(field=field, reason="expected a function")
    if isinstance(transport, type):
        raise ValidationError(
            field="transport",
            reason=f"got the class {transport.__name__}; pass an instance "
            f"such as {transport.__name__}()",
        )
    if transport is not None and not isinstance(transport, Transport):
        raise ValidationError(
            field="transport",
            reason="expected an object with send(request, *, timeout) and "
            f"close() methods, not {type(transport).__name__}",
        )
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise ValidationError(
            field="retry",
            reason=f"expected a RetryPolicy, not {type(retry).__name__}",
        )
    if ledger is not None:
        from amcards.ledger import SendLedger

        if not isinstance(ledger, SendLedger):
            raise ValidationError(
                field="ledger",
                reason=f"expected a SendLedger, not {type(ledger).__name__}"
                " (open one with amcards.ledger.SendLedger(path))",
            )


def _check_base_url(base_url: str) -> str:
    """The server's URL without a trailing slash; a path is kept (a
    server behind a prefix), a query or fragment is refused."""
    reason = "expected an http:// or https:// URL with a host"
    if not isinstance(base_url, str):
        raise ValidationError(field="base_url", reason=reason)
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(field="base_url", reason=reason)
    if not port_ok:
        raise ValidationError(
            field="base_url",
            reason="the port is not a number from 1 to 65535",
        )
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            field="base_url",
            reason="must not carry a user name or password (the access "
            "token is the only credential, and a URL is shown in links, "
            "logs and errors)",
        )
    if parts.query or parts.fragment:
        raise ValidationError(
            field="base_url", reason="must not carry a query or fragment"
        )
    text = base_url.strip()
    return (scheme + text[len(parts.scheme) :]).rstrip("/")


def _check_initiator(initiator: object) -> str:
    return validators.validate_initiator(initiator)


def _optional_date(value: str | dt.date | None, field: str) -> str | None:
    if value is None:
        return None
    return validators.validate_date(value, field)


def _as_list(value: object, field: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(
        value, Sequence
    ):
        raise ValidationError(field=field, reason="expected a list")
    if not value:
        raise ValidationError(field=field, reason="the list is empty")
    return list(value)


def _campaign_contact(contact: Any, index: int) -> dict[str, Any]:
    field = f"contacts[{index}]"
    if not isinstance(contact, Mapping):
        raise ValidationError(field=field, reason="expected a dict")
    address = {k: v for k, v in contact.items() if k != "extra_data"}
    checked: dict[str, Any] = validators.validate_shipping_address(
        address, field=field, campaign=True
    )
    extras = validators.validate_extra_data(
        contact.get("extra_data"), f"{field}['extra_data']"
    )
    if extras:
        checked["extra_data"] = extras
    return checked


def _restore(
    entry: Entry, model: type[T], missing: Callable[[Entry], Exception]
) -> T:
    """Rebuild the answer a ledger kept for ``entry``."""
    from amcards.core.convert import from_plain

    try:
        return from_plain(entry.result, model)
    except Exception as exc:
        raise missing(entry) from exc


def _signed(request: Request, token: str) -> Request:
    """``request`` with the bearer token added (builders add none)."""
    return Request(
        request.method,
        request.path,
        request.query,
        (*request.headers, ("Authorization", f"Bearer {token}")),
        request.body,
        request.base_url,
    )


def _fill_where(exc: AMcardsException, request: Request) -> None:
    if exc.method is None:
        exc.method = request.method
    if exc.path is None:
        exc.path = request.path


def _outcome_unknown(
    endpoint: str, request: Request, cause: AMcardsException
) -> SendOutcomeUnknownError:
    reason = cause.args[0] if cause.args else type(cause).__name__
    return SendOutcomeUnknownError(
        f"{endpoint}: the request may have reached AMcards but no usable "
        f"answer came back ({reason}). It was not repeated. Check with "
        "find_recent_cards(third_party_contact_id=...) or "
        "find_recent_cards(initiator=...) before sending again.",
        endpoint=endpoint,
        sent=_describe_body(request),
        method=request.method,
        path=request.path,
        status=cause.status,
    )


def _describe_body(request: Request) -> dict[str, Any]:
    """What a JSON request carried, for the caller to check against."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"body": body}

"""The fake AMcards service: the HTTP API's behaviour, in memory.

:class:`FakeAMcards` takes a :class:`~amcards.core.http.Request` and
returns the :class:`~amcards.core.http.Response` the real service would
give, following ``amcards-http-api.md``.  All state sits behind one lock,
so any number of threads may call :meth:`FakeAMcards.handle` at once.

How it models the parts the contract leaves open:

* Lists page with ``limit`` (default 20; 0 means up to 1000) and
  ``offset``; other query parameters filter on the objects' wire field
  names with Django lookups (``exact``, ``iexact``, ``contains``,
  ``icontains``, ``startswith``, ``istartswith``, ``endswith``, ``gt``,
  ``gte``, ``lt``, ``lte``, ``in`` with commas, ``isnull``) and
  ``order_by`` sorts (``-`` for descending).  Cards also filter on
  ``mailing``.  An unknown field is a 400, as a strict server would say.
* Unknown keys in a request body are a 400 naming them, so a client that
  misspells a key finds out here rather than in production.
* Detail reads and deletes: 404 for an id that does not exist, 403 for
  another user's object.  Sends naming a template or campaign that is
  not the user's (or does not exist) get 403.
* ``send cards`` creates a mailing in status PROCESSING (1) and takes the
  credits at once; its cards are created, and the mailing turns COMPLETE
  (0), when the next request arrives.  With ``hold_mailings`` set they
  wait until :meth:`FakeAMcards.process_mailings` is called.
* A card costs the greeting card plus domestic postage when both the
  shipping country and the return country (the user's own when left
  out) are among the user's domestic countries, international postage
  otherwise, plus its template's gifts (price and shipping).  A missing
  shipping country means the user's own country.
* Campaigns hold drips: ``fixed`` drips go ``days_after`` the send date,
  ``birthday`` and ``anniversary`` drips on the next such day on or after
  it, and only when the recipient carries that date.  One card per drip.
* A campaign remembers whom it was sent to (first and last name, first
  address line and postal code, compared without case).  Sending it
  again to the same person is a 409 when the campaign blocks duplicates
  (``send_even_if_duplicate`` false) or the request says
  ``bypass_duplicate_check: false``; ``true`` or leaving it out defers
  to the campaign.
* Tokens: an access token may carry an expiry; after it, 401.  A refresh
  issues a new access and refresh token; the old refresh token stops
  working at once, the old access token keeps working until its own
  expiry.
* Timestamps are written by :func:`~amcards.transports.fake.wire.stamp`
  (``2024-03-01T09:30:00``); seeded objects may carry other shapes.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import inspect
import json
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from amcards.core.http import Request, Response
from amcards.transports.fake import wire
from amcards.transports.fake.faults import Fault, FaultQueue
from amcards.transports.fake.wire import Refusal, bad_request

__all__ = ["Clock", "FakeAMcards"]

Clock = Callable[[], dt.datetime]

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
TOKEN_LIFETIME = 36000  # seconds

#: The largest amount of money a seed may name, in cents (ten billion
#: dollars): prices, postage and gifts run from 0 to it, balances from
#: minus it to it, so every total stays exact when written in dollars.
MAX_CENTS = 10**12

#: The most days a ``fixed`` drip may wait after the send date (ten
#: years); ``days_after`` runs from 0 to it.
MAX_DRIP_DAYS = 3650

KINDS = (
    "user",
    "template",
    "quicksendtemplate",
    "campaign",
    "card",
    "contact",
    "mailing",
    "credittransaction",
)

#: The wire fields of each kind of object, as listed in the HTTP doc.
FIELDS: dict[str, tuple[str, ...]] = {
    "user": (
        "resource_uri",
        "first_name",
        "last_name",
        "credits",
        "email",
        "phone",
        "date_joined",
        "address_line_1",
        "address_line_2",
        "city",
        "state",
        "postal",
        "country",
        "postage",
        "product_pricing_info",
        "monthly_report_emails",
    ),
    "template": (
        "id",
        "resource_uri",
        "name",
        "has_message_on_default_panel",
        "thumbnail",
        "gifts",
    ),
    "campaign": (
        "id",
        "resource_uri",
        "title",
        "send_even_if_duplicate",
        "has_anniversary_drip",
        "has_birthday_drip",
        "drip_count",
        "campaign_cost",
    ),
    "card": (
        "id",
        "resource_uri",
        "amount_charged",
        "total_amount_charged_cents",
        "status",
        "initiator",
        "send_date",
        "created",
        "last_modified",
        "fulfilled",
        "is_international",
        "template_name",
        "thumbnail",
        "campaign_pk",
        "ship_to_first_name",
        "ship_to_last_name",
        "ship_to_line_1",
        "ship_to_city",
        "ship_to_state",
        "ship_to_postal",
        "ship_to_country",
        "ship_to_organization",
        "third_party_contact_id",
        "return_to_first_name",
        "return_to_last_name",
        "return_to_line_1",
        "return_to_city",
        "return_to_state",
        "return_to_postal",
        "return_to_country",
        "gifts",
        "extra_data",
    ),
    "contact": (
        "id",
        "resource_uri",
        "added",
        "updated",
        "last_card_send_date",
        "notes",
        "email_address",
        "first_name",
        "last_name",
        "address_line_1",
        "city",
        "state",
        "postal_code",
        "country",
        "organization",
        "phone_number",
        "birth_year",
        "birth_month",
        "birth_day",
        "anniversary_year",
        "anniversary_month",
        "anniversary_day",
    ),
    "mailing": ("id", "resource_uri", "status", "created"),
    "credittransaction": (
        "id",
        "resource_uri",
        "wallet_id",
        "grant_volume",
        "before_int",
        "after_int",
        "amount_paid_int",
        "amount_int",
        "description",
        "credit_card_details",
        "date_time",
    ),
}
FIELDS["quicksendtemplate"] = FIELDS["template"]

#: Extra filters that are not wire fields: name -> key in Record.extra.
HIDDEN_FILTERS = {"card": {"mailing": "mailing"}}

CONTACT_REQUIRED = wire.SHIPPING_REQUIRED
CONTACT_OPTIONAL = (
    "country",
    "email_address",
    "organization",
    "phone_number",
    "birth_year",
    "birth_month",
    "birth_day",
    "anniversary_year",
    "anniversary_month",
    "anniversary_day",
)

SEND_CARD = "/cards/open-card-form-oa/"
SEND_CARDS = "/cards/open-mailing-form/"
CAMPAIGN_COST = "/campaigns/calculate-campaign-price/"
SEND_CAMPAIGN = "/campaigns/open-campaign-form/"
SEND_CAMPAIGN_MULTI = "/campaigns/open-campaign-multi-form/"
TOKEN = "/oauth2/token/"

_RESOURCE = re.compile(r"/\.api/v1/([a-z]+)/(?:([0-9]+)/)?")
_OWNER = re.compile(r"/\.api/v1/user/([0-9]+)/")
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_LOOKUPS = (
    "exact",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "isnull",
)

CARD_EDITABLE = 0
MAILING_COMPLETE = 0
MAILING_PROCESSING = 1


@dataclass
class Record:
    """One stored object: its owner, its wire form and private details."""

    owner: int
    wire: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _AccessToken:
    user_id: int
    expires_at: dt.datetime | None


@dataclass
class _PlannedCard:
    """A card decided on by a send, before it exists."""

    template: Record
    address: dict[str, str]
    send_date: dt.date
    cost: int
    international: bool
    campaign_id: int | None = None


@dataclass
class _State:
    tables: dict[str, dict[int, Record]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    # The highest id in a table, once worked out: finding it afresh for
    # every new object made a long run of sends slow down as it went.
    top_ids: dict[str, int] = field(default_factory=dict)
    # Mailings whose cards are still to be made, in the order sent.
    unsettled: list[int] = field(default_factory=list)
    access_tokens: dict[str, _AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[int, str]] = field(default_factory=dict)
    oauth_clients: dict[str, str] = field(default_factory=dict)
    requests: collections.Counter[str] = field(
        default_factory=collections.Counter
    )
    cards_created: int = 0
    serial: int = 0
    token_serial: int = 0


class FakeAMcards:
    """An in-memory AMcards service: requests in, responses out.

    Args:
        clock: Returns the current time (naive, or aware and then read as
            UTC).  Defaults to :meth:`datetime.datetime.now`.
        hold_mailings: Keep ``send cards`` mailings PROCESSING until
            :meth:`process_mailings` is called.
        token_lifetime: Seconds a refreshed access token stays valid.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        hold_mailings: bool = False,
        token_lifetime: int = TOKEN_LIFETIME,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Clock = clock or dt.datetime.now
        self._state = _State()
        self._seed: Callable[[FakeAMcards], None] | None = None
        self.hold_mailings = hold_mailings
        self.token_lifetime = token_lifetime
        self._settings = (hold_mailings, token_lifetime)
        self.faults = FaultQueue()

    @classmethod
    def demo(
        cls, *, clock: Clock | None = None, hold_mailings: bool = False
    ) -> FakeAMcards:
        """A service holding the demo account (see ``fake.demo``)."""
        from amcards.transports.fake.demo import seed_demo

        service = cls(clock=clock, hold_mailings=hold_mailings)
        service._seed = seed_demo
        seed_demo(service)
        return service

    def __repr__(self) -> str:
        with self._lock:
            users = len(self._state.tables["user"])
            cards = len(self._state.tables["card"])
        return f"<FakeAMcards {users} users, {cards} cards>"

    # Looking in from Python -------------------------------------------

    def now(self) -> dt.datetime:
        """The service's current time, naive."""
        return wire.naive(self._clock())

    @property
    def cards_created(self) -> int:
        """Cards created by sends since the start (seeded ones excluded)."""
        with self._lock:
            return self._state.cards_created

    @property
    def requests_seen(self) -> dict[str, int]:
        """How many requests arrived, keyed ``"METHOD /path/"``.

        Requests answered by a staged fault count too; the control API's
        do not.
        """
        with self._lock:
            return dict(self._state.requests)

    @property
    def request_count(self) -> int:
        """How many requests arrived in all."""
        with self._lock:
            return sum(self._state.requests.values())

    def credits(self, user_id: int) -> int:
        """The user's balance in cents."""
        with self._lock:
            return int(self._user(user_id).wire["credits"])

    def set_credits(self, user_id: int, cents: int) -> None:
        """Set the user's balance (no credit transaction is recorded).

        ``cents`` runs from ``-MAX_CENTS`` to ``MAX_CENTS``.
        """
        _check_range(cents, "credits", -MAX_CENTS, MAX_CENTS, "cents")
        with self._lock:
            self._user(user_id).wire["credits"] = cents

    def counters(self) -> dict[str, Any]:
        """Every counter as JSON-ready data (the control API shows it)."""
        with self._lock:
            tables = self._state.tables
            return {
                "requests": dict(self._state.requests),
                "request_count": sum(self._state.requests.values()),
                "cards_created": self._state.cards_created,
                "credits": {
                    str(uid): rec.wire["credits"]
                    for uid, rec in tables["user"].items()
                },
                "objects": {kind: len(tables[kind]) for kind in KINDS},
            }

    def objects(self, kind: str, owner: int | None = None) -> list[Any]:
        """Copies of the stored wire objects of one kind, by id."""
        with self._lock:
            table = self._state.tables[kind]
            return [
                copy.deepcopy(rec.wire)
                for _, rec in sorted(table.items())
                if owner is None or rec.owner == owner
            ]

    def get(self, kind: str, object_id: int) -> Any:
        """A copy of one stored wire object (KeyError when absent)."""
        with self._lock:
            return copy.deepcopy(self._state.tables[kind][object_id].wire)

    def reset(self, *, empty: bool = False) -> None:
        """Forget everything; re-seed the demo account unless ``empty``.

        Counters and queued faults are cleared too, and the settings
        (``hold_mailings``, ``token_lifetime``) go back to those
        the service was made with: a change since, such as the control
        API's ``settings``, is undone; ``--hold-mailings`` is kept.
        """
        with self._lock:
            self._state = _State()
            self.faults.clear()
            self.hold_mailings, self.token_lifetime = self._settings
            if self._seed is not None and not empty:
                self._seed(self)

    def seed(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Add many objects at once (the control API's ``seed``).

        ``data`` maps a section to a list of keyword arguments for the
        matching ``add_*`` method: ``users``, ``access_tokens``,
        ``oauth_clients``, ``refresh_tokens``, ``templates``,
        ``quicksends``, ``campaigns``, ``cards``, ``contacts``,
        ``mailings``, ``credit_transactions``; ``credits`` maps user ids
        to balances.  Sections are applied in that order.  Either all of
        it is added or, on the first error, none of it (ValueError).

        Returns:
            The new ids by section, for the sections that create objects.
        """
        unknown = sorted(set(data) - {*_SEED_SECTIONS, "credits"})
        if unknown:
            raise ValueError(
                f"seed refused: unknown section {unknown[0]!r}; expected "
                f"one of {', '.join(_SEED_SECTIONS)}, credits"
            )
        with self._lock:
            saved = copy.deepcopy(self._state)
            try:
                return self._seed_sections(data)
            except (KeyError, TypeError, ValueError) as exc:
                self._state = saved
                reason = exc.args[0] if exc.args else type(exc).__name__
                raise ValueError(f"seed refused: {reason}") from exc

    def _seed_sections(self, data: Mapping[str, Any]) -> dict[str, Any]:
        adders: dict[str, Callable[..., Any]] = {
            "users": self.add_user,
            "access_tokens": self._seed_access_token,
            "oauth_clients": self.add_oauth_client,
            "refresh_tokens": self.add_refresh_token,
            "templates": self.add_template,
            "quicksends": self._seed_quicksend,
            "campaigns": self.add_campaign,
            "cards": self.add_card,
            "contacts": self.add_contact,
            "mailings": self.add_mailing,
            "credit_transactions": self.add_credit_transaction,
        }
        shapes = dict(adders, quicksends=self.add_template)
        created: dict[str, Any] = {}
        for section in _SEED_SECTIONS:
            items = data.get(section, [])
            if not isinstance(items, list):
                raise ValueError(
                    f"{section}: expected a list of objects, "
                    f"got {_shown(items)}"
                )
            results = []
            for index, item in enumerate(items):
                where = f"{section}[{index}]"
                if not isinstance(item, Mapping):
                    raise ValueError(
                        f"{where}: expected an object, got {_shown(item)}"
                    )
                self._check_seed_item(shapes[section], item, where)
                try:
                    results.append(adders[section](**item))
                except (KeyError, TypeError, ValueError) as exc:
                    reason = str(exc.args[0] if exc.args else exc)
                    if isinstance(exc, KeyError) and reason.isidentifier():
                        reason = f"{reason!r} is missing"  # not just its name
                    nested = re.match(r"\w+\[\d+\]: ", reason)
                    joined = "." if nested else ": "
                    raise ValueError(f"{where}{joined}{reason}") from exc
            if section in _SEED_CREATES and items:
                created[section] = results
        self._seed_credits(data.get("credits", {}))
        return created

    def _check_seed_item(
        self, adder: Callable[..., Any], item: Mapping[str, Any], where: str
    ) -> None:
        """Refuse a seed object that ``adder`` cannot take, in plain words:
        an unknown or missing field, a value of the wrong JSON type, an
        owner that is not a user."""
        hints = typing.get_type_hints(adder)
        named = (
            inspect.Parameter.KEYWORD_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        every = inspect.signature(adder).parameters
        params = {
            name: param
            for name, param in every.items()
            if name != "quicksend" and param.kind in named
        }
        rest = next(
            (
                name
                for name, param in every.items()
                if param.kind is param.VAR_KEYWORD
            ),
            None,
        )
        for name in item:
            if name not in params and rest is None:
                raise ValueError(
                    f"{where}: unknown field {name!r}; expected one of "
                    f"{', '.join(params)}"
                )
        for name, param in params.items():
            if param.default is param.empty and name not in item:
                raise ValueError(f"{where}: {name!r} is required")
        for name, value in item.items():
            hint = hints.get(name if name in params else str(rest), Any)
            if not _fits(value, hint):
                raise ValueError(
                    f"{where}: {name!r} must be {_describe(hint)}, "
                    f"got {_shown(value)}"
                )
        for name in ("owner", "user_id"):
            user_id = item.get(name)
            if name in params and user_id not in self._state.tables["user"]:
                raise ValueError(
                    f"{where}: {name!r} is {user_id}, but there is no user "
                    f"{user_id}"
                )

    def _seed_credits(self, credits: Any) -> None:
        if not isinstance(credits, Mapping):
            raise ValueError(
                "credits: expected an object mapping user ids to cents, "
                f"got {_shown(credits)}"
            )
        for key, cents in credits.items():
            text = str(key)
            user_id = wire.whole_number(text)
            if user_id is None:
                raise ValueError(
                    f"credits: {text[:40]!r} is not a user id (a whole number)"
                )
            if user_id not in self._state.tables["user"]:
                raise ValueError(f"credits: there is no user {text}")
            if (
                isinstance(cents, bool)
                or not isinstance(cents, int)
                or not -MAX_CENTS <= cents <= MAX_CENTS
            ):
                raise ValueError(
                    f"credits[{text!r}] must be a whole number of cents "
                    f"from {-MAX_CENTS} to {MAX_CENTS}, got {_shown(cents)}"
                )
            self.set_credits(user_id, cents)

    def _seed_access_token(
        self,
        token: str,
        user_id: int,
        expires_at: dt.datetime | str | None = None,
    ) -> None:
        self.add_access_token(token, user_id, expires_at=expires_at)

    def _seed_quicksend(self, **fields: Any) -> int:
        return self.add_template(quicksend=True, **fields)

    def process_mailings(self) -> int:
        """Create the cards of every PROCESSING mailing; how many."""
        with self._lock:
            return self._settle_mailings(everything=True)

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault for the transports (see :mod:`.faults`)."""
        self.faults.add(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The staged fault for a request arriving now, if any.

        Transports call this before :meth:`handle`.  A request that a
        fault keeps from the service (``status``, ``html``,
        ``drop_before``) still counts in :attr:`requests_seen`: it did
        arrive.
        """
        fault = self.faults.take(method, path)
        if fault is not None and fault.kind in _UNHANDLED_FAULTS:
            with self._lock:
                self._state.requests[f"{method} {path}"] += 1
        return fault

    # Seeding ------------------------------------------------------------

    def add_user(
        self,
        *,
        email: str,
        first_name: str = "",
        last_name: str = "",
        credits: int = 0,
        phone: str = "",
        address_line_1: str = "",
        address_line_2: str | None = None,
        city: str = "",
        state: str = "",
        postal_code: str = "",
        country: str = "US",
        domestic_cost: int = 0,
        international_cost: int = 0,
        domestic_countries: Sequence[str] = ("US",),
        greeting_card_cost: int = 0,
        date_joined: dt.datetime | str | None = None,
        monthly_report_emails: Any = None,
        wallet_id: int | None = None,
        id: int | None = None,
    ) -> int:
        """Add a user; returns its id.

        Money is in cents: ``credits`` from ``-MAX_CENTS`` to
        ``MAX_CENTS`` (10**12, ten billion dollars), the costs from 0 to
        ``MAX_CENTS``.
        """
        _check_range(credits, "credits", -MAX_CENTS, MAX_CENTS, "cents")
        for name, cents in (
            ("domestic_cost", domestic_cost),
            ("international_cost", international_cost),
            ("greeting_card_cost", greeting_card_cost),
        ):
            _check_range(cents, name, 0, MAX_CENTS, "cents")
        with self._lock:
            user_id = self._new_id("user", id)
            joined = wire.as_datetime(date_joined, "date_joined") or self.now()
            data: dict[str, Any] = {
                "resource_uri": f"{wire.API}user/{user_id}/",
                "first_name": first_name,
                "last_name": last_name,
                "credits": credits,
                "email": email,
                "phone": phone,
                "date_joined": wire.stamp(joined),
                "address_line_1": address_line_1,
                "city": city,
                "state": state,
                "postal": postal_code,
                "country": country,
                "postage": {
                    "domestic_cost": domestic_cost,
                    "international_cost": international_cost,
                    "domestic_countries": list(domestic_countries),
                },
                "product_pricing_info": {
                    "5x7greetingcard": greeting_card_cost
                },
                "monthly_report_emails": monthly_report_emails,
            }
            if address_line_2 is not None:
                data["address_line_2"] = address_line_2
            extra = {"wallet_id": wallet_id or 8000 + user_id}
            self._store("user", user_id, user_id, data, extra)
            return user_id

    def add_access_token(
        self,
        token: str,
        user_id: int,
        *,
        expires_at: dt.datetime | str | None = None,
    ) -> None:
        """Let ``token`` act for the user, until ``expires_at`` if given."""
        with self._lock:
            self._user(user_id)
            expiry = wire.as_datetime(expires_at, "expires_at")
            self._state.access_tokens[token] = _AccessToken(user_id, expiry)

    def add_oauth_client(self, client_id: str, client_secret: str) -> None:
        """Register an OAuth application allowed to refresh tokens."""
        with self._lock:
            self._state.oauth_clients[client_id] = client_secret

    def add_refresh_token(
        self, token: str, user_id: int, client_id: str
    ) -> None:
        """A refresh token the client ``client_id`` may use once."""
        with self._lock:
            self._user(user_id)
            self._state.refresh_tokens[token] = (user_id, client_id)

    def add_template(
        self,
        *,
        owner: int,
        name: str,
        message: str = "",
        thumbnail: str = "",
        gifts: Sequence[Mapping[str, Any]] = (),
        quicksend: bool = False,
        id: int | None = None,
    ) -> int:
        """Add a template (or a quicksend template); returns its id.

        ``gifts`` are wire objects: ``gift_name``, ``image``, ``price``
        and ``shipping_and_handling`` (cents, 0 to ``MAX_CENTS``).
        """
        kind = "quicksendtemplate" if quicksend else "template"
        with self._lock:
            self._user(owner)
            template_id = self._new_id(kind, id)
            data = {
                "id": template_id,
                "resource_uri": f"{wire.API}{kind}/{template_id}/",
                "name": name,
                "has_message_on_default_panel": message,
                "thumbnail": thumbnail,
                "gifts": [
                    _gift(gift, f"gifts[{index}]")
                    for index, gift in enumerate(gifts)
                ],
            }
            self._store(kind, template_id, owner, data)
            return template_id

    def add_campaign(
        self,
        *,
        owner: int,
        title: str,
        send_even_if_duplicate: bool = False,
        drips: Sequence[Mapping[str, Any]] = (),
        id: int | None = None,
    ) -> int:
        """Add a drip campaign; returns its id.

        Each drip is ``{"kind": "fixed" | "birthday" | "anniversary",
        "template_id": id, "days_after": n}`` (``days_after`` for fixed
        drips only: 0, the default, to ``MAX_DRIP_DAYS``, 3650).  The
        templates must be the owner's.
        """
        with self._lock:
            user = self._user(owner)
            plan = [
                _drip(drip, f"drips[{index}]")
                for index, drip in enumerate(drips)
            ]
            cost = 0
            for index, drip in enumerate(plan):
                template = self._template(drip["template_id"])
                if template is None or template.owner != owner:
                    raise ValueError(
                        f"drips[{index}]: 'template_id' "
                        f"{drip['template_id']} is not a template of "
                        f"user {owner}"
                    )
                cost += self._price(user, template, None, None)[0]
            campaign_id = self._new_id("campaign", id)
            kinds = {drip["kind"] for drip in plan}
            data = {
                "id": campaign_id,
                "resource_uri": f"{wire.API}campaign/{campaign_id}/",
                "title": title,
                "send_even_if_duplicate": send_even_if_duplicate,
                "has_anniversary_drip": "anniversary" in kinds,
                "has_birthday_drip": "birthday" in kinds,
                "drip_count": len(plan),
                "campaign_cost": cost,
            }
            extra = {"drips": plan, "recipients": set()}
            self._store("campaign", campaign_id, owner, data, extra)
            return campaign_id

    def add_card(
        self,
        *,
        owner: int,
        template_id: int,
        shipping_address: Mapping[str, str],
        return_address: Mapping[str, str] | None = None,
        status: int = 2,
        send_date: str | None = None,
        initiator: str = "",
        campaign_id: int | None = None,
        mailing_id: int | None = None,
        amount_charged_cents: int | None = None,
        extra_data: Mapping[str, str] | None = None,
        created: dt.datetime | str | None = None,
        last_modified: dt.datetime | str | None = None,
        fulfilled: dt.datetime | str | None = None,
        id: int | None = None,
    ) -> int:
        """Add a card as if sent earlier (no credits move); its id.

        Timestamps given as strings are stored exactly as written, so a
        seed can carry any shape the real service sends.
        ``amount_charged_cents`` runs from 0 to ``MAX_CENTS``.
        """
        if amount_charged_cents is not None:
            _check_range(
                amount_charged_cents,
                "amount_charged_cents",
                0,
                MAX_CENTS,
                "cents",
            )
        with self._lock:
            user = self._user(owner)
            template = self._template(template_id)
            if template is None:
                raise ValueError(
                    f"'template_id' is {template_id}, but there is no "
                    f"template {template_id}"
                )
            address = dict(shipping_address)
            missing = [key for key in _CARD_ADDRESS if key not in address]
            if missing:
                raise ValueError(
                    "'shipping_address' is missing "
                    + ", ".join(repr(key) for key in missing)
                )
            returned = dict(return_address or {})
            cost, international = self._price(
                user, template, address.get("country"), returned.get("country")
            )
            day = send_date or self.now().date().isoformat()
            card_id = self._make_card(
                user,
                template,
                address,
                returned,
                day=day,
                initiator=initiator,
                cost=cost
                if amount_charged_cents is None
                else (amount_charged_cents),
                international=international,
                extra_data=extra_data or {},
                campaign_id=campaign_id,
                mailing_id=mailing_id,
                status=status,
                card_id=id,
            )
            card = self._state.tables["card"][card_id].wire
            for key, value in (
                ("created", created),
                ("last_modified", last_modified),
                ("fulfilled", fulfilled),
            ):
                if isinstance(value, str):
                    card[key] = value
                elif value is not None:
                    card[key] = wire.stamp(value)
            return card_id

    def add_contact(
        self,
        *,
        owner: int,
        first_name: str,
        last_name: str,
        address_line_1: str,
        city: str,
        state: str,
        postal_code: str,
        added: dt.datetime | str | None = None,
        updated: dt.datetime | str | None = None,
        last_card_send_date: dt.datetime | str | None = None,
        id_as_string: bool = True,
        id: int | None = None,
        **optional: str,
    ) -> int:
        """Add a contact; returns its id.

        ``optional`` takes the contact's other wire fields (``notes``,
        ``email_address``, ``country``, ``phone_number``, ...).  The id is
        written as a string unless ``id_as_string`` is false.
        """
        unknown = set(optional) - {"notes", *CONTACT_OPTIONAL}
        if unknown:
            raise ValueError(
                f"unknown field {sorted(unknown)[0]!r}; expected one of "
                f"{', '.join(_CONTACT_FIELDS)}"
            )
        fields = {
            "first_name": first_name,
            "last_name": last_name,
            "address_line_1": address_line_1,
            "city": city,
            "state": state,
            "postal_code": postal_code,
            **optional,
        }
        stamps = {
            "added": added,
            "updated": updated,
            "last_card_send_date": last_card_send_date,
        }
        with self._lock:
            return self._insert_contact(
                owner, fields, stamps, id_as_string=id_as_string, wanted=id
            )

    def _insert_contact(
        self,
        owner: int,
        fields: Mapping[str, str],
        stamps: Mapping[str, dt.datetime | str | None],
        *,
        id_as_string: bool = True,
        wanted: int | None = None,
    ) -> int:
        self._user(owner)
        contact_id = self._new_id("contact", wanted)
        data: dict[str, Any] = {
            "id": str(contact_id) if id_as_string else contact_id,
            "resource_uri": f"{wire.API}contact/{contact_id}/",
        }
        for key in ("added", "updated", "last_card_send_date"):
            value = stamps.get(key)
            if key == "added" and value is None:
                value = self.now()
            if isinstance(value, dt.datetime):
                value = wire.stamp(value)
            data[key] = value
        for key in ("notes", "email_address", *CONTACT_REQUIRED):
            data[key] = fields.get(key, "")
        for key in CONTACT_OPTIONAL:
            data.setdefault(key, fields.get(key, ""))
        self._store("contact", contact_id, owner, data)
        return contact_id

    def add_mailing(
        self,
        *,
        owner: int,
        status: int = MAILING_COMPLETE,
        card_ids: Iterable[int] = (),
        created: dt.datetime | str | None = None,
        id: int | None = None,
    ) -> int:
        """Add a mailing holding existing cards; returns its id."""
        with self._lock:
            self._user(owner)
            cards = self._state.tables["card"]
            card_ids = list(card_ids)
            for card_id in card_ids:
                if card_id not in cards:
                    raise ValueError(
                        f"'card_ids' holds {card_id}, but there is no "
                        f"card {card_id}"
                    )
            mailing_id = self._new_id("mailing", id)
            when = wire.as_datetime(created, "created") or self.now()
            data = {
                "id": mailing_id,
                "resource_uri": f"{wire.API}mailing/{mailing_id}/",
                "status": status,
                "created": wire.stamp(when),
            }
            self._store("mailing", mailing_id, owner, data, {"pending": []})
            for card_id in card_ids:
                cards[card_id].extra["mailing"] = mailing_id
            return mailing_id

    def add_credit_transaction(
        self,
        *,
        owner: int,
        amount_int: int,
        before_int: int,
        amount_paid_int: int = 0,
        grant_volume: int = 0,
        description: str = "",
        credit_card_details: str = "",
        date_time: dt.datetime | str | None = None,
        id: int | None = None,
    ) -> int:
        """Record a credit transaction (the balance is left alone)."""
        with self._lock:
            user = self._user(owner)
            transaction_id = self._new_id("credittransaction", id)
            when = wire.as_datetime(date_time, "date_time") or self.now()
            data = {
                "id": transaction_id,
                "resource_uri": (
                    f"{wire.API}credittransaction/{transaction_id}/"
                ),
                "wallet_id": user.extra["wallet_id"],
                "grant_volume": grant_volume,
                "before_int": before_int,
                "after_int": before_int + amount_int,
                "amount_paid_int": amount_paid_int,
                "amount_int": amount_int,
                "description": description,
                "credit_card_details": credit_card_details,
                "date_time": wire.stamp(when),
            }
            self._store("credittransaction", transaction_id, owner, data)
            return transaction_id

    # Handling requests --------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request as the AMcards service would."""
        with self._lock:
            self._state.serial += 1
            self._state.requests[f"{request.method} {request.path}"] += 1
            if not self.hold_mailings:
                self._settle_mailings()
            try:
                return self._route(request)
            except Refusal as refusal:
                return refusal.response()

    def _route(self, request: Request) -> Response:
        method, path = request.method.upper(), request.path
        if path == TOKEN:
            _allow(method, "POST")
            return self._refresh_token(request)
        sends: dict[str, Callable[[Record, dict[str, Any]], Response]] = {
            SEND_CARD: self._send_card,
            SEND_CARDS: self._send_cards,
            CAMPAIGN_COST: self._campaign_cost,
            SEND_CAMPAIGN: self._send_campaign,
            SEND_CAMPAIGN_MULTI: self._send_campaign_multi,
        }
        if path in sends:
            _allow(method, "POST")
            user = self._authenticate(request)
            body = wire.read_json_body(request.headers, request.body)
            return sends[path](user, body)
        match = _RESOURCE.fullmatch(path)
        if match is None or match.group(1) not in KINDS:
            raise Refusal(404, f"No such endpoint: {path}")
        kind, object_id = match.group(1), match.group(2)
        if object_id is None:
            _allow(method, "GET", "POST" if kind == "contact" else "GET")
        else:
            _allow(method, "GET", "DELETE" if kind == "contact" else "GET")
        user = self._authenticate(request)
        if method == "POST":
            return self._create_contact(user, request)
        if object_id is None:
            return self._list(user, kind, request)
        number = wire.whole_number(object_id)
        if number is None:
            raise Refusal(404, f"No {kind} with that id.")
        record = self._owned(user, kind, number)
        if method == "DELETE":
            del self._state.tables[kind][number]
            self._state.top_ids.pop(kind, None)
            return Response(204)
        return wire.json_response(200, copy.deepcopy(record.wire))

    def _authenticate(self, request: Request) -> Record:
        header = request.header("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Authentication credentials were missing.")
        grant = self._state.access_tokens.get(token.strip())
        if grant is None:
            raise _unauthorized("The access token is not valid.")
        if grant.expires_at is not None and self.now() >= grant.expires_at:
            raise _unauthorized("The access token has expired.")
        return self._user(grant.user_id)

    # Reads --------------------------------------------------------------

    def _owned(self, user: Record, kind: str, object_id: int) -> Record:
        record = self._state.tables[kind].get(object_id)
        if record is None:
            raise Refusal(404, f"No {kind} with id {object_id}.")
        if record.owner != _user_id(user):
            raise Refusal(403, f"This {kind} belongs to another user.")
        return record

    def _list(self, user: Record, kind: str, request: Request) -> Response:
        params = dict(request.query)
        limit = _count_param(params.pop("limit", None), "limit")
        offset = _count_param(params.pop("offset", None), "offset") or 0
        if limit is None:
            limit = DEFAULT_LIMIT
        elif limit == 0 or limit > MAX_LIMIT:
            limit = MAX_LIMIT
        order_by = params.pop("order_by", None)
        params.pop("format", None)
        owner = _user_id(user)
        records = [
            rec
            for _, rec in sorted(self._state.tables[kind].items())
            if rec.owner == owner
        ]
        for name, value in params.items():
            test = _make_filter(kind, name, value)
            records = [rec for rec in records if test(rec)]
        if order_by:
            records = _ordered(kind, records, order_by)
        page = records[offset : offset + limit]
        meta: dict[str, Any] = {
            "limit": limit,
            "offset": offset,
            "total_count": len(records),
            "next": None,
            "previous": None,
        }
        base = [
            (k, v) for k, v in request.query if k not in ("limit", "offset")
        ]
        if offset + limit < len(records):
            meta["next"] = _page_uri(request.path, base, limit, offset + limit)
        if offset > 0:
            back = max(0, offset - limit)
            meta["previous"] = _page_uri(request.path, base, limit, back)
        objects = [copy.deepcopy(rec.wire) for rec in page]
        return wire.json_response(200, {"meta": meta, "objects": objects})

    # Contacts -----------------------------------------------------------

    def _create_contact(self, user: Record, request: Request) -> Response:
        body = wire.read_json_body(request.headers, request.body)
        allowed = {
            *CONTACT_REQUIRED,
            *CONTACT_OPTIONAL,
            "owner",
            "notes",
            "groups",
        }
        wire.reject_unknown(body, allowed)
        owner = body.get("owner")
        match = _OWNER.fullmatch(str(owner or ""))
        owner_id = None if match is None else wire.whole_number(match[1])
        if owner_id is None:
            raise bad_request('owner must be "/.api/v1/user/<id>/".')
        if owner_id != _user_id(user):
            raise Refusal(403, "Contacts can only be created for yourself.")
        values = {key: wire.text(body.get(key), key) or "" for key in allowed}
        missing = wire.missing_address_keys(values)
        if missing:
            raise bad_request(
                f"Missing required field(s): {', '.join(missing)}."
            )
        if values["phone_number"]:
            wire.check_phone(values["phone_number"], "phone_number")
        _check_date_parts(values, "birth")
        _check_date_parts(values, "anniversary")
        keys = ("notes", *CONTACT_REQUIRED, *CONTACT_OPTIONAL)
        contact_id = self._insert_contact(
            _user_id(user), {key: values[key] for key in keys}, {}
        )
        location = ("Location", f"{wire.API}contact/{contact_id}/")
        return Response(201, (location,), b"")

    # Sending ------------------------------------------------------------

    def _send_card(self, user: Record, body: dict[str, Any]) -> Response:
        allowed = {
            "template_id",
            "initiator",
            "send_date",
            "message",
            "extra_data",
            *wire.SHIPPING_KEYS,
            *wire.RETURN_FIELDS,
        }
        wire.reject_unknown(body, allowed)
        template_id = wire.read_id(body, "template_id")
        initiator = wire.read_initiator(body)
        address = wire.read_address(body, wire.SHIPPING_KEYS)
        returned = wire.read_return_address(body)
        day = self._send_date(body.get("send_date"))
        message = wire.text(body.get("message"), "message") or ""
        extra_data = wire.read_extra_data(body.get("extra_data"))
        template = self._owned_template(user, template_id)
        cost, international = self._price(
            user, template, address.get("country"), returned.get("country")
        )
        self._debit(user, cost, "Card sent")
        card_id = self._make_card(
            user,
            template,
            address,
            returned,
            day=day.isoformat(),
            initiator=initiator,
            cost=cost,
            international=international,
            extra_data=extra_data,
        )
        self._state.tables["card"][card_id].extra["message"] = message
        self._state.cards_created += 1
        answer = {
            "card": card_id,
            "total_cost": cost,
            "user": user.wire["email"],
            "message": "Card created successfully!",
        }
        return wire.json_response(200, answer)

    def _send_cards(self, user: Record, body: dict[str, Any]) -> Response:
        allowed = {
            "template_id",
            "initiator",
            "recipients",
            "send_even_if_error",
            "offset_type",
            "date_offset",
            "send_type",
            "send_date",
            *wire.RETURN_FIELDS,
        }
        wire.reject_unknown(body, allowed)
        template_id = wire.read_id(body, "template_id")
        initiator = wire.read_initiator(body)
        even_if_error = _string_flag(body, "send_even_if_error")
        day = self._mailing_date(body)
        returned = wire.read_return_address(body)
        recipients = _object_list(body, "recipients")
        template = self._owned_template(user, template_id)
        good: list[dict[str, str]] = []
        problems: list[str] = []
        for index, item in enumerate(recipients):
            where = f"recipients[{index}]."
            try:
                wire.reject_unknown(item, wire.SHIPPING_KEYS, where)
                good.append(wire.read_address(item, wire.SHIPPING_KEYS, where))
            except Refusal as refusal:
                problems.append(refusal.message)
        if problems and (not even_if_error or not good):
            raise bad_request(" ".join(problems))
        planned = [
            self._plan(user, template, address, returned, day)
            for address in good
        ]
        total = sum(card.cost for card in planned)
        self._debit(user, total, f"Mailing of {len(planned)} cards")
        mailing_id = self.add_mailing(
            owner=_user_id(user), status=MAILING_PROCESSING
        )
        mailing = self._state.tables["mailing"][mailing_id]
        mailing.extra.update(
            pending=planned,
            returned=returned,
            initiator=initiator,
            serial=self._state.serial,
        )
        self._state.unsettled.append(mailing_id)
        message = f"Thanks! {len(planned)} cards are being processed."
        if problems:
            message += f" Skipped: {' '.join(problems)}"
        answer = {
            "mailing_uri": f"{wire.API}mailing/{mailing_id}/",
            "user": user.wire["email"],
            "message": message,
        }
        return wire.json_response(200, answer)

    def _campaign_cost(self, user: Record, body: dict[str, Any]) -> Response:
        allowed = {"campaign_id", "recipients", "send_date"}
        wire.reject_unknown(body, {*allowed, *wire.RETURN_FIELDS})
        campaign_id = wire.read_id(body, "campaign_id")
        recipients = _object_list(body, "recipients")
        if len(recipients) != 1:
            raise bad_request("recipients must hold exactly one address.")
        keys = (*_CAMPAIGN_ADDRESS, "birth_month", "birth_day")
        wire.reject_unknown(recipients[0], keys, "recipients[0].")
        address = wire.read_address(recipients[0], keys, "recipients[0].")
        _birth_parts_to_date(address)
        returned = wire.read_return_address(body)
        day = self._send_date(body.get("send_date"))
        campaign = self._owned_campaign(user, campaign_id)
        planned = self._plan_campaign(user, campaign, address, returned, day)
        total = sum(card.cost for card in planned)
        return wire.json_response(200, {"pricing": {"total_cost": total}})

    def _send_campaign(self, user: Record, body: dict[str, Any]) -> Response:
        allowed = {
            "campaign_id",
            "initiator",
            "send_date",
            "extra_data",
            "bypass_duplicate_check",
            *_CAMPAIGN_ADDRESS,
            *wire.RETURN_FIELDS,
        }
        wire.reject_unknown(body, allowed)
        campaign_id = wire.read_id(body, "campaign_id")
        initiator = wire.read_initiator(body)
        address = wire.read_address(body, _CAMPAIGN_ADDRESS)
        returned = wire.read_return_address(body)
        day = self._send_date(body.get("send_date"))
        extra_data = wire.read_extra_data(body.get("extra_data"))
        bypass = wire.read_flag(
            body.get("bypass_duplicate_check"), "bypass_duplicate_check", True
        )
        campaign = self._owned_campaign(user, campaign_id)
        if self._is_duplicate(campaign, address, bypass):
            raise Refusal(
                409, "This campaign was already sent to this recipient."
            )
        planned = self._plan_campaign(user, campaign, address, returned, day)
        if not planned:
            raise bad_request(
                "No drip of this campaign applies to this recipient."
            )
        total = sum(card.cost for card in planned)
        self._debit(user, total, f"Campaign {campaign_id}")
        mailing_id = self.add_mailing(owner=_user_id(user))
        card_ids = self._create_planned(
            user, planned, returned, initiator, extra_data, mailing_id
        )
        campaign.extra["recipients"].add(_recipient_key(address))
        answer = {
            "mailing": mailing_id,
            "cards": card_ids,
            "user": user.wire["email"],
            "message": (
                "Thanks! Your cards have been scheduled and "
                f"{wire.dollars(total)} was debited from your credits."
            ),
        }
        return wire.json_response(200, answer)

    def _send_campaign_multi(
        self, user: Record, body: dict[str, Any]
    ) -> Response:
        allowed = {
            "campaign_id",
            "initiator",
            "contacts",
            "send_date",
            "bypass_duplicate_check",
            *wire.RETURN_FIELDS,
        }
        wire.reject_unknown(body, allowed)
        campaign_id = wire.read_id(body, "campaign_id")
        initiator = wire.read_initiator(body)
        contacts = _object_list(body, "contacts")
        returned = wire.read_return_address(body)
        day = self._send_date(body.get("send_date"))
        bypass = wire.read_flag(
            body.get("bypass_duplicate_check"), "bypass_duplicate_check", True
        )
        people: list[tuple[dict[str, str], dict[str, str]]] = []
        for index, item in enumerate(contacts):
            where = f"contacts[{index}]."
            keys = (*_CAMPAIGN_ADDRESS, "extra_data")
            wire.reject_unknown(item, keys, where)
            address = wire.read_address(item, _CAMPAIGN_ADDRESS, where)
            extra = wire.read_extra_data(
                item.get("extra_data"), f"{where}extra_data"
            )
            people.append((address, extra))
        campaign = self._owned_campaign(user, campaign_id)
        seen: set[tuple[str, ...]] = set()
        scheduled: list[tuple[dict[str, str], dict[str, str], list[Any]]]
        scheduled = []
        duplicates = 0
        for address, extra in people:
            key = _recipient_key(address)
            repeated = key in seen and not _allows_duplicates(campaign, bypass)
            if repeated or self._is_duplicate(campaign, address, bypass):
                duplicates += 1
                continue
            seen.add(key)
            planned = self._plan_campaign(
                user, campaign, address, returned, day
            )
            if not planned:
                raise bad_request(
                    "No drip of this campaign applies to "
                    f"{address['first_name']} {address['last_name']}."
                )
            scheduled.append((address, extra, planned))
        total = sum(c.cost for _, _, plan in scheduled for c in plan)
        mailing_id = None
        if scheduled:
            self._debit(user, total, f"Campaign {campaign_id}")
            mailing_id = self.add_mailing(owner=_user_id(user))
        for address, extra, planned in scheduled:
            assert mailing_id is not None
            self._create_planned(
                user, planned, returned, initiator, extra, mailing_id
            )
            campaign.extra["recipients"].add(_recipient_key(address))
        ids = [
            address["third_party_contact_id"]
            for address, _, _ in scheduled
            if "third_party_contact_id" in address
        ]
        answer = {
            "mailing_id": mailing_id,
            "contacts_scheduled_count": len(scheduled),
            "duplicate_contacts_count": duplicates,
            "contacts_scheduled_third_party_contact_ids": ids,
            "message": (
                f"{len(scheduled)} contacts scheduled, "
                f"{duplicates} duplicates skipped."
            ),
        }
        return wire.json_response(200, answer)

    # OAuth --------------------------------------------------------------

    def _refresh_token(self, request: Request) -> Response:
        content_type = (request.header("Content-Type") or "").split(";")[0]
        if content_type.strip() != "application/x-www-form-urlencoded":
            raise _oauth(400, "invalid_request", "Expected a form body.")
        try:
            text = request.body.decode("utf-8")
            form = dict(parse_qsl(text, strict_parsing=bool(text)))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _oauth(400, "invalid_request", str(exc)) from exc
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise _oauth(400, "invalid_request", "grant_type is missing.")
        if grant_type != "refresh_token":
            raise _oauth(400, "unsupported_grant_type", grant_type)
        client_id = form.get("client_id", "")
        secret = self._state.oauth_clients.get(client_id)
        if secret is None or secret != form.get("client_secret"):
            raise _oauth(401, "invalid_client", "Client not recognised.")
        held = self._state.refresh_tokens.get(form.get("refresh_token", ""))
        if held is None or held[1] != client_id:
            raise _oauth(400, "invalid_grant", "Refresh token not valid.")
        del self._state.refresh_tokens[form["refresh_token"]]
        user_id = held[0]
        self._state.token_serial += 1
        number = self._state.token_serial
        access, refresh = f"fake-access-{number}", f"fake-refresh-{number}"
        expires = self.now() + dt.timedelta(seconds=self.token_lifetime)
        self._state.access_tokens[access] = _AccessToken(user_id, expires)
        self._state.refresh_tokens[refresh] = (user_id, client_id)
        answer = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "refresh_token": refresh,
            "scope": "read write",
        }
        return wire.json_response(200, answer)

    # The machinery -------------------------------------------------------

    def _new_id(self, kind: str, wanted: int | None) -> int:
        table = self._state.tables[kind]
        if wanted is not None:
            if wanted in table:
                raise ValueError(
                    f"'id' {wanted} is taken: there is already a {kind} "
                    f"with that id"
                )
            return wanted
        top_ids = self._state.top_ids
        if kind not in top_ids:
            top_ids[kind] = max(table, default=_FIRST_IDS[kind] - 1)
        return top_ids[kind] + 1

    def _store(
        self,
        kind: str,
        object_id: int,
        owner: int,
        data: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._state.tables[kind][object_id] = Record(owner, data, extra or {})
        top_ids = self._state.top_ids
        if kind in top_ids and object_id > top_ids[kind]:
            top_ids[kind] = object_id

    def _user(self, user_id: int) -> Record:
        record = self._state.tables["user"].get(user_id)
        if record is None:
            raise KeyError(f"no user {user_id}")
        return record

    def _template(self, template_id: int) -> Record | None:
        tables = self._state.tables
        found = tables["template"].get(template_id)
        return found or tables["quicksendtemplate"].get(template_id)

    def _owned_template(self, user: Record, template_id: int) -> Record:
        template = self._template(template_id)
        if template is None or template.owner != _user_id(user):
            raise Refusal(403, f"Template {template_id} is not yours.")
        return template

    def _owned_campaign(self, user: Record, campaign_id: int) -> Record:
        campaign = self._state.tables["campaign"].get(campaign_id)
        if campaign is None or campaign.owner != _user_id(user):
            raise Refusal(403, f"Campaign {campaign_id} is not yours.")
        return campaign

    def _send_date(self, value: Any) -> dt.date:
        """The given send date, or tomorrow when there is none."""
        if value is None or value == "":
            return self.now().date() + dt.timedelta(days=1)
        return wire.read_day(value, "send_date")

    def _mailing_date(self, body: Mapping[str, Any]) -> dt.date:
        offset_type = body.get("offset_type", "before")
        if offset_type != "before":
            raise bad_request('offset_type must be "before".')
        date_offset = body.get("date_offset", "0")
        if not isinstance(date_offset, str) or not wire.is_digits(date_offset):
            raise bad_request("date_offset must be a string of digits 0-9.")
        send_type = body.get("send_type")
        if send_type == "immediate":
            if body.get("send_date") is not None:
                wire.read_day(body["send_date"], "send_date")
            return self.now().date()
        if send_type == "specific_date":
            if body.get("send_date") in (None, ""):
                raise bad_request("send_date is required for specific_date.")
            return wire.read_day(body["send_date"], "send_date")
        raise bad_request('send_type must be "immediate" or "specific_date".')

    def _price(
        self,
        user: Record,
        template: Record,
        ship_country: str | None,
        return_country: str | None,
    ) -> tuple[int, bool]:
        """What one card costs the user, and whether it is international."""
        own = user.wire["country"]
        postage = user.wire["postage"]
        domestic = {
            wire.country_code(c) for c in postage["domestic_countries"]
        }
        countries = (ship_country or own, return_country or own)
        international = any(
            wire.country_code(country) not in domestic for country in countries
        )
        cost = user.wire["product_pricing_info"]["5x7greetingcard"]
        if international:
            cost += postage["international_cost"]
        else:
            cost += postage["domestic_cost"]
        for gift in template.wire["gifts"]:
            cost += gift["price"] + gift["shipping_and_handling"]
        return cost, international

    def _debit(self, user: Record, cost: int, description: str) -> None:
        """Take ``cost`` from the balance, or refuse with 402."""
        balance = int(user.wire["credits"])
        if cost > balance:
            raise Refusal(
                402,
                f"Insufficient credits: this costs {wire.dollars(cost)} "
                f"and the balance is {wire.dollars(balance)}.",
            )
        user.wire["credits"] = balance - cost
        self.add_credit_transaction(
            owner=_user_id(user),
            amount_int=-cost,
            before_int=balance,
            description=description,
        )

    def _plan(
        self,
        user: Record,
        template: Record,
        address: dict[str, str],
        returned: dict[str, str],
        day: dt.date,
        campaign_id: int | None = None,
    ) -> _PlannedCard:
        cost, international = self._price(
            user, template, address.get("country"), returned.get("country")
        )
        return _PlannedCard(
            template, address, day, cost, international, campaign_id
        )

    def _plan_campaign(
        self,
        user: Record,
        campaign: Record,
        address: dict[str, str],
        returned: dict[str, str],
        day: dt.date,
    ) -> list[_PlannedCard]:
        planned = []
        for drip in campaign.extra["drips"]:
            when = _drip_date(drip, address, day)
            if when is None:
                continue
            template = self._template(drip["template_id"])
            if template is None:  # deleted since: skip the drip
                continue
            card = self._plan(
                user, template, address, returned, when, campaign.wire["id"]
            )
            planned.append(card)
        return planned

    def _create_planned(
        self,
        user: Record,
        planned: Iterable[_PlannedCard],
        returned: dict[str, str],
        initiator: str,
        extra_data: Mapping[str, str],
        mailing_id: int,
    ) -> list[int]:
        card_ids = []
        for card in planned:
            card_id = self._make_card(
                user,
                card.template,
                card.address,
                returned,
                day=card.send_date.isoformat(),
                initiator=initiator,
                cost=card.cost,
                international=card.international,
                extra_data=extra_data,
                campaign_id=card.campaign_id,
                mailing_id=mailing_id,
            )
            self._state.cards_created += 1
            card_ids.append(card_id)
        return card_ids

    def _make_card(
        self,
        user: Record,
        template: Record,
        address: Mapping[str, str],
        returned: Mapping[str, str],
        *,
        day: str,
        initiator: str,
        cost: int,
        international: bool,
        extra_data: Mapping[str, str],
        campaign_id: int | None = None,
        mailing_id: int | None = None,
        status: int = CARD_EDITABLE,
        card_id: int | None = None,
    ) -> int:
        card_id = self._new_id("card", card_id)
        own = user.wire
        back = {
            "first_name": own["first_name"],
            "last_name": own["last_name"],
            "address_line_1": own["address_line_1"],
            "city": own["city"],
            "state": own["state"],
            "postal_code": own["postal"],
            "country": own["country"],
            **returned,
        }
        gifts = [
            {
                "name": gift["gift_name"],
                "price": gift["price"],
                "shipping_and_handling": gift["shipping_and_handling"],
            }
            for gift in template.wire["gifts"]
        ]
        data = {
            "id": card_id,
            "resource_uri": f"{wire.API}card/{card_id}/",
            "amount_charged": cost / 100,
            "total_amount_charged_cents": cost,
            "status": status,
            "initiator": initiator,
            "send_date": day,
            "created": wire.stamp(self.now()),
            "last_modified": None,
            "fulfilled": None,
            "is_international": international,
            "template_name": template.wire["name"],
            "thumbnail": template.wire["thumbnail"],
            "campaign_pk": campaign_id,
            "ship_to_first_name": address["first_name"],
            "ship_to_last_name": address["last_name"],
            "ship_to_line_1": address["address_line_1"],
            "ship_to_city": address["city"],
            "ship_to_state": address.get("state", ""),
            "ship_to_postal": address["postal_code"],
            "ship_to_country": address.get("country") or own["country"],
            "ship_to_organization": address.get("organization", ""),
            "third_party_contact_id": address.get(
                "third_party_contact_id", ""
            ),
            **{
                f"return_to_{_RETURN_WIRE[key]}": back[key]
                for key in wire.RETURN_KEYS
            },
            "gifts": gifts,
            "extra_data": repr(dict(extra_data)) if extra_data else "",
        }
        extra = {"mailing": mailing_id, "address": dict(address)}
        self._store("card", card_id, _user_id(user), data, extra)
        return card_id

    def _settle_mailings(self, *, everything: bool = False) -> int:
        """Create the cards of mailings sent by earlier requests."""
        created = 0
        mailings = self._state.tables["mailing"]
        waiting = []
        for mailing_id in self._state.unsettled:
            mailing = mailings[mailing_id]
            pending = mailing.extra.get("pending")
            if not pending:
                continue
            if (
                not everything
                and mailing.extra["serial"] >= self._state.serial
            ):
                waiting.append(mailing_id)
                continue
            user = self._user(mailing.owner)
            created += len(
                self._create_planned(
                    user,
                    pending,
                    mailing.extra["returned"],
                    mailing.extra["initiator"],
                    {},
                    mailing.wire["id"],
                )
            )
            mailing.extra["pending"] = []
            mailing.wire["status"] = MAILING_COMPLETE
        self._state.unsettled = waiting
        return created

    def _is_duplicate(
        self, campaign: Record, address: Mapping[str, str], bypass: bool
    ) -> bool:
        if _allows_duplicates(campaign, bypass):
            return False
        return _recipient_key(address) in campaign.extra["recipients"]


# Helpers ----------------------------------------------------------------

_FIRST_IDS = {
    "user": 1,
    "template": 1,
    "quicksendtemplate": 1,
    "campaign": 1,
    "card": 1,
    "contact": 1,
    "mailing": 1,
    "credittransaction": 1,
}

_UNHANDLED_FAULTS = ("status", "html", "drop_before")

_CONTACT_FIELDS = (
    "owner",
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "state",
    "postal_code",
    "notes",
    *CONTACT_OPTIONAL,
    "added",
    "updated",
    "last_card_send_date",
    "id_as_string",
    "id",
)

_SEED_SECTIONS = (
    "users",
    "access_tokens",
    "oauth_clients",
    "refresh_tokens",
    "templates",
    "quicksends",
    "campaigns",
    "cards",
    "contacts",
    "mailings",
    "credit_transactions",
)
_SEED_CREATES = {
    "users",
    "templates",
    "quicksends",
    "campaigns",
    "cards",
    "contacts",
    "mailings",
    "credit_transactions",
}

# The address keys a card cannot be written without.
_CARD_ADDRESS = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "postal_code",
)

_DRIP_DATES = {"birthday": "birth_date", "anniversary": "anniversary_date"}

_CAMPAIGN_ADDRESS = wire.SHIPPING_KEYS + wire.CAMPAIGN_KEYS

_RETURN_WIRE = {
    "first_name": "first_name",
    "last_name": "last_name",
    "address_line_1": "line_1",
    "city": "city",
    "state": "state",
    "postal_code": "postal",
    "country": "country",
}


def _user_id(user: Record) -> int:
    return user.owner


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        names = ", ".join(sorted(set(allowed)))
        raise Refusal(
            405,
            f"Method {method} is not allowed here.",
            headers=[("Allow", names)],
        )


def _unauthorized(message: str) -> Refusal:
    return Refusal(401, message, headers=[("WWW-Authenticate", "Bearer")])


def _oauth(status: int, error: str, description: str) -> Refusal:
    payload = {"error": error, "error_description": description}
    return Refusal(status, description, payload=payload)


def _gift(gift: Mapping[str, Any], where: str) -> dict[str, Any]:
    _only(gift, _GIFT_FIELDS, where)
    found = {
        "gift_name": _field(gift, "gift_name", str, where),
        "image": _field(gift, "image", str, where, ""),
        "price": _field(gift, "price", int, where),
        "shipping_and_handling": _field(
            gift, "shipping_and_handling", int, where, 0
        ),
    }
    for name in ("price", "shipping_and_handling"):
        _check_range(found[name], name, 0, MAX_CENTS, "cents", where)
    return found


def _drip(drip: Mapping[str, Any], where: str) -> dict[str, Any]:
    _only(drip, ("kind", "template_id", "days_after"), where)
    kind = drip.get("kind", "fixed")
    if kind not in _DRIP_KINDS:
        raise ValueError(
            f"{where}: 'kind' must be one of {', '.join(_DRIP_KINDS)}, "
            f"got {_shown(kind)}"
        )
    days = _field(drip, "days_after", int, where, 0)
    _check_range(days, "days_after", 0, MAX_DRIP_DAYS, "days", where)
    return {
        "kind": kind,
        "template_id": _field(drip, "template_id", int, where),
        "days_after": days,
    }


_GIFT_FIELDS = ("gift_name", "image", "price", "shipping_and_handling")
_DRIP_KINDS = ("fixed", "birthday", "anniversary")


def _only(data: Mapping[str, Any], names: Sequence[str], where: str) -> None:
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(
            f"{where}: unknown field {unknown[0]!r}; expected one of "
            f"{', '.join(names)}"
        )


def _field(
    data: Mapping[str, Any],
    name: str,
    kind: type[Any],
    where: str,
    default: Any = None,
) -> Any:
    """``data[name]`` of type ``kind`` (str or int), or a plain error."""
    if name not in data:
        if default is None:
            raise ValueError(f"{where}: {name!r} is required")
        return default
    value = data[name]
    if not _fits(value, kind):
        raise ValueError(
            f"{where}: {name!r} must be {_describe(kind)}, got {_shown(value)}"
        )
    return value


def _check_range(
    value: Any, name: str, low: int, high: int, unit: str, where: str = ""
) -> None:
    """Refuse ``value`` unless it is a whole number from low to high."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"{prefix}{name!r} must be a whole number of {unit} from {low} "
            f"to {high}, got {_shown(value)}"
        )


def _shown(value: Any) -> str:
    """A value as JSON would write it, shortened, for messages."""
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _fits(value: Any, hint: Any) -> bool:
    """Whether a value from JSON fits an ``add_*`` parameter's type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (Sequence, Iterable, list):
        return isinstance(value, (list, tuple)) and all(
            _fits(item, args[0]) for item in value
        )
    if origin in (Mapping, dict):
        return isinstance(value, Mapping) and all(
            isinstance(key, str) and _fits(item, args[1])
            for key, item in value.items()
        )
    return not isinstance(hint, type) or isinstance(value, hint)


def _describe(hint: Any) -> str:
    """A parameter's type in plain words, as JSON sees it."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        words = [_describe(arg) for arg in args if arg is not dt.datetime]
        return " or ".join(dict.fromkeys(words))
    if origin in (Sequence, Iterable, list):
        item = _describe(args[0])
        if item.startswith("an object"):
            return "a list of objects"
        if item == "text":
            return "a list of text values"
        return f"a list of {item.removeprefix('a ')}s"
    if origin in (Mapping, dict):
        return "an object" + (" of text values" if args[1] is str else "")
    plain: dict[Any, str] = {
        type(None): "null",
        bool: "true or false",
        int: "a whole number",
        str: "text",
        dt.datetime: "an ISO date and time",
    }
    return plain.get(hint, "anything")


def _drip_date(
    drip: Mapping[str, Any], address: Mapping[str, str], day: dt.date
) -> dt.date | None:
    """When a drip's card goes out, or None when it does not apply."""
    try:
        if drip["kind"] == "fixed":
            return day + dt.timedelta(days=drip["days_after"])
        key = _DRIP_DATES[drip["kind"]]
        source = address.get(key)
        if not source:
            return None
        month, dom = wire.read_month_day(source, key)
        for year in (day.year, day.year + 1):
            when = _on_or_before_end(year, month, dom)
            if when >= day:
                return when
    except (OverflowError, ValueError):  # past the year 9999
        raise bad_request(
            "send_date is too late: a drip of this campaign would go out "
            f"after {dt.date.max.isoformat()}."
        ) from None
    raise AssertionError("unreachable: next year is always later")


def _on_or_before_end(year: int, month: int, day: int) -> dt.date:
    """The date, with 29 February moved to the 28th in common years."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return dt.date(year, month, day - 1)


def _recipient_key(address: Mapping[str, str]) -> tuple[str, ...]:
    parts = ("first_name", "last_name", "address_line_1", "postal_code")
    return tuple(" ".join(address[p].split()).casefold() for p in parts)


def _allows_duplicates(campaign: Record, bypass: bool) -> bool:
    return bool(campaign.wire["send_even_if_duplicate"]) and bypass


def _birth_parts_to_date(address: dict[str, str]) -> None:
    """Campaign cost may carry ``birth_month``/``birth_day`` instead."""
    month = address.pop("birth_month", "")
    day = address.pop("birth_day", "")
    if (month or day) and "birth_date" not in address:
        candidate = f"{month.zfill(2)}-{day.zfill(2)}"
        wire.read_month_day(candidate, "birth_month/birth_day")
        address["birth_date"] = candidate


def _string_flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, "false")
    if value not in ("true", "false"):
        raise bad_request(f'{name} must be the string "true" or "false".')
    return bool(value == "true")


def _object_list(body: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise bad_request(f"{name} must be a non-empty list.")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise bad_request(f"{name}[{index}] must be an object.")
    return value


def _check_date_parts(values: Mapping[str, str], prefix: str) -> None:
    limits = {"year": (1, 9999), "month": (1, 12), "day": (1, 31)}
    for part, (low, high) in limits.items():
        name = f"{prefix}_{part}"
        value = values[name]
        if not value:
            continue
        number = wire.whole_number(value)
        if number is None or not low <= number <= high:
            raise bad_request(f"{name} must be a number from {low} to {high}.")


def _count_param(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    number = wire.whole_number(value)
    if number is None:
        raise bad_request(f"{name} must be a whole number, got {value!r}.")
    return number


def _page_uri(
    path: str, params: list[tuple[str, str]], limit: int, offset: int
) -> str:
    query = [*params, ("limit", str(limit)), ("offset", str(offset))]
    return f"{path}?{urlencode(query)}"


def _field_value(kind: str, record: Record, name: str) -> Any:
    hidden = HIDDEN_FILTERS.get(kind, {})
    if name in hidden:
        return record.extra.get(hidden[name])
    return record.wire.get(name)


def _split_lookup(kind: str, name: str) -> tuple[str, str]:
    field_name, _, lookup = name.rpartition("__")
    if not field_name or lookup not in _LOOKUPS:
        field_name, lookup = name, "exact"
    known = (*FIELDS[kind], *HIDDEN_FILTERS.get(kind, {}))
    if field_name not in known:
        raise bad_request(
            f"The '{field_name}' field does not allow filtering."
        )
    return field_name, lookup


def _make_filter(kind: str, name: str, raw: str) -> Callable[[Record], bool]:
    field_name, lookup = _split_lookup(kind, name)

    def test(record: Record) -> bool:
        value = _field_value(kind, record, field_name)
        return _compare(value, lookup, raw, name)

    return test


def _coerce(raw: str, like: Any, name: str) -> Any:
    """The query string's value as the type of the stored value."""
    try:
        if isinstance(like, bool):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        if isinstance(like, int):
            if not _INTEGER.fullmatch(raw):
                raise ValueError(raw)
            return int(raw)
        if isinstance(like, float):
            if not _DECIMAL.fullmatch(raw):
                raise ValueError(raw)
            return float(raw)
    except ValueError:
        raise bad_request(
            f"Invalid value {raw!r} for filter {name}."
        ) from None
    return raw


def _compare(value: Any, lookup: str, raw: str, name: str) -> bool:
    if lookup == "isnull":
        wanted = _coerce(raw, True, name)
        return (value is None or value == "") is wanted
    if value is None:
        return False
    if lookup == "in":
        return any(
            _coerce(part, value, name) == value for part in raw.split(",")
        )
    if lookup in ("gt", "gte", "lt", "lte"):
        if not isinstance(value, (int, float, str)):  # a list or an object
            raise bad_request(
                f"Invalid filter {name}: that field cannot be compared."
            )
        other = _coerce(raw, value, name)
        if isinstance(value, str):
            value, other = str(value), str(other)
        return bool(
            {
                "gt": value > other,
                "gte": value >= other,
                "lt": value < other,
                "lte": value <= other,
            }[lookup]
        )
    if lookup == "exact":
        return bool(_coerce(raw, value, name) == value)
    text, wanted = str(value), raw
    if lookup.startswith("i"):
        text, wanted = text.casefold(), wanted.casefold()
        lookup = lookup[1:]
    return {
        "exact": text == wanted,
        "contains": wanted in text,
        "startswith": text.startswith(wanted),
        "endswith": text.endswith(wanted),
    }[lookup]


def _ordered(kind: str, records: list[Record], order_by: str) -> list[Record]:
    name = order_by.lstrip("-")
    if name not in FIELDS[kind]:
        raise bad_request(f"Cannot order by '{name}'.")

    def key(record: Record) -> tuple[bool, str, Any]:
        value = record.wire.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (value is None, "", value)
        return (value is None, str(value), 0)

    return sorted(records, key=key, reverse=order_by.startswith("-"))

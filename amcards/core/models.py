"""The objects the AMcards service talks about, as frozen attrs classes.

Each class keeps the fields, order and names of the older client's model,
so positional construction still works; fields the older client did not
have come after them, with defaults.  Money is always whole cents.  Links
shown to people are built from ``base_url``, the server the object came
from.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

__all__ = [
    "DEFAULT_BASE_URL",
    "Campaign",
    "CampaignMultiResponse",
    "CampaignResponse",
    "Card",
    "CardGift",
    "CardResponse",
    "CardStatus",
    "CardsResponse",
    "Contact",
    "CreditTransaction",
    "Gift",
    "Mailing",
    "MailingStatus",
    "Template",
    "User",
]

DEFAULT_BASE_URL = "https://amcards.com"


def _link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


class CardStatus(enum.Enum):
    """Where a card is in its life, from editable to delivered.

    ``UNKNOWN`` stands for a code this client does not know yet; the raw
    code is kept in :attr:`Card.status_code`.
    """

    UNKNOWN = -1
    EDITABLE = 0
    VERIFYING_ADDRESS = 1
    IN_THE_MAIL = 2
    FLAGGED = 3
    DELIVERED = 4
    READY_FOR_PRINT = 5
    PRINTED = 6
    PROCESSING = 7
    REFUNDED = 8
    TESTING = 9
    GIFT_UNAVAILABLE = 10
    PROOF_PRINT = 11
    RETURN_TO_SENDER = 12
    DUPLICATE = 13


class MailingStatus(enum.Enum):
    """Whether the cards of a mailing have all been created."""

    COMPLETE = 0
    PROCESSING = 1


@attrs.frozen
class Gift:
    """A gift that every card made from a template carries.

    Attributes:
        name: What the gift is called.
        thumbnail: The URL of its picture.
        base_cost: Its price in cents.
        shipping_and_handling_cost: What shipping it costs, in cents.
    """

    name: str
    thumbnail: str
    base_cost: int
    shipping_and_handling_cost: int

    @property
    def total_cost(self) -> int:
        """Base cost plus shipping and handling, in cents."""
        return self.base_cost + self.shipping_and_handling_cost


@attrs.frozen
class CardGift:
    """A gift attached to a card that was sent.

    Attributes:
        name: What the gift is called.
        price: Its price in cents.
        shipping_and_handling: What shipping it cost, in cents.
    """

    name: str
    price: int
    shipping_and_handling: int = 0

    @property
    def total_cost(self) -> int:
        """Price plus shipping and handling, in cents."""
        return self.price + self.shipping_and_handling


@attrs.frozen
class Template:
    """A card design the account can send (a template or a quicksend).

    Attributes:
        id: The template's id; pass it as ``template_id`` to send it.
        name: The template's name.
        message: The text on the template's default panel (may be empty).
        thumbnail: The URL of a picture of the card.
        gifts: The gifts every card made from it carries (and costs).
    """

    id: int
    name: str
    message: str
    thumbnail: str
    gifts: list[Gift] = attrs.field(factory=list)

    @property
    def gifts_total(self) -> int:
        """Sum of the gifts' total costs, in cents."""
        return sum(gift.total_cost for gift in self.gifts)


@attrs.frozen
class Campaign:
    """An AMcards drip campaign: a series of cards sent over time.

    Attributes:
        id: The campaign's id; pass it as ``campaign_id`` to send it.
        name: The campaign's name.
        send_if_duplicate: True when the campaign may be sent again to
            someone it was already sent to; False when the service
            refuses that, with
            :class:`~amcards.core.errors.DuplicateCampaignError`.
        has_anniversary_drip: Whether one of its cards goes out on the
            recipient's anniversary.
        has_birthday_drip: Whether one of its cards goes out on the
            recipient's birthday.
        drip_count: How many cards (drips) it holds, when the service
            says so.
        campaign_cost: What one send of it costs in cents, when the
            service says so.
    """

    id: int
    name: str
    send_if_duplicate: bool
    has_anniversary_drip: bool = False
    has_birthday_drip: bool = False
    drip_count: int | None = None
    campaign_cost: int | None = None


@attrs.frozen
class User:
    """The AMcards user the access token belongs to.

    Attributes:
        id: The user's id.
        first_name: The user's first name.
        last_name: The user's last name.
        credits: The balance, in cents, that sends are paid from.
        email: The user's email address.
        date_joined: When the account was opened, if known.
        address_line_1: The first line of the user's address, which is
            the default return address.
        city: The city of that address.
        state: Its state or province.
        postal_code: Its postal code.
        country: Its country, as the service spells it.
        domestic_postage_cost: Postage for a card that stays within the
            domestic countries, in cents.
        international_postage_cost: Postage for any other card, in cents.
        domestic_postage_countries: The countries (ISO codes) that count
            as domestic.
        greeting_card_cost: The price of one card before postage and
            gifts, in cents.
        phone: The user's phone number, if any.
        address_line_2: The second line of the address, if any.
        monthly_report_emails: The monthly report setting, as the service
            sends it.
    """

    id: int
    first_name: str
    last_name: str
    credits: int
    email: str
    date_joined: dt.datetime | None
    address_line_1: str
    city: str
    state: str
    postal_code: str
    country: str
    domestic_postage_cost: int
    international_postage_cost: int
    domestic_postage_countries: set[str]
    greeting_card_cost: int
    phone: str | None = None
    address_line_2: str | None = None
    monthly_report_emails: Any = None


@attrs.frozen
class Card:
    """A card in the account, as the service lists it.

    Attributes:
        id: The card's id.
        amount_charged: What the card cost, in whole cents (the service
            sends dollars; they are rounded to the cent exactly).
        status: Where the card is, as a :class:`CardStatus`.
        initiator: Who sent it, as the sender recorded it.
        send_date: The day it is mailed, ``"YYYY-MM-DD"``.
        date_created: When it was created.
        date_last_modified: When it last changed, or None.
        date_fulfilled: When the service fulfilled (mailed) it, or None.
        is_international: Whether it paid international postage.
        template_name: The name of the template it was made from.
        thumbnail: The URL of a picture of the card.
        campaign_id: The drip campaign it belongs to, or None.
        shipping_address: The recipient, with the keys a send takes
            (``first_name``, ``city``, ``third_party_contact_id``...).
        return_address: The return address printed on it.
        status_code: The status code as the service sent it; it tells
            codes apart that :attr:`status` shows as
            :attr:`CardStatus.UNKNOWN`.
        total_amount_charged_cents: The service's own total in cents,
            when it sends one.
        gifts: The gifts sent with the card.
        extra_data: The sender's own key/value pairs stored with it.
        base_url: The server the card came from; links point there.
    """

    id: int
    amount_charged: int
    status: CardStatus
    initiator: str
    send_date: str
    date_created: dt.datetime | None
    date_last_modified: dt.datetime | None
    date_fulfilled: dt.datetime | None
    is_international: bool
    template_name: str
    thumbnail: str
    campaign_id: int | None
    shipping_address: dict[str, str]
    return_address: dict[str, str]
    status_code: int = -1
    total_amount_charged_cents: int | None = None
    gifts: list[CardGift] = attrs.field(factory=list)
    extra_data: dict[str, str] = attrs.field(factory=dict)
    base_url: str = DEFAULT_BASE_URL

    @property
    def third_party_contact_id(self) -> str | None:
        """The recipient's id in the sender's own system, if one was given."""
        return self.shipping_address.get("third_party_contact_id") or None

    @property
    def edit_link(self) -> str:
        """The page on the AMcards site where the card can be edited."""
        return _link(self.base_url, f"/cards/edit/{self.id}/")

    @property
    def cancel_link(self) -> str:
        """The page on the AMcards site where the card can be cancelled."""
        return _link(self.base_url, f"/cards/cancel/{self.id}/")


@attrs.frozen
class Contact:
    """An entry of the user's AMcards address book.

    Optional values the service leaves empty are None.

    Attributes:
        id: The contact's id.
        date_created: When it was added.
        date_last_modified: When it last changed.
        date_last_card_send: When a card was last sent to it.
        notes: Free notes.
        email: The contact's email address.
        first_name: The contact's first name.
        last_name: The contact's last name.
        address_line_1: The first line of the address.
        city: The city.
        state: The state or province.
        postal_code: The postal code.
        country: The country.
        organization: The company or organization.
        phone: The phone number.
        birth_year: The year of birth, ``"YYYY"``.
        birth_month: The month of birth, ``"MM"``.
        birth_day: The day of birth, ``"DD"``.
        anniversary_year: The anniversary's year, ``"YYYY"``.
        anniversary_month: The anniversary's month, ``"MM"``.
        anniversary_day: The anniversary's day, ``"DD"``.
    """

    id: int
    date_created: dt.datetime | None
    date_last_modified: dt.datetime | None
    date_last_card_send: dt.datetime | None
    notes: str | None
    email: str | None
    first_name: str
    last_name: str
    address_line_1: str
    city: str
    state: str
    postal_code: str
    country: str | None
    organization: str | None
    phone: str | None
    birth_year: str | None
    birth_month: str | None
    birth_day: str | None
    anniversary_year: str | None
    anniversary_month: str | None
    anniversary_day: str | None


@attrs.frozen
class Mailing:
    """A mailing: a batch of cards sent together.

    Attributes:
        id: The mailing's id.
        status: Whether its cards have all been created, or None when
            the service sends a status this client does not know.
        base_url: The server it came from; its link points there.
    """

    id: int
    status: MailingStatus | None = None
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str:
        """The page on the AMcards site that lists the mailing's cards."""
        return _link(self.base_url, f"/cards/history/?mailing={self.id}")


@attrs.frozen
class CreditTransaction:
    """One movement of the user's credit balance (amounts in cents).

    Attributes:
        id: The transaction's id.
        wallet_id: The wallet it belongs to.
        grant_volume: Credits granted with it, if any.
        before_int: The balance before it.
        after_int: The balance after it.
        amount_paid_int: What was paid for it (a purchase), else 0.
        amount_int: The change of balance: positive when credits were
            added, negative when they were spent.
        description: What it was, in the service's words.
        credit_card_details: The card a purchase was paid with, if any.
        date_time: When it happened.
    """

    id: int
    wallet_id: int | None
    grant_volume: int | None
    before_int: int | None
    after_int: int | None
    amount_paid_int: int | None
    amount_int: int | None
    description: str
    credit_card_details: str
    date_time: dt.datetime | None


@attrs.frozen
class CardResponse:
    """The service's answer to sending one card.

    Attributes:
        card_id: The new card's id.
        total_cost: What the card cost, in cents.
        user_email: The email address of the account that paid.
        message: The service's message.
        shipping_address: The recipient as it was sent (normalised).
        base_url: The server; the links point there.
    """

    card_id: int
    total_cost: int
    user_email: str
    message: str
    shipping_address: dict[str, str]
    base_url: str = DEFAULT_BASE_URL

    @property
    def edit_link(self) -> str:
        """The page on the AMcards site where the card can be edited."""
        return _link(self.base_url, f"/cards/edit/{self.card_id}/")

    @property
    def cancel_link(self) -> str:
        """The page on the AMcards site where the card can be cancelled."""
        return _link(self.base_url, f"/cards/cancel/{self.card_id}/")


@attrs.frozen
class CardsResponse:
    """The service's answer to sending a batch of cards.

    The cards are created later; read the mailing with
    :meth:`AMcardsClient.mailing <amcards.client.AMcardsClient.mailing>`.

    Attributes:
        mailing_id: The id of the mailing that will hold the cards.
        user_email: The email address of the account that paid.
        message: The service's message.
        shipping_addresses: The recipients as they were sent.
        base_url: The server; the link points there.
    """

    mailing_id: int
    user_email: str
    message: str
    shipping_addresses: list[dict[str, str]]
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str:
        """The page on the AMcards site that lists the mailing's cards."""
        return _link(
            self.base_url, f"/cards/history/?mailing={self.mailing_id}"
        )


@attrs.frozen
class CampaignResponse:
    """The service's answer to sending a drip campaign to one recipient.

    Attributes:
        mailing_id: The id of the mailing holding the campaign's cards.
        card_ids: The ids of the cards scheduled.
        user_email: The email address of the account that paid.
        message: The service's message.
        shipping_address: The recipient as it was sent (normalised).
        base_url: The server; the link points there.
    """

    mailing_id: int
    card_ids: list[int]
    user_email: str
    message: str
    shipping_address: dict[str, str]
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str:
        """The page on the AMcards site that lists the mailing's cards."""
        return _link(
            self.base_url, f"/cards/history/?mailing={self.mailing_id}"
        )


@attrs.frozen
class CampaignMultiResponse:
    """AMcards' response for sending a drip campaign to many contacts.

    Attributes:
        mailing_id: The id of the mailing, or None when nothing was
            scheduled.
        contacts_scheduled_count: How many contacts got the campaign.
        duplicate_contacts_count: How many were left out as duplicates.
        scheduled_third_party_contact_ids: The ``third_party_contact_id``
            of each contact scheduled.
        message: The service's message.
        base_url: The server; the link points there.
    """

    mailing_id: int | None
    contacts_scheduled_count: int
    duplicate_contacts_count: int
    scheduled_third_party_contact_ids: list[str]
    message: str
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str | None:
        """The link to the mailing inside of AMcards.com, if one was made."""
        if self.mailing_id is None:
            return None
        return _link(
            self.base_url, f"/cards/history/?mailing={self.mailing_id}"
        )

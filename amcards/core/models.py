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
    """Represents the status of an AMcards card.

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
    """Represents the status of an AMcards mailing."""

    COMPLETE = 0
    PROCESSING = 1


@attrs.frozen
class Gift:
    """Represents an AMcards gift offered with a template."""

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
    """A gift attached to a card that was sent."""

    name: str
    price: int
    shipping_and_handling: int = 0

    @property
    def total_cost(self) -> int:
        """Price plus shipping and handling, in cents."""
        return self.price + self.shipping_and_handling


@attrs.frozen
class Template:
    """Represents an AMcards template (or quicksend template)."""

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
    """Represents an AMcards drip campaign."""

    id: int
    name: str
    send_if_duplicate: bool
    has_anniversary_drip: bool = False
    has_birthday_drip: bool = False
    drip_count: int | None = None
    campaign_cost: int | None = None


@attrs.frozen
class User:
    """Represents an AMcards user."""

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
    """Represents an AMcards card."""

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
        """This is the link to edit the card inside of AMcards.com."""
        return _link(self.base_url, f"/cards/edit/{self.id}/")

    @property
    def cancel_link(self) -> str:
        """This is the link to cancel the card inside of AMcards.com."""
        return _link(self.base_url, f"/cards/cancel/{self.id}/")


@attrs.frozen
class Contact:
    """Represents an AMcards contact."""

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
    """Represents an AMcards mailing (a batch of cards sent together)."""

    id: int
    status: MailingStatus | None = None
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str:
        """This is the link to the mailing list inside of AMcards.com."""
        return _link(self.base_url, f"/cards/history/?mailing={self.id}")


@attrs.frozen
class CreditTransaction:
    """One movement of the user's credit balance (amounts in cents)."""

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
    """Represents AMcards' response for sending a single card."""

    card_id: int
    total_cost: int
    user_email: str
    message: str
    shipping_address: dict[str, str]
    base_url: str = DEFAULT_BASE_URL

    @property
    def edit_link(self) -> str:
        """This is the link to edit the card inside of AMcards.com."""
        return _link(self.base_url, f"/cards/edit/{self.card_id}/")

    @property
    def cancel_link(self) -> str:
        """This is the link to cancel the card inside of AMcards.com."""
        return _link(self.base_url, f"/cards/cancel/{self.card_id}/")


@attrs.frozen
class CardsResponse:
    """Represents AMcards' response for sending multiple cards."""

    mailing_id: int
    user_email: str
    message: str
    shipping_addresses: list[dict[str, str]]
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str:
        """This is the link to the mailing list inside of AMcards.com."""
        return _link(
            self.base_url, f"/cards/history/?mailing={self.mailing_id}"
        )


@attrs.frozen
class CampaignResponse:
    """Represents AMcards' response for sending a single drip campaign."""

    mailing_id: int
    card_ids: list[int]
    user_email: str
    message: str
    shipping_address: dict[str, str]
    base_url: str = DEFAULT_BASE_URL

    @property
    def mailing_link(self) -> str:
        """This is the link to the mailing list inside of AMcards.com."""
        return _link(
            self.base_url, f"/cards/history/?mailing={self.mailing_id}"
        )


@attrs.frozen
class CampaignMultiResponse:
    """AMcards' response for sending a drip campaign to many contacts."""

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

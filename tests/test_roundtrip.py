"""Round trips: a model written as the service sends it parses back to it,
and a model turned into plain values by the converter comes back equal.

The renderer here is written from the HTTP contract alone and shares no
code with the parsers, so a wrong key on either side shows up.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards.core import parsers
from amcards.core.convert import (
    from_plain,
    get_converter,
    make_converter,
    to_plain,
)
from amcards.core.http import Response
from amcards.core.models import (
    Campaign,
    CampaignMultiResponse,
    CampaignResponse,
    Card,
    CardGift,
    CardResponse,
    CardsResponse,
    CardStatus,
    Contact,
    CreditTransaction,
    Gift,
    Mailing,
    MailingStatus,
    Template,
    User,
)

BASE = "http://127.0.0.1:8765"
T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[Any]], Any]

# Strategies for the models -------------------------------------------------

ids = st.integers(min_value=1, max_value=2**53)
cents = st.integers(min_value=0, max_value=10**9)
texts = st.text(max_size=30)
some_texts = st.text(min_size=1, max_size=30)
optional_texts = st.none() | some_texts
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
zones: st.SearchStrategy[Any] = st.none() | st.just(dt.timezone.utc) | offsets
timestamps = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2100, 12, 31),
    timezones=zones,
)
optional_timestamps = st.none() | timestamps
dates = st.dates(min_value=dt.date(2000, 1, 1)).map(dt.date.isoformat)
string_maps = st.dictionaries(texts, texts, max_size=4)

gifts = st.builds(
    Gift,
    name=texts,
    thumbnail=texts,
    base_cost=cents,
    shipping_and_handling_cost=cents,
)
templates = st.builds(
    Template,
    id=ids,
    name=texts,
    message=texts,
    thumbnail=texts,
    gifts=st.lists(gifts, max_size=3),
)
campaigns = st.builds(
    Campaign,
    id=ids,
    name=texts,
    send_if_duplicate=st.booleans(),
    has_anniversary_drip=st.booleans(),
    has_birthday_drip=st.booleans(),
    drip_count=st.none() | st.integers(min_value=0, max_value=50),
    campaign_cost=st.none() | cents,
)
users = st.builds(
    User,
    id=ids,
    first_name=texts,
    last_name=texts,
    credits=st.integers(min_value=-(10**6), max_value=10**9),
    email=texts,
    date_joined=optional_timestamps,
    address_line_1=texts,
    city=texts,
    state=texts,
    postal_code=texts,
    country=texts,
    domestic_postage_cost=cents,
    international_postage_cost=cents,
    domestic_postage_countries=st.sets(
        st.text(min_size=2, max_size=2), max_size=4
    ),
    greeting_card_cost=cents,
    phone=optional_texts,
    address_line_2=optional_texts,
    monthly_report_emails=st.none()
    | st.booleans()
    | st.lists(texts, max_size=2),
)


@st.composite
def card_statuses(draw: Draw) -> tuple[CardStatus, int]:
    known = [status for status in CardStatus if status.value >= 0]
    unknown_code = st.integers(min_value=-100, max_value=10_000).filter(
        lambda code: code not in {status.value for status in known}
    )
    if draw(st.booleans()):
        status = draw(st.sampled_from(known))
        return status, status.value
    return CardStatus.UNKNOWN, draw(unknown_code)


@st.composite
def shipping_addresses(draw: Draw) -> dict[str, str]:
    address = {
        key: draw(texts)
        for key in (
            "first_name",
            "last_name",
            "address_line_1",
            "city",
            "state",
            "postal_code",
        )
    }
    if draw(st.booleans()):
        address["country"] = draw(texts)
    for key in ("organization", "third_party_contact_id", "address_line_2"):
        if draw(st.booleans()):
            address[key] = draw(some_texts)
    return address


return_addresses = st.dictionaries(
    st.sampled_from(
        [
            "first_name",
            "last_name",
            "address_line_1",
            "city",
            "state",
            "postal_code",
            "country",
        ]
    ),
    some_texts,
)


@st.composite
def cards(draw: Draw) -> Card:
    status, code = draw(card_statuses())
    return Card(
        id=draw(ids),
        amount_charged=draw(st.integers(min_value=0, max_value=9_999_999)),
        status=status,
        initiator=draw(texts),
        send_date=draw(dates),
        date_created=draw(optional_timestamps),
        date_last_modified=draw(optional_timestamps),
        date_fulfilled=draw(optional_timestamps),
        is_international=draw(st.booleans()),
        template_name=draw(texts),
        thumbnail=draw(texts),
        campaign_id=draw(st.none() | ids),
        shipping_address=draw(shipping_addresses()),
        return_address=draw(return_addresses),
        status_code=code,
        total_amount_charged_cents=draw(st.none() | cents),
        gifts=draw(
            st.lists(st.builds(CardGift, texts, cents, cents), max_size=3)
        ),
        extra_data=draw(string_maps),
        base_url=BASE,
    )


contacts = st.builds(
    Contact,
    id=ids,
    date_created=optional_timestamps,
    date_last_modified=optional_timestamps,
    date_last_card_send=optional_timestamps,
    notes=optional_texts,
    email=optional_texts,
    first_name=texts,
    last_name=texts,
    address_line_1=texts,
    city=texts,
    state=texts,
    postal_code=texts,
    country=optional_texts,
    organization=optional_texts,
    phone=optional_texts,
    birth_year=optional_texts,
    birth_month=optional_texts,
    birth_day=optional_texts,
    anniversary_year=optional_texts,
    anniversary_month=optional_texts,
    anniversary_day=optional_texts,
)
mailings = st.builds(
    Mailing,
    id=ids,
    status=st.none() | st.sampled_from(MailingStatus),
    base_url=st.just(BASE),
)
optional_ints = st.none() | st.integers(min_value=-(10**9), max_value=10**9)
credit_transactions = st.builds(
    CreditTransaction,
    id=ids,
    wallet_id=st.none() | ids,
    grant_volume=optional_ints,
    before_int=optional_ints,
    after_int=optional_ints,
    amount_paid_int=optional_ints,
    amount_int=optional_ints,
    description=texts,
    credit_card_details=texts,
    date_time=optional_timestamps,
)


# The renderer: a model as the service writes it ------------------------------


class Renderer:
    """Writes models in the wire format, choosing among its variations."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw

    def id(self, value: int) -> int | str:
        """Ids sometimes arrive as strings."""
        return str(value) if self.draw(st.booleans()) else value

    def timestamp(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return self.none()
        separator = self.draw(st.sampled_from(["T", " ", ""]))
        text = (
            f"{value.year:04d}-{value.month:02d}-{value.day:02d}{separator}"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        )
        if value.microsecond or self.draw(st.booleans()):
            text += f".{value.microsecond:06d}"
        offset = value.utcoffset()
        if offset is None:
            return text
        if not offset and self.draw(st.booleans()):
            return text + "Z"
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, minutes = divmod(abs(minutes), 60)
        return f"{text}{sign}{hours:02d}:{minutes:02d}"

    def none(self) -> str | None:
        """Nothing, written as null or as an empty string."""
        written: str | None = self.draw(st.sampled_from([None, ""]))
        return written

    def optional_text(self, value: str | None) -> str | None:
        """Contacts write "none" as an empty string, or null."""
        if value is None:
            return self.none()
        return value

    def user(self, user: User) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "resource_uri": f"/.api/v1/user/{user.id}/",
            "first_name": user.first_name,
            "last_name": user.last_name,
            "credits": user.credits,
            "email": user.email,
            "date_joined": self.timestamp(user.date_joined),
            "address_line_1": user.address_line_1,
            "city": user.city,
            "state": user.state,
            "postal": user.postal_code,
            "country": user.country,
            "postage": {
                "domestic_cost": user.domestic_postage_cost,
                "international_cost": user.international_postage_cost,
                "domestic_countries": list(user.domestic_postage_countries),
            },
            "product_pricing_info": {
                "5x7greetingcard": user.greeting_card_cost,
                "4x6postcard": 99,
            },
            "monthly_report_emails": user.monthly_report_emails,
        }
        if user.phone is not None:
            wire["phone"] = user.phone
        if user.address_line_2 is not None:
            wire["address_line_2"] = user.address_line_2
        return wire

    def template(self, template: Template) -> dict[str, Any]:
        return {
            "id": self.id(template.id),
            "name": template.name,
            "has_message_on_default_panel": template.message,
            "thumbnail": template.thumbnail,
            "gifts": [
                {
                    "gift_name": gift.name,
                    "image": gift.thumbnail,
                    "price": gift.base_cost,
                    "shipping_and_handling": gift.shipping_and_handling_cost,
                }
                for gift in template.gifts
            ],
        }

    def campaign(self, campaign: Campaign) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id(campaign.id),
            "title": campaign.name,
            "send_even_if_duplicate": campaign.send_if_duplicate,
            "has_anniversary_drip": campaign.has_anniversary_drip,
            "has_birthday_drip": campaign.has_birthday_drip,
        }
        for key in ("drip_count", "campaign_cost"):
            value = getattr(campaign, key)
            if value is not None or self.draw(st.booleans()):
                wire[key] = value
        return wire

    def card(self, card: Card) -> dict[str, Any]:
        ship = card.shipping_address
        back = card.return_address
        wire: dict[str, Any] = {
            "id": self.id(card.id),
            "amount_charged": card.amount_charged / 100,
            "status": card.status_code,
            "initiator": card.initiator,
            "send_date": card.send_date,
            "created": self.timestamp(card.date_created),
            "last_modified": self.timestamp(card.date_last_modified),
            "fulfilled": self.timestamp(card.date_fulfilled),
            "is_international": card.is_international,
            "template_name": card.template_name,
            "thumbnail": card.thumbnail,
            "campaign_pk": card.campaign_id,
            "ship_to_first_name": ship["first_name"],
            "ship_to_last_name": ship["last_name"],
            "ship_to_line_1": ship["address_line_1"],
            "ship_to_city": ship["city"],
            "ship_to_state": ship["state"],
            "ship_to_postal": ship["postal_code"],
            "ship_to_country": ship.get("country"),
            "ship_to_organization": ship.get("organization", ""),
            "third_party_contact_id": ship.get("third_party_contact_id", ""),
            "gifts": [
                {
                    "name": gift.name,
                    "price": gift.price,
                    "shipping_and_handling": gift.shipping_and_handling,
                }
                for gift in card.gifts
            ],
            "extra_data": self.extra_data(card.extra_data),
        }
        if "address_line_2" in ship:
            wire["ship_to_line_2"] = ship["address_line_2"]
        for name, key in (
            ("first_name", "return_to_first_name"),
            ("last_name", "return_to_last_name"),
            ("address_line_1", "return_to_line_1"),
            ("city", "return_to_city"),
            ("state", "return_to_state"),
            ("postal_code", "return_to_postal"),
            ("country", "return_to_country"),
        ):
            wire[key] = back.get(name, "")
        if card.total_amount_charged_cents is not None:
            wire["total_amount_charged_cents"] = (
                card.total_amount_charged_cents
            )
        return wire

    def extra_data(self, data: dict[str, str]) -> Any:
        """A Python literal as the service stores it, or a JSON object."""
        if not data and self.draw(st.booleans()):
            return ""
        if self.draw(st.booleans()):
            return dict(data)
        return repr(data)

    def contact(self, contact: Contact) -> dict[str, Any]:
        text = self.optional_text
        return {
            "id": self.id(contact.id),
            "added": self.timestamp(contact.date_created),
            "updated": self.timestamp(contact.date_last_modified),
            "last_card_send_date": self.timestamp(contact.date_last_card_send),
            "notes": text(contact.notes),
            "email_address": text(contact.email),
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "address_line_1": contact.address_line_1,
            "city": contact.city,
            "state": contact.state,
            "postal_code": contact.postal_code,
            "country": text(contact.country),
            "organization": text(contact.organization),
            "phone_number": text(contact.phone),
            "birth_year": text(contact.birth_year),
            "birth_month": text(contact.birth_month),
            "birth_day": text(contact.birth_day),
            "anniversary_year": text(contact.anniversary_year),
            "anniversary_month": text(contact.anniversary_month),
            "anniversary_day": text(contact.anniversary_day),
        }

    def mailing(self, mailing: Mailing) -> dict[str, Any]:
        wire: dict[str, Any] = {"id": self.id(mailing.id)}
        if mailing.status is not None:
            wire["status"] = mailing.status.value
        return wire

    def credit_transaction(self, move: CreditTransaction) -> dict[str, Any]:
        return {
            "id": self.id(move.id),
            "wallet_id": move.wallet_id,
            "grant_volume": move.grant_volume,
            "before_int": move.before_int,
            "after_int": move.after_int,
            "amount_paid_int": move.amount_paid_int,
            "amount_int": move.amount_int,
            "description": move.description,
            "credit_card_details": move.credit_card_details,
            "date_time": self.timestamp(move.date_time),
        }


def answer(body: Any) -> Response:
    return Response(200, (), json.dumps(body).encode())


def listing(objects: list[Any]) -> dict[str, Any]:
    return {
        "meta": {
            "limit": 25,
            "offset": 0,
            "total_count": len(objects),
            "next": None,
            "previous": None,
        },
        "objects": objects,
    }


def _offsets(model: Any) -> list[Any]:
    """Every datetime's UTC offset: == on aware datetimes ignores them."""
    return [
        value.utcoffset()
        for value in attrs.astuple(model, recurse=False)
        if isinstance(value, dt.datetime)
    ]


# Wire round trips ---------------------------------------------------------


@given(users, st.data())
def test_a_user_written_as_the_service_sends_it_parses_back(
    user: User, data: st.DataObject
) -> None:
    wire = Renderer(data.draw).user(user)
    parsed = parsers.parse_user(answer(listing([wire])), BASE)
    assert parsed == user
    assert _offsets(parsed) == _offsets(user)


@given(st.lists(templates, max_size=3), st.data())
def test_templates_with_gifts_parse_back(
    models: list[Template], data: st.DataObject
) -> None:
    render = Renderer(data.draw)
    body = listing([render.template(model) for model in models])
    assert parsers.parse_templates(answer(body)) == models
    assert parsers.parse_templates(answer(body), "quicksends") == models


@given(templates, st.data())
def test_a_template_parses_back(
    template: Template, data: st.DataObject
) -> None:
    wire = Renderer(data.draw).template(template)
    assert parsers.parse_template(answer(wire)) == template
    assert parsers.parse_template(answer(wire), "quicksend") == template


@given(st.lists(campaigns, max_size=3), st.data())
def test_campaigns_parse_back(
    models: list[Campaign], data: st.DataObject
) -> None:
    render = Renderer(data.draw)
    body = listing([render.campaign(model) for model in models])
    assert parsers.parse_campaigns(answer(body)) == models
    for model, wire in zip(models, body["objects"], strict=True):
        assert parsers.parse_campaign(answer(wire)) == model


@given(st.lists(cards(), max_size=3), st.data())
def test_cards_parse_back(models: list[Card], data: st.DataObject) -> None:
    """Dollars, addresses, statuses, gifts and extra data all survive."""
    render = Renderer(data.draw)
    body = listing([render.card(model) for model in models])
    parsed = parsers.parse_cards(answer(body), BASE)
    assert parsed == models
    for model, wire in zip(models, body["objects"], strict=True):
        one = parsers.parse_card(answer(wire), BASE)
        assert one == model
        assert _offsets(one) == _offsets(model)


@given(st.lists(contacts, max_size=3), st.data())
def test_contacts_parse_back(
    models: list[Contact], data: st.DataObject
) -> None:
    render = Renderer(data.draw)
    body = listing([render.contact(model) for model in models])
    assert parsers.parse_contacts(answer(body)) == models
    for model, wire in zip(models, body["objects"], strict=True):
        one = parsers.parse_contact(answer(wire))
        assert one == model
        assert _offsets(one) == _offsets(model)


@given(mailings, st.data())
def test_a_mailing_parses_back(mailing: Mailing, data: st.DataObject) -> None:
    wire = Renderer(data.draw).mailing(mailing)
    assert parsers.parse_mailing(answer(wire), BASE) == mailing


@given(st.lists(credit_transactions, max_size=3), st.data())
def test_credit_transactions_parse_back(
    models: list[CreditTransaction], data: st.DataObject
) -> None:
    render = Renderer(data.draw)
    body = listing([render.credit_transaction(model) for model in models])
    assert parsers.parse_credit_transactions(answer(body)) == models


@given(st.integers(min_value=0, max_value=10**6), st.data())
def test_counts_parse_back(count: int, data: st.DataObject) -> None:
    body = {"meta": {"total_count": Renderer(data.draw).id(count)}}
    assert parsers.parse_count(answer(body), "card_count") == count


# Converter round trips -----------------------------------------------------

responses = st.one_of(
    st.builds(
        CardResponse,
        ids,
        cents,
        texts,
        texts,
        shipping_addresses(),
        st.just(BASE),
    ),
    st.builds(
        CardsResponse,
        ids,
        texts,
        texts,
        st.lists(shipping_addresses(), max_size=2),
    ),
    st.builds(
        CampaignResponse,
        ids,
        st.lists(ids, max_size=3),
        texts,
        texts,
        shipping_addresses(),
    ),
    st.builds(
        CampaignMultiResponse,
        st.none() | ids,
        cents,
        cents,
        st.lists(texts, max_size=3),
        texts,
    ),
)
any_model = st.one_of(
    users,
    templates,
    campaigns,
    cards(),
    contacts,
    mailings,
    credit_transactions,
    responses,
)


@given(any_model)
def test_every_model_survives_plain_values_and_json(model: Any) -> None:
    """to_plain gives JSON-ready values; from_plain rebuilds the model."""
    plain = json.loads(json.dumps(to_plain(model)))
    rebuilt = from_plain(plain, type(model))
    assert rebuilt == model
    assert _offsets(rebuilt) == _offsets(model)


@given(st.lists(cards(), max_size=3))
def test_a_list_of_cards_survives_the_converter(models: list[Card]) -> None:
    plain = json.loads(json.dumps(to_plain(models)))
    assert from_plain(plain, list[Card]) == models


def test_plain_values_use_iso_strings_enum_values_and_sorted_lists() -> None:
    user = User(
        1,
        "A",
        "B",
        0,
        "a@example.com",
        dt.datetime(2023, 1, 5, 10, 20, 30, tzinfo=dt.timezone.utc),
        "1 Main St",
        "Springfield",
        "IL",
        "62701",
        "US",
        66,
        150,
        {"US", "PR", "CA"},
        376,
    )
    plain = to_plain(user)
    assert plain["date_joined"] == "2023-01-05T10:20:30+00:00"
    assert plain["domestic_postage_countries"] == ["CA", "PR", "US"]
    assert to_plain(Mailing(3, MailingStatus.PROCESSING))["status"] == 1


def test_the_converter_is_the_package_s_own() -> None:
    """make_converter builds a fresh one; get_converter keeps one."""
    assert make_converter() is not make_converter()
    assert get_converter() is get_converter()
    assert get_converter() is not cattrs.global_converter


def test_a_bad_plain_value_raises_the_converter_s_error() -> None:
    plain = to_plain(Mailing(3))
    plain["id"] = "three"
    with pytest.raises(cattrs.BaseValidationError):
        from_plain(plain, Mailing)

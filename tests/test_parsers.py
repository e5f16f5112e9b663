"""Tests for amcards.core.parsers: statuses to errors, bodies to models."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards.core import errors, parsers
from amcards.core.errors import (
    AMcardsException,
    AuthenticationError,
    BadRequestError,
    CampaignSendError,
    CardSendError,
    CardsSendError,
    ContactCreateError,
    DuplicateCampaignError,
    ForbiddenCampaignError,
    ForbiddenCardError,
    ForbiddenContactError,
    ForbiddenMailingError,
    ForbiddenTemplateError,
    InsufficientCreditsError,
    OAuthTokenRefreshError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
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
from amcards.core.parsers import ENDPOINTS, TokenSet, error_for_response

BASE = "http://127.0.0.1:8000"
ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}


def ok(body: Any, status: int = 200) -> Response:
    return Response(
        status, (("Content-Type", "application/json"),), _raw(body)
    )


def _raw(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def listing(*objects: Any) -> dict[str, Any]:
    return {
        "meta": {
            "limit": 25,
            "offset": 0,
            "total_count": len(objects),
            "next": None,
            "previous": None,
        },
        "objects": list(objects),
    }


# Bodies as the service sends them ----------------------------------------


def user_wire(**changes: Any) -> dict[str, Any]:
    wire = {
        "resource_uri": "/.api/v1/user/77/",
        "first_name": "Ann",
        "last_name": "Lee",
        "credits": 10_000,
        "email": "ann@example.com",
        "phone": "5555550100",
        "date_joined": "2020-02-03T04:05:06",
        "address_line_1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal": "62701",
        "country": "US",
        "postage": {
            "domestic_cost": 66,
            "international_cost": 150,
            "domestic_countries": ["US", "PR"],
        },
        "product_pricing_info": {"5x7greetingcard": 376},
        "monthly_report_emails": None,
    }
    wire.update(changes)
    return wire


USER = User(
    id=77,
    first_name="Ann",
    last_name="Lee",
    credits=10_000,
    email="ann@example.com",
    date_joined=dt.datetime(2020, 2, 3, 4, 5, 6),
    address_line_1="1 Main St",
    city="Springfield",
    state="IL",
    postal_code="62701",
    country="US",
    domestic_postage_cost=66,
    international_postage_cost=150,
    domestic_postage_countries={"US", "PR"},
    greeting_card_cost=376,
    phone="5555550100",
)


def template_wire(**changes: Any) -> dict[str, Any]:
    wire = {
        "id": 5,
        "name": "Thank you",
        "has_message_on_default_panel": "Thanks!",
        "thumbnail": "https://img.example/t5.png",
        "gifts": [
            {
                "gift_name": "Cookies",
                "image": "https://img.example/g.png",
                "price": 1200,
                "shipping_and_handling": 300,
            }
        ],
    }
    wire.update(changes)
    return wire


TEMPLATE = Template(
    5,
    "Thank you",
    "Thanks!",
    "https://img.example/t5.png",
    [Gift("Cookies", "https://img.example/g.png", 1200, 300)],
)


def campaign_wire(**changes: Any) -> dict[str, Any]:
    wire = {
        "id": 9,
        "title": "Welcome",
        "send_even_if_duplicate": False,
        "has_anniversary_drip": True,
        "has_birthday_drip": False,
    }
    wire.update(changes)
    return wire


CAMPAIGN = Campaign(9, "Welcome", False, True, False)


def card_wire(**changes: Any) -> dict[str, Any]:
    wire = {
        "id": 1522873,
        "amount_charged": 4.42,
        "total_amount_charged_cents": 442,
        "status": 2,
        "initiator": "crm",
        "send_date": "2023-01-05",
        "created": "2023-01-05T10:20:30",
        "last_modified": "2023-01-05 10:20:31.5",
        "fulfilled": None,
        "is_international": False,
        "template_name": "Thank you",
        "thumbnail": "https://img.example/c.png",
        "campaign_pk": None,
        "ship_to_first_name": "Ralph",
        "ship_to_last_name": "Mullins",
        "ship_to_line_1": "2285 Reppert Road",
        "ship_to_city": "Southfield",
        "ship_to_state": "MI",
        "ship_to_postal": "48075",
        "ship_to_country": "US",
        "ship_to_organization": "",
        "third_party_contact_id": "",
        "return_to_first_name": "Ann",
        "return_to_last_name": "",
        "return_to_line_1": "1 Main St",
        "return_to_city": "Springfield",
        "return_to_state": "IL",
        "return_to_postal": "62701",
        "return_to_country": "US",
        "gifts": [],
        "extra_data": "",
    }
    wire.update(changes)
    return wire


def card_model(**changes: Any) -> Card:
    model = Card(
        id=1522873,
        amount_charged=442,
        status=CardStatus.IN_THE_MAIL,
        initiator="crm",
        send_date="2023-01-05",
        date_created=dt.datetime(2023, 1, 5, 10, 20, 30),
        date_last_modified=dt.datetime(2023, 1, 5, 10, 20, 31, 500000),
        date_fulfilled=None,
        is_international=False,
        template_name="Thank you",
        thumbnail="https://img.example/c.png",
        campaign_id=None,
        shipping_address=dict(ADDRESS),
        return_address={
            "first_name": "Ann",
            "address_line_1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        status_code=2,
        total_amount_charged_cents=442,
        base_url=BASE,
    )
    return attrs.evolve(model, **changes)


def contact_wire(**changes: Any) -> dict[str, Any]:
    wire = {
        "id": "31",
        "added": "2022-12-01T08:00:00",
        "updated": None,
        "last_card_send_date": "",
        "notes": "",
        "email_address": "ralph@example.com",
        "first_name": "Ralph",
        "last_name": "Mullins",
        "address_line_1": "2285 Reppert Road",
        "city": "Southfield",
        "state": "MI",
        "postal_code": "48075",
        "country": "US",
        "organization": "",
        "phone_number": "",
        "birth_year": "1970",
        "birth_month": "04",
        "birth_day": "09",
        "anniversary_year": "",
        "anniversary_month": "",
        "anniversary_day": "",
    }
    wire.update(changes)
    return wire


CONTACT = Contact(
    id=31,
    date_created=dt.datetime(2022, 12, 1, 8),
    date_last_modified=None,
    date_last_card_send=None,
    notes=None,
    email="ralph@example.com",
    first_name="Ralph",
    last_name="Mullins",
    address_line_1="2285 Reppert Road",
    city="Southfield",
    state="MI",
    postal_code="48075",
    country="US",
    organization=None,
    phone=None,
    birth_year="1970",
    birth_month="04",
    birth_day="09",
    anniversary_year=None,
    anniversary_month=None,
    anniversary_day=None,
)


def credit_wire(**changes: Any) -> dict[str, Any]:
    wire = {
        "id": 4,
        "wallet_id": 8,
        "grant_volume": None,
        "before_int": 1000,
        "after_int": 558,
        "amount_paid_int": 0,
        "amount_int": -442,
        "description": "Card 1522873",
        "credit_card_details": "",
        "date_time": "2023-01-05T10:20:30+00:00",
    }
    wire.update(changes)
    return wire


CREDIT = CreditTransaction(
    4,
    8,
    None,
    1000,
    558,
    0,
    -442,
    "Card 1522873",
    "",
    dt.datetime(2023, 1, 5, 10, 20, 30, tzinfo=dt.timezone.utc),
)


# Successful answers, per endpoint ----------------------------------------

Parse = Callable[[Response], Any]

SUCCESS_CASES: list[tuple[str, Parse, Any, Any]] = [
    ("user", parsers.parse_user, listing(user_wire()), USER),
    (
        "templates",
        parsers.parse_templates,
        listing(template_wire(), template_wire(id="6", gifts=[])),
        [TEMPLATE, Template(6, "Thank you", "Thanks!", TEMPLATE.thumbnail)],
    ),
    ("template", parsers.parse_template, template_wire(), TEMPLATE),
    (
        "quicksends",
        lambda r: parsers.parse_templates(r, endpoint="quicksends"),
        listing(template_wire()),
        [TEMPLATE],
    ),
    (
        "quicksend",
        lambda r: parsers.parse_template(r, endpoint="quicksend"),
        template_wire(gifts=None),
        Template(5, "Thank you", "Thanks!", TEMPLATE.thumbnail),
    ),
    (
        "campaigns",
        parsers.parse_campaigns,
        listing(campaign_wire(drip_count=3, campaign_cost="884")),
        [Campaign(9, "Welcome", False, True, False, 3, 884)],
    ),
    ("campaign", parsers.parse_campaign, campaign_wire(), CAMPAIGN),
    (
        "campaign with the old keys only",
        parsers.parse_campaign,
        {"id": 9, "title": "Welcome", "send_even_if_duplicate": "true"},
        Campaign(9, "Welcome", True),
    ),
    (
        "cards",
        lambda r: parsers.parse_cards(r, BASE),
        listing(card_wire()),
        [card_model()],
    ),
    (
        "card",
        lambda r: parsers.parse_card(r, BASE),
        card_wire(),
        card_model(),
    ),
    (
        "card of a campaign with gifts and extra data",
        lambda r: parsers.parse_card(r, BASE),
        card_wire(
            campaign_pk="12",
            fulfilled="2023-01-07T09:00:00Z",
            ship_to_organization="Google",
            third_party_contact_id="crm-7",
            ship_to_country=None,
            gifts=[{"name": "Cookies", "price": 1200}],
            extra_data="{'carMake': 'Honda'}",
            total_amount_charged_cents=None,
        ),
        card_model(
            campaign_id=12,
            date_fulfilled=dt.datetime(2023, 1, 7, 9, tzinfo=dt.timezone.utc),
            shipping_address={
                **{k: v for k, v in ADDRESS.items() if k != "country"},
                "organization": "Google",
                "third_party_contact_id": "crm-7",
            },
            gifts=[CardGift("Cookies", 1200, 0)],
            extra_data={"carMake": "Honda"},
            total_amount_charged_cents=None,
        ),
    ),
    (
        "card_count",
        lambda r: parsers.parse_count(r, "card_count"),
        {"meta": {"total_count": 42}, "objects": [card_wire()]},
        42,
    ),
    (
        "credit_transaction_count",
        lambda r: parsers.parse_count(r, "credit_transaction_count"),
        {"meta": {"total_count": "7"}, "objects": []},
        7,
    ),
    ("contacts", parsers.parse_contacts, listing(contact_wire()), [CONTACT]),
    ("contact", parsers.parse_contact, contact_wire(), CONTACT),
    (
        "mailing",
        lambda r: parsers.parse_mailing(r, BASE),
        {"id": 29694, "status": 0},
        Mailing(29694, MailingStatus.COMPLETE, BASE),
    ),
    (
        "mailing with a status this client does not know",
        lambda r: parsers.parse_mailing(r, BASE),
        {"id": "29694", "status": 7},
        Mailing(29694, None, BASE),
    ),
    (
        "credit_transactions",
        parsers.parse_credit_transactions,
        listing(credit_wire()),
        [CREDIT],
    ),
    (
        "send_card",
        lambda r: parsers.parse_send_card(r, ADDRESS, BASE),
        {
            "card": 1522873,
            "total_cost": 442,
            "user": "ann@example.com",
            "message": "Card created successfully!",
        },
        CardResponse(
            1522873,
            442,
            "ann@example.com",
            "Card created successfully!",
            dict(ADDRESS),
            BASE,
        ),
    ),
    (
        "send_cards",
        lambda r: parsers.parse_send_cards(r, [ADDRESS], BASE),
        {
            "mailing_uri": "/.api/v1/mailing/29694/",
            "user": "ann@example.com",
            "message": "Check the mailing.",
        },
        CardsResponse(
            29694, "ann@example.com", "Check the mailing.", [ADDRESS], BASE
        ),
    ),
    (
        "campaign_cost",
        parsers.parse_campaign_cost,
        {"pricing": {"total_cost": 884}},
        884,
    ),
    (
        "send_campaign",
        lambda r: parsers.parse_send_campaign(r, ADDRESS, BASE),
        {
            "mailing": 29693,
            "cards": [1528871, "1528872"],
            "user": "ann@example.com",
            "message": "Scheduled.",
        },
        CampaignResponse(
            29693,
            [1528871, 1528872],
            "ann@example.com",
            "Scheduled.",
            dict(ADDRESS),
            BASE,
        ),
    ),
    (
        "send_campaign_multi",
        lambda r: parsers.parse_send_campaign_multi(r, BASE),
        {
            "mailing_id": 29695,
            "contacts_scheduled_count": 2,
            "duplicate_contacts_count": 1,
            "contacts_scheduled_third_party_contact_ids": ["a", "b"],
            "message": "Scheduled.",
        },
        CampaignMultiResponse(29695, 2, 1, ["a", "b"], "Scheduled.", BASE),
    ),
    (
        "send_campaign_multi with no mailing made",
        lambda r: parsers.parse_send_campaign_multi(r, BASE),
        {
            "mailing_id": None,
            "contacts_scheduled_count": 0,
            "duplicate_contacts_count": 2,
            "contacts_scheduled_third_party_contact_ids": [],
            "message": "All duplicates.",
        },
        CampaignMultiResponse(None, 0, 2, [], "All duplicates.", BASE),
    ),
    (
        "refresh_token",
        parsers.parse_token,
        {"access_token": "a1", "refresh_token": "r1", "expires_in": 36000},
        TokenSet("a1", "r1", 36000),
    ),
]


@pytest.mark.parametrize(
    ("case", "parse", "body", "expected"),
    SUCCESS_CASES,
    ids=[case[0] for case in SUCCESS_CASES],
)
def test_a_successful_answer_reads_into_the_model(
    case: str, parse: Parse, body: Any, expected: Any
) -> None:
    assert parse(ok(body)) == expected


def test_links_on_parsed_models_follow_the_base_url() -> None:
    """Card and mailing links are built from the server they came from."""
    card = parsers.parse_card(ok(card_wire()), BASE)
    mailing = parsers.parse_mailing(ok({"id": 3}), BASE)
    assert card.edit_link == f"{BASE}/cards/edit/1522873/"
    assert mailing.mailing_link == f"{BASE}/cards/history/?mailing=3"


def test_parsers_default_to_the_public_base_url() -> None:
    card = parsers.parse_card(ok(card_wire()))
    assert card.cancel_link == "https://amcards.com/cards/cancel/1522873/"


@pytest.mark.parametrize(
    ("parse", "status", "body"),
    [
        (parsers.parse_create_contact, 201, b""),
        (parsers.parse_create_contact, 201, b'{"id": 4}'),
        (parsers.parse_create_contact, 200, b"not json"),
        (parsers.parse_delete_contact, 204, b""),
        (parsers.parse_delete_contact, 200, b""),
    ],
)
def test_contact_writes_succeed_on_any_2xx_whatever_the_body(
    parse: Parse, status: int, body: bytes
) -> None:
    assert parse(Response(status, (), body)) is None


def test_user_reads_the_optional_keys_when_present() -> None:
    wire = user_wire(address_line_2="Suite 4", monthly_report_emails=["x"])
    user = parsers.parse_user(ok(listing(wire)))
    assert user.address_line_2 == "Suite 4"
    assert user.monthly_report_emails == ["x"]


def test_user_tolerates_absent_optional_keys() -> None:
    wire = user_wire()
    for key in ("phone", "monthly_report_emails", "date_joined"):
        del wire[key]
    user = parsers.parse_user(ok(listing(wire)))
    assert (user.phone, user.date_joined, user.address_line_2) == (
        None,
        None,
        None,
    )


def test_user_listing_with_no_user_names_objects() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parsers.parse_user(ok(listing()))
    assert (caught.value.endpoint, caught.value.key) == ("user", "objects")


def test_contact_empty_strings_mean_none_and_numbers_become_text() -> None:
    wire = contact_wire(
        country="", email_address=None, birth_year=1970, postal_code=48075
    )
    del wire["notes"]
    contact = parsers.parse_contact(ok(wire))
    assert contact.country is None
    assert contact.email is None
    assert contact.notes is None
    assert contact.birth_year == "1970"
    assert contact.postal_code == "48075"


def test_card_return_address_keeps_only_what_was_given() -> None:
    blank = {key: "" for key in card_wire() if key.startswith("return_to_")}
    card = parsers.parse_card(ok(card_wire(**blank)))
    assert card.return_address == {}


def test_card_reads_a_second_address_line_when_the_service_sends_one() -> None:
    card = parsers.parse_card(
        ok(card_wire(ship_to_line_2="Apt 2", return_to_line_2="Unit 9"))
    )
    assert card.shipping_address["address_line_2"] == "Apt 2"
    assert card.return_address["address_line_2"] == "Unit 9"


def test_card_third_party_contact_id_reaches_the_model_property() -> None:
    card = parsers.parse_card(ok(card_wire(third_party_contact_id="crm-1")))
    assert card.third_party_contact_id == "crm-1"
    assert parsers.parse_card(ok(card_wire())).third_party_contact_id is None


# Ids, flags and money in the shapes the service varies ---------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(12, 12), ("12", 12), (" 12 ", 12), (12.0, 12)]
)
def test_ids_may_arrive_as_strings(value: Any, expected: int) -> None:
    assert parsers.parse_contact(ok(contact_wire(id=value))).id == expected


@pytest.mark.parametrize("value", ["twelve", "12.5", 12.5, True, None, [12]])
def test_an_id_that_is_not_an_integer_is_named(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parsers.parse_contact(ok(contact_wire(id=value)))
    assert caught.value.key == "id"
    assert caught.value.endpoint == "contact"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("False", False),
    ],
)
def test_flags_accept_booleans_digits_and_words(
    value: Any, expected: bool
) -> None:
    card = parsers.parse_card(ok(card_wire(is_international=value)))
    assert card.is_international is expected


@pytest.mark.parametrize(
    ("dollars", "cents"),
    [
        (4.35, 435),
        (0.0, 0),
        (0.01, 1),
        (0.29, 29),
        (1.15, 115),
        (8.84, 884),
        (99999.99, 9_999_999),
        (4, 400),
        ("4.35", 435),
        ("0.285", 28),
        (-4.42, -442),
    ],
)
def test_amount_charged_dollars_become_exact_cents(
    dollars: Any, cents: int
) -> None:
    card = parsers.parse_card(ok(card_wire(amount_charged=dollars)))
    assert card.amount_charged == cents


def _dollars(cents: int) -> float:
    """The float a JSON encoder writes for a two-decimal amount."""
    return float(f"{cents // 100}.{cents % 100:02d}")


@given(st.integers(min_value=0, max_value=9_999_999))
def test_every_two_decimal_amount_converts_to_the_exact_cents(
    cents: int,
) -> None:
    """0.00 to 99999.99 dollars, through JSON as a float, lose no cent."""
    body = json.dumps(card_wire(amount_charged=_dollars(cents)))
    assert parsers.parse_card(ok(body.encode())).amount_charged == cents


@pytest.mark.slow
def test_all_ten_million_two_decimal_amounts_convert_exactly() -> None:
    """The exhaustive version of the property above."""
    convert = parsers._dollars_to_cents
    for cents in range(10_000_000):
        assert convert({"a": _dollars(cents)}, "a") == cents, cents


@pytest.mark.parametrize(
    "value", [None, "four dollars", float("nan"), float("inf"), "NaN", []]
)
def test_an_amount_that_is_not_money_is_named(value: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parsers.parse_card(ok(card_wire(amount_charged=value)))
    assert caught.value.key == "amount_charged"


# Timestamps ---------------------------------------------------------------

UTC = dt.timezone.utc

TIMESTAMPS = [
    ("2023-01-05T10:20:30", dt.datetime(2023, 1, 5, 10, 20, 30)),
    (
        "2023-01-05T10:20:30.123456",
        dt.datetime(2023, 1, 5, 10, 20, 30, 123456),
    ),
    ("2023-01-05 10:20:30", dt.datetime(2023, 1, 5, 10, 20, 30)),
    (
        "2023-01-05 10:20:30.123456",
        dt.datetime(2023, 1, 5, 10, 20, 30, 123456),
    ),
    ("2023-01-0510:20:30", dt.datetime(2023, 1, 5, 10, 20, 30)),
    (
        "2023-01-0510:20:30.123456",
        dt.datetime(2023, 1, 5, 10, 20, 30, 123456),
    ),
    ("2023-01-05T10:20:30.5", dt.datetime(2023, 1, 5, 10, 20, 30, 500000)),
    ("2023-01-05T10:20", dt.datetime(2023, 1, 5, 10, 20)),
    ("2023-01-05", dt.datetime(2023, 1, 5)),
    ("2023-01-05T10:20:30Z", dt.datetime(2023, 1, 5, 10, 20, 30, tzinfo=UTC)),
    (
        "2023-01-05T10:20:30+00:00",
        dt.datetime(2023, 1, 5, 10, 20, 30, tzinfo=UTC),
    ),
    (
        "2023-01-05T10:20:30.123456-05:00",
        dt.datetime(
            2023,
            1,
            5,
            10,
            20,
            30,
            123456,
            tzinfo=dt.timezone(-dt.timedelta(hours=5)),
        ),
    ),
    (
        "2023-01-0510:20:30+0530",
        dt.datetime(
            2023,
            1,
            5,
            10,
            20,
            30,
            tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)),
        ),
    ),
    (None, None),
    ("", None),
]


@pytest.mark.parametrize(("wire", "expected"), TIMESTAMPS)
def test_every_timestamp_shape_reads(
    wire: str | None, expected: dt.datetime | None
) -> None:
    """Naive unless an offset is given; null and empty are None."""
    contact = parsers.parse_contact(ok(contact_wire(added=wire)))
    assert contact.date_created == expected
    if expected is not None:
        assert contact.date_created is not None
        assert contact.date_created.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "wire", [m[0] for m in TIMESTAMPS if m[0] and "+0530" not in m[0]]
)
def test_the_fallback_reader_agrees_with_fromisoformat(wire: str) -> None:
    """The reader used where fromisoformat knows fewer shapes (3.10)."""
    match = parsers._TIMESTAMP.fullmatch(wire)
    assert match is not None
    expected = dict(TIMESTAMPS)[wire]
    assert parsers._parse_timestamp(wire) == expected


@pytest.mark.parametrize(
    "wire", ["yesterday", "2023-13-05T10:20:30", "05/01/2023", 1672914030]
)
def test_a_timestamp_that_is_not_one_is_named(wire: Any) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parsers.parse_card(ok(card_wire(created=wire)))
    assert caught.value.key == "created"


# Card status --------------------------------------------------------------


@pytest.mark.parametrize("status", list(CardStatus)[1:])
def test_every_known_card_status_code_reads(status: CardStatus) -> None:
    card = parsers.parse_card(ok(card_wire(status=status.value)))
    assert (card.status, card.status_code) == (status, status.value)


def test_an_unknown_card_status_does_not_break_a_listing() -> None:
    """The status reads as UNKNOWN and the raw code is kept."""
    body = listing(card_wire(status=99), card_wire(status="4", id=2))
    cards = parsers.parse_cards(ok(body), BASE)
    assert (cards[0].status, cards[0].status_code) == (CardStatus.UNKNOWN, 99)
    assert (cards[1].status, cards[1].status_code) == (CardStatus.DELIVERED, 4)


# extra_data ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("", {}),
        (None, {}),
        ("{}", {}),
        ("{'carMake': 'Honda'}", {"carMake": "Honda"}),
        ("{'a': 'b', 'c': 'd',}", {"a": "b", "c": "d"}),
        ('{"it\'s": "ok"}', {"it's": "ok"}),
        ("{'quote': \"it's\"}", {"quote": "it's"}),
        ("{'a': 'line\\nbreak'}", {"a": "line\nbreak"}),
        ("{'a': 'caf\\xe9', 'b': '\\u2603'}", {"a": "caf\xe9", "b": "\u2603"}),
        ("{'a': 'back\\\\slash'}", {"a": "back\\slash"}),
        ('{"a": "caf\\u00e9"}', {"a": "caf\xe9"}),
        ('{"a": "x\\/y"}', {"a": "x/y"}),
        ("{'a': 'é', 'b': ''}", {"a": "é", "b": ""}),
        ("  {'a': 'b'}  ", {"a": "b"}),
        ({"a": "b"}, {"a": "b"}),
    ],
)
def test_extra_data_reads_python_literals_json_and_objects(
    wire: Any, expected: dict[str, str]
) -> None:
    card = parsers.parse_card(ok(card_wire(extra_data=wire)))
    assert card.extra_data == expected


HOSTILE_EXTRA_DATA = [
    "__import__('os').system('x')",
    "{'a': __import__('os').system('x')}",
    "{'a': (lambda: 1)()}",
    "{'a': f'{1+1}'}",
    "{'a': 'b' 'c'}",
    "{'a': b'bytes'}",
    "{'a': 1}",
    "{1: 'a'}",
    "{'a': None}",
    "{'a': ['b']}",
    "{'a': {'b': 'c'}}",
    "{**{'a': 'b'}}",
    "{'a'}",
    "['a', 'b']",
    "'just a string'",
    "42",
    "{'a': 'b'",
    "{'a': 'b'}}",
    "{'a': '\\d'}",
    "{'a': '\\N{NO SUCH NAME}'}",
    "{'a': 'x\\",
    "{" * 100_000,
    "{'a': " * 5000 + "'b'" + "}" * 5000,
    "[" * 50_000 + "]" * 50_000,
    "{'a': '" + "x" * 70_000 + "'}",
    "{'a':'b'" + " " * 60_000 + "x",
    '{"a": "\\ud800"}',
    "\x00",
    "{'a': '''b'''}",
    "{'a': 'b'} or 1",
    {"a": 1},
    {"a": None},
    ["a"],
    5,
    True,
]


@pytest.mark.parametrize("wire", HOSTILE_EXTRA_DATA)
def test_extra_data_that_is_not_a_dict_of_strings_reads_as_empty(
    wire: Any,
) -> None:
    """Nothing is evaluated and nothing deep inside escapes: only {}."""
    started = time.perf_counter()
    card = parsers.parse_card(ok(card_wire(extra_data=wire)))
    assert time.perf_counter() - started < 1.0
    if wire == '{"a": "\\ud800"}':
        # A lone surrogate is still a string: kept as JSON decodes it.
        assert card.extra_data == {"a": "\ud800"}
    else:
        assert card.extra_data == {}


@given(st.dictionaries(st.text(), st.text()))
def test_extra_data_in_any_python_literal_form_reads_back(
    data: dict[str, str],
) -> None:
    """The service writes repr(dict): every such text reads back."""
    card = parsers.parse_card(ok(card_wire(extra_data=repr(data))))
    assert card.extra_data == data


@given(st.dictionaries(st.text(), st.text()))
def test_extra_data_as_a_json_string_reads_back(data: dict[str, str]) -> None:
    card = parsers.parse_card(ok(card_wire(extra_data=json.dumps(data))))
    assert card.extra_data == data


@given(st.text(max_size=300))
def test_extra_data_of_any_text_gives_a_dict_of_strings(text: str) -> None:
    card = parsers.parse_card(ok(card_wire(extra_data=text)))
    assert all(
        isinstance(k, str) and isinstance(v, str)
        for k, v in card.extra_data.items()
    )


@given(st.text(alphabet="{}[]()'\":,\\ abxnu0", max_size=200))
def test_extra_data_of_literal_like_text_never_raises(text: str) -> None:
    card = parsers.parse_card(ok(card_wire(extra_data=text)))
    assert isinstance(card.extra_data, dict)


# Bodies that are wrong ------------------------------------------------------

BROKEN_CASES: list[tuple[str, Parse, Any, str | None]] = [
    (
        "user",
        parsers.parse_user,
        listing(user_wire(postage=None)),
        "objects[0].postage",
    ),
    (
        "user",
        parsers.parse_user,
        listing(user_wire(resource_uri="/.api/v1/user/me/")),
        "objects[0].resource_uri",
    ),
    (
        "user",
        parsers.parse_user,
        listing(user_wire(product_pricing_info={})),
        "objects[0].product_pricing_info.5x7greetingcard",
    ),
    (
        "user",
        parsers.parse_user,
        listing(
            user_wire(
                postage={
                    "domestic_cost": 66,
                    "international_cost": 150,
                    "domestic_countries": ["US", 7],
                }
            )
        ),
        "objects[0].postage.domestic_countries[1]",
    ),
    ("templates", parsers.parse_templates, {"meta": {}}, "objects"),
    ("templates", parsers.parse_templates, {"objects": {}}, "objects"),
    ("templates", parsers.parse_templates, {"objects": [7]}, "objects[0]"),
    (
        "templates",
        parsers.parse_templates,
        listing(template_wire(), template_wire(gifts=[{"gift_name": "x"}])),
        "objects[1].gifts[0].price",
    ),
    ("template", parsers.parse_template, [template_wire()], None),
    (
        "campaign",
        parsers.parse_campaign,
        {"id": 9, "title": "x"},
        "send_even_if_duplicate",
    ),
    (
        "campaign",
        parsers.parse_campaign,
        campaign_wire(has_birthday_drip="maybe"),
        "has_birthday_drip",
    ),
    (
        "cards",
        parsers.parse_cards,
        listing(card_wire(), card_wire(status=None)),
        "objects[1].status",
    ),
    (
        "card",
        parsers.parse_card,
        {k: v for k, v in card_wire().items() if k != "amount_charged"},
        "amount_charged",
    ),
    ("card", parsers.parse_card, card_wire(gifts={}), "gifts"),
    ("card", parsers.parse_card, card_wire(initiator=["x"]), "initiator"),
    (
        "card_count",
        lambda r: parsers.parse_count(r, "card_count"),
        {"objects": []},
        "meta",
    ),
    (
        "card_count",
        lambda r: parsers.parse_count(r, "card_count"),
        {"meta": {"total_count": None}},
        "meta.total_count",
    ),
    ("contacts", parsers.parse_contacts, listing({}), "objects[0].id"),
    ("contact", parsers.parse_contact, "a string", None),
    ("mailing", parsers.parse_mailing, {"status": 0}, "id"),
    ("mailing", parsers.parse_mailing, {"id": 1, "status": "x"}, "status"),
    (
        "credit_transactions",
        parsers.parse_credit_transactions,
        listing(credit_wire(amount_int="lots")),
        "objects[0].amount_int",
    ),
    (
        "send_card",
        lambda r: parsers.parse_send_card(r, ADDRESS),
        {"total_cost": 442},
        "card",
    ),
    (
        "send_cards",
        lambda r: parsers.parse_send_cards(r, [ADDRESS]),
        {"mailing_uri": "/.api/v1/mailing/"},
        "mailing_uri",
    ),
    (
        "send_cards",
        lambda r: parsers.parse_send_cards(r, [ADDRESS]),
        {"mailing": 5},
        "mailing_uri",
    ),
    (
        "campaign_cost",
        parsers.parse_campaign_cost,
        {"pricing": {}},
        "pricing.total_cost",
    ),
    ("campaign_cost", parsers.parse_campaign_cost, {"total": 1}, "pricing"),
    (
        "send_campaign",
        lambda r: parsers.parse_send_campaign(r, ADDRESS),
        {"mailing": 1, "cards": [1, "two"]},
        "cards[1]",
    ),
    (
        "send_campaign_multi",
        parsers.parse_send_campaign_multi,
        {"mailing_id": 1, "contacts_scheduled_count": 1},
        "duplicate_contacts_count",
    ),
    (
        "send_campaign_multi",
        parsers.parse_send_campaign_multi,
        {
            "contacts_scheduled_count": 1,
            "duplicate_contacts_count": 0,
            "contacts_scheduled_third_party_contact_ids": [None],
        },
        "contacts_scheduled_third_party_contact_ids[0]",
    ),
    (
        "refresh_token",
        parsers.parse_token,
        {"access_token": "a", "expires_in": 3600},
        "refresh_token",
    ),
    (
        "refresh_token",
        parsers.parse_token,
        {"access_token": "", "refresh_token": "r", "expires_in": 3600},
        "access_token",
    ),
    (
        "refresh_token",
        parsers.parse_token,
        {"access_token": "a", "refresh_token": "r", "expires_in": "soon"},
        "expires_in",
    ),
]


@pytest.mark.parametrize(
    ("endpoint", "parse", "body", "key"),
    BROKEN_CASES,
    ids=[f"{case[0]}-{case[3]}" for case in BROKEN_CASES],
)
def test_a_missing_or_ill_typed_key_is_named_with_its_endpoint(
    endpoint: str, parse: Parse, body: Any, key: str | None
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse(ok(body))
    error = caught.value
    assert (error.endpoint, error.key) == (endpoint, key)
    assert error.status == 200
    # A token answer may hold tokens: its body is never shown.
    assert bool(error.body_excerpt) is (
        endpoint not in parsers.SECRET_ENDPOINTS
    )
    assert endpoint in str(error)


ALL_BODY_PARSERS: list[tuple[str, Parse]] = [
    ("user", parsers.parse_user),
    ("templates", parsers.parse_templates),
    ("template", parsers.parse_template),
    ("campaigns", parsers.parse_campaigns),
    ("campaign", parsers.parse_campaign),
    ("cards", parsers.parse_cards),
    ("card", parsers.parse_card),
    ("card_count", lambda r: parsers.parse_count(r, "card_count")),
    ("contacts", parsers.parse_contacts),
    ("contact", parsers.parse_contact),
    ("mailing", parsers.parse_mailing),
    ("credit_transactions", parsers.parse_credit_transactions),
    ("send_card", lambda r: parsers.parse_send_card(r, ADDRESS)),
    ("send_cards", lambda r: parsers.parse_send_cards(r, [ADDRESS])),
    ("campaign_cost", parsers.parse_campaign_cost),
    ("send_campaign", lambda r: parsers.parse_send_campaign(r, ADDRESS)),
    ("send_campaign_multi", parsers.parse_send_campaign_multi),
    ("refresh_token", parsers.parse_token),
]

NOT_JSON = [
    b"",
    b"   ",
    b"<html><head><title>502 Bad Gateway</title></head></html>",
    b"{'single': 'quotes'}",
    b'{"truncated": ',
    b"\xff\xfe\x00garbage",
    b"[" * 100_000,
]


@pytest.mark.parametrize(("endpoint", "parse"), ALL_BODY_PARSERS)
@pytest.mark.parametrize("body", NOT_JSON, ids=range(len(NOT_JSON)))
def test_a_success_status_with_a_body_that_is_not_json_is_unexpected(
    endpoint: str, parse: Parse, body: bytes
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse(Response(200, (), body))
    assert caught.value.endpoint == endpoint
    assert caught.value.key is None
    assert caught.value.status == 200
    if endpoint in parsers.SECRET_ENDPOINTS:
        # The JSON error keeps the whole body: it is not chained.
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
    else:
        assert isinstance(caught.value.__cause__, ValueError | RecursionError)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize(("endpoint", "parse"), ALL_BODY_PARSERS)
@given(body=json_values)
def test_any_json_body_gives_a_model_or_the_typed_error(
    endpoint: str, parse: Parse, body: Any
) -> None:
    try:
        parse(ok(body))
    except UnexpectedResponseError as error:
        assert error.endpoint == endpoint


def _mutations() -> st.SearchStrategy[tuple[str, Any]]:
    keys = st.sampled_from(sorted(card_wire()))
    values = st.none() | st.booleans() | st.text(max_size=5) | st.integers()
    return st.tuples(keys, values | st.lists(values, max_size=2))


@given(st.lists(_mutations(), max_size=6))
def test_a_card_with_any_keys_changed_gives_a_card_or_the_typed_error(
    changes: list[tuple[str, Any]],
) -> None:
    try:
        card = parsers.parse_card(ok(card_wire(**dict(changes))))
    except UnexpectedResponseError as error:
        assert error.key is not None
    else:
        assert isinstance(card, Card)


# Statuses to errors ---------------------------------------------------------

DETAIL_FORBIDDEN = {
    "template": ForbiddenTemplateError,
    "quicksend": ForbiddenTemplateError,
    "campaign": ForbiddenCampaignError,
    "card": ForbiddenCardError,
    "contact": ForbiddenContactError,
    "mailing": ForbiddenMailingError,
    "delete_contact": ForbiddenContactError,
}
SEND_FORBIDDEN = {
    "send_card": ForbiddenTemplateError,
    "send_cards": ForbiddenTemplateError,
    "campaign_cost": ForbiddenCampaignError,
    "send_campaign": ForbiddenCampaignError,
    "send_campaign_multi": ForbiddenCampaignError,
}
BAD_REQUEST = {
    "send_card": CardSendError,
    "send_cards": CardsSendError,
    "campaign_cost": CampaignSendError,
    "send_campaign": CampaignSendError,
    "send_campaign_multi": CampaignSendError,
    "create_contact": ContactCreateError,
    "refresh_token": OAuthTokenRefreshError,
}
LISTS = [
    "user",
    "templates",
    "quicksends",
    "campaigns",
    "cards",
    "card_count",
    "contacts",
    "credit_transactions",
    "credit_transaction_count",
]


def _status_table() -> list[tuple[str, int, type[AMcardsException]]]:
    table: list[tuple[str, int, type[AMcardsException]]] = []
    for endpoint in ENDPOINTS:
        refresh = endpoint == "refresh_token"
        table += [
            (endpoint, 400, BAD_REQUEST.get(endpoint, BadRequestError)),
            (
                endpoint,
                401,
                OAuthTokenRefreshError if refresh else AuthenticationError,
            ),
            (endpoint, 402, InsufficientCreditsError),
            (endpoint, 429, RateLimitError),
            (endpoint, 500, ServerError),
            (endpoint, 502, ServerError),
            (endpoint, 503, ServerError),
            (endpoint, 302, UnexpectedResponseError),
            (endpoint, 418, UnexpectedResponseError),
            (endpoint, 100, UnexpectedResponseError),
            (endpoint, 600, UnexpectedResponseError),
        ]
        forbidden = DETAIL_FORBIDDEN.get(endpoint)
        if forbidden is not None:
            table += [(endpoint, 403, forbidden), (endpoint, 404, forbidden)]
        elif endpoint in SEND_FORBIDDEN:
            table += [
                (endpoint, 403, SEND_FORBIDDEN[endpoint]),
                (endpoint, 404, UnexpectedResponseError),
            ]
        else:
            table += [
                (endpoint, 403, UnexpectedResponseError),
                (endpoint, 404, UnexpectedResponseError),
            ]
        duplicate = endpoint in ("send_campaign", "send_campaign_multi")
        table.append(
            (
                endpoint,
                409,
                DuplicateCampaignError
                if duplicate
                else UnexpectedResponseError,
            )
        )
    return table


@pytest.mark.parametrize(("endpoint", "status", "kind"), _status_table())
def test_each_status_maps_to_the_documented_error(
    endpoint: str, status: int, kind: type[AMcardsException]
) -> None:
    response = Response(status, (), b'{"message": "No."}')
    error = error_for_response(endpoint, response)
    assert type(error) is kind
    assert error.status == status
    assert "No." in str(error)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_a_2xx_status_is_no_error(endpoint: str, status: int) -> None:
    assert error_for_response(endpoint, Response(status)) is None


def test_the_endpoints_are_the_documented_names() -> None:
    assert set(ENDPOINTS) == {
        *LISTS,
        *DETAIL_FORBIDDEN,
        *SEND_FORBIDDEN,
        "create_contact",
        "refresh_token",
    }
    assert len(ENDPOINTS) == 23


def test_an_unknown_endpoint_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        error_for_response("cardz", Response(200))


def test_an_unexpected_status_names_its_endpoint() -> None:
    error = error_for_response("cards", Response(418, (), b"teapot"))
    assert isinstance(error, UnexpectedResponseError)
    assert error.endpoint == "cards"
    assert "418" in str(error)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b'{"message": "Invalid address"}', "Invalid address"),
        (b'{"error": "Template not found"}', "Template not found"),
        (b'{"detail": "Nope"}', "Nope"),
        (
            b'{"error": "invalid_grant", "error_description": "Expired"}',
            "invalid_grant: Expired",
        ),
        (b'{"message": {"city": ["required"]}}', '{"city": ["required"]}'),
        (b'{"card": {"city": ["required"]}}', '{"card": {"city":'),
        (b"<html><title>502 Bad Gateway</title><body>x</body>", "502 Bad"),
        (b"<html><body>proxy down</body></html>", "proxy down"),
        (b"plain words", "plain words"),
        (b'{"message": ', '{"message":'),
        (b"[" * 10_000, "[[["),
    ],
)
def test_the_error_text_carries_the_body_s_own_message(
    body: bytes, shown: str
) -> None:
    """Never a JSONDecodeError, whatever the body."""
    error = error_for_response("send_card", Response(400, (), body))
    assert isinstance(error, CardSendError)
    assert shown in str(error)
    assert error.body_excerpt is not None
    assert len(error.body_excerpt) <= errors.EXCERPT_LIMIT


def test_errors_carry_headers_without_secrets() -> None:
    headers = (
        ("Content-Type", "application/json"),
        ("Set-Cookie", "sessionid=secret"),
        ("authorization", "Bearer secret"),
        ("X-Request-Id", "abc"),
    )
    error = error_for_response("card", Response(404, headers, b"{}"))
    assert error is not None
    assert error.headers == {
        "Content-Type": "application/json",
        "X-Request-Id": "abc",
    }
    assert "secret" not in repr(error.headers)


def test_parse_functions_raise_the_status_error_first() -> None:
    response = Response(402, (), b'{"message": "Add credits"}')
    with pytest.raises(InsufficientCreditsError, match="Add credits"):
        parsers.parse_send_card(response, ADDRESS)


def test_a_parse_error_carries_safe_headers_and_the_status() -> None:
    headers = (("Set-Cookie", "s=1"), ("X-Id", "7"))
    with pytest.raises(UnexpectedResponseError) as caught:
        parsers.parse_card(Response(200, headers, b"<html>"))
    assert caught.value.headers == {"X-Id": "7"}
    assert caught.value.body_excerpt == "<html>"


NOW = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "now", "wait"),
    [
        ("120", None, 120.0),
        (" 7 ", None, 7.0),
        ("1.5", None, 1.5),
        ("-3", None, None),
        ("Fri, 01 Mar 2024 12:00:30 GMT", NOW, 30.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", NOW, 0.0),
        ("Fri, 01 Mar 2024 12:00:30 GMT", NOW.replace(tzinfo=None), 30.0),
        ("Fri, 01 Mar 2024 12:00:30 GMT", None, None),
        ("soon", NOW, None),
        ("nan", None, None),
        ("inf", None, None),
        ("", NOW, None),
    ],
)
def test_retry_after_reads_seconds_or_a_date_against_now(
    header: str, now: dt.datetime | None, wait: float | None
) -> None:
    response = Response(429, (("Retry-After", header),), b"")
    error = error_for_response("cards", response, now=now)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == wait
    assert error.headers["Retry-After"] == header


def test_a_429_without_retry_after_has_none() -> None:
    error = error_for_response("cards", Response(429))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


# Tokens ---------------------------------------------------------------------


def test_token_set_repr_hides_the_tokens() -> None:
    tokens = TokenSet("access-secret", "refresh-secret", 3600)
    for text in (repr(tokens), str(tokens), repr([tokens])):
        assert "secret" not in text
        assert "3600" in text


def test_token_set_is_frozen() -> None:
    tokens = TokenSet("a", "r", 1)
    with pytest.raises(AttributeError):
        tokens.access_token = "b"  # type: ignore[misc]


def test_a_refused_refresh_token_is_an_oauth_error() -> None:
    body = b'{"error": "invalid_grant"}'
    with pytest.raises(OAuthTokenRefreshError, match="invalid_grant"):
        parsers.parse_token(Response(400, (), body))


# The module's surface -------------------------------------------------------


def test_dunder_all_is_complete_and_sorted() -> None:
    defined_here = {
        name
        for name, value in vars(parsers).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", None) == parsers.__name__
    }
    assert set(parsers.__all__) == defined_here | {
        "ENDPOINTS",
        "SECRET_ENDPOINTS",
    }
    constants = sorted(n for n in parsers.__all__ if n.isupper())
    classes = sorted(n for n in parsers.__all__ if n[0].isupper())
    classes = [n for n in classes if n not in constants]
    functions = sorted(n for n in parsers.__all__ if n[0].islower())
    assert parsers.__all__ == constants + classes + functions


# Token answers: no secret in any error -------------------------------------

SECRETS = ("SECRET-ACC", "SECRET-REF")


def _chain(error: BaseException) -> list[BaseException]:
    """The error with every cause and context behind it."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or any(item is old for old in seen):
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__])
    return seen


def _everything_said(error: BaseException) -> str:
    parts = []
    for item in _chain(error):
        parts.append(repr(item))
        parts.append(str(item))
        parts.extend(repr(value) for value in vars(item).values())
    return "\n".join(parts)


TOKENS = b'"access_token":"SECRET-ACCESS","refresh_token":"SECRET-REFRESH"'


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (200, b"{" + TOKENS + b"}", ()),
        (200, b"{" + TOKENS + b',"expires_in":"soon"}', ()),
        (200, b"{" + TOKENS + b',"expires_in":3.5}', ()),
        (
            200,
            b"{" + TOKENS.replace(b"-ACCESS", b"-ACCESS\\r\\nX: y") + b"}",
            (),
        ),
        (200, b"{" + TOKENS.replace(b",", b" ") + b"}", ()),
        (
            200,
            b"access_token=SECRET-ACCESS&refresh_token=SECRET-REFRESH",
            [("Content-Type", "text/plain")],
        ),
        (401, b'{"error":"invalid_grant",' + TOKENS + b"}", ()),
        (500, b"<html>SECRET-ACCESS SECRET-REFRESH</html>", ()),
        (502, b"SECRET-ACCESS SECRET-REFRESH", ()),
    ],
)
def test_a_token_answer_puts_no_token_in_any_error(
    status: int, body: bytes, headers: Any
) -> None:
    with pytest.raises(AMcardsException) as caught:
        parsers.parse_token(Response(status, headers, body))
    said = _everything_said(caught.value)
    for secret in SECRETS:
        assert secret not in said


def test_a_token_error_keeps_the_services_own_words() -> None:
    body = b'{"error":"invalid_grant","error_description":"expired"}'
    with pytest.raises(OAuthTokenRefreshError) as caught:
        parsers.parse_token(Response(400, (), body))
    assert "invalid_grant" in str(caught.value)
    assert "expired" in (caught.value.body_excerpt or "")


def test_a_token_a_header_cannot_carry_is_refused() -> None:
    body = (
        b'{"access_token":"two words","refresh_token":"r","expires_in":3600}'
    )
    with pytest.raises(UnexpectedResponseError) as caught:
        parsers.parse_token(Response(200, (), body))
    assert caught.value.key == "access_token"
    assert "two words" not in str(caught.value)

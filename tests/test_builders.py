"""Request builders: method, path, query, headers and body of every call.

Each case gives the exact request the HTTP contract asks for; JSON bodies
are compared decoded, with their key order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from amcards.core import builders
from amcards.core.errors import ValidationError
from amcards.core.http import Request

ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
}
FULL_ADDRESS = {
    **ADDRESS,
    "country": "US",
    "organization": "Google",
    "third_party_contact_id": "crm-1",
}
RETURN = {"first_name": "Ann", "city": "Troy", "country": "US"}
RETURN_KEYS = {
    "return_first_name": "Ann",
    "return_city": "Troy",
    "return_country": "US",
}
LIST_QUERY = (("limit", "25"), ("offset", "0"))


def body_of(request: Request) -> Any:
    """The JSON body decoded, or None for a request without one."""
    if not request.body:
        return None
    return json.loads(request.body.decode("utf-8"))


READ_CASES: list[tuple[str, Callable[[], Request], str, tuple[Any, ...]]] = [
    ("user", builders.build_user_request, "/.api/v1/user/", ()),
    (
        "templates",
        lambda: builders.build_templates_request(25, 0),
        "/.api/v1/template/",
        LIST_QUERY,
    ),
    (
        "template",
        lambda: builders.build_template_request("7"),
        "/.api/v1/template/7/",
        (),
    ),
    (
        "quicksends",
        lambda: builders.build_quicksends_request(10, 30),
        "/.api/v1/quicksendtemplate/",
        (("limit", "10"), ("offset", "30")),
    ),
    (
        "quicksend",
        lambda: builders.build_quicksend_request(3),
        "/.api/v1/quicksendtemplate/3/",
        (),
    ),
    (
        "campaigns",
        lambda: builders.build_campaigns_request(25, 0),
        "/.api/v1/campaign/",
        LIST_QUERY,
    ),
    (
        "campaign",
        lambda: builders.build_campaign_request("12"),
        "/.api/v1/campaign/12/",
        (),
    ),
    (
        "cards",
        lambda: builders.build_cards_request(25, 0, None),
        "/.api/v1/card/",
        LIST_QUERY,
    ),
    (
        "cards filtered",
        lambda: builders.build_cards_request(
            5,
            10,
            {
                "third_party_contact_id": "crm-1",
                "order_by": "-id",
                "is_international": False,
                "status__in": [2, 4],
                "send_date__gte": dt.date(2024, 3, 9),
            },
        ),
        "/.api/v1/card/",
        (
            ("limit", "5"),
            ("offset", "10"),
            ("is_international", "false"),
            ("order_by", "-id"),
            ("send_date__gte", "2024-03-09"),
            ("status__in", "2,4"),
            ("third_party_contact_id", "crm-1"),
        ),
    ),
    (
        "card",
        lambda: builders.build_card_request("1522873"),
        "/.api/v1/card/1522873/",
        (),
    ),
    (
        "card count",
        lambda: builders.build_card_count_request({"initiator": "crm"}),
        "/.api/v1/card/",
        (("limit", "1"), ("initiator", "crm")),
    ),
    (
        "card count unfiltered",
        lambda: builders.build_card_count_request(None),
        "/.api/v1/card/",
        (("limit", "1"),),
    ),
    (
        "contacts",
        lambda: builders.build_contacts_request(25, 0, {"last_name": "Smith"}),
        "/.api/v1/contact/",
        (*LIST_QUERY, ("last_name", "Smith")),
    ),
    (
        "contact",
        lambda: builders.build_contact_request("44"),
        "/.api/v1/contact/44/",
        (),
    ),
    (
        "mailing",
        lambda: builders.build_mailing_request("29693"),
        "/.api/v1/mailing/29693/",
        (),
    ),
    (
        "credit transactions",
        lambda: builders.build_credit_transactions_request(
            50, 100, {"amount_paid_int__gt": 0}
        ),
        "/.api/v1/credittransaction/",
        (("limit", "50"), ("offset", "100"), ("amount_paid_int__gt", "0")),
    ),
    (
        "credit transaction count",
        lambda: builders.build_credit_transaction_count_request(
            {"amount_paid_int__gt": 0}
        ),
        "/.api/v1/credittransaction/",
        (("limit", "1"), ("amount_paid_int__gt", "0")),
    ),
]


@pytest.mark.parametrize(
    ("name", "build", "path", "query"),
    READ_CASES,
    ids=[case[0] for case in READ_CASES],
)
def test_read_requests(name, build, path, query):
    """Reads are bodiless GETs with paging and filters in the query."""
    request = build()
    assert request.method == "GET"
    assert request.path == path
    assert request.query == query
    assert request.body == b""
    assert request.headers == (("Accept", "application/json"),)


def test_delete_contact_request():
    """Deleting a contact is a bodiless DELETE on the contact's path."""
    request = builders.build_delete_contact_request("44")
    assert (request.method, request.path, request.query) == (
        "DELETE",
        "/.api/v1/contact/44/",
        (),
    )
    assert request.body == b""
    assert request.header("Accept") == "application/json"


TODAY = "2024-05-01"

WRITE_CASES: list[tuple[str, Callable[[], Request], str, dict[str, Any]]] = [
    (
        "create contact, required keys only",
        lambda: builders.build_create_contact_request(
            17,
            first_name="Ralph",
            last_name="Mullins",
            address_line_1="2285 Reppert Road",
            city="Southfield",
            state="MI",
            postal_code="48075",
        ),
        "/.api/v1/contact/",
        {
            "owner": "/.api/v1/user/17/",
            **ADDRESS,
            "notes": "",
            "groups": "",
        },
    ),
    (
        "create contact, every key",
        lambda: builders.build_create_contact_request(
            "17",
            first_name="Ralph",
            last_name="Mullins",
            address_line_1="2285 Reppert Road",
            city="Southfield",
            state="MI",
            postal_code="48075",
            country="US",
            notes="met at expo",
            email="ralph@example.com",
            organization="Google",
            phone="15556667777",
            birth_year="2003",
            birth_month="12",
            birth_day="25",
            anniversary_year="2022",
            anniversary_month="10",
            anniversary_day="31",
        ),
        "/.api/v1/contact/",
        {
            "owner": "/.api/v1/user/17/",
            **ADDRESS,
            "notes": "met at expo",
            "groups": "",
            "country": "US",
            "email_address": "ralph@example.com",
            "organization": "Google",
            "phone_number": "15556667777",
            "birth_year": "2003",
            "birth_month": "12",
            "birth_day": "25",
            "anniversary_year": "2022",
            "anniversary_month": "10",
            "anniversary_day": "31",
        },
    ),
    (
        "create contact, empty optionals left out",
        lambda: builders.build_create_contact_request(
            17,
            first_name="Ralph",
            last_name="Mullins",
            address_line_1="2285 Reppert Road",
            city="Southfield",
            state="MI",
            postal_code="48075",
            country="",
            notes=None,
            email="",
            phone=None,
        ),
        "/.api/v1/contact/",
        {
            "owner": "/.api/v1/user/17/",
            **ADDRESS,
            "notes": "",
            "groups": "",
        },
    ),
    (
        "send card, minimal",
        lambda: builders.build_send_card_request("123", "crm", ADDRESS),
        "/cards/open-card-form-oa/",
        {"template_id": "123", "initiator": "crm", **ADDRESS},
    ),
    (
        "send card, every option",
        lambda: builders.build_send_card_request(
            "123",
            "crm",
            FULL_ADDRESS,
            RETURN,
            "2024-06-01",
            "Happy birthday!",
            {"carMake": "Honda"},
        ),
        "/cards/open-card-form-oa/",
        {
            "template_id": "123",
            "initiator": "crm",
            **FULL_ADDRESS,
            **RETURN_KEYS,
            "send_date": "2024-06-01",
            "message": "Happy birthday!",
            "extra_data": {"carMake": "Honda"},
        },
    ),
    (
        "send card, empty options left out",
        lambda: builders.build_send_card_request(
            "123",
            "crm",
            {**ADDRESS, "organization": ""},
            {},
            None,
            "",
            {},
        ),
        "/cards/open-card-form-oa/",
        {"template_id": "123", "initiator": "crm", **ADDRESS},
    ),
    (
        "send cards, immediately",
        lambda: builders.build_send_cards_request(
            "123", "crm", [ADDRESS, FULL_ADDRESS], today=TODAY
        ),
        "/cards/open-mailing-form/",
        {
            "template_id": "123",
            "initiator": "crm",
            "recipients": [ADDRESS, FULL_ADDRESS],
            "send_even_if_error": "false",
            "offset_type": "before",
            "date_offset": "0",
            "send_type": "immediate",
            "send_date": TODAY,
        },
    ),
    (
        "send cards, on a date, even if one fails",
        lambda: builders.build_send_cards_request(
            "123",
            "crm",
            [ADDRESS],
            RETURN,
            "2024-06-01",
            True,
            today=TODAY,
        ),
        "/cards/open-mailing-form/",
        {
            "template_id": "123",
            "initiator": "crm",
            "recipients": [ADDRESS],
            **RETURN_KEYS,
            "send_even_if_error": "true",
            "offset_type": "before",
            "date_offset": "0",
            "send_type": "specific_date",
            "send_date": "2024-06-01",
        },
    ),
    (
        "campaign cost, minimal",
        lambda: builders.build_campaign_cost_request("9", ADDRESS),
        "/campaigns/calculate-campaign-price/",
        {"campaign_id": "9", "recipients": [ADDRESS]},
    ),
    (
        "campaign cost, full birth date",
        lambda: builders.build_campaign_cost_request(
            "9",
            {**ADDRESS, "birth_date": "2003-12-25"},
            RETURN,
            "2024-06-01",
        ),
        "/campaigns/calculate-campaign-price/",
        {
            "campaign_id": "9",
            "recipients": [
                {
                    **ADDRESS,
                    "birth_date": "2003-12-25",
                    "birth_month": "12",
                    "birth_day": "25",
                }
            ],
            **RETURN_KEYS,
            "send_date": "2024-06-01",
        },
    ),
    (
        "campaign cost, month and day only",
        lambda: builders.build_campaign_cost_request(
            "9", {**ADDRESS, "birth_date": "02-29", "phone_number": ""}
        ),
        "/campaigns/calculate-campaign-price/",
        {
            "campaign_id": "9",
            "recipients": [
                {
                    **ADDRESS,
                    "birth_date": "02-29",
                    "birth_month": "02",
                    "birth_day": "29",
                }
            ],
        },
    ),
    (
        "send campaign, minimal",
        lambda: builders.build_send_campaign_request("9", "crm", ADDRESS),
        "/campaigns/open-campaign-form/",
        {
            "campaign_id": "9",
            "initiator": "crm",
            **ADDRESS,
            "bypass_duplicate_check": True,
        },
    ),
    (
        "send campaign, every option",
        lambda: builders.build_send_campaign_request(
            "9",
            "crm",
            {
                **FULL_ADDRESS,
                "phone_number": "15556667777",
                "birth_date": "2003-12-25",
                "anniversary_date": "2022-10-31",
            },
            RETURN,
            "2024-06-01",
            {"carMake": "Honda"},
            False,
        ),
        "/campaigns/open-campaign-form/",
        {
            "campaign_id": "9",
            "initiator": "crm",
            **FULL_ADDRESS,
            "phone_number": "15556667777",
            "birth_date": "2003-12-25",
            "anniversary_date": "2022-10-31",
            **RETURN_KEYS,
            "send_date": "2024-06-01",
            "extra_data": {"carMake": "Honda"},
            "bypass_duplicate_check": False,
        },
    ),
    (
        "send campaign to many",
        lambda: builders.build_send_campaign_multi_request(
            "9",
            "crm",
            [
                {**ADDRESS, "extra_data": {"carMake": "Honda"}},
                {**FULL_ADDRESS, "extra_data": {}, "organization": ""},
            ],
        ),
        "/campaigns/open-campaign-multi-form/",
        {
            "campaign_id": "9",
            "initiator": "crm",
            "contacts": [
                {**ADDRESS, "extra_data": {"carMake": "Honda"}},
                {
                    key: value
                    for key, value in FULL_ADDRESS.items()
                    if key != "organization"
                },
            ],
        },
    ),
]


@pytest.mark.parametrize(
    ("name", "build", "path", "body"),
    WRITE_CASES,
    ids=[case[0] for case in WRITE_CASES],
)
def test_json_write_requests(name, build, path, body):
    """Writes POST a JSON body with exactly these keys, in this order."""
    request = build()
    assert request.method == "POST"
    assert request.path == path
    assert request.query == ()
    decoded = body_of(request)
    assert decoded == body
    assert list(decoded) == list(body)
    assert request.headers == (
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
    )


def test_refresh_token_request_is_form_encoded():
    """The token refresh POSTs a form, not JSON."""
    request = builders.build_refresh_token_request(
        "refresh&me", "client id", "s3cr=t"
    )
    assert (request.method, request.path) == ("POST", "/oauth2/token/")
    assert parse_qsl(request.body.decode("ascii")) == [
        ("grant_type", "refresh_token"),
        ("refresh_token", "refresh&me"),
        ("client_id", "client id"),
        ("client_secret", "s3cr=t"),
    ]
    assert request.headers == (
        ("Accept", "application/json"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    )


def test_json_bodies_are_compact_utf8():
    """No spaces between tokens, and non-ASCII text as UTF-8, unescaped."""
    address = {**ADDRESS, "first_name": "Zoë", "city": "Montréal"}
    request = builders.build_send_card_request("1", "crm", address)
    assert b", " not in request.body
    assert b": " not in request.body
    assert "Zoë".encode() in request.body
    assert b"\\u" not in request.body


def test_same_call_gives_the_same_bytes():
    """Builders are pure: equal inputs give equal requests."""
    filters = {"b": "2", "a": "1"}
    assert builders.build_cards_request(
        25, 0, filters
    ) == builders.build_cards_request(25, 0, dict(reversed(filters.items())))
    assert builders.build_send_cards_request(
        "1", "crm", [ADDRESS], today=TODAY
    ) == builders.build_send_cards_request("1", "crm", [ADDRESS], today=TODAY)


def test_requests_carry_no_token_and_no_base_url():
    """The client, not the builder, adds the server and Authorization."""
    requests = [case[1]() for case in READ_CASES + WRITE_CASES]
    requests.append(builders.build_refresh_token_request("r", "i", "s"))
    for request in requests:
        assert request.base_url == ""
        assert request.header("Authorization") is None
        assert request.header("Accept") == "application/json"


def test_ids_are_quoted_into_the_path():
    """An id can never add a path segment of its own."""
    request = builders.build_card_request("1/../2")
    assert request.path == "/.api/v1/card/1%2F..%2F2/"


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"limit": 5}, "filters['limit']"),
        ({"offset": 5}, "filters['offset']"),
        ({"last_name": None}, "filters['last_name']"),
        ({"id__in": []}, "filters['id__in']"),
        ({"tags": {"a": "b"}}, "filters['tags']"),
        ({3: "x"}, "filters[3]"),
        ({"": "x"}, "filters['']"),
        ([("last_name", "Smith")], "filters"),
    ],
)
def test_bad_filters_name_the_filter(filters, field):
    """A filter that cannot be written into the query is an error."""
    with pytest.raises(ValidationError) as info:
        builders.build_contacts_request(25, 0, filters)
    assert info.value.field == field


def test_public_names_are_listed_and_sorted():
    """__all__ is sorted and names every builder in the module."""
    assert builders.__all__ == sorted(builders.__all__)
    defined = {name for name in vars(builders) if name.startswith("build_")}
    assert defined <= set(builders.__all__)
    for name in builders.__all__:
        assert hasattr(builders, name)

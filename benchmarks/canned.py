"""Canned AMcards answers for the benchmarks, in the documented wire shape.

Standard library only: the worker imports this module in both
environments, this package's and the older client's.  Every card is built
from its id alone, so a page of cards is the same bytes every time it is
asked for, and the ids of consecutive pages never repeat.
"""

from __future__ import annotations

import json

CARD_PATH = "/.api/v1/card/"
SEND_CARD_PATH = "/cards/open-card-form-oa/"
USER_PATH = "/.api/v1/user/"
TEMPLATE_PATH = "/.api/v1/template/"

PAGE_SIZE = 100
TOKEN = "benchmark-token"
CARD_ID = 4242

# The service sends timestamps in several shapes; the cards rotate them.
_TIMESTAMPS = (
    "2024-02-27T10:20:30.123456",
    "2024-02-27T10:20:30",
    "2024-02-27 10:20:30.5",
    "2024-02-2710:20:30",
)
_FIRST_NAMES = ("Ralph", "Ada", "Grace", "Linus", "Barbara", "Ken")
_LAST_NAMES = ("Mullins", "Lovelace", "Hopper", "Torvalds", "Liskov")
_CITIES = (
    ("Southfield", "MI", "48075"),
    ("Portland", "OR", "97205"),
    ("Austin", "TX", "73301"),
)

SHIPPING_ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}


def card_object(card_id: int) -> dict[str, object]:
    """One card as the API sends it; the details vary with the id."""
    city, state, postal = _CITIES[card_id % len(_CITIES)]
    gifts = []
    if card_id % 4 == 0:
        gifts = [
            {"name": "Coffee", "price": 1000, "shipping_and_handling": 150}
        ]
    return {
        "id": card_id,
        "amount_charged": 4.35,
        "total_amount_charged_cents": 435 + sum(g["price"] for g in gifts),
        "status": card_id % 10,
        "initiator": "benchmark",
        "send_date": "2024-03-01",
        "created": _TIMESTAMPS[card_id % len(_TIMESTAMPS)],
        "last_modified": _TIMESTAMPS[(card_id + 1) % len(_TIMESTAMPS)],
        "fulfilled": None if card_id % 3 else "2024-03-02T08:00:00",
        "is_international": card_id % 7 == 0,
        "template_name": "Thank you",
        "thumbnail": "https://example.invalid/thumbs/thank-you.png",
        "campaign_pk": None if card_id % 5 else 17,
        "ship_to_first_name": _FIRST_NAMES[card_id % len(_FIRST_NAMES)],
        "ship_to_last_name": _LAST_NAMES[card_id % len(_LAST_NAMES)],
        "ship_to_line_1": f"{card_id % 9000 + 100} Reppert Road",
        "ship_to_city": city,
        "ship_to_state": state,
        "ship_to_postal": postal,
        "ship_to_country": "US",
        "ship_to_organization": "" if card_id % 2 else "Acme",
        "third_party_contact_id": f"crm-{card_id}",
        "return_to_first_name": "Shop",
        "return_to_last_name": "Owner",
        "return_to_line_1": "1 Main Street",
        "return_to_city": "Detroit",
        "return_to_state": "MI",
        "return_to_postal": "48201",
        "return_to_country": "US",
        "gifts": gifts,
        "extra_data": "{'carMake': 'Honda'}" if card_id % 2 else "",
    }


def _dump(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def card_body(card_id: int) -> bytes:
    """The body of GET /.api/v1/card/{id}/."""
    return _dump(card_object(card_id))


def cards_page_body(limit: int, offset: int, total: int) -> bytes:
    """The body of GET /.api/v1/card/?limit=&offset= over ``total`` cards."""
    first = max(offset, 0)
    last = min(first + limit, total)
    listing = {
        "meta": {
            "limit": limit,
            "offset": first,
            "total_count": total,
            "next": None,
            "previous": None,
        },
        "objects": [card_object(i + 1) for i in range(first, last)],
    }
    return _dump(listing)


def send_card_body(card_id: int = 987654) -> bytes:
    """The body of a successful POST /cards/open-card-form-oa/."""
    return _dump(
        {
            "card": card_id,
            "total_cost": 435,
            "user": "owner@example.invalid",
            "message": "Card scheduled",
        }
    )


def user_body() -> bytes:
    """The body of GET /.api/v1/user/ (a listing of one)."""
    user = {
        "resource_uri": "/.api/v1/user/7/",
        "first_name": "Shop",
        "last_name": "Owner",
        "credits": 100000,
        "email": "owner@example.invalid",
        "phone": "5555550100",
        "date_joined": "2020-01-01T00:00:00",
        "address_line_1": "1 Main Street",
        "city": "Detroit",
        "state": "MI",
        "postal": "48201",
        "country": "US",
        "postage": {
            "domestic_cost": 66,
            "international_cost": 150,
            "domestic_countries": ["US"],
        },
        "product_pricing_info": {"5x7greetingcard": 369},
        "monthly_report_emails": None,
    }
    meta = {"limit": 20, "offset": 0, "total_count": 1}
    return _dump({"meta": meta, "objects": [user]})


def templates_body() -> bytes:
    """The body of GET /.api/v1/template/."""
    template = {
        "id": 1,
        "name": "Thank you",
        "has_message_on_default_panel": "Thanks!",
        "thumbnail": "https://example.invalid/thumbs/thank-you.png",
        "gifts": [],
    }
    meta = {"limit": 25, "offset": 0, "total_count": 1}
    return _dump({"meta": meta, "objects": [template]})

"""The fake AMcards service, spoken to in raw requests (no sockets).

These tests read the wire format directly, as the HTTP contract writes
it, rather than through the client's parsers.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from typing import Any
from urllib.parse import urlencode

import pytest

from amcards.core.errors import ConnectionLostError, ReadTimeoutError
from amcards.core.http import Request, Response, Timeout
from amcards.transports.base import Transport
from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_CONTACT_ID,
    DEMO_CREDITS,
    DEMO_EMAIL,
    DEMO_EXPIRED_ACCESS_TOKEN,
    DEMO_GIFT_TEMPLATE_ID,
    DEMO_MAILING_ID,
    DEMO_NO_DUPLICATES_CAMPAIGN_ID,
    DEMO_OTHER_ACCESS_TOKEN,
    DEMO_QUICKSEND_ID,
    DEMO_REFRESH_TOKEN,
    DEMO_RETURNED_CARD_ID,
    DEMO_TEMPLATE_ID,
    DEMO_USER_ID,
    OTHER_CAMPAIGN_ID,
    OTHER_CARD_ID,
    OTHER_CONTACT_ID,
    OTHER_MAILING_ID,
    OTHER_TEMPLATE_ID,
    FakeAMcards,
    FakeTransport,
    Fault,
)
from amcards.transports.fake.service import FIELDS

NOW = dt.datetime(2024, 5, 10, 9, 30, 0)
API = "/.api/v1/"

RALPH = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}


class Clock:
    """A clock that stands still until moved."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeAMcards:
    return FakeAMcards.demo(clock=clock)


def auth(token: str | None) -> list[tuple[str, str]]:
    return [] if token is None else [("Authorization", f"Bearer {token}")]


def get(
    fake: FakeAMcards,
    path: str,
    token: str | None = DEMO_ACCESS_TOKEN,
    **query: Any,
) -> Response:
    pairs = [(k, str(v)) for k, v in query.items()]
    return fake.handle(Request("GET", path, pairs, auth(token)))


def post(
    fake: FakeAMcards,
    path: str,
    body: dict[str, Any],
    token: str | None = DEMO_ACCESS_TOKEN,
) -> Response:
    headers = [*auth(token), ("Content-Type", "application/json")]
    data = json.dumps(body).encode("utf-8")
    return fake.handle(Request("POST", path, (), headers, data))


def delete(
    fake: FakeAMcards, path: str, token: str = DEMO_ACCESS_TOKEN
) -> Response:
    return fake.handle(Request("DELETE", path, (), auth(token)))


def body(response: Response) -> Any:
    return json.loads(response.body)


def send_card(fake: FakeAMcards, **changes: Any) -> Response:
    payload: dict[str, Any] = {
        "template_id": DEMO_TEMPLATE_ID,
        "initiator": "tests",
        **RALPH,
    }
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not None}
    return post(fake, "/cards/open-card-form-oa/", payload)


def send_cards(fake: FakeAMcards, **changes: Any) -> Response:
    payload: dict[str, Any] = {
        "template_id": DEMO_TEMPLATE_ID,
        "initiator": "tests",
        "recipients": [RALPH, {**RALPH, "first_name": "Rita"}],
        "send_even_if_error": "false",
        "offset_type": "before",
        "date_offset": "0",
        "send_type": "immediate",
        "send_date": NOW.date().isoformat(),
    }
    payload.update(changes)
    return post(fake, "/cards/open-mailing-form/", payload)


def send_campaign(fake: FakeAMcards, **changes: Any) -> Response:
    payload: dict[str, Any] = {
        "campaign_id": DEMO_NO_DUPLICATES_CAMPAIGN_ID,
        "initiator": "tests",
        "bypass_duplicate_check": True,
        **RALPH,
    }
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not None}
    return post(fake, "/campaigns/open-campaign-form/", payload)


def refresh(fake: FakeAMcards, **changes: str) -> Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        **changes,
    }
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    data = urlencode(form).encode("ascii")
    return fake.handle(Request("POST", "/oauth2/token/", (), headers, data))


def card_ids(fake: FakeAMcards) -> list[int]:
    listing = body(get(fake, API + "card/", limit=0))
    return [card["id"] for card in listing["objects"]]


# Authentication ----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Authorization", "Bearer not-a-token")],
        [("Authorization", f"Basic {DEMO_ACCESS_TOKEN}")],
        [("Authorization", f"Bearer {DEMO_EXPIRED_ACCESS_TOKEN}")],
    ],
    ids=["missing", "unknown", "not-bearer", "expired"],
)
def test_a_missing_bad_or_expired_token_gets_401(
    fake: FakeAMcards, headers: list[tuple[str, str]]
) -> None:
    response = fake.handle(Request("GET", API + "user/", (), headers))
    assert response.status == 401
    assert response.header("WWW-Authenticate") == "Bearer"
    assert "message" in body(response)


def test_sends_also_need_a_token(fake: FakeAMcards) -> None:
    before = fake.credits(DEMO_USER_ID)
    response = post(fake, "/cards/open-card-form-oa/", {}, token=None)
    assert response.status == 401
    assert fake.credits(DEMO_USER_ID) == before


def test_unknown_paths_get_404_and_wrong_methods_405(
    fake: FakeAMcards,
) -> None:
    assert get(fake, "/.api/v1/nothing/").status == 404
    assert get(fake, "/cards/open-card-form-oa/").status == 405
    response = delete(fake, f"{API}card/1001/")
    assert response.status == 405
    assert response.header("Allow") == "GET"


# Reads -------------------------------------------------------------------


def test_user_is_a_list_of_one_with_the_documented_keys(
    fake: FakeAMcards,
) -> None:
    listing = body(get(fake, API + "user/"))
    assert listing["meta"]["total_count"] == 1
    [user] = listing["objects"]
    assert set(user) == set(FIELDS["user"])
    assert user["resource_uri"] == f"{API}user/{DEMO_USER_ID}/"
    assert user["email"] == DEMO_EMAIL
    assert user["credits"] == DEMO_CREDITS
    assert user["postal"] == "62701"
    assert user["postage"] == {
        "domestic_cost": 68,
        "international_cost": 150,
        "domestic_countries": ["US"],
    }
    assert user["product_pricing_info"] == {"5x7greetingcard": 367}


def test_the_other_users_profile_omits_address_line_2(
    fake: FakeAMcards,
) -> None:
    [user] = body(get(fake, API + "user/", DEMO_OTHER_ACCESS_TOKEN))["objects"]
    assert "address_line_2" not in user
    assert user["email"] == "other@example.com"


def test_template_1_comes_first_and_has_no_gift(fake: FakeAMcards) -> None:
    listing = body(get(fake, API + "template/"))
    first = listing["objects"][0]
    assert first["id"] == DEMO_TEMPLATE_ID
    assert first["gifts"] == []
    assert set(first) == set(FIELDS["template"])


def test_a_template_with_a_gift_lists_it_in_cents(fake: FakeAMcards) -> None:
    template = body(get(fake, f"{API}template/{DEMO_GIFT_TEMPLATE_ID}/"))
    assert template["gifts"] == [
        {
            "gift_name": "Chocolate Truffles",
            "image": "https://static.example.com/fake-amcards/truffles.png",
            "price": 1500,
            "shipping_and_handling": 395,
        }
    ]


def test_quicksends_are_their_own_list(fake: FakeAMcards) -> None:
    listing = body(get(fake, API + "quicksendtemplate/"))
    assert [t["id"] for t in listing["objects"]] == [DEMO_QUICKSEND_ID]
    detail = get(fake, f"{API}quicksendtemplate/{DEMO_QUICKSEND_ID}/")
    assert body(detail)["name"] == "Quick Thanks"


def test_campaigns_say_whether_they_block_duplicates(
    fake: FakeAMcards,
) -> None:
    listing = body(get(fake, API + "campaign/"))
    by_id = {c["id"]: c for c in listing["objects"]}
    assert by_id[DEMO_CAMPAIGN_ID]["send_even_if_duplicate"] is True
    assert by_id[DEMO_CAMPAIGN_ID]["has_birthday_drip"] is True
    blocking = by_id[DEMO_NO_DUPLICATES_CAMPAIGN_ID]
    assert blocking["send_even_if_duplicate"] is False
    assert blocking["has_anniversary_drip"] is True
    assert blocking["drip_count"] == 3
    assert blocking["campaign_cost"] == 435 * 3
    assert set(blocking) == set(FIELDS["campaign"])


def test_demo_cards_carry_every_documented_field(fake: FakeAMcards) -> None:
    cards = body(get(fake, API + "card/"))["objects"]
    assert {card["status"] for card in cards} >= {0, 2, 4, 7, 12}
    for card in cards:
        assert set(card) == set(FIELDS["card"])
    returned = body(get(fake, f"{API}card/{DEMO_RETURNED_CARD_ID}/"))
    assert returned["status"] == 12


def test_demo_card_timestamps_come_in_several_shapes(
    fake: FakeAMcards,
) -> None:
    cards = {c["id"]: c for c in body(get(fake, API + "card/"))["objects"]}
    assert cards[1001]["created"] == "2024-01-05T10:20:30"
    assert cards[1001]["last_modified"] == "2024-01-06T08:00:00.123456"
    assert cards[1001]["fulfilled"] == "2024-01-08 16:45:00"
    assert cards[1003]["created"] == "2024-03-1414:05:00"
    assert cards[1003]["fulfilled"] is None
    assert cards[1003]["extra_data"] == "{'carMake': 'Honda'}"
    assert cards[1001]["extra_data"] == ""


def test_contacts_use_empty_strings_and_sometimes_string_ids(
    fake: FakeAMcards,
) -> None:
    contacts = body(get(fake, API + "contact/"))["objects"]
    ids = [c["id"] for c in contacts]
    assert ids == [str(DEMO_CONTACT_ID), 302, "303"]
    assert contacts[1]["email_address"] == ""
    assert contacts[1]["anniversary_month"] == "06"
    assert all(set(c) == set(FIELDS["contact"]) for c in contacts)


def test_the_demo_mailing_is_complete(fake: FakeAMcards) -> None:
    mailing = body(get(fake, f"{API}mailing/{DEMO_MAILING_ID}/"))
    assert mailing["status"] == 0
    assert mailing["id"] == DEMO_MAILING_ID


def test_credit_transactions_add_up_to_the_balance(
    fake: FakeAMcards,
) -> None:
    rows = body(get(fake, API + "credittransaction/"))["objects"]
    assert rows[-1]["after_int"] == DEMO_CREDITS
    for row in rows:
        assert row["after_int"] - row["before_int"] == row["amount_int"]
        assert set(row) == set(FIELDS["credittransaction"])


@pytest.mark.parametrize(
    ("kind", "theirs"),
    [
        ("template", OTHER_TEMPLATE_ID),
        ("quicksendtemplate", 59),
        ("campaign", OTHER_CAMPAIGN_ID),
        ("card", OTHER_CARD_ID),
        ("contact", OTHER_CONTACT_ID),
        ("mailing", OTHER_MAILING_ID),
        ("user", 2),
    ],
)
def test_detail_of_another_users_object_is_403_and_a_missing_one_404(
    fake: FakeAMcards, kind: str, theirs: int
) -> None:
    assert get(fake, f"{API}{kind}/{theirs}/").status == 403
    assert get(fake, f"{API}{kind}/987654/").status == 404
    mine = get(fake, f"{API}{kind}/{theirs}/", DEMO_OTHER_ACCESS_TOKEN)
    assert mine.status == 200


def test_lists_never_show_another_users_objects(fake: FakeAMcards) -> None:
    cards = body(get(fake, API + "card/", limit=0))["objects"]
    assert OTHER_CARD_ID not in [card["id"] for card in cards]


# Paging, filters, ordering ----------------------------------------------


def test_limit_and_offset_page_with_next_and_previous(
    fake: FakeAMcards,
) -> None:
    first = body(get(fake, API + "card/", limit=2))
    assert first["meta"] == {
        "limit": 2,
        "offset": 0,
        "total_count": 6,
        "next": f"{API}card/?limit=2&offset=2",
        "previous": None,
    }
    middle = body(get(fake, API + "card/", limit=2, offset=2))
    assert [c["id"] for c in middle["objects"]] == [1003, 1004]
    assert middle["meta"]["previous"] == f"{API}card/?limit=2&offset=0"
    last = body(get(fake, API + "card/", limit=2, offset=4))
    assert last["meta"]["next"] is None


def test_default_limit_is_20_and_limit_0_means_everything(
    fake: FakeAMcards,
) -> None:
    for number in range(25):
        person: dict[str, Any] = {**RALPH, "first_name": f"P{number}"}
        fake.add_contact(owner=DEMO_USER_ID, **person)
    assert len(body(get(fake, API + "contact/"))["objects"]) == 20
    everything = body(get(fake, API + "contact/", limit=0))
    assert len(everything["objects"]) == 28
    assert everything["meta"]["limit"] == 1000


def test_next_links_keep_the_filters(fake: FakeAMcards) -> None:
    listing = body(get(fake, API + "card/", limit=1, status__in="2,4"))
    assert listing["meta"]["next"] == (
        f"{API}card/?status__in=2%2C4&limit=1&offset=1"
    )


@pytest.mark.parametrize("limit", ["-1", "ten", "2.5"])
def test_a_bad_limit_is_400(fake: FakeAMcards, limit: str) -> None:
    response = get(fake, API + "card/", limit=limit)
    assert response.status == 400
    assert "limit" in body(response)["message"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"third_party_contact_id": "crm-1"}, [1002, 1003]),
        ({"status": "12"}, [1004]),
        ({"status__gt": "4"}, [1003, 1004]),
        ({"status__gte": "4"}, [1001, 1003, 1004]),
        ({"status__lt": "2"}, [1005]),
        ({"status__lte": "2"}, [1002, 1005, 1006]),
        ({"status__in": "0,12"}, [1004, 1005]),
        ({"ship_to_last_name__icontains": "MULL"}, [1001, 1004, 1006]),
        ({"ship_to_city__iexact": "montreal"}, [1005]),
        ({"ship_to_postal__startswith": "041"}, [1002, 1003]),
        ({"is_international": "true"}, [1005]),
        ({"campaign_pk": "22"}, [1006]),
        ({"campaign_pk__isnull": "false"}, [1006]),
        ({"fulfilled__isnull": "true"}, [1003, 1005, 1006]),
        ({"send_date__gte": "2024-03-01"}, [1003, 1005, 1006]),
        ({"amount_charged__gt": "5"}, [1003, 1005]),
        ({"mailing": str(DEMO_MAILING_ID)}, [1001, 1002, 1003]),
        ({"status": "4", "initiator": "demo-crm"}, [1001]),
    ],
)
def test_card_filters_use_wire_names_and_django_lookups(
    fake: FakeAMcards, query: dict[str, str], expected: list[int]
) -> None:
    listing = body(get(fake, API + "card/", **query))
    assert [card["id"] for card in listing["objects"]] == expected
    assert listing["meta"]["total_count"] == len(expected)


def test_card_count_reads_total_count_with_limit_1(fake: FakeAMcards) -> None:
    listing = body(get(fake, API + "card/", limit=1, status="2"))
    assert listing["meta"]["total_count"] == 2
    assert len(listing["objects"]) == 1


def test_contact_filters_match_string_and_number_ids(
    fake: FakeAMcards,
) -> None:
    for wanted in ("301", "302"):
        listing = body(get(fake, API + "contact/", id=wanted))
        assert [str(c["id"]) for c in listing["objects"]] == [wanted]
    smiths = body(get(fake, API + "contact/", last_name="Souza"))
    assert [c["first_name"] for c in smiths["objects"]] == ["Ana"]


def test_credit_transaction_filters(fake: FakeAMcards) -> None:
    paid = body(get(fake, API + "credittransaction/", amount_paid_int__gt=0))
    assert [row["id"] for row in paid["objects"]] == [701]


@pytest.mark.parametrize(
    "query",
    [
        {"no_such_field": "1"},
        {"shipping_address": "x"},
        {"status": "two"},
        {"status__gt": "x"},
        {"order_by": "nothing"},
    ],
)
def test_unknown_filter_fields_and_bad_values_are_400(
    fake: FakeAMcards, query: dict[str, str]
) -> None:
    response = get(fake, API + "card/", **query)
    assert response.status == 400
    assert body(response)["message"]


def test_order_by_sorts_either_way(fake: FakeAMcards) -> None:
    down = body(get(fake, API + "card/", order_by="-send_date"))
    dates = [c["send_date"] for c in down["objects"]]
    assert dates == sorted(dates, reverse=True)
    up = body(get(fake, API + "card/", order_by="status"))
    assert [c["status"] for c in up["objects"]] == [0, 2, 2, 4, 7, 12]


# Contacts ----------------------------------------------------------------


def contact_body(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "first_name": "Nia",
        "last_name": "Okoro",
        "address_line_1": "5 Elm Street",
        "city": "Dayton",
        "state": "OH",
        "postal_code": "45402",
        "owner": f"{API}user/{DEMO_USER_ID}/",
        "notes": "",
        "groups": "",
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_create_contact_answers_201_and_the_contact_is_listed(
    fake: FakeAMcards, clock: Clock
) -> None:
    response = post(
        fake, API + "contact/", contact_body(phone_number="9375550100")
    )
    assert response.status == 201
    assert response.body == b""
    location = response.header("Location")
    assert location is not None
    contact = body(get(fake, location))
    assert contact["first_name"] == "Nia"
    assert contact["phone_number"] == "9375550100"
    assert contact["email_address"] == ""
    assert contact["country"] == ""
    assert contact["added"] == clock.now.isoformat()
    assert isinstance(contact["id"], str)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"city": None}, "city"),
        ({"state": ""}, "state"),
        ({"phone_number": "555-0100"}, "phone_number"),
        ({"phone_number": "123"}, "phone_number"),
        ({"birth_month": "13"}, "birth_month"),
        ({"owner": "me"}, "owner"),
        ({"email": "a@example.com"}, "email"),
    ],
)
def test_create_contact_refuses_bad_data_with_400(
    fake: FakeAMcards, changes: dict[str, Any], words: str
) -> None:
    response = post(fake, API + "contact/", contact_body(**changes))
    assert response.status == 400
    assert words in body(response)["message"]


def test_create_contact_for_another_user_is_403(fake: FakeAMcards) -> None:
    payload = contact_body(owner=f"{API}user/2/")
    assert post(fake, API + "contact/", payload).status == 403


def test_delete_contact_answers_204_then_404(fake: FakeAMcards) -> None:
    path = f"{API}contact/{DEMO_CONTACT_ID}/"
    response = delete(fake, path)
    assert response.status == 204
    assert response.body == b""
    assert get(fake, path).status == 404
    assert delete(fake, path).status == 404


def test_deleting_another_users_contact_is_403_and_keeps_it(
    fake: FakeAMcards,
) -> None:
    path = f"{API}contact/{OTHER_CONTACT_ID}/"
    assert delete(fake, path).status == 403
    assert get(fake, path, DEMO_OTHER_ACCESS_TOKEN).status == 200


# Send card ---------------------------------------------------------------


def test_send_card_answers_card_cost_user_and_message(
    fake: FakeAMcards,
) -> None:
    response = send_card(fake)
    assert response.status == 200
    answer = body(response)
    assert set(answer) == {"card", "total_cost", "user", "message"}
    assert answer["total_cost"] == 435
    assert answer["user"] == DEMO_EMAIL
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS - 435
    assert fake.cards_created == 1


def test_a_sent_card_carries_the_wire_fields(
    fake: FakeAMcards, clock: Clock
) -> None:
    answer = body(
        send_card(
            fake,
            organization="Mullins Co",
            third_party_contact_id="crm-9",
            extra_data={"carMake": "Honda"},
            send_date="2024-06-01",
        )
    )
    card = body(get(fake, f"{API}card/{answer['card']}/"))
    assert set(card) == set(FIELDS["card"])
    assert card["amount_charged"] == 4.35
    assert isinstance(card["amount_charged"], float)
    assert card["total_amount_charged_cents"] == 435
    assert card["status"] == 0
    assert card["initiator"] == "tests"
    assert card["send_date"] == "2024-06-01"
    assert card["created"] == "2024-05-10T09:30:00"
    assert card["fulfilled"] is None
    assert card["is_international"] is False
    assert card["template_name"] == "Thank You"
    assert card["campaign_pk"] is None
    assert card["ship_to_line_1"] == "2285 Reppert Road"
    assert card["ship_to_postal"] == "48075"
    assert card["ship_to_organization"] == "Mullins Co"
    assert card["third_party_contact_id"] == "crm-9"
    assert card["extra_data"] == "{'carMake': 'Honda'}"
    assert card["return_to_first_name"] == "Dana"
    assert card["return_to_line_1"] == "100 Example Street"
    assert card["return_to_postal"] == "62701"


def test_without_a_send_date_the_card_goes_tomorrow(
    fake: FakeAMcards,
) -> None:
    answer = body(send_card(fake))
    card = body(get(fake, f"{API}card/{answer['card']}/"))
    assert card["send_date"] == "2024-05-11"
    assert card["ship_to_organization"] == ""
    assert card["third_party_contact_id"] == ""


def test_return_fields_override_the_users_address(fake: FakeAMcards) -> None:
    answer = body(
        send_card(fake, return_first_name="Shop", return_postal_code="10001")
    )
    card = body(get(fake, f"{API}card/{answer['card']}/"))
    assert card["return_to_first_name"] == "Shop"
    assert card["return_to_postal"] == "10001"
    assert card["return_to_last_name"] == "Demo"


@pytest.mark.parametrize(
    ("changes", "cost", "international"),
    [
        ({}, 367 + 68, False),
        ({"country": "usa"}, 367 + 68, False),
        ({"country": None}, 367 + 68, False),
        ({"country": "CA"}, 367 + 150, True),
        ({"return_country": "GB"}, 367 + 150, True),
        (
            {"template_id": DEMO_GIFT_TEMPLATE_ID},
            367 + 68 + 1500 + 395,
            False,
        ),
        ({"template_id": str(DEMO_QUICKSEND_ID)}, 367 + 68, False),
    ],
)
def test_card_cost_follows_postage_and_gifts(
    fake: FakeAMcards,
    changes: dict[str, Any],
    cost: int,
    international: bool,
) -> None:
    answer = body(send_card(fake, **changes))
    assert answer["total_cost"] == cost
    card = body(get(fake, f"{API}card/{answer['card']}/"))
    assert card["is_international"] is international
    assert card["total_amount_charged_cents"] == cost
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS - cost


def test_each_send_records_a_credit_transaction(fake: FakeAMcards) -> None:
    send_card(fake)
    rows = body(get(fake, API + "credittransaction/"))["objects"]
    last = rows[-1]
    assert last["amount_int"] == -435
    assert last["before_int"] == DEMO_CREDITS
    assert last["after_int"] == DEMO_CREDITS - 435
    assert last["amount_paid_int"] == 0


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"city": None, "state": ""}, "city, state"),
        ({"postal_code": None}, "postal_code"),
        ({"send_date": "05/01/2024"}, "send_date"),
        ({"send_date": "2024-02-30"}, "send_date"),
        ({"template_id": "abc"}, "template_id"),
        ({"template_id": None}, "template_id"),
        ({"initiator": ""}, "initiator"),
        ({"extra_data": {"n": 1}}, "extra_data"),
        ({"extra_data": "text"}, "extra_data"),
        ({"shipping_address": {}}, "shipping_address"),
        ({"return_organization": "x"}, "return_organization"),
        ({"city": ["x"]}, "city"),
    ],
)
def test_send_card_refuses_bad_data_with_400_and_charges_nothing(
    fake: FakeAMcards, changes: dict[str, Any], words: str
) -> None:
    response = send_card(fake, **changes)
    assert response.status == 400
    assert words in body(response)["message"]
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS
    assert fake.cards_created == 0


@pytest.mark.parametrize("template_id", [OTHER_TEMPLATE_ID, 424242])
def test_a_template_that_is_not_yours_is_403(
    fake: FakeAMcards, template_id: int
) -> None:
    assert send_card(fake, template_id=template_id).status == 403
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS


def test_short_credits_give_402_and_touch_nothing(fake: FakeAMcards) -> None:
    fake.set_credits(DEMO_USER_ID, 434)
    before = card_ids(fake)
    response = send_card(fake)
    assert response.status == 402
    assert "credits" in body(response)["message"]
    assert fake.credits(DEMO_USER_ID) == 434
    assert card_ids(fake) == before
    assert fake.cards_created == 0


def test_exact_credits_are_enough(fake: FakeAMcards) -> None:
    fake.set_credits(DEMO_USER_ID, 435)
    assert send_card(fake).status == 200
    assert fake.credits(DEMO_USER_ID) == 0


def test_a_body_that_is_not_json_is_400(fake: FakeAMcards) -> None:
    headers = [*auth(DEMO_ACCESS_TOKEN), ("Content-Type", "application/json")]
    request = Request("POST", "/cards/open-card-form-oa/", (), headers, b"{")
    assert fake.handle(request).status == 400
    plain = [*auth(DEMO_ACCESS_TOKEN), ("Content-Type", "text/plain")]
    request = Request("POST", "/cards/open-card-form-oa/", (), plain, b"{}")
    assert fake.handle(request).status == 400


# Send cards (mailings) ---------------------------------------------------


def test_send_cards_answers_a_mailing_uri(fake: FakeAMcards) -> None:
    response = send_cards(fake)
    assert response.status == 200
    answer = body(response)
    assert set(answer) == {"mailing_uri", "user", "message"}
    assert answer["mailing_uri"].startswith(f"{API}mailing/")
    assert answer["user"] == DEMO_EMAIL
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS - 2 * 435


def test_a_mailing_is_processing_until_processed(clock: Clock) -> None:
    fake = FakeAMcards.demo(clock=clock, hold_mailings=True)
    uri = body(send_cards(fake))["mailing_uri"]
    assert body(get(fake, uri))["status"] == 1
    mailing_id = uri.rstrip("/").rsplit("/", 1)[1]
    assert body(get(fake, API + "card/", mailing=mailing_id))["objects"] == []
    assert fake.process_mailings() == 2
    assert body(get(fake, uri))["status"] == 0
    cards = body(get(fake, API + "card/", mailing=mailing_id))["objects"]
    assert [c["ship_to_first_name"] for c in cards] == ["Ralph", "Rita"]
    assert {c["send_date"] for c in cards} == {"2024-05-10"}
    assert fake.cards_created == 2


def test_by_default_a_mailings_cards_appear_on_the_next_request(
    fake: FakeAMcards,
) -> None:
    before = len(card_ids(fake))
    uri = body(send_cards(fake))["mailing_uri"]
    assert len(card_ids(fake)) == before + 2
    assert body(get(fake, uri))["status"] == 0


def test_send_cards_on_a_specific_date(fake: FakeAMcards) -> None:
    uri = body(
        send_cards(fake, send_type="specific_date", send_date="2024-07-04")
    )["mailing_uri"]
    mailing_id = uri.rstrip("/").rsplit("/", 1)[1]
    cards = body(get(fake, API + "card/", mailing=mailing_id))["objects"]
    assert {c["send_date"] for c in cards} == {"2024-07-04"}


def test_one_bad_recipient_stops_the_mailing_unless_told_otherwise(
    fake: FakeAMcards,
) -> None:
    recipients = [RALPH, {**RALPH, "city": ""}]
    response = send_cards(fake, recipients=recipients)
    assert response.status == 400
    assert "recipients[1].city" in body(response)["message"]
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS
    response = send_cards(
        fake, recipients=recipients, send_even_if_error="true"
    )
    assert response.status == 200
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS - 435


@pytest.mark.parametrize(
    "changes",
    [
        {"recipients": []},
        {"send_even_if_error": False},
        {"send_type": "later"},
        {"send_type": "specific_date", "send_date": None},
        {"offset_type": "after"},
    ],
)
def test_send_cards_refuses_bad_options(
    fake: FakeAMcards, changes: dict[str, Any]
) -> None:
    assert send_cards(fake, **changes).status == 400


def test_send_cards_with_short_credits_is_402(fake: FakeAMcards) -> None:
    fake.set_credits(DEMO_USER_ID, 600)
    assert send_cards(fake).status == 402
    assert fake.credits(DEMO_USER_ID) == 600
    assert fake.objects("mailing", owner=DEMO_USER_ID)[-1]["id"] == (
        DEMO_MAILING_ID
    )


def test_send_cards_with_another_users_template_is_403(
    fake: FakeAMcards,
) -> None:
    assert send_cards(fake, template_id=OTHER_TEMPLATE_ID).status == 403


# Campaigns ---------------------------------------------------------------


def test_campaign_cost_prices_each_applicable_drip(fake: FakeAMcards) -> None:
    path = "/campaigns/calculate-campaign-price/"
    payload: dict[str, Any] = {
        "campaign_id": DEMO_CAMPAIGN_ID,
        "recipients": [RALPH],
    }
    assert body(post(fake, path, payload)) == {"pricing": {"total_cost": 435}}
    birthday = {**RALPH, "birth_month": "12", "birth_day": "25"}
    payload["recipients"] = [birthday]
    total = 435 + 435 + 1500 + 395
    assert body(post(fake, path, payload))["pricing"]["total_cost"] == total
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS


def test_campaign_cost_of_another_users_campaign_is_403(
    fake: FakeAMcards,
) -> None:
    payload = {"campaign_id": OTHER_CAMPAIGN_ID, "recipients": [RALPH]}
    path = "/campaigns/calculate-campaign-price/"
    assert post(fake, path, payload).status == 403


def test_send_campaign_makes_one_card_per_drip(fake: FakeAMcards) -> None:
    response = send_campaign(
        fake,
        campaign_id=DEMO_CAMPAIGN_ID,
        birth_date="1990-05-20",
        send_date="2024-05-12",
    )
    assert response.status == 200
    answer = body(response)
    assert set(answer) == {"mailing", "cards", "user", "message"}
    assert len(answer["cards"]) == 2
    assert "$27.65" in answer["message"]
    cards = [body(get(fake, f"{API}card/{i}/")) for i in answer["cards"]]
    assert {c["campaign_pk"] for c in cards} == {DEMO_CAMPAIGN_ID}
    assert [c["send_date"] for c in cards] == ["2024-05-12", "2024-05-20"]
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS - 2765
    mailing = body(get(fake, f"{API}mailing/{answer['mailing']}/"))
    assert mailing["status"] == 0


def test_a_birthday_already_past_this_year_goes_next_year(
    fake: FakeAMcards,
) -> None:
    answer = body(
        send_campaign(
            fake,
            campaign_id=DEMO_CAMPAIGN_ID,
            birth_date="02-29",
            send_date="2025-03-01",
        )
    )
    dates = [
        body(get(fake, f"{API}card/{i}/"))["send_date"]
        for i in answer["cards"]
    ]
    assert dates == ["2025-03-01", "2026-02-28"]


def test_anniversary_and_fixed_drips(fake: FakeAMcards) -> None:
    answer = body(
        send_campaign(
            fake, anniversary_date="2015-06-20", send_date="2024-06-01"
        )
    )
    dates = [
        body(get(fake, f"{API}card/{i}/"))["send_date"]
        for i in answer["cards"]
    ]
    assert dates == ["2024-06-01", "2024-07-01", "2024-06-20"]


def test_a_blocking_campaign_refuses_a_repeat_with_409_even_with_bypass(
    fake: FakeAMcards,
) -> None:
    assert send_campaign(fake).status == 200
    spent = fake.credits(DEMO_USER_ID)
    again = send_campaign(
        fake, first_name="RALPH", address_line_1="2285  reppert road"
    )
    assert again.status == 409
    assert "message" in body(again)
    assert fake.credits(DEMO_USER_ID) == spent


def test_a_campaign_allowing_duplicates_sends_again(
    fake: FakeAMcards,
) -> None:
    first = send_campaign(fake, campaign_id=DEMO_CAMPAIGN_ID)
    second = send_campaign(fake, campaign_id=DEMO_CAMPAIGN_ID)
    assert (first.status, second.status) == (200, 200)


def test_bypass_false_checks_duplicates_on_any_campaign(
    fake: FakeAMcards,
) -> None:
    assert send_campaign(fake, campaign_id=DEMO_CAMPAIGN_ID).status == 200
    again = send_campaign(
        fake, campaign_id=DEMO_CAMPAIGN_ID, bypass_duplicate_check=False
    )
    assert again.status == 409


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"campaign_id": OTHER_CAMPAIGN_ID}, 403),
        ({"campaign_id": 999999}, 403),
        ({"phone_number": "555-123-4567"}, 400),
        ({"phone_number": "25551234567"}, 400),
        ({"phone_number": "15551234567"}, 200),
        ({"birth_date": "1990-13-01"}, 400),
        ({"birth_date": "12-25"}, 200),
        ({"anniversary_date": "06-20"}, 400),
        ({"bypass_duplicate_check": "maybe"}, 400),
        ({"last_name": None}, 400),
    ],
)
def test_send_campaign_checks(
    fake: FakeAMcards, changes: dict[str, Any], status: int
) -> None:
    assert send_campaign(fake, **changes).status == status


def test_send_campaign_with_short_credits_is_402(fake: FakeAMcards) -> None:
    fake.set_credits(DEMO_USER_ID, 500)
    assert send_campaign(fake).status == 402
    assert fake.credits(DEMO_USER_ID) == 500
    assert send_campaign(fake).status == 402  # not remembered as sent


def test_a_campaign_with_no_applicable_drip_is_400(fake: FakeAMcards) -> None:
    only_birthday = fake.add_campaign(
        owner=DEMO_USER_ID,
        title="Birthdays only",
        drips=[{"kind": "birthday", "template_id": DEMO_TEMPLATE_ID}],
    )
    assert send_campaign(fake, campaign_id=only_birthday).status == 400


def test_send_campaign_multi_counts_scheduled_and_duplicates(
    fake: FakeAMcards,
) -> None:
    send_campaign(fake)  # Ralph has had it already
    contacts = [
        {**RALPH, "third_party_contact_id": "crm-1"},
        {**RALPH, "first_name": "Rita", "third_party_contact_id": "crm-2"},
        {**RALPH, "first_name": "Rita"},
        {**RALPH, "first_name": "Ravi", "extra_data": {"k": "v"}},
    ]
    payload = {
        "campaign_id": DEMO_NO_DUPLICATES_CAMPAIGN_ID,
        "initiator": "tests",
        "contacts": contacts,
    }
    response = post(fake, "/campaigns/open-campaign-multi-form/", payload)
    assert response.status == 200
    answer = body(response)
    assert answer["contacts_scheduled_count"] == 2
    assert answer["duplicate_contacts_count"] == 2
    assert answer["contacts_scheduled_third_party_contact_ids"] == ["crm-2"]
    assert isinstance(answer["mailing_id"], int)
    assert isinstance(answer["message"], str)
    cards = body(get(fake, API + "card/", mailing=answer["mailing_id"]))
    assert cards["meta"]["total_count"] == 4
    ravi = [c for c in cards["objects"] if c["ship_to_first_name"] == "Ravi"]
    assert {c["extra_data"] for c in ravi} == {"{'k': 'v'}"}


def test_multi_with_only_duplicates_has_no_mailing(fake: FakeAMcards) -> None:
    send_campaign(fake)
    payload = {
        "campaign_id": DEMO_NO_DUPLICATES_CAMPAIGN_ID,
        "initiator": "tests",
        "contacts": [RALPH],
    }
    answer = body(post(fake, "/campaigns/open-campaign-multi-form/", payload))
    assert answer["mailing_id"] is None
    assert answer["contacts_scheduled_count"] == 0
    assert answer["duplicate_contacts_count"] == 1


def test_multi_refuses_a_bad_contact_whole(fake: FakeAMcards) -> None:
    payload = {
        "campaign_id": DEMO_CAMPAIGN_ID,
        "initiator": "tests",
        "contacts": [RALPH, {**RALPH, "state": ""}],
    }
    response = post(fake, "/campaigns/open-campaign-multi-form/", payload)
    assert response.status == 400
    assert "contacts[1].state" in body(response)["message"]
    assert fake.cards_created == 0


# OAuth refresh -----------------------------------------------------------


def test_refresh_rotates_the_refresh_token(fake: FakeAMcards) -> None:
    response = refresh(fake)
    assert response.status == 200
    tokens = body(response)
    assert {"access_token", "refresh_token", "expires_in"} <= set(tokens)
    assert tokens["expires_in"] == 36000
    assert tokens["refresh_token"] != DEMO_REFRESH_TOKEN
    assert get(fake, API + "user/", tokens["access_token"]).status == 200
    reused = refresh(fake)
    assert reused.status == 400
    assert body(reused)["error"] == "invalid_grant"
    again = refresh(fake, refresh_token=tokens["refresh_token"])
    assert again.status == 200


def test_the_old_access_token_keeps_working_until_its_expiry(
    fake: FakeAMcards, clock: Clock
) -> None:
    first = body(refresh(fake))
    second = body(refresh(fake, refresh_token=first["refresh_token"]))
    assert get(fake, API + "user/", first["access_token"]).status == 200
    clock.now = NOW + dt.timedelta(seconds=36000)
    assert get(fake, API + "user/", first["access_token"]).status == 401
    assert get(fake, API + "user/", second["access_token"]).status == 401
    assert get(fake, API + "user/", DEMO_ACCESS_TOKEN).status == 200


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"refresh_token": "nope"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_refresh_refusals(
    fake: FakeAMcards, changes: dict[str, str], status: int, error: str
) -> None:
    response = refresh(fake, **changes)
    assert response.status == status
    assert body(response)["error"] == error


def test_refresh_wants_a_form_body(fake: FakeAMcards) -> None:
    headers = [("Content-Type", "application/json")]
    data = json.dumps({"grant_type": "refresh_token"}).encode()
    request = Request("POST", "/oauth2/token/", (), headers, data)
    assert fake.handle(request).status == 400
    assert refresh(fake).status == 200  # the token was not used up


# Counters, clock, reset, threads ----------------------------------------


def test_counters_count_requests_cards_and_credits(fake: FakeAMcards) -> None:
    get(fake, API + "user/")
    get(fake, API + "user/")
    send_card(fake)
    assert fake.requests_seen == {
        "GET /.api/v1/user/": 2,
        "POST /cards/open-card-form-oa/": 1,
    }
    assert fake.request_count == 3
    counters = fake.counters()
    assert counters["cards_created"] == 1
    assert counters["credits"][str(DEMO_USER_ID)] == DEMO_CREDITS - 435
    assert counters["objects"]["card"] == 8
    json.dumps(counters)


def test_reset_restores_the_demo_account(fake: FakeAMcards) -> None:
    send_card(fake)
    fake.add_fault(Fault("status", status=500))
    fake.reset()
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS
    assert fake.request_count == 0
    assert fake.cards_created == 0
    assert fake.faults.pending() == []
    fake.reset(empty=True)
    assert fake.objects("user") == []
    assert get(fake, API + "user/").status == 401


def test_reset_restores_the_settings_the_service_was_made_with() -> None:
    """Settings changed since (as the control API does) are undone;
    settings given when the service was made are kept."""
    fake = FakeAMcards.demo(clock=Clock(), hold_mailings=True)
    fake.hold_mailings = False
    fake.token_lifetime = 60
    fake.reset()
    assert fake.hold_mailings is True
    assert fake.token_lifetime == 36000
    made = FakeAMcards(clock=Clock(), token_lifetime=90)
    made.token_lifetime = 5
    made.hold_mailings = True
    made.reset(empty=True)
    assert (made.hold_mailings, made.token_lifetime) == (False, 90)


def test_an_aware_clock_is_read_as_utc() -> None:
    zone = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2024, 5, 10, 11, 30, tzinfo=zone)
    fake = FakeAMcards.demo(clock=lambda: moment)
    answer = body(send_card(fake))
    card = body(get(fake, f"{API}card/{answer['card']}/"))
    assert card["created"] == "2024-05-10T09:30:00"


def test_concurrent_sends_lose_no_credits(fake: FakeAMcards) -> None:
    fake.set_credits(DEMO_USER_ID, 100_000)

    def worker() -> None:
        for _ in range(20):
            assert send_card(fake).status == 200

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.cards_created == 160
    assert fake.credits(DEMO_USER_ID) == 100_000 - 160 * 435
    assert len(set(card_ids(fake))) == 6 + 160


def test_an_empty_service_can_be_seeded_from_python() -> None:
    fake = FakeAMcards(clock=Clock())
    user = fake.add_user(
        email="solo@example.com",
        credits=1000,
        country="GB",
        domestic_countries=["GB"],
        domestic_cost=100,
        international_cost=200,
        greeting_card_cost=300,
    )
    fake.add_access_token("solo-token", user)
    template = fake.add_template(owner=user, name="Hello")
    payload = {"template_id": template, "initiator": "t", **RALPH}
    answer = body(
        post(fake, "/cards/open-card-form-oa/", payload, "solo-token")
    )
    assert answer["total_cost"] == 500  # US is international here


# The transport -----------------------------------------------------------


def user_request() -> Request:
    return Request("GET", API + "user/", (), auth(DEMO_ACCESS_TOKEN))


def card_request() -> Request:
    headers = [*auth(DEMO_ACCESS_TOKEN), ("Content-Type", "application/json")]
    data = json.dumps({"template_id": 1, "initiator": "t", **RALPH}).encode()
    return Request("POST", "/cards/open-card-form-oa/", (), headers, data)


def test_fake_transport_is_a_transport_over_the_demo_by_default() -> None:
    with FakeTransport() as transport:
        assert isinstance(transport, Transport)
        assert transport.send(user_request()).status == 200
        assert transport.requests[0].path == API + "user/"
    assert transport.closed


def test_a_status_fault_answers_instead_of_the_service(
    fake: FakeAMcards,
) -> None:
    transport = FakeTransport(fake)
    fake.add_fault(
        Fault("status", status=429, retry_after="3", path=API + "user/")
    )
    response = transport.send(user_request())
    assert response.status == 429
    assert response.header("Retry-After") == "3"
    assert fake.requests_seen == {"GET /.api/v1/user/": 1}
    assert transport.send(user_request()).status == 200


def test_an_html_fault_sends_an_html_page(fake: FakeAMcards) -> None:
    fake.add_fault(Fault("html", count=2))
    transport = FakeTransport(fake)
    for _ in range(2):
        response = transport.send(user_request())
        assert response.status == 502
        content_type = response.header("Content-Type") or ""
        assert content_type.startswith("text/html")
        assert b"<html>" in response.body
    assert transport.send(user_request()).status == 200


def test_faults_wait_for_their_method_and_path(fake: FakeAMcards) -> None:
    fake.add_fault(Fault("status", status=500, method="POST"))
    transport = FakeTransport(fake)
    assert transport.send(user_request()).status == 200
    assert transport.send(card_request()).status == 500
    assert fake.cards_created == 0


def test_drop_before_loses_the_request(fake: FakeAMcards) -> None:
    fake.add_fault(Fault("drop_before"))
    with pytest.raises(ConnectionLostError):
        FakeTransport(fake).send(card_request())
    assert fake.cards_created == 0
    assert fake.requests_seen == {"POST /cards/open-card-form-oa/": 1}


def test_drop_after_commits_the_send_then_loses_the_answer(
    fake: FakeAMcards,
) -> None:
    fake.add_fault(Fault("drop_after"))
    with pytest.raises(ConnectionLostError) as caught:
        FakeTransport(fake).send(card_request())
    assert caught.value.request_sent
    assert fake.cards_created == 1
    assert fake.credits(DEMO_USER_ID) == DEMO_CREDITS - 435


def test_a_slow_answer_waits_or_times_out(fake: FakeAMcards) -> None:
    waits: list[float] = []
    transport = FakeTransport(fake, sleep=waits.append)
    fake.add_fault(Fault("slow", delay=2.0, count=2))
    assert transport.send(user_request()).status == 200
    with pytest.raises(ReadTimeoutError):
        transport.send(card_request(), timeout=Timeout(read=0.5))
    assert waits == [2.0, 0.5]
    assert fake.cards_created == 1  # the server still did the work


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "explode"},
        {"kind": "status", "count": 0},
        {"kind": "slow", "delay": -1},
        {"kind": "status", "status": 999},
        {"kind": "status", "colour": "red"},
        {},
    ],
)
def test_bad_faults_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Fault.from_json(data)


# Standing apart ----------------------------------------------------------


def test_the_fake_imports_nothing_from_the_clients_core_but_http() -> None:
    code = (
        "import sys, amcards.transports.fake\n"
        "print(sorted(m for m in sys.modules if m.startswith('amcards.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(eval(result.stdout))
    core = {m for m in loaded if m.startswith("amcards.core")}
    assert core <= {"amcards.core", "amcards.core.http", "amcards.core.errors"}


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "status", "path": 5},
        {"kind": "status", "method": 5},
        {"kind": "slow", "delay": 1e308},
        {"kind": "slow", "delay": "x"},
        {"kind": "slow", "delay": -1},
        {"kind": "status", "count": 1.5},
    ],
)
def test_a_fault_the_server_could_not_apply_is_refused(
    data: dict[str, object],
) -> None:
    """Bad fault settings are refused when queued, naming the field, so a
    typo cannot break every later request."""
    from amcards.transports.fake.faults import Fault

    with pytest.raises(ValueError, match=r"path|method|delay|count"):
        Fault.from_json(data)


# Seeding refusals ----------------------------------------------------------

ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"templates": [{"name": "n"}]}, "templates[0]: 'owner' is required"),
        (
            {"templates": [{"owner": "x", "name": "n"}]},
            "templates[0]: 'owner' must be a whole number, got \"x\"",
        ),
        (
            {"templates": [{"owner": 999, "name": "n"}]},
            "templates[0]: 'owner' is 999, but there is no user 999",
        ),
        (
            {"templates": [{"owner": 1, "name": "n", "colour": "red"}]},
            "templates[0]: unknown field 'colour'; expected one of owner,",
        ),
        (
            {"quicksends": [{"owner": 1, "name": "n", "quicksend": False}]},
            "quicksends[0]: unknown field 'quicksend'",
        ),
        (
            {"templates": [{"owner": 1, "name": "n", "gifts": [{}]}]},
            "templates[0].gifts[0]: 'gift_name' is required",
        ),
        (
            {
                "templates": [
                    {
                        "owner": 1,
                        "name": "n",
                        "gifts": [{"gift_name": "g", "price": "x"}],
                    }
                ]
            },
            "templates[0].gifts[0]: 'price' must be a whole number, got",
        ),
        (
            {"campaigns": [{"owner": 1, "title": "t", "drips": [{}]}]},
            "campaigns[0].drips[0]: 'template_id' is required",
        ),
        (
            {
                "campaigns": [
                    {"owner": 1, "title": "t", "drips": [{"kind": "yearly"}]}
                ]
            },
            "campaigns[0].drips[0]: 'kind' must be one of fixed, birthday",
        ),
        (
            {"users": [{"email": "a@example.com", "credits": "lots"}]},
            "users[0]: 'credits' must be a whole number, got \"lots\"",
        ),
        (
            {"users": [{"email": "a@example.com", "id": 1}]},
            "users[0]: 'id' 1 is taken: there is already a user",
        ),
        (
            {"users": [{"email": "a@example.com", "date_joined": "x"}]},
            "users[0]: 'date_joined' must be an ISO date and time",
        ),
        (
            {
                "users": [
                    {"email": "a@example.com", "domestic_countries": "US"}
                ]
            },
            "users[0]: 'domestic_countries' must be a list of text values",
        ),
        (
            {"access_tokens": [{"token": "t", "user_id": 1, "expires_at": 5}]},
            "access_tokens[0]: 'expires_at' must be text or null, got 5",
        ),
        (
            {
                "cards": [
                    {"owner": 1, "template_id": 1, "shipping_address": "x"}
                ]
            },
            "cards[0]: 'shipping_address' must be an object of text values",
        ),
        (
            {
                "cards": [
                    {"owner": 1, "template_id": 99, "shipping_address": {}}
                ]
            },
            "cards[0]: 'template_id' is 99, but there is no template 99",
        ),
        (
            {"contacts": [{"owner": 1, "hobby": "chess", **ADDRESS}]},
            "contacts[0]: unknown field 'hobby'; expected one of owner,",
        ),
        (
            {"contacts": [{"owner": 1, "notes": 5, **ADDRESS}]},
            "contacts[0]: 'notes' must be text, got 5",
        ),
        (
            {"mailings": [{"owner": 1, "card_ids": [999]}]},
            "mailings[0]: 'card_ids' holds 999, but there is no card 999",
        ),
        ({"credits": {"x": 1}}, "credits: 'x' is not a user id"),
        ({"credits": {"999": 1}}, "credits: there is no user 999"),
        ({"credits": {"1": "x"}}, "credits['1'] must be a whole number"),
        ({"credits": []}, "credits: expected an object mapping user ids"),
        ({"templates": {}}, "templates: expected a list of objects, got {}"),
        ({"templates": ["x"]}, 'templates[0]: expected an object, got "x"'),
        ({"gadgets": []}, "unknown section 'gadgets'; expected one of"),
    ],
)
def test_a_bad_seed_names_the_field_and_what_was_expected(
    data: dict[str, Any], message: str
) -> None:
    """Seed refusals read as "section[i]: 'field' ..." in plain words,
    never Python's own wording, and add nothing."""
    fake = FakeAMcards.demo(clock=Clock())
    before = fake.counters()["objects"]
    with pytest.raises(ValueError) as caught:
        fake.seed(data)
    assert str(caught.value).startswith("seed refused: " + message)
    for internal in ("invalid literal", "argument", "could not convert"):
        assert internal not in str(caught.value)
    assert fake.counters()["objects"] == before


def test_a_good_seed_still_takes_every_section() -> None:
    fake = FakeAMcards(clock=Clock())
    ids = fake.seed(
        {
            "users": [{"email": "a@example.com", "id": 7}],
            "access_tokens": [{"token": "t", "user_id": 7}],
            "oauth_clients": [{"client_id": "c", "client_secret": "s"}],
            "refresh_tokens": [{"token": "r", "user_id": 7, "client_id": "c"}],
            "templates": [
                {
                    "owner": 7,
                    "name": "n",
                    "gifts": [{"gift_name": "g", "price": 100}],
                }
            ],
            "quicksends": [{"owner": 7, "name": "q"}],
            "contacts": [{"owner": 7, "country": "US", **ADDRESS}],
            "credits": {"7": 900},
        }
    )
    assert ids["users"] == [7]
    assert fake.credits(7) == 900
    campaign = fake.seed(
        {
            "campaigns": [
                {
                    "owner": 7,
                    "title": "t",
                    "drips": [{"template_id": ids["templates"][0]}],
                }
            ]
        }
    )
    assert len(campaign["campaigns"]) == 1

"""Odd input the fake service must refuse in plain words, never crash on.

Each case once gave a 500 (or was quietly misread); the fake answers a
400 naming the field instead, as it refuses everything else.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from amcards.core.http import Request, Response
from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    DEMO_TEMPLATE_ID,
    DEMO_USER_ID,
    FakeAMcards,
)

NOW = dt.datetime(2024, 5, 10, 9, 30, 0)
API = "/.api/v1/"
AUTH = [("Authorization", f"Bearer {DEMO_ACCESS_TOKEN}")]
JSON = [*AUTH, ("Content-Type", "application/json")]

RALPH = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}

#: Digits that str.isdigit() or int() take but that are not 0-9.
NOT_ASCII = ["\u00b2", "\u0661", "\uff11", "1_0", "+1"]


@pytest.fixture
def fake() -> FakeAMcards:
    return FakeAMcards.demo(clock=lambda: NOW)


def get(fake: FakeAMcards, path: str, **query: str) -> Response:
    return fake.handle(Request("GET", path, list(query.items()), AUTH))


def post(fake: FakeAMcards, path: str, payload: Any) -> Response:
    data = payload if isinstance(payload, bytes) else json.dumps(payload)
    if isinstance(data, str):
        data = data.encode("utf-8")
    return fake.handle(Request("POST", path, (), JSON, data))


def message(response: Response, status: int = 400) -> str:
    assert response.status == status, response.body
    text: str = json.loads(response.body)["message"]
    return text


def send_card(fake: FakeAMcards, **changes: Any) -> Response:
    payload = {"template_id": DEMO_TEMPLATE_ID, "initiator": "t", **RALPH}
    return post(fake, "/cards/open-card-form-oa/", {**payload, **changes})


def contact(fake: FakeAMcards, **changes: Any) -> Response:
    payload = {"owner": f"{API}user/{DEMO_USER_ID}/", **RALPH, **changes}
    return post(fake, API + "contact/", payload)


# Numbers read from text: ASCII digits 0-9 only ---------------------------


@pytest.mark.parametrize("digits", NOT_ASCII)
@pytest.mark.parametrize("name", ["limit", "offset"])
def test_limit_and_offset_take_only_ascii_digits(
    fake: FakeAMcards, name: str, digits: str
) -> None:
    assert name in message(get(fake, API + "card/", **{name: digits}))


@pytest.mark.parametrize("digits", ["\u00b2", "\u0661", "1_0", "1 0"])
@pytest.mark.parametrize("name", ["status", "status__gt", "status__in"])
def test_number_filters_take_only_ascii_digits(
    fake: FakeAMcards, name: str, digits: str
) -> None:
    assert name in message(get(fake, API + "card/", **{name: digits}))


@pytest.mark.parametrize("value", ["nan", "inf", "1e3", "\u0665", "5_0"])
def test_decimal_filters_take_only_plain_decimals(
    fake: FakeAMcards, value: str
) -> None:
    response = get(fake, API + "card/", amount_charged__gt=value)
    assert "amount_charged__gt" in message(response)


def test_number_filters_still_take_negative_and_decimal_numbers(
    fake: FakeAMcards,
) -> None:
    assert get(fake, API + "card/", amount_charged__gt="4.5").status == 200
    listing = get(fake, API + "credittransaction/", amount_int__lt="-1")
    assert listing.status == 200
    assert json.loads(listing.body)["objects"]


def test_a_path_id_of_other_digits_is_not_found(fake: FakeAMcards) -> None:
    assert get(fake, API + "card/\u0661\u0660\u0660\u0661/").status == 404
    assert get(fake, API + "card/" + "9" * 5000 + "/").status == 404


@pytest.mark.parametrize("digits", [*NOT_ASCII, "9" * 5000])
def test_a_template_id_of_other_digits_is_400(
    fake: FakeAMcards, digits: str
) -> None:
    text = message(send_card(fake, template_id=digits))
    assert text.startswith("template_id must be a positive whole number")


@pytest.mark.parametrize("digits", ["\u00b2", "\u0661", "\uff11"])
@pytest.mark.parametrize(
    "name", ["birth_day", "birth_month", "birth_year", "anniversary_day"]
)
def test_contact_date_parts_take_only_ascii_digits(
    fake: FakeAMcards, name: str, digits: str
) -> None:
    assert name in message(contact(fake, **{name: digits}))


def test_a_phone_number_of_other_digits_is_400(fake: FakeAMcards) -> None:
    arabic = "".join(chr(0x0660 + int(d)) for d in "5555550100")
    assert "phone_number" in message(contact(fake, phone_number=arabic))


def test_an_owner_uri_of_other_digits_is_400(fake: FakeAMcards) -> None:
    text = message(contact(fake, owner=f"{API}user/\u0661/"))
    assert "owner" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("birth_date", "\u0660\u0661-\u0660\u0662"),
        ("anniversary_date", "\u0662\u0660\u0662\u0660-01-02"),
        ("send_date", "2024-\u0660\u0666-01"),
    ],
)
def test_campaign_dates_take_only_ascii_digits(
    fake: FakeAMcards, name: str, value: str
) -> None:
    payload = {"campaign_id": DEMO_CAMPAIGN_ID, "initiator": "t", **RALPH}
    response = post(
        fake, "/campaigns/open-campaign-form/", {**payload, name: value}
    )
    assert name in message(response)


def test_date_offset_takes_only_ascii_digits(fake: FakeAMcards) -> None:
    payload = {
        "template_id": DEMO_TEMPLATE_ID,
        "initiator": "t",
        "recipients": [RALPH],
        "date_offset": "\u00b2",
        "send_type": "immediate",
    }
    response = post(fake, "/cards/open-mailing-form/", payload)
    assert "date_offset" in message(response)


@pytest.mark.parametrize("value", ["0", "00", 0])
def test_a_template_id_of_0_is_400_not_403(
    fake: FakeAMcards, value: Any
) -> None:
    text = message(send_card(fake, template_id=value))
    assert text == "template_id must be a positive whole number."


# Filters on values that cannot be ordered --------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("card/", "gifts__gt"),
        ("card/", "gifts__lte"),
        ("user/", "postage__gt"),
        ("user/", "product_pricing_info__lt"),
        ("template/", "gifts__gte"),
    ],
)
def test_a_range_filter_on_a_list_or_object_is_400_naming_it(
    fake: FakeAMcards, path: str, name: str
) -> None:
    text = message(get(fake, API + path, **{name: "a"}))
    assert text == f"Invalid filter {name}: that field cannot be compared."


# Bodies nested too deeply, or with numbers too long ----------------------

DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "path",
    ["/cards/open-card-form-oa/", "/campaigns/open-campaign-form/", "contact"],
)
@pytest.mark.parametrize("raw", [DEEP_ARRAY, DEEP_OBJECT])
def test_a_body_nested_100000_deep_is_400(
    fake: FakeAMcards, path: str, raw: bytes
) -> None:
    path = API + "contact/" if path == "contact" else path
    text = message(post(fake, path, raw))
    assert text == "The body is nested too deeply (more than 32 levels)."


def test_a_body_nested_33_deep_is_400_and_32_is_read(
    fake: FakeAMcards,
) -> None:
    too_deep = send_card(fake, extra_data={"k": nested(32)})
    assert message(too_deep) == (
        "The body is nested too deeply (more than 32 levels)."
    )
    deep_enough = send_card(fake, extra_data={"k": nested(31)})
    assert message(deep_enough) == "extra_data['k'] must be a string."


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b'{"template_id": ' + b"7" * 5000 + b"}", "a number too long"),
        (b"\xff{}", "The body is not UTF-8 text."),
    ],
)
def test_a_body_python_cannot_read_is_400_in_plain_words(
    fake: FakeAMcards, raw: bytes, text: str
) -> None:
    said = message(post(fake, "/cards/open-card-form-oa/", raw))
    assert text in said
    for python in ("sys.set_int_max_str_digits", "codec", "position"):
        assert python not in said


# Seeded numbers the service could not compute with -----------------------


def seed_refusal(data: dict[str, Any]) -> str:
    fake = FakeAMcards.demo(clock=lambda: NOW)
    before = fake.counters()["objects"]
    with pytest.raises(ValueError) as caught:
        fake.seed(data)
    assert fake.counters()["objects"] == before
    return str(caught.value)


def campaign(*drips: dict[str, Any]) -> dict[str, Any]:
    return {"campaigns": [{"owner": 1, "title": "t", "drips": list(drips)}]}


@pytest.mark.parametrize("days", [10**12, -(10**9), -1, 3651])
def test_a_drip_days_after_out_of_range_is_refused_when_seeded(
    days: int,
) -> None:
    text = seed_refusal(campaign({"template_id": 1, "days_after": days}))
    assert text == (
        "seed refused: campaigns[0].drips[0]: 'days_after' must be a whole "
        f"number of days from 0 to 3650, got {days}"
    )


def test_a_drip_at_the_end_of_the_range_is_priced_and_sent(
    fake: FakeAMcards,
) -> None:
    ids = fake.seed(campaign({"template_id": 1, "days_after": 3650}))
    payload = {"campaign_id": ids["campaigns"][0], "initiator": "t", **RALPH}
    answer = post(fake, "/campaigns/open-campaign-form/", payload)
    assert answer.status == 200
    card = json.loads(get(fake, API + "card/", order_by="-id").body)
    assert card["objects"][0]["send_date"] == "2034-05-09"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (
            {"users": [{"email": "e@example.com", "credits": 10**400}]},
            "users[0]: 'credits' must be a whole number of cents from "
            "-1000000000000 to 1000000000000, got 1000",
        ),
        (
            {"users": [{"email": "e@example.com", "domestic_cost": -1}]},
            "users[0]: 'domestic_cost' must be a whole number of cents from "
            "0 to 1000000000000, got -1",
        ),
        (
            {
                "users": [
                    {"email": "e@example.com", "greeting_card_cost": 10**13}
                ]
            },
            "users[0]: 'greeting_card_cost' must be a whole number of cents",
        ),
        (
            {"users": [{"email": "e@example.com", "international_cost": -5}]},
            "users[0]: 'international_cost' must be a whole number of cents",
        ),
        (
            {
                "templates": [
                    {
                        "owner": 1,
                        "name": "n",
                        "gifts": [{"gift_name": "g", "price": 10**400}],
                    }
                ]
            },
            "templates[0].gifts[0]: 'price' must be a whole number of cents",
        ),
        (
            {
                "templates": [
                    {
                        "owner": 1,
                        "name": "n",
                        "gifts": [
                            {
                                "gift_name": "g",
                                "price": 1,
                                "shipping_and_handling": -500,
                            }
                        ],
                    }
                ]
            },
            "templates[0].gifts[0]: 'shipping_and_handling' must be a whole "
            "number of cents from 0 to 1000000000000, got -500",
        ),
        (
            {
                "cards": [
                    {
                        "owner": 1,
                        "template_id": 1,
                        "shipping_address": RALPH,
                        "amount_charged_cents": 10**400,
                    }
                ]
            },
            "cards[0]: 'amount_charged_cents' must be a whole number of cents",
        ),
        (
            {"credits": {"1": 10**400}},
            "credits['1'] must be a whole number of cents from "
            "-1000000000000 to 1000000000000, got 1000",
        ),
    ],
)
def test_money_out_of_range_is_refused_when_seeded(
    data: dict[str, Any], text: str
) -> None:
    assert seed_refusal(data).startswith("seed refused: " + text)


def test_set_credits_refuses_an_amount_out_of_range(fake: FakeAMcards) -> None:
    with pytest.raises(ValueError, match="'credits' must be a whole number"):
        fake.set_credits(DEMO_USER_ID, 10**400)


def test_a_campaign_drip_past_the_calendar_is_400(fake: FakeAMcards) -> None:
    payload = {
        "campaign_id": DEMO_CAMPAIGN_ID,
        "initiator": "t",
        "send_date": "9999-12-31",
        "birth_date": "01-01",
        **RALPH,
    }
    for path in ("/campaigns/open-campaign-form/",):
        text = message(post(fake, path, payload))
        assert text == (
            "send_date is too late: a drip of this campaign would go out "
            "after 9999-12-31."
        )
    cost = {
        "campaign_id": DEMO_CAMPAIGN_ID,
        "send_date": "9999-12-31",
        "recipients": [{**RALPH, "birth_date": "01-01"}],
    }
    response = post(fake, "/campaigns/calculate-campaign-price/", cost)
    assert message(response).startswith("send_date is too late")


@pytest.mark.parametrize(
    ("address", "missing"),
    [
        (
            {k: v for k, v in RALPH.items() if k != "first_name"},
            "'first_name'",
        ),
        (
            {},
            "'first_name', 'last_name', 'address_line_1', 'city', "
            "'postal_code'",
        ),
    ],
)
def test_a_seeded_card_missing_address_fields_says_so_in_words(
    address: dict[str, str], missing: str
) -> None:
    card = {"owner": 1, "template_id": 1, "shipping_address": address}
    assert seed_refusal({"cards": [card]}) == (
        f"seed refused: cards[0]: 'shipping_address' is missing {missing}"
    )


def test_a_bare_key_error_in_a_seed_reads_as_a_missing_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeAMcards.demo(clock=lambda: NOW)

    def add_card(**fields: Any) -> int:
        raise KeyError("city")

    monkeypatch.setattr(fake, "add_card", add_card)
    card = {"owner": 1, "template_id": 1, "shipping_address": RALPH}
    with pytest.raises(ValueError) as caught:
        fake.seed({"cards": [card]})
    assert str(caught.value) == "seed refused: cards[0]: 'city' is missing"


@pytest.mark.parametrize("key", ["\u0661", "1" * 5000])
def test_a_credits_key_that_is_not_a_user_id_is_refused_in_words(
    key: str,
) -> None:
    text = seed_refusal({"credits": {key: 100}})
    assert text.startswith("seed refused: credits: ")
    assert text.endswith(" is not a user id (a whole number)")

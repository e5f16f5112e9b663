"""The demo account the fake service starts with.

Two users: the demo user (``DEMO_ACCESS_TOKEN``) and a second user whose
objects the demo user may not touch, so reading them gives 403.  Every
token and secret here is an obviously fake value; none of them works
anywhere but in this fake service.

Prices follow a US account: a greeting card is $3.67, domestic postage
$0.68 (so a plain card within the US is $4.35) and international postage
$1.50.  The demo user holds $500.00 of credits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amcards.transports.fake.service import FakeAMcards

__all__ = [
    "DEMO_ACCESS_TOKEN",
    "DEMO_CAMPAIGN_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_CONTACT_ID",
    "DEMO_CREDITS",
    "DEMO_EMAIL",
    "DEMO_EXPIRED_ACCESS_TOKEN",
    "DEMO_GIFT_TEMPLATE_ID",
    "DEMO_MAILING_ID",
    "DEMO_NO_DUPLICATES_CAMPAIGN_ID",
    "DEMO_OTHER_ACCESS_TOKEN",
    "DEMO_OTHER_USER_ID",
    "DEMO_QUICKSEND_ID",
    "DEMO_REFRESH_TOKEN",
    "DEMO_RETURNED_CARD_ID",
    "DEMO_TEMPLATE_ID",
    "DEMO_USER_ID",
    "OTHER_CAMPAIGN_ID",
    "OTHER_CARD_ID",
    "OTHER_CONTACT_ID",
    "OTHER_MAILING_ID",
    "OTHER_TEMPLATE_ID",
    "seed_demo",
]

DEMO_ACCESS_TOKEN = "demo-access-token"
DEMO_REFRESH_TOKEN = "demo-refresh-token"
DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_EXPIRED_ACCESS_TOKEN = "demo-expired-access-token"
DEMO_OTHER_ACCESS_TOKEN = "demo-other-access-token"

DEMO_USER_ID = 1
DEMO_EMAIL = "demo@example.com"
DEMO_CREDITS = 50000
DEMO_TEMPLATE_ID = 1
DEMO_GIFT_TEMPLATE_ID = 2
DEMO_QUICKSEND_ID = 51
DEMO_CAMPAIGN_ID = 21
DEMO_NO_DUPLICATES_CAMPAIGN_ID = 22
DEMO_MAILING_ID = 501
DEMO_CONTACT_ID = 301
DEMO_RETURNED_CARD_ID = 1004

DEMO_OTHER_USER_ID = 2
OTHER_TEMPLATE_ID = 9
OTHER_CAMPAIGN_ID = 29
OTHER_CARD_ID = 1099
OTHER_CONTACT_ID = 399
OTHER_MAILING_ID = 599

_THUMBS = "https://static.example.com/fake-amcards/"

_RALPH = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}
_ANA = {
    "first_name": "Ana",
    "last_name": "Souza",
    "address_line_1": "118 Harbor View Drive",
    "city": "Portland",
    "state": "ME",
    "postal_code": "04101",
    "country": "US",
    "organization": "Souza Bakery",
    "third_party_contact_id": "crm-1",
}
_MARC = {
    "first_name": "Marc",
    "last_name": "Tremblay",
    "address_line_1": "77 Rue Sainte-Catherine",
    "city": "Montreal",
    "state": "QC",
    "postal_code": "H2X 1K4",
    "country": "CA",
}


def seed_demo(service: FakeAMcards) -> None:
    """Fill an empty service with the demo account and a second user."""
    _seed_demo_user(service)
    _seed_other_user(service)


def _seed_demo_user(service: FakeAMcards) -> None:
    user = service.add_user(
        id=DEMO_USER_ID,
        email=DEMO_EMAIL,
        first_name="Dana",
        last_name="Demo",
        credits=DEMO_CREDITS,
        phone="5555550100",
        address_line_1="100 Example Street",
        address_line_2="Suite 4",
        city="Springfield",
        state="IL",
        postal_code="62701",
        country="US",
        domestic_cost=68,
        international_cost=150,
        domestic_countries=("US",),
        greeting_card_cost=367,
        date_joined="2021-06-01T08:00:00",
        monthly_report_emails=None,
    )
    service.add_access_token(DEMO_ACCESS_TOKEN, user)
    service.add_access_token(
        DEMO_EXPIRED_ACCESS_TOKEN, user, expires_at="2020-01-01T00:00:00"
    )
    service.add_oauth_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    service.add_refresh_token(DEMO_REFRESH_TOKEN, user, DEMO_CLIENT_ID)

    # Templates: id 1 first, without a gift; then one with a gift.
    service.add_template(
        id=DEMO_TEMPLATE_ID,
        owner=user,
        name="Thank You",
        message="Thank you for your business!",
        thumbnail=_THUMBS + "thank-you.png",
    )
    service.add_template(
        id=DEMO_GIFT_TEMPLATE_ID,
        owner=user,
        name="Happy Birthday with Truffles",
        message="Happy birthday from all of us!",
        thumbnail=_THUMBS + "birthday-truffles.png",
        gifts=[
            {
                "gift_name": "Chocolate Truffles",
                "image": _THUMBS + "truffles.png",
                "price": 1500,
                "shipping_and_handling": 395,
            }
        ],
    )
    service.add_template(
        id=3,
        owner=user,
        name="Happy Anniversary",
        message="",
        thumbnail=_THUMBS + "anniversary.png",
    )
    service.add_template(
        id=DEMO_QUICKSEND_ID,
        owner=user,
        quicksend=True,
        name="Quick Thanks",
        message="Thanks for stopping by!",
        thumbnail=_THUMBS + "quick-thanks.png",
    )

    # Campaigns: one lets duplicates through, one blocks them.
    service.add_campaign(
        id=DEMO_CAMPAIGN_ID,
        owner=user,
        title="Birthday Club",
        send_even_if_duplicate=True,
        drips=[
            {"kind": "fixed", "template_id": DEMO_TEMPLATE_ID},
            {"kind": "birthday", "template_id": DEMO_GIFT_TEMPLATE_ID},
        ],
    )
    service.add_campaign(
        id=DEMO_NO_DUPLICATES_CAMPAIGN_ID,
        owner=user,
        title="New Client Welcome",
        send_even_if_duplicate=False,
        drips=[
            {"kind": "fixed", "template_id": DEMO_TEMPLATE_ID},
            {"kind": "fixed", "template_id": 3, "days_after": 30},
            {"kind": "anniversary", "template_id": 3},
        ],
    )

    # Cards in several statuses and timestamp shapes.
    delivered = service.add_card(
        id=1001,
        owner=user,
        template_id=DEMO_TEMPLATE_ID,
        shipping_address=_RALPH,
        status=4,
        send_date="2024-01-08",
        initiator="demo-crm",
        created="2024-01-05T10:20:30",
        last_modified="2024-01-06T08:00:00.123456",
        fulfilled="2024-01-08 16:45:00",
    )
    in_the_mail = service.add_card(
        id=1002,
        owner=user,
        template_id=DEMO_TEMPLATE_ID,
        shipping_address=_ANA,
        status=2,
        send_date="2024-02-01",
        initiator="demo-crm",
        created="2024-01-30T09:00:00",
        fulfilled="2024-02-01T12:00:00",
    )
    processing = service.add_card(
        id=1003,
        owner=user,
        template_id=DEMO_GIFT_TEMPLATE_ID,
        shipping_address=_ANA,
        status=7,
        send_date="2024-03-15",
        initiator="demo-crm",
        extra_data={"carMake": "Honda"},
        created="2024-03-1414:05:00",
    )
    service.add_card(
        id=DEMO_RETURNED_CARD_ID,
        owner=user,
        template_id=DEMO_TEMPLATE_ID,
        shipping_address={**_RALPH, "address_line_1": "9 Nowhere Lane"},
        status=12,
        send_date="2024-02-10",
        initiator="demo-crm",
        created="2024-02-08T11:11:11",
        fulfilled="2024-02-10T15:00:00",
    )
    service.add_card(
        id=1005,
        owner=user,
        template_id=DEMO_TEMPLATE_ID,
        shipping_address=_MARC,
        status=0,
        send_date="2024-04-02",
        initiator="demo-web",
        created="2024-03-2818:30:00",
    )
    service.add_card(
        id=1006,
        owner=user,
        template_id=DEMO_TEMPLATE_ID,
        shipping_address=_RALPH,
        status=2,
        send_date="2024-03-01",
        initiator="demo-crm",
        campaign_id=DEMO_NO_DUPLICATES_CAMPAIGN_ID,
        created="2024-02-28T07:30:00",
    )
    service.add_mailing(
        id=DEMO_MAILING_ID,
        owner=user,
        card_ids=[delivered, in_the_mail, processing],
        created="2024-01-05T10:20:00",
    )

    # Contacts: empty strings mean "none"; one id comes as a number.
    service.add_contact(
        id=DEMO_CONTACT_ID,
        owner=user,
        added="2023-11-02T14:00:00",
        updated="2024-01-05T10:20:30",
        last_card_send_date="2024-01-08T00:00:00",
        notes="Met at the spring fair.",
        email_address="ralph@example.com",
        phone_number="5555550123",
        birth_year="1980",
        birth_month="12",
        birth_day="25",
        **_contact_fields(_RALPH),
    )
    service.add_contact(
        id=302,
        owner=user,
        id_as_string=False,
        added="2024-01-30T09:00:00",
        anniversary_year="2015",
        anniversary_month="06",
        anniversary_day="20",
        **_contact_fields(_ANA),
    )
    service.add_contact(
        id=303,
        owner=user,
        added="2024-03-01 08:15:00",
        **_contact_fields(_MARC),
    )

    # Credit transactions: a purchase, then what the seeded cards cost.
    spent = sum(
        card["total_amount_charged_cents"]
        for card in service.objects("card", owner=user)
    )
    service.add_credit_transaction(
        id=701,
        owner=user,
        before_int=0,
        amount_int=DEMO_CREDITS + spent,
        amount_paid_int=DEMO_CREDITS + spent,
        grant_volume=0,
        description="Credit purchase",
        credit_card_details="Test card ending 0000",
        date_time="2023-12-31T12:00:00",
    )
    service.add_credit_transaction(
        id=702,
        owner=user,
        before_int=DEMO_CREDITS + spent,
        amount_int=-spent,
        description="Cards sent",
        date_time="2024-03-28T18:30:00",
    )


def _seed_other_user(service: FakeAMcards) -> None:
    other = service.add_user(
        id=DEMO_OTHER_USER_ID,
        email="other@example.com",
        first_name="Olive",
        last_name="Other",
        credits=1000,
        address_line_1="200 Elsewhere Avenue",
        city="Madison",
        state="WI",
        postal_code="53703",
        country="US",
        domestic_cost=68,
        international_cost=150,
        greeting_card_cost=367,
        date_joined="2022-02-02T02:02:02",
        monthly_report_emails="other@example.com",
    )
    service.add_access_token(DEMO_OTHER_ACCESS_TOKEN, other)
    service.add_template(
        id=OTHER_TEMPLATE_ID,
        owner=other,
        name="Someone Else's Template",
        thumbnail=_THUMBS + "other.png",
    )
    service.add_template(
        id=59,
        owner=other,
        quicksend=True,
        name="Someone Else's Quicksend",
        thumbnail=_THUMBS + "other-quick.png",
    )
    service.add_campaign(
        id=OTHER_CAMPAIGN_ID,
        owner=other,
        title="Someone Else's Campaign",
        drips=[{"kind": "fixed", "template_id": OTHER_TEMPLATE_ID}],
    )
    card = service.add_card(
        id=OTHER_CARD_ID,
        owner=other,
        template_id=OTHER_TEMPLATE_ID,
        shipping_address=_RALPH,
        status=4,
        send_date="2024-01-20",
        initiator="other",
        created="2024-01-18T10:00:00",
    )
    service.add_mailing(
        id=OTHER_MAILING_ID,
        owner=other,
        card_ids=[card],
        created="2024-01-18T10:00:00",
    )
    service.add_contact(
        id=OTHER_CONTACT_ID,
        owner=other,
        added="2024-01-18T10:00:00",
        **_contact_fields(_RALPH),
    )
    service.add_credit_transaction(
        id=799,
        owner=other,
        before_int=0,
        amount_int=1435,
        amount_paid_int=1435,
        description="Credit purchase",
        date_time="2024-01-01T00:00:00",
    )


def _contact_fields(address: dict[str, str]) -> dict[str, Any]:
    """A shipping address as contact fields (no third-party id)."""
    return {k: v for k, v in address.items() if k != "third_party_contact_id"}

"""Every client call against the fake AMcards service, with no sockets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import amcards
from amcards import AMcardsClient
from amcards.core.errors import (
    AuthenticationError,
    CardSendError,
    DateFormatError,
    DuplicateCampaignError,
    ExtraDataError,
    ForbiddenCampaignError,
    ForbiddenCardError,
    ForbiddenContactError,
    ForbiddenMailingError,
    ForbiddenTemplateError,
    InsufficientCreditsError,
    PhoneFormatError,
    SendOutcomeUnknownError,
    ShippingAddressError,
    SpendingLimitError,
    ValidationError,
)
from amcards.core.models import (
    Campaign,
    CampaignMultiResponse,
    Card,
    CardStatus,
    Contact,
    CreditTransaction,
    Mailing,
    MailingStatus,
    Template,
    User,
)
from amcards.transports import fake

ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}


@pytest.fixture
def service() -> fake.FakeAMcards:
    return fake.FakeAMcards.demo()


@pytest.fixture
def client(service: fake.FakeAMcards) -> AMcardsClient:
    return AMcardsClient(
        fake.DEMO_ACCESS_TOKEN, transport=fake.FakeTransport(service)
    )


def make_address(**changes: Any) -> dict[str, Any]:
    return {**ADDRESS, **changes}


# Reading ----------------------------------------------------------------


def test_user_is_the_demo_user(client: AMcardsClient) -> None:
    """user() returns the token's user with prices in cents."""
    user = client.user()
    assert isinstance(user, User)
    assert user.id == fake.DEMO_USER_ID
    assert user.email == fake.DEMO_EMAIL
    assert user.credits == fake.DEMO_CREDITS
    assert "US" in user.domestic_postage_countries


def test_templates_page_with_limit_and_skip(client: AMcardsClient) -> None:
    """templates(limit, skip) pages through the user's templates."""
    every = client.templates(limit=100)
    assert every[0].id == fake.DEMO_TEMPLATE_ID
    assert all(isinstance(t, Template) for t in every)
    assert client.templates(limit=1, skip=1) == every[1:2]
    assert fake.OTHER_TEMPLATE_ID not in {t.id for t in every}


def test_template_with_a_gift_totals_it(client: AMcardsClient) -> None:
    """A template carrying a gift reports the gift's total cost."""
    template = client.template(fake.DEMO_GIFT_TEMPLATE_ID)
    assert template.gifts
    assert template.gifts_total == sum(g.total_cost for g in template.gifts)
    assert template.gifts_total > 0


def test_quicksends(client: AMcardsClient) -> None:
    """quicksends() and quicksend(id) read quicksend templates."""
    listed = client.quicksends()
    assert fake.DEMO_QUICKSEND_ID in {t.id for t in listed}
    one = client.quicksend(fake.DEMO_QUICKSEND_ID)
    assert one.id == fake.DEMO_QUICKSEND_ID


def test_campaigns(client: AMcardsClient) -> None:
    """campaigns() and campaign(id) read the user's drip campaigns."""
    listed = client.campaigns()
    assert all(isinstance(c, Campaign) for c in listed)
    blocking = client.campaign(str(fake.DEMO_NO_DUPLICATES_CAMPAIGN_ID))
    assert blocking.send_if_duplicate is False


def test_cards_filter_by_third_party_contact_id(
    client: AMcardsClient,
) -> None:
    """cards(filters=...) returns only the matching cards."""
    cards = client.cards(filters={"third_party_contact_id": "crm-1"})
    assert cards
    assert all(c.third_party_contact_id == "crm-1" for c in cards)
    assert all(isinstance(c, Card) for c in cards)


def test_card_and_its_links(service: fake.FakeAMcards) -> None:
    """card(id) returns the card; its links follow the client's base_url."""
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN,
        base_url="http://127.0.0.1:9/",
        transport=fake.FakeTransport(service),
    )
    card = client.card(1001)
    assert card.id == 1001
    assert card.edit_link == "http://127.0.0.1:9/cards/edit/1001/"
    assert card.cancel_link == "http://127.0.0.1:9/cards/cancel/1001/"


def test_card_with_a_newer_status_code(client: AMcardsClient) -> None:
    """A card whose status is newer than the older client still parses."""
    card = client.card(fake.DEMO_RETURNED_CARD_ID)
    assert card.status is CardStatus.RETURN_TO_SENDER
    assert card.status_code == 12


def test_card_count_matches_the_listing(client: AMcardsClient) -> None:
    """card_count() counts what cards() lists."""
    assert client.card_count() == len(client.cards(limit=1000))
    assert client.card_count({"third_party_contact_id": "nobody"}) == 0


def test_contacts(client: AMcardsClient) -> None:
    """contacts() and contact(id) read the user's contacts."""
    listed = client.contacts()
    assert all(isinstance(c, Contact) for c in listed)
    contact = client.contact(fake.DEMO_CONTACT_ID)
    assert contact.id == fake.DEMO_CONTACT_ID


def test_mailing(client: AMcardsClient) -> None:
    """mailing(id) returns the mailing with its status and link."""
    mailing = client.mailing(fake.DEMO_MAILING_ID)
    assert isinstance(mailing, Mailing)
    assert mailing.status in set(MailingStatus)
    assert mailing.mailing_link.endswith(f"?mailing={fake.DEMO_MAILING_ID}")


def test_credit_transactions(client: AMcardsClient) -> None:
    """credit_transactions() lists movements; the count agrees."""
    listed = client.credit_transactions(limit=100)
    assert listed
    assert all(isinstance(t, CreditTransaction) for t in listed)
    assert client.credit_transaction_count() == len(listed)


@pytest.mark.parametrize(
    ("call", "object_id", "error"),
    [
        ("template", fake.OTHER_TEMPLATE_ID, ForbiddenTemplateError),
        ("campaign", fake.OTHER_CAMPAIGN_ID, ForbiddenCampaignError),
        ("card", fake.OTHER_CARD_ID, ForbiddenCardError),
        ("contact", fake.OTHER_CONTACT_ID, ForbiddenContactError),
        ("mailing", fake.OTHER_MAILING_ID, ForbiddenMailingError),
        ("card", 987654, ForbiddenCardError),
        ("delete_contact", fake.OTHER_CONTACT_ID, ForbiddenContactError),
    ],
)
def test_objects_of_others_are_forbidden(
    client: AMcardsClient, call: str, object_id: int, error: type[Exception]
) -> None:
    """Another user's object, or one that does not exist, is forbidden."""
    with pytest.raises(error) as caught:
        getattr(client, call)(object_id)
    assert caught.value.status in (403, 404)  # type: ignore[attr-defined]


def test_bad_token_is_an_authentication_error(
    service: fake.FakeAMcards,
) -> None:
    """A token the service does not know gives AuthenticationError."""
    client = AMcardsClient("wrong", transport=fake.FakeTransport(service))
    with pytest.raises(AuthenticationError):
        client.user()


# Contacts ---------------------------------------------------------------


def test_create_then_delete_a_contact(client: AMcardsClient) -> None:
    """create_contact adds a contact that delete_contact removes."""
    before = client.contacts(limit=100)
    client.create_contact(
        "Keith",
        "May",
        "364 Spruce Drive",
        "Philadelphia",
        "PA",
        "19107",
        country="United States",
        email="keith@example.com",
        phone="(555) 666-7777",
        birth_month="04",
        birth_day="12",
    )
    after = client.contacts(limit=100)
    assert len(after) == len(before) + 1
    created = next(c for c in after if c.last_name == "May")
    assert created.phone == "5556667777"
    assert created.country == "US"
    client.delete_contact(created.id)
    assert len(client.contacts(limit=100)) == len(before)


def test_create_contact_refuses_a_bad_phone(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """A malformed phone is refused before any request is made."""
    seen = service.request_count
    with pytest.raises(PhoneFormatError):
        client.create_contact("K", "M", "1 St", "X", "PA", "19107", phone="12")
    assert service.request_count == seen


# Sending ----------------------------------------------------------------


def test_send_card_charges_and_creates_one_card(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """send_card creates one card, debits its cost, and says how much."""
    credits = client.user().credits
    expected = client.send_card_cost(fake.DEMO_TEMPLATE_ID, ADDRESS)
    created = service.cards_created
    result = client.send_card(
        fake.DEMO_TEMPLATE_ID,
        "tests",
        make_address(third_party_contact_id="crm-77"),
        send_date=dt.date(2030, 1, 2),
        message="Thanks!",
        extra_data={"carMake": "Honda"},
    )
    assert service.cards_created == created + 1
    assert result.total_cost == expected
    assert client.user().credits == credits - expected
    card = client.card(result.card_id)
    assert card.send_date == "2030-01-02"
    assert card.extra_data == {"carMake": "Honda"}
    assert card.third_party_contact_id == "crm-77"
    assert card.amount_charged == expected
    assert result.cancel_link.endswith(f"/cards/cancel/{result.card_id}/")


def test_send_card_cost_adds_gifts(client: AMcardsClient) -> None:
    """A template with a gift costs the gift on top of card and postage."""
    plain = client.send_card_cost(fake.DEMO_TEMPLATE_ID, ADDRESS)
    gift = client.send_card_cost(fake.DEMO_GIFT_TEMPLATE_ID, ADDRESS)
    assert (
        gift - plain == client.template(fake.DEMO_GIFT_TEMPLATE_ID).gifts_total
    )


def test_send_card_cost_matches_what_is_charged_abroad(
    client: AMcardsClient,
) -> None:
    """The local estimate equals the service's charge for a foreign card."""
    abroad = make_address(country="Canada", state="ON", postal_code="M5H")
    estimate = client.send_card_cost(fake.DEMO_TEMPLATE_ID, abroad)
    sent = client.send_card(fake.DEMO_TEMPLATE_ID, "tests", abroad)
    assert sent.total_cost == estimate
    assert estimate > client.send_card_cost(fake.DEMO_TEMPLATE_ID, ADDRESS)


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"city": None}, ShippingAddressError, "shipping_address['city']"),
        (
            {"postal_code": 2108},
            ShippingAddressError,
            "shipping_address['postal_code']",
        ),
        ({"favourite": "x"}, ShippingAddressError, None),
    ],
)
def test_send_card_refuses_bad_addresses_before_sending(
    client: AMcardsClient,
    service: fake.FakeAMcards,
    changes: dict[str, Any],
    error: type[ValidationError],
    field: str | None,
) -> None:
    """A bad address is refused with the field named; nothing is sent."""
    seen = service.request_count
    with pytest.raises(error) as caught:
        client.send_card(1, "tests", make_address(**changes))
    if field is not None:
        assert caught.value.field == field
    assert service.request_count == seen


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"send_date": "2023-02-30"}, DateFormatError),
        ({"send_date": "01/02/2030"}, DateFormatError),
        ({"extra_data": {"n": 1}}, ExtraDataError),
        ({"extra_data": "x"}, ExtraDataError),
    ],
)
def test_send_card_refuses_bad_options(
    client: AMcardsClient, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    """Bad dates and extra data are refused before sending."""
    with pytest.raises(error):
        client.send_card(1, "tests", ADDRESS, **kwargs)


def test_send_card_with_someone_elses_template(client: AMcardsClient) -> None:
    """Sending with another user's template is ForbiddenTemplateError."""
    with pytest.raises(ForbiddenTemplateError):
        client.send_card(fake.OTHER_TEMPLATE_ID, "tests", ADDRESS)


def test_short_balance_sends_nothing(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """With too few credits the send is refused and nothing is charged."""
    service.set_credits(fake.DEMO_USER_ID, 10)
    created = service.cards_created
    with pytest.raises(InsufficientCreditsError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert caught.value.status == 402
    assert service.cards_created == created
    assert client.user().credits == 10


def test_send_cards_makes_a_mailing(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """send_cards answers with a mailing that holds one card per address."""
    second = make_address(first_name="Keith", last_name="May")
    result = client.send_cards(
        fake.DEMO_TEMPLATE_ID, "tests", [ADDRESS, second]
    )
    assert result.shipping_addresses == [ADDRESS, second]
    service.process_mailings()
    mailing = client.mailing(result.mailing_id)
    assert mailing.status is MailingStatus.COMPLETE
    assert result.mailing_link == mailing.mailing_link


def test_send_cards_names_the_index_of_a_bad_address(
    client: AMcardsClient,
) -> None:
    """A bad address in a batch is named with its index."""
    with pytest.raises(ShippingAddressError) as caught:
        client.send_cards(1, "tests", [ADDRESS, make_address(city="")])
    assert caught.value.field == "shipping_addresses[1]['city']"


def test_campaign_cost_and_send(client: AMcardsClient) -> None:
    """A campaign send costs what send_campaign_cost said and makes cards."""
    address = make_address(
        phone_number="+1 (555) 666-7777", birth_date="02-29"
    )
    cost = client.send_campaign_cost(fake.DEMO_CAMPAIGN_ID, address)
    credits = client.user().credits
    result = client.send_campaign(
        fake.DEMO_CAMPAIGN_ID, "tests", address, extra_data={"k": "v"}
    )
    assert result.card_ids
    assert client.user().credits == credits - cost
    assert result.mailing_link.endswith(f"?mailing={result.mailing_id}")


def test_campaign_that_blocks_duplicates_refuses_a_second_send(
    client: AMcardsClient,
) -> None:
    """The second send of a blocking campaign to one person is a 409."""
    campaign = fake.DEMO_NO_DUPLICATES_CAMPAIGN_ID
    client.send_campaign(campaign, "tests", ADDRESS)
    with pytest.raises(DuplicateCampaignError):
        client.send_campaign(campaign, "tests", ADDRESS)


def test_campaign_of_someone_else_is_forbidden(client: AMcardsClient) -> None:
    """Sending another user's campaign is ForbiddenCampaignError."""
    with pytest.raises(ForbiddenCampaignError):
        client.send_campaign(fake.OTHER_CAMPAIGN_ID, "tests", ADDRESS)


def test_send_campaign_multi(client: AMcardsClient) -> None:
    """send_campaign_multi schedules every contact."""
    contacts = [
        make_address(third_party_contact_id="a", extra_data={"k": "v"}),
        make_address(first_name="Keith", third_party_contact_id="b"),
    ]
    result = client.send_campaign_multi(
        fake.DEMO_CAMPAIGN_ID, "tests", contacts
    )
    assert isinstance(result, CampaignMultiResponse)
    assert result.contacts_scheduled_count == 2
    assert sorted(result.scheduled_third_party_contact_ids) == ["a", "b"]


def test_send_refused_by_the_service_is_card_send_error(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """A 400 from the card endpoint is CardSendError with its message."""
    service.add_fault(
        fake.Fault(
            "status",
            status=400,
            body='{"message": "Address could not be verified"}',
            path="/cards/open-card-form-oa/",
        )
    )
    with pytest.raises(CardSendError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert caught.value.status == 400
    assert caught.value.path == "/cards/open-card-form-oa/"
    assert "Address could not be verified" in str(caught.value)


def test_dropped_answer_to_a_send_is_outcome_unknown_and_sent_once(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """A send committed but unanswered is not repeated: one card exists."""
    service.add_fault(
        fake.Fault("drop_after", path="/cards/open-card-form-oa/")
    )
    created = service.cards_created
    address = make_address(third_party_contact_id="crm-lost")
    with pytest.raises(SendOutcomeUnknownError) as caught:
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", address)
    assert service.cards_created == created + 1
    assert caught.value.sent["third_party_contact_id"] == "crm-lost"
    found = client.find_recent_cards(third_party_contact_id="crm-lost")
    assert len(found) == 1


def test_dropped_request_to_a_read_is_retried(
    service: fake.FakeAMcards,
) -> None:
    """A read whose connection dropped is tried again and succeeds."""
    sleeps: list[float] = []
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN,
        transport=fake.FakeTransport(service),
        sleep=sleeps.append,
    )
    service.add_fault(fake.Fault("drop_before", path="/.api/v1/user/"))
    assert client.user().id == fake.DEMO_USER_ID
    assert len(sleeps) == 1


# Refresh ----------------------------------------------------------------


def test_expired_token_is_refreshed_with_the_demo_oauth_client(
    service: fake.FakeAMcards,
) -> None:
    """An expired token is refreshed and the callback gets new tokens."""
    seen: list[dict[str, Any]] = []
    client = AMcardsClient(
        fake.DEMO_EXPIRED_ACCESS_TOKEN,
        {
            "refresh_token": fake.DEMO_REFRESH_TOKEN,
            "expiration": 1_600_000_000_000,
            "client_id": fake.DEMO_CLIENT_ID,
            "client_secret": fake.DEMO_CLIENT_SECRET,
        },
        lambda **tokens: seen.append(tokens),
        transport=fake.FakeTransport(service),
    )
    assert client.user().id == fake.DEMO_USER_ID
    assert len(seen) == 1
    assert seen[0]["refresh_token"] != fake.DEMO_REFRESH_TOKEN


# The package ------------------------------------------------------------


def test_import_paths_of_the_older_client() -> None:
    """The older client's import paths reach the same objects."""
    import amcards.amcards
    import amcards.exceptions
    import amcards.models

    assert amcards.amcards.AMcardsClient is AMcardsClient
    assert amcards.models.Card is Card
    assert amcards.exceptions.CardSendError is CardSendError
    for name in amcards.exceptions.__all__:
        assert issubclass(
            getattr(amcards.exceptions, name), amcards.AMcardsException
        )


def _isort_key(name: str) -> tuple[int, str]:
    """Constants first, then classes, then the rest, each alphabetical."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize(
    "module",
    [
        "amcards",
        "amcards.models",
        "amcards.exceptions",
        "amcards.core.errors",
        "amcards.core.validators",
        "amcards.core.builders",
        "amcards.core.parsers",
        "amcards.transports",
        "amcards.transports.fake",
    ],
)
def test_public_all_is_complete_and_sorted(module: str) -> None:
    """Each public module's __all__ is sorted and every name resolves."""
    import importlib

    loaded = importlib.import_module(module)
    names = list(loaded.__all__)
    assert names == sorted(names, key=_isort_key)
    for name in names:
        assert getattr(loaded, name) is not None


def test_documented_exceptions_keep_their_bases() -> None:
    """Exceptions keep the bases the older client documented."""
    assert issubclass(amcards.DateFormatError, ValueError)
    assert issubclass(amcards.PhoneFormatError, ValueError)
    assert issubclass(amcards.ShippingAddressError, ValueError)
    assert issubclass(
        amcards.ForbiddenCardError, amcards.ForbiddenResourceError
    )


# Spending limits ----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("send_card", (fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)),
        ("send_cards", (fake.DEMO_TEMPLATE_ID, "tests", [ADDRESS, ADDRESS])),
        ("send_campaign", (fake.DEMO_CAMPAIGN_ID, "tests", ADDRESS)),
    ],
)
def test_max_cost_below_the_price_sends_nothing(
    client: AMcardsClient, service: fake.FakeAMcards, call: str, args: tuple
) -> None:
    """A send priced above max_cost is refused before it goes out."""
    credits = client.user().credits
    with pytest.raises(SpendingLimitError) as caught:
        getattr(client, call)(*args, max_cost=100)
    assert caught.value.limit == 100
    assert caught.value.estimate is not None
    assert caught.value.estimate > 100
    assert service.cards_created == 0
    assert client.user().credits == credits


def test_max_cost_at_the_price_sends(client: AMcardsClient) -> None:
    """A send that costs exactly max_cost goes out."""
    price = client.send_card_cost(fake.DEMO_TEMPLATE_ID, ADDRESS)
    sent = client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", ADDRESS, max_cost=price
    )
    assert sent.total_cost == price


def test_max_cost_must_be_whole_cents(client: AMcardsClient) -> None:
    """max_cost given in dollars as a float is refused, naming the field."""
    with pytest.raises(ValidationError) as caught:
        client.send_card(1, "tests", ADDRESS, max_cost=4.35)  # type: ignore[arg-type]
    assert caught.value.field == "max_cost"


def test_threads_share_one_refresh_against_rotating_tokens(
    service: fake.FakeAMcards,
) -> None:
    """Eight threads finding the token expired make one refresh request;
    the fake rotates refresh tokens, so a second one would fail."""
    import threading

    calls: list[dict[str, Any]] = []
    client = AMcardsClient(
        fake.DEMO_EXPIRED_ACCESS_TOKEN,
        {
            "refresh_token": fake.DEMO_REFRESH_TOKEN,
            "expiration": 1_600_000_000_000,
            "client_id": fake.DEMO_CLIENT_ID,
            "client_secret": fake.DEMO_CLIENT_SECRET,
        },
        lambda **tokens: calls.append(tokens),
        transport=fake.FakeTransport(service),
    )
    start = threading.Barrier(8)
    users: list[int] = []

    def work() -> None:
        start.wait()
        users.append(client.user().id)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert users == [fake.DEMO_USER_ID] * 8
    assert service.requests_seen["POST /oauth2/token/"] == 1
    assert len(calls) == 1

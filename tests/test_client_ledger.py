"""The client with a send ledger: each send goes out at most once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from amcards import AMcardsClient
from amcards.core.errors import (
    SendOutcomeUnknownError,
    SpendingLimitError,
    ValidationError,
)
from amcards.core.models import CampaignResponse
from amcards.ledger import SendLedger, card_request
from amcards.transports import fake

ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
    "third_party_contact_id": "crm-9",
}


@pytest.fixture
def service() -> fake.FakeAMcards:
    return fake.FakeAMcards.demo()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SendLedger]:
    with SendLedger(tmp_path / "sends.db", settle_after=0.0) as opened:
        yield opened


@pytest.fixture
def client(service: fake.FakeAMcards, ledger: SendLedger) -> AMcardsClient:
    return AMcardsClient(
        fake.DEMO_ACCESS_TOKEN,
        transport=fake.FakeTransport(service),
        ledger=ledger,
    )


def test_second_send_card_returns_the_first_answer(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """The same card sent twice reaches the service once."""
    first = client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    seen = service.request_count
    again = client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", {**ADDRESS, "country": "USA"}
    )
    assert again == first
    assert service.request_count == seen
    assert service.cards_created == 1


def test_an_explicit_key_guards_the_send(
    client: AMcardsClient, service: fake.FakeAMcards, ledger: SendLedger
) -> None:
    """idempotency_key names the send in the ledger."""
    client.send_card(1, "tests", ADDRESS, idempotency_key="order-1")
    client.send_card(1, "tests", ADDRESS, idempotency_key="order-1")
    assert service.cards_created == 1
    entry = ledger.get("order-1")
    assert entry is not None
    assert entry.state == "sent"


def test_a_key_reused_for_another_card_is_refused(
    client: AMcardsClient,
) -> None:
    """One key cannot stand for two different sends."""
    client.send_card(1, "tests", ADDRESS, idempotency_key="order-2")
    other = {**ADDRESS, "first_name": "Keith"}
    with pytest.raises(ValidationError) as caught:
        client.send_card(1, "tests", other, idempotency_key="order-2")
    assert caught.value.field == "idempotency_key"


def test_key_without_a_ledger_is_refused(service: fake.FakeAMcards) -> None:
    """An idempotency key with no ledger to keep it is an error."""
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN, transport=fake.FakeTransport(service)
    )
    with pytest.raises(ValidationError) as caught:
        client.send_card(1, "tests", ADDRESS, idempotency_key="k")
    assert caught.value.field == "idempotency_key"
    assert service.request_count == 0


def test_lost_answer_is_reconciled_not_resent(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """After a lost answer, the next call finds the card instead of
    sending it again."""
    service.add_fault(
        fake.Fault("drop_after", path="/cards/open-card-form-oa/")
    )
    with pytest.raises(SendOutcomeUnknownError):
        client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    found = client.send_card(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    assert service.cards_created == 1
    posts = service.requests_seen["POST /cards/open-card-form-oa/"]
    assert posts == 1
    assert (
        found.card_id
        == client.find_recent_cards(third_party_contact_id="crm-9")[0].id
    )


def test_campaign_sent_twice_goes_out_once(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """A campaign send is kept in the ledger and its answer reused."""
    first = client.send_campaign(fake.DEMO_CAMPAIGN_ID, "tests", ADDRESS)
    created = service.cards_created
    assert client.send_campaign(fake.DEMO_CAMPAIGN_ID, "tests", ADDRESS) == (
        first
    )
    assert service.cards_created == created


def test_batch_sent_twice_makes_one_mailing(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """send_cards and send_campaign_multi are guarded too."""
    second = {**ADDRESS, "first_name": "Keith", "third_party_contact_id": ""}
    batch = [ADDRESS, second]
    first = client.send_cards(1, "tests", batch, send_date="2031-01-02")
    assert client.send_cards(1, "tests", batch, send_date="2031-01-02") == (
        first
    )
    multi = client.send_campaign_multi(fake.DEMO_CAMPAIGN_ID, "t", batch)
    seen = service.request_count
    assert client.send_campaign_multi(fake.DEMO_CAMPAIGN_ID, "t", batch) == (
        multi
    )
    assert service.request_count == seen


def test_a_card_settled_by_hand_is_not_sent_again(
    client: AMcardsClient, service: fake.FakeAMcards, ledger: SendLedger
) -> None:
    """A card key marked sent with no answer kept refuses, sending
    nothing, and says why."""
    request = card_request(fake.DEMO_TEMPLATE_ID, "tests", ADDRESS)
    ledger.claim("hand-1", "card", request)
    ledger.mark_unknown("hand-1", "lost")
    ledger.mark_sent("hand-1", {"settled_by_hand": True})
    with pytest.raises(ValidationError) as caught:
        client.send_card(
            fake.DEMO_TEMPLATE_ID, "tests", ADDRESS, idempotency_key="hand-1"
        )
    assert caught.value.field == "idempotency_key"
    assert "settled by hand" in str(caught.value)
    assert service.request_count == 0


def test_a_campaign_settled_by_hand_is_not_sent_again(
    client: AMcardsClient, service: fake.FakeAMcards, ledger: SendLedger
) -> None:
    """The same holds for the other kinds of send."""
    ledger.claim("hand-2", "campaign", {"what": "campaign"})
    ledger.mark_unknown("hand-2", "lost")
    ledger.mark_sent("hand-2", {"settled_by_hand": True})
    with pytest.raises(ValidationError) as caught:
        client._once(
            "campaign",
            "hand-2",
            {"what": "campaign"},
            lambda: "unused",
            lambda: pytest.fail("sent again"),
            CampaignResponse,
        )
    assert caught.value.field == "idempotency_key"
    assert service.request_count == 0


def test_a_sent_card_under_a_spending_limit_costs_no_requests(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """With a ledger, pricing for max_cost happens only when the card is
    actually about to be sent."""
    client.send_card(1, "tests", ADDRESS, max_cost=10_000)
    seen = service.request_count
    client.send_card(1, "tests", ADDRESS, max_cost=10_000)
    assert service.request_count == seen


def test_a_send_over_the_limit_stays_claimable(
    client: AMcardsClient, service: fake.FakeAMcards, ledger: SendLedger
) -> None:
    """A send refused for its price is recorded as refused, so a later
    call with a higher limit sends it."""
    with pytest.raises(SpendingLimitError):
        client.send_card(1, "tests", ADDRESS, idempotency_key="p", max_cost=1)
    entry = ledger.get("p")
    assert entry is not None
    assert entry.state == "refused"
    client.send_card(1, "tests", ADDRESS, idempotency_key="p", max_cost=999)
    assert service.cards_created == 1


WITHOUT_COUNTRY = {k: v for k, v in ADDRESS.items() if k != "country"}


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (ADDRESS, {**ADDRESS, "first_name": "RALPH"}),
        (ADDRESS, {**ADDRESS, "address_line_1": "2285  Reppert   Road"}),
        (ADDRESS, {**ADDRESS, "city": "southfield "}),
        (ADDRESS, {**ADDRESS, "country": "United States"}),
        (WITHOUT_COUNTRY, ADDRESS),
        (ADDRESS, WITHOUT_COUNTRY),
        (ADDRESS, {**ADDRESS, "state": "Michigan"}),
        (ADDRESS, {**ADDRESS, "postal_code": "48075-1234"}),
        (
            {
                k: v
                for k, v in ADDRESS.items()
                if k != "third_party_contact_id"
            },
            ADDRESS,
        ),
        (ADDRESS, {**ADDRESS, "third_party_contact_id": "crm-10"}),
    ],
    ids=[
        "case",
        "spaces",
        "city",
        "country-name",
        "country-added",
        "dropped",
        "state-name",
        "zip-plus-4",
        "crm-id-added",
        "crm-id-changed",
    ],
)
def test_the_same_recipient_written_another_way_is_sent_once(
    client: AMcardsClient,
    service: fake.FakeAMcards,
    first: dict[str, str],
    again: dict[str, str],
) -> None:
    """However the address is typed, the second send returns the first
    answer and makes no request."""
    answer = client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", first, send_date="2030-01-01"
    )
    seen = service.request_count
    repeat = client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", again, send_date="2030-01-01"
    )
    assert repeat.card_id == answer.card_id
    assert service.request_count == seen
    assert service.cards_created == 1


@pytest.mark.parametrize(
    ("first", "again"),
    [("Thanks!", "Thanks!\n"), ("Thanks!", "  Thanks!"), ("a\r\nb", "a\nb")],
)
def test_a_message_written_another_way_is_the_same_send(
    client: AMcardsClient, service: fake.FakeAMcards, first: str, again: str
) -> None:
    answer = client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", ADDRESS, message=first
    )
    repeat = client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", ADDRESS, message=again
    )
    assert repeat.card_id == answer.card_id
    assert service.cards_created == 1


def test_a_key_given_again_for_another_recipient_is_refused(
    client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """An explicit key that names a really different send is an error
    naming what differs, and nothing is sent."""
    client.send_card(
        fake.DEMO_TEMPLATE_ID, "tests", ADDRESS, idempotency_key="order-1"
    )
    other = {**ADDRESS, "address_line_1": "1 Other Street"}
    with pytest.raises(ValidationError) as caught:
        client.send_card(
            fake.DEMO_TEMPLATE_ID, "tests", other, idempotency_key="order-1"
        )
    assert caught.value.field == "idempotency_key"
    assert "shipping_address" in caught.value.reason
    assert service.cards_created == 1

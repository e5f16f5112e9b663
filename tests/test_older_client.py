"""The published ``python-amcards`` client against the fake server.

The older client imports as ``amcards`` too, so it lives in its own
virtual environment, named by ``AMCARDS_OLDER_PYTHON`` (``.ci/run``
creates one).  ``older_client/drive.py`` runs there, isolated from this
repository, against a :class:`FakeServer` on loopback, and reports what
each documented call did; these tests hold that against the older
client's documentation and the fake's own counters.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_CREDITS,
    DEMO_EMAIL,
    DEMO_EXPIRED_ACCESS_TOKEN,
    DEMO_NO_DUPLICATES_CAMPAIGN_ID,
    DEMO_REFRESH_TOKEN,
    DEMO_TEMPLATE_ID,
    DEMO_USER_ID,
    FakeAMcards,
    FakeServer,
)

pytestmark = pytest.mark.sockets

REPO = Path(__file__).resolve().parent.parent
DRIVE = Path(__file__).resolve().parent / "older_client" / "drive.py"
DRIVE_TIMEOUT = 120  # seconds for the whole run

# What the demo account charges for one plain card inside the US:
# greeting card 367 + domestic postage 68.
US_CARD = 435
# The blocking campaign's drips that apply to a recipient with no
# anniversary: two fixed drips, one card each.
BLOCKING_CAMPAIGN_CARDS = 2
# The campaign that allows duplicates: one fixed drip (the birthday drip
# needs a birth date, which the driver leaves out).
ALLOWING_CAMPAIGN_CARDS = 1

STATUS_NAMES = {
    0: "EDITABLE",
    1: "VERIFYING_ADDRESS",
    2: "IN_THE_MAIL",
    3: "FLAGGED",
    4: "DELIVERED",
    5: "READY_FOR_PRINT",
    6: "PRINTED",
    7: "PROCESSING",
    8: "REFUNDED",
    9: "TESTING",
    10: "GIFT_UNAVAILABLE",
    11: "PROOF_PRINT",
    12: "RETURN_TO_SENDER",
    13: "DUPLICATE",
}


def older_python() -> str:
    path = os.environ.get("AMCARDS_OLDER_PYTHON", "")
    if not path:
        pytest.skip(
            "AMCARDS_OLDER_PYTHON is not set: no virtual environment "
            "holding python-amcards (.ci/run creates one when it can "
            "reach the package index)"
        )
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"AMCARDS_OLDER_PYTHON={path} is not an executable")
    return path


class Run:
    """One run of the driver: its report and the server it talked to."""

    def __init__(self, report: dict[str, Any], server: FakeServer) -> None:
        self.report = report
        self.server = server
        self.service = server.service

    def step(self, name: str) -> dict[str, Any]:
        step: dict[str, Any] = self.report["steps"][name]
        return step

    def value(self, name: str) -> Any:
        step = self.step(name)
        assert "raised" not in step, step.get("traceback", step["raised"])
        return step["value"]

    def raised(self, name: str) -> dict[str, Any]:
        step = self.step(name)
        assert "raised" in step, f"{name} returned {step.get('value')!r}"
        raised: dict[str, Any] = step["raised"]
        return raised

    def credits_taken(self, name: str) -> int:
        step = self.step(name)
        user = str(DEMO_USER_ID)
        before = step["counters_before"]["credits"][user]
        after = step["counters_after"]["credits"][user]
        return int(before - after)

    def cards_created(self, name: str) -> int:
        step = self.step(name)
        before = step["counters_before"]["cards_created"]
        return int(step["counters_after"]["cards_created"] - before)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    python = older_python()
    scratch = tmp_path_factory.mktemp("older-client")
    with FakeServer(FakeAMcards.demo(), host="127.0.0.1") as server:
        command = [
            python,
            "-I",  # no PYTHON* variables, no script folder on sys.path
            str(DRIVE),
            "--base-url",
            server.base_url,
            "--access-token",
            DEMO_ACCESS_TOKEN,
            "--expired-access-token",
            DEMO_EXPIRED_ACCESS_TOKEN,
            "--refresh-token",
            DEMO_REFRESH_TOKEN,
            "--client-id",
            DEMO_CLIENT_ID,
            "--client-secret",
            DEMO_CLIENT_SECRET,
            "--template-id",
            str(DEMO_TEMPLATE_ID),
            "--campaign-id",
            str(DEMO_CAMPAIGN_ID),
            "--no-duplicates-campaign-id",
            str(DEMO_NO_DUPLICATES_CAMPAIGN_ID),
        ]
        # A bare environment: no proxy may take the loopback traffic
        # elsewhere, and HOME is a scratch folder.
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(scratch),
            "NO_PROXY": "*",
            "no_proxy": "*",
        }
        try:
            done = subprocess.run(
                command,
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=DRIVE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"drive.py took over {DRIVE_TIMEOUT}s: {exc}")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        assert lines, f"drive.py printed nothing; stderr: {done.stderr}"
        yield Run(json.loads(lines[-1]), server)


@pytest.fixture(scope="module")
def demo() -> FakeAMcards:
    """A fresh demo account: what the server held before the run."""
    return FakeAMcards.demo()


def attributes(value: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = value["attributes"]
    return attrs


def is_datetime(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"datetime"}


def test_the_older_client_ran_from_its_own_environment(run: Run) -> None:
    """drive.py imported the published client, not this repository."""
    path = Path(run.report["amcards_file"]).resolve()
    assert not path.is_relative_to(REPO)
    assert "site-packages" in path.parts


def test_its_domain_pointed_at_the_loopback_server(run: Run) -> None:
    """The older client's DOMAIN was the fake server's loopback URL."""
    assert run.report["domain"] == run.server.base_url
    assert run.report["domain"].startswith("http://127.0.0.1:")
    assert run.service.request_count > 0


def test_user_returns_the_demo_user(run: Run) -> None:
    """user() returns a User with the account's balance and prices."""
    step = run.step("user")
    assert step["type"] == "User"
    user = attributes(step["value"])
    assert user["id"] == DEMO_USER_ID
    assert user["email"] == DEMO_EMAIL
    assert user["credits"] == DEMO_CREDITS
    assert user["credits"] == step["counters_before"]["credits"]["1"]
    card = user["greeting_card_cost"] + user["domestic_postage_cost"]
    assert card == US_CARD
    assert user["international_postage_cost"] == 150
    assert user["domestic_postage_countries"] == ["US"]
    assert is_datetime(user["date_joined"])


def test_templates_list_the_users_templates(
    run: Run, demo: FakeAMcards
) -> None:
    """templates() returns a list of Template with gifts totalled."""
    step = run.step("templates")
    assert step["type"] == "list[Template]"
    templates = [attributes(t) for t in run.value("templates")]
    wire = demo.objects("template", owner=DEMO_USER_ID)
    assert [t["id"] for t in templates] == [t["id"] for t in wire]
    assert templates[0]["id"] == DEMO_TEMPLATE_ID
    for template, sent in zip(templates, wire, strict=True):
        assert template["name"] == sent["name"]
        assert template["message"] == sent["has_message_on_default_panel"]
        assert template["gifts_total"] == sum(
            g["price"] + g["shipping_and_handling"] for g in sent["gifts"]
        )
        assert len(template["gifts"]) == len(sent["gifts"])


def test_campaigns_list_both_duplicate_settings(run: Run) -> None:
    """campaigns() returns Campaigns; send_if_duplicate follows each."""
    step = run.step("campaigns")
    assert step["type"] == "list[Campaign]"
    campaigns = {c["id"]: c for c in map(attributes, step["value"])}
    assert campaigns[DEMO_CAMPAIGN_ID]["send_if_duplicate"] is True
    blocking = campaigns[DEMO_NO_DUPLICATES_CAMPAIGN_ID]
    assert blocking["send_if_duplicate"] is False


def test_cards_list_the_users_cards(run: Run, demo: FakeAMcards) -> None:
    """cards() returns Cards with statuses, dates and amounts in cents."""
    step = run.step("cards")
    assert step["type"] == "list[Card]"
    cards = [attributes(c) for c in step["value"]]
    wire = demo.objects("card", owner=DEMO_USER_ID)
    assert [c["id"] for c in cards] == [c["id"] for c in wire]
    for card, sent in zip(cards, wire, strict=True):
        assert card["status"]["name"] == STATUS_NAMES[sent["status"]]
        cents = sent["total_amount_charged_cents"]
        assert card["total_amount_charged"] == cents
        # The older client reads the dollar float by truncating
        # dollars * 100, so 4.35 can come out as 434: never more than the
        # charge, never more than a cent below it.
        assert cents - 1 <= card["amount_charged"] <= cents
        assert is_datetime(card["date_created"])
        assert card["campaign_id"] == sent["campaign_pk"]
        shipped_to = card["shipping_address"]["first_name"]
        assert shipped_to == sent["ship_to_first_name"]


def test_cards_filters_reach_the_server(run: Run, demo: FakeAMcards) -> None:
    """cards(filters=...) returns only the cards matching the filter."""
    ids = [attributes(c)["id"] for c in run.value("cards_filtered")]
    wire = demo.objects("card", owner=DEMO_USER_ID)
    expected = [
        c["id"] for c in wire if c["third_party_contact_id"] == "crm-1"
    ]
    assert ids == expected
    assert ids


def test_card_count_counts_every_card(run: Run, demo: FakeAMcards) -> None:
    """card_count() returns an int: the number of the user's cards."""
    step = run.step("card_count")
    assert step["type"] == "int"
    assert step["value"] == len(demo.objects("card", owner=DEMO_USER_ID))


def test_contacts_list_the_users_contacts(run: Run, demo: FakeAMcards) -> None:
    """contacts() returns Contacts with int ids and None for blanks."""
    step = run.step("contacts")
    assert step["type"] == "list[Contact]", step.get("raised")
    contacts = [attributes(c) for c in step["value"]]
    wire = demo.objects("contact", owner=DEMO_USER_ID)
    assert [c["id"] for c in contacts] == [int(c["id"]) for c in wire]
    for contact, sent in zip(contacts, wire, strict=True):
        assert is_datetime(contact["date_created"])
        assert contact["email"] == (sent["email_address"] or None)
        assert contact["organization"] == (sent["organization"] or None)
        if not sent["updated"]:
            assert contact["date_last_modified"] is None


def test_create_contact_adds_one_contact(run: Run) -> None:
    """create_contact() returns None and the service holds the contact."""
    step = run.step("create_contact")
    assert step["type"] == "NoneType"
    assert step["value"] is None
    before = step["counters_before"]["objects"]["contact"]
    assert step["counters_after"]["objects"]["contact"] == before + 1
    stored = [
        c
        for c in run.service.objects("contact", owner=DEMO_USER_ID)
        if c["last_name"] == "Holm"
    ]
    assert len(stored) == 1
    assert stored[0]["email_address"] == "greta@example.com"
    assert stored[0]["phone_number"] == "8025550142"
    found = [attributes(c) for c in run.value("contacts_after_create")]
    assert [c["id"] for c in found] == [int(stored[0]["id"])]
    assert (found[0]["birth_year"], found[0]["birth_month"]) == ("1975", "04")


def test_send_card_cost_is_what_send_card_charges(run: Run) -> None:
    """send_card_cost() is an int in cents equal to the send's charge."""
    step = run.step("send_card_cost")
    assert step["type"] == "int"
    assert step["value"] == US_CARD
    assert run.credits_taken("send_card_cost") == 0
    assert run.cards_created("send_card_cost") == 0
    assert run.credits_taken("send_card") == step["value"]


def test_send_card_creates_one_card_and_takes_its_cost(run: Run) -> None:
    """send_card() returns a CardResponse for the card the fake made."""
    step = run.step("send_card")
    assert step["type"] == "CardResponse"
    response = attributes(step["value"])
    assert run.cards_created("send_card") == 1
    assert run.credits_taken("send_card") == response["total_cost"]
    assert response["total_cost"] == US_CARD
    assert response["user_email"] == DEMO_EMAIL
    assert isinstance(response["message"], str) and response["message"]
    card = run.service.get("card", response["card_id"])
    assert card["ship_to_first_name"] == "Keith"
    assert card["total_amount_charged_cents"] == response["total_cost"]
    assert response["shipping_address"]["first_name"] == "Keith"
    assert response["edit_link"].endswith(f"/{response['card_id']}/")


def test_send_cards_charges_now_and_creates_cards_later(run: Run) -> None:
    """send_cards() returns a CardsResponse; its cards appear later."""
    step = run.step("send_cards")
    assert step["type"] == "CardsResponse"
    response = attributes(step["value"])
    recipients = response["shipping_addresses"]
    assert [r["first_name"] for r in recipients] == ["Nora", "Paulo"]
    assert recipients[0]["third_party_contact_id"] == "older-1"
    assert run.credits_taken("send_cards") == len(recipients) * US_CARD
    assert run.cards_created("send_cards") == 0
    mailing = run.service.get("mailing", response["mailing_id"])
    assert mailing["id"] == response["mailing_id"]
    assert response["user_email"] == DEMO_EMAIL
    # The next request lets the mailing's cards into the listing.
    later = run.step("card_count_after_sends")
    assert run.cards_created("card_count_after_sends") == len(recipients)
    assert later["value"] == run.step("card_count")["value"] + 1 + 2


def test_send_campaign_cost_is_what_send_campaign_charges(run: Run) -> None:
    """send_campaign_cost() is an int in cents equal to the charge."""
    step = run.step("send_campaign_cost")
    assert step["type"] == "int"
    assert step["value"] == BLOCKING_CAMPAIGN_CARDS * US_CARD
    assert run.credits_taken("send_campaign_cost") == 0
    assert run.cards_created("send_campaign_cost") == 0
    assert run.credits_taken("send_campaign") == step["value"]


def test_send_campaign_schedules_its_drips(run: Run) -> None:
    """send_campaign() returns a CampaignResponse naming its new cards."""
    step = run.step("send_campaign")
    assert step["type"] == "CampaignResponse"
    response = attributes(step["value"])
    assert len(response["card_ids"]) == BLOCKING_CAMPAIGN_CARDS
    assert run.cards_created("send_campaign") == BLOCKING_CAMPAIGN_CARDS
    charged = 0
    for card_id in response["card_ids"]:
        card = run.service.get("card", card_id)
        assert card["campaign_pk"] == DEMO_NO_DUPLICATES_CAMPAIGN_ID
        charged += card["total_amount_charged_cents"]
    assert run.credits_taken("send_campaign") == charged
    assert run.service.get("mailing", response["mailing_id"])
    assert response["user_email"] == DEMO_EMAIL
    assert response["shipping_address"]["first_name"] == "Greta"


def test_second_send_campaign_raises_its_duplicate_error(run: Run) -> None:
    """Sending a blocking campaign again raises DuplicateCampaignError."""
    raised = run.raised("send_campaign_again")
    assert raised["class"] == "DuplicateCampaignError"
    assert raised["module"] == "amcards.exceptions"
    assert "AMcardsException" in raised["bases"]
    assert run.credits_taken("send_campaign_again") == 0
    assert run.cards_created("send_campaign_again") == 0
    seen = run.service.requests_seen
    assert seen["POST /campaigns/open-campaign-form/"] == 4


def test_a_campaign_allowing_duplicates_sends_twice(run: Run) -> None:
    """The campaign that allows duplicates schedules both sends."""
    for attempt in ("first", "second"):
        name = f"send_campaign_allowing_duplicates_{attempt}"
        response = attributes(run.value(name))
        assert len(response["card_ids"]) == ALLOWING_CAMPAIGN_CARDS
        assert run.cards_created(name) == ALLOWING_CAMPAIGN_CARDS
        assert run.credits_taken(name) == ALLOWING_CAMPAIGN_CARDS * US_CARD


def test_oauth_refresh_calls_back_with_new_tokens(run: Run) -> None:
    """An expired config refreshes once; the callback gets ms expiry."""
    oauth = run.report["oauth"]
    calls = oauth["callback_calls"]
    assert len(calls) == 1
    call = calls[0]
    assert set(call) == {"access_token", "refresh_token", "expiration"}
    assert call["access_token"] not in (
        DEMO_ACCESS_TOKEN,
        DEMO_EXPIRED_ACCESS_TOKEN,
    )
    assert call["refresh_token"] != DEMO_REFRESH_TOKEN
    lifetime_ms = run.service.token_lifetime * 1000
    assert isinstance(call["expiration"], int)
    assert (
        oauth["started_ms"] + lifetime_ms
        <= call["expiration"]
        <= oauth["finished_ms"] + lifetime_ms
    )
    assert oauth["config_after"]["refresh_token"] == call["refresh_token"]
    assert oauth["config_after"]["expiration"] == call["expiration"]
    # The call that refreshed went through with the new access token.
    user = attributes(run.value("oauth_user"))
    assert user["id"] == DEMO_USER_ID
    assert attributes(run.value("oauth_user_again"))["id"] == DEMO_USER_ID


def test_a_used_refresh_token_raises_the_refresh_error(run: Run) -> None:
    """Refreshing with a spent refresh token raises OAuthTokenRefreshError."""
    raised = run.raised("oauth_reused_refresh_token")
    assert raised["class"] == "OAuthTokenRefreshError"
    assert run.service.requests_seen["POST /oauth2/token/"] == 2


def test_the_fake_counted_every_card_and_cent(run: Run) -> None:
    """The fake's totals equal the sum of what each call reported."""
    steps = run.report["steps"]
    assert run.service.cards_created == sum(
        run.cards_created(name) for name in steps
    )
    taken = sum(run.credits_taken(name) for name in steps)
    assert run.service.credits(DEMO_USER_ID) == DEMO_CREDITS - taken
    expected = (
        US_CARD  # send_card
        + 2 * US_CARD  # send_cards
        + BLOCKING_CAMPAIGN_CARDS * US_CARD  # send_campaign
        + 2 * ALLOWING_CAMPAIGN_CARDS * US_CARD  # the two allowed sends
    )
    assert taken == expected

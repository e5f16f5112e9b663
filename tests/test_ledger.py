"""The send ledger: claims, outcomes, keys, races, crashes and lookups."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards import AMcardsClient
from amcards.core.errors import (
    AuthenticationError,
    CardSendError,
    ConnectError,
    ConnectionLostError,
    InsufficientCreditsError,
    OAuthTokenRefreshError,
    SendInProgressError,
    SendOutcomeUnknownError,
    ServerError,
    ShippingAddressError,
    UnexpectedResponseError,
    ValidationError,
)
from amcards.core.http import Request, Response, Timeout
from amcards.ledger import (
    KEY_VERSION,
    KINDS,
    STATES,
    SendLedger,
    card_key,
    card_request,
    card_response,
    check_key,
    derive_key,
    is_refusal,
    send_card_once,
)
from amcards.transports import fake

SEND_PATH = "/cards/open-card-form-oa/"
SEND = f"POST {SEND_PATH}"
ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
    "country": "US",
}
REQUEST = {"template_id": "1", "note": "what was sent"}


class Clock:
    """A settable clock, in seconds since the epoch."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sends.db"


@pytest.fixture
def ledger(db: Path, clock: Clock) -> Iterator[SendLedger]:
    with SendLedger(db, clock=clock) as opened:
        yield opened


@pytest.fixture
def service() -> fake.FakeAMcards:
    return fake.FakeAMcards.demo()


@pytest.fixture
def transport(service: fake.FakeAMcards) -> fake.FakeTransport:
    return fake.FakeTransport(service)


@pytest.fixture
def client(transport: fake.FakeTransport) -> AMcardsClient:
    return AMcardsClient(fake.DEMO_ACCESS_TOKEN, transport=transport)


def sends(service: fake.FakeAMcards) -> int:
    return service.requests_seen.get(SEND, 0)


# Claims and outcomes ------------------------------------------------------


def test_a_new_key_is_claimed_as_pending(ledger: SendLedger) -> None:
    """Claiming a new key returns None and records it pending, owned by
    this process and thread."""
    assert ledger.claim("k1", "card", REQUEST) is None

    entry = ledger.get("k1")
    assert entry is not None
    assert (entry.state, entry.kind, entry.attempts) == ("pending", "card", 1)
    assert entry.request == REQUEST
    assert (entry.owner_pid, entry.owner_thread) == (
        os.getpid(),
        threading.get_ident(),
    )
    assert entry.result is None and entry.error is None


def test_mark_sent_round_trip_survives_reopening(
    db: Path, clock: Clock
) -> None:
    """A sent entry keeps its result and timestamps after the file is
    closed and opened again."""
    with SendLedger(db, clock=clock) as ledger:
        ledger.claim("k1", "card", REQUEST)
        clock.advance(2.5)
        ledger.mark_sent("k1", {"card_id": 7, "total_cost": 435})

    with SendLedger(db, clock=clock) as reopened:
        entry = reopened.get("k1")
    assert entry is not None
    assert entry.state == "sent"
    assert entry.result == {"card_id": 7, "total_cost": 435}
    assert entry.created == dt.datetime.fromtimestamp(
        1_700_000_000.0, dt.timezone.utc
    )
    assert (entry.updated - entry.created).total_seconds() == 2.5


def test_a_sent_key_comes_back_from_claim(ledger: SendLedger) -> None:
    """A second claim of a sent key returns the entry with its result."""
    ledger.claim("k1", "card", REQUEST)
    ledger.mark_sent("k1", {"card_id": 7})

    entry = ledger.claim("k1", "card", REQUEST)
    assert entry is not None
    assert entry.state == "sent" and entry.result == {"card_id": 7}
    assert entry.attempts == 1


def test_a_refused_key_may_be_claimed_again(ledger: SendLedger) -> None:
    """A refused entry is re-claimable; the attempt count grows."""
    ledger.claim("k1", "card", REQUEST)
    refused = ledger.mark_refused("k1", CardSendError("bad address"))
    assert refused.state == "refused"
    assert refused.error == "CardSendError: bad address"

    assert ledger.claim("k1", "card", {"template_id": "2"}) is None
    entry = ledger.get("k1")
    assert entry is not None
    assert (entry.state, entry.attempts, entry.error) == ("pending", 2, None)
    assert entry.request == {"template_id": "2"}


def test_an_unknown_key_comes_back_from_claim(ledger: SendLedger) -> None:
    """An unknown entry is returned, not claimed, until it is reconciled."""
    ledger.claim("k1", "card", REQUEST)
    ledger.mark_unknown("k1", "answer lost")

    entry = ledger.claim("k1", "card", REQUEST)
    assert entry is not None
    assert (entry.state, entry.error) == ("unknown", "answer lost")


def test_a_key_standing_for_another_send_is_refused(
    ledger: SendLedger,
) -> None:
    """Reusing a key for a different request or kind raises, naming only
    the parts that differ."""
    ledger.claim("k1", "card", {"template_id": "1", "message": "secret"})
    ledger.mark_sent("k1", {"card_id": 7})

    with pytest.raises(ValidationError) as caught:
        ledger.claim("k1", "card", {"template_id": "1", "message": "other"})
    assert caught.value.field == "idempotency_key"
    assert "message" in str(caught.value)
    assert "secret" not in str(caught.value)

    with pytest.raises(ValidationError, match="kind"):
        ledger.claim(
            "k1", "campaign", {"template_id": "1", "message": "secret"}
        )


def test_a_pending_key_held_by_a_live_sender_raises(
    ledger: SendLedger,
) -> None:
    """A second claim while the first sender is working raises
    SendInProgressError carrying the key and the owner."""
    ledger.claim("k1", "card", REQUEST)

    with pytest.raises(SendInProgressError) as caught:
        ledger.claim("k1", "card", REQUEST)
    assert caught.value.key == "k1"
    assert str(os.getpid()) in (caught.value.owner or "")


def test_threads_racing_for_one_key_have_one_winner(
    ledger: SendLedger,
) -> None:
    """Of many threads claiming the same key at once, exactly one gets it."""
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait(timeout=10)
        try:
            won = ledger.claim("k1", "card", REQUEST) is None
            outcome = "won" if won else "other"
        except SendInProgressError:
            outcome = "busy"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["busy"] * 7 + ["won"]


def test_an_old_pending_claim_is_taken_as_abandoned(
    ledger: SendLedger, clock: Clock
) -> None:
    """A pending claim older than stale_after turns unknown on the next
    claim, saying who left it."""
    ledger.claim("k1", "card", REQUEST)
    clock.advance(ledger.stale_after - 1)
    with pytest.raises(SendInProgressError):
        ledger.claim("k1", "card", REQUEST)

    clock.advance(1)
    entry = ledger.claim("k1", "card", REQUEST)
    assert entry is not None
    assert entry.state == "unknown"
    assert entry.error is not None and "never recorded" in entry.error


def test_a_pending_claim_of_a_dead_process_is_abandoned(
    ledger: SendLedger, db: Path
) -> None:
    """A pending claim whose owner process no longer exists is stale at
    once."""
    ledger.claim("k1", "card", REQUEST)
    dead_pid = _dead_pid()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sends SET owner_pid = ?", (dead_pid,))
    conn.close()

    entry = ledger.get("k1")
    assert entry is not None and ledger.is_stale(entry)
    claimed = ledger.claim("k1", "card", REQUEST)
    assert claimed is not None and claimed.state == "unknown"


def _dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def test_mark_sent_keeps_the_first_result(ledger: SendLedger) -> None:
    """Marking a sent key sent again keeps the first result."""
    ledger.claim("k1", "card", REQUEST)
    ledger.mark_sent("k1", {"card_id": 7})

    entry = ledger.mark_sent("k1", {"card_id": 8})
    assert entry.result == {"card_id": 7}


def test_failures_never_overwrite_a_sent_entry(ledger: SendLedger) -> None:
    """mark_refused and mark_unknown leave a sent entry sent."""
    ledger.claim("k1", "card", REQUEST)
    ledger.mark_sent("k1", {"card_id": 7})

    assert ledger.mark_refused("k1", "late refusal").state == "sent"
    assert ledger.mark_unknown("k1", "late loss").state == "sent"


def test_failures_never_overwrite_another_live_senders_claim(
    ledger: SendLedger,
) -> None:
    """A thread cannot mark refused a key another thread holds pending."""
    thread = threading.Thread(
        target=lambda: ledger.claim("k1", "card", REQUEST)
    )
    thread.start()
    thread.join(timeout=10)
    entry = ledger.get("k1")
    assert entry is not None and entry.owner_thread != threading.get_ident()

    # The other thread has ended, but its process (this one) lives on.
    assert ledger.mark_refused("k1", "not mine").state == "pending"


def test_marking_a_missing_key_raises_key_error(ledger: SendLedger) -> None:
    """Outcomes can only be recorded for claimed keys."""
    for mark in (ledger.mark_refused, ledger.mark_unknown):
        with pytest.raises(KeyError):
            mark("nope", "x")
    with pytest.raises(KeyError):
        ledger.mark_sent("nope", {})


def test_entries_and_summary_count_each_state(
    ledger: SendLedger, clock: Clock
) -> None:
    """entries() lists oldest claim first, optionally in one state;
    summary() lists every state."""
    for index, key in enumerate(["a", "b", "c", "d"]):
        ledger.claim(key, "card", {"n": index})
        clock.advance(1)
    ledger.mark_sent("a", {"card_id": 1})
    ledger.mark_refused("b", "no")
    ledger.mark_unknown("c", "lost")

    assert [e.key for e in ledger.entries()] == ["a", "b", "c", "d"]
    assert [e.key for e in ledger.entries("unknown")] == ["c"]
    assert ledger.summary() == {
        "pending": 1,
        "sent": 1,
        "refused": 1,
        "unknown": 1,
    }
    assert set(ledger.summary()) == set(STATES)


def test_an_empty_ledger_summary_lists_zeros(ledger: SendLedger) -> None:
    """Every state is listed even with no entries."""
    assert ledger.summary() == dict.fromkeys(STATES, 0)
    assert list(ledger.entries()) == []


@pytest.mark.parametrize(
    ("key", "kind", "request_value", "field"),
    [
        ("", "card", {}, "idempotency_key"),
        ("   ", "card", {}, "idempotency_key"),
        (7, "card", {}, "idempotency_key"),
        ("k", "letter", {}, "kind"),
        ("k", "card", {"when": dt.date(2024, 1, 1)}, "request"),
        ("k", "card", {"n": float("nan")}, "request"),
    ],
)
def test_claim_refuses_bad_arguments(
    ledger: SendLedger,
    key: Any,
    kind: Any,
    request_value: Any,
    field: str,
) -> None:
    """A bad key, kind or non-JSON request is refused and nothing is
    recorded."""
    with pytest.raises(ValidationError) as caught:
        ledger.claim(key, kind, request_value)
    assert caught.value.field == field
    assert ledger.summary() == dict.fromkeys(STATES, 0)


def test_a_closed_ledger_cannot_be_used(db: Path) -> None:
    """Every call after close() raises."""
    ledger = SendLedger(db)
    ledger.close()
    with pytest.raises(RuntimeError, match="closed"):
        ledger.get("k1")


def test_the_file_uses_wal_mode(ledger: SendLedger, db: Path) -> None:
    """The database is in WAL mode, so readers do not block the writer."""
    with sqlite3.connect(db) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    conn.close()
    assert mode == "wal"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connection(ledger: SendLedger) -> None:
    """A ledger inherited through fork works in the child, which claims
    under its own process id."""
    context = multiprocessing.get_context("fork")
    child = context.Process(
        target=lambda: ledger.claim("forked", "card", REQUEST)
    )
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0

    entry = ledger.get("forked")
    assert entry is not None and entry.owner_pid == child.pid
    assert ledger.claim("k1", "card", REQUEST) is None


def test_public_all_is_sorted_and_resolves() -> None:
    """The ledger's __all__ lists constants, classes, then functions,
    each sorted, and every name exists."""
    import amcards.ledger as module

    names = list(module.__all__)
    rank = {True: 0, False: 1}
    assert names == sorted(
        names,
        key=lambda n: (0 if n.isupper() else rank[n[:1].isupper()] + 1, n),
    )
    for name in names:
        assert getattr(module, name) is not None


def test_entry_kinds_and_states_are_the_documented_ones() -> None:
    """The kinds and states match the table's CHECK constraints."""
    assert KINDS == ("card", "cards", "campaign", "campaign_multi")
    assert STATES == ("pending", "sent", "refused", "unknown")


# Keys ---------------------------------------------------------------------

COUNTRY_SPELLINGS = ["US", "us", "USA", " usa ", "U.S.", "United States"]


def _respaced(text: str, gap: str, pad: str) -> str:
    return pad + gap.join(text.split(" ")) + pad


@st.composite
def same_address(draw: st.DrawFn) -> dict[str, Any]:
    """ADDRESS written another way: key order, country spelling, spaces,
    case, and empty optional keys."""
    country = draw(st.sampled_from(COUNTRY_SPELLINGS))
    gap = draw(st.sampled_from([" ", "  ", "   "]))
    pad = draw(st.sampled_from(["", " ", "\n "]))
    upper = draw(st.booleans())
    written: dict[str, Any] = {}
    for key, value in ADDRESS.items():
        if key == "country":
            written[key] = country
            continue
        text = value.upper() if upper else value
        written[key] = _respaced(text, gap, pad)
    empties = draw(
        st.lists(
            st.sampled_from(["address_line_2", "organization"]), unique=True
        )
    )
    for key in empties:
        written[key] = draw(st.sampled_from(["", "  ", None]))
    order = draw(st.permutations(list(written)))
    return {key: written[key] for key in order}


@given(same_address())
def test_derived_keys_ignore_how_the_address_is_written(
    address: dict[str, Any],
) -> None:
    """Key order, "USA"/"US", stray spaces and case give the same key."""
    assert derive_key("card", 1, address, "2024-05-01", "Hi") == derive_key(
        "card", "1", ADDRESS, dt.date(2024, 5, 1), "Hi"
    )


@given(
    pad=st.sampled_from(["", " ", "\n", "\r\n  "]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_derived_keys_ignore_line_ends_and_padding_of_the_message(
    pad: str, newline: str
) -> None:
    """A message's line-end style and surrounding space do not matter."""
    message = f"{pad}Dear Ralph,{newline}thank you.{pad}"
    assert derive_key("card", 1, ADDRESS, None, message) == derive_key(
        "card", 1, ADDRESS, None, "Dear Ralph,\nthank you."
    )


@given(st.permutations([dict(ADDRESS, first_name=n) for n in "ABC"]))
def test_derived_batch_keys_ignore_the_order_of_recipients(
    recipients: list[dict[str, str]],
) -> None:
    """For a batch, the recipients' order does not change the key."""
    reference = [dict(ADDRESS, first_name=n) for n in "ABC"]
    assert derive_key("cards", 1, recipients) == derive_key(
        "cards", 1, reference
    )


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "campaign"},
        {"target_id": 2},
        {"address": dict(ADDRESS, address_line_1="2287 Reppert Road")},
        {"address": dict(ADDRESS, postal_code="48076")},
        {"address": dict(ADDRESS, state="OH")},
        {"address": dict(ADDRESS, country="CA", state="ON")},
        {"send_date": "2024-05-02"},
        {"message": "Hi!"},
        {"message": None},
        {"extra": {"initiator": "someone"}},
    ],
)
def test_derived_keys_differ_for_a_different_send(
    change: dict[str, Any],
) -> None:
    """Anything that makes another card makes another key."""
    arguments: dict[str, Any] = {
        "kind": "card",
        "target_id": 1,
        "address": ADDRESS,
        "send_date": "2024-05-01",
        "message": "Hi",
    }
    before = derive_key(**arguments)
    assert derive_key(**{**arguments, **change}) != before


@pytest.mark.parametrize(
    "written",
    [
        dict(ADDRESS, third_party_contact_id="crm-1"),
        dict(ADDRESS, third_party_contact_id="CRM-2"),
        dict(ADDRESS, state="Michigan"),
        dict(ADDRESS, state=" michigan "),
        dict(ADDRESS, postal_code="48075-1234"),
        dict(ADDRESS, postal_code="480751234"),
        {k: v for k, v in ADDRESS.items() if k != "country"}
        | {
            "state": "Michigan",
            "postal_code": "48075-0001",
        },
    ],
)
def test_the_same_recipient_in_crm_dress_has_the_same_key(
    written: dict[str, str],
) -> None:
    """A CRM id added later, a state written out, a ZIP+4: one person,
    one key, so a rerun of a grown export mails nobody twice."""
    assert derive_key("card", 1, written) == derive_key("card", 1, ADDRESS)


@pytest.mark.parametrize(
    ("address", "same_as"),
    [
        (
            dict(ADDRESS, country="CA", state="Ontario", postal_code="K1A0B1"),
            dict(ADDRESS, country="CA", state="ON", postal_code="k1a 0b1"),
        ),
        (
            dict(ADDRESS, country="AU", state="Victoria", postal_code="3000"),
            dict(ADDRESS, country="AU", state="VIC", postal_code="3000"),
        ),
    ],
)
def test_canadian_and_australian_states_written_out_agree(
    address: dict[str, str], same_as: dict[str, str]
) -> None:
    assert derive_key("card", 1, address) == derive_key("card", 1, same_as)


def test_a_state_name_is_read_only_for_its_own_country() -> None:
    """'Victoria' is a state in Australia, not in the US."""
    us = derive_key("card", 1, dict(ADDRESS, state="Victoria"))
    assert us != derive_key("card", 1, dict(ADDRESS, state="VIC"))


def test_a_derived_key_is_the_digest_of_the_documented_json() -> None:
    """The key is the SHA-256 hex digest of the compact, sorted JSON the
    docstring describes: a change to it must bump KEY_VERSION."""
    canonical = {
        "address": {
            "address_line_1": "2285 reppert road",
            "city": "southfield",
            "first_name": "ralph",
            "last_name": "mullins",
            "postal_code": "48075",
            "state": "mi",
        },
        "extra": None,
        "kind": "card",
        "message": "Hi",
        "send_date": "2024-05-01",
        "target": "1",
        "v": KEY_VERSION,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert derive_key("card", 1, ADDRESS, "2024-05-01", "Hi") == expected
    assert expected == (
        "7daf5fa58f78299b6267aaa8232315f4ee61064036f730cd083237661095b131"
    )


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (("card", 1, {**ADDRESS, "city": " "}), ShippingAddressError),
        (("card", 1, [ADDRESS]), ValidationError),
        (("cards", 1, ADDRESS), ValidationError),
        (("card", "x", ADDRESS), ValidationError),
        (("card", 1, ADDRESS, "2024-13-01"), ValidationError),
        (("card", 1, ADDRESS, None, 5), ValidationError),
        (("card", 1, ADDRESS, None, None, {"x": object()}), ValidationError),
        (("letter", 1, ADDRESS), ValidationError),
    ],
)
def test_derive_key_refuses_what_the_send_would_refuse(
    arguments: tuple[Any, ...], error: type[Exception]
) -> None:
    """Bad values raise the validators' errors, naming the field."""
    with pytest.raises(error):
        derive_key(*arguments)


def test_check_key_returns_the_callers_key_unchanged() -> None:
    """A caller's key is used as given."""
    assert check_key(" order-17 ") == " order-17 "


# Sending one card ---------------------------------------------------------


def test_send_card_once_sends_once(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """The second identical send returns the first answer and makes no
    request at all."""
    first = send_card_once(client, ledger, 1, "me", ADDRESS, message="Hi")
    seen = service.request_count

    again = send_card_once(
        client,
        ledger,
        "1",
        "me",
        dict(ADDRESS, country="USA"),
        None,
        None,
        "Hi",
    )
    assert again == first
    assert service.request_count == seen
    assert service.cards_created == 1


def test_send_card_once_records_the_answer(
    ledger: SendLedger, client: AMcardsClient
) -> None:
    """The entry holds the normalised request and the card's answer."""
    response = send_card_once(
        client, ledger, 1, " me ", ADDRESS, send_date="2030-01-02"
    )
    request = card_request(1, "me", ADDRESS, send_date="2030-01-02")
    entry = ledger.get(card_key(request))
    assert entry is not None and entry.state == "sent"
    assert entry.request == request
    assert entry.result is not None
    assert entry.result["card_id"] == response.card_id
    assert card_response(entry) == response


def test_idempotency_keys_tell_identical_sends_apart(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """Two keys send two identical cards; one key sends one."""
    for key in ("order-1", "order-2", "order-1"):
        send_card_once(client, ledger, 1, "me", ADDRESS, idempotency_key=key)
    assert service.cards_created == 2


def test_an_idempotency_key_cannot_be_reused_for_another_card(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """Reusing a key with another message raises and sends nothing."""
    send_card_once(client, ledger, 1, "me", ADDRESS, idempotency_key="k")
    seen = service.request_count
    with pytest.raises(ValidationError, match="message"):
        send_card_once(
            client, ledger, 1, "me", ADDRESS, message="x", idempotency_key="k"
        )
    assert service.request_count == seen


def test_a_refused_send_is_recorded_and_may_be_tried_again(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """A 402 marks the entry refused; once credits are back the same call
    sends the card."""
    service.set_credits(fake.DEMO_USER_ID, 0)
    with pytest.raises(InsufficientCreditsError):
        send_card_once(client, ledger, 1, "me", ADDRESS)
    entry = ledger.get(card_key(card_request(1, "me", ADDRESS)))
    assert entry is not None and entry.state == "refused"
    assert entry.error is not None
    assert entry.error.startswith("InsufficientCreditsError")

    service.set_credits(fake.DEMO_USER_ID, 10_000)
    send_card_once(client, ledger, 1, "me", ADDRESS)
    entry = ledger.get(entry.key)
    assert entry is not None
    assert (entry.state, entry.attempts) == ("sent", 2)
    assert service.cards_created == 1


def test_a_lost_answer_is_reconciled_without_sending_again(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """The card made by a send whose answer was lost is found, and the
    rerun returns it without a second send."""
    service.faults.add(fake.Fault("drop_after", path=SEND_PATH))
    with pytest.raises(SendOutcomeUnknownError):
        send_card_once(client, ledger, 1, "me", ADDRESS)
    assert ledger.summary()["unknown"] == 1

    response = send_card_once(client, ledger, 1, "me", ADDRESS)
    assert (service.cards_created, sends(service)) == (1, 1)
    assert response.card_id == max(c["id"] for c in service.objects("card"))
    entry = ledger.get(card_key(card_request(1, "me", ADDRESS)))
    assert entry is not None and entry.state == "sent"
    assert entry.result is not None and entry.result["reconciled"] is True


def test_a_send_that_never_arrived_is_sent_once_it_settles(
    ledger: SendLedger,
    client: AMcardsClient,
    service: fake.FakeAMcards,
    clock: Clock,
) -> None:
    """A card not found stays unknown until settle_after has passed, then
    the key is re-claimed and the card sent."""
    service.faults.add(fake.Fault("drop_before", path=SEND_PATH))
    with pytest.raises(SendOutcomeUnknownError):
        send_card_once(client, ledger, 1, "me", ADDRESS)

    with pytest.raises(SendOutcomeUnknownError, match="still unknown"):
        send_card_once(client, ledger, 1, "me", ADDRESS)
    assert service.cards_created == 0

    clock.advance(ledger.settle_after)
    send_card_once(client, ledger, 1, "me", ADDRESS)
    assert service.cards_created == 1
    entry = ledger.get(card_key(card_request(1, "me", ADDRESS)))
    assert entry is not None and entry.attempts == 2


def test_an_interrupted_send_is_recorded_as_unknown(
    ledger: SendLedger, service: fake.FakeAMcards
) -> None:
    """A KeyboardInterrupt after the request went out leaves the entry
    unknown, not pending and not refused."""

    class InterruptAfter(fake.FakeTransport):
        def send(
            self, request: Request, *, timeout: Timeout | None = None
        ) -> Response:
            super().send(request, timeout=timeout)
            raise KeyboardInterrupt

    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN, transport=InterruptAfter(service)
    )
    with pytest.raises(KeyboardInterrupt):
        send_card_once(client, ledger, 1, "me", ADDRESS)
    assert ledger.summary()["unknown"] == 1


def test_a_bad_argument_records_nothing(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """Arguments are checked before the key is claimed."""
    with pytest.raises(ShippingAddressError):
        send_card_once(client, ledger, 1, "me", {**ADDRESS, "city": ""})
    with pytest.raises(ValidationError, match="initiator"):
        send_card_once(client, ledger, 1, " ", ADDRESS)
    assert ledger.summary() == dict.fromkeys(STATES, 0)
    assert service.request_count == 0


def test_card_response_needs_a_sent_card_entry(ledger: SendLedger) -> None:
    """Only a sent card entry can be turned back into a CardResponse."""
    ledger.claim("k1", "card", REQUEST)
    entry = ledger.get("k1")
    assert entry is not None
    with pytest.raises(ValueError, match="not a sent card"):
        card_response(entry)


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (ValidationError(field="x", reason="y"), True),
        (ShippingAddressError(field="x", reason="y"), True),
        (ConnectError("no route"), True),
        (OAuthTokenRefreshError("refresh failed"), True),
        (InsufficientCreditsError("broke", status=402), True),
        (AuthenticationError("who", status=401), True),
        (CardSendError("bad", status=400), True),
        (ConnectionLostError("dropped"), False),
        (SendOutcomeUnknownError("lost", status=503), False),
        (ServerError("oops", status=500), False),
        (UnexpectedResponseError("odd", status=200), False),
        (UnexpectedResponseError("odd"), False),
        (KeyboardInterrupt(), False),
        (RuntimeError("bug"), False),
    ],
)
def test_is_refusal_only_when_nothing_went_out(
    error: BaseException, refused: bool
) -> None:
    """Only errors proving that nothing was sent count as refusals."""
    assert is_refusal(error) is refused


# Reconciling --------------------------------------------------------------


def test_reconcile_looks_up_by_third_party_contact_id(
    ledger: SendLedger,
    client: AMcardsClient,
    service: fake.FakeAMcards,
    transport: fake.FakeTransport,
) -> None:
    """With a contact id the lookup filters on it, not on the initiator."""
    address = dict(ADDRESS, third_party_contact_id="crm-9")
    service.faults.add(fake.Fault("drop_after", path=SEND_PATH))
    with pytest.raises(SendOutcomeUnknownError):
        send_card_once(client, ledger, 1, "me", address)

    (entry,) = ledger.entries("unknown")
    settled = ledger.reconcile(entry, client)
    assert settled.state == "sent"
    lookups = [r for r in transport.requests if r.path == "/.api/v1/card/"]
    assert dict(lookups[-1].query)["third_party_contact_id"] == "crm-9"


def test_reconcile_skips_cards_already_recorded_under_another_key(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """Two cards that look alike in the listing (it shows no message) are
    not both taken by one lookup."""
    first = send_card_once(client, ledger, 1, "me", ADDRESS, message="One")
    service.faults.add(fake.Fault("drop_after", path=SEND_PATH))
    with pytest.raises(SendOutcomeUnknownError):
        send_card_once(client, ledger, 1, "me", ADDRESS, message="Two")

    second = send_card_once(client, ledger, 1, "me", ADDRESS, message="Two")
    assert second.card_id != first.card_id
    assert service.cards_created == 2


def test_reconcile_does_not_match_another_template_or_date(
    ledger: SendLedger,
    client: AMcardsClient,
    service: fake.FakeAMcards,
    clock: Clock,
) -> None:
    """Cards to the same person with another template or send date are
    not taken for the lost one."""
    send_card_once(
        client,
        ledger,
        fake.DEMO_GIFT_TEMPLATE_ID,
        "me",
        ADDRESS,
        None,
        "2030-01-01",
    )
    send_card_once(client, ledger, 1, "me", ADDRESS, None, "2030-01-02")
    ledger.claim(
        "lost", "card", card_request(1, "me", ADDRESS, None, "2030-01-01")
    )
    entry = ledger.mark_unknown("lost", "answer lost")
    clock.advance(ledger.settle_after)

    settled = ledger.reconcile(entry, client)
    assert settled.state == "refused"
    assert settled.error is not None and "not sent" in settled.error


def test_reconcile_of_a_live_pending_claim_raises(
    ledger: SendLedger, client: AMcardsClient
) -> None:
    """A claim still being worked on is not looked up behind its back."""
    ledger.claim("k1", "card", card_request(1, "me", ADDRESS))
    entry = ledger.get("k1")
    assert entry is not None
    with pytest.raises(SendInProgressError):
        ledger.reconcile(entry, client)


def test_reconcile_leaves_other_kinds_unknown(
    ledger: SendLedger, client: AMcardsClient, service: fake.FakeAMcards
) -> None:
    """Batches and campaigns cannot be looked up; they wait for a person."""
    ledger.claim("batch", "cards", {"template_id": "1"})
    entry = ledger.mark_unknown("batch", "lost")
    seen = service.request_count

    assert ledger.reconcile(entry, client) == entry
    assert service.request_count == seen
    settled = ledger.mark_refused("batch", "checked by hand: no mailing")
    assert settled.state == "refused"


def test_reconcile_keeps_a_change_made_while_it_looked(
    ledger: SendLedger,
    service: fake.FakeAMcards,
    clock: Clock,
) -> None:
    """If another process settles the entry during the lookup, its
    outcome stands and is returned."""

    class SettlesDuringLookup(AMcardsClient):
        def find_recent_cards(self, **kw: Any) -> Any:
            ledger.mark_sent("k1", {"card_id": 99})
            return super().find_recent_cards(**kw)

    client = SettlesDuringLookup(
        fake.DEMO_ACCESS_TOKEN, transport=fake.FakeTransport(service)
    )
    ledger.claim("k1", "card", card_request(1, "me", ADDRESS))
    entry = ledger.mark_unknown("k1", "lost")
    clock.advance(ledger.settle_after)

    settled = ledger.reconcile(entry, client)
    assert settled.state == "sent"
    assert settled.result == {"card_id": 99}


def test_reconciled_entries_come_back_unchanged_when_settled(
    ledger: SendLedger, client: AMcardsClient
) -> None:
    """Sent and refused entries are returned as they are."""
    ledger.claim("k1", "card", REQUEST)
    sent = ledger.mark_sent("k1", {"card_id": 1})
    assert ledger.reconcile(sent, client) == sent


# Processes ----------------------------------------------------------------


def _race_claim(
    path: str,
    ready: Any,
    done: Any,
    results: Any,
) -> None:
    """In a child process: claim the shared key when all are ready."""
    with SendLedger(path) as ledger:
        ready.wait(timeout=60)
        try:
            won = ledger.claim("race", "card", REQUEST) is None
            outcome = "won" if won else "other"
        except SendInProgressError:
            outcome = "busy"
        results.put(outcome)
        # Stay alive, so the winner's claim is not taken as abandoned.
        done.wait(timeout=60)


def test_processes_racing_for_one_key_have_one_winner(db: Path) -> None:
    """Of four processes opening a new file and claiming the same key at
    once, exactly one wins and the others are told it is in progress."""
    context = multiprocessing.get_context("spawn")
    count = 4
    ready = context.Barrier(count)
    done = context.Event()
    results = context.Queue()
    processes = [
        context.Process(
            target=_race_claim, args=(str(db), ready, done, results)
        )
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = sorted(results.get(timeout=60) for _ in range(count))
    finally:
        done.set()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert outcomes == ["busy"] * (count - 1) + ["won"]
    assert all(process.exitcode == 0 for process in processes)


CRASHING_SENDER = """
import json, os, signal, sys
from amcards import AMcardsClient
from amcards.ledger import SendLedger, send_card_once
from amcards.transports.urllib3_transport import Urllib3Transport

class KilledAfterTheAnswer(Urllib3Transport):
    def send(self, request, *, timeout=None):
        response = super().send(request, timeout=timeout)
        if request.method == "POST":
            os.kill(os.getpid(), signal.SIGKILL)
        return response

path, base_url, token, address = sys.argv[1:5]
client = AMcardsClient(
    token, base_url=base_url, transport=KilledAfterTheAnswer()
)
with SendLedger(path) as ledger:
    send_card_once(client, ledger, 1, "me", json.loads(address))
"""


@pytest.mark.sockets
@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_a_sender_killed_after_sending_leaves_a_claim_that_is_reconciled(
    db: Path,
) -> None:
    """A process killed between the send and mark_sent leaves the key
    pending; the next run finds the card and sends nothing more."""
    from amcards.transports.fake.server import FakeServer

    with FakeServer() as server:
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                CRASHING_SENDER,
                str(db),
                server.base_url,
                fake.DEMO_ACCESS_TOKEN,
                json.dumps(ADDRESS),
            ],
            timeout=60,
            capture_output=True,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
        service = server.service
        assert (service.cards_created, sends(service)) == (1, 1)

        with SendLedger(db) as ledger:
            key = card_key(card_request(1, "me", ADDRESS))
            left = ledger.get(key)
            assert left is not None and left.state == "pending"
            assert left.owner_pid not in (None, os.getpid())
            assert ledger.is_stale(left)

            client = AMcardsClient(
                fake.DEMO_ACCESS_TOKEN, base_url=server.base_url
            )
            response = send_card_once(client, ledger, 1, "me", ADDRESS)
            again = send_card_once(client, ledger, 1, "me", ADDRESS)

            entry = ledger.get(key)
        assert (service.cards_created, sends(service)) == (1, 1)
        assert again == response
        assert entry is not None and entry.state == "sent"
        assert entry.result is not None
        assert entry.result["card_id"] == response.card_id


@pytest.mark.skipif(
    not os.path.exists("/proc/self/stat"), reason="needs Linux /proc"
)
def test_a_killed_but_unreaped_sender_counts_as_gone() -> None:
    """A zombie process does not hold its claims."""
    from amcards.ledger import _process_exists

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{child.pid}/stat", "rb") as stat:
            if stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                break
        time.sleep(0.01)
    try:
        assert not _process_exists(child.pid)
    finally:
        child.wait(10)
    assert _process_exists(os.getpid())


@pytest.mark.parametrize("path", ["", "  ", ":memory:", "file:x?mode=memory"])
def test_a_ledger_that_keeps_nothing_is_refused(path: str) -> None:
    """A ledger path SQLite would throw away is a typed error."""
    with pytest.raises(ValidationError) as caught:
        SendLedger(path)
    assert caught.value.field == "path"


# One ledger, one server ----------------------------------------------------


class Scripted:
    """A stand-in transport answering from a function, keeping requests."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[Request] = []

    def send(self, request: Request, *, timeout: Any = None) -> Response:
        self.requests.append(request)
        return self.answer(request)

    def close(self) -> None:
        pass


def test_a_ledger_is_tied_to_the_server_of_its_first_send(
    ledger: SendLedger,
    db: Path,
    client: AMcardsClient,
    service: fake.FakeAMcards,
) -> None:
    """A card sent to one server is not sent to another: the same send
    through the same ledger to another server is refused, not skipped."""
    assert ledger.server is None
    send_card_once(client, ledger, 1, "me", ADDRESS)
    fake_server = fake.FakeTransport.ledger_server
    assert ledger.server == fake_server
    stand_in = Scripted(lambda request: Response(500))
    for base_url in ("http://127.0.0.1:8765/", client.base_url):
        # Another server, or the real one under the default base_url:
        # what the fake mailed is not taken for sent there.
        other = AMcardsClient(
            fake.DEMO_ACCESS_TOKEN, base_url=base_url, transport=stand_in
        )
        with pytest.raises(ValidationError) as caught:
            send_card_once(other, ledger, 1, "me", ADDRESS)
        assert caught.value.field == "ledger"
        assert fake_server in caught.value.reason
        assert base_url.rstrip("/") in caught.value.reason
    assert stand_in.requests == []
    assert service.cards_created == 1
    with SendLedger(db) as reopened:
        assert reopened.server == fake_server
        with pytest.raises(ValidationError):
            reopened.check_server(client.base_url)
        reopened.check_server(fake_server + "/")


def test_binding_ignores_a_trailing_slash_and_is_idempotent(
    ledger: SendLedger,
) -> None:
    ledger.bind("http://127.0.0.1:8765/")
    ledger.bind("http://127.0.0.1:8765")
    assert ledger.server == "http://127.0.0.1:8765"
    with pytest.raises(ValidationError) as caught:
        ledger.bind("http://127.0.0.1:8766")
    assert caught.value.field == "ledger"
    with pytest.raises(ValidationError) as caught:
        ledger.bind("  ")
    assert caught.value.field == "server"


def test_reconcile_refuses_a_client_of_another_server(
    ledger: SendLedger, service: fake.FakeAMcards
) -> None:
    ledger.bind("http://127.0.0.1:8765")
    key = "k" * 16
    ledger.claim(key, "card", {"template_id": "1"})
    entry = ledger.mark_unknown(key, "lost")
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN, transport=fake.FakeTransport(service)
    )
    with pytest.raises(ValidationError) as caught:
        ledger.reconcile(entry, client)
    assert caught.value.field == "ledger"
    assert service.requests_seen == {}


# What a ledger refuses to open ---------------------------------------------


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "is a folder, not a file"),
        (lambda tmp: tmp / "missing" / "x.db", "does not exist"),
        (lambda tmp: 5, "expected a file path, not int"),
        (lambda tmp: None, "expected a file path, not NoneType"),
        (lambda tmp: b"x.db", "expected a file path, not bytes"),
        (lambda tmp: "", "give the path of a file"),
        (lambda tmp: ":memory:", "give the path of a file"),
    ],
)
def test_a_path_that_cannot_hold_a_ledger_is_a_validation_error(
    tmp_path: Path, make: Any, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        SendLedger(make(tmp_path))
    assert caught.value.field == "path"
    assert reason in caught.value.reason


def test_a_file_that_is_not_a_database_is_named_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database " * 200)
    before = text.read_bytes()
    with pytest.raises(ValidationError) as caught:
        SendLedger(text)
    assert caught.value.field == "path"
    assert str(text) in caught.value.reason
    assert text.read_bytes() == before


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"stale_after": float("nan")}, "stale_after"),
        ({"stale_after": -1}, "stale_after"),
        ({"settle_after": float("inf")}, "settle_after"),
        ({"settle_after": "60"}, "settle_after"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"clock": 5}, "clock"),
    ],
)
def test_settings_of_the_wrong_kind_are_refused(
    db: Path, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        SendLedger(db, **options)
    assert caught.value.field == field
    assert not db.exists()


def test_a_recording_of_the_fake_and_a_replay_never_count_as_real(
    tmp_path: Path, service: fake.FakeAMcards
) -> None:
    """Wrapping the fake in a recorder keeps its server name; a replay
    has one of its own: neither ties a ledger to the real service."""
    from amcards.transports.recorded import (
        RecordingTransport,
        ReplayTransport,
    )
    from amcards.transports.urllib3_transport import Urllib3Transport

    cassette = tmp_path / "practice.json"
    recorder = RecordingTransport(fake.FakeTransport(service), cassette)
    with SendLedger(tmp_path / "practice.db") as practice:
        client = AMcardsClient(fake.DEMO_ACCESS_TOKEN, transport=recorder)
        send_card_once(client, practice, 1, "me", ADDRESS)
        recorder.close()
        assert practice.server == fake.FakeTransport.ledger_server
        stand_in = Scripted(lambda request: Response(500))
        real = AMcardsClient("real-token", transport=stand_in)
        with pytest.raises(ValidationError):
            send_card_once(real, practice, 1, "me", ADDRESS)
    with SendLedger(tmp_path / "replayed.db") as replayed:
        client = AMcardsClient("t", transport=ReplayTransport(cassette))
        send_card_once(client, replayed, 1, "me", ADDRESS)
        assert replayed.server == ReplayTransport.ledger_server
    plain = RecordingTransport(Urllib3Transport(), tmp_path / "real.json")
    assert plain.ledger_server is None


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (
            {"phone_number": "313-555-0100"},
            {"phone_number": "+1 313 555 0100"},
        ),
        ({"phone_number": "13135550100"}, {"phone_number": "(313) 555-0100"}),
        ({"birth_date": "01-02"}, {"birth_date": "1970-01-02"}),
    ],
)
def test_a_campaign_recipient_written_another_way_has_one_key(
    first: dict[str, str], again: dict[str, str]
) -> None:
    """The phone with or without its country code 1, a birthday with or
    without its year: one person, enrolled once."""
    one = derive_key("campaign", 21, dict(ADDRESS, **first))
    two = derive_key("campaign", 21, dict(ADDRESS, **again))
    assert one == two


def test_a_different_birthday_is_a_different_campaign_recipient() -> None:
    one = derive_key("campaign", 21, dict(ADDRESS, birth_date="01-02"))
    two = derive_key("campaign", 21, dict(ADDRESS, birth_date="01-03"))
    assert one != two

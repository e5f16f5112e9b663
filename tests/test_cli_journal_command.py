"""`amcards journal`: read a send-cards journal and settle lost sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amcards import cli
from amcards.ledger import SendLedger, card_key, card_request

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lane",
    "address_line_1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62704",
}


def journal_with(tmp_path: Path, state: str) -> tuple[str, str]:
    """A journal holding one card entry in ``state``; its path and key."""
    path = str(tmp_path / "journal.db")
    request = card_request("1", "tests", ADDRESS)
    key = card_key(request)
    with SendLedger(path) as ledger:
        ledger.claim(key, "card", request)
        if state == "unknown":
            ledger.mark_unknown(key, "no answer came back")
        elif state == "sent":
            ledger.mark_sent(key, {"card_id": 7})
    return path, key


def test_lists_entries_with_their_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table names the recipient and the state of each send."""
    path, key = journal_with(tmp_path, "unknown")
    assert cli.main(["journal", path]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert key[:16] in out
    assert "unknown" in out
    assert "Ada Lane" in out
    assert cli.main(["journal", path, "--state", "sent", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_mark_refused_lets_a_rerun_send_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown send settled as not sent can be claimed again."""
    path, key = journal_with(tmp_path, "unknown")
    assert cli.main(["journal", path, "--mark-refused", key[:10]]) == 0
    with SendLedger(path) as ledger:
        entry = ledger.get(key)
        assert entry is not None
        assert entry.state == "refused"
        again = card_request("1", "tests", ADDRESS)
        assert ledger.claim(key, "card", again) is None


def test_mark_sent_records_the_card(tmp_path: Path) -> None:
    """An unknown send settled as sent keeps the card id given."""
    path, key = journal_with(tmp_path, "unknown")
    status = cli.main(
        ["journal", path, "--mark-sent", key, "--card-id", "1234"]
    )
    assert status == cli.EXIT_OK
    with SendLedger(path) as ledger:
        entry = ledger.get(key)
    assert entry is not None
    assert entry.state == "sent"
    assert entry.result == {
        "settled_by_hand": True,
        "card_ids": [1234],
        "card_id": 1234,
    }


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--mark-sent", "ffff"], "no entry"),
        (["--card-id", "3"], "--card-id goes with --mark-sent"),
    ],
)
def test_bad_settling_is_a_usage_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    message: str,
) -> None:
    """Unknown keys and stray options are refused, naming the problem."""
    path, _ = journal_with(tmp_path, "unknown")
    assert cli.main(["journal", path, *words]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_sent_entry_is_not_settled_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only unknown sends are settled by hand."""
    path, key = journal_with(tmp_path, "sent")
    assert cli.main(["journal", path, "--mark-refused", key]) == 2
    assert "is sent" in capsys.readouterr().err


def test_missing_journal_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A journal path that does not exist is named in the error."""
    missing = str(tmp_path / "nope.db")
    assert cli.main(["journal", missing]) == cli.EXIT_USAGE
    assert "no journal at" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mark-sent", ""], "--mark-sent is empty"),
        (["--mark-refused", "  "], "--mark-refused is empty"),
    ],
)
def test_an_empty_key_is_a_usage_error_not_a_listing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    path, _ = journal_with(tmp_path, "unknown")
    assert cli.main(["journal", path, *extra]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_a_folder_is_named_as_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["journal", str(tmp_path)]) == cli.EXIT_USAGE
    assert "is a folder, not a journal" in capsys.readouterr().err

"""Numbers on the command line: --skip, --limit and ids.

Each is checked before any request, in ASCII digits only: a skip from 0
and an id from 1, neither above 2**63 - 1 (the service's ids are 64-bit
integers), and a limit from 1 to 1000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from amcards import cli
from amcards.client import AMcardsClient
from amcards.ledger import SendLedger, card_key, card_request
from amcards.transports.fake import FakeAMcards

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "recipients.csv"
BIGGEST = 2**63 - 1


@pytest.mark.parametrize("command", ["cards", "templates"])
@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["--skip", "99999999999999999999"],
            f"--skip must be at most {BIGGEST} (got '99999999999999999999')",
        ),
        (["--skip", str(BIGGEST + 1)], f"--skip must be at most {BIGGEST}"),
        (["--skip", "-1"], "--skip must be 0 or more (got '-1')"),
        (["--skip", "-0"], "--skip must be 0 or more (got '-0')"),
        (
            ["--skip", "\uff15"],
            "--skip must be a whole number in the digits 0-9 (got '\uff15')",
        ),
        (["--skip", "1_000"], "--skip must be a whole number in the digits"),
        (["--skip", "+5"], "--skip must be a whole number in the digits"),
        (["--skip", ""], "--skip must be a whole number in the digits"),
        (["--limit", "0"], "--limit must be 1 or more (got '0')"),
        (["--limit", "-0"], "--limit must be 1 or more (got '-0')"),
        (["--limit", "\u0665"], "--limit must be a whole number in the"),
        (["--limit", "ten"], "--limit must be a whole number in the"),
        (["--limit", "1001"], "--limit must be at most 1000"),
    ],
)
def test_paging_out_of_bounds_is_a_usage_error_before_any_request(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    command: str,
    option: list[str],
    message: str,
) -> None:
    assert cli.main([command, "--fake", *option]) == cli.EXIT_USAGE
    assert f"amcards: error: {message}" in capsys.readouterr().err
    assert service.request_count == 0


@pytest.mark.parametrize(
    ("option", "value", "asked"),
    [
        ("--skip", str(BIGGEST), {"limit": 25, "skip": BIGGEST}),
        ("--skip", f"000{BIGGEST}", {"limit": 25, "skip": BIGGEST}),
        ("--skip", " 0 ", {"limit": 25, "skip": 0}),
        ("--limit", "007", {"limit": 7, "skip": 0}),
        ("--limit", "1000", {"limit": 1000, "skip": 0}),
    ],
)
def test_paging_at_its_bounds_reaches_the_client(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    value: str,
    asked: dict[str, int],
) -> None:
    seen: list[dict[str, Any]] = []

    def cards(self: AMcardsClient, **kw: Any) -> list[Any]:
        seen.append(kw)
        return []

    monkeypatch.setattr(AMcardsClient, "cards", cards)
    assert cli.main(["cards", "--fake", option, value]) == cli.EXIT_OK
    assert seen == [{**asked, "filters": None}]


@pytest.mark.parametrize("option", ["--template", "--campaign"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "{option} 0 is not an id: ids run from 1 to {biggest}"),
        ("000", "{option} 000 is not an id: ids run from 1 to {biggest}"),
        (
            str(BIGGEST + 1),
            f"{{option}} {BIGGEST + 1} is not an id: ids run from 1 to "
            "{biggest}",
        ),
        (
            "99999999999999999999999999",
            "{option} 99999999999999999999999999 is not an id",
        ),
        ("\uff11", "{option} must be a"),
    ],
)
def test_a_target_id_out_of_range_is_a_usage_error(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    words = ["send-cards", str(EXAMPLE), "--fake", "--yes", option, value]
    assert cli.main(words) == cli.EXIT_USAGE
    wanted = message.format(option=option, biggest=BIGGEST)
    assert f"amcards: error: {wanted}" in capsys.readouterr().err
    assert service.request_count == 0


def unknown_entry(tmp_path: Path) -> tuple[str, str]:
    path = str(tmp_path / "journal.db")
    request = card_request(
        "1",
        "tests",
        {
            "first_name": "Ada",
            "last_name": "Lane",
            "address_line_1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62704",
        },
    )
    key = card_key(request)
    with SendLedger(path) as ledger:
        ledger.claim(key, "card", request)
        ledger.mark_unknown(key, "no answer came back")
    return path, key


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", f"--card-id 0 is not an id: ids run from 1 to {BIGGEST}"),
        ("-3", "--card-id must be a card number"),
        (str(BIGGEST + 1), f"--card-id {BIGGEST + 1} is not an id"),
        ("\uff17", "--card-id must be a card number"),
    ],
)
def test_a_card_id_out_of_range_is_a_usage_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    value: str,
    message: str,
) -> None:
    path, key = unknown_entry(tmp_path)
    words = ["journal", path, "--mark-sent", key, "--card-id", value]
    assert cli.main(words) == cli.EXIT_USAGE
    assert f"amcards: error: {message}" in capsys.readouterr().err
    with SendLedger(path) as ledger:
        entry = ledger.get(key)
        assert entry is not None
        assert entry.state == "unknown"


def test_the_largest_card_id_is_recorded(tmp_path: Path) -> None:
    path, key = unknown_entry(tmp_path)
    words = ["journal", path, "--mark-sent", key]
    assert cli.main([*words, "--card-id", str(BIGGEST)]) == cli.EXIT_OK
    with SendLedger(path) as ledger:
        entry = ledger.get(key)
        assert entry is not None
        assert entry.result is not None
        assert entry.result["card_ids"] == [BIGGEST]

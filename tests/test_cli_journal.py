"""``amcards send-cards`` at volume: the journal, reruns and money limits.

A batch is broken midway (a staged fault, a crash, a real SIGKILL) and
run again with the same --journal; the fake service's counters then show
that every row was sent exactly once across the runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_account import use_service

from amcards import cli, csvinput
from amcards.client import AMcardsClient
from amcards.core.http import Request, Response
from amcards.ledger import SendLedger, card_key, card_request
from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    DEMO_USER_ID,
    FakeAMcards,
    FakeServer,
    Fault,
)

REPO = Path(__file__).resolve().parent.parent
SEND_PATH = "/cards/open-card-form-oa/"
SEND_POST = f"POST {SEND_PATH}"
HEADER = "First Name,Last Name,Street Address,City,State,Zip,Country"
NAMES = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray"]
CARD_PRICE = 435  # the demo account's domestic card, in cents


def rows(count: int) -> list[str]:
    """``count`` distinct good rows; row i is on line i + 2."""
    return [
        f"{name},Tester,{index + 10} Elm St,Reno,NV,89501,US"
        for index, name in enumerate(NAMES[:count])
    ]


def write_csv(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def posts(service: FakeAMcards) -> int:
    """How many card sends reached the service (faulted ones too)."""
    return service.requests_seen.get(SEND_POST, 0)


def send(path: Path, journal: Path, *options: str) -> int:
    return cli.main(
        [
            "send-cards",
            str(path),
            "--template",
            "1",
            "--fake",
            "--yes",
            "--journal",
            str(journal),
            *options,
        ]
    )


class FaultAfter(FakeAMcards):
    """The demo service, staging ``fault`` for the card send after the
    first ``after`` ones."""

    fault: Fault | None = None
    after = 0
    seen = 0

    def take_fault(self, method: str, path: str) -> Fault | None:
        if (method, path) == ("POST", SEND_PATH):
            self.seen += 1
            if self.seen == self.after + 1 and self.fault is not None:
                self.add_fault(self.fault)
        return super().take_fault(method, path)


def fault_after(after: int, fault: Fault) -> FaultAfter:
    service = FaultAfter.demo()
    assert isinstance(service, FaultAfter)
    service.after, service.fault = after, fault
    return service


class Crash(BaseException):
    """Stands for the process dying: nothing in the command catches it."""


class CrashAfter(FakeAMcards):
    """The demo service; the card send after the first ``after`` crashes
    the caller, before or after the service handled it."""

    after = 0
    handled_first = True
    seen = 0

    def handle(self, request: Request) -> Response:
        if (request.method, request.path) != ("POST", SEND_PATH):
            return super().handle(request)
        self.seen += 1
        if self.seen != self.after + 1:
            return super().handle(request)
        if self.handled_first:
            super().handle(request)
        raise Crash


def crash_after(after: int, *, handled_first: bool) -> CrashAfter:
    service = CrashAfter.demo()
    assert isinstance(service, CrashAfter)
    service.after, service.handled_first = after, handled_first
    return service


def settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the journal trust a lookup that finds no card right away."""
    monkeypatch.setattr(
        cli, "_open_ledger", lambda path: SendLedger(path, settle_after=0)
    )


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "sends.journal"


# --max-cost --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("25", 2500),
        ("25.00", 2500),
        ("$25.00", 2500),
        ("25.5", 2550),
        ("0.07", 7),
        (" $3 ", 300),
    ],
)
def test_max_cost_is_read_as_dollars(text: str, cents: int) -> None:
    assert cli.parse_dollars(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "2500c",
        "1,000",
        "25.001",
        "",
        "$",
        "25 USD",
        "1e3",
        "--5",
        "\uff12\uff15",  # full-width 25
        "$\uff12\uff15.00",
        "25.\uff15",
        "\u0662\u0665",  # Arabic-Indic 25
        "2_500",
    ],
)
def test_max_cost_refuses_anything_but_dollars(text: str) -> None:
    with pytest.raises(Exception, match="not an amount in dollars"):
        cli.parse_dollars(text)


@pytest.mark.parametrize("text", ["-0", "-0.00", "-$0", "-\uff10"])
def test_max_cost_with_a_minus_sign_is_negative_even_for_zero(
    text: str,
) -> None:
    """A minus sign is always refused, so -0 reads like -5; a minus
    before digits that are not ASCII is refused as not an amount."""
    match = "must not be negative" if text.isascii() else "not an amount"
    with pytest.raises(Exception, match=match):
        cli.parse_dollars(text, "--max-cost")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "--max-cost must not be negative (got '-5')"),
        ("-$5.00", "--max-cost must not be negative"),
        (
            "99999999999999999999999",
            "--max-cost '99999999999999999999999' is too large (at most "
            "$1,000,000.00)",
        ),
        ("1000000.01", "is too large"),
    ],
)
def test_max_cost_says_negative_or_too_large(text: str, message: str) -> None:
    with pytest.raises(Exception, match=re.escape(message)):
        cli.parse_dollars(text, "--max-cost")


def test_max_cost_accepts_up_to_a_million_dollars() -> None:
    assert cli.parse_dollars("1000000") == 100_000_000
    assert cli.parse_dollars("0") == 0


@pytest.mark.parametrize("text", ["-5", "99999999999999999999999", "2500c"])
def test_max_cost_errors_are_one_line_like_the_other_options(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    path = write_csv(tmp_path, *rows(2))
    assert send(path, journal, "--max-cost", text) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("amcards: error: --max-cost ")
    assert "usage:" not in err
    assert len(err.strip().splitlines()) == 1
    assert service.request_count == 0


def test_a_max_cost_in_cents_is_a_usage_error(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(tmp_path, *rows(2))
    assert send(path, journal, "--max-cost", "2500c") == cli.EXIT_USAGE
    assert "write it like 25, 25.00 or $25.00" in capsys.readouterr().err
    assert service.request_count == 0


def test_an_estimate_over_max_cost_sends_nothing(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, *rows(5))
    argv = ["send-cards", str(path), "--template", "1", "--fake", "--yes"]
    status = cli.main([*argv, "--max-cost", "20"])
    out, err = capsys.readouterr()
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "Not sending: the estimate $21.75 is over --max-cost $20.00" in err
    assert "not sent: 5" in out
    assert posts(service) == 0


def test_max_cost_leaves_out_rows_the_journal_holds_as_sent(
    service: FakeAMcards, tmp_path: Path, journal: Path
) -> None:
    """Three rows went out earlier; the two left fit under $10."""
    assert send(write_csv(tmp_path, *rows(3)), journal) == cli.EXIT_OK
    path = write_csv(tmp_path, *rows(5))
    assert send(path, journal, "--max-cost", "10") == cli.EXIT_OK
    assert service.cards_created == 5
    assert posts(service) == 5


def test_charges_over_the_estimate_stop_the_batch_at_max_cost(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cards priced at $1 but charged $4.35: the batch stops before the
    charges can pass the cap."""
    monkeypatch.setattr("amcards.client.card_cost", lambda *_: 100)
    path = write_csv(tmp_path, *rows(5))
    status = send(path, journal, "--max-cost", "10")
    out, err = capsys.readouterr()
    assert status == cli.EXIT_NOT_ALL_SENT
    assert service.cards_created == 2
    assert "$8.70 charged so far" in err
    assert "past --max-cost $10.00" in out
    assert "not sent: 3" in out


# The balance and --dry-run -----------------------------------------------


def test_a_short_balance_is_reported_before_anything_is_sent(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service.set_credits(DEMO_USER_ID, 1000)
    status = send(write_csv(tmp_path, *rows(5)), journal)
    err = capsys.readouterr().err
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "your balance $10.00 is below the estimate $21.75" in err
    assert posts(service) == 0
    assert service.credits(DEMO_USER_ID) == 1000


def test_dry_run_only_reads_and_creates_no_journal(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = send(write_csv(tmp_path, *rows(4)), journal, "--dry-run")
    out = capsys.readouterr().out
    assert status == cli.EXIT_OK
    assert "would be sent: 4" in out
    assert "estimated cost: $17.40" in out
    assert service.request_count > 0
    assert all(seen.startswith("GET ") for seen in service.requests_seen)
    assert not journal.exists()


def test_dry_run_with_a_journal_prices_only_the_rows_left(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    send(write_csv(tmp_path, *rows(2)), journal)
    sent_before = posts(service)
    capsys.readouterr()
    status = send(write_csv(tmp_path, *rows(5)), journal, "--dry-run")
    out = capsys.readouterr().out
    assert status == cli.EXIT_OK
    assert "already sent (journal): 2" in out
    assert "would be sent: 3" in out
    assert "estimated cost: $13.05" in out
    assert posts(service) == sent_before


def test_dry_run_exits_1_when_the_balance_is_short(
    service: FakeAMcards, tmp_path: Path, journal: Path
) -> None:
    service.set_credits(DEMO_USER_ID, 100)
    status = send(write_csv(tmp_path, *rows(2)), journal, "--dry-run")
    assert status == cli.EXIT_NOT_ALL_SENT


# Repeated rows -----------------------------------------------------------


def test_a_repeated_row_is_rejected_naming_the_first(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case and spacing do not make a row different."""
    first = rows(1)[0]
    again = "AVERY,tester,10  Elm St,reno,nv,89501,USA"
    path = write_csv(tmp_path, first, *rows(3)[1:], again)
    status = cli.main(
        ["send-cards", str(path), "--template", "1", "--fake", "--yes"]
    )
    out = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "line 5 (AVERY tester): same recipient as line 2" in out
    assert service.cards_created == 3


def test_allow_duplicates_sends_each_copy_once_across_runs(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(tmp_path, *rows(1), *rows(1), *rows(1))
    assert send(path, journal, "--allow-duplicates") == cli.EXIT_OK
    assert send(path, journal, "--allow-duplicates") == cli.EXIT_OK
    assert "already sent (journal): 3" in capsys.readouterr().out
    assert service.cards_created == 3


# Reruns ------------------------------------------------------------------


def test_a_rerun_reports_rows_already_sent_with_their_cards(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(tmp_path, *rows(3))
    assert send(path, journal, "--json") == cli.EXIT_OK
    first = cli_json(capsys)
    assert send(path, journal, "--json") == cli.EXIT_OK
    again = cli_json(capsys)
    assert again["sent"] == []
    assert [s["card_ids"] for s in again["already_sent"]] == [
        s["card_ids"] for s in first["sent"]
    ]
    assert service.cards_created == 3
    assert posts(service) == 3


def cli_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_a_rerun_says_what_it_leaves_out(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(tmp_path, *rows(2))
    send(path, journal)
    capsys.readouterr()
    assert send(path, journal) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert "already sent (journal) line 2 (Avery Tester): card " in err
    assert "Nothing left to send." in err
    assert "  sent: 0" in out
    assert "  already sent (journal): 2" in out


def test_a_lost_answer_is_looked_up_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The third send is handled but its answer is dropped."""
    fake = fault_after(2, Fault("drop_after"))
    use_service(monkeypatch, fake)
    path = write_csv(tmp_path, *rows(5))
    assert send(path, journal) == cli.EXIT_NOT_ALL_SENT
    assert "the journal knows" in capsys.readouterr().out
    assert send(path, journal) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert "line 4 (Casey Tester): card" in err
    assert "(found by looking it up)" in err
    assert fake.cards_created == 5
    assert posts(fake) == 5


def test_a_server_error_is_resent_only_once_no_card_shows_up(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A 500 on the third send: its outcome is unknown.  At once the
    rerun skips it (no card yet, and too early to trust that); once the
    journal may trust the lookup, it sends it, and only it."""
    fake = fault_after(2, Fault("status", status=500))
    use_service(monkeypatch, fake)
    path = write_csv(tmp_path, *rows(5))
    assert send(path, journal) == cli.EXIT_NOT_ALL_SENT
    assert fake.cards_created == 4

    assert send(path, journal) == cli.EXIT_NOT_ALL_SENT
    out = capsys.readouterr().out
    assert "skipped (journal): 1" in out
    assert "no card has shown up yet" in out
    assert posts(fake) == 5

    settle_at_once(monkeypatch)
    assert send(path, journal) == cli.EXIT_OK
    assert "line 4 (Casey Tester): an earlier attempt left no card" in (
        capsys.readouterr().err
    )
    assert fake.cards_created == 5
    assert posts(fake) == 6  # five cards and the one that failed


@pytest.mark.parametrize("handled_first", [True, False])
def test_a_rerun_after_a_crash_sends_each_row_once(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    journal: Path,
    handled_first: bool,
) -> None:
    """The process dies during the third send, after or before the
    service handled it; the rerun finishes the batch."""
    fake = crash_after(2, handled_first=handled_first)
    use_service(monkeypatch, fake)
    path = write_csv(tmp_path, *rows(5))
    with pytest.raises(Crash):
        send(path, journal)
    assert fake.cards_created == (3 if handled_first else 2)

    settle_at_once(monkeypatch)
    assert send(path, journal) == cli.EXIT_OK
    assert fake.cards_created == 5
    assert posts(fake) == 5
    assert send(path, journal) == cli.EXIT_OK
    assert fake.cards_created == 5


@pytest.mark.skipif(
    not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal"
)
def test_a_rerun_after_ctrl_c_sends_the_rest(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    journal: Path,
) -> None:
    real_send = AMcardsClient.send_card
    calls = []

    def interrupted(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", interrupted)
    path = write_csv(tmp_path, *rows(5))
    assert send(path, journal) == cli.EXIT_INTERRUPTED
    assert service.cards_created == 2
    monkeypatch.setattr(AMcardsClient, "send_card", real_send)
    assert send(path, journal) == cli.EXIT_OK
    assert service.cards_created == 5


def test_a_row_another_run_is_sending_is_skipped(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another run has claimed the first row and not finished it."""
    path = write_csv(tmp_path, *rows(3))
    first = csvinput.read_recipients(path).records[0]
    recipient = csvinput.check_record(first)
    assert isinstance(recipient, csvinput.Recipient)
    request = card_request("1", cli.DEFAULT_INITIATOR, recipient.address)
    with SendLedger(journal) as ledger:
        assert ledger.claim(card_key(request), "card", request) is None
        status = send(path, journal)
    out = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "skipped (journal): 1" in out
    assert "line 2 (Avery Tester): another run is sending it" in out
    assert service.cards_created == 2


def test_a_campaign_rerun_reports_the_mailing(
    service: FakeAMcards,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(tmp_path, *rows(2))
    options = ["--campaign", str(DEMO_CAMPAIGN_ID)]
    argv = ["send-cards", str(path), "--fake", "--yes", *options]
    argv += ["--journal", str(journal)]
    assert cli.main(argv) == cli.EXIT_OK
    sent = service.requests_seen
    assert cli.main(argv) == cli.EXIT_OK
    assert service.requests_seen.get(
        "POST /campaigns/open-campaign-form/"
    ) == (sent.get("POST /campaigns/open-campaign-form/"))
    assert "line 2 (Avery Tester): mailing " in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["not a database", "the recipients file"])
def test_a_journal_that_cannot_be_one_is_a_usage_error(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    path = write_csv(tmp_path, *rows(1))
    journal = path
    if kind == "not a database":
        journal = tmp_path / "notes.txt"
        journal.write_text("shopping list\n" * 200)
    assert send(path, journal) == cli.EXIT_USAGE
    assert "journal" in capsys.readouterr().err
    assert service.request_count == 0


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("where", ["missing folder", "folder"])
def test_a_journal_path_that_cannot_hold_a_file_is_a_usage_error(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    where: str,
    dry_run: bool,
) -> None:
    """A folder, or a file in a folder that does not exist, is refused
    naming --journal, before anything is priced or sent; a dry run finds
    it too."""
    path = write_csv(tmp_path, *rows(2))
    journal = tmp_path / "nodir" / "x.db"
    wanted = f"amcards: error: --journal {journal}: the folder "
    if where == "folder":
        journal = tmp_path
        wanted = f"amcards: error: --journal {journal} is a folder"
    options = ["--dry-run"] if dry_run else []
    assert send(path, journal, *options) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert wanted in err
    assert "path:" not in err
    assert "new (a dry run" not in err
    assert service.request_count == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["people.csv"]


def test_a_path_the_ledger_refuses_is_a_usage_error_naming_journal(
    service: FakeAMcards,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whatever else SendLedger refuses about its path is a usage error
    too, in the words of --journal and of the journal command."""
    from amcards.core.errors import ValidationError

    def refuse(path: str) -> SendLedger:
        raise ValidationError(field="path", reason="cannot be written")

    monkeypatch.setattr(cli, "_open_ledger", refuse)
    path = write_csv(tmp_path, *rows(1))
    journal = tmp_path / "sends.journal"
    assert send(path, journal) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"--journal {journal}: cannot be written" in err
    assert service.request_count == 0
    journal.touch()
    assert cli.main(["journal", str(journal)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"cannot read {journal} as a journal: cannot be written" in err


def test_help_explains_the_journal_and_the_money_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["send-cards", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--journal FILE" in out
    assert '"already sent (journal)"' in out
    assert "dollars, never cents" in out
    assert "--allow-duplicates" in out
    assert "If your balance is below the estimate, nothing is sent" in out


# A real kill ---------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeAMcards.demo()) as running:
        yield running


def wait_for(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {seconds} s")
        time.sleep(0.01)


@pytest.mark.sockets
@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_a_rerun_after_sigkill_sends_each_row_exactly_once(
    server: FakeServer,
    tmp_path: Path,
    journal: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``python -m amcards send-cards`` is killed while the third card's
    answer is on its way; the rerun looks that card up, then sends the
    rest: six rows, six cards, six sends."""
    service = server.service
    service.add_fault(
        Fault("slow", delay=0.6, method="POST", path=SEND_PATH, count=6)
    )
    path = write_csv(tmp_path, *rows(6))
    argv = ["send-cards", str(path), "--template", "1", "--yes"]
    argv += ["--journal", str(journal), "--base-url", server.base_url]
    argv += ["--token", DEMO_ACCESS_TOKEN]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMC")}
    child = subprocess.Popen(
        [sys.executable, "-m", "amcards", *argv],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: service.cards_created >= 3, 15)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert service.cards_created == 3
    service.faults.clear()

    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    started = time.monotonic()
    assert cli.main(argv) == cli.EXIT_OK
    assert time.monotonic() - started < 10
    out, err = capsys.readouterr()
    assert "already sent (journal): 3" in out
    assert "  sent: 3" in out
    assert "line 4 (Casey Tester): card" in err
    assert "(found by looking it up)" in err
    assert service.cards_created == 6
    assert posts(service) == 6


# --journal on a file that is not a journal -------------------------------


def other_database(path: Path) -> bytes:
    """An SQLite file of someone else's, in rollback-journal mode."""
    import sqlite3

    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('bread')")
    conn.close()
    return path.read_bytes()


def test_another_sqlite_database_is_refused_and_left_untouched(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = tmp_path / "recipes.db"
    before = other_database(database)
    path = write_csv(tmp_path, *rows(2))
    assert send(path, database) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "is an SQLite database but not a send-cards journal" in err
    assert "(its tables: recipes)" in err
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "people.csv",
        "recipes.db",
    ]
    assert posts(service) == 0


def test_the_journal_command_refuses_another_database_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "recipes.db"
    before = other_database(database)
    assert cli.main(["journal", str(database)]) == cli.EXIT_USAGE
    assert "not a send-cards journal" in capsys.readouterr().err
    assert database.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: milk, eggs\n" * 20)
    path = write_csv(tmp_path, *rows(2))
    assert send(path, notes) == cli.EXIT_USAGE
    assert "is not a send-cards journal" in capsys.readouterr().err
    assert notes.read_text() == "shopping: milk, eggs\n" * 20


def test_an_empty_file_or_a_journal_in_use_is_accepted(
    service: FakeAMcards, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.journal"
    empty.touch()
    path = write_csv(tmp_path, *rows(2))
    assert send(path, empty) == cli.EXIT_OK
    with SendLedger(str(tmp_path / "busy.journal")) as busy:
        busy.entries()
        assert send(path, tmp_path / "busy.journal") == cli.EXIT_OK
    assert send(path, empty) == cli.EXIT_OK


# A journal serves one server -----------------------------------------------


@pytest.mark.sockets
def test_a_fake_practice_run_does_not_hold_back_the_real_run(
    tmp_path: Path,
    journal: Path,
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rows sent with --fake are not "already sent" on a real server: the
    run against another server with the same journal stops, sending
    nothing, and says why."""
    path = write_csv(tmp_path, *rows(2))
    assert send(path, journal) == cli.EXIT_OK
    assert service.cards_created == 2
    capsys.readouterr()

    with FakeServer() as server:
        monkeypatch.setenv(cli.TOKEN_ENV, DEMO_ACCESS_TOKEN)
        monkeypatch.setenv(cli.BASE_URL_ENV, server.base_url)
        argv = ["send-cards", str(path), "--template", "1", "--yes"]
        argv += ["--journal", str(journal)]
        assert cli.main(argv) == cli.EXIT_USAGE
        assert cli.main([*argv, "--dry-run"]) == cli.EXIT_USAGE
        assert server.service.cards_created == 0
        url = server.base_url
    err = capsys.readouterr().err
    assert "records sends to the embedded fake service (--fake)" in err
    assert f"this run sends to {url}" in err
    assert "already sent" not in err

    other = tmp_path / "real.journal"
    with FakeServer() as server:
        monkeypatch.setenv(cli.BASE_URL_ENV, server.base_url)
        argv[-1] = str(other)
        assert cli.main(argv) == cli.EXIT_OK
        assert server.service.cards_created == 2


def test_a_dry_run_does_not_tie_a_journal_to_its_server(
    tmp_path: Path, journal: Path, service: FakeAMcards
) -> None:
    path = write_csv(tmp_path, *rows(1))
    with SendLedger(journal):
        pass
    assert send(path, journal, "--dry-run") == cli.EXIT_OK
    with SendLedger(journal) as opened:
        assert opened.server is None
    assert send(path, journal) == cli.EXIT_OK
    with SendLedger(journal) as opened:
        assert opened.server == cli.FAKE_BASE_URL

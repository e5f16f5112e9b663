"""The ``amcards`` command when its reader goes away (``| head -1``).

A closed standard output (or standard error) must not end a command with
a traceback, and must not stop a send-cards run halfway: every row still
goes through the journal, and the run ends with the status the exit
status help gives for it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from amcards import cli
from amcards.ledger import SendLedger
from amcards.transports.fake import FakeAMcards

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "recipients.csv"
SENDABLE_ROWS = 5  # the example file's good rows


def run_closed(*words: str, stderr_too: bool = False) -> tuple[int, str]:
    """Run ``python -m amcards`` with standard output a pipe whose
    reading end is already closed; its status and standard error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMCARDS")}
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "amcards", *words],
            stdin=subprocess.DEVNULL,
            stdout=writer,
            stderr=writer if stderr_too else subprocess.PIPE,
            env=env,
            cwd=REPO,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    err = (done.stderr or b"").decode("utf-8", "replace")
    return done.returncode, err


def journal_file(tmp_path: Path) -> Path:
    path = tmp_path / "sends.journal"
    with SendLedger(str(path)) as ledger:
        ledger.bind(cli.FAKE_BASE_URL)
    return path


def sent_in(journal: Path) -> int:
    with SendLedger(str(journal)) as ledger:
        return sum(1 for _ in ledger.entries("sent"))


@pytest.mark.parametrize(
    "words",
    [
        ["user", "--fake"],
        ["user", "--fake", "--json"],
        ["cards", "--fake", "--json"],
        ["templates", "--fake"],
        ["--help"],
        ["send-cards", "--help"],
        ["--version"],
    ],
)
def test_a_closed_output_ends_a_command_without_a_traceback(
    words: list[str],
) -> None:
    status, err = run_closed(*words)
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert "Exception ignored" not in err
    assert status == cli.EXIT_NOT_ALL_SENT


def test_journal_listing_into_a_closed_output(tmp_path: Path) -> None:
    journal = journal_file(tmp_path)
    status, err = run_closed(
        "send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes",
        "--journal", str(journal),
    )  # fmt: skip
    assert status == cli.EXIT_NOT_ALL_SENT  # one row of the file is bad
    status, err = run_closed("journal", str(journal))
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "Traceback" not in err
    assert "Exception ignored" not in err


@pytest.mark.parametrize("stderr_too", [False, True])
def test_send_cards_into_a_closed_output_still_sends_every_row(
    tmp_path: Path, stderr_too: bool
) -> None:
    """Each row is sent and recorded in the journal; nothing is printed
    after the output closed, and no traceback either."""
    journal = journal_file(tmp_path)
    status, err = run_closed(
        "send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes",
        "--journal", str(journal),
        stderr_too=stderr_too,
    )  # fmt: skip
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    assert status == cli.EXIT_NOT_ALL_SENT
    assert sent_in(journal) == SENDABLE_ROWS
    if not stderr_too:
        assert f"[{SENDABLE_ROWS}/{SENDABLE_ROWS}]" in err


# In the same process ---------------------------------------------------


class ClosedPipe(io.StringIO):
    """A stream whose reader went away: every write fails."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def clean_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(
        "First Name,Last Name,Street Address,City,State,Zip\n"
        "Ada,Lane,1 Main St,Springfield,IL,62704\n"
        "Ben,Ochoa,2 Main St,Springfield,IL,62704\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_clean_run_into_a_closed_output_sends_all_and_exits_1(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    closed: str,
) -> None:
    """Every row would have been sent (status 0), but the output was
    cut short: the status says so."""
    monkeypatch.setattr(sys, closed, ClosedPipe())
    journal = tmp_path / "sends.journal"
    words = ["send-cards", str(clean_file(tmp_path)), "--template", "1"]
    status = cli.main([*words, "--fake", "--yes", "--journal", str(journal)])
    assert status == cli.EXIT_NOT_ALL_SENT
    assert service.cards_created == 2
    assert sent_in(journal) == 2


def test_the_status_of_a_run_comes_back_after_a_closed_output(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """A later run in the same process prints again and exits 0."""
    words = ["user", "--fake"]
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(words) == cli.EXIT_NOT_ALL_SENT
    monkeypatch.undo()
    monkeypatch.setattr(cli, "_demo_service", lambda: service)
    assert cli.main(words) == cli.EXIT_OK
    assert "Credits:" in capsys.readouterr().out


def test_no_question_is_asked_when_standard_error_is_closed(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Nobody can answer a question they cannot see: nothing is sent."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    monkeypatch.setattr(sys, "stderr", ClosedPipe())
    words = ["send-cards", str(clean_file(tmp_path)), "--template", "1"]
    assert cli.main([*words, "--fake"]) == cli.EXIT_USAGE
    assert service.cards_created == 0


def test_the_exit_status_help_tells_of_a_closed_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for words in (["--help"], ["send-cards", "--help"]):
        assert cli.main(words) == cli.EXIT_OK
        out = " ".join(capsys.readouterr().out.split())
        assert "output was closed" in out

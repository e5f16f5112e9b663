"""The recipients file name: empty, or a folder, is said in those words."""

from __future__ import annotations

from pathlib import Path

import pytest

from amcards import cli, csvinput
from amcards.transports.fake import FakeAMcards


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_file_name_is_said_to_be_empty(name: str) -> None:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.read_recipients(name)
    assert str(caught.value) == "the recipients file name is empty"


def test_a_folder_is_said_to_be_a_folder(tmp_path: Path) -> None:
    for given in (tmp_path, str(tmp_path), "."):
        with pytest.raises(csvinput.CsvInputError) as caught:
            csvinput.read_recipients(given)
        assert str(caught.value) == (
            f"{given} is a folder, not a recipients file"
        )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "the recipients file name is empty"),
        (".", ". is a folder, not a recipients file"),
    ],
)
def test_send_cards_says_so_and_exits_2(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    name: str,
    message: str,
) -> None:
    words = ["send-cards", name, "--template", "1", "--fake", "--yes"]
    assert cli.main(words) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"amcards: error: {message}\n" in err
    assert "Is a directory" not in err
    assert service.request_count == 0

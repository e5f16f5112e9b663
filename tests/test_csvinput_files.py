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


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "an Excel .xlsx workbook?"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "an Excel .xls workbook"),
        ("First Name\n".encode("utf-16"), "UTF-16 text, not UTF-8"),
    ],
)
def test_a_spreadsheet_or_utf16_file_is_named_for_what_it_is(
    data: bytes, what: str
) -> None:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.decode_csv_bytes(data, "people.csv")
    assert what in str(caught.value)
    assert "CSV UTF-8" in str(caught.value)


def test_a_name_with_terminal_escapes_is_shown_escaped() -> None:
    record = csvinput.Record(
        line=2,
        values={"first_name": "Rosa\x1b[2J", "last_name": "Del\x00gado"},
    )
    assert record.label == "line 2 (Rosa\\x1b[2J Del\\x00gado)"
    plain = csvinput.Record(line=3, values={"first_name": "Zoë"})
    assert plain.label == "line 3 (Zoë)"

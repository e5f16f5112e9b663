"""--map: conflicting maps are refused, and a column left out by --map is
named as such when its field is then missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from amcards import cli, csvinput
from amcards.transports.fake import FakeAMcards

HEADER = "First Name,Last Name,Street Address,City,State,Zip,Country"
HEADERS = HEADER.split(",")
GOOD_ROW = "Rosa,Delgado,48 Larkspur Lane,Springfield,IL,62704,US"


def refusal(headers: list[str], *items: str) -> str:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.map_columns(headers, csvinput.parse_mapping(items))
    return str(caught.value)


@pytest.mark.parametrize(
    "items",
    [
        ("X=city", "X=ignore"),
        ("X=city", " X =Postal Code"),  # the same header, with spaces
        ("X=city", "Y=state", "X=state"),
    ],
)
def test_one_header_mapped_twice_differently_is_refused(
    items: tuple[str, ...],
) -> None:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.parse_mapping(items)
    message = str(caught.value)
    assert message.startswith("--map ")
    assert "'X'" in message
    assert "one --map per column" in message


def test_one_header_mapped_twice_alike_is_fine() -> None:
    assert csvinput.parse_mapping(["Town=city", "Town=City"]) == {
        "Town": "city"
    }


@pytest.mark.parametrize(
    "items",
    [
        ("City=city", "#4=ignore"),
        ("city=ignore", "CITY=city"),
        ("#4=state", "City=ignore"),
    ],
)
def test_two_maps_for_one_column_are_refused(items: tuple[str, ...]) -> None:
    message = refusal(HEADERS, *items)
    assert "both name the column 'City'" in message
    assert "one --map per column" in message


def test_two_maps_for_one_column_alike_are_fine() -> None:
    overrides = csvinput.parse_mapping(["City=city", "#4=city"])
    columns = csvinput.map_columns(HEADERS, overrides)
    assert columns.column_of("city") == "City"


def test_a_required_column_ignored_by_map_is_named_as_such() -> None:
    message = refusal(HEADERS, "City=ignore")
    assert message.startswith(
        "the file has no column for the city: its column 'City' is left "
        'out by --map "City=ignore"'
    )
    assert "looked for" not in message


def test_a_required_column_mapped_elsewhere_is_named_as_such() -> None:
    headers = [name for name in HEADERS if name != "State"]
    message = refusal(headers, "city=state")
    assert message.startswith(
        "the file has no column for the city: its column 'City' is read "
        'as the state by --map "city=state"'
    )


def test_a_required_column_that_is_not_there_still_lists_spellings() -> None:
    message = refusal(["First Name", "Last Name", "Street", "Zip"])
    assert "no column for the city (looked for 'City'" in message


@pytest.mark.parametrize(
    ("maps", "message"),
    [
        (["City=city", "City=ignore"], "one --map per column"),
        (["City=ignore"], 'left out by --map "City=ignore"'),
    ],
)
def test_map_mistakes_are_usage_errors_before_any_request(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    maps: list[str],
    message: str,
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(f"{HEADER}\n{GOOD_ROW}\n", encoding="utf-8")
    words = ["send-cards", str(path), "--template", "1", "--fake", "--yes"]
    for item in maps:
        words += ["--map", item]
    assert cli.main(words) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert service.request_count == 0

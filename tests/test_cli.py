"""The ``amcards`` command line and the recipients-file reader behind it."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from amcards import cli, csvinput
from amcards.client import AMcardsClient
from amcards.core.errors import (
    CardSendError,
    InsufficientCreditsError,
    SendOutcomeUnknownError,
)
from amcards.transports.fake import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    FakeAMcards,
    FakeServer,
    FakeTransport,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "recipients.csv"
SHARED_CSV = REPO.parent / "shared" / "data" / "recipients-crm-export.csv"

needs_shared_csv = pytest.mark.skipif(
    not SHARED_CSV.is_file(),
    reason="the shared CRM export ../shared/data/recipients-crm-export.csv "
    "is not next to this checkout",
)

HEADER = "First Name,Last Name,Street Address,City,State,Zip,Country"
GOOD_ROW = "Rosa,Delgado,48 Larkspur Lane,Springfield,IL,62704,US"


# Helpers -----------------------------------------------------------------


class Terminal(io.StringIO):
    """Standard input that says it is a terminal, with typed answers."""

    def isatty(self) -> bool:
        return True


def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def card_count(fake: FakeAMcards) -> int:
    client = AMcardsClient(DEMO_ACCESS_TOKEN, transport=FakeTransport(fake))
    return client.card_count()


def write_csv(tmp_path: Path, *lines: str, newline: str = "\n") -> Path:
    path = tmp_path / "people.csv"
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


def record(**values: str) -> csvinput.Record:
    base = {
        "first_name": "Rosa",
        "last_name": "Delgado",
        "address_line_1": "48 Larkspur Lane",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "country": "US",
    }
    base.update(values)
    return csvinput.Record(7, {k: v for k, v in base.items() if v})


def reasons_of(result: csvinput.Recipient | csvinput.Rejected) -> str:
    assert isinstance(result, csvinput.Rejected), result
    return "; ".join(result.reasons)


# Money -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (442, "$4.42"),
        (123456, "$1,234.56"),
        (-250, "-$2.50"),
    ],
)
def test_format_cents_shows_dollars_with_two_decimals(
    cents: int, shown: str
) -> None:
    assert cli.format_cents(cents) == shown


# Headers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("First Name", "first_name"),
        ("FirstName", "first_name"),
        ("first_name", "first_name"),
        (" FIRST-NAME ", "first_name"),
        ("Last Name", "last_name"),
        ("Street Address", "address_line_1"),
        ("Address 1", "address_line_1"),
        ("Address Line 1", "address_line_1"),
        ("MailingStreet", "address_line_1"),
        ("Street", "address_line_1"),
        ("Address 2", "address_line_2"),
        ("Address Line 2", "address_line_2"),
        ("City", "city"),
        ("MailingCity", "city"),
        ("State", "state"),
        ("State/Region", "state"),
        ("Province", "state"),
        ("MailingState", "state"),
        ("Zip", "postal_code"),
        ("Zip Code", "postal_code"),
        ("Postal Code", "postal_code"),
        ("Postcode", "postal_code"),
        ("MailingPostalCode", "postal_code"),
        ("Country", "country"),
        ("Country/Region", "country"),
        ("MailingCountry", "country"),
        ("Company", "organization"),
        ("Company Name", "organization"),
        ("Organization", "organization"),
        ("Account Name", "organization"),
        ("Record ID", "third_party_contact_id"),
        ("Id", "third_party_contact_id"),
        ("Contact ID", "third_party_contact_id"),
        ("External ID", "third_party_contact_id"),
        ("Phone", "phone_number"),
        ("Phone Number", "phone_number"),
        ("Birthday", "birth_date"),
        ("Birth Date", "birth_date"),
        ("Date of Birth", "birth_date"),
    ],
)
def test_header_spellings_are_recognised(header: str, field: str) -> None:
    assert csvinput.field_for_header(header) == field


@pytest.mark.parametrize("header", ["Notes", "Email", "Lead Source", ""])
def test_other_headers_mean_no_field(header: str) -> None:
    assert csvinput.field_for_header(header) is None


def test_unmapped_columns_are_listed_once_as_ignored() -> None:
    columns = csvinput.map_columns([*HEADER.split(","), "Notes", "Email", ""])
    assert columns.ignored == ("Notes", "Email", "(column 10, no header)")
    assert columns.column_of("postal_code") == "Zip"


def test_map_option_names_a_column_for_a_field() -> None:
    headers = ["Given", "Family", "Addr", "Town", "ST", "Zip/Postal", "Memo"]
    overrides = csvinput.parse_mapping(
        [
            "Given=first_name",
            "Family=Last Name",
            "Addr=address_line_1",
            "Town=city",
            "ST=state",
            "zip postal=postal code",
        ]
    )
    columns = csvinput.map_columns(headers, overrides)
    assert dict(columns.fields) == {
        0: "first_name",
        1: "last_name",
        2: "address_line_1",
        3: "city",
        4: "state",
        5: "postal_code",
    }
    assert columns.ignored == ("Memo",)


def test_map_option_can_ignore_a_recognised_column() -> None:
    overrides = csvinput.parse_mapping(["Country=ignore"])
    columns = csvinput.map_columns(HEADER.split(","), overrides)
    assert "country" not in columns.fields.values()
    assert columns.ignored == ("Country",)


def test_map_option_overrides_a_recognised_spelling() -> None:
    headers = [*HEADER.split(","), "Street 2"]
    overrides = csvinput.parse_mapping(
        ["Street Address=ignore", "Street 2=address_line_1"]
    )
    columns = csvinput.map_columns(headers, overrides)
    assert columns.column_of("address_line_1") == "Street 2"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("Zip", 'expected "CSV header=field"'),
        ("=city", 'expected "CSV header=field"'),
        ("Zip=zipcode", "unknown field 'zipcode'"),
    ],
)
def test_map_option_errors_say_what_is_wrong(item: str, message: str) -> None:
    with pytest.raises(csvinput.CsvInputError, match=message):
        csvinput.parse_mapping([item])


def test_map_option_for_a_missing_column_lists_the_columns() -> None:
    overrides = csvinput.parse_mapping(["Postleitzahl=postal_code"])
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.map_columns(HEADER.split(","), overrides)
    assert "no column 'Postleitzahl'" in str(caught.value)
    assert "'First Name'" in str(caught.value)


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.map_columns([*HEADER.split(","), "Postal Code"])
    assert "'Zip' and 'Postal Code'" in str(caught.value)
    assert "--map" in str(caught.value)


DUPLICATE_ZIP = [*HEADER.split(","), "Zip"]


def test_two_columns_with_one_header_are_named_by_position() -> None:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.map_columns(DUPLICATE_ZIP)
    message = str(caught.value)
    assert "columns 'Zip' (column 6) and 'Zip' (column 8)" in message
    assert '--map "#8=ignore"' in message


def test_map_option_by_header_refuses_a_header_that_repeats() -> None:
    overrides = csvinput.parse_mapping(["Zip=ignore"])
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.map_columns(DUPLICATE_ZIP, overrides)
    assert "2 columns are called 'Zip' (columns 6, 8)" in str(caught.value)
    assert '--map "#8=ignore"' in str(caught.value)


def test_map_option_addresses_a_column_by_position() -> None:
    overrides = csvinput.parse_mapping(["#8=ignore"])
    columns = csvinput.map_columns(DUPLICATE_ZIP, overrides)
    assert columns.fields[5] == "postal_code"
    assert 7 not in columns.fields
    assert columns.ignored == ("Zip (column 8)",)
    assert columns.describe(7) == "'Zip' (column 8)"
    assert columns.describe(0) == "'First Name'"


@pytest.mark.parametrize("position", ["#0", "#9"])
def test_map_option_position_out_of_range_is_refused(position: str) -> None:
    overrides = csvinput.parse_mapping([f"{position}=ignore"])
    with pytest.raises(csvinput.CsvInputError, match="#1 to #8"):
        csvinput.map_columns(DUPLICATE_ZIP, overrides)


def test_duplicate_headers_end_to_end_say_which_column_is_used(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, HEADER + ",Zip", GOOD_ROW + ",99999")
    argv = ["send-cards", str(path), "--template", "1", "--fake"]
    status = cli.main([*argv, "--map", "#8=ignore", "--dry-run"])
    err = capsys.readouterr().err
    assert status == cli.EXIT_OK
    assert "Zip in column 6 (postal code)" in err
    assert "'Zip (column 8)'" in err


def test_a_file_without_a_city_column_is_refused() -> None:
    with pytest.raises(csvinput.CsvInputError, match="no column for the city"):
        csvinput.map_columns(["First Name", "Last Name", "Street", "Zip"])


def test_a_missing_column_message_lists_the_columns_found() -> None:
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.map_columns(["First Name", "Last Name", "Street", "Zip"])
    assert "its columns are 'First Name', 'Last Name', 'Street', 'Zip'" in (
        str(caught.value)
    )


def test_a_file_without_a_header_row_lists_what_the_first_row_holds(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path, GOOD_ROW, GOOD_ROW.replace("Rosa", "Ann"))
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.read_recipients(path)
    message = str(caught.value)
    assert "no column header names an address field" in message
    assert "'Rosa', 'Delgado', '48 Larkspur Lane'" in message


# Reading files -----------------------------------------------------------


def test_bom_crlf_and_quoted_fields_are_read(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    text = (
        HEADER + ",Company,Notes\r\n"
        'Hannah,Whitlock,"221 Baker Street, Flat 3",London,,NW1 6XE,UK,'
        '"Whitlock & Sons, Ltd.","says ""hi"""\r\n'
        "Tom,O'Connell,5 Harbour View,Cork,Cork,T12 X70A,Ireland,"
        '"O\'Connell ""Tom"" Holdings","two\r\nlines"\r\n'
        + GOOD_ROW
        + ",,\r\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    recipients = csvinput.read_recipients(path)
    assert recipients.columns.headers[0] == "First Name"
    first, second, third = recipients.records
    assert first.line == 2
    assert first.values["address_line_1"] == "221 Baker Street, Flat 3"
    assert first.values["organization"] == "Whitlock & Sons, Ltd."
    assert second.values["organization"] == 'O\'Connell "Tom" Holdings'
    assert third.line == 5  # the quoted line break took two lines
    assert "state" not in first.values


def test_blank_rows_are_skipped_and_lines_still_counted(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path, HEADER, "", GOOD_ROW, ",,,,,,", GOOD_ROW)
    lines = [r.line for r in csvinput.read_recipients(path).records]
    assert lines == [3, 5]


def test_semicolon_separated_files_are_read(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, HEADER.replace(",", ";"), GOOD_ROW.replace(",", ";")
    )
    (only,) = csvinput.read_recipients(path).records
    assert only.values["city"] == "Springfield"


def test_a_file_that_is_not_utf8_names_the_line_and_place_in_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (
            HEADER
            + "\n"
            + GOOD_ROW
            + "\nZo\xeb,Nguyen,1 Rue,Paris,,75001,FR\n"
        ).encode("latin-1")
    )
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.read_recipients(path)
    message = str(caught.value)
    assert "line 3, character 3 (a byte 0xEB)" in message
    assert "UTF-8" in message


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_bad_byte_is_placed_in_characters_of_its_line(bom: bytes) -> None:
    data = bom + "Zoë,Jürgen,".encode() + b"\xff,x\n"
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.decode_csv_bytes(data, "people.csv")
    assert "line 1, character 12 (a byte 0xFF)" in str(caught.value)


def test_an_unclosed_quote_names_its_line(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER,
        GOOD_ROW,
        'Ann,Lee,"12 Elm St,Reno,NV,89501,US',
        GOOD_ROW.replace("Rosa", "Bea"),
        GOOD_ROW.replace("Rosa", "Cy"),
    )
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.read_recipients(path)
    message = str(caught.value)
    assert 'an unclosed quote (") on line 3' in message
    assert "lines 4 to 5" in message


def test_quoted_line_breaks_and_stray_inch_marks_are_not_unclosed_quotes(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path,
        HEADER + ",Notes",
        GOOD_ROW + ',"two\nlines, ""quoted"""',
        GOOD_ROW.replace("Rosa", "Ann") + ',5" frame',
    )
    records = csvinput.read_recipients(path).records
    assert [record.line for record in records] == [2, 4]


def test_a_row_with_more_values_than_headers_is_rejected(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path, HEADER, GOOD_ROW + ",extra")
    (only,) = csvinput.read_recipients(path).records
    assert "more value(s) than the header" in reasons_of(
        csvinput.check_record(only)
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((), "is empty"),
        ((HEADER,), "no recipients"),
    ],
)
def test_empty_files_are_refused(
    tmp_path: Path, lines: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n".join(lines))
    with pytest.raises(csvinput.CsvInputError, match=message):
        csvinput.read_recipients(path)


# Checking rows -----------------------------------------------------------


def test_a_good_row_becomes_a_normalised_address() -> None:
    result = csvinput.check_record(
        record(country="United States", third_party_contact_id="crm-9")
    )
    assert isinstance(result, csvinput.Recipient)
    assert result.address["country"] == "US"
    assert result.address["third_party_contact_id"] == "crm-9"
    assert result.label == "line 7 (Rosa Delgado)"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"address_line_1": ""}, "the street address is missing"),
        ({"first_name": ""}, "the first name is missing"),
        ({"city": ""}, "the city is missing"),
        ({"state": ""}, "the state is missing (a US address needs one)"),
        (
            {"state": "", "country": "Canada"},
            "the state is missing (a Canadian (CA) address needs a "
            "province or territory)",
        ),
        (
            {"state": "", "country": "CA"},
            "the state is missing (a Canadian (CA) address needs a "
            "province or territory)",
        ),
        (
            {"state": "", "country": "AU"},
            "the state is missing (an Australian (AU) address needs a "
            "state or territory)",
        ),
        (
            {"postal_code": "2108"},
            "postal code '2108' for a US address has 4 digits; it probably "
            "lost its leading zero (02108?)",
        ),
        (
            {"postal_code": "1602-1234"},
            "lost its leading zero (01602-1234?)",
        ),
        ({"postal_code": "ABC12"}, "is not a US ZIP code"),
        (
            {"postal_code": "2108", "country": ""},
            "for a US address has 4 digits",
        ),
        ({"birth_date": "1992-02-30"}, "birthday '1992-02-30' is not a real"),
        ({"birth_date": "02-30"}, "birthday '02-30' is not a real date"),
        ({"birth_date": "1990-13-01"}, "is not a real date"),
        ({"birth_date": "April 4"}, "not a date in the form YYYY-MM-DD"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(
    values: dict[str, str], reason: str
) -> None:
    assert reason in reasons_of(csvinput.check_record(record(**values)))


@pytest.mark.parametrize(
    "values",
    [
        {"state": "", "country": "United Kingdom", "postal_code": "NW1 6XE"},
        {"state": "", "country": "Germany", "postal_code": "10115"},
        {"postal_code": "01602-1234"},
        {"birth_date": "02-29"},
        {"birth_date": "1988-04-12"},
        {"phone_number": "+1 508 555 0199"},
        {"phone_number": "(603) 555-0142"},
    ],
)
def test_rows_that_look_odd_but_are_fine_are_accepted(
    values: dict[str, str],
) -> None:
    result = csvinput.check_record(record(**values))
    assert isinstance(result, csvinput.Recipient), result
    assert result.warnings == ()


def test_a_long_address_line_is_a_warning_not_a_rejection() -> None:
    street = "Apartment 12B, The Residences at Riverside Commons"
    result = csvinput.check_record(record(address_line_1=street))
    assert isinstance(result, csvinput.Recipient)
    assert "over 40" in result.warnings[0]


def test_an_unknown_country_is_a_warning() -> None:
    result = csvinput.check_record(record(country="Untied States"))
    assert isinstance(result, csvinput.Recipient)
    assert (
        "country 'Untied States' is not a country name" in (result.warnings[0])
    )


def test_a_foreign_phone_warns_for_cards_and_rejects_for_campaigns() -> None:
    row = record(phone_number="+44 20 7946 0958")
    card = csvinput.check_record(row)
    assert isinstance(card, csvinput.Recipient)
    assert "not a 10-digit North American number" in card.warnings[0]
    assert "phone_number" not in card.address
    campaign = csvinput.check_record(row, campaign=True)
    assert "+44 20 7946 0958" in reasons_of(campaign)


def test_campaign_rows_carry_phone_and_birthday() -> None:
    row = record(phone_number="(603) 555-0142", birth_date="02-29")
    result = csvinput.check_record(row, campaign=True)
    assert isinstance(result, csvinput.Recipient)
    assert result.address["phone_number"] == "6035550142"
    assert result.address["birth_date"] == "02-29"
    card = csvinput.check_record(row)
    assert isinstance(card, csvinput.Recipient)
    assert "birth_date" not in card.address


SHARED_REJECTIONS = {
    9: ("line 9 (Noah Becker)", "the street address is missing"),
    10: ("line 10 (Ava Martinez)", "birthday '1992-02-30' is not a real date"),
    21: ("line 21 (Patel)", "the first name is missing"),
    25: (
        "line 25 (Benjamin Foster)",
        "birthday '1990-13-01' is not a real date",
    ),
    28: (
        "line 28 (Evelyn Hughes)",
        "postal code '2108' for a US address has 4 digits; it probably "
        "lost its leading zero (02108?)",
    ),
}


@needs_shared_csv
def test_each_bad_row_of_the_shared_export_is_named_with_its_reason() -> None:
    records = csvinput.read_recipients(SHARED_CSV).records
    results = [csvinput.check_record(r) for r in records]
    rejected = {
        r.line: (r.label, "; ".join(r.reasons))
        for r in results
        if isinstance(r, csvinput.Rejected)
    }
    assert rejected == SHARED_REJECTIONS
    warned = {
        r.line: r.warnings
        for r in results
        if isinstance(r, csvinput.Recipient) and r.warnings
    }
    assert list(warned) == [30]
    assert "street address is 81 characters long" in warned[30][0]


# send-cards --------------------------------------------------------------


SHARED_GOOD_ROWS = 25


def send_shared_export(*options: str) -> int:
    return cli.main(
        ["send-cards", str(SHARED_CSV), "--fake", "--yes", *options]
    )


@needs_shared_csv
def test_send_cards_on_the_shared_export_sends_each_good_row_once(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad rows are named and not sent; every other row is sent once, and
    the fake's card count grows by exactly the number reported sent."""
    before = card_count(service)
    status = send_shared_export("--template", "1", "--json")
    summary = json.loads(capsys.readouterr().out)
    sent_lines = {s["line"] for s in summary["sent"]}
    failed_lines = {f["line"] for f in summary["failed"]}

    assert status == cli.EXIT_NOT_ALL_SENT
    assert [r["line"] for r in summary["rejected"]] == list(SHARED_REJECTIONS)
    assert len(sent_lines) == SHARED_GOOD_ROWS
    assert failed_lines == set()
    assert card_count(service) == before + len(sent_lines)
    assert all(len(s["card_ids"]) == 1 for s in summary["sent"])
    assert summary["not_sent"] == []


@needs_shared_csv
def test_send_cards_on_the_shared_export_reports_in_words(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    status = send_shared_export("--template", "1")
    out, err = capsys.readouterr()
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "rejected (bad rows, not sent): 5" in out
    for label, reason in SHARED_REJECTIONS.values():
        assert f"{label}: {reason}" in out
        assert f"rejected {label}: {reason}" in err
    assert "Checked 30 rows: 25 ready, 5 rejected." in err
    assert "Ignored columns (not sent): 'Notes'." in err
    assert "'Phone Number' and 'Birthday': checked, but only sent" in err
    assert "[25/25] line 31 (Henry Adams): sent, card" in err
    assert "line 2 (Maya Okafor): card " in out


@needs_shared_csv
def test_rows_without_a_state_abroad_are_all_sent(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    """The UK, German and French rows, which have no state, are sent."""
    before = card_count(service)
    send_shared_export("--template", "1")
    assert "failed: 0" in capsys.readouterr().out
    assert card_count(service) == before + SHARED_GOOD_ROWS


@needs_shared_csv
def test_the_record_id_goes_with_the_card(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    send_shared_export("--template", "1")
    (card,) = service_cards(service, "303")
    assert card.shipping_address["last_name"] == "Nguyễn"


def service_cards(fake: FakeAMcards, contact_id: str) -> list[Any]:
    client = AMcardsClient(DEMO_ACCESS_TOKEN, transport=FakeTransport(fake))
    return client.cards(filters={"third_party_contact_id": contact_id})


def test_send_cards_on_the_example_file(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "-y"]
    )
    out, err = capsys.readouterr()
    assert status == cli.EXIT_NOT_ALL_SENT
    assert card_count(service) == before + 5
    assert "line 4 (Ingrid Solberg): postal code '5401'" in out
    assert "warning line 6 (Chloé Whitfield): phone" in err
    assert "about $" in err
    assert "charged: $" in out


def test_send_cards_exits_0_when_every_row_is_sent(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "Quill,Zebediah,1 Elm St,Reno,NV,89501,US"
    path = write_csv(tmp_path, HEADER, GOOD_ROW, other, newline="\r\n")
    status = cli.main(
        ["send-cards", str(path), "--template", "1", "--fake", "--yes"]
    )
    assert status == cli.EXIT_OK
    assert "sent: 2" in capsys.readouterr().out


def test_dry_run_prices_and_sends_nothing(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "--dry-run"]
    )
    out, err = capsys.readouterr()
    assert card_count(service) == before
    assert status == cli.EXIT_NOT_ALL_SENT  # one row is rejected
    assert "Dry run: nothing was sent." in err
    assert "would be sent: 5" in out
    assert "estimated cost: $" in out


def test_dry_run_of_a_clean_file_exits_0(
    service: FakeAMcards, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, HEADER, GOOD_ROW)
    status = cli.main(
        ["send-cards", str(path), "--template", "1", "--fake", "--dry-run"]
    )
    assert status == cli.EXIT_OK


def test_without_a_terminal_and_without_yes_nothing_is_sent(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    no_terminal(monkeypatch)
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake"]
    )
    assert status == cli.EXIT_USAGE
    assert card_count(service) == before
    assert "--yes" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("answer", "sent"), [("y\n", 5), ("\n", 0), ("no\n", 0), ("", 0)]
)
def test_the_terminal_question_decides(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    sent: int,
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake"]
    )
    err = capsys.readouterr().err
    assert "Send 5 cards for about $" in err
    assert "? [y/N]" in err
    assert card_count(service) == before + sent
    assert status == cli.EXIT_NOT_ALL_SENT


def test_a_failed_row_does_not_stop_the_others(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_send = AMcardsClient.send_card

    def flaky(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        if args[2]["first_name"] == "Theo":
            raise CardSendError("the service refused the card", status=400)
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", flaky)
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes"]
    )
    out = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert card_count(service) == before + 4
    assert "failed: 1" in out
    assert "line 3 (Theo Marchetti): the service refused the card" in out


def test_running_out_of_credits_stops_the_run(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_send = AMcardsClient.send_card
    calls = []

    def broke(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            raise InsufficientCreditsError("not enough credits", status=402)
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", broke)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes"]
    )
    out = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert len(calls) == 2
    assert "sent: 1" in out
    assert "not sent: 3" in out
    assert "stopped because not enough credits" in out


def test_a_lost_answer_is_reported_as_maybe_sent(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_send = AMcardsClient.send_card

    def lossy(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        if args[2]["first_name"] == "Rosa":
            raise SendOutcomeUnknownError("no answer came back")
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", lossy)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes"]
    )
    out = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "line 2 (Rosa Delgado): no answer came back, so the card may" in out
    assert "sent: 4" in out


@pytest.mark.parametrize("journal", [False, True])
def test_a_server_failure_on_a_send_names_the_http_status(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    journal: bool,
) -> None:
    real_send = AMcardsClient.send_card

    def failing(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        if args[2]["first_name"] == "Rosa":
            raise SendOutcomeUnknownError("server error", status=503)
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", failing)
    argv = ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes"]
    if journal:
        argv += ["--journal", str(tmp_path / "sends.journal")]
    status = cli.main(argv)
    out = capsys.readouterr().out
    assert status == cli.EXIT_NOT_ALL_SENT
    assert (
        "line 2 (Rosa Delgado): the service failed while handling it "
        "(HTTP 503), so the card may or may not have been sent" in out
    )
    assert "no answer came back" not in out


@pytest.mark.parametrize(
    ("send_date", "warning"),
    [
        (
            "2020-01-01",
            "Warning: --send-date 2020-01-01 is in the past; AMcards may "
            "send at once or refuse.",
        ),
        (
            "2027-06-02",
            "Warning: --send-date 2027-06-02 is more than a year ahead; "
            "check the year.",
        ),
        ("2026-06-01", None),
        ("2026-03-01", None),
    ],
)
def test_an_odd_send_date_is_warned_about_before_confirming(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    send_date: str,
    warning: str | None,
) -> None:
    monkeypatch.setattr(cli, "_today", lambda: "2026-03-01")
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    argv = ["send-cards", str(EXAMPLE), "--template", "1", "--fake"]
    status = cli.main([*argv, "--send-date", send_date])
    err = capsys.readouterr().err
    assert status == cli.EXIT_NOT_ALL_SENT
    if warning is None:
        assert "Warning: --send-date" not in err
    else:
        assert warning in err
        assert err.index(warning) < err.index("Send 5 cards")


def test_map_option_end_to_end(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path,
        "Given,Family,Addr,Town,ST,PLZ,Land,Memo",
        "Rosa,Delgado,48 Larkspur Lane,Springfield,IL,62704,US,vip",
    )
    maps = ["Given=first_name", "Family=last_name", "Addr=address_line_1"]
    maps += ["Town=city", "ST=state", "PLZ=postal_code", "Land=country"]
    options = [arg for item in maps for arg in ("--map", item)]
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(path), "--template=1", "--fake", "-y", *options]
    )
    err = capsys.readouterr().err
    assert status == cli.EXIT_OK
    assert card_count(service) == before + 1
    assert "PLZ (postal code)" in err
    assert "Ignored columns (not sent): 'Memo'." in err


@pytest.mark.sockets
def test_token_and_server_options_reach_a_real_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against a fake server on loopback: the token from the environment
    works, a wrong one is refused, and neither is ever printed."""
    with FakeServer(FakeAMcards.demo()) as server:
        monkeypatch.setenv(cli.TOKEN_ENV, DEMO_ACCESS_TOKEN)
        monkeypatch.setenv(cli.BASE_URL_ENV, server.base_url)
        assert cli.main(["templates"]) == cli.EXIT_OK
        assert "Thank You" in capsys.readouterr().out

        status = cli.main(
            ["user", "--token", "wrong-sekrit", "--base-url", server.base_url]
        )
        out, err = capsys.readouterr()
    assert status == cli.EXIT_NOT_ALL_SENT
    assert "the access token was refused" in err
    for secret in ("wrong-sekrit", DEMO_ACCESS_TOKEN):
        assert secret not in out + err


def test_a_server_that_is_not_a_url_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = cli.main(["user", "--token", "t", "--base-url", "amcards.com"])
    assert status == cli.EXIT_USAGE
    assert "not an http:// or https:// URL" in capsys.readouterr().err


@pytest.mark.skipif(
    not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal"
)
def test_ctrl_c_stops_after_the_current_row(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_send = AMcardsClient.send_card
    calls = []

    def interrupted(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", interrupted)
    before = card_count(service)
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "1", "--fake", "--yes"]
    )
    out, err = capsys.readouterr()
    assert status == cli.EXIT_INTERRUPTED
    assert card_count(service) == before + 2
    assert "sent: 2" in out
    assert "not sent: 3" in out
    assert "Stopped (Ctrl-C)" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@needs_shared_csv
def test_campaign_sends_one_drip_per_row(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    status = send_shared_export("--campaign", str(DEMO_CAMPAIGN_ID), "--json")
    out, err = capsys.readouterr()
    summary = json.loads(out)
    failed_lines = {f["line"] for f in summary["failed"]}
    assert status == cli.EXIT_NOT_ALL_SENT
    assert len(summary["sent"]) == SHARED_GOOD_ROWS
    assert failed_lines == set()
    assert all(s["mailing_id"] is not None for s in summary["sent"])
    assert "Campaign 21" in err
    assert "campaigns to send, about $" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--template", "1", "--campaign", "2"], "not allowed with"),
        ([], "one of the arguments --template --campaign is required"),
        (["--campaign", "2", "--message", "Hi"], "--message goes with"),
        (["--template", "1", "--send-date", "2024-02-30"], "--send-date"),
        (["--template", "abc"], "--template"),
        (["--template", "1", "--map", "Zip"], "CSV header=field"),
        (["--template", "1", "--token", "sekrit-123"], "--fake uses"),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    before = card_count(service)
    status = cli.main(["send-cards", str(EXAMPLE), "--fake", "--yes", *extra])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE
    assert message in err
    assert "sekrit-123" not in err
    assert card_count(service) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--message", ""], "--message is empty"),
        (["--message", " \n\t "], "--message is empty"),
        (
            ["--message", "Hi \x1b[31mthere"],
            "--message contains the control character U+001B; only line "
            "breaks and tabs are allowed",
        ),
        (
            ["--message", "Hi\x00"],
            "--message contains the control character U+0000",
        ),
        (
            ["--message", "Hi\x85"],
            "--message contains the control character U+0085",
        ),
        (["--message", "Hi\udcff"], "--message cannot be read as text"),
        (["--initiator", "crm\tsync"], "--initiator contains a tab"),
        (["--initiator", "crm\nsync"], "--initiator contains a tab"),
        (["--initiator", "crm\x7f"], "--initiator contains a tab"),
        (
            ["--initiator", "x" * 201],
            "--initiator is 201 characters long; at most 200 are accepted",
        ),
        (["--initiator", "x" * 5000], "--initiator is 5000 characters long"),
    ],
)
def test_a_blank_message_or_an_odd_initiator_is_a_usage_error(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    words = ["send-cards", str(EXAMPLE), "--fake", "--yes"]
    status = cli.main([*words, "--template", "1", *extra])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE
    assert f"amcards: error: {message}" in err
    assert service.request_count == 0


def test_a_message_with_line_breaks_and_tabs_and_a_long_initiator_go_out(
    service: FakeAMcards,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    real_send = AMcardsClient.send_card
    seen: list[tuple[str, str | None]] = []

    def watched(self: AMcardsClient, *args: Any, **kw: Any) -> Any:
        seen.append((args[1], kw.get("message")))
        return real_send(self, *args, **kw)

    monkeypatch.setattr(AMcardsClient, "send_card", watched)
    path = write_csv(tmp_path, HEADER, GOOD_ROW)
    message = "Dear Rosa,\r\n\tthank you!\nAda"
    initiator = "i" * 200
    words = ["send-cards", str(path), "--template", "1", "--fake", "--yes"]
    status = cli.main([*words, "--message", message, "--initiator", initiator])
    assert status == cli.EXIT_OK
    assert seen == [(initiator, message)]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "--template",
            "amcards: error: --template must be a template number like 1; "
            "see 'amcards templates' (got 'abc')",
        ),
        (
            "--campaign",
            "amcards: error: --campaign must be a campaign number like 21 "
            "(got 'abc')",
        ),
    ],
)
def test_a_template_or_campaign_that_is_not_a_number_is_said_plainly(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    option: str,
    message: str,
) -> None:
    status = cli.main(["send-cards", str(EXAMPLE), "--fake", option, "abc"])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE
    assert message in err
    assert "non-negative int" not in err


def test_an_unknown_template_is_a_usage_error(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--template", "987654", "--fake", "-y"]
    )
    assert status == cli.EXIT_USAGE
    assert "template 987654 is not in this account" in capsys.readouterr().err


def test_top_level_help_has_a_general_exit_status_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 done" in out
    assert "usage error: bad option" in out
    assert "every row was sent" not in out
    assert "'amcards COMMAND --help' says more" in out


def test_help_lists_a_template_not_in_the_account_under_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["send-cards", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    usage = out[out.index(f"{cli.EXIT_USAGE} usage error") :]
    assert "a template or campaign that is not in the account" in usage


def test_an_unknown_campaign_is_a_usage_error(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["send-cards", str(EXAMPLE), "--campaign", "987654", "--fake", "-y"]
    )
    assert status == cli.EXIT_USAGE
    assert "campaign 987654 is not in this account" in capsys.readouterr().err


def test_a_missing_file_is_a_usage_error(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["send-cards", str(tmp_path / "nope.csv"), "--template", "1", "--fake"]
    )
    assert status == cli.EXIT_USAGE
    assert "cannot read" in capsys.readouterr().err


def test_a_non_utf8_file_is_a_usage_error_without_a_traceback(
    service: FakeAMcards, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(
        (HEADER + "\nJos\xe9,Ruiz,1 Main St,Reno,NV,89501,US\n").encode(
            "cp1252"
        )
    )
    status = cli.main(["send-cards", str(path), "--template", "1", "--fake"])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE
    assert "not UTF-8 text: line 2, character 4 (a byte 0xE9)" in err
    assert "Traceback" not in err


def test_without_a_token_the_command_says_how_to_give_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    status = cli.main(["templates"])
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE
    assert cli.TOKEN_ENV in err and "--token" in err and "--fake" in err


def test_help_states_the_phone_rule_and_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["send-cards", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "phone is not sent, so a phone that does not fit" in out
    assert "with --campaign it is sent, so the row is rejected" in out
    assert "exit status" in out


# Looking around ----------------------------------------------------------


def test_templates_lists_the_demo_templates(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["templates", "--fake"]) == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["ID", "NAME"]
    assert lines[2].split()[0] == "1"


def test_templates_json_is_machine_readable(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["templates", "--fake", "--json", "--limit", "1"]) == 0
    templates = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in templates] == [1]


def test_user_shows_credits_in_dollars(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "--fake"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Credits:" in out
    assert "$" in out
    assert DEMO_ACCESS_TOKEN not in out


def test_user_json_has_the_model_fields(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "--fake", "--json"]) == cli.EXIT_OK
    user = json.loads(capsys.readouterr().out)
    assert isinstance(user["credits"], int)
    assert isinstance(user["domestic_postage_countries"], list)


def test_cards_lists_cards_including_ones_just_sent(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(
        tmp_path, HEADER, "Quill,Zebediah,1 Elm St,Reno,NV,89501,US"
    )
    assert (
        cli.main(
            ["send-cards", str(path), "--template", "1", "--fake", "--yes"]
        )
        == cli.EXIT_OK
    )
    capsys.readouterr()
    assert cli.main(["cards", "--fake", "--limit", "100"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["ID", "STATUS", "SEND"]


def test_cards_json_and_paging(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cards", "--fake", "--json", "--limit", "2"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert len(cards) <= 2
    assert all(isinstance(card["status"], str) for card in cards)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["cards", "--limit", "100000000000000000000"],
            "--limit must be at most 1000",
        ),
        (["templates", "--limit", "1001"], "--limit must be at most 1000"),
        (["cards", "--contact-id", ""], "--contact-id must not be empty"),
        (["cards", "--initiator", " "], "--initiator must not be empty"),
    ],
)
def test_listing_options_out_of_bounds_are_usage_errors(
    service: FakeAMcards,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    before = service.request_count
    assert cli.main([*argv, "--fake"]) == cli.EXIT_USAGE
    assert f"amcards: error: {message}" in capsys.readouterr().err
    assert service.request_count == before


def test_a_limit_of_1000_is_accepted(service: FakeAMcards) -> None:
    assert cli.main(["cards", "--limit", "1000", "--fake"]) == cli.EXIT_OK


@pytest.mark.parametrize("option", [["--limit", "0"], ["--skip", "-1"]])
def test_bad_paging_is_a_usage_error(
    service: FakeAMcards, option: list[str]
) -> None:
    assert cli.main(["cards", "--fake", *option]) == cli.EXIT_USAGE


def test_no_command_prints_help_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main([]) == cli.EXIT_USAGE
    assert "send-cards" in capsys.readouterr().err


# As a program ------------------------------------------------------------


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != cli.TOKEN_ENV}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_python_m_amcards_sends_the_example_file() -> None:
    done = run_module(
        "-m",
        "amcards",
        "send-cards",
        "examples/recipients.csv",
        "--template",
        "1",
        "--fake",
        "--yes",
    )
    assert done.returncode == 1, done.stderr
    assert "sent: 5" in done.stdout
    assert "line 4 (Ingrid Solberg)" in done.stdout
    assert "\x1b[" not in done.stdout + done.stderr


def test_importing_the_cli_loads_no_client_transport_or_ledger() -> None:
    code = (
        "import sys, amcards.cli; "
        "print(sorted(m for m in sys.modules if m in "
        "('amcards.client', 'attrs', 'urllib3', 'cattrs', "
        "'amcards.transports.fake', 'amcards.ledger', 'sqlite3')))"
    )
    done = run_module("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_cards_filter_by_contact_id_and_initiator(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str]
) -> None:
    """`amcards cards --contact-id` lists only that recipient's cards."""
    status = cli.main(["cards", "--fake", "--json", "--contact-id", "crm-1"])
    listed = json.loads(capsys.readouterr().out)
    assert status == cli.EXIT_OK
    assert listed
    assert {
        c["shipping_address"]["third_party_contact_id"] for c in listed
    } == {"crm-1"}
    cli.main(["cards", "--fake", "--json", "--initiator", "nobody"])
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("journal", ["", ":memory:"])
def test_a_journal_that_keeps_nothing_is_a_usage_error(
    service: FakeAMcards, capsys: pytest.CaptureFixture[str], journal: str
) -> None:
    """--journal "" would silently protect nothing: it is refused."""
    words = ["send-cards", str(EXAMPLE), "--template", "1", "--fake"]
    status = cli.main([*words, "--yes", "--journal", journal])
    assert status == cli.EXIT_USAGE
    assert "--journal needs the path of a file" in capsys.readouterr().err
    assert service.cards_created == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`amcards --version` names the package version."""
    import amcards

    assert cli.main(["--version"]) == cli.EXIT_OK
    assert capsys.readouterr().out.strip() == f"amcards {amcards.__version__}"

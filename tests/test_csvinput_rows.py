"""Reading recipients files: every reason a row is rejected, values too
long to read, and the header spellings CRMs use."""

from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards import cli, csvinput
from amcards.core.validators import MAX_ADDRESS_VALUE_LENGTH
from amcards.transports.fake import FakeAMcards

HEADER = "First Name,Last Name,Street Address,City,State,Zip,Country"
GOOD_ROW = "Rosa,Delgado,48 Larkspur Lane,Springfield,IL,62704,US"
LIMIT = csvinput.MAX_CELL_LENGTH


def write(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def record(line: int = 7, **values: str) -> csvinput.Record:
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
    return csvinput.Record(line, {k: v for k, v in base.items() if v})


def rejected(
    result: csvinput.Recipient | csvinput.Rejected,
) -> csvinput.Rejected:
    assert isinstance(result, csvinput.Rejected), result
    return result


# Every reason ------------------------------------------------------------


def test_a_card_row_lists_its_bad_birthday_and_its_bad_phone() -> None:
    row = record(birth_date="1986-02-30", phone_number="555-0100 x12")
    result = rejected(csvinput.check_record(row))
    assert result.line == 7
    assert result.reasons == (
        "birthday '1986-02-30' is not a real date",
        "warning: phone '555-0100 x12' is not a 10-digit North American "
        "number (a card send does not use the phone)",
    )


def test_a_campaign_row_lists_both_as_reasons() -> None:
    row = record(birth_date="1986-02-30", phone_number="555-0100 x12")
    result = rejected(csvinput.check_record(row, campaign=True))
    assert result.reasons == (
        "birthday '1986-02-30' is not a real date",
        "phone '555-0100 x12' is not a 10-digit North American number",
    )


def test_a_good_card_row_with_a_bad_phone_is_only_warned() -> None:
    result = csvinput.check_record(record(phone_number="555-0100 x12"))
    assert isinstance(result, csvinput.Recipient)
    assert result.warnings == (
        "phone '555-0100 x12' is not a 10-digit North American number "
        "(a card send does not use the phone)",
    )


def test_every_check_reports_not_only_the_first() -> None:
    row = record(
        city="",
        postal_code="2108",
        birth_date="April 4",
        organization="Line one\nline two",
        address_line_1="Apartment 12B, The Residences at Riverside Commons",
        address_line_2="x" * (MAX_ADDRESS_VALUE_LENGTH + 5),
        country="",
    )
    reasons = rejected(csvinput.check_record(row)).reasons
    assert reasons == (
        "the city is missing",
        "postal code '2108' for a US address has 4 digits; it probably "
        "lost its leading zero (02108?)",
        "the company contains a line break or another control character",
        f"the second address line is {MAX_ADDRESS_VALUE_LENGTH + 5} "
        f"characters long (at most {MAX_ADDRESS_VALUE_LENGTH} are "
        "accepted)",
        "birthday 'April 4' is not a date in the form YYYY-MM-DD or MM-DD",
        "warning: the street address is 50 characters long (over 40) and "
        "may be shortened or wrapped on the envelope",
    )


def test_an_unknown_country_is_a_warning_of_a_rejected_row() -> None:
    row = record(country="Untied States", city="")
    assert rejected(csvinput.check_record(row)).reasons == (
        "the city is missing",
        "warning: country 'Untied States' is not a country name or code "
        "this tool knows; it is sent as typed (check the spelling)",
    )


def test_two_values_too_long_for_a_card_are_both_named() -> None:
    long = "y" * (MAX_ADDRESS_VALUE_LENGTH + 1)
    reasons = rejected(
        csvinput.check_record(record(first_name=long, city=long))
    ).reasons
    assert [reason.split(" is ")[0] for reason in reasons] == [
        "the first name",
        "the city",
    ]


def test_a_street_too_long_for_a_card_is_not_also_a_long_line_warning() -> (
    None
):
    street = "z" * (MAX_ADDRESS_VALUE_LENGTH + 1)
    reasons = rejected(
        csvinput.check_record(record(address_line_1=street))
    ).reasons
    assert len(reasons) == 1
    assert "over 40" not in reasons[0]


def test_the_command_prints_every_reason_with_the_line(
    service: FakeAMcards,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(
        tmp_path,
        HEADER
        + ",Phone,Birthday\n"
        + GOOD_ROW
        + ",,\n"
        + "Ann,Lee,1 Main St,Boulder,CO,80302,US,555-0100 x12,1986-02-30\n",
    )
    status = cli.main(
        ["send-cards", str(path), "--template", "1", "--fake", "--dry-run"]
    )
    err = capsys.readouterr().err
    assert status == cli.EXIT_NOT_ALL_SENT
    assert (
        "rejected line 3 (Ann Lee): birthday '1986-02-30' is not a real "
        "date; warning: phone '555-0100 x12' is not a 10-digit North "
        "American number (a card send does not use the phone)"
    ) in err


# Values too long to read -------------------------------------------------


def long_file(tmp_path: Path, value: str, column: str = "Notes") -> Path:
    header = HEADER + f",{column}"
    return write(
        tmp_path,
        f"{header}\n{GOOD_ROW},short\n"
        f"Ann,Lee,1 Main St,Boulder,CO,80302,US,{value}\n"
        f"{GOOD_ROW.replace('Rosa', 'Bea')},short\n",
    )


def test_a_value_over_the_limit_rejects_only_its_row(tmp_path: Path) -> None:
    path = long_file(tmp_path, "n" * (LIMIT + 1))
    records = csvinput.read_recipients(path).records
    assert [r.line for r in records] == [2, 3, 4]
    results = [csvinput.check_record(r) for r in records]
    assert isinstance(results[0], csvinput.Recipient)
    assert isinstance(results[2], csvinput.Recipient)
    assert rejected(results[1]).reasons == (
        f"the 'Notes' column (not used) holds a value {LIMIT + 1:,} "
        f"characters long, too long to read (at most {LIMIT:,})",
    )
    assert rejected(results[1]).label == "line 3 (Ann Lee)"


def test_a_value_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = long_file(tmp_path, "n" * LIMIT)
    records = csvinput.read_recipients(path).records
    assert all(r.problems == () for r in records)
    assert isinstance(csvinput.check_record(records[1]), csvinput.Recipient)


def test_a_long_address_value_is_too_long_not_missing(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n{GOOD_ROW}\n"
        f'Ann,Lee,"{"s" * (LIMIT + 10)}",Boulder,CO,80302,US\n'
    )
    records = csvinput.read_recipients(write(tmp_path, text)).records
    assert rejected(csvinput.check_record(records[1])).reasons == (
        f"the street address is {LIMIT + 10:,} characters long, too long "
        f"to read (at most {LIMIT:,})",
    )


def test_a_long_quoted_value_over_many_lines_keeps_later_line_numbers(
    tmp_path: Path,
) -> None:
    notes = '"' + ("word, " * 40 + '""quoted""\n') * 600 + '"'
    assert len(notes) > LIMIT
    path = long_file(tmp_path, notes)
    records = csvinput.read_recipients(path).records
    assert [r.line for r in records] == [2, 3, 604]
    assert records[1].problems
    assert records[2].name == "Bea Delgado"


def test_a_long_value_after_the_last_column_is_named(tmp_path: Path) -> None:
    text = f"{HEADER}\n{GOOD_ROW},{'e' * (LIMIT + 1)}\n"
    (only,) = csvinput.read_recipients(write(tmp_path, text)).records
    assert rejected(csvinput.check_record(only)).reasons == (
        f"a value after the last column is {LIMIT + 1:,} characters long, "
        f"too long to read (at most {LIMIT:,})",
    )


def test_a_long_value_in_a_tab_separated_crlf_file(tmp_path: Path) -> None:
    rows = [
        HEADER.replace(",", "\t") + "\t",
        GOOD_ROW.replace(",", "\t") + "\t" + "t" * (LIMIT + 1),
        GOOD_ROW.replace(",", "\t").replace("Rosa", "Bea") + "\tok",
    ]
    path = write(tmp_path, "\r\n".join(rows) + "\r\n")
    records = csvinput.read_recipients(path).records
    assert [r.line for r in records] == [2, 3]
    assert rejected(csvinput.check_record(records[0])).reasons == (
        f"column 8 (no header, not used) holds a value {LIMIT + 1:,} "
        f"characters long, too long to read (at most {LIMIT:,})",
    )
    assert isinstance(csvinput.check_record(records[1]), csvinput.Recipient)


def test_a_long_value_in_the_header_row_stops_the_file(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, f"{HEADER},{'h' * (LIMIT + 1)}\n{GOOD_ROW},x\n")
    with pytest.raises(csvinput.CsvInputError) as caught:
        csvinput.read_recipients(path)
    assert f"line 1: the header row has a value {LIMIT + 1:,} characters" in (
        str(caught.value)
    )


def test_the_csv_modules_limit_is_left_as_it_was(tmp_path: Path) -> None:
    path = long_file(tmp_path, "n" * (LIMIT * 3))
    before = csv.field_size_limit()
    try:
        csv.field_size_limit(LIMIT * 2)
        records = csvinput.read_recipients(path).records
        assert csv.field_size_limit() == LIMIT * 2
    finally:
        csv.field_size_limit(before)
    assert records[1].problems


def test_a_lower_csv_limit_set_by_the_caller_is_respected(
    tmp_path: Path,
) -> None:
    path = long_file(tmp_path, "n" * 5000)
    before = csv.field_size_limit()
    try:
        csv.field_size_limit(1000)
        records = csvinput.read_recipients(path).records
        assert csv.field_size_limit() == 1000
    finally:
        csv.field_size_limit(before)
    assert "(at most 1,000)" in records[1].problems[0]


def test_a_huge_value_is_never_copied(tmp_path: Path) -> None:
    """The file is held once as bytes and once as text, never more: the
    value itself is measured in place, not cut out of the text."""
    size = 8_000_000
    path = long_file(tmp_path, "m" * size)
    tracemalloc.start()
    try:
        records = csvinput.read_recipients(path).records
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records[1].problems
    assert peak < 2.3 * size


def test_a_huge_value_after_a_byte_order_mark_is_not_copied(
    tmp_path: Path,
) -> None:
    size = 8_000_000
    path = long_file(tmp_path, "m" * size)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    tracemalloc.start()
    try:
        records = csvinput.read_recipients(path).records
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records[0].values["first_name"] == "Rosa"
    assert peak < 2.3 * size


# Splitting rows as the csv module does ------------------------------------


def rows_by_csv(text: str, dialect: type[csv.Dialect]) -> list[object]:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    rows: list[object] = []
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            rows.append((start, cells))
        start = reader.line_num + 1
    return rows


@given(st.text(alphabet='ab ,;"\r\n\t', max_size=60))
def test_rows_and_lines_agree_with_the_csv_module(text: str) -> None:
    try:
        ours = [
            (row.line, row.cells) for row in csvinput.read_rows("a,b\n" + text)
        ]
    except csvinput.CsvInputError as exc:
        assert "unclosed quote" in str(exc)
        return
    assert ours == rows_by_csv("a,b\n" + text, csv.excel)


@given(st.text(alphabet='ab ;"\r\n', max_size=40))
def test_semicolon_rows_agree_with_the_csv_module(text: str) -> None:
    class Semicolons(csv.excel):
        delimiter = ";"

    try:
        ours = [
            (row.line, row.cells) for row in csvinput.read_rows("a;b\n" + text)
        ]
    except csvinput.CsvInputError:
        return
    assert ours == rows_by_csv("a;b\n" + text, Semicolons)


# Header spellings --------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # HubSpot
        ("ZIP/Postal", "postal_code"),
        ("Postal Code", "postal_code"),
        ("State/Region", "state"),
        ("Country/Region", "country"),
        ("Street Address 2", "address_line_2"),
        # Salesforce, by label and by API name
        ("Mailing Zip/Postal Code", "postal_code"),
        ("Zip/Postal Code", "postal_code"),
        ("Mailing State/Province", "state"),
        ("MailingState", "state"),
        ("Mailing Country", "country"),
        ("Birthdate", "birth_date"),
        ("FirstName", "first_name"),
        # Zoho
        ("Mailing Zip", "postal_code"),
        ("Mailing Zip Code", "postal_code"),
        ("Record Id", "third_party_contact_id"),
        # Pipedrive's address parts
        ("ZIP/Postal code", "postal_code"),
        ("City/town", "city"),
        ("State/county", "state"),
        ("Organization Name", "organization"),
        # Excel and Word mail-merge lists
        ("ZIP Code", "postal_code"),
        ("Country or Region", "country"),
        ("Address Line 1", "address_line_1"),
        # other common spellings
        ("Postal/Zip Code", "postal_code"),
        ("Zip/Postal", "postal_code"),
        ("Post Code", "postal_code"),
        ("Province/State", "state"),
        ("DOB", "birth_date"),
    ],
)
def test_crm_header_spellings_are_recognised(header: str, field: str) -> None:
    assert csvinput.field_for_header(header) == field


def test_no_spelling_means_two_fields() -> None:
    seen: dict[str, str] = {}
    for name, aliases in csvinput.FIELD_ALIASES.items():
        for alias in (name, *aliases):
            key = csvinput.normalize_header(alias)
            assert seen.setdefault(key, name) == name, alias


def test_a_hubspot_export_needs_no_map(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Record ID,First Name,Last Name,Street Address,City,State/Region,"
        "ZIP/Postal,Country/Region\n"
        "7,Rosa,Delgado,48 Larkspur Lane,Springfield,IL,62704,US\n",
    )
    recipients = csvinput.read_recipients(path)
    assert recipients.columns.column_of("postal_code") == "ZIP/Postal"
    assert recipients.columns.ignored == ()


def test_a_tab_in_an_address_value_is_named_with_the_other_problems() -> None:
    """The library refuses a tab in an address; the row says so in the
    file's own words, beside its other problems."""
    row = record(city="", first_name="Ro\tsa")
    reasons = rejected(csvinput.check_record(row)).reasons
    assert "the city is missing" in reasons
    assert "the first name contains a tab" in reasons

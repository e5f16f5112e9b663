"""Checking and normalising caller input before anything is sent.

Properties are stated against definitions written here independently of
the module: a date is valid exactly when it is 4-2-2 ASCII digits and
``datetime.date`` accepts it, a phone exactly when its digits fit the
North American rule.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards.core import validators
from amcards.core.countries import COUNTRIES, lookup_keys
from amcards.core.errors import (
    DateFormatError,
    ExtraDataError,
    PhoneFormatError,
    ReturnAddressError,
    ShippingAddressError,
    ValidationError,
)
from amcards.core.validators import (
    is_domestic,
    missing_address_fields,
    normalize_country,
    validate_birth_date,
    validate_date,
    validate_date_parts,
    validate_extra_data,
    validate_id,
    validate_initiator,
    validate_limit_skip,
    validate_message,
    validate_phone,
    validate_return_address,
    validate_shipping_address,
    validate_shipping_addresses,
)

ADDRESS = {
    "first_name": "Ralph",
    "last_name": "Mullins",
    "address_line_1": "2285 Reppert Road",
    "city": "Southfield",
    "state": "MI",
    "postal_code": "48075",
}


def address(**changes: object) -> dict[str, object]:
    """A valid shipping address with some keys changed or added."""
    return {**ADDRESS, **changes}


# Independent definitions -------------------------------------------------


def is_real_iso_date(text: str) -> bool:
    text = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


def is_real_month_day(text: str) -> bool:
    text = text.strip()
    if not re.fullmatch(r"[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        dt.date(2024, int(text[:2]), int(text[3:]))
    except ValueError:
        return False
    return True


def phone_digits(text: str) -> str | None:
    text = text.strip()
    if text.startswith("+"):
        text = text[1:]
    for separator in " .-()":
        text = text.replace(separator, "")
    if re.fullmatch(r"[0-9]{10}|1[0-9]{10}", text):
        return text
    return None


# Strategies --------------------------------------------------------------

date_like = st.one_of(
    st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
    ),
    st.dates().map(dt.date.isoformat),
    st.text(alphabet="0123456789-/ .T:\u0662", max_size=12),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.dates().map(lambda d: f"{d.year}-{d.month}-{d.day}"),
)
month_day_like = st.one_of(
    st.builds("{:02d}-{:02d}".format, st.integers(0, 13), st.integers(0, 32)),
    st.text(alphabet="0123456789- ", max_size=6),
)
phone_like = st.one_of(
    st.text(alphabet="0123456789 .-()+x/\u0663", max_size=18),
    st.builds(
        "{}({}) {}-{}".format,
        st.sampled_from(["", "+1 ", "1 ", "+", "+44 "]),
        st.from_regex(r"[0-9]{3}", fullmatch=True),
        st.from_regex(r"[0-9]{3}", fullmatch=True),
        st.from_regex(r"[0-9]{4}", fullmatch=True),
    ),
)
# Printable text (no control characters, which are refused), with white
# space around it that the validators strip.
field_text = st.tuples(
    st.sampled_from(["", " ", "\t", " \n "]),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Cc"]),
        max_size=20,
    ),
    st.sampled_from(["", " ", "\r\n"]),
).map("".join)


# Dates -------------------------------------------------------------------


@given(date_like)
def test_date_string_valid_exactly_when_a_real_4_2_2_date(text):
    """A date string passes exactly when it is a real YYYY-MM-DD date."""
    if is_real_iso_date(text):
        assert validate_date(text, "send_date") == text.strip()
    else:
        with pytest.raises(DateFormatError) as info:
            validate_date(text, "send_date")
        assert info.value.field == "send_date"


@given(st.dates())
def test_date_objects_are_written_zero_padded(day):
    """A datetime.date comes back as its zero-padded YYYY-MM-DD form."""
    text = validate_date(day, "send_date")
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text)
    assert dt.date.fromisoformat(text) == day


@given(st.datetimes())
def test_datetimes_are_refused_with_a_hint(moment):
    """A datetime is not silently cut to its date."""
    with pytest.raises(DateFormatError, match=r"datetime\.date"):
        validate_date(moment, "send_date")


@pytest.mark.parametrize(
    "value",
    ["2024-1-5", "05/01/2024", "20240105", "2024-02-30", "2023-02-29", ""],
)
def test_other_date_formats_are_not_reinterpreted(value):
    """Dates in other shapes, or impossible ones, are errors."""
    with pytest.raises(DateFormatError) as info:
        validate_date(value, "send_date")
    assert str(info.value).startswith("send_date: ")


@pytest.mark.parametrize("value", [20240105, None, 1.5, b"2024-01-05"])
def test_dates_of_another_type_are_refused(value):
    """Only strings and date objects are dates."""
    with pytest.raises(DateFormatError, match="send_date"):
        validate_date(value, "send_date")


@given(st.one_of(date_like, month_day_like))
def test_birth_date_valid_exactly_as_full_or_month_day(text):
    """A birth date is a real YYYY-MM-DD date or a real MM-DD day."""
    if is_real_iso_date(text) or is_real_month_day(text):
        assert validate_birth_date(text, "birth_date") == text.strip()
    else:
        with pytest.raises(DateFormatError):
            validate_birth_date(text, "birth_date")


def test_february_29_is_a_valid_month_day():
    """02-29 exists (in leap years), so it is a valid birthday."""
    assert validate_birth_date("02-29", "birth_date") == "02-29"
    with pytest.raises(DateFormatError):
        validate_birth_date("02-30", "birth_date")


# Phones ------------------------------------------------------------------


@given(phone_like)
def test_phone_valid_exactly_when_its_digits_fit_the_rule(text):
    """10 digits, or 11 starting with 1, once separators are removed."""
    expected = phone_digits(text)
    if expected is not None:
        assert validate_phone(text, "phone") == expected
    else:
        with pytest.raises(PhoneFormatError) as info:
            validate_phone(text, "phone")
        assert info.value.field == "phone"


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("(603) 555-0142", "6035550142"),
        ("+1 508 555 0199", "15085550199"),
        ("860.555.0177", "8605550177"),
        ("12223334444", "12223334444"),
    ],
)
def test_common_phone_spellings(typed, digits):
    """Phones as people write them come back as digits."""
    assert validate_phone(typed, "phone") == digits


@pytest.mark.parametrize("value", [6035550142, None, ["603"]])
def test_phones_must_be_strings(value):
    """A phone number given as a number is refused, not converted."""
    with pytest.raises(PhoneFormatError, match="expected a string"):
        validate_phone(value, "phone")


def test_phone_errors_do_not_repeat_the_number():
    """The reason counts digits but never quotes the number."""
    with pytest.raises(PhoneFormatError) as info:
        validate_phone("555-98765", "phone")
    assert "98765" not in str(info.value)
    assert "8 digits" in str(info.value)


# Countries ---------------------------------------------------------------


@given(st.sampled_from(sorted(set(lookup_keys()))))
def test_every_iso_code_and_name_normalises_to_its_code(key):
    """Codes, ISO names and aliases all become the alpha-2 code."""
    name, code = key
    assert normalize_country(name) == code
    assert normalize_country(f"  {name.upper()}  ") == code


@given(field_text, st.sampled_from("0123456789\u0663\u00b2"), field_text)
def test_unknown_countries_are_kept_as_typed(before, digit, after):
    """A value naming no country comes back stripped, otherwise as typed.

    No country's name holds a digit, so any text with one is unknown.
    """
    text = before + digit + after
    assert normalize_country(text) == text.strip()


@pytest.mark.parametrize("typed", ["Atlantis", "Kosovo", "Korea", " XK "])
def test_named_unknown_countries_are_kept(typed):
    """Unknown or ambiguous names are not guessed at."""
    assert normalize_country(typed) == typed.strip()


@pytest.mark.parametrize(
    ("country", "domestic", "expected"),
    [
        ("US", {"US"}, True),
        ("USA", {"US"}, True),
        ("u.s.", {"United States"}, True),
        ("us", {"US", "CA"}, True),
        ("Canada", {"US", "CA"}, True),
        ("GB", {"US", "CA"}, False),
        ("Atlantis", {"atlantis"}, True),
        (None, {"US"}, False),
        ("", {"US"}, False),
        ("US", set(), False),
    ],
)
def test_is_domestic_compares_normalised_codes(country, domestic, expected):
    """Both sides are normalised; an unknown (None) country is not domestic."""
    assert is_domestic(country, domestic) is expected


@given(st.sampled_from(COUNTRIES), st.sampled_from(COUNTRIES))
def test_is_domestic_matches_codes_against_names(one, other):
    """A code is domestic exactly when its country's name is listed."""
    assert is_domestic(one.alpha_3, {other.name}) is (one == other)


# Extra data, ids, paging -------------------------------------------------


def test_extra_data_none_is_empty():
    """No extra data is an empty dict."""
    assert validate_extra_data(None) == {}


@given(st.dictionaries(st.text(min_size=1), st.text()))
def test_extra_data_of_strings_is_copied_unchanged(data):
    """A dict of strings comes back equal, as a new dict."""
    result = validate_extra_data(data)
    assert result == data
    assert result is not data


@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [
        ({"carMake": 3}, "extra_data['carMake']", "got int"),
        ({"carMake": None}, "extra_data['carMake']", "got None"),
        ({"a": "x", "tags": ["x"]}, "extra_data['tags']", "got list"),
        ({1: "x"}, "extra_data[1]", "non-empty strings"),
        ({"": "x"}, "extra_data['']", "non-empty strings"),
        (["carMake"], "extra_data", "expected a dict"),
        ("carMake=Honda", "extra_data", "expected a dict"),
    ],
)
def test_extra_data_errors_name_the_key(value, field, reason):
    """Nothing in extra_data is dropped: a bad entry is an error."""
    with pytest.raises(ExtraDataError) as info:
        validate_extra_data(value)
    assert info.value.field == field
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "1"),
        (42, "42"),
        ("42", "42"),
        (" 7 ", "7"),
        ("007", "7"),
        (2**63 - 1, str(2**63 - 1)),
    ],
)
def test_ids_are_digit_strings(value, expected):
    """Ids may be ints or digit strings and come back as strings."""
    assert validate_id(value, "template_id") == expected


@pytest.mark.parametrize(
    "value",
    [
        -1,
        0,
        "0",
        "000",
        2**63,
        "9" * 30,
        "0" * 40 + "9" * 30,
        True,
        1.0,
        None,
        "",
        "12a",
        "-3",
        "\u0663",
        "1 2",
    ],
)
def test_bad_ids_name_the_field(value):
    """Anything but a non-negative integer id is refused, naming it."""
    with pytest.raises(ValidationError) as info:
        validate_id(value, "template_id")
    assert info.value.field == "template_id"


@given(st.integers(1, 10**6), st.integers(0, 10**6))
def test_limit_and_skip_in_range_pass(limit, skip):
    """Positive limits and non-negative skips come back unchanged."""
    assert validate_limit_skip(limit, skip) == (limit, skip)


@pytest.mark.parametrize(
    ("limit", "skip", "field"),
    [
        (0, 0, "limit"),
        (-5, 0, "limit"),
        (True, 0, "limit"),
        ("25", 0, "limit"),
        (25.0, 0, "limit"),
        (25, -1, "skip"),
        (25, False, "skip"),
        (25, None, "skip"),
    ],
)
def test_bad_limit_or_skip_names_it(limit, skip, field):
    """Limits below 1, skips below 0 and non-ints are refused."""
    with pytest.raises(ValidationError) as info:
        validate_limit_skip(limit, skip)
    assert info.value.field == field


# Shipping addresses -------------------------------------------------------


def test_valid_address_is_copied_in_key_order():
    """A valid address comes back as a new dict, required keys first."""
    given_address = dict(reversed(list(address(country="US").items())))
    result = validate_shipping_address(given_address)
    assert result == address(country="US")
    assert list(result) == [*ADDRESS, "country"]


@given(
    st.fixed_dictionaries(
        {key: field_text.filter(str.strip) for key in ADDRESS},
        optional={
            "country": field_text,
            "organization": field_text,
            "address_line_2": field_text,
            "third_party_contact_id": field_text,
        },
    )
)
def test_address_values_are_stripped_and_empty_optionals_dropped(data):
    """Values are stripped; blank optional values are left out."""
    result = validate_shipping_address(data)
    for key, value in data.items():
        if key == "country" and value.strip():
            assert result[key] == normalize_country(value)
        elif value.strip():
            assert result[key] == value.strip()
        else:
            assert key not in result


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"postal_code": 2134},
            "shipping_address['postal_code']",
            "expected a string, got int",
        ),
        (
            {"postal_code": 2134},
            "shipping_address['postal_code']",
            "leading zero",
        ),
        ({"city": None}, "shipping_address['city']", "got None"),
        ({"city": "   "}, "shipping_address['city']", "missing or blank"),
        ({"state": ["MI"]}, "shipping_address['state']", "got list"),
        (
            {"organization": 12},
            "shipping_address['organization']",
            "got int",
        ),
        (
            {"zip": "48075"},
            "shipping_address['zip']",
            "unknown key; expected one of",
        ),
        (
            {"phone_number": "6035550142"},
            "shipping_address['phone_number']",
            "only allowed on campaign sends",
        ),
        ({1: "x"}, "shipping_address[1]", "unknown key"),
    ],
)
def test_address_errors_name_the_field_and_say_why(changes, field, reason):
    """Each bad value is an error naming its key, with a reason."""
    with pytest.raises(ShippingAddressError) as info:
        validate_shipping_address({**ADDRESS, **changes})
    assert info.value.field == field
    assert reason in info.value.reason
    assert str(info.value).startswith(field + ": ")


def test_int_postal_code_is_never_converted():
    """An int postal code is refused even where it kept all its digits."""
    with pytest.raises(ShippingAddressError):
        validate_shipping_address(address(postal_code=48075))


def test_missing_keys_are_all_reported():
    """The first missing key is the field; the others are listed."""
    partial = {"first_name": "Ralph", "last_name": "Mullins", "state": "MI"}
    assert missing_address_fields(partial) == [
        "address_line_1",
        "city",
        "postal_code",
    ]
    with pytest.raises(ShippingAddressError) as info:
        validate_shipping_address(partial)
    assert info.value.field == "shipping_address['address_line_1']"
    assert "also missing: city, postal_code" in info.value.reason


def test_missing_address_fields_counts_blank_and_none():
    """Absent, None and whitespace-only values all count as missing."""
    assert missing_address_fields(address(city=None, state=" \t")) == [
        "city",
        "state",
    ]
    assert missing_address_fields(ADDRESS) == []


@pytest.mark.parametrize("value", [None, [], "Ralph Mullins", 3])
def test_an_address_must_be_a_dict(value):
    """A value that is not a mapping is refused as a whole."""
    with pytest.raises(ShippingAddressError) as info:
        validate_shipping_address(value)
    assert info.value.field == "shipping_address"


def test_optional_none_and_empty_values_are_left_out():
    """Optional keys given as None or "" are not sent."""
    result = validate_shipping_address(
        address(country="", organization=None, address_line_2="  ")
    )
    assert result == ADDRESS


def test_country_is_normalised_and_unknown_kept():
    """Known countries become codes; unknown ones stay as typed."""
    known = validate_shipping_address(address(country=" u.s.a. "))
    unknown = validate_shipping_address(address(country=" Narnia "))
    assert known["country"] == "US"
    assert unknown["country"] == "Narnia"


def test_campaign_keys_are_checked_and_normalised():
    """Campaign sends normalise the phone and check both dates."""
    result = validate_shipping_address(
        address(
            phone_number="(603) 555-0142",
            birth_date=" 02-29 ",
            anniversary_date=dt.date(2022, 10, 3),
        ),
        campaign=True,
    )
    assert result["phone_number"] == "6035550142"
    assert result["birth_date"] == "02-29"
    assert result["anniversary_date"] == "2022-10-03"


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        (
            {"phone_number": "555-0142"},
            PhoneFormatError,
            "shipping_address['phone_number']",
        ),
        (
            {"birth_date": "1992-02-30"},
            DateFormatError,
            "shipping_address['birth_date']",
        ),
        (
            {"anniversary_date": "10-31"},
            DateFormatError,
            "shipping_address['anniversary_date']",
        ),
        (
            {"birth_date": dt.datetime(1990, 1, 1)},
            DateFormatError,
            "shipping_address['birth_date']",
        ),
        (
            {"phone_number": 6035550142},
            ShippingAddressError,
            "shipping_address['phone_number']",
        ),
    ],
)
def test_campaign_key_errors_name_the_field(changes, error, field):
    """A malformed campaign key raises its own error, naming the key."""
    with pytest.raises(error) as info:
        validate_shipping_address(address(**changes), campaign=True)
    assert info.value.field == field


SECRETS = {
    "first_name": "SECRET-first",
    "last_name": "SECRET-last",
    "address_line_1": "SECRET-line",
    "city": "SECRET-city",
    "state": "SECRET-state",
    "postal_code": "SECRET-zip",
}


@pytest.mark.parametrize(
    "changes",
    [
        {"city": 12345},
        {"postal_code": None},
        {"state": ""},
        {"SECRET-key": "x"},
        {"phone_number": "SECRET-phone"},
        {"birth_date": "SECRET-birthday"},
        {"anniversary_date": "1999-99-99"},
        {"country": ["SECRET-country"]},
    ],
)
def test_address_errors_never_quote_address_values(changes):
    """Messages name fields and reasons, never the personal data."""
    bad = {**SECRETS, **changes}
    with pytest.raises(ValidationError) as info:
        validate_shipping_address(bad, campaign=True)
    message = str(info.value)
    for value in [*SECRETS.values(), "SECRET-phone", "SECRET-birthday"]:
        assert value not in message
    assert "1999-99-99" not in message


def test_bulk_errors_name_the_index():
    """In a list, the field carries the position of the bad address."""
    addresses = [ADDRESS, ADDRESS, ADDRESS, address(city=7)]
    with pytest.raises(ShippingAddressError) as info:
        validate_shipping_addresses(addresses)
    assert info.value.field == "shipping_addresses[3]['city']"


def test_bulk_campaign_errors_name_the_index():
    """Campaign checks in a list also carry the position."""
    addresses = [ADDRESS, address(phone_number="12")]
    with pytest.raises(PhoneFormatError) as info:
        validate_shipping_addresses(addresses, campaign=True)
    assert info.value.field == "shipping_addresses[1]['phone_number']"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([], "empty"),
        (ADDRESS, "expected a list"),
        ("addresses.csv", "expected a list"),
        (None, "expected a list"),
    ],
)
def test_bulk_needs_a_non_empty_list(value, reason):
    """shipping_addresses must be a list with at least one address."""
    with pytest.raises(ShippingAddressError) as info:
        validate_shipping_addresses(value)
    assert info.value.field == "shipping_addresses"
    assert reason in info.value.reason


def test_bulk_returns_each_address_normalised():
    """Every address in the list is checked and normalised."""
    result = validate_shipping_addresses(
        [address(country="USA"), address(first_name=" Ann ")]
    )
    assert result == [address(country="US"), address(first_name="Ann")]


# Return addresses --------------------------------------------------------


def test_no_return_address_is_none():
    """None means the user's default return address."""
    assert validate_return_address(None) is None


def test_return_address_keys_are_all_optional():
    """Any subset of the keys is fine; values are cleaned."""
    assert validate_return_address({"city": " Troy ", "country": "UK"}) == {
        "city": "Troy",
        "country": "GB",
    }
    assert validate_return_address({}) == {}
    assert validate_return_address({"state": "", "city": None}) == {}


@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [
        ({"postal_code": 2134}, "return_address['postal_code']", "int"),
        ({"city": 5}, "return_address['city']", "got int"),
        ({"organization": "X"}, "return_address['organization']", "unknown"),
        ("Troy, MI", "return_address", "expected a dict"),
    ],
)
def test_return_address_errors_name_the_field(value, field, reason):
    """Return address errors are ReturnAddressError, naming the key."""
    with pytest.raises(ReturnAddressError) as info:
        validate_return_address(value)
    assert info.value.field == field
    assert reason in info.value.reason


# The module itself -------------------------------------------------------


def test_public_names_are_listed_and_sorted():
    """__all__ is sorted and every name in it exists."""
    assert validators.__all__ == sorted(validators.__all__)
    for name in validators.__all__:
        assert hasattr(validators, name)


def test_validators_load_no_third_party_modules():
    """Importing the validators loads neither attrs, cattrs nor urllib3."""
    code = (
        "import json, sys\n"
        "import amcards.core.validators\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    for forbidden in ("attr", "attrs", "cattrs", "urllib3"):
        assert not [m for m in loaded if m.split(".")[0] == forbidden]


@pytest.mark.parametrize(
    ("country", "required"),
    [
        ("US", True),
        ("United States", True),
        ("Canada", True),
        ("AU", True),
        (None, True),
        ("", True),
        ("United Kingdom", False),
        ("Germany", False),
        ("FR", False),
        ("Atlantis", False),
    ],
)
def test_state_is_required_only_where_addresses_use_states(
    country: str | None, required: bool
) -> None:
    """A blank state is refused in the US, Canada, Australia or with no
    country, and allowed elsewhere."""
    address = {
        "first_name": "Hannah",
        "last_name": "Whitlock",
        "address_line_1": "221 Baker Street",
        "city": "London",
        "state": "",
        "postal_code": "NW1 6XE",
    }
    if country is not None:
        address["country"] = country
    if required:
        with pytest.raises(ShippingAddressError) as caught:
            validate_shipping_address(address)
        assert caught.value.field == "shipping_address['state']"
    else:
        assert "state" not in validate_shipping_address(address)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("22\x0085 Reppert Road", "control character"),
        ("2285\rReppert Road", "control character"),
        ("2285\nReppert Road", "line break"),
        ("2285\tReppert Road", "contains a tab"),
        ("2285 Reppert \ud800Road", "lone surrogate"),
        ("R" * 201, "201 characters long"),
    ],
)
def test_address_values_that_cannot_be_printed_are_refused(
    value: str, reason: str
) -> None:
    """Control characters and absurd lengths are refused, naming the
    field and never quoting the value."""
    address = {
        "first_name": "Ralph",
        "last_name": "Mullins",
        "address_line_1": value,
        "city": "Southfield",
        "state": "MI",
        "postal_code": "48075",
    }
    with pytest.raises(ShippingAddressError) as caught:
        validate_shipping_address(address)
    assert caught.value.field == "shipping_address['address_line_1']"
    assert reason in str(caught.value)
    assert value not in str(caught.value)


def test_an_address_value_of_the_longest_length_is_accepted() -> None:
    """A value of exactly the limit goes through."""
    address = {
        "first_name": "R" * validators.MAX_ADDRESS_VALUE_LENGTH,
        "last_name": "Mullins",
        "address_line_1": "2285 Reppert Road",
        "city": "Southfield",
        "state": "MI",
        "postal_code": "48075",
    }
    assert validate_shipping_address(address)["first_name"] == "R" * 200


# Dates in parts (contacts' birthdays and anniversaries) --------------------


def _independent_parts_rule(
    year: str | None, month: str | None, day: str | None
) -> bool:
    """When a contact's date parts are valid, written without the
    validator: ASCII digits of the right length, and a day that exists."""
    for text, lengths in ((year, {4}), (month, {1, 2}), (day, {1, 2})):
        if text is None:
            continue
        if len(text) not in lengths or not all(
            c in "0123456789" for c in text
        ):
            return False
    if year is not None and int(year) == 0:
        return False
    if month is not None and not 1 <= int(month) <= 12:
        return False
    if day is not None and not 1 <= int(day) <= 31:
        return False
    if day is not None and month is None:
        return False
    if month is not None and day is not None:
        try:
            dt.date(
                int(year) if year is not None else 2000, int(month), int(day)
            )
        except ValueError:
            return False
    return True


part_text = st.none() | st.text(
    alphabet=st.sampled_from("0123456789\u00b2\u0661x-"),
    min_size=1,
    max_size=5,
)


@given(part_text, part_text, part_text)
def test_date_parts_are_valid_exactly_when_the_rule_says(
    year: str | None, month: str | None, day: str | None
) -> None:
    expected = _independent_parts_rule(year, month, day)
    try:
        checked = validate_date_parts(year, month, day, "birth")
    except DateFormatError as error:
        assert not expected
        assert error.field in ("birth_year", "birth_month", "birth_day")
    else:
        assert expected
        assert checked == (year, month, day)


@pytest.mark.parametrize(
    ("parts", "field", "reason"),
    [
        (("86", None, None), "birth_year", "not four digits"),
        ((None, "13", None), "birth_month", "from 1 to 12"),
        ((None, "2", "30"), "birth_day", "02-30 is not a real date"),
        (("2023", "2", "29"), "birth_day", "2023-02-29 is not a real date"),
        ((True, None, None), "birth_year", "got bool"),
        ((None, 5.0, None), "birth_month", "got float"),
    ],
)
def test_bad_date_parts_name_the_part(
    parts: tuple[object, object, object], field: str, reason: str
) -> None:
    with pytest.raises(DateFormatError) as caught:
        validate_date_parts(*parts, "birth")  # type: ignore[arg-type]
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_date_parts_accept_february_29_without_a_year_and_ints() -> None:
    assert validate_date_parts(None, "02", "29", "birth") == (None, "02", "29")
    assert validate_date_parts(1986, 5, 7, "anniversary") == ("1986", "5", "7")
    assert validate_date_parts(" ", "", None, "birth") == (None, None, None)


@pytest.mark.parametrize(
    ("limit", "skip", "field"),
    [(1, 2**63, "skip"), (2**63, 0, "limit"), (1, 10**20, "skip")],
)
def test_limit_and_skip_stop_at_the_largest_id(
    limit: int, skip: int, field: str
) -> None:
    """Offsets past any 64-bit id are a mistake, refused before a request."""
    with pytest.raises(ValidationError) as caught:
        validate_limit_skip(limit, skip)
    assert caught.value.field == field
    assert validate_limit_skip(2**63 - 1, 2**63 - 1) == (2**63 - 1, 2**63 - 1)


@pytest.mark.parametrize(
    ("parts", "reason"),
    [((None, None, "5"), "needs its month"), (("1986", None, "5"), "needs")],
)
def test_a_day_without_its_month_is_refused(
    parts: tuple[str | None, str | None, str | None], reason: str
) -> None:
    with pytest.raises(DateFormatError) as caught:
        validate_date_parts(*parts, "birth")
    assert caught.value.field == "birth_day"
    assert reason in caught.value.reason


# Initiators and messages ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        (None, "non-empty"),
        (5, "non-empty"),
        ("shop\tsync", "control character"),
        ("shop\nsync", "control character"),
        ("x" * 201, "201 characters long"),
    ],
)
def test_bad_initiators_are_refused(value: object, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_initiator(value)
    assert caught.value.field == "initiator"
    assert reason in caught.value.reason


def test_an_initiator_is_stripped() -> None:
    assert validate_initiator("  shop-sync ") == "shop-sync"
    assert validate_initiator("x" * 200) == "x" * 200


@pytest.mark.parametrize(
    "value", ["Hi!", "Dear Zoë,\n\tthanks!\r\n", "", "  spaced  "]
)
def test_a_message_is_kept_exactly(value: str) -> None:
    assert validate_message(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("\x1b[31mred", "U+001B"),
        ("nul\x00", "U+0000"),
        ("lone \ud800", "U+D800"),
        (5, "expected a string, got int"),
    ],
)
def test_a_message_that_does_not_print_is_refused(
    value: object, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_message(value)
    assert caught.value.field == "message"
    assert reason in caught.value.reason

"""Check and normalise what a caller hands the client, before anything is
sent.

Every function either returns a clean value (stripped strings, ISO country
codes, digits-only phone numbers, zero-padded dates) or raises one of the
:class:`~amcards.core.errors.ValidationError` subclasses.  The error's
``field`` names the value the way the caller wrote it, down to the key and
the position in a list (``shipping_addresses[3]['city']``), and its
``reason`` says what is wrong.

Reasons about addresses never quote the values, dates and phone numbers
inside them included: addresses are personal data and error messages end
up in logs.  A date checked on its own (a send date) is quoted.

Nothing a caller sent is dropped silently: an unknown key or a value of the
wrong type is an error, never skipped and never converted.  The one thing
left out on purpose is an optional key whose value is empty, because the
service reads an empty value as "not given" anyway.

This module imports nothing outside the standard library and the package's
own errors and country table.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from amcards.core.countries import to_alpha_2
from amcards.core.errors import (
    DateFormatError,
    ExtraDataError,
    PhoneFormatError,
    ReturnAddressError,
    ShippingAddressError,
    ValidationError,
)

__all__ = [
    "CAMPAIGN_ADDRESS_KEYS",
    "MAX_ADDRESS_VALUE_LENGTH",
    "MAX_ID",
    "MAX_INITIATOR_LENGTH",
    "OPTIONAL_ADDRESS_KEYS",
    "REQUIRED_ADDRESS_KEYS",
    "RETURN_ADDRESS_KEYS",
    "STATE_COUNTRIES",
    "is_domestic",
    "is_header_token",
    "missing_address_fields",
    "needs_state",
    "normalize_country",
    "validate_birth_date",
    "validate_date",
    "validate_date_parts",
    "validate_extra_data",
    "validate_id",
    "validate_initiator",
    "validate_limit_skip",
    "validate_message",
    "validate_phone",
    "validate_return_address",
    "validate_shipping_address",
    "validate_shipping_addresses",
]

REQUIRED_ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "state",
    "postal_code",
)
#: The longest initiator accepted, in characters.
MAX_INITIATOR_LENGTH = 200
#: The largest id, offset or page size sent.  The service's ids are
#: 64-bit integers, so anything larger is a mistake caught before any
#: request.
MAX_ID = 2**63 - 1
#: The longest address value accepted, in characters; far more than any
#: envelope line holds, so only a mistake (a whole record pasted into one
#: field) is refused.
MAX_ADDRESS_VALUE_LENGTH = 200

#: Countries whose addresses must name a state, province or territory.
STATE_COUNTRIES = frozenset({"US", "CA", "AU"})
OPTIONAL_ADDRESS_KEYS = (
    "address_line_2",
    "country",
    "organization",
    "third_party_contact_id",
)
CAMPAIGN_ADDRESS_KEYS = ("phone_number", "birth_date", "anniversary_date")
RETURN_ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "state",
    "postal_code",
    "country",
)

_DATE_KEYS = frozenset({"birth_date", "anniversary_date"})
_PHONE_SEPARATORS = str.maketrans(dict.fromkeys(" .-()"))
_ASCII_DIGITS = frozenset("0123456789")


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _is_digits(text: str) -> bool:
    return bool(text) and set(text) <= _ASCII_DIGITS


def _key_field(field: str, key: object) -> str:
    return f"{field}[{key!r}]"


# Countries ---------------------------------------------------------------


def normalize_country(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for a country as typed.

    Codes, ISO names and common names are recognised in any case, with
    dots and surrounding spaces ("usa", "U.K.", "United States of America",
    "England", "Deutschland").  A value that names no known country is
    returned stripped but otherwise as typed.

    Raises:
        ValidationError: ``value`` is not a string.
    """
    if not isinstance(value, str):
        raise ValidationError(
            field="country",
            reason=f"expected a string, got {_type_name(value)}",
        )
    return to_alpha_2(value) or value.strip()


def is_domestic(
    country: str | None, domestic_countries: Iterable[str]
) -> bool:
    """Tell whether ``country`` is one of ``domestic_countries``.

    Both sides are normalised first, so "USA" matches "US".  None means
    the country is unknown and gives False: a caller that knows which
    country is meant when none is given (the user's own) passes it
    instead of None.
    """
    if country is None or not country.strip():
        return False
    wanted = normalize_country(country).upper()
    return any(
        normalize_country(item).upper() == wanted
        for item in domestic_countries
        if isinstance(item, str)
    )


# Dates and phones -------------------------------------------------------


def _date_from_parts(year: str, month: str, day: str) -> dt.date | None:
    if not all(map(_is_digits, (year, month, day))):
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _parse_iso_date(text: str) -> dt.date | None:
    """The date ``text`` spells as exactly 4-2-2 ASCII digits, or None."""
    parts = text.split("-")
    if len(parts) != 3 or [len(p) for p in parts] != [4, 2, 2]:
        return None
    return _date_from_parts(*parts)


def _check_date_type(value: object, field: str) -> str | None:
    """Return the ISO form of a date object, None for a string, or raise."""
    if isinstance(value, dt.datetime):
        raise DateFormatError(
            field=field,
            reason="got a datetime; pass a datetime.date (use .date())",
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise DateFormatError(
            field=field,
            reason=(
                "expected a 'YYYY-MM-DD' string or a datetime.date, "
                f"got {_type_name(value)}"
            ),
        )
    return None


def _quoted(value: str, quote: bool) -> str:
    return repr(value) if quote else "the value"


def validate_date(value: str | dt.date, field: str) -> str:
    """Return ``value`` as a "YYYY-MM-DD" string.

    A string must be exactly four, two and two digits separated by dashes
    (surrounding spaces are stripped) and name a real calendar date; no
    other format is reinterpreted.  A :class:`datetime.date` is accepted
    and written zero-padded; a :class:`datetime.datetime` is refused.

    Raises:
        DateFormatError: naming ``field``; the reason quotes the value.
    """
    return _check_date(value, field, quote=True)


def _check_date(value: object, field: str, *, quote: bool) -> str:
    from_object = _check_date_type(value, field)
    if from_object is not None:
        return from_object
    assert isinstance(value, str)

    text = value.strip()
    if _parse_iso_date(text) is None:
        raise DateFormatError(
            field=field,
            reason=(
                f"{_quoted(value, quote)} is not a real date written as "
                "YYYY-MM-DD"
            ),
        )
    return text


def validate_birth_date(value: str | dt.date, field: str) -> str:
    """Return a birth date as "YYYY-MM-DD", or as "MM-DD" without a year.

    "MM-DD" must be a day that exists in some year, so "02-29" is valid.
    Otherwise the rules of :func:`validate_date` apply.

    Raises:
        DateFormatError: naming ``field``; the reason quotes the value.
    """
    return _check_birth_date(value, field, quote=True)


def _check_birth_date(value: object, field: str, *, quote: bool) -> str:
    from_object = _check_date_type(value, field)
    if from_object is not None:
        return from_object
    assert isinstance(value, str)

    text = value.strip()
    parts = text.split("-")
    if [len(p) for p in parts] == [2, 2]:
        # 2000 is a leap year, so every day of every month exists in it.
        valid = _date_from_parts("2000", *parts) is not None
    else:
        valid = _parse_iso_date(text) is not None
    if not valid:
        raise DateFormatError(
            field=field,
            reason=(
                f"{_quoted(value, quote)} is not a real date written as "
                "YYYY-MM-DD or MM-DD"
            ),
        )
    return text


def validate_date_parts(
    year: str | int | None,
    month: str | int | None,
    day: str | int | None,
    field: str,
) -> tuple[str | None, str | None, str | None]:
    """Check a date given as separate year, month and day, as contacts
    keep birthdays and anniversaries.

    Each part may be left out (None or blank).  A part given is an int or
    a string of ASCII digits: the year has four digits, the month is 1 to
    12, the day 1 to 31, a day needs its month, and it must exist in
    that month (of that year when the year is given too, so "02-29"
    needs a leap year or no year).  Parts come back as strings of their
    digits, stripped, neither padded nor cut (the int 5 becomes "5"), and
    None for a part left out.

    Raises:
        DateFormatError: naming ``{field}_year``, ``{field}_month`` or
            ``{field}_day``; the reason quotes the value.
    """
    checked: list[str | None] = []
    numbers: list[int | None] = []
    for part, value, digits, low, high in (
        ("year", year, 4, 1, 9999),
        ("month", month, 2, 1, 12),
        ("day", day, 2, 1, 31),
    ):
        name = f"{field}_{part}"
        if value is None or (isinstance(value, str) and not value.strip()):
            checked.append(None)
            numbers.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise DateFormatError(
                field=name,
                reason=f"expected digits, got {_type_name(value)}",
            )
        text = value.strip() if isinstance(value, str) else str(value)
        size_ok = len(text) == digits if part == "year" else len(text) <= 2
        if not _is_digits(text) or not size_ok:
            shape = "four digits" if part == "year" else "one or two digits"
            raise DateFormatError(
                field=name, reason=f"{value!r} is not {shape}"
            )
        if not low <= int(text) <= high:
            raise DateFormatError(
                field=name, reason=f"{value!r} is not from {low} to {high}"
            )
        checked.append(text)
        numbers.append(int(text))
    y, m, d = numbers
    if d is not None and m is None:
        raise DateFormatError(
            field=f"{field}_day", reason="a day needs its month"
        )
    if m is not None and d is not None:
        try:
            dt.date(2000 if y is None else y, m, d)
        except ValueError:
            when = f"{m:02d}-{d:02d}" if y is None else f"{y}-{m:02d}-{d:02d}"
            raise DateFormatError(
                field=f"{field}_day", reason=f"{when} is not a real date"
            ) from None
    return checked[0], checked[1], checked[2]


def is_header_token(text: str) -> bool:
    """Whether ``text`` can stand in an ``Authorization`` header as a
    token: at least one character, none of them white space or a
    control character."""
    return bool(text) and not any(
        char.isspace() or not char.isprintable() for char in text
    )


def validate_initiator(value: object, field: str = "initiator") -> str:
    """Return the name of the sending integration, stripped.

    It must be a non-blank string of at most
    :data:`MAX_INITIATOR_LENGTH` characters, with no tabs, line breaks or
    other control characters (it is looked up by exact value later).

    Raises:
        ValidationError: naming ``field``.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            field=field, reason="expected a non-empty string"
        )
    text = value.strip()
    if len(text) > MAX_INITIATOR_LENGTH:
        raise ValidationError(
            field=field,
            reason=f"is {len(text)} characters long; at most "
            f"{MAX_INITIATOR_LENGTH} are accepted",
        )
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise ValidationError(
            field=field,
            reason="contains a tab, a line break or another control character",
        )
    return text


def validate_message(value: object, field: str = "message") -> str:
    """Return a card's message as given, once it is text that prints.

    Line breaks and tabs are kept; other control characters (an escape
    sequence pasted from a terminal, a NUL) and lone surrogates are
    refused.  Nothing is stripped or changed.

    Raises:
        ValidationError: naming ``field``.
    """
    if not isinstance(value, str):
        raise ValidationError(
            field=field, reason=f"expected a string, got {_type_name(value)}"
        )
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in "\n\r\t") or category == "Cs":
            raise ValidationError(
                field=field,
                reason=f"contains the control character U+{ord(char):04X}",
            )
    return value


def validate_phone(value: str, field: str) -> str:
    """Return a North American phone number as digits only.

    Spaces, dots, dashes, brackets and one leading "+" are removed first;
    what is left must be 10 digits, or 11 digits starting with 1.  The
    reason in an error never repeats the number.

    Raises:
        PhoneFormatError: naming ``field``.
    """
    if not isinstance(value, str):
        raise PhoneFormatError(
            field=field,
            reason=f"expected a string, got {_type_name(value)}",
        )
    text = value.strip()
    text = text.removeprefix("+").translate(_PHONE_SEPARATORS)

    if not _is_digits(text):
        reason = (
            "may contain only digits, spaces, dots, dashes, brackets "
            "and a leading +"
        )
    elif len(text) == 10 or (len(text) == 11 and text.startswith("1")):
        return text
    else:
        reason = f"has {len(text)} digits; expected 10, or 11 starting with 1"
    raise PhoneFormatError(field=field, reason=reason)


# Extra data and plain arguments ----------------------------------------


def validate_extra_data(
    value: Mapping[str, str] | None, field: str = "extra_data"
) -> dict[str, str]:
    """Return a copy of ``extra_data``: a mapping of strings to strings.

    None gives an empty dict.  Keys and values are kept exactly as given.

    Raises:
        ExtraDataError: ``value`` is not a mapping, or a key or value is
            not a string; the field names the key.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ExtraDataError(
            field=field,
            reason=f"expected a dict of strings, got {_type_name(value)}",
        )
    checked: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ExtraDataError(
                field=_key_field(field, key),
                reason="keys must be non-empty strings",
            )
        if not isinstance(item, str):
            raise ExtraDataError(
                field=_key_field(field, key),
                reason=f"expected a string, got {_type_name(item)}",
            )
        checked[key] = item
    return checked


def validate_id(value: int | str, field: str) -> str:
    """Return an object id as a string of digits.

    An id is a whole number from 1 to :data:`MAX_ID`, given as an int or
    as a string of ASCII digits (spaces around them are stripped, leading
    zeros dropped).

    Raises:
        ValidationError: naming ``field``.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _is_digits(value.strip()):
        text = value.strip().lstrip("0") or "0"
        number = int(text) if len(text) <= len(str(MAX_ID)) else MAX_ID + 1
    if number is None:
        raise ValidationError(
            field=field,
            reason=(
                "expected an int or a string of digits, "
                f"got {_type_name(value)} {value!r}"
            ),
        )
    if not 1 <= number <= MAX_ID:
        raise ValidationError(
            field=field, reason=f"ids run from 1 to {MAX_ID}, got {value!r}"
        )
    return str(number)


def validate_limit_skip(limit: int, skip: int) -> tuple[int, int]:
    """Return ``(limit, skip)`` once both are ints, limit from 1 and skip
    from 0, neither above :data:`MAX_ID`.

    Raises:
        ValidationError: naming ``limit`` or ``skip``.
    """
    for name, value, least in (("limit", limit, 1), ("skip", skip, 0)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                field=name,
                reason=f"expected an int, got {_type_name(value)}",
            )
        if not least <= value <= MAX_ID:
            raise ValidationError(
                field=name,
                reason=f"must be from {least} to {MAX_ID}, got {value}",
            )
    return limit, skip


# Addresses ---------------------------------------------------------------


def needs_state(country: object) -> bool:
    """Whether an address in ``country`` must name a state or province.

    Addresses in the countries of :data:`STATE_COUNTRIES`, and addresses
    with no country (taken to be domestic), need one; elsewhere, as in
    the United Kingdom, Germany or France, the state may be left blank.
    """
    if not isinstance(country, str) or not country.strip():
        return True
    return normalize_country(country) in STATE_COUNTRIES


def missing_address_fields(address: Mapping[str, Any]) -> list[str]:
    """Return the required shipping address keys that have no value.

    A key counts as missing when it is absent, None, or a string of only
    whitespace; ``state`` only counts where :func:`needs_state` says so.
    The keys come back in the order of :data:`REQUIRED_ADDRESS_KEYS`.
    """
    missing = []
    for key in REQUIRED_ADDRESS_KEYS:
        value = address.get(key)
        if key == "state" and not needs_state(address.get("country")):
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(key)
    return missing


def _wrong_type_reason(key: str, value: object) -> str:
    reason = f"expected a string, got {_type_name(value)}"
    if key == "postal_code" and isinstance(value, (int, float)):
        reason += (
            "; write the postal code as text: as a number it may already "
            "have lost a leading zero"
        )
    return reason


def _unknown_key_reason(key: object, allowed: Sequence[str]) -> str:
    if key in CAMPAIGN_ADDRESS_KEYS:
        return "only allowed on campaign sends"
    return f"unknown key; expected one of: {', '.join(allowed)}"


def _clean_address(
    address: object,
    field: str,
    allowed: Sequence[str],
    required: Sequence[str],
    error: type[ShippingAddressError],
) -> dict[str, Any]:
    """Check the shape and types of an address; return stripped values.

    Empty optional values are left out.  Date keys may hold date objects,
    which are passed on for the date check.
    """
    if not isinstance(address, Mapping):
        raise error(
            field=field,
            reason=f"expected a dict, got {_type_name(address)}",
        )
    for key in address:
        if key not in allowed:
            raise error(
                field=_key_field(field, key),
                reason=_unknown_key_reason(key, allowed),
            )

    cleaned: dict[str, Any] = {}
    for key in allowed:
        value = address.get(key)
        if value is None and key not in required:
            continue
        if key in _DATE_KEYS and isinstance(value, dt.date):
            cleaned[key] = value
            continue
        if not isinstance(value, str):
            if key not in address:
                continue
            raise error(
                field=_key_field(field, key),
                reason=_wrong_type_reason(key, value),
            )
        value = value.strip()
        problem = _text_problem(value)
        if problem:
            raise error(field=_key_field(field, key), reason=problem)
        if value:
            cleaned[key] = value
    return cleaned


def _text_problem(value: str) -> str | None:
    """Why an address value cannot be printed on a card, if it cannot."""
    if len(value) > MAX_ADDRESS_VALUE_LENGTH:
        return (
            f"is {len(value)} characters long; at most "
            f"{MAX_ADDRESS_VALUE_LENGTH} are accepted"
        )
    if "\t" in value:
        return "contains a tab"
    if any(unicodedata.category(char) == "Cc" for char in value):
        return "contains a line break or another control character"
    if any(unicodedata.category(char) == "Cs" for char in value):
        return "contains a lone surrogate, which is not text"
    return None


def validate_shipping_address(
    address: Mapping[str, Any],
    *,
    field: str = "shipping_address",
    campaign: bool = False,
) -> dict[str, str]:
    """Return a checked, normalised copy of a shipping address.

    Values must be strings (a postal code given as an int is refused, not
    converted: it may have lost a leading zero), with no tabs, line breaks
    or other control characters, and at most
    :data:`MAX_ADDRESS_VALUE_LENGTH` characters.  Surrounding whitespace is
    stripped from every value, optional keys with empty values (or None)
    are left out, and ``country`` becomes an ISO alpha-2 code when it
    names a known country (otherwise it is kept as typed).  With
    ``campaign=True`` the keys ``phone_number``, ``birth_date`` and
    ``anniversary_date`` are also allowed, and checked.  The copy's keys
    follow a fixed order: required, optional, campaign keys.

    Raises:
        ShippingAddressError: the address is not a dict, has an unknown
            key, a value that is not a string, or a required key missing
            or blank (``state`` may be blank outside
            :data:`STATE_COUNTRIES`).  The field names the key.
        PhoneFormatError, DateFormatError: a campaign key is malformed.
    """
    allowed: tuple[str, ...] = REQUIRED_ADDRESS_KEYS + OPTIONAL_ADDRESS_KEYS
    if campaign:
        allowed += CAMPAIGN_ADDRESS_KEYS
    cleaned = _clean_address(
        address, field, allowed, REQUIRED_ADDRESS_KEYS, ShippingAddressError
    )

    missing = missing_address_fields(cleaned)
    if missing:
        reason = "is required but missing or blank"
        if len(missing) > 1:
            reason += f" (also missing: {', '.join(missing[1:])})"
        raise ShippingAddressError(
            field=_key_field(field, missing[0]), reason=reason
        )
    return _normalise_values(cleaned, field)


def _normalise_values(
    cleaned: Mapping[str, Any], field: str
) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in cleaned.items():
        where = _key_field(field, key)
        if key == "country":
            value = normalize_country(value)
        elif key == "phone_number":
            value = validate_phone(value, where)
        elif key == "birth_date":
            value = _check_birth_date(value, where, quote=False)
        elif key == "anniversary_date":
            value = _check_date(value, where, quote=False)
        result[key] = value
    return result


def validate_shipping_addresses(
    addresses: Sequence[Mapping[str, Any]],
    *,
    field: str = "shipping_addresses",
    campaign: bool = False,
) -> list[dict[str, str]]:
    """Check every address in a list, as :func:`validate_shipping_address`.

    Error fields carry the position: ``shipping_addresses[3]['city']``.

    Raises:
        ShippingAddressError: ``addresses`` is not a non-empty list, or
            one of its addresses is invalid.
        PhoneFormatError, DateFormatError: a campaign key is malformed.
    """
    if isinstance(addresses, (str, bytes, Mapping)) or not isinstance(
        addresses, Sequence
    ):
        raise ShippingAddressError(
            field=field,
            reason=f"expected a list of dicts, got {_type_name(addresses)}",
        )
    if not addresses:
        raise ShippingAddressError(field=field, reason="the list is empty")
    return [
        validate_shipping_address(
            address, field=f"{field}[{index}]", campaign=campaign
        )
        for index, address in enumerate(addresses)
    ]


def validate_return_address(
    address: Mapping[str, Any] | None, field: str = "return_address"
) -> dict[str, str] | None:
    """Return a checked, normalised copy of a return address, or None.

    Every key is optional; the rules for values are those of
    :func:`validate_shipping_address` (strings only, stripped, empty ones
    left out, ``country`` normalised).

    Raises:
        ReturnAddressError: naming the key.
    """
    if address is None:
        return None
    cleaned = _clean_address(
        address, field, RETURN_ADDRESS_KEYS, (), ReturnAddressError
    )
    return _normalise_values(cleaned, field)

"""Reading request bodies and writing answers in the service's own words.

Everything here follows ``amcards-http-api.md`` directly; none of it is
shared with the client, so a wrong key on either side shows up as a
failing test instead of being mirrored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from amcards.core.http import Response

API = "/.api/v1/"

SHIPPING_REQUIRED = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "state",
    "postal_code",
)
SHIPPING_OPTIONAL = (
    "country",
    "organization",
    "third_party_contact_id",
    "address_line_2",
)
SHIPPING_KEYS = SHIPPING_REQUIRED + SHIPPING_OPTIONAL
CAMPAIGN_KEYS = ("phone_number", "birth_date", "anniversary_date")
RETURN_KEYS = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "state",
    "postal_code",
    "country",
)
RETURN_FIELDS = tuple(f"return_{key}" for key in RETURN_KEYS)

# The service compares countries by ISO code; these spellings of the
# United States are common enough in CRM exports to be worth accepting.
_COUNTRY_ALIASES = {
    "USA": "US",
    "U.S.": "US",
    "U.S.A.": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
}

# Digits are 0-9 only: str.isdigit() and int() also take "²", Arabic-Indic
# digits or "1_0", which no client means as a number.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_DAY = re.compile(r"[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")

#: How deeply a JSON body may nest arrays and objects.  The bodies of the
#: API and of the control API nest four levels at most; a deeper one is
#: refused as soon as it is read.
MAX_JSON_DEPTH = 32

#: The most digits a number read from text may have: those of the largest
#: 64-bit id or offset, and far from int()'s own limit.
MAX_DIGITS = 19


class Refusal(Exception):
    """An answer other than success, raised from deep inside a handler."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = tuple(headers)
        self.payload = payload

    def response(self) -> Response:
        payload = self.payload or {"message": self.message}
        return json_response(self.status, payload, headers=self.headers)


def bad_request(message: str) -> Refusal:
    return Refusal(400, message)


def json_response(
    status: int,
    payload: Any,
    *,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """A JSON answer: compact UTF-8 with a Content-Type header."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(
        status,
        (("Content-Type", "application/json"), *headers),
        body,
    )


def stamp(moment: dt.datetime | None) -> str | None:
    """A timestamp as the service writes it: ISO 8601, naive, no offset.

    Microseconds appear only when they are not zero
    (``2024-03-01T09:30:00`` or ``2024-03-01T09:30:00.250000``).
    """
    return None if moment is None else moment.isoformat()


def naive(moment: dt.datetime) -> dt.datetime:
    """``moment`` as a naive datetime (UTC when it carried an offset)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def as_datetime(
    value: dt.datetime | str | None, field: str = "timestamp"
) -> dt.datetime | None:
    """Accept a datetime or an ISO string (for seeding over JSON)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return naive(dt.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        raise ValueError(
            f"{field!r} must be an ISO date and time such as "
            f"2024-05-10T09:30:00, got {json.dumps(value, default=repr)}"
        ) from None


def country_code(value: str) -> str:
    """The upper-case code used to compare countries (aliases resolved)."""
    code = " ".join(value.split()).upper()
    return _COUNTRY_ALIASES.get(code, code)


def read_json_body(
    headers: Iterable[tuple[str, str]], body: bytes
) -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying what is wrong with it."""
    content_type = ""
    for name, value in headers:
        if name.lower() == "content-type":
            content_type = value
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise bad_request(
            "Expected a JSON body with Content-Type: application/json."
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The body is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_request(f"The body is not valid JSON: {exc}") from exc
    except ValueError:  # an integer longer than int() reads
        raise bad_request(
            "The body is not valid JSON: it holds a number too long to read."
        ) from None
    except RecursionError:
        data = None
        deep = True
    else:
        deep = too_deep(data)
    if deep:
        raise bad_request(
            f"The body is nested too deeply (more than {MAX_JSON_DEPTH} "
            "levels)."
        )
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object.")
    return data


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON data nests arrays and objects more than ``limit`` deep
    (counted without recursion, so any depth can be measured)."""
    waiting: list[tuple[Any, int]] = [(value, 1)]
    while waiting:
        item, depth = waiting.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        waiting.extend((child, depth + 1) for child in children)
    return False


def reject_unknown(
    data: Mapping[str, Any], allowed: Iterable[str], where: str = ""
) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        names = ", ".join(f"{where}{key}" for key in unknown)
        raise bad_request(f"Unknown field(s): {names}.")


def text(value: Any, field: str) -> str | None:
    """A string field: strings and numbers are taken, null is absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad_request(f"{field} must be a string.")
    return str(value).strip()


def whole_number(text: str) -> int | None:
    """``text`` as a number when it is ASCII digits 0-9 and nothing else
    (at most :data:`MAX_DIGITS` of them); None otherwise."""
    if len(text) > MAX_DIGITS or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def is_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits 0-9 and nothing else."""
    return _DIGITS.fullmatch(text) is not None


def read_id(data: Mapping[str, Any], field: str) -> int:
    """A required id given as a number or a string of digits."""
    value = data.get(field)
    if value is None or value == "":
        raise bad_request(f"{field} is required.")
    if isinstance(value, int) and not isinstance(value, bool):
        if value > 0:
            return value
    elif isinstance(value, str):
        number = whole_number(value.strip())
        if number is not None and number > 0:
            return number
    raise bad_request(f"{field} must be a positive whole number.")


def read_initiator(data: Mapping[str, Any]) -> str:
    value = text(data.get("initiator"), "initiator")
    if not value:
        raise bad_request("initiator is required.")
    return value


def read_day(value: Any, field: str) -> dt.date:
    """A date written ``YYYY-MM-DD``."""
    if not isinstance(value, str) or not _DAY.fullmatch(value.strip()):
        raise bad_request(f"{field} must be a date written YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise bad_request(f"{field} is not a real date: {value}.") from exc


def read_month_day(value: Any, field: str) -> tuple[int, int]:
    """A birth date: ``YYYY-MM-DD`` or ``MM-DD``; returns (month, day)."""
    if isinstance(value, str) and _MONTH_DAY.fullmatch(value.strip()):
        month, day = (int(part) for part in value.strip().split("-"))
        try:
            dt.date(2000, month, day)  # a leap year: 02-29 is fine
        except ValueError as exc:
            raise bad_request(f"{field} is not a real date.") from exc
        return month, day
    try:
        day_value = read_day(value, field)
    except Refusal:
        raise bad_request(
            f"{field} must be a date written YYYY-MM-DD or MM-DD."
        ) from None
    return day_value.month, day_value.day


def check_phone(value: str, field: str) -> str:
    """Digits only: 10 of them, or 11 starting with 1."""
    if not is_digits(value):
        raise bad_request(f"{field} must contain digits 0-9 only.")
    if len(value) == 10 or (len(value) == 11 and value.startswith("1")):
        return value
    raise bad_request(f"{field} must have 10 digits (or 11 starting with 1).")


# Countries whose addresses name a state or province, as people write
# them; elsewhere (the United Kingdom, Germany, France...) the state may
# be left out.  An address with no country counts as domestic (US).
STATE_COUNTRIES = frozenset(
    {
        "",
        "us",
        "usa",
        "united states",
        "united states of america",
        "ca",
        "can",
        "canada",
        "au",
        "aus",
        "australia",
    }
)


def missing_address_keys(address: Mapping[str, str]) -> list[str]:
    """The required address keys ``address`` lacks or leaves empty."""
    country = address.get("country", "").replace(".", "").strip().lower()
    return [
        key
        for key in SHIPPING_REQUIRED
        if not address.get(key)
        and (key != "state" or country in STATE_COUNTRIES)
    ]


def read_address(
    data: Mapping[str, Any],
    keys: Iterable[str],
    where: str = "",
) -> dict[str, str]:
    """The address keys of ``data`` (flat or nested), checked.

    Missing or empty required keys give one 400 that names all of them;
    phone numbers and dates are checked when present.
    """
    address: dict[str, str] = {}
    for key in keys:
        value = text(data.get(key), f"{where}{key}")
        if value:
            address[key] = value
    missing = missing_address_keys(address)
    if missing:
        names = ", ".join(f"{where}{key}" for key in missing)
        raise bad_request(f"Missing required address field(s): {names}.")
    if "phone_number" in address:
        check_phone(address["phone_number"], f"{where}phone_number")
    if "birth_date" in address:
        read_month_day(address["birth_date"], f"{where}birth_date")
    if "anniversary_date" in address:
        read_day(address["anniversary_date"], f"{where}anniversary_date")
    return address


def read_return_address(data: Mapping[str, Any]) -> dict[str, str]:
    """The ``return_<key>`` fields of a flat body, without the prefix."""
    found: dict[str, str] = {}
    for key in RETURN_KEYS:
        value = text(data.get(f"return_{key}"), f"return_{key}")
        if value:
            found[key] = value
    return found


def read_extra_data(value: Any, field: str = "extra_data") -> dict[str, str]:
    """An object of strings to strings (absent or null: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{field} must be an object of strings.")
    for key, item in value.items():
        if not isinstance(item, str):
            raise bad_request(f"{field}[{key!r}] must be a string.")
    return dict(value)


def read_flag(value: Any, field: str, default: bool) -> bool:
    """A yes/no field: JSON true/false or the strings "true"/"false"."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"{field} must be true or false.")


def dollars(cents: int) -> str:
    return f"${cents / 100:.2f}"

"""Reading a recipients file the way CRMs and spreadsheets write it.

A file goes through three steps.  Its bytes are decoded as UTF-8 (a byte
order mark is dropped); a file in another encoding is refused with the
line, and the place in it, where decoding failed.  Its header row is
matched against the usual spellings of each address field, ignoring
case, spaces and punctuation, so "First Name", "FirstName" and
"first_name" all mean ``first_name``; columns that match nothing are
reported rather than dropped silently.  Then each row is checked and
turned into a shipping address, and every problem is described in words
a person can act on, with the row's line number in the file.

Only the standard library and :mod:`amcards.core.validators` are used, so
importing this module stays cheap.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from amcards.core import validators
from amcards.core.countries import to_alpha_2
from amcards.core.errors import ValidationError

__all__ = [
    "FIELD_ALIASES",
    "FIELD_LABELS",
    "IGNORE",
    "LONG_LINE",
    "ColumnMap",
    "CsvInputError",
    "Recipient",
    "RecipientsFile",
    "Record",
    "Rejected",
    "check_record",
    "decode_csv_bytes",
    "field_for_header",
    "map_columns",
    "normalize_header",
    "parse_mapping",
    "read_recipients",
    "read_rows",
]

# The header spellings recognised for each field.  They are compared after
# normalize_header(), so each entry stands for all its case, space,
# underscore and punctuation variants.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("First Name", "Given Name"),
    "last_name": ("Last Name", "Surname", "Family Name"),
    "organization": (
        "Company",
        "Company Name",
        "Organization",
        "Organisation",
        "Account Name",
    ),
    "address_line_1": (
        "Street Address",
        "Street Address 1",
        "Address",
        "Address 1",
        "Address Line 1",
        "Mailing Street",
        "Street",
    ),
    "address_line_2": (
        "Address 2",
        "Address Line 2",
        "Street Address 2",
    ),
    "city": ("City", "Town", "Mailing City"),
    "state": (
        "State",
        "State/Region",
        "State/Province",
        "Province",
        "Mailing State",
    ),
    "postal_code": (
        "Zip",
        "Zip Code",
        "Postal Code",
        "Postcode",
        "Mailing Postal Code",
    ),
    "country": ("Country", "Country/Region", "Mailing Country"),
    "third_party_contact_id": (
        "Record ID",
        "Id",
        "Contact ID",
        "External ID",
        "Third Party Contact ID",
    ),
    "phone_number": ("Phone", "Phone Number", "Telephone"),
    "birth_date": ("Birthday", "Birth Date", "Date of Birth"),
}

# How each field is named in messages.
FIELD_LABELS: dict[str, str] = {
    "first_name": "first name",
    "last_name": "last name",
    "organization": "company",
    "address_line_1": "street address",
    "address_line_2": "second address line",
    "city": "city",
    "state": "state",
    "postal_code": "postal code",
    "country": "country",
    "third_party_contact_id": "record id",
    "phone_number": "phone",
    "birth_date": "birthday",
}

# The target of --map that drops a column on purpose.
IGNORE = "ignore"

# Address lines longer than this may not fit on the envelope.
LONG_LINE = 40

# Every row must say these; the file must have a column for each.
REQUIRED_FIELDS = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "postal_code",
)

# Countries whose addresses need a state or province.
COUNTRIES_WITH_STATES = frozenset({"US", "CA", "AU"})

_US_ZIP = re.compile(r"\d{5}(-\d{4})?")
_SHORT_US_ZIP = re.compile(r"(\d{3,4})(-\d{4})?")
_DATE_SHAPE = re.compile(r"(\d{4}-)?\d{1,2}-\d{1,2}")


class CsvInputError(Exception):
    """The file cannot be read as a recipients file; nothing was sent."""


def normalize_header(text: str) -> str:
    """Reduce a header to lower-case letters and digits for matching."""
    return "".join(char for char in text.casefold() if char.isalnum())


_ALIAS_INDEX: dict[str, str] = {
    normalize_header(alias): name
    for name, aliases in FIELD_ALIASES.items()
    for alias in (name, *aliases)
}


def field_for_header(header: str) -> str | None:
    """The field a header means by its spelling ("Zip Code" ->
    "postal_code"), or None when it means none.
    """
    return _ALIAS_INDEX.get(normalize_header(header))


# Step 1: bytes to rows ---------------------------------------------------


def decode_csv_bytes(data: bytes, name: str = "the file") -> str:
    """Decode a file's bytes as UTF-8, with or without a byte order mark.

    Raises:
        CsvInputError: the bytes are not UTF-8; the message gives the line
            of the first bad byte and its place in that line, counted in
            characters as an editor counts them.
    """
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        before = data[line_start : exc.start].decode("utf-8", "replace")
        bad = data[exc.start : exc.start + 1].hex().upper()
        raise CsvInputError(
            f"{name} is not UTF-8 text: line {line}, character "
            f"{len(before) + 1} (a byte 0x{bad}) cannot be decoded. Save "
            'it as "CSV UTF-8" (Excel) or export it as UTF-8 from your '
            "CRM, then try again."
        ) from exc


def _pick_dialect(text: str) -> type[csv.Dialect]:
    """Excel in some languages separates with ';' or tabs, not commas."""
    first_line = text.split("\n", 1)[0]
    if "," not in first_line:
        if ";" in first_line:

            class Semicolons(csv.excel):
                delimiter = ";"

            return Semicolons
        if "\t" in first_line:
            return csv.excel_tab
    return csv.excel


def read_rows(
    text: str, name: str = "the file"
) -> list[tuple[int, list[str]]]:
    """Split CSV text into rows, each with the line it starts on.

    Quoted fields may hold commas, quotes and line breaks; CRLF and LF
    line ends are both fine.  Rows with nothing in them are skipped.
    """
    reader = csv.reader(
        io.StringIO(text, newline=""), dialect=_pick_dialect(text)
    )
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CsvInputError(
            f"{name}, line {reader.line_num}: not valid CSV ({exc})"
        ) from exc
    if rows and reader.line_num > rows[-1][0]:
        _refuse_unclosed_quote(text, rows[-1][0], reader.line_num, name)
    return rows


def _refuse_unclosed_quote(
    text: str, first: int, last: int, name: str
) -> None:
    """Refuse a last row that runs to the end of the file because a quote
    opened on one of its lines is never closed (the csv module reads such
    a quote to the end, and every row after it would become one value).
    """
    start = 0
    for _ in range(first - 1):
        start = text.index("\n", start) + 1
    opened: int | None = None
    for position in range(start, len(text)):
        if text[position] == '"':
            opened = position if opened is None else None
    if opened is None:
        return
    line = text.count("\n", 0, opened) + 1
    raise CsvInputError(
        f'{name}: an unclosed quote (") on line {line} runs to the end of '
        f"the file, so lines {line + 1} to {last} would be read as part of "
        "one value; close or remove that quote"
    )


# Step 2: the header ------------------------------------------------------


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds which field, and which columns are not used."""

    headers: tuple[str, ...]
    fields: Mapping[int, str]
    ignored: tuple[str, ...]

    def column_of(self, name: str) -> str | None:
        """The header of the column mapped to field ``name``, if any."""
        for index, mapped in self.fields.items():
            if mapped == name:
                return self.headers[index]
        return None

    def describe(self, index: int) -> str:
        """How messages name a column: its header, with its position
        ("column 7", counting from 1) when the header is not unique."""
        return _describe_column(self.headers, index)


def _describe_column(headers: Sequence[str], index: int) -> str:
    header = headers[index]
    if not header:
        return f"(column {index + 1}, no header)"
    if headers.count(header) > 1:
        return f"{header!r} (column {index + 1})"
    return repr(header)


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """Read ``--map "CSV header=field"`` options into {header: field}.

    The field is a field name in any spelling ("postal_code", "Postal
    Code") or ``ignore`` to leave the column out.  The header may also be
    a column's position, "#1" for the first, for a file whose headers
    repeat.

    Raises:
        CsvInputError: an item has no "=" or names an unknown field.
    """
    known = {normalize_header(name): name for name in FIELD_ALIASES}
    known[normalize_header(IGNORE)] = IGNORE
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, target = item.partition("=")
        if not sep or not header.strip():
            raise CsvInputError(
                f'--map {item!r}: expected "CSV header=field", for '
                'example --map "Zip/Postal=postal_code"'
            )
        name = known.get(normalize_header(target))
        if name is None:
            raise CsvInputError(
                f"--map {item!r}: unknown field {target.strip()!r}; the "
                f"fields are {', '.join(FIELD_ALIASES)}, or {IGNORE!r} to "
                "leave the column out"
            )
        mapping[header.strip()] = name
    return mapping


def map_columns(
    headers: Sequence[str], overrides: Mapping[str, str] | None = None
) -> ColumnMap:
    """Match each header to a field; ``overrides`` come from --map.

    Raises:
        CsvInputError: an override names a column the file does not have,
            two columns mean the same field, or a required field has no
            column.
    """
    headers = tuple(header.strip() for header in headers)
    chosen: dict[int, str] = {}
    for header, name in (overrides or {}).items():
        index = _find_column(headers, header)
        chosen[index] = name

    fields: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        found = chosen.get(index) or field_for_header(header)
        if found is None or found == IGNORE:
            if header and headers.count(header) > 1:
                ignored.append(f"{header} (column {index + 1})")
            else:
                ignored.append(header or f"(column {index + 1}, no header)")
        else:
            fields[index] = found

    if not fields:
        found = ", ".join(repr(header) for header in headers) or "nothing"
        raise CsvInputError(
            f"no column header names an address field; the first row "
            f"holds {found}.  The first row must be the header row (First "
            "Name, Last Name, Street Address, City, Zip...); use --map "
            '"Your Header=field" for other spellings'
        )
    _refuse_duplicates(headers, fields)
    _require_columns(headers, fields)
    return ColumnMap(headers, fields, tuple(ignored))


_POSITION = re.compile(r"#(\d+)")


def _find_column(headers: Sequence[str], wanted: str) -> int:
    exact = [index for index, header in enumerate(headers) if header == wanted]
    matches = exact or [
        index
        for index, header in enumerate(headers)
        if normalize_header(header) == normalize_header(wanted)
    ]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        places = ", ".join(str(index + 1) for index in matches)
        raise CsvInputError(
            f"--map: {len(matches)} columns are called {wanted!r} "
            f"(columns {places}); name one by its position instead, for "
            f'example --map "#{matches[-1] + 1}={IGNORE}"'
        )
    position = _POSITION.fullmatch(wanted)
    if position is not None:
        number = int(position.group(1))
        if 1 <= number <= len(headers):
            return number - 1
        raise CsvInputError(
            f"--map: there is no column {wanted}; the file has "
            f"{len(headers)} columns, #1 to #{len(headers)}"
        )
    raise CsvInputError(
        f"--map: the file has no column {wanted!r}; its columns are "
        + ", ".join(repr(header) for header in headers)
    )


def _refuse_duplicates(
    headers: Sequence[str], fields: Mapping[int, str]
) -> None:
    seen: dict[str, int] = {}
    for index, name in fields.items():
        if name in seen:
            first = _describe_column(headers, seen[name])
            second = _describe_column(headers, index)
            if headers.count(headers[index]) > 1 or not headers[index]:
                handle = f"#{index + 1}"
            else:
                handle = headers[index]
            raise CsvInputError(
                f"columns {first} and {second} both look like the "
                f"{FIELD_LABELS[name]} ({name}); choose one with "
                f'--map "{handle}={IGNORE}" (or map it to another field)'
            )
        seen[name] = index


def _require_columns(
    headers: Sequence[str], fields: Mapping[int, str]
) -> None:
    present = set(fields.values())
    for name in REQUIRED_FIELDS:
        if name not in present:
            spellings = ", ".join(repr(a) for a in FIELD_ALIASES[name])
            found = ", ".join(repr(header) for header in headers)
            raise CsvInputError(
                f"the file has no column for the {FIELD_LABELS[name]} "
                f"(looked for {spellings}; its columns are {found}); name "
                f'yours with --map "Your Header={name}"'
            )


# Step 3: rows ------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One data row: the line it starts on and its values by field."""

    line: int
    values: Mapping[str, str]
    extra_cells: int = 0

    @property
    def name(self) -> str:
        """The person's name as the file spells it (may be empty)."""
        parts = (self.values.get("first_name"), self.values.get("last_name"))
        return " ".join(part for part in parts if part)

    @property
    def label(self) -> str:
        """How messages refer to the row, as in "line 9 (Noah Becker)"."""
        name = self.name
        return f"line {self.line} ({name})" if name else f"line {self.line}"


@dataclass(frozen=True)
class RecipientsFile:
    """A file read and mapped, its rows not yet checked."""

    columns: ColumnMap
    records: tuple[Record, ...]


def read_recipients(
    path: str | Path, overrides: Mapping[str, str] | None = None
) -> RecipientsFile:
    """Read, decode and map a recipients file.

    Raises:
        CsvInputError: the file is missing, not UTF-8, not CSV, empty, or
            its header cannot be mapped.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CsvInputError(f"cannot read {path}: {reason}") from exc

    rows = read_rows(decode_csv_bytes(data, str(path)), str(path))
    if not rows:
        raise CsvInputError(f"{path} is empty: no header row")
    (_, headers), body = rows[0], rows[1:]
    if not body:
        raise CsvInputError(f"{path} has a header row but no recipients")

    columns = map_columns(headers, overrides)
    records = tuple(_record(line, cells, columns) for line, cells in body)
    return RecipientsFile(columns, records)


def _record(line: int, cells: Sequence[str], columns: ColumnMap) -> Record:
    values = {
        name: cells[index].strip()
        for index, name in columns.fields.items()
        if index < len(cells) and cells[index].strip()
    }
    extra = cells[len(columns.headers) :]
    return Record(line, values, sum(1 for cell in extra if cell.strip()))


@dataclass(frozen=True)
class Recipient:
    """A row that passed every check: the address to send to."""

    line: int
    label: str
    address: dict[str, str]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """A row that will not be sent, and every reason why."""

    line: int
    label: str
    reasons: tuple[str, ...] = field(default=())


def check_record(
    record: Record, *, campaign: bool = False
) -> Recipient | Rejected:
    """Check one row and build its shipping address.

    A campaign send carries the phone and birthday to the service, so a
    phone that is not a 10-digit North American number rejects the row;
    a card send does not carry the phone, so there it is only a warning.
    A birthday that is not a real date rejects the row either way.
    """
    values = record.values
    reasons: list[str] = []
    warnings: list[str] = []
    if record.extra_cells:
        reasons.append(
            f"has {record.extra_cells} more value(s) than the header has "
            "columns (an unquoted comma?)"
        )

    country = _country_code(values.get("country", ""))
    if values.get("country") and to_alpha_2(values["country"]) is None:
        warnings.append(
            f"country {values['country']!r} is not a country name or code "
            "this tool knows; it is sent as typed (check the spelling)"
        )
    reasons.extend(_missing(values, country))
    reasons.extend(_postal_code_problems(values.get("postal_code"), country))
    warnings.extend(_long_lines(values))

    birthday, problem = _birth_date(values.get("birth_date"))
    if problem:
        reasons.append(problem)
    phone, problem = _phone(values.get("phone_number"))
    if problem and campaign:
        reasons.append(problem)
    elif problem:
        warnings.append(problem + "; a card send does not use the phone")

    if reasons:
        return Rejected(record.line, record.label, tuple(reasons))

    address = _address(values, campaign, phone, birthday)
    try:
        address = validators.validate_shipping_address(
            address, campaign=campaign
        )
    except ValidationError as exc:
        return Rejected(record.line, record.label, (_describe(exc),))
    return Recipient(record.line, record.label, address, tuple(warnings))


def _country_code(value: str) -> str:
    """The ISO code for a country as typed; no country means the US."""
    if not value:
        return "US"
    return validators.normalize_country(value).upper()


def _missing(values: Mapping[str, str], country: str) -> list[str]:
    wanted = list(REQUIRED_FIELDS)
    if country in COUNTRIES_WITH_STATES:
        wanted.insert(wanted.index("postal_code"), "state")
    problems = []
    for name in wanted:
        if not values.get(name):
            problem = f"the {FIELD_LABELS[name]} is missing"
            if name == "state":
                problem += f" (a {country} address needs one)"
            problems.append(problem)
    return problems


def _postal_code_problems(code: str | None, country: str) -> list[str]:
    if not code or country != "US" or _US_ZIP.fullmatch(code):
        return []
    short = _SHORT_US_ZIP.fullmatch(code)
    if short:
        digits = short.group(1)
        padded = digits.zfill(5) + (short.group(2) or "")
        lost = "its leading zero" if len(digits) == 4 else "leading zeros"
        return [
            f"postal code {code!r} for a US address has {len(digits)} "
            f"digits; it probably lost {lost} ({padded}?)"
        ]
    return [
        f"postal code {code!r} is not a US ZIP code (5 digits, or ZIP+4 "
        "like 12345-6789)"
    ]


def _long_lines(values: Mapping[str, str]) -> list[str]:
    warnings = []
    for name in ("address_line_1", "address_line_2"):
        value = values.get(name, "")
        if len(value) > LONG_LINE:
            warnings.append(
                f"the {FIELD_LABELS[name]} is {len(value)} characters "
                f"long (over {LONG_LINE}); it may be shortened or wrapped "
                "on the envelope"
            )
    return warnings


def _birth_date(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    try:
        return validators.validate_birth_date(value, "birth_date"), None
    except ValidationError:
        pass
    if _DATE_SHAPE.fullmatch(value):
        return None, f"birthday {value!r} is not a real date"
    return None, (
        f"birthday {value!r} is not a date in the form YYYY-MM-DD or MM-DD"
    )


def _phone(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    try:
        return validators.validate_phone(value, "phone_number"), None
    except ValidationError:
        return None, (
            f"phone {value!r} is not a 10-digit North American number"
        )


def _address(
    values: Mapping[str, str],
    campaign: bool,
    phone: str | None,
    birthday: str | None,
) -> dict[str, str]:
    keys = [
        "first_name",
        "last_name",
        "organization",
        "address_line_1",
        "address_line_2",
        "city",
        "state",
        "postal_code",
        "country",
        "third_party_contact_id",
    ]
    address = {key: values[key] for key in keys if values.get(key)}
    if campaign and phone:
        address["phone_number"] = phone
    if campaign and birthday:
        address["birth_date"] = birthday
    return address


def _describe(exc: ValidationError) -> str:
    """Say what the validator found, naming fields as people do."""
    reason = exc.reason or str(exc)
    where = exc.field or ""
    for name, label in FIELD_LABELS.items():
        if f"'{name}'" in where or where.endswith(name):
            return f"the {label}: {reason}"
    return reason

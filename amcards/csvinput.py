"""Reading a recipients file the way CRMs and spreadsheets write it.

A file goes through three steps.  Its bytes are decoded as UTF-8 (a byte
order mark is dropped); a file in another encoding is refused with the
line, and the place in it, where decoding failed.  Its header row is
matched against the usual spellings of each address field, ignoring
case, spaces and punctuation, so "First Name", "FirstName" and
"first_name" all mean ``first_name``; columns that match nothing are
reported rather than dropped silently.  Then each row is checked and
turned into a shipping address, and every problem is described in words
a person can act on, with the row's line number in the file: all of a
row's problems at once, each naming its field.  A value too long to read
(over :data:`MAX_CELL_LENGTH` characters) rejects its row alone.

Only the standard library and :mod:`amcards.core.validators` are used, so
importing this module stays cheap.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    "MAX_CELL_LENGTH",
    "ColumnMap",
    "CsvInputError",
    "Recipient",
    "RecipientsFile",
    "Record",
    "Rejected",
    "Row",
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
        "Organization Name",
        "Organisation Name",
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
    "city": ("City", "Town", "City/Town", "Mailing City"),
    "state": (
        "State",
        "State/Region",
        "State/Province",
        "Province/State",
        "State/County",
        "Province",
        "Mailing State",
        "Mailing State/Province",
    ),
    "postal_code": (
        "Zip",
        "Zip Code",
        "ZIP/Postal",
        "Zip/Postal Code",
        "Postal/Zip Code",
        "Postal Code",
        "Postcode",
        "Mailing Zip",
        "Mailing Zip Code",
        "Mailing Postal Code",
        "Mailing Zip/Postal Code",
    ),
    "country": (
        "Country",
        "Country/Region",
        "Country or Region",
        "Mailing Country",
    ),
    "third_party_contact_id": (
        "Record ID",
        "Id",
        "Contact ID",
        "External ID",
        "Third Party Contact ID",
    ),
    "phone_number": ("Phone", "Phone Number", "Telephone"),
    "birth_date": ("Birthday", "Birthdate", "Date of Birth", "DOB"),
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

#: A value longer than this many characters is not read, and its row is
#: rejected (the csv module's own default limit).
MAX_CELL_LENGTH = 131072

# Every row must say these; the file must have a column for each.
REQUIRED_FIELDS = (
    "first_name",
    "last_name",
    "address_line_1",
    "city",
    "postal_code",
)

# Why a row of each country of validators.STATE_COUNTRIES needs a state,
# in words: "a CA address" alone would read as Californian.
_STATE_NEEDED = {
    "US": "a US address needs one",
    "CA": "a Canadian (CA) address needs a province or territory",
    "AU": "an Australian (AU) address needs a state or territory",
}

_US_ZIP = re.compile(r"\d{5}(-\d{4})?")
_SHORT_US_ZIP = re.compile(r"(\d{3,4})(-\d{4})?")
_DATE_SHAPE = re.compile(r"(\d{4}-)?\d{1,2}-\d{1,2}")
# The control characters (Unicode category Cc) but the tab.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


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

    The bytes are decoded where they lie, without a copy, so a large file
    is held at most once as bytes and once as text.

    Raises:
        CsvInputError: the bytes are not UTF-8; the message gives the line
            of the first bad byte and its place in that line, counted in
            characters as an editor counts them.
    """
    for magic, what in _NOT_CSV:
        if data.startswith(magic):
            raise CsvInputError(
                f"{name} is {what}. Save it as "
                '"CSV UTF-8" (Excel) or export it as UTF-8 CSV from your '
                "CRM, then try again."
            )
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return str(memoryview(data)[skip:], "utf-8")
    except UnicodeDecodeError as exc:
        data = data[skip:]
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


_BOM = b"\xef\xbb\xbf"

# What a spreadsheet or a UTF-16 export starts with, and what to call it.
_NOT_CSV = (
    (b"PK\x03\x04", "a zipped file (an Excel .xlsx workbook?), not CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel .xls workbook, not CSV"),
    (b"\xff\xfe", "UTF-16 text, not UTF-8"),
    (b"\xfe\xff", "UTF-16 text, not UTF-8"),
)


def _pick_dialect(text: str) -> type[csv.Dialect]:
    """Excel in some languages separates with ';' or tabs, not commas."""
    end = text.find("\n")
    if end < 0:
        end = len(text)
    if text.find(",", 0, end) < 0:
        if text.find(";", 0, end) >= 0:

            class Semicolons(csv.excel):
                delimiter = ";"

            return Semicolons
        if text.find("\t", 0, end) >= 0:
            return csv.excel_tab
    return csv.excel


@dataclass(frozen=True)
class Row:
    """One row of a file, as the csv module would read it.

    ``line`` is the line it starts on.  A value longer than the limit
    (see :func:`read_rows`) is not read: its cell is empty, and
    ``too_long`` maps its position, counting from 0, to its length.
    """

    line: int
    cells: list[str]
    too_long: Mapping[int, int] = field(default_factory=dict)


class _Splitter:
    """Finds where each row and value of a file starts and ends.

    The rules are the csv module's for its "excel" dialects: a value that
    starts with a double quote runs to the next quote not doubled (line
    breaks and separators in between are part of it), and whatever
    follows that quote, up to the next separator, is added to it; a quote
    anywhere else is an ordinary character; a row ends at a line break
    (CR, LF or CRLF) outside quotes.  Matching is done by regular
    expressions in place, so a value of any length is measured without
    being copied.
    """

    def __init__(self, delimiter: str) -> None:
        d = re.escape(delimiter)

        def value(group: str) -> str:
            quoted = rf'"[^"]*(?:""[^"]*)*({group}"[^{d}\r\n]*)?'
            plain = rf'(?:[^"{d}\r\n][^{d}\r\n]*)?'
            return rf"(?:{quoted}|{plain})"

        self.delimiter = delimiter
        self.value = re.compile(value("?P<closed>"))
        one = value("?:")
        self.row = re.compile(rf"(?P<body>{one}(?:{d}{one})*)(?:\r\n|\r|\n)?")

    def values(
        self, text: str, start: int, end: int
    ) -> list[tuple[int, int, bool]]:
        """Each value of the row text[start:end] (without its line end):
        where it starts and ends, and whether it opens a quote that is
        never closed."""
        found = []
        position = start
        while True:
            match = self.value.match(text, position, end)
            assert match is not None  # the pattern matches even nothing
            unclosed = text.startswith('"', position) and not match["closed"]
            found.append((position, match.end(), unclosed))
            position = match.end()
            if position >= end:
                return found
            position += len(self.delimiter)


def _breaks(text: str, start: int, end: int) -> int:
    """How many line breaks (CR, LF or CRLF) text[start:end] holds."""
    return (
        text.count("\n", start, end)
        + text.count("\r", start, end)
        - text.count("\r\n", start, end)
    )


def _value_length(text: str, start: int, end: int) -> int:
    """How long a value is once its quotes are taken off."""
    if not text.startswith('"', start):
        return end - start
    return end - start - 1 - text.count('"', start, end) // 2


def read_rows(text: str, name: str = "the file") -> list[Row]:
    """Split CSV text into rows, each with the line it starts on.

    Quoted fields may hold commas, quotes and line breaks; CRLF and LF
    line ends are both fine.  Rows with nothing in them are skipped.  A
    value longer than :data:`MAX_CELL_LENGTH` characters (or the csv
    module's own limit, ``csv.field_size_limit()``, when that is lower)
    is not read: it is left empty and listed in the row's ``too_long``,
    so that only its row is rejected.  The csv module's limit is never
    changed.

    Raises:
        CsvInputError: a quote opened in the last row is never closed, so
            every line after it would be one value.
    """
    dialect = _pick_dialect(text)
    splitter = _Splitter(str(dialect.delimiter))
    limit = min(MAX_CELL_LENGTH, csv.field_size_limit())
    # The line each row starts on, and its values too long to read, in
    # the order the rows are handed to the csv module.
    handed: list[tuple[int, dict[int, int]]] = []

    def pieces() -> Iterator[str]:
        """The text of each row, for the csv module to read."""
        line, position, size = 1, 0, len(text)
        while position < size:
            match = splitter.row.match(text, position)
            assert match is not None  # the pattern matches even nothing
            end, after = match.end("body"), match.end()
            if after == position:  # cannot happen; never loop for ever
                raise CsvInputError(f"{name}, line {line}: not valid CSV")
            # Only a long row can hold a long value, and only the last row
            # can open a quote that is never closed.
            values: list[tuple[int, int, bool]] = []
            if end - position > limit or (
                end == size and text.find('"', position, end) >= 0
            ):
                values = splitter.values(text, position, end)
            if end == size and values and values[-1][2]:
                _refuse_unclosed_quote(text, line, position, values[-1], name)
            too_long = {
                index: length
                for index, (start, stop, _) in enumerate(values)
                if (length := _value_length(text, start, stop)) > limit
            }
            if too_long:
                piece = splitter.delimiter.join(
                    "" if index in too_long else text[start:stop]
                    for index, (start, stop, _) in enumerate(values)
                )
            else:
                piece = text[position:after]
            handed.append((line, too_long))
            yield piece
            # Only a quoted value can hold a line break.
            if text.find('"', position, end) >= 0:
                line += _breaks(text, position, end)
            if after > end:
                line += 1
            position = after

    rows: list[Row] = []
    try:
        for cells in csv.reader(pieces(), dialect=dialect):
            if len(handed) != 1:  # cannot happen: one piece, one row
                raise CsvInputError(
                    f"{name}, line {handed[0][0]}: not valid CSV"
                )
            line, too_long = handed.pop()
            if too_long or any(cell.strip() for cell in cells):
                rows.append(Row(line, cells, too_long))
    except csv.Error as exc:
        line = handed[-1][0] if handed else 1
        raise CsvInputError(
            f"{name}, line {line}: not valid CSV ({exc})"
        ) from exc
    return rows


def _refuse_unclosed_quote(
    text: str,
    line: int,
    row_start: int,
    value: tuple[int, int, bool],
    name: str,
) -> None:
    """Refuse a last row that runs to the end of the file because a quote
    opened in it is never closed (the csv module reads such a quote to
    the end, and every row after it would become one value).  A quote
    left open on the file's last line is read as the csv module reads it.
    """
    opened, end, _ = value
    quote_line = line + _breaks(text, row_start, opened)
    last = line + _breaks(text, row_start, end)
    if text.endswith(("\n", "\r")):
        last -= 1
    if last <= quote_line:
        return
    raise CsvInputError(
        f'{name}: an unclosed quote (") on line {quote_line} runs to the '
        f"end of the file, so lines {quote_line + 1} to {last} would be "
        "read as part of one value; close or remove that quote"
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
        CsvInputError: an item has no "=", names an unknown field, or
            maps a header that an earlier item mapped to another field.
    """
    known = {normalize_header(name): name for name in FIELD_ALIASES}
    known[normalize_header(IGNORE)] = IGNORE
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, target = item.partition("=")
        if not sep or not header.strip():
            raise CsvInputError(
                f'--map {item!r}: expected "CSV header=field", for '
                'example --map "Postleitzahl=postal_code"'
            )
        name = known.get(normalize_header(target))
        if name is None:
            raise CsvInputError(
                f"--map {item!r}: unknown field {target.strip()!r}; the "
                f"fields are {', '.join(FIELD_ALIASES)}, or {IGNORE!r} to "
                "leave the column out"
            )
        header = header.strip()
        earlier = mapping.setdefault(header, name)
        if earlier != name:
            raise _conflicting_maps(header, earlier, header, name, header)
    return mapping


def _conflicting_maps(
    first: str, first_name: str, second: str, second_name: str, column: str
) -> CsvInputError:
    return CsvInputError(
        f'--map "{first}={first_name}" and --map "{second}={second_name}" '
        f"both name the column {column!r} ({first_name}, then "
        f"{second_name}); give one --map per column"
    )


def map_columns(
    headers: Sequence[str], overrides: Mapping[str, str] | None = None
) -> ColumnMap:
    """Match each header to a field; ``overrides`` come from --map.

    Raises:
        CsvInputError: an override names a column the file does not have,
            two overrides name one column differently, two columns mean
            the same field, or a required field has no column.
    """
    headers = tuple(header.strip() for header in headers)
    chosen: dict[int, str] = {}
    given: dict[int, str] = {}  # the header each override was given as
    for header, name in (overrides or {}).items():
        index = _find_column(headers, header)
        earlier = chosen.setdefault(index, name)
        if earlier != name:
            raise _conflicting_maps(
                given[index], earlier, header, name, headers[index]
            )
        given.setdefault(index, header)

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
    overridden = {index: (given[index], chosen[index]) for index in given}
    _require_columns(headers, fields, overridden)
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
    headers: Sequence[str],
    fields: Mapping[int, str],
    overridden: Mapping[int, tuple[str, str]],
) -> None:
    """Refuse a file with no column for a required field.

    ``overridden`` gives, for each column --map named, the header it was
    named by and the field given; a column that means a missing field by
    its spelling but was left out or read as another field by --map is
    named as such.
    """
    present = set(fields.values())
    for name in REQUIRED_FIELDS:
        if name in present:
            continue
        for index, (header, target) in sorted(overridden.items()):
            if field_for_header(headers[index]) != name:
                continue
            if target == IGNORE:
                what = "left out"
            else:
                what = f"read as the {FIELD_LABELS[target]}"
            raise CsvInputError(
                f"the file has no column for the {FIELD_LABELS[name]}: "
                f"its column {_describe_column(headers, index)} is {what} "
                f'by --map "{header}={target}"; drop that --map, or name '
                f'the column to use with --map "Your Header={name}"'
            )
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
    """One data row: the line it starts on and its values by field.

    ``extra_cells`` counts the values after the last column;
    ``problems`` holds the reasons found while reading the row (a value
    too long to read), and ``unread`` the fields whose value was there
    but could not be read.
    """

    line: int
    values: Mapping[str, str]
    extra_cells: int = 0
    problems: tuple[str, ...] = ()
    unread: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        """The person's name as the file spells it (may be empty)."""
        parts = (self.values.get("first_name"), self.values.get("last_name"))
        return " ".join(part for part in parts if part)

    @property
    def label(self) -> str:
        """How messages refer to the row, as in "line 9 (Noah Becker)".

        Control characters in the name are shown escaped (``\\x1b``), so a
        file cannot send escape sequences to the terminal.
        """
        name = _shown(self.name)
        return f"line {self.line} ({name})" if name else f"line {self.line}"


def _shown(text: str) -> str:
    """``text`` with control characters and lone surrogates escaped."""
    if text.isprintable():
        return text
    return "".join(
        char
        if char.isprintable() or char == " "
        else char.encode("unicode_escape", "backslashreplace").decode("ascii")
        for char in text
    )


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
        CsvInputError: the name is empty or names a folder; the file is
            missing, not UTF-8, not CSV, empty, or its header cannot be
            mapped.
    """
    if not str(path).strip():  # Path("") would be the current folder
        raise CsvInputError("the recipients file name is empty")
    given = str(path)
    path = Path(path)
    if path.is_dir():
        raise CsvInputError(f"{given} is a folder, not a recipients file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CsvInputError(f"cannot read {path}: {reason}") from exc

    text = decode_csv_bytes(data, str(path))
    del data  # hold the file once, as text
    rows = read_rows(text, str(path))
    del text
    if not rows:
        raise CsvInputError(f"{path} is empty: no header row")
    header, body = rows[0], rows[1:]
    if header.too_long:
        length = max(header.too_long.values())
        raise CsvInputError(
            f"{path}, line {header.line}: the header row has a value "
            f"{length:,} characters long; the first row must be the header "
            "row (First Name, Last Name, Street Address, City, Zip...)"
        )
    if not body:
        raise CsvInputError(f"{path} has a header row but no recipients")

    columns = map_columns(header.cells, overrides)
    limit = min(MAX_CELL_LENGTH, csv.field_size_limit())
    records = tuple(_record(row, columns, limit) for row in body)
    return RecipientsFile(columns, records)


def _record(row: Row, columns: ColumnMap, limit: int) -> Record:
    cells = row.cells
    values = {
        name: cells[index].strip()
        for index, name in columns.fields.items()
        if index < len(cells) and cells[index].strip()
    }
    extra = cells[len(columns.headers) :]
    problems = []
    unread = set()
    for index, length in sorted(row.too_long.items()):
        name = columns.fields.get(index)
        if name is not None:
            unread.add(name)
            what = f"the {FIELD_LABELS[name]} is"
        elif index < len(columns.headers) and columns.headers[index]:
            what = (
                f"the {columns.describe(index)} column (not used) holds a "
                "value"
            )
        elif index < len(columns.headers):
            what = f"column {index + 1} (no header, not used) holds a value"
        else:
            what = "a value after the last column is"
        problems.append(
            f"{what} {length:,} characters long, too long to read (at "
            f"most {limit:,})"
        )
    return Record(
        row.line,
        values,
        sum(1 for cell in extra if cell.strip()),
        tuple(problems),
        frozenset(unread),
    )


@dataclass(frozen=True)
class Recipient:
    """A row that passed every check: the address to send to."""

    line: int
    label: str
    address: dict[str, str]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """A row that will not be sent, and every reason why.

    Each reason names the field it is about.  The row's warnings, which
    alone would not have stopped it, follow the reasons, each starting
    with "warning: ", so that the row can be put right in one go.
    """

    line: int
    label: str
    reasons: tuple[str, ...] = field(default=())


def check_record(
    record: Record, *, campaign: bool = False
) -> Recipient | Rejected:
    """Check one row and build its shipping address.

    Every check is made, so a rejected row lists all its problems, not
    only the first.  A campaign send carries the phone and birthday to
    the service, so a phone that is not a 10-digit North American number
    rejects the row; a card send does not carry the phone, so there it
    is only a warning.  A birthday that is not a real date rejects the
    row either way.
    """
    values = record.values
    reasons: list[str] = []
    warnings: list[str] = []
    if record.extra_cells:
        reasons.append(
            f"the row has {record.extra_cells} more value(s) than the "
            "header has columns (an unquoted comma?)"
        )
    reasons.extend(record.problems)

    country = _country_code(values.get("country", ""))
    if values.get("country") and to_alpha_2(values["country"]) is None:
        warnings.append(
            f"country {values['country']!r} is not a country name or code "
            "this tool knows; it is sent as typed (check the spelling)"
        )
    reasons.extend(_missing(values, country, record.unread))
    reasons.extend(_postal_code_problems(values.get("postal_code"), country))
    reasons.extend(_text_problems(values))
    warnings.extend(_long_lines(values))

    birthday, problem = _birth_date(values.get("birth_date"))
    if problem:
        reasons.append(problem)
    phone, problem = _phone(values.get("phone_number"))
    if problem and campaign:
        reasons.append(problem)
    elif problem:
        warnings.append(problem + " (a card send does not use the phone)")

    if reasons:
        reasons.extend(f"warning: {warning}" for warning in warnings)
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


def _missing(
    values: Mapping[str, str], country: str, unread: frozenset[str]
) -> list[str]:
    wanted = list(REQUIRED_FIELDS)
    if country in validators.STATE_COUNTRIES:
        wanted.insert(wanted.index("postal_code"), "state")
    problems = []
    for name in wanted:
        if not values.get(name) and name not in unread:
            problem = f"the {FIELD_LABELS[name]} is missing"
            if name == "state":
                problem += f" ({_STATE_NEEDED[country]})"
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


# The fields that go into the address on every send.
_ADDRESS_FIELDS = (
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
)


def _text_problems(values: Mapping[str, str]) -> list[str]:
    """Values the service would refuse to print: too long, or holding a
    tab, a line break or another control character (as
    :func:`~amcards.core.validators.validate_shipping_address` refuses
    them, named here in the file's own words)."""
    problems = []
    for name in _ADDRESS_FIELDS:
        value = values.get(name, "")
        label = FIELD_LABELS[name]
        if len(value) > validators.MAX_ADDRESS_VALUE_LENGTH:
            problems.append(
                f"the {label} is {len(value)} characters long (at most "
                f"{validators.MAX_ADDRESS_VALUE_LENGTH} are accepted)"
            )
        if "\t" in value:
            problems.append(f"the {label} contains a tab")
        if _CONTROL.search(value):
            problems.append(
                f"the {label} contains a line break or another control "
                "character"
            )
    return problems


def _long_lines(values: Mapping[str, str]) -> list[str]:
    warnings = []
    for name in ("address_line_1", "address_line_2"):
        value = values.get(name, "")
        if LONG_LINE < len(value) <= validators.MAX_ADDRESS_VALUE_LENGTH:
            warnings.append(
                f"the {FIELD_LABELS[name]} is {len(value)} characters "
                f"long (over {LONG_LINE}) and may be shortened or wrapped "
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
    address = {key: values[key] for key in _ADDRESS_FIELDS if values.get(key)}
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
            if reason.startswith(("is ", "contains ", "must ")):
                return f"the {label} {reason}"
            return f"the {label}: {reason}"
    return reason

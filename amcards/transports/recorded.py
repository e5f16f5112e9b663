"""Record exchanges to a cassette file, and answer from it later.

:class:`RecordingTransport` wraps any transport: each request goes through
it unchanged, and the request and its answer are kept as one entry of a
cassette, written to a readable JSON file on
:meth:`~RecordingTransport.close`.  :class:`ReplayTransport` answers from
such a file with no network at all, so a test can run against what a real
server once said.

Secrets never reach the file.  The ``Authorization`` header is left out,
cookies and headers named for tokens, secrets or API keys are replaced,
and the values of ``access_token``, ``refresh_token`` and
``client_secret`` (and ``password``) become ``"<redacted>"`` wherever
they appear, in requests and answers alike: in any body that parses as
JSON whatever its Content-Type, in a query, a form, and as ``name=value``
or ``"name": "value"`` inside any other text (URLs in headers and bodies
too).  In a query, a form or a URL an OAuth ``code`` is redacted as well.
A body of the token endpoint that is neither JSON nor a form is replaced
whole by ``"<redacted>"``.

With ``mask_personal=True`` the recipients' names, address lines, phone
numbers, emails, organizations, notes and birth and anniversary dates
become ``"<masked>"`` too (numbers become 0), so a cassette can be
shared.  A field is known by its name
with or without the ``ship_to_``/``return_`` prefixes and a Django
lookup (``ship_to_last_name__iexact``), in JSON bodies, forms, queries
and as a parameter of a URL anywhere (``meta.next``); email addresses
inside any text are masked as well.  The ``send_date`` of a card sent by
a campaign is masked too, since a birthday drip mails on the birthday.

Bodies are stored in the most readable form that fits: JSON bodies as
JSON, form bodies as a list of fields, other UTF-8 text as text, anything
else as base64.  A body labelled as something else that parses as JSON
is kept as it came unless cleaning changed it; then it is stored as
JSON.  A replayed JSON body is written back compactly, so it equals the
recorded one as JSON but not always byte for byte.

A replayed request must match the next unused entry on method, path,
query and body, compared after the same redaction and masking; headers
are not compared.  ``any_order=True`` takes the first unused entry that
matches instead.  A request that matches nothing raises
:class:`amcards.core.errors.ReplayMismatchError`.  A cassette is checked
whole when it is loaded, so a hand-edited file that is broken fails then,
with an error naming the file, the entry and the field.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from amcards.core.errors import (
    CassetteError,
    ReplayMismatchError,
    ValidationError,
)
from amcards.core.http import Headers, Request, Response, Timeout
from amcards.transports.base import Transport

__all__ = [
    "CASSETTE_VERSION",
    "MASKED",
    "PERSONAL_FIELDS",
    "REDACTED",
    "SECRET_FIELDS",
    "RecordingTransport",
    "ReplayTransport",
]

CASSETTE_VERSION = 1
REDACTED = "<redacted>"
MASKED = "<masked>"

SECRET_FIELDS = frozenset(
    {"access_token", "refresh_token", "client_secret", "password"}
)
# In a query, a form or a URL, and in any body of the token endpoint, an
# OAuth authorization ``code`` is a secret too.
_PARAMETER_SECRETS = SECRET_FIELDS | {"code"}
_TOKEN_PATH = "/oauth2/token"
_DROPPED_HEADERS = ("authorization",)
_REDACTED_HEADERS = ("cookie", "token", "secret", "api-key", "apikey")

_PERSONAL_NAMES = frozenset(
    {
        "first_name",
        "last_name",
        "address_line_1",
        "address_line_2",
        "address_line_3",
        "line_1",
        "line_2",
        "phone",
        "phone_number",
        "email",
        "email_address",
        "birth_date",
        "birth_year",
        "birth_month",
        "birth_day",
        "anniversary_date",
        "anniversary_year",
        "anniversary_month",
        "anniversary_day",
        "organization",
        "notes",
    }
)
_PERSONAL_PREFIXES = ("", "ship_to_", "return_to_", "return_")
PERSONAL_FIELDS = frozenset(
    prefix + name for prefix in _PERSONAL_PREFIXES for name in _PERSONAL_NAMES
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# ``name=value`` as in a query, a form or a URL, anywhere in a text.
_PARAMETER = re.compile(
    r"(?<![\w.%-])(?P<name>[\w.%-]+)=(?P<value>[^&#;?\s\"'<>]*)"
)
# ``"name": "value"`` (or with single quotes), as JSON or Python writes it.
_QUOTED_FIELD = re.compile(
    r"(?P<quote>[\"'])(?P<name>[\w.-]+)(?P=quote)(?P<colon>\s*:\s*)"
    r"(?P<open>[\"'])(?P<value>(?:\\.|(?!(?P=open))[^\\])*)(?P=open)"
)

_PathLike = str | os.PathLike[str]
_Json = Any


# Cleaning: what may be written down -------------------------------------


class _Cleaner:
    """Replaces secrets, and personal fields if asked, in stored values.

    ``secrets`` are the field names redacted in JSON bodies; queries,
    forms and URLs always redact :data:`_PARAMETER_SECRETS`.
    """

    def __init__(
        self, mask_personal: bool, secrets: frozenset[str] = SECRET_FIELDS
    ) -> None:
        self.mask_personal = mask_personal
        self.secrets = secrets

    def field(
        self, key: str, value: _Json, secrets: frozenset[str] | None = None
    ) -> _Json:
        """The value to store for ``value`` found under ``key``."""
        name = key.lower()
        if name in (self.secrets if secrets is None else secrets):
            return REDACTED if value not in (None, "") else value
        if self.mask_personal and _is_personal(name):
            return _mask(value)
        return self.value(value)

    def value(self, value: _Json) -> _Json:
        """``value`` with every field inside it cleaned."""
        if isinstance(value, dict):
            cleaned = {k: self.field(str(k), v) for k, v in value.items()}
            if self.mask_personal and _is_drip_card(value):
                cleaned["send_date"] = _mask(value["send_date"])
            return cleaned
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            if self.mask_personal and _EMAIL.fullmatch(value.strip()):
                return MASKED
            return self.text(value)
        return value

    def text(self, text: str) -> str:
        """``text`` with parameters and quoted fields in it cleaned."""
        if "=" in text:
            text = _PARAMETER.sub(self._parameter, text)
        if ":" in text:
            text = _QUOTED_FIELD.sub(self._quoted_field, text)
        if self.mask_personal and "@" in text:
            text = _EMAIL_IN_TEXT.sub(MASKED, text)
        return text

    def _parameter(self, match: re.Match[str]) -> str:
        name, value = unquote_plus(match["name"]), unquote_plus(match["value"])
        marker = self._marker(name, value)
        return match[0] if marker is None else f"{match['name']}={marker}"

    def _quoted_field(self, match: re.Match[str]) -> str:
        marker = self._marker(match["name"], match["value"])
        if marker is None:
            return match[0]
        quote, opening = match["quote"], match["open"]
        return (
            f"{quote}{match['name']}{quote}{match['colon']}"
            f"{opening}{marker}{opening}"
        )

    def _marker(self, name: str, value: str) -> str | None:
        """What replaces ``value`` of a field found in text, or None."""
        if not value or value in (REDACTED, MASKED):
            return None
        if name.lower() in _PARAMETER_SECRETS:
            return REDACTED
        if self.mask_personal and (
            _is_personal(name) or _EMAIL.fullmatch(value.strip())
        ):
            return MASKED
        return None

    def pairs(self, pairs: Headers) -> list[list[str]]:
        """Query or form fields, cleaned, as a list of ``[name, value]``."""
        return [
            [name, self.field(name, value, _PARAMETER_SECRETS)]
            for name, value in pairs
        ]

    def headers(self, headers: Headers) -> list[list[str]]:
        """Headers without credentials, as a list of ``[name, value]``."""
        kept = []
        for name, value in headers:
            lowered = name.lower()
            if any(part in lowered for part in _DROPPED_HEADERS):
                continue
            if any(part in lowered for part in _REDACTED_HEADERS):
                value = REDACTED
            kept.append([name, self.text(value)])
        return kept

    def for_path(self, path: str) -> _Cleaner:
        """The cleaner for bodies sent to or from ``path``."""
        if _is_token_path(path):
            return _Cleaner(self.mask_personal, _PARAMETER_SECRETS)
        return self

    def body(self, body: bytes, content_type: str | None, path: str) -> _Json:
        """The stored form of ``body`` (see the module's docstring)."""
        if not body:
            return None
        if _is_token_path(path):
            return self.for_path(path).secret(body)
        kind = (content_type or "").split(";")[0].strip().lower()
        labelled_json = (
            kind == "application/json" or kind.endswith("+json") or not kind
        )
        parsed = _parse_json(body)
        if parsed is not _NOT_JSON:
            cleaned = self.value(parsed)
            if labelled_json or cleaned != parsed:
                return {"json": cleaned}
        if kind == "application/x-www-form-urlencoded":
            fields = _parse_form(body)
            if fields is not None:
                return {"form": self.pairs(fields)}
        try:
            return {"text": self.text(body.decode("utf-8"))}
        except UnicodeDecodeError:
            # Latin-1 maps every byte to one character and back.
            text = self.text(body.decode("latin-1")).encode("latin-1")
            return {"base64": base64.b64encode(text).decode("ascii")}

    def secret(self, body: bytes) -> _Json:
        """A body of the token endpoint: JSON, a form, or nothing at all."""
        parsed = _parse_json(body)
        if parsed is not _NOT_JSON:
            return {"json": self.value(parsed)}
        fields = _parse_form(body)
        if fields is not None:
            return {"form": self.pairs(fields)}
        return {"text": REDACTED}

    def path(self, path: str) -> str:
        """``path``, with any query written into it cleaned."""
        head, mark, query = path.partition("?")
        return head + mark + self.text(query) if mark else path

    def request(self, request: Request) -> dict[str, _Json]:
        return {
            "method": request.method.upper(),
            "path": self.path(request.path),
            "query": self.pairs(request.query),
            "headers": self.headers(request.headers),
            "body": self.body(
                request.body, request.header("Content-Type"), request.path
            ),
        }

    def stored_request(self, stored: dict[str, _Json]) -> dict[str, _Json]:
        """A request from a cassette, cleaned again as it would be now.

        Cleaning what is already clean changes nothing, so this only
        matters for entries written by an older recorder or by hand.
        """
        path, body = stored["path"], stored["body"]
        if body is not None and "json" in body:
            body = {"json": self.for_path(path).value(body["json"])}
        elif body is not None and "form" in body:
            body = {"form": self.pairs(_as_pairs(body["form"]))}
        else:
            content_type = _find(stored["headers"], "content-type")
            body = self.body(_body_bytes(body), content_type, path)
        return {
            "method": stored["method"],
            "path": self.path(path),
            "query": self.pairs(_as_pairs(stored["query"])),
            "headers": stored["headers"],
            "body": body,
        }

    def response(self, response: Response, path: str) -> dict[str, _Json]:
        return {
            "status": response.status,
            "headers": self.headers(response.headers),
            "body": self.body(
                response.body, response.header("Content-Type"), path
            ),
        }


_NOT_JSON = object()


def _parse_json(body: bytes) -> _Json:
    """``body`` read as JSON, or ``_NOT_JSON``."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except ValueError:
        return _NOT_JSON


def _refuse_constant(name: str) -> None:
    """NaN and Infinity are not JSON; such a body is kept as it came."""
    raise ValueError(f"{name} is not JSON")


def _parse_form(body: bytes) -> Headers | None:
    """``body`` read as a form-encoded body, or None."""
    try:
        fields = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True
        )
    except ValueError:
        return None
    return tuple(fields)


def _as_pairs(pairs: list[list[str]]) -> Headers:
    return tuple((name, value) for name, value in pairs)


def _find(pairs: list[list[str]], name: str) -> str | None:
    """The value of the first pair called ``name`` (any case), or None."""
    for key, value in pairs:
        if key.lower() == name:
            return value
    return None


def _is_token_path(path: str) -> bool:
    return path.partition("?")[0].rstrip("/").endswith(_TOKEN_PATH)


def _is_personal(name: str) -> bool:
    """Whether a field, or a filter such as ``last_name__iexact``, is."""
    return any(part in PERSONAL_FIELDS for part in name.lower().split("__"))


def _is_drip_card(obj: dict[Any, _Json]) -> bool:
    """A card a campaign sent, whose send date may be a birthday."""
    return "send_date" in obj and obj.get("campaign_pk") not in (None, "")


def _mask(value: _Json) -> _Json:
    if isinstance(value, bool) or value is None or value == "":
        return value
    if isinstance(value, int | float):
        return 0
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    return MASKED


def _body_bytes(stored: _Json) -> bytes:
    """The bytes a stored body stands for."""
    if stored is None:
        return b""
    if "json" in stored:
        text = json.dumps(
            stored["json"], ensure_ascii=False, separators=(",", ":")
        )
        return text.encode("utf-8")
    if "form" in stored:
        return urlencode([tuple(pair) for pair in stored["form"]]).encode()
    if "text" in stored:
        return str(stored["text"]).encode("utf-8")
    # The cassette was checked on loading: base64 is the one form left.
    return base64.b64decode(stored["base64"], validate=True)


# Files ------------------------------------------------------------------


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _dump_cassette(exchanges: list[dict[str, _Json]], masked: bool) -> str:
    cassette = {
        "amcards_cassette": CASSETTE_VERSION,
        "mask_personal": masked,
        "exchanges": exchanges,
    }
    return json.dumps(cassette, indent=2, ensure_ascii=False) + "\n"


def _cassette_path(path: _PathLike) -> Path:
    """Where a recorder may write its cassette (its folder is made when
    missing), checked before any request goes out, so that no recording
    is made only to be lost at close."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ValidationError(
            field="path", reason="give the path of the cassette file"
        )
    target = Path(path)
    if target.is_dir():
        raise ValidationError(
            field="path", reason=f"{target} is a folder, not a file"
        )
    return target


def _load_cassette(path: Path) -> tuple[list[dict[str, _Json]], bool]:
    """The entries and the masking of the cassette at ``path``, checked.

    Raises:
        CassetteError: The file is not a cassette this package reads,
            or an entry of it is broken; the message names the file, the
            entry and the field.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _Broken(None, "there is no such file").error(path) from None
    except IsADirectoryError:
        raise _Broken(None, "it is a folder, not a file").error(path) from None
    except OSError as exc:
        reason = f"it cannot be read: {exc.strerror or exc}"
        raise _Broken(None, reason).error(path) from exc
    cassette = _read_json(path, raw)
    try:
        exchanges, masked = _check_cassette(cassette)
    except _Broken as broken:
        raise broken.error(path) from None
    for index, exchange in enumerate(exchanges):
        try:
            _check_exchange(exchange, f"exchanges[{index}]")
        except _Broken as broken:
            raise broken.error(path, index + 1, len(exchanges)) from None
    return exchanges, masked


class _Broken(Exception):
    """What is wrong with one field of a cassette, found while checking."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    def error(
        self, path: Path, entry: int | None = None, entries: int = 0
    ) -> CassetteError:
        """The error to raise, naming the file and the entry."""
        where = None if entry is None else f"entry {entry} of {entries}"
        parts = [str(path), where, self.field, self.reason]
        message = ": ".join(part for part in parts if part)
        return CassetteError(
            message,
            field=self.field,
            reason=self.reason,
            file=str(path),
            entry=entry,
        )


def _read_json(path: Path, raw: bytes) -> _Json:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"the file is not UTF-8 text (at byte {exc.start})"
        raise _Broken(None, reason).error(path) from exc
    if not text.strip():
        raise _Broken(None, "the file is empty").error(path)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        reason = (
            f"the file is not JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        )
        raise _Broken(None, reason).error(path) from exc
    except ValueError as exc:
        reason = f"the file is not JSON: {exc}"
        raise _Broken(None, reason).error(path) from exc


def _check_cassette(cassette: _Json) -> tuple[list[_Json], bool]:
    if not isinstance(cassette, dict):
        kind = _json_kind(cassette)
        raise _Broken(
            None, f"the file is not a cassette: it holds {kind}, not an object"
        )
    if "amcards_cassette" not in cassette:
        raise _Broken(
            "amcards_cassette", "is missing: this is not an amcards cassette"
        )
    version = cassette["amcards_cassette"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise _Broken(
            "amcards_cassette",
            f"must be the whole number {CASSETTE_VERSION}, "
            f"not {_shown(version)}",
        )
    if version != CASSETTE_VERSION:
        raise _Broken(
            "amcards_cassette",
            f"is version {version}; this package reads version "
            f"{CASSETTE_VERSION}",
        )
    _check_keys(
        cassette,
        "",
        ("amcards_cassette", "exchanges"),
        optional=("mask_personal",),
    )
    masked = cassette.get("mask_personal", False)
    if not isinstance(masked, bool):
        raise _Broken(
            "mask_personal", f"must be true or false, not {_shown(masked)}"
        )
    exchanges = cassette["exchanges"]
    if not isinstance(exchanges, list):
        raise _Broken(
            "exchanges", f"must be a list of entries, not {_shown(exchanges)}"
        )
    return exchanges, masked


def _check_keys(
    obj: dict[str, _Json],
    where: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> None:
    """``obj`` holds every ``required`` key, and no unknown one."""
    for name in required:
        if name not in obj:
            raise _Broken(_join(where, name), "is missing")
    allowed = (*required, *optional)
    for name in obj:
        if name not in allowed:
            raise _Broken(
                _join(where, name),
                f"is an unknown key; expected {', '.join(allowed)}",
            )


_REQUEST_KEYS = ("method", "path", "query", "headers", "body")
_RESPONSE_KEYS = ("status", "headers", "body")
_BODY_FORMS = ("json", "form", "text", "base64")
# An HTTP method is a token; the recorder writes it in capitals.
_METHOD = re.compile(r"[A-Z0-9!#$%&'*+.^_`|~-]+")


def _check_exchange(exchange: _Json, where: str) -> None:
    _check_object(exchange, where, "an entry")
    _check_keys(exchange, where, ("request", "response"))
    request, response = exchange["request"], exchange["response"]
    _check_object(request, f"{where}.request", "a request")
    _check_keys(request, f"{where}.request", _REQUEST_KEYS)
    _check_object(response, f"{where}.response", "a response")
    _check_keys(response, f"{where}.response", _RESPONSE_KEYS)
    _check_request(request, f"{where}.request")
    _check_response(response, f"{where}.response")


def _check_request(request: dict[str, _Json], where: str) -> None:
    method = request["method"]
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise _Broken(
            f"{where}.method",
            'must be an HTTP method in capitals, such as "GET", '
            f"not {_shown(method)}",
        )
    if not isinstance(request["path"], str):
        raise _Broken(
            f"{where}.path", f"must be text, not {_shown(request['path'])}"
        )
    _check_pairs(request["query"], f"{where}.query")
    _check_pairs(request["headers"], f"{where}.headers")
    _check_body(request["body"], f"{where}.body")


def _check_response(response: dict[str, _Json], where: str) -> None:
    status = response["status"]
    if (
        isinstance(status, bool)
        or not isinstance(status, int)
        or not 100 <= status <= 599
    ):
        raise _Broken(
            f"{where}.status",
            "must be an HTTP status, a whole number from 100 to 599, "
            f"not {_shown(status)}",
        )
    _check_pairs(response["headers"], f"{where}.headers")
    _check_body(response["body"], f"{where}.body")


def _check_pairs(pairs: _Json, where: str) -> None:
    if not isinstance(pairs, list):
        raise _Broken(
            where,
            f"must be a list of [name, value] pairs, not {_shown(pairs)}",
        )
    for index, pair in enumerate(pairs):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(part, str) for part in pair)
        ):
            raise _Broken(
                f"{where}[{index}]",
                f"must be a [name, value] pair of text, not {_shown(pair)}",
            )


def _check_body(body: _Json, where: str) -> None:
    if body is None:
        return
    forms = ", ".join(_BODY_FORMS)
    if not isinstance(body, dict):
        raise _Broken(
            where,
            f"must be null or an object with one of {forms}, "
            f"not {_shown(body)}",
        )
    unknown = [name for name in body if name not in _BODY_FORMS]
    if unknown:
        raise _Broken(
            where,
            f"has an unknown form {_shown(unknown[0])}; expected one of "
            f"{forms}",
        )
    if len(body) != 1:
        raise _Broken(
            where,
            f"must hold exactly one of {forms}, not {', '.join(body)}",
        )
    form, value = next(iter(body.items()))
    if form == "form":
        _check_pairs(value, f"{where}.form")
    elif form in ("text", "base64") and not isinstance(value, str):
        raise _Broken(f"{where}.{form}", f"must be text, not {_shown(value)}")
    elif form == "base64":
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            raise _Broken(
                f"{where}.base64", "is not valid base64 text"
            ) from None


def _check_object(value: _Json, where: str, what: str) -> None:
    if not isinstance(value, dict):
        raise _Broken(
            where, f"must be {what}, a JSON object, not {_shown(value)}"
        )


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _json_kind(value: _Json) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if value is None:
        return "null"
    return "a JSON " + ("boolean" if isinstance(value, bool) else "number")


def _shown(value: _Json, limit: int = 40) -> str:
    """``value`` as JSON writes it, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# Recording --------------------------------------------------------------


class RecordingTransport:
    """Sends through ``inner`` and records each exchange to ``path``.

    Args:
        inner: The transport that really sends.
        path: The cassette file; written (replacing any older one) on
            :meth:`close`, on leaving a ``with`` block, or by :meth:`save`.
        mask_personal: Also mask recipients' personal fields in the file.
        close_inner: Close ``inner`` when this transport closes.

    The caller always gets the real answer; only the file is cleaned.
    Failures raised by ``inner`` are passed on and not recorded.
    """

    def __init__(
        self,
        inner: Transport,
        path: _PathLike,
        *,
        mask_personal: bool = False,
        close_inner: bool = True,
    ) -> None:
        self._inner = inner
        self._path = _cassette_path(path)
        self._cleaner = _Cleaner(mask_personal)
        self._close_inner = close_inner
        self._exchanges: list[dict[str, _Json]] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def path(self) -> Path:
        """Where the cassette is written."""
        return self._path

    @property
    def ledger_server(self) -> str | None:
        """The inner transport's ``ledger_server``, if it names one: a
        recording of a fake is still a fake for a send ledger (see
        :func:`amcards.ledger.server_of`)."""
        named = getattr(self._inner, "ledger_server", None)
        return named if isinstance(named, str) else None

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        """Send ``request`` through the inner transport and record it."""
        response = self._inner.send(request, timeout=timeout)
        exchange = {
            "request": self._cleaner.request(request),
            "response": self._cleaner.response(response, request.path),
        }
        with self._lock:
            self._exchanges.append(exchange)
        return response

    def save(self) -> None:
        """Write the cassette now, with every exchange so far."""
        with self._lock:
            text = _dump_cassette(self._exchanges, self._cleaner.mask_personal)
            _write_atomically(self._path, text)

    def close(self) -> None:
        """Save the cassette and close the inner transport, once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.save()
        finally:
            if self._close_inner:
                self._inner.close()

    def __enter__(self) -> RecordingTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RecordingTransport {self._path.name}>"


# Replaying --------------------------------------------------------------


class ReplayTransport:
    """Answers requests from a cassette file; never touches the network.

    Args:
        path: A cassette written by :class:`RecordingTransport`.
        any_order: Match each request against every unused entry instead
            of only the next one.

    Each entry answers once.  The cassette's own ``mask_personal`` setting
    is applied to incoming requests, and again to the cassette's own, before
    they are compared.

    Raises:
        CassetteError: There is no such file, or it is a folder or cannot
            be read, or it is empty, not JSON, not a cassette of this
            version, or one of its entries is broken (a missing or
            unknown key, a value of the wrong kind, bad base64).  The
            whole file is checked here, and the message names the file,
            the entry and the field; ``field`` is the field's place in
            the file, such as ``exchanges[3].request.query``.
        ValidationError: ``path`` is empty or not a path.
    """

    #: The server a send ledger records for replayed sends.  Nothing a
    #: cassette answers was sent anywhere, so it never counts as sent on a
    #: real server (see :func:`amcards.ledger.server_of`).
    ledger_server = "https://amcards.replay.invalid"

    def __init__(self, path: _PathLike, *, any_order: bool = False) -> None:
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise ValidationError(
                field="path", reason="give the path of the cassette file"
            )
        self._path = Path(path)
        exchanges, masked = _load_cassette(self._path)
        self._exchanges = exchanges
        self._cleaner = _Cleaner(masked)
        self._keys = [
            _match_key(self._cleaner.stored_request(exchange["request"]))
            for exchange in exchanges
        ]
        self._any_order = any_order
        self._unused = list(range(len(exchanges)))
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        """How many entries have not answered yet."""
        with self._lock:
            return len(self._unused)

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        """Answer ``request`` from the cassette.

        Raises:
            ReplayMismatchError: No unused entry matches the request.
        """
        asked = _match_key(self._cleaner.request(request))
        with self._lock:
            candidates = self._unused if self._any_order else self._unused[:1]
            for index in candidates:
                if self._keys[index] == asked:
                    self._unused.remove(index)
                    return _response_from(self._exchanges[index]["response"])
            upcoming = self._unused[0] if self._unused else None
        raise self._mismatch(request, asked, upcoming)

    def close(self) -> None:
        """Nothing to release; here for the transport protocol."""

    def __enter__(self) -> ReplayTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ReplayTransport {self._path.name}>"

    def _mismatch(
        self,
        request: Request,
        asked: dict[str, _Json],
        upcoming: int | None,
    ) -> ReplayMismatchError:
        lines = [
            f"no entry of {self._path.name} matches this request",
            f"  asked:   {_describe(asked)}",
        ]
        if upcoming is None:
            lines.append("  the cassette has no unused entries left")
        else:
            held = self._keys[upcoming]
            total = len(self._exchanges)
            lines.append(
                f"  next (entry {upcoming + 1} of {total}): {_describe(held)}"
            )
            differ = [part for part in held if held[part] != asked[part]]
            lines.append(f"  they differ in: {', '.join(differ)}")
        return ReplayMismatchError(
            "\n".join(lines), method=request.method, path=asked["path"]
        )


def _match_key(stored: dict[str, _Json]) -> dict[str, _Json]:
    return {
        "method": stored["method"],
        "path": stored["path"],
        "query": [list(pair) for pair in stored["query"]],
        "body": stored["body"],
    }


def _describe(key: dict[str, _Json], limit: int = 300) -> str:
    target = key["path"]
    if key["query"]:
        target += "?" + urlencode([tuple(pair) for pair in key["query"]])
    text = f"{key['method']} {target}"
    if key["body"] is not None:
        body = json.dumps(key["body"], ensure_ascii=False, sort_keys=True)
        if len(body) > limit:
            body = body[: limit - 1] + "\u2026"
        text += f" body={body}"
    return text


def _response_from(stored: dict[str, _Json]) -> Response:
    body = _body_bytes(stored["body"])
    headers = [
        (name, str(len(body)) if name.lower() == "content-length" else value)
        for name, value in stored["headers"]
    ]
    return Response(int(stored["status"]), headers, body)

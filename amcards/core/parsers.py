"""Reading the service's answers: a status to an error, a body to a model.

Each ``parse_*`` function takes a :class:`~amcards.core.http.Response` and
first asks :func:`error_for_response` whether the status means an error;
if so it raises that error.  Otherwise it decodes the JSON body and builds
the model by hand, key by key, which is much faster than a generic
converter on long listings.

What the parsers tolerate, because the service varies:

- ids and counts that arrive as strings of digits (``"12"``);
- every timestamp shape the service sends (``T``, a space or nothing
  between date and time, fractions of a second, an offset, which makes an
  aware datetime); null or empty means None;
- keys documented as optional being absent, free text that is null or
  absent (read as ``""``), and empty strings meaning "none" on contacts;
- a card status code this client does not know (``CardStatus.UNKNOWN``,
  the raw code kept in ``Card.status_code``), and a mailing status it
  does not know (None);
- ``extra_data`` given as a Python-literal string, a JSON string or an
  object.  Anything that is not a plain mapping of strings to strings
  reads as ``{}``; the string is never evaluated.

What they do not tolerate: a body that is not JSON or not the expected
shape, or a missing or ill-typed id, amount of money, status or flag.
Those raise :class:`UnexpectedResponseError` naming the endpoint and the
key (``objects[3].amount_charged``), with the status and a short excerpt
of the body.  No other exception escapes a parser.

``Card.amount_charged`` is the one amount the service sends in dollars (a
float); it is rounded to the nearest cent, which is exact for every
amount written with two decimals.  ``ship_to_line_2`` and
``return_to_line_2`` are not documented but are read into the address as
``address_line_2`` when present and not empty.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, NamedTuple, TypeVar

import attrs

from amcards.core.errors import (
    AMcardsException,
    AuthenticationError,
    BadRequestError,
    CampaignSendError,
    CardSendError,
    CardsSendError,
    ContactCreateError,
    DuplicateCampaignError,
    ForbiddenCampaignError,
    ForbiddenCardError,
    ForbiddenContactError,
    ForbiddenMailingError,
    ForbiddenTemplateError,
    InsufficientCreditsError,
    OAuthTokenRefreshError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    body_excerpt,
)
from amcards.core.http import Response
from amcards.core.models import (
    DEFAULT_BASE_URL,
    Campaign,
    CampaignMultiResponse,
    CampaignResponse,
    Card,
    CardGift,
    CardResponse,
    CardsResponse,
    CardStatus,
    Contact,
    CreditTransaction,
    Gift,
    Mailing,
    MailingStatus,
    Template,
    User,
)
from amcards.core.retry import parse_retry_after
from amcards.core.validators import is_header_token

__all__ = [
    "ENDPOINTS",
    "SECRET_ENDPOINTS",
    "TokenSet",
    "error_for_response",
    "parse_campaign",
    "parse_campaign_cost",
    "parse_campaigns",
    "parse_card",
    "parse_cards",
    "parse_contact",
    "parse_contacts",
    "parse_count",
    "parse_create_contact",
    "parse_credit_transactions",
    "parse_delete_contact",
    "parse_mailing",
    "parse_send_campaign",
    "parse_send_campaign_multi",
    "parse_send_card",
    "parse_send_cards",
    "parse_template",
    "parse_templates",
    "parse_token",
    "parse_user",
]

T = TypeVar("T")
Obj = dict[str, Any]


@attrs.frozen(repr=False)
class TokenSet:
    """The tokens the service hands out on a refresh.

    Attributes:
        access_token: The new access token.
        refresh_token: The new refresh token, to use instead of the old one.
        expires_in: The access token's lifetime in seconds.

    The repr never shows the tokens themselves.
    """

    access_token: str
    refresh_token: str
    expires_in: int

    def __repr__(self) -> str:
        return (
            "TokenSet(access_token=<hidden>, refresh_token=<hidden>, "
            f"expires_in={self.expires_in!r})"
        )


# The status table --------------------------------------------------------


class _Rules(NamedTuple):
    """How one endpoint's error statuses read."""

    bad_request: type[AMcardsException] = BadRequestError
    forbidden: type[AMcardsException] | None = None
    not_found_is_forbidden: bool = False
    duplicate: bool = False
    token_refresh: bool = False


_LIST = _Rules()
_TEMPLATE = _Rules(
    forbidden=ForbiddenTemplateError, not_found_is_forbidden=True
)
_CAMPAIGN = _Rules(
    forbidden=ForbiddenCampaignError, not_found_is_forbidden=True
)
_CAMPAIGN_SEND = _Rules(
    CampaignSendError, ForbiddenCampaignError, duplicate=True
)

_RULES: dict[str, _Rules] = {
    "user": _LIST,
    "templates": _LIST,
    "template": _TEMPLATE,
    "quicksends": _LIST,
    "quicksend": _TEMPLATE,
    "campaigns": _LIST,
    "campaign": _CAMPAIGN,
    "cards": _LIST,
    "card": _Rules(forbidden=ForbiddenCardError, not_found_is_forbidden=True),
    "card_count": _LIST,
    "contacts": _LIST,
    "contact": _Rules(
        forbidden=ForbiddenContactError, not_found_is_forbidden=True
    ),
    "mailing": _Rules(
        forbidden=ForbiddenMailingError, not_found_is_forbidden=True
    ),
    "credit_transactions": _LIST,
    "credit_transaction_count": _LIST,
    "create_contact": _Rules(ContactCreateError),
    "delete_contact": _Rules(
        forbidden=ForbiddenContactError, not_found_is_forbidden=True
    ),
    "send_card": _Rules(CardSendError, ForbiddenTemplateError),
    "send_cards": _Rules(CardsSendError, ForbiddenTemplateError),
    "campaign_cost": _Rules(CampaignSendError, ForbiddenCampaignError),
    "send_campaign": _CAMPAIGN_SEND,
    "send_campaign_multi": _CAMPAIGN_SEND,
    "refresh_token": _Rules(OAuthTokenRefreshError, token_refresh=True),
}

ENDPOINTS: tuple[str, ...] = tuple(_RULES)
"""The name of every call, as ``error_for_response`` and errors use it."""

SECRET_ENDPOINTS: frozenset[str] = frozenset({"refresh_token"})
"""The calls whose answers may hold tokens.  An error about one of them
shows only the message keys of a JSON body, and never chains an
exception that holds the body."""

_FORBIDDEN_WHAT: dict[type[AMcardsException], str] = {
    ForbiddenTemplateError: "the template",
    ForbiddenCampaignError: "the campaign",
    ForbiddenCardError: "the card",
    ForbiddenContactError: "the contact",
    ForbiddenMailingError: "the mailing",
}

# Headers that may carry a secret stay out of errors.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie"}
)

_MESSAGE_LIMIT = 200
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def error_for_response(
    endpoint: str, response: Response, now: dt.datetime | None = None
) -> AMcardsException | None:
    """Return the error that ``response``'s status means, or None on 2xx.

    This is the one place that maps statuses to exceptions; see "Status
    codes" in the HTTP contract.  A 429's ``Retry-After`` in seconds is
    always read; in the HTTP-date form it needs ``now`` (an aware
    datetime), and without it ``retry_after`` stays None while the header
    is kept on the error.

    Args:
        endpoint: One of :data:`ENDPOINTS`.
        response: The answer to read; its body is only looked at for a
            message.
        now: The current time, for a ``Retry-After`` date.

    Raises:
        ValueError: ``endpoint`` is not one of :data:`ENDPOINTS`.
    """
    rules = _RULES.get(endpoint)
    if rules is None:
        raise ValueError(f"unknown endpoint {endpoint!r}")
    status = response.status
    if 200 <= status < 300:
        return None
    kind, text = _classify(rules, status)
    extra: dict[str, Any] = {}
    if kind is RateLimitError:
        header = response.header("Retry-After")
        wait = None if header is None else parse_retry_after(header, now)
        extra["retry_after"] = wait
        if wait is not None:
            text = f"{text}; retry after {wait:g} seconds"
    if kind is UnexpectedResponseError:
        extra["endpoint"] = endpoint
    detail = _message_from_body(_visible_body(endpoint, response.body))
    message = f"{endpoint}: {text}" + (f": {detail}" if detail else "")
    return kind(message, **extra, **_context(endpoint, response))


def _classify(
    rules: _Rules, status: int
) -> tuple[type[AMcardsException], str]:
    """The exception class and a short description for ``status``."""
    if rules.token_refresh and status in (400, 401):
        return OAuthTokenRefreshError, "the refresh token was refused"
    if status == 400:
        return rules.bad_request, "the service refused the request"
    if status == 401:
        return AuthenticationError, "the access token was refused"
    if status == 402:
        return InsufficientCreditsError, "not enough credits"
    forbidden = rules.forbidden
    if forbidden is not None and (
        status == 403 or (status == 404 and rules.not_found_is_forbidden)
    ):
        what = _FORBIDDEN_WHAT[forbidden]
        return forbidden, f"{what} does not exist or is not the user's"
    if status == 409 and rules.duplicate:
        return DuplicateCampaignError, "the campaign was already sent there"
    if status == 429:
        return RateLimitError, "too many requests"
    if 500 <= status < 600:
        return ServerError, "the service failed to answer"
    return UnexpectedResponseError, f"unexpected HTTP status {status}"


def _message_from_body(body: bytes) -> str:
    """A short message for an error: the body's own words if it has any."""
    start = body.lstrip()[:1]
    if start in (b"{", b"["):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            found = _message_from_object(data)
            if found:
                return found
    elif start == b"<":
        title = _HTML_TITLE.search(body[:4096])
        if title is not None:
            return "an HTML page: " + body_excerpt(title.group(1))
        return "an HTML page: " + body_excerpt(body)
    return body_excerpt(body)


def _message_from_object(data: Obj) -> str:
    parts: list[str] = []
    for key in ("message", "error", "detail", "error_description"):
        value = data.get(key)
        if value in (None, "", [], {}):
            continue
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, default=str)
        parts.append(value)
    return body_excerpt(": ".join(parts).encode(), _MESSAGE_LIMIT)


def _context(endpoint: str, response: Response) -> dict[str, Any]:
    """Status, body excerpt and safe headers for an error about it."""
    headers = {
        name: value
        for name, value in response.headers
        if name.lower() not in _SECRET_HEADERS
    }
    return {
        "status": response.status,
        "body_excerpt": body_excerpt(_visible_body(endpoint, response.body)),
        "headers": headers,
    }


def _visible_body(endpoint: str, body: bytes) -> bytes:
    """What of ``body`` an error may show: all of it, except for the
    endpoints in :data:`SECRET_ENDPOINTS`, whose answers may hold tokens;
    of those only a JSON object's message keys are kept."""
    if endpoint not in SECRET_ENDPOINTS:
        return body
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return b""
    if not isinstance(data, dict):
        return b""
    kept = {
        key: data[key]
        for key in ("error", "error_description", "message", "detail")
        if isinstance(data.get(key), str)
    }
    return json.dumps(kept, ensure_ascii=False).encode() if kept else b""


# Reading bodies: the machinery -------------------------------------------


class _Bad(Exception):
    """A key is missing or ill-typed; ``key`` is its path in the body."""

    def __init__(self, key: str | None, problem: str) -> None:
        super().__init__(key, problem)
        self.key = key
        self.problem = problem

    def inside(self, prefix: str) -> _Bad:
        """The same problem, with ``prefix`` put before the key."""
        key = prefix if self.key is None else f"{prefix}.{self.key}"
        moved = _Bad(key, self.problem)
        moved.__cause__ = self.__cause__
        return moved


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _unexpected(
    endpoint: str, response: Response, key: str | None, problem: str
) -> UnexpectedResponseError:
    where = f" at {key!r}" if key else ""
    return UnexpectedResponseError(
        f"{endpoint}: unexpected response{where}: {problem}",
        endpoint=endpoint,
        key=key,
        **_context(endpoint, response),
    )


def _read(
    endpoint: str,
    response: Response,
    build: Callable[[Any], T],
) -> T:
    """Raise the status's error, else decode the body and ``build`` it."""
    error = error_for_response(endpoint, response)
    if error is not None:
        raise error
    # An error about a body that holds secrets is raised outside the
    # except blocks below, so that neither its cause nor its context (a
    # JSONDecodeError keeps the whole document) carries the body along.
    secret = endpoint in SECRET_ENDPOINTS
    failure: UnexpectedResponseError
    try:
        data = json.loads(response.body)
    except (ValueError, RecursionError) as exc:
        problem = "the body is empty" if not response.body.strip() else ""
        failure = _unexpected(
            endpoint, response, None, problem or "the body is not JSON"
        )
        if not secret:
            raise failure from exc
    else:
        try:
            return build(data)
        except _Bad as bad:
            failure = _unexpected(endpoint, response, bad.key, bad.problem)
            if not secret:
                raise failure from bad.__cause__
        except (
            KeyError,
            IndexError,
            TypeError,
            ValueError,
            AttributeError,
        ) as exc:
            # Defence in depth: the readers below raise _Bad for every
            # shape they reject, so reaching this means a shape nobody
            # foresaw.
            failure = _unexpected(endpoint, response, None, "malformed body")
            if not secret:
                raise failure from exc
    raise failure


def _object(value: Any, key: str | None = None) -> Obj:
    if type(value) is not dict:
        raise _Bad(key, f"expected an object, got {_type_name(value)}")
    return value


def _list(value: Any, key: str) -> list[Any]:
    if type(value) is not list:
        raise _Bad(key, f"expected a list, got {_type_name(value)}")
    return value


def _listing(
    data: Any, build_one: Callable[[Obj], T], key: str = "objects"
) -> list[T]:
    """Build every object of a Tastypie listing's ``objects``."""
    items = _list(_require(_object(data), key), key)
    result = []
    for index, item in enumerate(items):
        try:
            result.append(build_one(_object(item)))
        except _Bad as bad:
            raise bad.inside(f"{key}[{index}]") from bad.__cause__
    return result


def _nested(obj: Obj, key: str) -> Obj:
    return _object(_require(obj, key), key)


def _in(prefix: str, read: Callable[[Obj, str], T], obj: Obj, key: str) -> T:
    """``read(obj, key)`` where ``obj`` sits at ``prefix`` in the body."""
    try:
        return read(obj, key)
    except _Bad as bad:
        raise bad.inside(prefix) from bad.__cause__


def _require(obj: Obj, key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise _Bad(key, "the key is missing") from None


def _to_int(value: Any, key: str) -> int:
    if type(value) is int:
        return value
    if type(value) is str:
        try:
            return int(value)
        except ValueError as exc:
            raise _Bad(key, "expected an integer, got a string") from exc
    if type(value) is float and value.is_integer():
        return int(value)
    raise _Bad(key, f"expected an integer, got {_type_name(value)}")


def _int(obj: Obj, key: str) -> int:
    """A required integer (an id, a count, cents); digits strings too."""
    value = _require(obj, key)
    return value if type(value) is int else _to_int(value, key)


def _opt_int(obj: Obj, key: str) -> int | None:
    """An optional integer: absent, null or empty is None."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    return value if type(value) is int else _to_int(value, key)


def _text(obj: Obj, key: str) -> str:
    """Free text: absent or null is ``""``; a number is written out."""
    value = obj.get(key)
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    raise _Bad(key, f"expected a string, got {_type_name(value)}")


def _opt_text(obj: Obj, key: str) -> str | None:
    """Optional text: absent, null or empty is None."""
    return _text(obj, key) or None


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def _bool(obj: Obj, key: str, default: bool | None = None) -> bool:
    """A flag: a JSON boolean, 0 or 1, or "true"/"false"."""
    value = obj.get(key) if default is not None else _require(obj, key)
    if value is True or value is False:
        return value
    if value is None and default is not None:
        return default
    if type(value) is int and value in (0, 1):
        return bool(value)
    if type(value) is str:
        lowered = value.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
    raise _Bad(key, f"expected true or false, got {_type_name(value)}")


def _uri_id(obj: Obj, key: str) -> int:
    """The id at the end of a resource URI like ``/.api/v1/user/12/``."""
    value = _require(obj, key)
    if type(value) is not str:
        raise _Bad(key, f"expected a resource URI, got {_type_name(value)}")
    last = value.rstrip("/").rpartition("/")[2]
    if not last.isdigit():
        raise _Bad(key, "the resource URI does not end with an id")
    return int(last)


# Money --------------------------------------------------------------------

_CENT = Decimal("0.01")


def _dollars_to_cents(obj: Obj, key: str) -> int:
    """Dollars as the service sends them (4.35) to whole cents (435).

    A float is multiplied by 100 and rounded: its error is far below half
    a cent for any amount under a billion dollars, so every amount written
    with two decimals comes out exact.
    """
    value = _require(obj, key)
    if type(value) is float:
        if not math.isfinite(value):
            raise _Bad(key, "expected an amount, got a non-finite number")
        return round(value * 100)
    if type(value) is int:
        return value * 100
    if type(value) is str:
        try:
            amount = Decimal(value.strip())
            if amount.is_finite():
                cents = amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)
                return int(cents * 100)
        except InvalidOperation as exc:
            raise _Bad(key, "expected an amount, got a string") from exc
    raise _Bad(key, f"expected an amount in dollars, got {_type_name(value)}")


# Timestamps ---------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)"
    r"(?:[Tt ]?(\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
    r"\s*(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)?"
)


def _parse_timestamp(text: str) -> dt.datetime:
    """Read any timestamp shape the service sends; ValueError otherwise."""
    if len(text) > 10 and text[10].isdigit() and text[4:5] == "-":
        text = f"{text[:10]}T{text[10:]}"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    # Python 3.10's fromisoformat knows fewer shapes; read the rest here.
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        raise ValueError("not a timestamp")
    year, month, day, hour, minute, second, fraction = match.groups()[:7]
    zulu, sign, offset_hours, offset_minutes = match.groups()[7:]
    tz: dt.tzinfo | None = None
    if zulu:
        tz = dt.timezone.utc
    elif sign:
        offset = dt.timedelta(
            hours=int(offset_hours), minutes=int(offset_minutes or 0)
        )
        tz = dt.timezone(-offset if sign == "-" else offset)
    return dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0")[:6].ljust(6, "0")),
        tzinfo=tz,
    )


def _time(obj: Obj, key: str) -> dt.datetime | None:
    """An optional timestamp: absent, null or empty is None."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise _Bad(key, f"expected a timestamp, got {_type_name(value)}")
    try:
        return _parse_timestamp(value)
    except (ValueError, OverflowError) as exc:
        raise _Bad(key, "the timestamp is not in a known shape") from exc


# extra_data ---------------------------------------------------------------

_EXTRA_DATA_LIMIT = 64 * 1024

# The common case, quoted strings with no backslash, is read by a pattern.
_PLAIN_STRING = r"""(?:'[^'\\\n]*'|"[^"\\\n]*")"""
_PLAIN_PAIR = rf"{_PLAIN_STRING}\s*:\s*{_PLAIN_STRING}"
_PLAIN_DICT = re.compile(
    rf"\{{\s*(?:{_PLAIN_PAIR}\s*(?:,\s*{_PLAIN_PAIR}\s*)*(?:,\s*)?)?\}}"
)
_PLAIN_PAIRS = re.compile(
    r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*:\s*"""
    r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")"""
)
# Otherwise the text must still be a dict of string literals, escapes
# allowed, before anything parses it: no code, no nesting.  Neither pattern
# has two repeats that can share the same characters, so a hostile string
# cannot make matching slow.
_STRING = r"""(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
_PAIR = rf"{_STRING}\s*:\s*{_STRING}"
_DICT_OF_STRINGS = re.compile(
    rf"\{{\s*(?:{_PAIR}\s*(?:,\s*{_PAIR}\s*)*(?:,\s*)?)?\}}", re.S
)
_ESCAPE = re.compile(r"\\(.)", re.S)
_KNOWN_ESCAPES = frozenset("\\'\"abfnrtv01234567xNuU\n")


def _extra_data(value: Any) -> dict[str, str]:
    """``extra_data`` as a dict of strings; ``{}`` for anything else."""
    if value is None or value == "":
        return {}
    if type(value) is dict:
        return _only_strings(value)
    if type(value) is not str or len(value) > _EXTRA_DATA_LIMIT:
        return {}
    text = value.strip()
    if "\\" not in text and _PLAIN_DICT.fullmatch(text):
        return {a or b: c or d for a, b, c, d in _PLAIN_PAIRS.findall(text)}
    if _DICT_OF_STRINGS.fullmatch(text):
        return _escaped_dict(text)
    return {}


def _only_strings(mapping: dict[Any, Any]) -> dict[str, str]:
    for key, item in mapping.items():
        if type(key) is not str or type(item) is not str:
            return {}
    return dict(mapping)


def _escaped_dict(text: str) -> dict[str, str]:
    """Decode a dict of string literals that carry backslash escapes.

    The text is known to be only a dict of string literals.  JSON escapes
    are tried first; otherwise Python's parser reads the literals and the
    syntax tree is inspected.  Nothing is ever evaluated.
    """
    try:
        decoded = json.loads(text)
    except ValueError:
        pass
    else:
        return _only_strings(decoded) if type(decoded) is dict else {}
    if any(c not in _KNOWN_ESCAPES for c in _ESCAPE.findall(text)):
        return {}  # Python would warn about it, and it is not data anyway.
    try:
        tree = ast.parse(text, mode="eval")
    except Exception:  # SyntaxError, ValueError, MemoryError: all mean {}
        return {}
    node = tree.body
    if not isinstance(node, ast.Dict):
        return {}
    result: dict[str, str] = {}
    for key, item in zip(node.keys, node.values, strict=True):
        if not (
            isinstance(key, ast.Constant)
            and type(key.value) is str
            and isinstance(item, ast.Constant)
            and type(item.value) is str
        ):
            return {}
        result[key.value] = item.value
    return result


# Models -------------------------------------------------------------------

_CARD_STATUSES = {
    s.value: s for s in CardStatus if s is not CardStatus.UNKNOWN
}
_MAILING_STATUSES = {s.value: s for s in MailingStatus}


def _user(obj: Obj) -> User:
    postage = _nested(obj, "postage")
    pricing = _nested(obj, "product_pricing_info")
    return User(
        id=_uri_id(obj, "resource_uri"),
        first_name=_text(obj, "first_name"),
        last_name=_text(obj, "last_name"),
        credits=_int(obj, "credits"),
        email=_text(obj, "email"),
        date_joined=_time(obj, "date_joined"),
        address_line_1=_text(obj, "address_line_1"),
        city=_text(obj, "city"),
        state=_text(obj, "state"),
        postal_code=_text(obj, "postal"),
        country=_text(obj, "country"),
        domestic_postage_cost=_in("postage", _int, postage, "domestic_cost"),
        international_postage_cost=_in(
            "postage", _int, postage, "international_cost"
        ),
        domestic_postage_countries=_in(
            "postage", _countries, postage, "domestic_countries"
        ),
        greeting_card_cost=_in(
            "product_pricing_info", _int, pricing, "5x7greetingcard"
        ),
        phone=_opt_text(obj, "phone"),
        address_line_2=_opt_text(obj, "address_line_2"),
        monthly_report_emails=obj.get("monthly_report_emails"),
    )


def _countries(postage: Obj, key: str) -> set[str]:
    countries = _list(_require(postage, key), key)
    for index, country in enumerate(countries):
        if type(country) is not str:
            raise _Bad(
                f"{key}[{index}]",
                f"expected a country code, got {_type_name(country)}",
            )
    return set(countries)


def _gift(obj: Obj) -> Gift:
    return Gift(
        name=_text(obj, "gift_name"),
        thumbnail=_text(obj, "image"),
        base_cost=_int(obj, "price"),
        shipping_and_handling_cost=_int(obj, "shipping_and_handling"),
    )


def _template(obj: Obj) -> Template:
    gifts = obj.get("gifts")
    return Template(
        id=_int(obj, "id"),
        name=_text(obj, "name"),
        message=_text(obj, "has_message_on_default_panel"),
        thumbnail=_text(obj, "thumbnail"),
        gifts=[] if gifts is None else _listing(obj, _gift, "gifts"),
    )


def _campaign(obj: Obj) -> Campaign:
    return Campaign(
        id=_int(obj, "id"),
        name=_text(obj, "title"),
        send_if_duplicate=_bool(obj, "send_even_if_duplicate"),
        has_anniversary_drip=_bool(obj, "has_anniversary_drip", False),
        has_birthday_drip=_bool(obj, "has_birthday_drip", False),
        drip_count=_opt_int(obj, "drip_count"),
        campaign_cost=_opt_int(obj, "campaign_cost"),
    )


def _card_gift(obj: Obj) -> CardGift:
    return CardGift(
        name=_text(obj, "name"),
        price=_int(obj, "price"),
        shipping_and_handling=_opt_int(obj, "shipping_and_handling") or 0,
    )


def _shipping_address(obj: Obj) -> dict[str, str]:
    address = {
        "first_name": _text(obj, "ship_to_first_name"),
        "last_name": _text(obj, "ship_to_last_name"),
        "address_line_1": _text(obj, "ship_to_line_1"),
        "city": _text(obj, "ship_to_city"),
        "state": _text(obj, "ship_to_state"),
        "postal_code": _text(obj, "ship_to_postal"),
    }
    line_2 = obj.get("ship_to_line_2")
    if line_2:
        address["address_line_2"] = _text(obj, "ship_to_line_2")
    if obj.get("ship_to_country") is not None:
        address["country"] = _text(obj, "ship_to_country")
    if obj.get("ship_to_organization"):
        address["organization"] = _text(obj, "ship_to_organization")
    if obj.get("third_party_contact_id"):
        address["third_party_contact_id"] = _text(
            obj, "third_party_contact_id"
        )
    return address


_RETURN_KEYS = (
    ("first_name", "return_to_first_name"),
    ("last_name", "return_to_last_name"),
    ("address_line_1", "return_to_line_1"),
    ("address_line_2", "return_to_line_2"),
    ("city", "return_to_city"),
    ("state", "return_to_state"),
    ("postal_code", "return_to_postal"),
    ("country", "return_to_country"),
)


def _return_address(obj: Obj) -> dict[str, str]:
    address = {}
    for name, key in _RETURN_KEYS:
        value = obj.get(key)
        if value:
            address[name] = value if type(value) is str else _text(obj, key)
    return address


def _card_status(obj: Obj) -> tuple[CardStatus, int]:
    code = _int(obj, "status")
    return _CARD_STATUSES.get(code, CardStatus.UNKNOWN), code


# Listings build thousands of cards, and an attrs class with nineteen
# fields is built a third faster from positional arguments than from
# keywords; this is the order _card passes them in.
_CARD_FIELDS = (
    "id",
    "amount_charged",
    "status",
    "initiator",
    "send_date",
    "date_created",
    "date_last_modified",
    "date_fulfilled",
    "is_international",
    "template_name",
    "thumbnail",
    "campaign_id",
    "shipping_address",
    "return_address",
    "status_code",
    "total_amount_charged_cents",
    "gifts",
    "extra_data",
    "base_url",
)
if tuple(f.name for f in attrs.fields(Card)) != _CARD_FIELDS:
    raise ImportError("Card's fields changed: update parsers._card")


def _card(obj: Obj, base_url: str) -> Card:
    status, code = _card_status(obj)
    gifts: list[CardGift] = []
    if obj.get("gifts") not in (None, []):
        gifts = _listing(obj, _card_gift, "gifts")
    return Card(  # in the order of _CARD_FIELDS
        _int(obj, "id"),
        _dollars_to_cents(obj, "amount_charged"),
        status,
        _text(obj, "initiator"),
        _text(obj, "send_date"),
        _time(obj, "created"),
        _time(obj, "last_modified"),
        _time(obj, "fulfilled"),
        _bool(obj, "is_international"),
        _text(obj, "template_name"),
        _text(obj, "thumbnail"),
        _opt_int(obj, "campaign_pk"),
        _shipping_address(obj),
        _return_address(obj),
        code,
        _opt_int(obj, "total_amount_charged_cents"),
        gifts,
        _extra_data(obj.get("extra_data")),
        base_url,
    )


def _contact(obj: Obj) -> Contact:
    return Contact(
        id=_int(obj, "id"),
        date_created=_time(obj, "added"),
        date_last_modified=_time(obj, "updated"),
        date_last_card_send=_time(obj, "last_card_send_date"),
        notes=_opt_text(obj, "notes"),
        email=_opt_text(obj, "email_address"),
        first_name=_text(obj, "first_name"),
        last_name=_text(obj, "last_name"),
        address_line_1=_text(obj, "address_line_1"),
        city=_text(obj, "city"),
        state=_text(obj, "state"),
        postal_code=_text(obj, "postal_code"),
        country=_opt_text(obj, "country"),
        organization=_opt_text(obj, "organization"),
        phone=_opt_text(obj, "phone_number"),
        birth_year=_opt_text(obj, "birth_year"),
        birth_month=_opt_text(obj, "birth_month"),
        birth_day=_opt_text(obj, "birth_day"),
        anniversary_year=_opt_text(obj, "anniversary_year"),
        anniversary_month=_opt_text(obj, "anniversary_month"),
        anniversary_day=_opt_text(obj, "anniversary_day"),
    )


def _mailing(obj: Obj, base_url: str) -> Mailing:
    code = _opt_int(obj, "status")
    return Mailing(
        id=_int(obj, "id"),
        status=None if code is None else _MAILING_STATUSES.get(code),
        base_url=base_url,
    )


def _credit_transaction(obj: Obj) -> CreditTransaction:
    return CreditTransaction(
        id=_int(obj, "id"),
        wallet_id=_opt_int(obj, "wallet_id"),
        grant_volume=_opt_int(obj, "grant_volume"),
        before_int=_opt_int(obj, "before_int"),
        after_int=_opt_int(obj, "after_int"),
        amount_paid_int=_opt_int(obj, "amount_paid_int"),
        amount_int=_opt_int(obj, "amount_int"),
        description=_text(obj, "description"),
        credit_card_details=_text(obj, "credit_card_details"),
        date_time=_time(obj, "date_time"),
    )


# Read endpoints -----------------------------------------------------------


def parse_user(response: Response, base_url: str = DEFAULT_BASE_URL) -> User:
    """Read the user endpoint's listing of one into a :class:`User`.

    ``base_url`` is accepted like the other parsers' but unused: a user
    carries no links.
    """

    def build(data: Any) -> User:
        users = _listing(data, _user)
        if not users:
            raise _Bad("objects", "the listing holds no user")
        return users[0]

    return _read("user", response, build)


def parse_templates(
    response: Response, endpoint: str = "templates"
) -> list[Template]:
    """Read a listing of templates (``endpoint="quicksends"`` for those)."""
    return _read(endpoint, response, lambda data: _listing(data, _template))


def parse_template(response: Response, endpoint: str = "template") -> Template:
    """Read one template (``endpoint="quicksend"`` for a quicksend)."""
    return _read(endpoint, response, lambda data: _template(_object(data)))


def parse_campaigns(response: Response) -> list[Campaign]:
    """Read a listing of drip campaigns."""
    return _read("campaigns", response, lambda d: _listing(d, _campaign))


def parse_campaign(response: Response) -> Campaign:
    """Read one drip campaign."""
    return _read("campaign", response, lambda d: _campaign(_object(d)))


def parse_cards(
    response: Response, base_url: str = DEFAULT_BASE_URL
) -> list[Card]:
    """Read a listing of cards; links on them point at ``base_url``."""

    def build_one(obj: Obj) -> Card:
        return _card(obj, base_url)

    return _read("cards", response, lambda data: _listing(data, build_one))


def parse_card(response: Response, base_url: str = DEFAULT_BASE_URL) -> Card:
    """Read one card; its links point at ``base_url``."""
    return _read("card", response, lambda d: _card(_object(d), base_url))


def parse_count(response: Response, endpoint: str) -> int:
    """Read ``meta.total_count`` from a listing (a card or credit count)."""

    def build(data: Any) -> int:
        meta = _nested(_object(data), "meta")
        return _in("meta", _int, meta, "total_count")

    return _read(endpoint, response, build)


def parse_contacts(response: Response) -> list[Contact]:
    """Read a listing of contacts."""
    return _read("contacts", response, lambda d: _listing(d, _contact))


def parse_contact(response: Response) -> Contact:
    """Read one contact."""
    return _read("contact", response, lambda d: _contact(_object(d)))


def parse_mailing(
    response: Response, base_url: str = DEFAULT_BASE_URL
) -> Mailing:
    """Read one mailing; its link points at ``base_url``."""
    return _read("mailing", response, lambda d: _mailing(_object(d), base_url))


def parse_credit_transactions(response: Response) -> list[CreditTransaction]:
    """Read a listing of credit transactions."""
    return _read(
        "credit_transactions",
        response,
        lambda data: _listing(data, _credit_transaction),
    )


# Write endpoints ----------------------------------------------------------


def _raise_for(endpoint: str, response: Response) -> None:
    error = error_for_response(endpoint, response)
    if error is not None:
        raise error


def parse_create_contact(response: Response) -> None:
    """Check the answer to creating a contact (201, the body may be empty)."""
    _raise_for("create_contact", response)


def parse_delete_contact(response: Response) -> None:
    """Check the answer to deleting a contact (204, no body)."""
    _raise_for("delete_contact", response)


def parse_send_card(
    response: Response,
    shipping_address: Mapping[str, str],
    base_url: str = DEFAULT_BASE_URL,
) -> CardResponse:
    """Read the answer to sending one card to ``shipping_address``."""

    def build(data: Any) -> CardResponse:
        obj = _object(data)
        return CardResponse(
            card_id=_int(obj, "card"),
            total_cost=_int(obj, "total_cost"),
            user_email=_text(obj, "user"),
            message=_text(obj, "message"),
            shipping_address=dict(shipping_address),
            base_url=base_url,
        )

    return _read("send_card", response, build)


def parse_send_cards(
    response: Response,
    shipping_addresses: Sequence[Mapping[str, str]],
    base_url: str = DEFAULT_BASE_URL,
) -> CardsResponse:
    """Read the answer to sending cards: the mailing that will hold them."""

    def build(data: Any) -> CardsResponse:
        obj = _object(data)
        return CardsResponse(
            mailing_id=_uri_id(obj, "mailing_uri"),
            user_email=_text(obj, "user"),
            message=_text(obj, "message"),
            shipping_addresses=[dict(a) for a in shipping_addresses],
            base_url=base_url,
        )

    return _read("send_cards", response, build)


def parse_campaign_cost(response: Response) -> int:
    """Read a campaign's price in cents (``pricing.total_cost``)."""

    def build(data: Any) -> int:
        pricing = _nested(_object(data), "pricing")
        return _in("pricing", _int, pricing, "total_cost")

    return _read("campaign_cost", response, build)


def parse_send_campaign(
    response: Response,
    shipping_address: Mapping[str, str],
    base_url: str = DEFAULT_BASE_URL,
) -> CampaignResponse:
    """Read the answer to sending a drip campaign to one recipient."""

    def build(data: Any) -> CampaignResponse:
        obj = _object(data)
        cards = _list(_require(obj, "cards"), "cards")
        return CampaignResponse(
            mailing_id=_int(obj, "mailing"),
            card_ids=[_to_int(c, f"cards[{i}]") for i, c in enumerate(cards)],
            user_email=_text(obj, "user"),
            message=_text(obj, "message"),
            shipping_address=dict(shipping_address),
            base_url=base_url,
        )

    return _read("send_campaign", response, build)


def parse_send_campaign_multi(
    response: Response, base_url: str = DEFAULT_BASE_URL
) -> CampaignMultiResponse:
    """Read the answer to sending a drip campaign to many contacts."""

    def build(data: Any) -> CampaignMultiResponse:
        obj = _object(data)
        return CampaignMultiResponse(
            mailing_id=_opt_int(obj, "mailing_id"),
            contacts_scheduled_count=_int(obj, "contacts_scheduled_count"),
            duplicate_contacts_count=_int(obj, "duplicate_contacts_count"),
            scheduled_third_party_contact_ids=_id_strings(
                obj, "contacts_scheduled_third_party_contact_ids"
            ),
            message=_text(obj, "message"),
            base_url=base_url,
        )

    return _read("send_campaign_multi", response, build)


def _id_strings(obj: Obj, key: str) -> list[str]:
    """A list of the sender's own ids; absent or null is empty."""
    value = obj.get(key)
    if value is None:
        return []
    items = _list(value, key)
    for index, item in enumerate(items):
        if type(item) is not str:
            raise _Bad(
                f"{key}[{index}]", f"expected a string, got {_type_name(item)}"
            )
    return list(items)


def parse_token(response: Response) -> TokenSet:
    """Read the new tokens from an OAuth2 refresh answer."""

    def build(data: Any) -> TokenSet:
        obj = _object(data)
        access_token = _token(obj, "access_token")
        refresh_token = _token(obj, "refresh_token")
        return TokenSet(access_token, refresh_token, _int(obj, "expires_in"))

    return _read("refresh_token", response, build)


def _token(obj: Obj, key: str) -> str:
    value = _require(obj, key)
    if type(value) is not str or not value:
        raise _Bad(key, f"expected a token, got {_type_name(value)}")
    if not is_header_token(value):
        raise _Bad(
            key, "a token with spaces or control characters (not shown)"
        )
    return value

"""Turn checked arguments into :class:`~amcards.core.http.Request` values.

Each ``build_*`` function is pure: it takes values the validators have
already checked and normalised, and returns the method, path, query,
headers and body of one API call, as ``amcards-http-api`` describes it.
The base URL and the Authorization header are left for the client to add.

Every request asks for JSON (``Accept: application/json``).  JSON bodies
are compact UTF-8 with keys in the order each builder writes them, so the
same call always gives the same bytes.  Optional values that are None or
empty are left out of bodies, as the service reads them as "not given".
Filters become extra query parameters after ``limit`` and ``offset``,
sorted by name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from amcards.core.errors import ValidationError
from amcards.core.http import Headers, Request

__all__ = [
    "API_PREFIX",
    "build_campaign_cost_request",
    "build_campaign_request",
    "build_campaigns_request",
    "build_card_count_request",
    "build_card_request",
    "build_cards_request",
    "build_contact_request",
    "build_contacts_request",
    "build_create_contact_request",
    "build_credit_transaction_count_request",
    "build_credit_transactions_request",
    "build_delete_contact_request",
    "build_mailing_request",
    "build_quicksend_request",
    "build_quicksends_request",
    "build_refresh_token_request",
    "build_send_campaign_multi_request",
    "build_send_campaign_request",
    "build_send_card_request",
    "build_send_cards_request",
    "build_template_request",
    "build_templates_request",
    "build_user_request",
]

API_PREFIX = "/.api/v1"

_ACCEPT_JSON = ("Accept", "application/json")
_JSON_HEADERS: Headers = (_ACCEPT_JSON, ("Content-Type", "application/json"))
_FORM_HEADERS: Headers = (
    _ACCEPT_JSON,
    ("Content-Type", "application/x-www-form-urlencoded"),
)
# Query keys the builders set themselves; a filter may not repeat them.
_PAGING_KEYS = frozenset({"limit", "offset"})

Id = int | str
Address = Mapping[str, Any]
Filters = Mapping[str, Any] | None


# Pieces ------------------------------------------------------------------


def _resource(name: str, id: Id | None = None) -> str:
    """The path of a collection, or of one object in it."""
    if id is None:
        return f"{API_PREFIX}/{name}/"
    return f"{API_PREFIX}/{name}/{quote(str(id), safe='')}/"


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == {} or value == []


def _without_empty(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in pairs if not _is_empty(value)}


def _filter_value(key: str, value: object) -> str:
    """A filter value as the API's query string spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)) and value:
        # An "__in" lookup takes its values separated by commas.
        return ",".join(_filter_value(key, item) for item in value)
    raise ValidationError(
        field=f"filters[{key!r}]",
        reason=(
            "expected a string, number, bool, date or a non-empty list "
            f"of them, got {type(value).__name__}"
        ),
    )


def _filter_pairs(filters: Filters) -> list[tuple[str, str]]:
    """Filters as query pairs, sorted by name.

    Raises:
        ValidationError: a filter is not a mapping, has a key that is not
            a string or that repeats ``limit``/``offset``, or an
            unsupported value.
    """
    if filters is None:
        return []
    if not isinstance(filters, Mapping):
        raise ValidationError(
            field="filters",
            reason=f"expected a dict, got {type(filters).__name__}",
        )
    pairs = []
    for key, value in filters.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(
                field=f"filters[{key!r}]",
                reason="filter names must be non-empty strings",
            )
        if key in _PAGING_KEYS:
            raise ValidationError(
                field=f"filters[{key!r}]",
                reason="set paging with the limit and skip arguments",
            )
        pairs.append((key, _filter_value(key, value)))
    return sorted(pairs)


def _get(path: str, query: Sequence[tuple[str, str]] = ()) -> Request:
    return Request("GET", path, query=query, headers=(_ACCEPT_JSON,))


def _list(
    name: str, limit: int, skip: int, filters: Filters = None
) -> Request:
    query = [("limit", str(limit)), ("offset", str(skip))]
    return _get(_resource(name), query + _filter_pairs(filters))


def _count(name: str, filters: Filters) -> Request:
    return _get(_resource(name), [("limit", "1"), *_filter_pairs(filters)])


def _post_json(path: str, body: Mapping[str, Any]) -> Request:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Request(
        "POST", path, headers=_JSON_HEADERS, body=data.encode("utf-8")
    )


def _return_pairs(return_address: Address | None) -> list[tuple[str, Any]]:
    """The return address as top-level ``return_<key>`` pairs."""
    if not return_address:
        return []
    return [(f"return_{key}", value) for key, value in return_address.items()]


def _address(address: Address) -> dict[str, Any]:
    return _without_empty(address.items())


# Reading -----------------------------------------------------------------


def build_user_request() -> Request:
    """GET the user the token belongs to (a list of one)."""
    return _get(_resource("user"))


def build_templates_request(limit: int, skip: int) -> Request:
    """GET a page of the user's templates."""
    return _list("template", limit, skip)


def build_template_request(id: Id) -> Request:
    """GET one template."""
    return _get(_resource("template", id))


def build_quicksends_request(limit: int, skip: int) -> Request:
    """GET a page of the user's quicksend templates."""
    return _list("quicksendtemplate", limit, skip)


def build_quicksend_request(id: Id) -> Request:
    """GET one quicksend template."""
    return _get(_resource("quicksendtemplate", id))


def build_campaigns_request(limit: int, skip: int) -> Request:
    """GET a page of the user's drip campaigns."""
    return _list("campaign", limit, skip)


def build_campaign_request(id: Id) -> Request:
    """GET one drip campaign."""
    return _get(_resource("campaign", id))


def build_cards_request(limit: int, skip: int, filters: Filters) -> Request:
    """GET a page of the user's cards, filtered."""
    return _list("card", limit, skip, filters)


def build_card_request(id: Id) -> Request:
    """GET one card."""
    return _get(_resource("card", id))


def build_card_count_request(filters: Filters) -> Request:
    """GET one card of those matching ``filters``, to read the total."""
    return _count("card", filters)


def build_contacts_request(limit: int, skip: int, filters: Filters) -> Request:
    """GET a page of the user's contacts, filtered."""
    return _list("contact", limit, skip, filters)


def build_contact_request(id: Id) -> Request:
    """GET one contact."""
    return _get(_resource("contact", id))


def build_mailing_request(id: Id) -> Request:
    """GET one mailing."""
    return _get(_resource("mailing", id))


def build_credit_transactions_request(
    limit: int, skip: int, filters: Filters
) -> Request:
    """GET a page of the user's credit transactions, filtered."""
    return _list("credittransaction", limit, skip, filters)


def build_credit_transaction_count_request(filters: Filters) -> Request:
    """GET one credit transaction of those matching, to read the total."""
    return _count("credittransaction", filters)


# Contacts ----------------------------------------------------------------


def build_create_contact_request(
    user_id: Id,
    *,
    first_name: str,
    last_name: str,
    address_line_1: str,
    city: str,
    state: str,
    postal_code: str,
    country: str | None = None,
    notes: str | None = None,
    email: str | None = None,
    organization: str | None = None,
    phone: str | None = None,
    birth_year: str | None = None,
    birth_month: str | None = None,
    birth_day: str | None = None,
    anniversary_year: str | None = None,
    anniversary_month: str | None = None,
    anniversary_day: str | None = None,
) -> Request:
    """POST a new contact owned by the user ``user_id``.

    ``notes`` and ``groups`` are always sent (empty by default); ``email``
    goes as ``email_address`` and ``phone`` as ``phone_number``.
    """
    optional = _without_empty(
        [
            ("country", country),
            ("email_address", email),
            ("organization", organization),
            ("phone_number", phone),
            ("birth_year", birth_year),
            ("birth_month", birth_month),
            ("birth_day", birth_day),
            ("anniversary_year", anniversary_year),
            ("anniversary_month", anniversary_month),
            ("anniversary_day", anniversary_day),
        ]
    )
    body = {
        "owner": _resource("user", user_id),
        "first_name": first_name,
        "last_name": last_name,
        "address_line_1": address_line_1,
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "notes": notes or "",
        "groups": "",
        **optional,
    }
    return _post_json(_resource("contact"), body)


def build_delete_contact_request(id: Id) -> Request:
    """DELETE one contact."""
    return Request("DELETE", _resource("contact", id), headers=(_ACCEPT_JSON,))


# Sending -----------------------------------------------------------------


def build_send_card_request(
    template_id: Id,
    initiator: str,
    shipping_address: Address,
    return_address: Address | None = None,
    send_date: str | None = None,
    message: str | None = None,
    extra_data: Mapping[str, str] | None = None,
) -> Request:
    """POST one card: the address keys sit at the top level of the body."""
    body = _without_empty(
        [
            ("template_id", template_id),
            ("initiator", initiator),
            *shipping_address.items(),
            *_return_pairs(return_address),
            ("send_date", send_date),
            ("message", message),
            ("extra_data", dict(extra_data or {})),
        ]
    )
    return _post_json("/cards/open-card-form-oa/", body)


def build_send_cards_request(
    template_id: Id,
    initiator: str,
    shipping_addresses: Sequence[Address],
    return_address: Address | None = None,
    send_date: str | None = None,
    send_if_error: bool = False,
    *,
    today: str,
) -> Request:
    """POST one card to each of several recipients, as one mailing.

    Without ``send_date`` the mailing goes out immediately and ``today``
    (a "YYYY-MM-DD" string the caller reads from its clock) is sent as
    the date; with one, it is scheduled for that date.
    """
    if send_date:
        schedule = [("send_type", "specific_date"), ("send_date", send_date)]
    else:
        schedule = [("send_type", "immediate"), ("send_date", today)]
    body = _without_empty(
        [
            ("template_id", template_id),
            ("initiator", initiator),
            ("recipients", [_address(a) for a in shipping_addresses]),
            *_return_pairs(return_address),
            ("send_even_if_error", "true" if send_if_error else "false"),
            ("offset_type", "before"),
            ("date_offset", "0"),
            *schedule,
        ]
    )
    return _post_json("/cards/open-mailing-form/", body)


def build_campaign_cost_request(
    campaign_id: Id,
    shipping_address: Address,
    return_address: Address | None = None,
    send_date: str | None = None,
) -> Request:
    """POST a campaign send to be priced, not sent.

    The one recipient also carries ``birth_month`` and ``birth_day`` when
    its address has a ``birth_date`` ("YYYY-MM-DD" or "MM-DD").
    """
    recipient = _address(shipping_address)
    birth_date = recipient.get("birth_date")
    if isinstance(birth_date, str) and birth_date:
        month, day = birth_date.split("-")[-2:]
        recipient.update(birth_month=month, birth_day=day)
    body = _without_empty(
        [
            ("campaign_id", campaign_id),
            ("recipients", [recipient]),
            *_return_pairs(return_address),
            ("send_date", send_date),
        ]
    )
    return _post_json("/campaigns/calculate-campaign-price/", body)


def build_send_campaign_request(
    campaign_id: Id,
    initiator: str,
    shipping_address: Address,
    return_address: Address | None = None,
    send_date: str | None = None,
    extra_data: Mapping[str, str] | None = None,
    bypass_duplicate_check: bool = True,
) -> Request:
    """POST a drip campaign to one recipient, the address keys flat."""
    body = _without_empty(
        [
            ("campaign_id", campaign_id),
            ("initiator", initiator),
            *shipping_address.items(),
            *_return_pairs(return_address),
            ("send_date", send_date),
            ("extra_data", dict(extra_data or {})),
            ("bypass_duplicate_check", bool(bypass_duplicate_check)),
        ]
    )
    return _post_json("/campaigns/open-campaign-form/", body)


def build_send_campaign_multi_request(
    campaign_id: Id, initiator: str, contacts: Sequence[Address]
) -> Request:
    """POST a drip campaign to many contacts at once.

    Each contact is an address and may carry its own ``extra_data``.
    """
    body = {
        "campaign_id": campaign_id,
        "initiator": initiator,
        "contacts": [_address(contact) for contact in contacts],
    }
    return _post_json("/campaigns/open-campaign-multi-form/", body)


def build_refresh_token_request(
    refresh_token: str, client_id: str, client_secret: str
) -> Request:
    """POST a refresh token for a new pair of tokens (form-encoded)."""
    form = urlencode(
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ]
    )
    return Request(
        "POST", "/oauth2/token/", headers=_FORM_HEADERS, body=form.encode()
    )

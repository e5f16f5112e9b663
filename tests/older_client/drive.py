"""Drive the published ``python-amcards`` client against a fake server.

Run by the Python of a virtual environment that holds only the older
client (it imports as ``amcards`` too, so it must never share an
environment with this package).  Run it isolated (``python -I``) from a
scratch directory so this repository is not on ``sys.path``::

    python -I drive.py --base-url http://127.0.0.1:PORT --access-token ...

It points ``amcards.amcards.DOMAIN`` at the loopback server, refuses any
connection that is not to a loopback address, makes each documented call
in turn and prints one JSON object: for every step, what came back (type
and public attributes) or what was raised (class and message), with the
fake's counters (``GET /__fake__/counters``) read before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import ipaddress
import json
import socket
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "::1")

# Recipients made up for this script.
KEITH = {
    "first_name": "Keith",
    "last_name": "May",
    "address_line_1": "364 Spruce Drive",
    "city": "Philadelphia",
    "state": "PA",
    "postal_code": "19107",
    "country": "US",
}
NORA = {
    "first_name": "Nora",
    "last_name": "Lindqvist",
    "address_line_1": "12 Birch Lane",
    "city": "Duluth",
    "state": "MN",
    "postal_code": "55802",
    "country": "US",
    "organization": "Lindqvist Tools",
    "third_party_contact_id": "older-1",
}
PAULO = {
    "first_name": "Paulo",
    "last_name": "Reis",
    "address_line_1": "5 Orchard Court",
    "city": "Fresno",
    "state": "CA",
    "postal_code": "93721",
    "country": "US",
}
GRETA = {
    "first_name": "Greta",
    "last_name": "Holm",
    "address_line_1": "40 Quarry Road",
    "city": "Barre",
    "state": "VT",
    "postal_code": "05641",
    "country": "US",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--access-token", required=True)
    parser.add_argument("--expired-access-token", required=True)
    parser.add_argument("--refresh-token", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--template-id", type=int, required=True)
    parser.add_argument("--campaign-id", type=int, required=True)
    parser.add_argument("--no-duplicates-campaign-id", type=int, required=True)
    return parser.parse_args(argv)


def loopback_only() -> None:
    """Make every socket refuse to connect anywhere but loopback."""
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else ""
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = False
        if not allowed:
            raise ConnectionRefusedError(
                f"drive.py connects to loopback only, not {address!r}"
            )
        original(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing a base URL that is not loopback: {url}")


def plain(value: Any) -> Any:
    """A JSON-ready picture of ``value`` (models by public attributes)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return {"enum": type(value).__name__, "name": value.name}
    if isinstance(value, (dt.datetime, dt.date)):
        return {"datetime": value.isoformat()}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    attributes = {}
    for name in dir(type(value)):
        if name.startswith("_"):
            continue
        if isinstance(getattr(type(value), name), property):
            attributes[name] = plain(getattr(value, name))
    return {"model": type(value).__name__, "attributes": attributes}


def type_name(value: Any) -> str:
    if isinstance(value, list):
        inner = sorted({type(item).__name__ for item in value})
        return f"list[{'|'.join(inner)}]"
    return type(value).__name__


class Recorder:
    """Runs the steps and keeps what each one did."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.steps: dict[str, Any] = {}

    def counters(self) -> dict[str, Any]:
        url = f"{self.base_url}/__fake__/counters"
        with urllib.request.urlopen(url, timeout=10) as answer:
            data: dict[str, Any] = json.load(answer)
        return data

    def step(self, name: str, call: Callable[[], Any]) -> Any:
        before = self.counters()
        result: dict[str, Any] = {}
        value = None
        try:
            value = call()
        except Exception as exc:
            result["raised"] = {
                "class": type(exc).__name__,
                "module": type(exc).__module__,
                "bases": [c.__name__ for c in type(exc).__mro__[1:]],
                "message": str(exc),
            }
            if not type(exc).__module__.startswith("amcards"):
                result["traceback"] = traceback.format_exc()
        else:
            result["type"] = type_name(value)
            result["value"] = plain(value)
        after = self.counters()
        result["counters_before"] = _summary(before)
        result["counters_after"] = _summary(after)
        self.steps[name] = result
        return value


def _summary(counters: dict[str, Any]) -> dict[str, Any]:
    return {
        "cards_created": counters["cards_created"],
        "credits": counters["credits"],
        "request_count": counters["request_count"],
        "objects": counters["objects"],
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    check_loopback(args.base_url)
    loopback_only()

    import amcards.amcards as older
    import amcards.exceptions

    older.DOMAIN = args.base_url
    # Nothing has been sent yet; from here on the client only knows the
    # loopback server.
    domain = older.DOMAIN
    if domain != args.base_url:
        raise SystemExit(f"the older client's DOMAIN is {domain!r}")
    check_loopback(domain)

    run = Recorder(args.base_url)
    client = older.AMcardsClient(args.access_token)

    run.step("user", client.user)
    run.step("templates", client.templates)
    run.step("campaigns", client.campaigns)
    run.step("cards", client.cards)
    run.step(
        "cards_filtered",
        lambda: client.cards(filters={"third_party_contact_id": "crm-1"}),
    )
    run.step("card_count", client.card_count)
    run.step("contacts", client.contacts)
    run.step(
        "create_contact",
        lambda: client.create_contact(
            first_name="Greta",
            last_name="Holm",
            address_line_1="40 Quarry Road",
            city="Barre",
            state="VT",
            postal_code="05641",
            country="US",
            email="greta@example.com",
            phone="8025550142",
            birth_year="1975",
            birth_month="04",
            birth_day="09",
        ),
    )
    run.step(
        "contacts_after_create",
        lambda: client.contacts(filters={"last_name": "Holm"}),
    )
    run.step(
        "send_card_cost",
        lambda: client.send_card_cost(
            template_id=args.template_id, shipping_address=KEITH
        ),
    )
    run.step(
        "send_card",
        lambda: client.send_card(
            template_id=args.template_id,
            initiator="older-client",
            shipping_address=KEITH,
            message="Thanks for everything!",
        ),
    )
    run.step(
        "send_cards",
        lambda: client.send_cards(
            template_id=args.template_id,
            initiator="older-client",
            shipping_addresses=[NORA, PAULO],
        ),
    )
    run.step(
        "card_count_after_sends",
        client.card_count,
    )
    blocking = args.no_duplicates_campaign_id
    run.step(
        "send_campaign_cost",
        lambda: client.send_campaign_cost(
            campaign_id=blocking, shipping_address=GRETA
        ),
    )
    run.step(
        "send_campaign",
        lambda: client.send_campaign(
            campaign_id=blocking,
            initiator="older-client",
            shipping_address=GRETA,
        ),
    )
    run.step(
        "send_campaign_again",
        lambda: client.send_campaign(
            campaign_id=blocking,
            initiator="older-client",
            shipping_address=GRETA,
        ),
    )
    for attempt in ("first", "second"):
        run.step(
            f"send_campaign_allowing_duplicates_{attempt}",
            lambda: client.send_campaign(
                campaign_id=args.campaign_id,
                initiator="older-client",
                shipping_address=PAULO,
            ),
        )

    # OAuth: an expired access token and a configuration whose expiration
    # (ms) is in the past, so the first call refreshes and calls back.
    calls: list[dict[str, Any]] = []

    def callback(**kwargs: Any) -> None:
        calls.append(dict(kwargs))

    oauth_config = {
        "refresh_token": args.refresh_token,
        "expiration": 0,
        "client_id": args.client_id,
        "client_secret": args.client_secret,
    }
    refreshing = older.AMcardsClient(
        args.expired_access_token, oauth_config=oauth_config, callback=callback
    )
    started_ms = int(time.time() * 1000)
    run.step("oauth_user", refreshing.user)
    finished_ms = int(time.time() * 1000)
    run.step("oauth_user_again", refreshing.user)
    stale = older.AMcardsClient(
        args.expired_access_token,
        oauth_config={
            **oauth_config,
            "refresh_token": args.refresh_token,
            "expiration": 0,
        },
    )
    run.step("oauth_reused_refresh_token", stale.user)

    output = {
        "amcards_file": amcards.__file__,
        "domain": older.DOMAIN,
        "python": sys.version.split()[0],
        "steps": run.steps,
        "oauth": {
            "callback_calls": calls,
            "started_ms": started_ms,
            "finished_ms": finished_ms,
            "config_after": {
                key: value
                for key, value in oauth_config.items()
                if key != "client_secret"
            },
        },
    }
    print(json.dumps(output, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

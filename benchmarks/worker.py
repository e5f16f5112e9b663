"""Runs benchmarks for one contender, in its own process and environment.

Contenders:

- ``new``: this package's ``AMcardsClient`` (imported from the checkout
  this file sits in);
- ``older``: the published ``python-amcards`` client, run by the Python
  of the separate environment it is installed in;
- ``floor``: raw urllib3 and ``json.loads``, what no client can beat.

Two ways to run it:

``worker.py CONTENDER --serve BASE_URL``
    Reads one JSON command per line on stdin (``{"bench": "card",
    "seconds": 1.0}``) and answers one JSON line on stdout, so that
    ``run.py`` can alternate the contenders round after round.

``worker.py new --memory COUNT --base-url BASE_URL``
    Walks COUNT cards under tracemalloc and prints the peak as JSON.

Only the standard library is imported at the top: the contender's own
imports happen in its class, in whichever environment runs this file.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import itertools
import json
import os
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import canned

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTING_OFFSETS = [n * canned.PAGE_SIZE for n in range(20)]
PARSE_PAGES = 100  # 100 pages of 100: 10,000 card objects
WARM_UP_CALLS = 5


def _check_loopback(base_url: str) -> None:
    if not base_url.startswith("http://127.0.0.1:"):
        raise SystemExit(f"refusing a base URL off loopback: {base_url}")


# The contenders ----------------------------------------------------------


class NewClient:
    """This package's client, over its default urllib3 transport."""

    def __init__(self, base_url: str) -> None:
        sys.path.insert(0, REPO_ROOT)
        import amcards
        from amcards.core import parsers
        from amcards.core.http import Response

        self.module_file = amcards.__file__
        self.version = amcards.__version__
        self.client = amcards.AMcardsClient(canned.TOKEN, base_url=base_url)
        self._base_url = base_url
        self._parse_cards = parsers.parse_cards
        self._response = Response

    def card(self) -> Any:
        return self.client.card(canned.CARD_ID)

    def cards(self, offset: int) -> list[Any]:
        return self.client.cards(limit=canned.PAGE_SIZE, skip=offset)

    def send_card(self) -> Any:
        return self.client.send_card(
            template_id=1,
            initiator="benchmark",
            shipping_address=canned.SHIPPING_ADDRESS,
        )

    def parse_page(self, body: bytes) -> list[Any]:
        response = self._response(
            200, (("Content-Type", "application/json"),), body
        )
        return self._parse_cards(response, self._base_url)

    def iter_cards(self) -> Iterator[Any]:
        """Every card, lazily: ``iter_cards`` where the client has it."""
        walk = getattr(self.client, "iter_cards", None)
        if walk is not None:
            return iter(walk(page_size=canned.PAGE_SIZE))
        return _page_by_page(self.client.cards, canned.PAGE_SIZE)


class OlderClient:
    """The published python-amcards client, pointed at loopback first."""

    def __init__(self, base_url: str) -> None:
        import amcards
        import amcards.amcards as older
        from amcards.models import Card

        ours = os.path.join(REPO_ROOT, "amcards") + os.sep
        if os.path.abspath(amcards.__file__).startswith(ours):
            raise SystemExit("the older client resolved to this checkout")
        older.DOMAIN = base_url  # before any call: never the real service
        _check_loopback(older.DOMAIN)
        self.module_file = amcards.__file__
        self.version = importlib.metadata.version("python-amcards")
        self.client = older.AMcardsClient(canned.TOKEN)
        self._card_from_json = Card._from_json

    def card(self) -> Any:
        return self.client.card(canned.CARD_ID)

    def cards(self, offset: int) -> list[Any]:
        return self.client.cards(limit=canned.PAGE_SIZE, skip=offset)

    def send_card(self) -> Any:
        return self.client.send_card(
            template_id=1,
            initiator="benchmark",
            shipping_address=canned.SHIPPING_ADDRESS,
        )

    def parse_page(self, body: bytes) -> list[Any]:
        # What the older client's cards() does with a response's text.
        objects = json.loads(body).get("objects", [])
        return [self._card_from_json(obj) for obj in objects]


class Floor:
    """Raw urllib3 and json.loads: the least any client can do."""

    def __init__(self, base_url: str) -> None:
        import urllib3

        self.module_file = urllib3.__file__
        self.version = urllib3.__version__
        self._pool = urllib3.PoolManager(maxsize=10)
        self._base_url = base_url
        self._headers = {"Authorization": f"Bearer {canned.TOKEN}"}
        self._post_headers = {
            **self._headers,
            "Content-Type": "application/json",
        }

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        answer = self._pool.request(
            method, url, retries=False, redirect=False, **kwargs
        )
        if answer.status != 200:
            raise RuntimeError(f"{method} {url}: HTTP {answer.status}")
        return json.loads(answer.data)

    def card(self) -> Any:
        url = f"{self._base_url}{canned.CARD_PATH}{canned.CARD_ID}/"
        return self._json("GET", url, headers=self._headers)

    def cards(self, offset: int) -> list[Any]:
        url = (
            f"{self._base_url}{canned.CARD_PATH}"
            f"?limit={canned.PAGE_SIZE}&offset={offset}"
        )
        objects: list[Any] = self._json("GET", url, headers=self._headers)[
            "objects"
        ]
        return objects

    def send_card(self) -> Any:
        body = {
            "template_id": 1,
            "initiator": "benchmark",
            **canned.SHIPPING_ADDRESS,
        }
        return self._json(
            "POST",
            f"{self._base_url}{canned.SEND_CARD_PATH}",
            body=json.dumps(body).encode(),
            headers=self._post_headers,
        )

    def parse_page(self, body: bytes) -> list[Any]:
        objects: list[Any] = json.loads(body)["objects"]
        return objects


CONTENDERS = {"new": NewClient, "older": OlderClient, "floor": Floor}


def _page_by_page(
    fetch: Callable[[int, int], list[Any]], page_size: int
) -> Iterator[Any]:
    """Every card, one page in memory at a time, through ``cards()``."""
    offset = 0
    while True:
        page = fetch(page_size, offset)
        if not page:
            return
        yield from page
        offset += len(page)


# Timing --------------------------------------------------------------------


def _rate(step: Callable[[], int], seconds: float) -> dict[str, float]:
    """Run ``step`` (which returns how many items it handled) for a while.

    Returns the items per second over whole steps, never less than one.
    """
    items = 0
    steps = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        items += step()
        steps += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    elapsed = now - started
    return {"rate": items / elapsed, "steps": steps, "elapsed": elapsed}


class Bench:
    """The named benchmarks, over one contender."""

    def __init__(self, contender: Any) -> None:
        self.contender = contender
        self._offsets = itertools.cycle(LISTING_OFFSETS)
        self._bodies = [
            canned.cards_page_body(canned.PAGE_SIZE, offset, 10**9)
            for offset in range(0, PARSE_PAGES * canned.PAGE_SIZE, 100)
        ]

    def check(self) -> None:
        """Each call answers what the canned server holds."""
        card = self.contender.card()
        card_id = card["id"] if isinstance(card, dict) else card.id
        assert card_id == canned.CARD_ID, card_id
        assert len(self.contender.cards(0)) == canned.PAGE_SIZE
        self.contender.send_card()
        assert len(self.contender.parse_page(self._bodies[0])) == 100

    def card(self) -> int:
        self.contender.card()
        return 1

    def cards(self) -> int:
        return len(self.contender.cards(next(self._offsets)))

    def send_card(self) -> int:
        self.contender.send_card()
        return 1

    def parse(self) -> int:
        parse_page = self.contender.parse_page
        return sum(len(parse_page(body)) for body in self._bodies)

    def run(self, name: str, seconds: float) -> dict[str, float]:
        step = getattr(self, name)
        for _ in range(1 if name == "parse" else WARM_UP_CALLS):
            step()
        return _rate(step, seconds)


def serve(contender_name: str, base_url: str) -> int:
    _check_loopback(base_url)
    contender = CONTENDERS[contender_name](base_url)
    bench = Bench(contender)
    bench.check()
    _reply(
        {
            "ready": True,
            "module": contender.module_file,
            "version": contender.version,
        }
    )
    for line in sys.stdin:
        command = json.loads(line)
        try:
            result = bench.run(command["bench"], float(command["seconds"]))
        except Exception:
            result = {"error": traceback.format_exc()}
        _reply(result)
    return 0


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


# Memory --------------------------------------------------------------------


def one_page_of_models(contender: NewClient) -> int:
    """Bytes that one page of parsed cards holds, as tracemalloc counts."""
    body = canned.cards_page_body(canned.PAGE_SIZE, 0, canned.PAGE_SIZE)
    contender.parse_page(body)  # warm every cache first
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    models = contender.parse_page(body)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(models) == canned.PAGE_SIZE
    return after - before


def walk_under_tracemalloc(contender: NewClient, count: int) -> dict[str, Any]:
    """Walk ``count`` cards; the peak of traced memory above the start."""
    for _ in itertools.islice(contender.iter_cards(), canned.PAGE_SIZE + 1):
        pass  # warm up: connection, lazy imports, a second page
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    seen = 0
    last_id = 0
    started = time.perf_counter()
    for card in itertools.islice(contender.iter_cards(), count):
        seen += 1
        last_id = card.id
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if seen != count or last_id != count:
        raise SystemExit(f"walked {seen} cards, last id {last_id}")
    return {
        "cards": seen,
        "peak_bytes": peak - start,
        "seconds": elapsed,
        "walker": (
            "iter_cards"
            if hasattr(contender.client, "iter_cards")
            else "cards(limit, skip)"
        ),
    }


def memory(base_url: str, count: int) -> int:
    _check_loopback(base_url)
    contender = NewClient(base_url)
    result = walk_under_tracemalloc(contender, count)
    result["one_page_bytes"] = one_page_of_models(contender)
    _reply(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=sorted(CONTENDERS))
    parser.add_argument("--serve", metavar="BASE_URL")
    parser.add_argument("--memory", type=int, metavar="COUNT")
    parser.add_argument("--base-url")
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.contender, args.serve)
    if args.memory and args.base_url and args.contender == "new":
        return memory(args.base_url, args.memory)
    parser.error("give --serve BASE_URL, or new --memory COUNT --base-url")
    return 2


if __name__ == "__main__":
    sys.exit(main())

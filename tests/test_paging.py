"""Walking whole listings: lazily, once per item, robust to moving data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amcards import AMcardsClient
from amcards.core.http import Request, Response, Timeout
from amcards.core.paging import walk_pages
from amcards.transports import fake


def newest_first_listing(
    items: list[int], inserts: dict[int, list[int]]
) -> tuple[Callable[[int, int], list[int]], list[int]]:
    """A listing ordered newest first; before request n, inserts[n] are
    added at the front, as new cards would be."""
    calls = [0]

    def fetch(limit: int, offset: int) -> list[int]:
        for new in inserts.get(calls[0], []):
            items.insert(0, new)
        calls[0] += 1
        return items[offset : offset + limit]

    return fetch, calls


@given(
    count=st.integers(0, 60),
    page_size=st.integers(1, 12),
    inserts=st.dictionaries(st.integers(1, 8), st.integers(0, 12), max_size=4),
)
def test_every_item_once_even_when_new_ones_arrive(
    count: int, page_size: int, inserts: dict[int, int]
) -> None:
    """Items inserted in front while walking never make an item repeat
    or go missing, as long as fewer than a page arrive between pages."""
    items = list(range(count, 0, -1))
    next_id = iter(range(1000, 2000))
    added = {
        call: [next(next_id) for _ in range(min(n, page_size))]
        for call, n in inserts.items()
    }
    fetch, _ = newest_first_listing(items, added)
    walked = list(walk_pages(fetch, page_size, key=lambda item: item))
    assert len(walked) == len(set(walked))
    assert set(range(1, count + 1)) <= set(walked)


def test_empty_page_ends_the_walk_whatever_the_count() -> None:
    """The walk stops at the first empty page."""
    pages = [[1, 2], [3], []]
    asked: list[tuple[int, int]] = []

    def fetch(limit: int, offset: int) -> list[int]:
        asked.append((limit, offset))
        return pages[len(asked) - 1]

    assert list(walk_pages(fetch, 2, key=int)) == [1, 2, 3]
    assert asked == [(2, 0), (2, 2), (2, 3)]


def test_next_offset_counts_what_came_back() -> None:
    """A server that caps the page size is walked to the end."""
    data = list(range(25))
    asked: list[int] = []

    def capped(limit: int, offset: int) -> list[int]:
        asked.append(offset)
        return data[offset : offset + min(limit, 10)]

    assert list(walk_pages(capped, 100, key=int)) == data
    assert asked == [0, 10, 20, 25]


def test_walk_is_lazy() -> None:
    """No page is fetched before the first item is asked for."""
    asked: list[int] = []

    def fetch(limit: int, offset: int) -> list[int]:
        asked.append(offset)
        return [offset] if offset < 3 else []

    walk = walk_pages(fetch, 1, key=int)
    assert asked == []
    assert next(walk) == 0
    assert asked == [0]


@pytest.mark.parametrize("size", [0, -1])
def test_page_size_must_be_positive(size: int) -> None:
    """A page size below one is refused."""
    with pytest.raises(ValueError, match="page_size"):
        list(walk_pages(lambda limit, offset: [], size, key=int))


class Inserting:
    """A fake transport that adds a card before some listing requests."""

    def __init__(self, service: fake.FakeAMcards, every: int) -> None:
        self.inner = fake.FakeTransport(service)
        self.service = service
        self.every = every
        self.listings = 0
        self.added: list[int] = []

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        if request.path == "/.api/v1/card/":
            self.listings += 1
            if self.listings % self.every == 0:
                self.added.append(add_card(self.service))
        return self.inner.send(request, timeout=timeout)

    def close(self) -> None:
        self.inner.close()


def add_card(service: fake.FakeAMcards) -> int:
    return service.add_card(
        owner=fake.DEMO_USER_ID,
        template_id=fake.DEMO_TEMPLATE_ID,
        shipping_address={
            "first_name": "Keith",
            "last_name": "May",
            "address_line_1": "364 Spruce Drive",
            "city": "Philadelphia",
            "state": "PA",
            "postal_code": "19107",
            "country": "US",
        },
    )


@pytest.mark.slow
def test_iter_cards_over_ten_thousand_with_inserts() -> None:
    """iter_cards yields each of 10,000 cards once while new ones arrive."""
    service = fake.FakeAMcards.demo()
    for _ in range(10_000 - service.cards_created - 7):
        add_card(service)
    transport = Inserting(service, every=3)
    client = AMcardsClient(fake.DEMO_ACCESS_TOKEN, transport=transport)
    before = {card.id for card in client.iter_cards(page_size=1000)}
    transport.added.clear()

    walked = [
        card.id
        for card in client.iter_cards({"order_by": "-id"}, page_size=250)
    ]
    assert len(walked) == len(set(walked))
    assert before <= set(walked)
    assert transport.added, "no card was inserted while paging"


def test_iterators_of_every_listing() -> None:
    """Each iter_* call walks its whole listing."""
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN, transport=fake.FakeTransport()
    )
    assert list(client.iter_templates(page_size=1)) == client.templates(100)
    assert list(client.iter_campaigns(page_size=1)) == client.campaigns(100)
    assert list(client.iter_contacts(page_size=2)) == client.contacts(100)
    assert list(client.iter_credit_transactions(page_size=1)) == (
        client.credit_transactions(100)
    )
    assert list(client.iter_cards(page_size=3)) == client.cards(100)


def test_deleting_during_a_walk_skips_items_and_collecting_first_does_not():
    """The documented limit of offset paging, and its remedy."""
    from amcards import AMcardsClient
    from amcards.transports import fake

    service = fake.FakeAMcards.demo()
    client = AMcardsClient(
        fake.DEMO_ACCESS_TOKEN, transport=fake.FakeTransport(service)
    )
    for number in range(8):
        client.create_contact(
            f"Person{number}", "Test", "1 Main St", "Reno", "NV", "89501"
        )
    total = len(list(client.iter_contacts(page_size=3)))
    deleted = 0
    for contact in client.iter_contacts(page_size=3):
        client.delete_contact(contact.id)
        deleted += 1
    assert deleted < total
    for contact in list(client.iter_contacts(page_size=3)):
        client.delete_contact(contact.id)
    assert list(client.iter_contacts(page_size=3)) == []

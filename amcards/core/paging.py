"""Walking a limit/offset listing lazily, one page in memory at a time.

The service pages with ``limit`` and ``offset``, and its data can move
while a listing is walked: a card created meanwhile shifts the others
along, so the next page may start with items already seen.  The walk
therefore asks for the next offset as the current one plus what actually
came back, stops only at an empty page (whatever ``total_count`` said,
and even after a short page, since a server may cap the page size), and
drops items whose key is among the last two pages' worth of keys it met.
Remembering only that many keeps memory flat however long the listing
is; an item pushed back further than that between two requests would be
yielded twice.

Items removed while the listing is walked are the one change offsets
cannot survive: every later item moves forward, past the next offset, and
is never seen.  To delete what a walk finds, collect it first
(``list(client.iter_contacts())``), then delete.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

__all__ = ["walk_pages"]

T = TypeVar("T")


def walk_pages(
    fetch: Callable[[int, int], list[T]],
    page_size: int,
    key: Callable[[T], Hashable],
    *,
    start: int = 0,
) -> Iterator[T]:
    """Yield every item of a listing, fetching pages as they are needed.

    Args:
        fetch: ``fetch(limit, offset)`` returns one page.
        page_size: How many items to ask for at a time (at least 1).
        key: What makes two items the same (usually the id).
        start: The offset of the first item.
    """
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError("page_size must be an int")
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    recent: deque[Hashable] = deque(maxlen=2 * page_size)
    offset = start
    while True:
        page = fetch(page_size, offset)
        if not page:
            return
        seen = set(recent)
        for item in page:
            item_key = key(item)
            if item_key not in seen:
                yield item
                seen.add(item_key)
            recent.append(item_key)
        offset += len(page)
        # Let this page go before the next one is fetched and parsed.
        page = []

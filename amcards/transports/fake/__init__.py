"""A fake AMcards service for tests and demos: nothing is ever mailed.

:class:`FakeAMcards` answers requests in memory as the real service would
(see ``amcards-http-api.md``); :meth:`FakeAMcards.demo` gives one holding
a demo account.  :class:`FakeTransport` plugs it into a client without
sockets, and :class:`FakeServer` serves it over HTTP on loopback with a
control API for seeding, counters and staged faults.

    >>> from amcards import AMcardsClient
    >>> from amcards.transports.fake import DEMO_ACCESS_TOKEN, FakeTransport
    >>> client = AMcardsClient(DEMO_ACCESS_TOKEN, transport=FakeTransport())
    >>> client.template(1).name
    'Thank You'

The fake writes and reads the wire format by itself; it shares no code
with the client's builders and parsers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amcards.transports.fake.demo import (
    DEMO_ACCESS_TOKEN,
    DEMO_CAMPAIGN_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_CONTACT_ID,
    DEMO_CREDITS,
    DEMO_EMAIL,
    DEMO_EXPIRED_ACCESS_TOKEN,
    DEMO_GIFT_TEMPLATE_ID,
    DEMO_MAILING_ID,
    DEMO_NO_DUPLICATES_CAMPAIGN_ID,
    DEMO_OTHER_ACCESS_TOKEN,
    DEMO_OTHER_USER_ID,
    DEMO_QUICKSEND_ID,
    DEMO_REFRESH_TOKEN,
    DEMO_RETURNED_CARD_ID,
    DEMO_TEMPLATE_ID,
    DEMO_USER_ID,
    OTHER_CAMPAIGN_ID,
    OTHER_CARD_ID,
    OTHER_CONTACT_ID,
    OTHER_MAILING_ID,
    OTHER_TEMPLATE_ID,
)
from amcards.transports.fake.faults import Fault
from amcards.transports.fake.service import FakeAMcards
from amcards.transports.fake.transport import FakeTransport

if TYPE_CHECKING:
    from amcards.transports.fake.server import FakeServer

__all__ = [
    "DEMO_ACCESS_TOKEN",
    "DEMO_CAMPAIGN_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_CONTACT_ID",
    "DEMO_CREDITS",
    "DEMO_EMAIL",
    "DEMO_EXPIRED_ACCESS_TOKEN",
    "DEMO_GIFT_TEMPLATE_ID",
    "DEMO_MAILING_ID",
    "DEMO_NO_DUPLICATES_CAMPAIGN_ID",
    "DEMO_OTHER_ACCESS_TOKEN",
    "DEMO_OTHER_USER_ID",
    "DEMO_QUICKSEND_ID",
    "DEMO_REFRESH_TOKEN",
    "DEMO_RETURNED_CARD_ID",
    "DEMO_TEMPLATE_ID",
    "DEMO_USER_ID",
    "OTHER_CAMPAIGN_ID",
    "OTHER_CARD_ID",
    "OTHER_CONTACT_ID",
    "OTHER_MAILING_ID",
    "OTHER_TEMPLATE_ID",
    "FakeAMcards",
    "FakeServer",
    "FakeTransport",
    "Fault",
]


def __getattr__(name: str) -> Any:
    # The server pulls in http.server; it is loaded only when asked for.
    if name == "FakeServer":
        from amcards.transports.fake.server import FakeServer

        return FakeServer
    raise AttributeError(name)

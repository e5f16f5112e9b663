"""Where the older client kept its client class; kept so imports work.

``from amcards.amcards import AMcardsClient`` is the same class as
``amcards.AMcardsClient``.
"""

from __future__ import annotations

from amcards.client import AMcardsClient
from amcards.core.models import DEFAULT_BASE_URL

__all__ = ["DOMAIN", "AMcardsClient"]

#: The older client's name for the default server.  Changing it has no
#: effect here: pass ``base_url=`` to the client instead.
DOMAIN = DEFAULT_BASE_URL

"""``python -m amcards.transports.fake``: serve the demo account."""

from __future__ import annotations

import sys

from amcards.transports.fake.server import main

sys.exit(main())

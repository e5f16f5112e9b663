"""``python -m amcards``: the same command as ``amcards``."""

from __future__ import annotations

import sys

from amcards.cli import main

if __name__ == "__main__":
    sys.exit(main())

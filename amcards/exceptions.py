"""The exceptions, at the import path the older client used.

Everything here is defined in :mod:`amcards.core.errors`.
"""

from __future__ import annotations

from amcards.core import errors as _home
from amcards.core.errors import *  # noqa: F403

__all__ = list(_home.__all__)

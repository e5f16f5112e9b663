"""The models, at the import path the older client used.

Everything here is defined in :mod:`amcards.core.models`.
"""

from __future__ import annotations

from amcards.core import models as _home
from amcards.core.models import *  # noqa: F403

__all__ = list(_home.__all__)

"""The fake service behind ``amcards ... --fake``, for the command-line
tests."""

from __future__ import annotations

import pytest

from amcards import cli
from amcards.transports.fake import FakeAMcards


def use_service(monkeypatch: pytest.MonkeyPatch, fake: FakeAMcards) -> None:
    """Make --fake use ``fake``, with no AMCARDS_* settings taken from
    the environment."""
    monkeypatch.setattr(cli, "_demo_service", lambda: fake)
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    monkeypatch.delenv(cli.BASE_URL_ENV, raising=False)

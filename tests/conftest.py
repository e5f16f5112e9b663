"""Settings shared by the whole test suite."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from amcards.transports.fake import FakeAMcards

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeAMcards:
    """The demo account of the fake service behind ``amcards ... --fake``,
    kept so a test can look at it.

    Test modules of the client itself define a plain ``service`` of
    their own, which takes precedence there.
    """
    from fake_account import use_service

    from amcards.transports.fake import FakeAMcards

    fake = FakeAMcards.demo()
    use_service(monkeypatch, fake)
    return fake

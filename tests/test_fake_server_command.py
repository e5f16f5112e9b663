"""`amcards fake-server` as a user runs it: a process on loopback that
prints its settings, which other programs then use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import urllib3

from amcards import AMcardsClient
from amcards.transports.urllib3_transport import Urllib3Transport

pytestmark = pytest.mark.sockets

NAMES = (
    "AMCARDS_BASE_URL",
    "AMCARDS_ACCESS_TOKEN",
    "AMCARDS_REFRESH_TOKEN",
    "AMCARDS_CLIENT_ID",
    "AMCARDS_CLIENT_SECRET",
)


@pytest.fixture(scope="module")
def settings() -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "amcards", "fake-server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = {}
        for _ in NAMES:
            name, _, value = process.stdout.readline().strip().partition("=")
            found[name] = value
        yield found
    finally:
        process.terminate()
        process.wait(10)


def test_prints_every_setting_a_client_needs(settings: dict[str, str]) -> None:
    """One NAME=value line for each setting, the URL on loopback."""
    assert tuple(settings) == NAMES
    assert settings["AMCARDS_BASE_URL"].startswith("http://127.0.0.1:")
    assert all(settings.values())


def test_the_command_line_reads_the_settings_from_the_environment(
    settings: dict[str, str],
) -> None:
    """`amcards user --json` reaches the server through the variables."""
    env = {**os.environ, **settings}
    done = subprocess.run(
        [sys.executable, "-m", "amcards", "user", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["email"] == "demo@example.com"
    assert settings["AMCARDS_ACCESS_TOKEN"] not in done.stdout + done.stderr


def test_the_client_and_the_control_api_agree(
    settings: dict[str, str],
) -> None:
    """A card sent by the client shows in the server's own counters."""
    base_url = settings["AMCARDS_BASE_URL"]
    counters_url = f"{base_url}/__fake__/counters"

    def cards_created() -> int:
        answer = urllib3.request("GET", counters_url, timeout=10)
        return int(json.loads(answer.data)["cards_created"])

    before = cards_created()
    client = AMcardsClient(
        settings["AMCARDS_ACCESS_TOKEN"],
        base_url=base_url,
        transport=Urllib3Transport(),
    )
    with client:
        client.send_card(
            1,
            "tests",
            {
                "first_name": "Keith",
                "last_name": "May",
                "address_line_1": "364 Spruce Drive",
                "city": "Philadelphia",
                "state": "PA",
                "postal_code": "19107",
            },
        )
    assert cards_created() == before + 1

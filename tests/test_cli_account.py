"""Where the command line takes its token and server from, and what it
refuses: nothing is contacted when a setting is empty or malformed."""

from __future__ import annotations

import pytest

from amcards import cli
from amcards.transports.fake import DEMO_ACCESS_TOKEN, FakeServer


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    monkeypatch.delenv(cli.BASE_URL_ENV, raising=False)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a client is built at all."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a client was built")

    import amcards.transports.urllib3_transport as u3t

    monkeypatch.setattr(u3t.Urllib3Transport, "send", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("argv", "environment", "message"),
    [
        (["--token", ""], {}, "--token is empty"),
        (["--token", "   "], {}, "--token is empty"),
        (
            ["--token", ""],
            {cli.TOKEN_ENV: "from-the-environment"},
            "--token is empty",
        ),
        (
            ["--token", "tok", "--base-url", ""],
            {},
            "--base-url is empty",
        ),
        (
            ["--token", "tok", "--base-url", ""],
            {cli.BASE_URL_ENV: "http://127.0.0.1:9"},
            "--base-url is empty",
        ),
        (
            ["--token", "tok"],
            {cli.BASE_URL_ENV: ""},
            f"${cli.BASE_URL_ENV} is set but empty",
        ),
        ([], {cli.TOKEN_ENV: " "}, f"${cli.TOKEN_ENV} is set but empty"),
        ([], {}, "no access token"),
        (
            ["--token", "bad token"],
            {},
            "--token: contains spaces or control characters",
        ),
        (
            [],
            {cli.TOKEN_ENV: "bad\ttoken"},
            f"${cli.TOKEN_ENV}: contains spaces or control characters",
        ),
        (
            ["--token", "tok", "--base-url", "http://127.0.0.1:99999"],
            {},
            "--base-url: the port is not a number from 1 to 65535",
        ),
        (
            ["--token", "tok"],
            {cli.BASE_URL_ENV: "ftp://127.0.0.1"},
            f"${cli.BASE_URL_ENV}: 'ftp://127.0.0.1' is not an http://",
        ),
        (
            ["--token", "tok", "--base-url", "http://u:pw@127.0.0.1:9"],
            {},
            "--base-url: must not carry a user name or password",
        ),
        (["--fake", "--token", ""], {}, "--fake uses the demo account"),
        (["--fake", "--base-url", ""], {}, "--fake uses the demo account"),
    ],
)
@pytest.mark.parametrize("command", ["user", "templates", "cards"])
def test_bad_settings_are_usage_errors_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    argv: list[str],
    environment: dict[str, str],
    message: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert cli.main([command, *argv]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err
    assert "pw" not in err


@pytest.mark.sockets
def test_the_option_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(cli.TOKEN_ENV, "not-the-demo-token")
    monkeypatch.setenv(cli.BASE_URL_ENV, "http://127.0.0.1:9")
    with FakeServer() as server:
        argv = ["user", "--json", "--token", f" {DEMO_ACCESS_TOKEN}\n"]
        argv += ["--base-url", f"{server.base_url}/"]
        assert cli.main(argv) == cli.EXIT_OK
    assert '"email"' in capsys.readouterr().out


@pytest.mark.sockets
def test_the_environment_is_used_without_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeServer() as server:
        monkeypatch.setenv(cli.TOKEN_ENV, DEMO_ACCESS_TOKEN)
        monkeypatch.setenv(cli.BASE_URL_ENV, server.base_url)
        assert cli.main(["user", "--json"]) == cli.EXIT_OK
    assert '"email"' in capsys.readouterr().out


@pytest.mark.sockets
def test_a_scheme_in_capitals_is_accepted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeServer() as server:
        monkeypatch.setenv(cli.TOKEN_ENV, DEMO_ACCESS_TOKEN)
        url = server.base_url.replace("http://", "HTTP://")
        monkeypatch.setenv(cli.BASE_URL_ENV, url)
        assert cli.main(["user", "--json"]) == cli.EXIT_OK
    assert '"email"' in capsys.readouterr().out

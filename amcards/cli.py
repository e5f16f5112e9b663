"""The ``amcards`` command: mail a recipients file, and look around.

``amcards send-cards FILE --template ID`` works in stages, and nothing is
sent until every stage before the last has passed: read and map the file,
check every row and reject repeated ones, leave out the rows a journal
(``--journal``) holds as sent, price the rest and hold the estimate
against the balance and ``--max-cost``, ask for confirmation, then send
one card per row, reporting each row as it goes and a summary at the
end.  With a journal every send goes through the send ledger
(:mod:`amcards.ledger`) under a key derived from the row, so running the
same command again after a crash sends only what is left.
``templates``, ``user`` and ``cards`` show what the account holds.

Importing this module is cheap: the client, the models and the transports
are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from amcards import csvinput
from amcards.core import validators
from amcards.core.errors import (
    AMcardsException,
    AuthenticationError,
    ForbiddenCampaignError,
    ForbiddenTemplateError,
    InsufficientCreditsError,
    SendInProgressError,
    SendOutcomeUnknownError,
    ValidationError,
)
from amcards.core.validators import MAX_ID, MAX_INITIATOR_LENGTH

if TYPE_CHECKING:
    from amcards.client import AMcardsClient
    from amcards.core.models import User
    from amcards.ledger import Entry, SendLedger
    from amcards.transports.fake import FakeAMcards

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_NOT_ALL_SENT",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "format_cents",
    "main",
    "parse_dollars",
]

EXIT_OK = 0
EXIT_NOT_ALL_SENT = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

TOKEN_ENV = "AMCARDS_ACCESS_TOKEN"
BASE_URL_ENV = "AMCARDS_BASE_URL"
DEFAULT_BASE_URL = "https://amcards.com"
#: The server a journal records for --fake runs (the fake transport's
#: ``ledger_server``).
FAKE_BASE_URL = "https://amcards.fake.invalid"
DEFAULT_INITIATOR = "amcards-cli"

# Errors after which every further send would fail the same way.
_ACCOUNT_ERRORS = (
    AuthenticationError,
    ForbiddenCampaignError,
    ForbiddenTemplateError,
    InsufficientCreditsError,
)


class UsageError(Exception):
    """The command line or the file cannot be used; nothing was sent."""


def format_cents(cents: int) -> str:
    """Show whole cents as dollars: 1234 -> "$12.34"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


# ASCII digits only: \d would match any script's digits (full-width too).
_DOLLARS = re.compile(r"\$?([0-9]+)(?:\.([0-9]{1,2}))?")

#: The largest --max-cost accepted, in cents ($1,000,000): anything above
#: is taken for a typing mistake.
MAX_DOLLARS_CENTS = 100_000_000


def parse_dollars(text: str, what: str = "the amount") -> int:
    """Read a dollar amount ("25", "25.5", "25.00", "$25.00") as cents.

    Anything else (cents, commas, more than two decimals, digits other
    than 0-9) is refused rather than guessed at, and so are negative
    amounts (any minus sign, "-0" too) and amounts over $1,000,000.
    ``what`` names the amount in the messages.

    Raises:
        argparse.ArgumentTypeError: the text is not such an amount.
    """
    stripped = text.strip()
    match = _DOLLARS.fullmatch(stripped.removeprefix("-"))
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{what} {text!r} is not an amount in dollars; write it like "
            "25, 25.00 or $25.00"
        )
    if stripped.startswith("-"):
        raise argparse.ArgumentTypeError(
            f"{what} must not be negative (got {text!r})"
        )
    whole, part = match.group(1), match.group(2) or "0"
    cents = int(whole) * 100 + int(part.ljust(2, "0"))
    if cents > MAX_DOLLARS_CENTS:
        raise argparse.ArgumentTypeError(
            f"{what} {text!r} is too large (at most "
            f"{format_cents(MAX_DOLLARS_CENTS)})"
        )
    return cents


# The command line --------------------------------------------------------

_FIELD_LIST = textwrap.fill(
    "Fields: " + ", ".join(csvinput.FIELD_ALIASES) + ".", width=74
)

SEND_CARDS_HELP = f"""\
Mail one card (or start one drip campaign) per row of a CSV file.

The file is read as CRMs and Excel write it: UTF-8 with or without a byte
order mark, quoted fields, CRLF line ends.  Headers are matched ignoring
case, spaces and punctuation; the usual spellings are known (First Name,
Street Address, Address Line 1, MailingStreet, State/Region, Postal Code,
Zip, Country/Region, Company, Record ID, Phone Number, Birthday...).  Use
--map "Your Header=field" for any other spelling, or "Header=ignore" to
leave a column out; where two columns share a header, name one by its
position instead: --map "#7=ignore" for the seventh.  Columns that match
no field are listed as ignored.
{_FIELD_LIST}

Every row is checked before anything is sent; a bad row is named with its
line number and reason and is not sent.  Rules:
  - first name, last name, street address, city and postal code are
    required; the state only for US, Canadian and Australian addresses;
  - a row with no country is checked as a US address; US postal codes
    must have 5 digits or be ZIP+4 (12345-6789);
  - a birthday must be a real date, YYYY-MM-DD or MM-DD (02-29 is fine);
  - a phone must be 10 digits, or 11 starting with 1, once spaces, dots,
    dashes, brackets and a leading + are removed.  With --template the
    phone is not sent, so a phone that does not fit (an international
    number, say) is only a warning; with --campaign it is sent, so the
    row is rejected;
  - an address line over {csvinput.LONG_LINE} characters is a warning; \
the row is still sent.

A row that repeats an earlier one (the same name and address, compared
ignoring case and spacing) is rejected as "same recipient as line N", so
a contact exported twice is mailed once; --allow-duplicates sends every
copy.

Then the rows are priced.  If your balance is below the estimate, nothing
is sent.  --max-cost DOLLARS (25, 25.00 or $25.00; dollars, never cents)
caps the run: nothing is sent if the estimate is higher, and the run
stops before a row whose price would take its charges past the cap.
Then you are asked to confirm on the terminal.  Without a terminal
nothing is sent unless --yes is given.  One card is sent per row; a row
the service refuses is reported and the rest go on, except after a
refused token, a template or campaign not in the account, or too few
credits, when the remaining rows are left unsent.  Ctrl-C stops after
the current row and prints what was sent.

--journal FILE writes each send into FILE (an SQLite file, created when
missing) before it goes out.  Run the same command again after a crash,
a kill or Ctrl-C and only the rows not yet sent go out:
  - a row the journal holds as sent is reported as "already sent
    (journal)" with its card id, and is neither priced nor sent;
  - a row whose answer was lost is first looked up among your recent
    cards; it is sent again only when no card has shown up a minute
    after the attempt (until then it is skipped: run again later).  A
    --campaign row whose answer was lost is never sent again: check it
    in your account;
  - a row another run is sending right now is skipped.
A row is known by the template or campaign, the send date, the message
and the normalised address, not by its line: the file may be sorted or
grown between runs.  The journal remembers rows for good; to mail the
same people again on purpose, use a new journal file or --send-date.
A journal serves one server: its first sending run ties it to that
server (--fake runs to the embedded fake service), and a run against
another server with the same journal stops before sending anything.

The access token comes from ${TOKEN_ENV} or --token (the variable
is safer: other users of this machine can see command lines); the server
from ${BASE_URL_ENV} or --base-url (default {DEFAULT_BASE_URL}).
--fake uses the embedded fake service's demo account instead: nothing is
posted.
"""

EXIT_STATUS_HELP = f"""\
exit status:
  {EXIT_OK}    every row was sent, in this run or (--journal) an earlier
       one; with --dry-run: every row would be
  {EXIT_NOT_ALL_SENT}    some rows were rejected, failed, skipped or not sent;
       the balance or --max-cost stopped the run; the service
       refused a request (the token, say) or could not be reached;
       or the output was closed before all of it was printed (| head,
       say), though the run itself went on to the end (and --journal
       recorded every send)
  {EXIT_USAGE}    usage error, nothing sent: bad option, unreadable file, no
       token, a template or campaign that is not in the account, or
       --yes needed without a terminal to ask on
  {EXIT_INTERRUPTED}  stopped with Ctrl-C
"""


GENERAL_EXIT_HELP = f"""\
exit status:
  {EXIT_OK}    done
  {EXIT_NOT_ALL_SENT}    not everything was done: the service refused a request
       or could not be reached, (send-cards) some rows were not sent,
       or the output was closed before all of it was printed (| head,
       say); what was left to print was dropped
  {EXIT_USAGE}    usage error: bad option, unreadable file or no token; nothing
       was sent
  {EXIT_INTERRUPTED}  stopped with Ctrl-C
'amcards COMMAND --help' says more about each command.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    common = argparse.ArgumentParser(add_help=False)
    account = common.add_argument_group("account")
    account.add_argument(
        "--fake",
        action="store_true",
        help="use the embedded fake service's demo account (no token)",
    )
    account.add_argument(
        "--token",
        help=f"access token (default: ${TOKEN_ENV})",
    )
    account.add_argument(
        "--base-url",
        help=f"AMcards server (default: ${BASE_URL_ENV} or "
        f"{DEFAULT_BASE_URL})",
    )
    common.add_argument(
        "--json", action="store_true", help="print JSON for machines"
    )

    parser = argparse.ArgumentParser(
        prog="amcards",
        description="Send AMcards greeting cards from the command line.",
        epilog=GENERAL_EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"amcards {_version()}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_send_cards(commands, common)
    _add_listing(commands, common, "templates", "list your templates")
    _add_listing(commands, common, "cards", "list cards you have sent")
    user = commands.add_parser(
        "user",
        parents=[common],
        help="show your account: credits, prices, return address",
        description="Show your account: credits, prices, return address.",
    )
    user.set_defaults(run=_run_user)
    _add_journal(commands)
    _add_fake_server(commands)
    return parser


def _version() -> str:
    from amcards import __version__

    return __version__


def _add_journal(commands: Any) -> None:
    journal = commands.add_parser(
        "journal",
        help="list a send-cards journal, or settle a send whose outcome "
        "is unknown",
        description="List the sends recorded in a --journal file, or "
        "record by hand what happened to one whose outcome is unknown "
        "(after checking the account, e.g. with 'amcards cards "
        "--contact-id ID'). Nothing is sent.",
    )
    journal.add_argument("file", metavar="JOURNAL")
    journal.add_argument(
        "--state",
        choices=["pending", "sent", "refused", "unknown"],
        help="list only entries in this state",
    )
    settle = journal.add_mutually_exclusive_group()
    settle.add_argument(
        "--mark-sent",
        metavar="KEY",
        help="record that the send under KEY went out (a rerun skips it)",
    )
    settle.add_argument(
        "--mark-refused",
        metavar="KEY",
        help="record that the send under KEY did not go out (a rerun "
        "sends it again)",
    )
    journal.add_argument(
        "--card-id",
        action="append",
        default=[],
        metavar="ID",
        help="with --mark-sent: the card it made (repeatable)",
    )
    journal.add_argument(
        "--json", action="store_true", help="print JSON for machines"
    )
    journal.set_defaults(run=_run_journal)


def _run_journal(args: argparse.Namespace) -> int:
    import sqlite3

    if os.path.isdir(args.file):
        raise UsageError(f"{args.file} is a folder, not a journal")
    if not os.path.isfile(args.file):
        raise UsageError(f"no journal at {args.file}")
    for option, value in (
        ("--mark-sent", args.mark_sent),
        ("--mark-refused", args.mark_refused),
    ):
        if value is not None and not value.strip():
            raise UsageError(f"{option} is empty")
    if args.card_id and not args.mark_sent:
        raise UsageError("--card-id goes with --mark-sent")
    args.card_id = [
        _check_id("--card-id", value, "a card number like 1234")
        for value in args.card_id
    ]
    _refuse_foreign_database(args.file, "journal")
    try:
        ledger = _open_ledger(args.file)
    except ValidationError as exc:
        if exc.field != "path":
            raise
        raise UsageError(
            f"cannot read {args.file} as a journal: {exc.reason}"
        ) from exc
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"cannot read {args.file} as a journal: {exc}"
        ) from exc
    with ledger:
        key = args.mark_sent or args.mark_refused
        if key is not None:
            return _settle_by_hand(ledger, args, key)
        entries = list(ledger.entries(args.state))
        server = ledger.server
    if args.json:
        _print_json([_plain(entry) for entry in entries])
        return EXIT_OK
    rows = [
        [
            entry.key[:16],
            entry.kind,
            entry.state,
            entry.updated.strftime("%Y-%m-%d %H:%M"),
            _entry_recipient(entry),
            entry.error or "",
        ]
        for entry in entries
    ]
    headers = ["KEY", "KIND", "STATE", "UPDATED (UTC)", "TO", "ERROR"]
    if server is not None:
        _say(f"Journal {args.file}: sends to {_describe_server(server)}.")
    _out(_table(headers, rows))
    return EXIT_OK


def _entry_recipient(entry: Entry) -> str:
    request = entry.request or {}
    address = request.get("shipping_address") or {}
    if not address:
        recipients = request.get("shipping_addresses") or request.get(
            "contacts"
        )
        return f"{len(recipients)} recipients" if recipients else ""
    return " ".join(
        part
        for part in (address.get("first_name"), address.get("last_name"))
        if part
    )


def _settle_by_hand(
    ledger: SendLedger, args: argparse.Namespace, key: str
) -> int:
    matches = [
        entry for entry in ledger.entries() if entry.key.startswith(key)
    ]
    if len(matches) != 1:
        found = "no entry" if not matches else f"{len(matches)} entries"
        raise UsageError(f"{found} with a key starting {key!r}")
    entry = matches[0]
    abandoned = entry.state == "pending" and ledger.is_stale(entry)
    if entry.state != "unknown" and not abandoned:
        raise UsageError(
            f"the send under {entry.key[:16]} is {entry.state}; only an "
            "unknown (or abandoned pending) one is settled by hand"
        )
    if args.mark_sent:
        result: dict[str, Any] = {"settled_by_hand": True}
        if args.card_id:
            result["card_ids"] = list(args.card_id)
            result["card_id"] = args.card_id[0]
        ledger.mark_sent(entry.key, result)
        _out(f"{entry.key[:16]}: recorded as sent")
    else:
        ledger.mark_refused(entry.key, "settled by hand: not sent")
        _out(f"{entry.key[:16]}: recorded as not sent; a rerun sends it")
    return EXIT_OK


def _add_fake_server(commands: Any) -> None:
    # Listed here for --help only: main() hands the command line to the
    # fake server's own parser, so that other commands never load it.
    commands.add_parser(
        "fake-server",
        add_help=False,
        help="serve the fake AMcards demo account over HTTP on loopback "
        "(see 'amcards fake-server --help')",
    )


def _run_fake_server(argv: Sequence[str]) -> int:
    from amcards.transports.fake.server import main as serve

    try:
        return serve(argv, prog="amcards fake-server")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE


def _add_send_cards(commands: Any, common: argparse.ArgumentParser) -> None:
    send = commands.add_parser(
        "send-cards",
        parents=[common],
        help="mail a card to each row of a CSV file",
        description=SEND_CARDS_HELP,
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    send.add_argument("file", metavar="RECIPIENTS.csv")
    what = send.add_mutually_exclusive_group(required=True)
    what.add_argument("--template", metavar="ID", help="template to send")
    what.add_argument(
        "--campaign",
        metavar="ID",
        help="send this drip campaign to each row instead (phone and "
        "birthday are sent too)",
    )
    send.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help="read column HEADER as FIELD (repeatable); FIELD 'ignore' "
        "leaves the column out; HEADER may be a position, #1 for the "
        "first column",
    )
    send.add_argument(
        "--send-date",
        metavar="YYYY-MM-DD",
        help="date to mail the cards (a date in the past or more than a "
        "year ahead is warned about before you confirm)",
    )
    send.add_argument(
        "--message",
        help="message printed inside each card (--template); line breaks "
        "and tabs are kept, other control characters refused",
    )
    send.add_argument(
        "--initiator",
        default=DEFAULT_INITIATOR,
        help="who sends, as recorded on each card: one line of at most "
        f"{MAX_INITIATOR_LENGTH} characters (default: {DEFAULT_INITIATOR})",
    )
    send.add_argument(
        "--journal",
        metavar="FILE",
        help="record every send in FILE first; run the same command "
        "again after a crash and only rows not yet sent go out",
    )
    send.add_argument(
        "--max-cost",
        metavar="DOLLARS",
        help="spend at most this many dollars (25, 25.00 or $25.00): "
        "send nothing if the estimate is higher, stop before a row that "
        "would take the charges past it",
    )
    send.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="send every copy of a row that repeats an earlier one "
        "(default: reject the copies)",
    )
    send.add_argument(
        "--dry-run",
        action="store_true",
        help="check and price every row, send nothing (with --journal: "
        "only the rows not sent yet; a new journal is not created)",
    )
    send.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="send without asking for confirmation",
    )
    send.set_defaults(run=_run_send_cards)


def _add_listing(
    commands: Any, common: argparse.ArgumentParser, name: str, summary: str
) -> None:
    listing = commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
    )
    listing.add_argument(
        "--limit",
        default="25",
        help=f"how many, at most {MAX_LIMIT} (default: 25)",
    )
    listing.add_argument(
        "--skip", default="0", help="how many to skip (default: 0)"
    )
    runner = _run_templates
    if name == "cards":
        runner = _run_cards
        listing.add_argument(
            "--contact-id",
            metavar="ID",
            help="only cards for this record id (third_party_contact_id)",
        )
        listing.add_argument(
            "--initiator", help="only cards sent by this initiator"
        )
    listing.set_defaults(run=runner)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``amcards`` command; returns the exit status.

    A reader that goes away (``amcards cards | head -1``) ends nothing
    early: what is left to print is dropped, and a run that would have
    exited 0 exits 1 instead, as its output was cut short.
    """
    _lost.clear()
    try:
        status = _main(argv)
    except BrokenPipeError:  # a write that did not go through _write
        _flush_outputs()
        if not _lost:
            _drop_output("stdout")
        status = EXIT_NOT_ALL_SENT
    _flush_outputs()
    if _lost and status == EXIT_OK:
        return EXIT_NOT_ALL_SENT
    return status


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["fake-server"]:
        return _run_fake_server(words[1:])
    parser = build_parser()
    # argparse prints help and complaints itself, and ignores a failed
    # write: they are caught here and written like all other output.
    printed, complaints = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(printed), redirect_stderr(complaints):
            args = parser.parse_args(words)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    finally:
        if printed.getvalue():
            _write("stdout", printed.getvalue())
        if complaints.getvalue():
            _write("stderr", complaints.getvalue())
    if args.command is None:
        _write("stderr", parser.format_help())
        return EXIT_USAGE

    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (UsageError, csvinput.CsvInputError) as exc:
        _say(f"amcards: error: {exc}")
        return EXIT_USAGE
    except AMcardsException as exc:
        _say(f"amcards: error: {_explain(exc)}")
        return EXIT_NOT_ALL_SENT
    except KeyboardInterrupt:
        _say("amcards: stopped.")
        return EXIT_INTERRUPTED


# Standard output and standard error --------------------------------------

_Stream = Literal["stdout", "stderr"]

#: The streams whose reader went away during this run of main().
_lost: set[_Stream] = set()


def _out(text: str) -> None:
    """Write a result (standard output)."""
    _write("stdout", text + "\n")


def _say(text: str = "") -> None:
    """Write a line for the person watching (standard error)."""
    _write("stderr", text + "\n")


def _write(name: _Stream, text: str) -> bool:
    """Write and flush; False when the stream's reader has gone.

    A stream whose reader went away (a closed pipe) is dropped: nothing
    more is written to it, and the command goes on.
    """
    if name in _lost:
        return False
    stream = getattr(sys, name)
    if stream is None:  # started with the stream closed
        _lost.add(name)
        return False
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _drop_output(name)
        return False
    return True


def _flush_outputs() -> None:
    names: tuple[_Stream, ...] = ("stdout", "stderr")
    for name in names:
        stream = getattr(sys, name)
        if name in _lost or stream is None:
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            _drop_output(name)


def _drop_output(name: _Stream) -> None:
    """Point a stream whose reader went away at os.devnull.

    What it still holds, and whatever else is written to it (Python
    flushes it on the way out), then goes nowhere, without a
    BrokenPipeError.
    """
    _lost.add(name)
    stream = getattr(sys, name)
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file: _write skips it from now on
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, descriptor)
    finally:
        os.close(devnull)


def _explain(exc: AMcardsException) -> str:
    if isinstance(exc, AuthenticationError):
        return (
            "the access token was refused (it may be wrong or expired); "
            f"check ${TOKEN_ENV} or --token"
        )
    return str(exc) or type(exc).__name__


# The account -------------------------------------------------------------


def _open_client(
    args: argparse.Namespace, ledger: SendLedger | None = None
) -> AMcardsClient:
    """A client for the demo account (--fake) or the token's account;
    with ``ledger``, every send goes through it."""
    if args.fake:
        if args.token is not None or args.base_url is not None:
            raise UsageError(
                "--fake uses the demo account: leave out --token and "
                "--base-url"
            )
        from amcards.client import AMcardsClient
        from amcards.transports.fake import DEMO_ACCESS_TOKEN, FakeTransport

        transport = FakeTransport(_demo_service())
        return AMcardsClient(
            DEMO_ACCESS_TOKEN, transport=transport, ledger=ledger
        )

    token, token_from = _setting(args.token, "--token", TOKEN_ENV)
    if token is None:
        raise UsageError(
            f"no access token: set {TOKEN_ENV} or pass --token (or try "
            "the demo account with --fake)"
        )
    base_url, base_url_from = _setting(
        args.base_url, "--base-url", BASE_URL_ENV
    )
    if base_url is None:
        base_url = DEFAULT_BASE_URL
    if not base_url.lower().startswith(("http://", "https://")):
        raise UsageError(
            f"{base_url_from}: {base_url!r} is not an http:// or https:// URL"
        )
    from amcards.client import AMcardsClient

    try:
        return AMcardsClient(token, base_url=base_url, ledger=ledger)
    except ValidationError as exc:
        where = token_from if exc.field == "access_token" else base_url_from
        raise UsageError(f"{where}: {exc.reason}") from None


def _setting(
    given: str | None, option: str, variable: str
) -> tuple[str | None, str]:
    """The value of an option, else of its environment variable, and
    where it came from.  An empty value is refused rather than passed
    over: an unset shell variable must not send a run to another server
    or account than the one meant."""
    if given is not None:
        if not given.strip():
            raise UsageError(f"{option} is empty")
        return given.strip(), option
    value = os.environ.get(variable)
    if value is None:
        return None, f"${variable}"
    if not value.strip():
        raise UsageError(
            f"${variable} is set but empty: give it a value, or unset it"
        )
    return value.strip(), f"${variable}"


def _demo_service() -> FakeAMcards:
    """The fake service behind --fake (tests replace this to watch it)."""
    from amcards.transports.fake import FakeAMcards

    return FakeAMcards.demo()


# templates, user, cards --------------------------------------------------


def _run_templates(args: argparse.Namespace) -> int:
    _check_paging(args)
    with _open_client(args) as client:
        templates = client.templates(limit=args.limit, skip=args.skip)
    if args.json:
        _print_json([_plain(template) for template in templates])
        return EXIT_OK
    rows = [
        [
            str(template.id),
            template.name,
            ", ".join(gift.name for gift in template.gifts) or "-",
            format_cents(template.gifts_total) if template.gifts else "",
        ]
        for template in templates
    ]
    _out(_table(["ID", "NAME", "GIFTS", "GIFT COST"], rows))
    return EXIT_OK


def _run_cards(args: argparse.Namespace) -> int:
    _check_paging(args)
    for option, value in (
        ("--contact-id", args.contact_id),
        ("--initiator", args.initiator),
    ):
        if value is not None and not value.strip():
            raise UsageError(
                f"{option} must not be empty (leave it out to list every card)"
            )
    filters = {}
    if args.contact_id:
        filters["third_party_contact_id"] = args.contact_id
    if args.initiator:
        filters["initiator"] = args.initiator
    with _open_client(args) as client:
        cards = client.cards(
            limit=args.limit, skip=args.skip, filters=filters or None
        )
    if args.json:
        _print_json([_plain(card) for card in cards])
        return EXIT_OK
    rows = []
    for card in cards:
        to = card.shipping_address
        name = f"{to.get('first_name', '')} {to.get('last_name', '')}"
        place = ", ".join(
            part for part in (to.get("city"), to.get("country")) if part
        )
        rows.append(
            [
                str(card.id),
                card.status.name.lower().replace("_", " "),
                card.send_date,
                name.strip(),
                place,
                card.template_name,
                format_cents(card.amount_charged),
            ]
        )
    headers = ["ID", "STATUS", "SEND DATE", "TO", "WHERE", "TEMPLATE"]
    _out(_table([*headers, "CHARGED"], rows))
    return EXIT_OK


def _run_user(args: argparse.Namespace) -> int:
    with _open_client(args) as client:
        user = client.user()
    if args.json:
        _print_json(_plain(user))
        return EXIT_OK
    place = ", ".join(
        part
        for part in (
            user.address_line_1,
            user.address_line_2,
            user.city,
            f"{user.state} {user.postal_code}".strip(),
            user.country,
        )
        if part
    )
    lines = [
        ("Name", f"{user.first_name} {user.last_name}".strip()),
        ("Email", user.email),
        ("Credits", format_cents(user.credits)),
        ("Greeting card", format_cents(user.greeting_card_cost)),
        (
            "Postage",
            f"{format_cents(user.domestic_postage_cost)} domestic, "
            f"{format_cents(user.international_postage_cost)} "
            "international",
        ),
        (
            "Domestic countries",
            ", ".join(sorted(user.domestic_postage_countries)) or "-",
        ),
        ("Return address", place or "-"),
    ]
    width = max(len(label) for label, _ in lines) + 1
    _out(
        "\n".join(f"{label + ':':<{width}} {value}" for label, value in lines)
    )
    return EXIT_OK


#: The most rows ``templates`` and ``cards`` list at once (--limit).
MAX_LIMIT = 1000


def _check_paging(args: argparse.Namespace) -> None:
    """Read --limit and --skip, refusing them out of bounds."""
    limit, skip = args.limit, args.skip
    args.limit = _whole_number("--limit", limit)
    if args.limit is None or args.limit < 1:
        raise UsageError(f"--limit must be 1 or more (got {limit!r})")
    if args.limit > MAX_LIMIT:
        raise UsageError(
            f"--limit must be at most {MAX_LIMIT}; use --skip to see more"
        )
    args.skip = _whole_number("--skip", skip)
    if args.skip is None:
        raise UsageError(f"--skip must be 0 or more (got {skip!r})")
    if args.skip > MAX_ID:
        raise UsageError(f"--skip must be at most {MAX_ID} (got {skip!r})")


def _whole_number(option: str, text: str) -> int | None:
    """A number written in the digits 0-9 (spaces around are fine), or
    None for one with a minus sign; anything above :data:`MAX_ID` comes
    back as ``MAX_ID + 1``.

    Raises:
        UsageError: the text is not such a number (other scripts' digits,
            a plus sign, underscores, letters).
    """
    digits = text.strip()
    negative = digits.startswith("-")
    digits = digits.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise UsageError(
            f"{option} must be a whole number in the digits 0-9 (got {text!r})"
        )
    if negative:
        return None
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(MAX_ID)):
        return MAX_ID + 1  # int() of a very long text is slow, or refused
    return min(int(digits), MAX_ID + 1)


def _check_id(option: str, text: str, wanted: str) -> int:
    """An id given as an option, as the client reads ids
    (:func:`~amcards.core.validators.validate_id`)."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise UsageError(f"{option} must be {wanted} (got {text!r})")
    try:
        return int(validators.validate_id(digits, option))
    except ValidationError:
        raise UsageError(
            f"{option} {digits} is not an id: ids run from 1 to {MAX_ID}"
        ) from None


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain columns, as wide as their widest cell."""
    if not rows:
        return "(none)"
    widths = [
        max(len(row[index]) for row in [headers, *rows])
        for index in range(len(headers))
    ]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )


def _plain(value: Any) -> Any:
    """A model as JSON-ready data (dates as ISO text, enums by name)."""
    import datetime as dt
    import enum

    import attrs

    def serialize(_: Any, __: Any, item: Any) -> Any:
        if isinstance(item, (dt.date, dt.datetime)):
            return item.isoformat()
        if isinstance(item, enum.Enum):
            return item.name
        if isinstance(item, (set, frozenset)):
            return sorted(item)
        return item

    return attrs.asdict(value, value_serializer=serialize)


def _print_json(data: Any) -> None:
    _out(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


# send-cards --------------------------------------------------------------


@dataclass
class _Sent:
    recipient: csvinput.Recipient
    card_ids: list[int]
    cost: int | None = None
    mailing_id: int | None = None
    note: str = ""


@dataclass
class _Failed:
    recipient: csvinput.Recipient
    reason: str


@dataclass
class _Run:
    """What happened to each row, for the summary."""

    rejected: list[csvinput.Rejected]
    sent: list[_Sent] = field(default_factory=list)
    already_sent: list[_Sent] = field(default_factory=list)
    failed: list[_Failed] = field(default_factory=list)
    skipped: list[_Failed] = field(default_factory=list)
    not_sent: list[csvinput.Recipient] = field(default_factory=list)
    stop_reason: str | None = None
    interrupted: bool = False
    charged: int = 0
    surplus: int = 0  # the most a row has cost over its estimate

    @property
    def troubled(self) -> bool:
        """Whether some row was rejected, failed or skipped."""
        return bool(self.rejected or self.failed or self.skipped)

    @property
    def complete(self) -> bool:
        """Whether every row was sent, in this run or an earlier one."""
        return not (
            self.troubled
            or self.not_sent
            or self.stop_reason
            or self.interrupted
        )


@dataclass
class _Batch:
    """The rows to send, their send keys, and their prices in cents."""

    rows: list[csvinput.Recipient]
    keys: dict[int, str]
    costs: dict[int, int] = field(default_factory=dict)
    journal: SendLedger | None = None

    @property
    def total(self) -> int:
        """The estimate for the rows still to send."""
        return sum(self.costs.get(row.line, 0) for row in self.rows)


def _run_send_cards(args: argparse.Namespace) -> int:
    campaign = args.campaign is not None
    send_date = _check_send_options(args)
    overrides = csvinput.parse_mapping(args.map)

    # 1. Read the file, check every row, set repeated rows aside.
    recipients_file = csvinput.read_recipients(args.file, overrides)
    _report_columns(recipients_file.columns, campaign)
    checked = [
        csvinput.check_record(record, campaign=campaign)
        for record in recipients_file.records
    ]
    good = [r for r in checked if isinstance(r, csvinput.Recipient)]
    run = _Run([r for r in checked if isinstance(r, csvinput.Rejected)])
    keys, first_copies = _row_keys(args, good, send_date)
    batch = _Batch(good, keys)
    if not args.allow_duplicates:
        _set_aside_copies(batch, first_copies, run)
    _report_checks(len(checked), batch.rows, run.rejected)
    if not batch.rows:
        _say("No row can be sent.")
        _print_summary(args, run, None)
        return EXIT_NOT_ALL_SENT

    batch.journal = _open_journal(args)
    try:
        with _open_client(args, batch.journal) as client:
            return _send_batch(client, args, batch, send_date, run)
    finally:
        if batch.journal is not None:
            batch.journal.close()


def _send_batch(
    client: AMcardsClient,
    args: argparse.Namespace,
    batch: _Batch,
    send_date: str | None,
    run: _Run,
) -> int:
    """Consult the journal, price, check the money, confirm, send."""
    # 2. Leave out what the journal holds as sent, or cannot tell yet.
    if batch.journal is not None:
        _tie_journal(batch.journal, client, dry_run=args.dry_run)
        _consult_journal(client, batch, run)
        if not batch.rows:
            _say("Nothing left to send.")
            _print_summary(args, run, None)
            return EXIT_OK if run.complete else EXIT_NOT_ALL_SENT

    # 3. Price the rest; compare with the balance and --max-cost.
    pricing = _price(client, args, batch.rows, send_date)
    batch.costs = pricing.costs
    if pricing.refused:
        run.failed.extend(pricing.refused)
        refused = {failed.recipient.line for failed in pricing.refused}
        batch.rows = [r for r in batch.rows if r.line not in refused]
        for failed in pricing.refused:
            _say(f"  not sent {failed.recipient.label}: {failed.reason}")
    if not batch.rows:
        _say("No row can be sent.")
        _print_summary(args, run, None)
        return EXIT_NOT_ALL_SENT
    noun = "campaign" if args.campaign is not None else "card"
    total = batch.total
    _say(
        f"{_count(len(batch.rows), noun)} to send, about "
        f"{format_cents(total)}; your balance is "
        f"{format_cents(pricing.balance)}."
    )
    warning = _send_date_warning(send_date, _today())
    if warning is not None:
        _say(f"Warning: {warning}.")
    problem = _money_problem(args, total, pricing.balance)
    if problem is not None:
        _say(f"Not sending: {problem}.")
        run.stop_reason = problem
        run.not_sent = batch.rows
        _print_summary(args, run, total)
        return EXIT_NOT_ALL_SENT
    if args.dry_run:
        _say("Dry run: nothing was sent.")
        run.not_sent = batch.rows
        _print_summary(args, run, total)
        return EXIT_NOT_ALL_SENT if run.troubled else EXIT_OK

    # 4. Ask, then send.
    refusal = _confirm(args, len(batch.rows), noun, total)
    if refusal is not None:
        return refusal
    _send_all(client, args, batch, send_date, run)
    _print_summary(args, run, total)
    if run.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if run.complete else EXIT_NOT_ALL_SENT


def _check_send_options(args: argparse.Namespace) -> str | None:
    if args.campaign is not None and args.message is not None:
        raise UsageError("--message goes with --template, not --campaign")
    _check_initiator(args.initiator)
    if args.message is not None:
        _check_message(args.message)
    _check_target_id(args)
    if args.max_cost is not None:
        try:
            args.max_cost = parse_dollars(args.max_cost, "--max-cost")
        except argparse.ArgumentTypeError as exc:
            raise UsageError(str(exc)) from exc
    try:
        if args.send_date is None:
            return None
        return validators.validate_date(args.send_date, "--send-date")
    except ValidationError as exc:
        raise UsageError(str(exc)) from exc


def _check_initiator(text: str) -> None:
    """Refuse an --initiator the client would refuse
    (:func:`~amcards.core.validators.validate_initiator`): blank, too
    long, or holding a tab, a line break or another control character."""
    if not text.strip():
        raise UsageError("--initiator must not be empty")
    if _unreadable(text):
        raise UsageError(f"--initiator {text!r} cannot be read as text")
    try:
        validators.validate_initiator(text, "--initiator")
    except ValidationError as exc:
        reason = exc.reason or ""
        if "control character" in reason:
            reason += f" ({text!r}); it names who sends, on one line"
        raise UsageError(f"--initiator {reason}") from None


def _check_message(text: str) -> None:
    """Refuse a blank --message, and one holding a control character
    other than a line break or a tab (an escape sequence, say), as
    :func:`~amcards.core.validators.validate_message` does."""
    if not text.strip():
        raise UsageError(
            "--message is empty; leave it out to send the template's "
            "own message"
        )
    if _unreadable(text):
        raise UsageError("--message cannot be read as text")
    try:
        validators.validate_message(text, "--message")
    except ValidationError as exc:
        raise UsageError(
            f"--message {exc.reason}; only line breaks and tabs are allowed"
        ) from None


def _unreadable(text: str) -> bool:
    """Whether text holds bytes the command line could not decode (they
    come as lone surrogates)."""
    return _SURROGATE.search(text) is not None


# Lone surrogates.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_target_id(args: argparse.Namespace) -> None:
    """Refuse a --template or --campaign that is not a number."""
    if args.campaign is not None:
        option, value = "--campaign", args.campaign
        wanted = "a campaign number like 21"
    else:
        option, value = "--template", args.template
        wanted = "a template number like 1; see 'amcards templates'"
    _check_id(option, value, wanted)


def _today() -> str:
    """Today's date on this machine, YYYY-MM-DD (tests replace this)."""
    import datetime as dt

    return dt.date.today().isoformat()


def _send_date_warning(send_date: str | None, today: str) -> str | None:
    """Why a --send-date looks mistaken (past, or over a year ahead)."""
    import datetime as dt

    if send_date is None:
        return None
    date, now = dt.date.fromisoformat(send_date), dt.date.fromisoformat(today)
    if date < now:
        return (
            f"--send-date {send_date} is in the past; AMcards may send at "
            "once or refuse"
        )
    if (date - now).days > 366:
        return (
            f"--send-date {send_date} is more than a year ahead; check "
            "the year"
        )
    return None


def _row_keys(
    args: argparse.Namespace,
    rows: Sequence[csvinput.Recipient],
    send_date: str | None,
) -> tuple[dict[int, str], dict[int, int]]:
    """Each row's send key, and the first line of each repeated row.

    The key is the one the send ledger derives from the template or
    campaign, the send date, the message and the normalised address, so
    two rows share it exactly when they would mail the same card to the
    same person.  The second and later copies of such a row get keys of
    their own, numbered by copy, for --allow-duplicates; the copies are
    alike, so which line is which copy does not matter.  Returns the
    keys by line, and {line of a copy: line of the first copy}.
    """
    from amcards.ledger import derive_key

    kind: Literal["card", "campaign"] = "card"
    target, message = args.template, args.message
    if args.campaign is not None:
        kind, target, message = "campaign", args.campaign, None
    keys: dict[int, str] = {}
    first_copies: dict[int, int] = {}
    first_line: dict[str, int] = {}
    copies: dict[str, int] = {}
    for row in rows:
        key = derive_key(kind, target, row.address, send_date, message)
        copies[key] = copies.get(key, 0) + 1
        if copies[key] == 1:
            first_line[key] = row.line
            keys[row.line] = key
            continue
        first_copies[row.line] = first_line[key]
        extra = {"copy": copies[key]}
        keys[row.line] = derive_key(
            kind, target, row.address, send_date, message, extra
        )
    return keys, first_copies


def _set_aside_copies(
    batch: _Batch, first_copies: dict[int, int], run: _Run
) -> None:
    """Reject each row that repeats an earlier one."""
    for row in batch.rows:
        if row.line in first_copies:
            reason = (
                f"same recipient as line {first_copies[row.line]} (a "
                "repeated row; --allow-duplicates sends every copy)"
            )
            rejected = csvinput.Rejected(row.line, row.label, (reason,))
            run.rejected.append(rejected)
    batch.rows = [row for row in batch.rows if row.line not in first_copies]
    run.rejected.sort(key=lambda rejected: rejected.line)


def _open_journal(args: argparse.Namespace) -> SendLedger | None:
    """The send ledger for --journal, or None.

    A dry run does not create a journal that is not there yet.
    """
    if args.journal is None:
        return None
    import sqlite3

    path = args.journal
    if not path.strip() or path == ":memory:":
        raise UsageError(
            "--journal needs the path of a file (an empty name keeps "
            "nothing, and a rerun would send every row again)"
        )
    if os.path.isdir(path):
        raise UsageError(
            f"--journal {path} is a folder; give the path of a file, "
            f"such as {os.path.join(path, 'sends.journal')}"
        )
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise UsageError(
            f"--journal {path}: the folder {folder} does not exist; "
            "create it first, or give a path in a folder that does"
        )
    if os.path.exists(path) and os.path.samefile(path, args.file):
        raise UsageError("--journal must not be the recipients file")
    _refuse_foreign_database(path, "--journal")
    if args.dry_run and not os.path.exists(path):
        _say(f"Journal {path}: new (a dry run does not create it).")
        return None
    try:
        return _open_ledger(path)
    except ValidationError as exc:
        if exc.field != "path":
            raise
        raise UsageError(f"--journal {path}: {exc.reason}") from exc
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"cannot use {path} as a journal: {exc} (a journal is an "
            "SQLite file that only this command writes)"
        ) from exc


# The columns a send-cards journal's table ("sends") has, at least.
_JOURNAL_COLUMNS = frozenset({"key", "kind", "state", "request", "result"})


def _refuse_foreign_database(path: str, option: str) -> None:
    """Refuse an existing file that is not a journal, leaving it as it is.

    The send ledger would add its table to any SQLite database and switch
    it to WAL mode, so a file that already holds tables is first looked
    at read-only: it must have the journal's table.  A missing or empty
    file is fine (it becomes a new journal).
    """
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    import sqlite3
    from pathlib import Path

    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            tables = sorted(
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            )
            columns = {
                row[1] for row in conn.execute("PRAGMA table_info(sends)")
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UsageError(
            f"{option} {path} is not a send-cards journal ({exc}); it was "
            "left as it is: give a new file name instead"
        ) from exc
    if tables and not columns.issuperset(_JOURNAL_COLUMNS):
        names = ", ".join(tables)
        raise UsageError(
            f"{option} {path} is an SQLite database but not a send-cards "
            f"journal (its tables: {names}); it was left as it is: give "
            "a new file name instead"
        )


def _open_ledger(path: str) -> SendLedger:
    """The send ledger behind --journal (tests replace this)."""
    from amcards.ledger import SendLedger

    return SendLedger(path)


def _tie_journal(
    journal: SendLedger, client: AMcardsClient, *, dry_run: bool
) -> None:
    """Check that the journal records sends to this run's server, and tie
    a new journal to it (not on a dry run, which writes nothing).

    A row is "already sent" only on the server it was sent to: a journal
    written by a --fake practice run must not hold back the real run.
    """
    from amcards.ledger import server_of

    server = server_of(client)
    try:
        if dry_run:
            journal.check_server(server)
        else:
            journal.bind(server)
    except ValidationError as exc:
        if exc.field != "ledger":
            raise
        raise UsageError(
            f"the journal {journal.path} records sends to "
            f"{_describe_server(journal.server or '')}, and this run sends "
            f"to {_describe_server(server)}; use a journal file for each "
            "server, so a card sent to one is never taken for sent to "
            "the other"
        ) from None


def _describe_server(server: str) -> str:
    if server == FAKE_BASE_URL:
        return "the embedded fake service (--fake)"
    return server


def _consult_journal(client: AMcardsClient, batch: _Batch, run: _Run) -> None:
    """Take out of the batch the rows the journal settles or holds.

    A row recorded as sent is reported as already sent.  A row whose
    send never recorded its outcome (a lost answer, a crash, a kill) is
    looked up first (:meth:`SendLedger.reconcile`): found, it counts as
    already sent; settled as not sent, it stays in the batch; otherwise
    it is skipped, as is a row another live run is sending.
    """
    journal = batch.journal
    assert journal is not None
    to_send: list[csvinput.Recipient] = []
    for row in batch.rows:
        entry = journal.get(batch.keys[row.line])
        if entry is None:
            to_send.append(row)
            continue
        verdict = _bring_up_to_date(journal, client, entry)
        if isinstance(verdict, str):
            run.skipped.append(_Failed(row, verdict))
            _say(f"  skipped {row.label}: {verdict}")
        elif verdict.state == "sent":
            sent = _sent_from_entry(row, verdict)
            run.already_sent.append(sent)
            described = _describe_sent(sent)
            _say(f"  already sent (journal) {row.label}: {described}")
        else:
            if entry.state != "refused":
                _say(
                    f"  {row.label}: an earlier attempt left no card; it "
                    "is sent again"
                )
            to_send.append(row)
    if run.already_sent or run.skipped:
        _say(
            f"Journal {journal.path}: {len(run.already_sent)} already "
            f"sent, {len(run.skipped)} skipped, {len(to_send)} to send."
        )
    batch.rows = to_send


def _bring_up_to_date(
    journal: SendLedger, client: AMcardsClient, entry: Entry
) -> Entry | str:
    """A settled entry (sent or refused), or why the row is skipped."""
    if entry.state in ("sent", "refused"):
        return entry
    if entry.state == "pending" and not journal.is_stale(entry):
        return _held(entry.owner, entry.updated.isoformat())
    try:
        entry = journal.reconcile(entry, client)
    except SendInProgressError as exc:
        return _held(exc.owner, exc.since)
    except AuthenticationError:
        raise
    except AMcardsException as exc:
        return (
            "an earlier attempt may have sent it, and looking it up "
            f"failed: {_explain(exc)}; run again later"
        )
    if entry.state != "unknown":
        return entry
    if entry.kind != "card":
        return (
            "an earlier attempt may have sent it, and a campaign cannot "
            "be looked up; check your account before sending it again "
            "(this journal will not)"
        )
    import datetime as dt

    settled = entry.updated.timestamp() + journal.settle_after
    when = dt.datetime.fromtimestamp(settled).strftime("%H:%M:%S")
    return (
        "an earlier attempt may have sent it and no card has shown up "
        f"yet; it is sent again only {journal.settle_after:.0f} s after "
        f"that attempt: run again after {when}"
    )


def _held(owner: object, since: object) -> str:
    return f"another run is sending it ({owner}, since {since})"


def _sent_from_entry(row: csvinput.Recipient, entry: Entry) -> _Sent:
    result = entry.result or {}
    if entry.kind == "card":
        card_ids = [int(result["card_id"])] if "card_id" in result else []
    else:
        card_ids = [int(card_id) for card_id in result.get("card_ids", [])]
    mailing_id = result.get("mailing_id")
    note = "found by looking it up" if result.get("reconciled") else ""
    return _Sent(
        row,
        card_ids,
        mailing_id=None if mailing_id is None else int(mailing_id),
        note=note,
    )


def _money_problem(
    args: argparse.Namespace, total: int, balance: int
) -> str | None:
    """Why the batch must not start, for money reasons; None if it may."""
    limit: int | None = args.max_cost
    if limit is not None and total > limit:
        return (
            f"the estimate {format_cents(total)} is over --max-cost "
            f"{format_cents(limit)}"
        )
    if balance < total:
        return (
            f"your balance {format_cents(balance)} is below the estimate "
            f"{format_cents(total)}; add credits or send fewer rows"
        )
    return None


def _report_columns(columns: csvinput.ColumnMap, campaign: bool) -> None:
    def header(index: int) -> str:
        text = columns.headers[index]
        if columns.headers.count(text) > 1:
            return f"{text} in column {index + 1}"
        return text

    used = ", ".join(
        f"{header(index)} ({csvinput.FIELD_LABELS[name]})"
        for index, name in sorted(columns.fields.items())
    )
    _say(textwrap.fill(f"Columns used: {used}.", width=79))
    if columns.ignored:
        names = ", ".join(repr(header) for header in columns.ignored)
        _say(textwrap.fill(f"Ignored columns (not sent): {names}.", 79))
    mapped = set(columns.fields.values())
    unsent = [
        columns.column_of(name)
        for name in ("phone_number", "birth_date")
        if name in mapped
    ]
    if unsent and not campaign:
        names = " and ".join(repr(header) for header in unsent)
        _say(f"{names}: checked, but only sent with --campaign.")


def _report_checks(
    total: int,
    good: Sequence[csvinput.Recipient],
    rejected: Sequence[csvinput.Rejected],
) -> None:
    _say(
        f"Checked {_count(total, 'row')}: {len(good)} ready, "
        f"{len(rejected)} rejected."
    )
    for row in rejected:
        _say(f"  rejected {row.label}: {'; '.join(row.reasons)}")
    for recipient in good:
        for warning in recipient.warnings:
            _say(f"  warning {recipient.label}: {warning}")


@dataclass
class _Pricing:
    """Each row's estimate (by line), the balance, and rows the service
    would not price."""

    costs: dict[int, int]
    balance: int
    refused: list[_Failed] = field(default_factory=list)


def _price(
    client: AMcardsClient,
    args: argparse.Namespace,
    good: Sequence[csvinput.Recipient],
    send_date: str | None,
) -> _Pricing:
    """Estimate each row and read the balance, in cents.

    This takes as few requests as possible.  A card's price depends only
    on whether it travels domestically, so cards are priced from the user
    and the template (two requests), the way ``send_card_cost`` prices
    them.  A campaign is priced by the service once per kind of row:
    domestic or not, with a birthday or not.  A row the service refuses
    to price (HTTP 400) would be refused when sent too: it is set aside
    and the next row of its kind is priced instead.
    """
    from amcards.client import card_cost

    try:
        user = client.user()
        if args.campaign is None:
            template = client.template(args.template)
            _say(f"Template {template.id}: {template.name}")
            costs = {
                r.line: card_cost(user, template, r.address) for r in good
            }
            return _Pricing(costs, user.credits)
        campaign = client.campaign(args.campaign)
        _say(f"Campaign {campaign.id}: {campaign.name}")
        return _price_campaign(client, args, user, good, send_date)
    except ForbiddenTemplateError as exc:
        raise UsageError(
            f"template {args.template} is not in this account; list "
            "yours with: amcards templates"
        ) from exc
    except ForbiddenCampaignError as exc:
        raise UsageError(
            f"campaign {args.campaign} is not in this account"
        ) from exc


def _price_campaign(
    client: AMcardsClient,
    args: argparse.Namespace,
    user: User,
    good: Sequence[csvinput.Recipient],
    send_date: str | None,
) -> _Pricing:
    pricing = _Pricing({}, user.credits)
    prices: dict[tuple[bool, bool], int] = {}
    for recipient in good:
        country = recipient.address.get("country") or user.country
        kind = (
            validators.is_domestic(country, user.domestic_postage_countries),
            "birth_date" in recipient.address,
        )
        if kind not in prices:
            try:
                prices[kind] = client.send_campaign_cost(
                    args.campaign, recipient.address, send_date=send_date
                )
            except AMcardsException as exc:
                if exc.status != 400:
                    raise
                reason = f"the service would not price it: {exc}"
                pricing.refused.append(_Failed(recipient, reason))
                continue
        pricing.costs[recipient.line] = prices[kind]
    return pricing


def _confirm(
    args: argparse.Namespace, count: int, noun: str, total: int
) -> int | None:
    """None to go ahead, or the exit status when not sending."""
    if args.yes:
        return None
    if not sys.stdin.isatty():
        _say(
            "Not sending: there is no terminal to confirm on. Check the "
            "rows above, then run again with --yes to send."
        )
        return EXIT_USAGE
    question = f"Send {_count(count, noun)} for about {format_cents(total)}?"
    if not _write("stderr", f"{question} [y/N] "):
        return EXIT_USAGE  # nobody can see the question
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return None
    _say("Nothing was sent.")
    return EXIT_NOT_ALL_SENT


class _StopRequest:
    """Ctrl-C while sending: the first stops after the current row.

    A second Ctrl-C raises KeyboardInterrupt at once, for a send that
    hangs.  Outside the main thread signals cannot be caught, and Ctrl-C
    keeps its usual meaning.
    """

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @contextmanager
    def installed(self) -> Iterator[_StopRequest]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def _send_all(
    client: AMcardsClient,
    args: argparse.Namespace,
    batch: _Batch,
    send_date: str | None,
    run: _Run,
) -> None:
    """Send row after row; a failed row does not stop the others."""
    rows = batch.rows
    count = len(rows)
    journal = batch.journal is not None
    with _StopRequest().installed() as stop:
        for position, recipient in enumerate(rows, 1):
            if stop.requested:
                run.interrupted = True
                run.not_sent = list(rows[position - 1 :])
                _say("Stopped (Ctrl-C); the remaining rows were not sent.")
                return
            over = _over_the_cap(args, batch, recipient, run)
            if over is not None:
                run.stop_reason = over
                run.not_sent = list(rows[position - 1 :])
                _say(f"Stopping: {over}.")
                return
            step = f"[{position}/{count}] {recipient.label}"
            try:
                sent = _send_one(client, args, batch, recipient, send_date)
            except KeyboardInterrupt:
                reason = _interrupted_reason(journal)
                run.failed.append(_Failed(recipient, reason))
                run.interrupted = True
                run.not_sent = list(rows[position:])
                _say(f"{step}: {reason}")
                return
            except SendInProgressError as exc:
                reason = _held(exc.owner, exc.since)
                run.skipped.append(_Failed(recipient, reason))
                _say(f"{step}: skipped: {reason}")
            except AMcardsException as exc:
                reason = _send_failure(exc, journal)
                run.failed.append(_Failed(recipient, reason))
                _say(f"{step}: FAILED: {reason}")
                if isinstance(exc, _ACCOUNT_ERRORS):
                    run.stop_reason = _explain(exc)
                    run.not_sent = list(rows[position:])
                    _say("Stopping: every further send would fail too.")
                    return
            except Exception as exc:  # keep the record of what was sent
                reason = f"unexpected error: {type(exc).__name__}: {exc}"
                run.failed.append(_Failed(recipient, reason))
                _say(f"{step}: FAILED: {reason}")
            else:
                run.sent.append(sent)
                _count_charge(run, sent, batch.costs[recipient.line])
                _say(f"{step}: sent, {_describe_sent(sent)}")


def _count_charge(run: _Run, sent: _Sent, estimate: int) -> None:
    """Add a row's charge; a campaign's is taken to be its estimate."""
    cost = estimate if sent.cost is None else sent.cost
    run.charged += cost
    run.surplus = max(run.surplus, cost - estimate)


def _over_the_cap(
    args: argparse.Namespace,
    batch: _Batch,
    recipient: csvinput.Recipient,
    run: _Run,
) -> str | None:
    """Why the next row could take the charges past --max-cost, or None.

    The estimate was held against the cap before the batch started; this
    catches rows charged more than estimated.  The next row is taken to
    cost its estimate plus the most any row so far cost over its own.
    """
    limit: int | None = args.max_cost
    price = batch.costs[recipient.line] + run.surplus
    if limit is None or run.charged + price <= limit:
        return None
    return (
        f"{format_cents(run.charged)} charged so far, and the next row "
        f"(about {format_cents(price)}) could take that past --max-cost "
        f"{format_cents(limit)}"
    )


def _send_one(
    client: AMcardsClient,
    args: argparse.Namespace,
    batch: _Batch,
    recipient: csvinput.Recipient,
    send_date: str | None,
) -> _Sent:
    key = None if batch.journal is None else batch.keys[recipient.line]
    if args.campaign is None:
        card = client.send_card(
            args.template,
            args.initiator,
            recipient.address,
            send_date=send_date,
            message=args.message,
            idempotency_key=key,
        )
        return _Sent(recipient, [card.card_id], cost=card.total_cost)
    response = client.send_campaign(
        args.campaign,
        args.initiator,
        recipient.address,
        send_date=send_date,
        idempotency_key=key,
    )
    return _Sent(
        recipient, list(response.card_ids), mailing_id=response.mailing_id
    )


def _interrupted_reason(journal: bool) -> str:
    if journal:
        return (
            "stopped while sending: it may or may not have gone out; the "
            "journal knows, and a rerun looks it up before sending it again"
        )
    return (
        "stopped while sending: it may or may not have gone out; check "
        "with 'amcards cards --contact-id ID' (or --initiator) before "
        "sending again"
    )


def _send_failure(exc: AMcardsException, journal: bool) -> str:
    if not isinstance(exc, SendOutcomeUnknownError):
        return _explain(exc)
    if exc.status is not None:
        what = (
            f"the service failed while handling it (HTTP {exc.status}), "
            "so the card may or may not have been sent"
        )
    else:
        what = "no answer came back, so the card may or may not have been sent"
    if journal:
        return (
            f"{what}; the journal knows, and a rerun looks it up before "
            "sending this row again"
        )
    return (
        f"{what}; check with 'amcards cards --contact-id ID' (or "
        "--initiator) before sending this row again"
    )


def _describe_sent(sent: _Sent) -> str:
    ids = ", ".join(str(card_id) for card_id in sent.card_ids)
    text = f"card {ids}" if len(sent.card_ids) == 1 else f"cards {ids}"
    if sent.mailing_id is not None:
        text = f"mailing {sent.mailing_id}, {text or 'no cards yet'}"
    if sent.cost is not None:
        text += f", {format_cents(sent.cost)}"
    if sent.note:
        text += f" ({sent.note})"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _print_summary(
    args: argparse.Namespace, run: _Run, estimate: int | None
) -> None:
    if args.json:
        _print_json(_summary_data(args, run, estimate))
        return
    lines = ["Summary:"]
    would = args.dry_run and run.stop_reason is None
    verb = "would be sent" if would else "not sent"
    groups: list[tuple[str, list[str]]] = [
        (
            "sent",
            [f"{s.recipient.label}: {_describe_sent(s)}" for s in run.sent],
        ),
        (
            "already sent (journal)",
            [
                f"{s.recipient.label}: {_describe_sent(s)}"
                for s in run.already_sent
            ],
        ),
        (
            "rejected (bad rows, not sent)",
            [f"{r.label}: {'; '.join(r.reasons)}" for r in run.rejected],
        ),
        (
            "failed",
            [f"{f.recipient.label}: {f.reason}" for f in run.failed],
        ),
        (
            "skipped (journal)",
            [f"{f.recipient.label}: {f.reason}" for f in run.skipped],
        ),
        (verb, [r.label for r in run.not_sent]),
    ]
    always = {"sent", "failed"}
    if args.journal is not None:
        always.add("already sent (journal)")
    for title, entries in groups:
        if entries or title in always:
            lines.append(f"  {title}: {len(entries)}")
            lines.extend(f"    {entry}" for entry in entries)
    if run.stop_reason:
        lines.append(f"  stopped because {run.stop_reason}")
    charged = [s.cost for s in run.sent if s.cost is not None]
    if charged:
        lines.append(f"  charged: {format_cents(sum(charged))}")
    elif estimate is not None and args.dry_run:
        lines.append(f"  estimated cost: {format_cents(estimate)}")
    _out("\n".join(lines))


def _summary_data(
    args: argparse.Namespace, run: _Run, estimate: int | None
) -> dict[str, Any]:
    def row(recipient: csvinput.Recipient) -> dict[str, Any]:
        return {"line": recipient.line, "label": recipient.label}

    def sent(item: _Sent) -> dict[str, Any]:
        return {
            **row(item.recipient),
            "card_ids": item.card_ids,
            "mailing_id": item.mailing_id,
            "cost_cents": item.cost,
        }

    return {
        "dry_run": bool(args.dry_run),
        "journal": args.journal,
        "max_cost_cents": args.max_cost,
        "estimated_cost_cents": estimate,
        "sent": [sent(s) for s in run.sent],
        "already_sent": [
            {**sent(s), "looked_up": bool(s.note)} for s in run.already_sent
        ],
        "rejected": [
            {"line": r.line, "label": r.label, "reasons": list(r.reasons)}
            for r in run.rejected
        ],
        "failed": [
            {**row(f.recipient), "reason": f.reason} for f in run.failed
        ],
        "skipped": [
            {**row(f.recipient), "reason": f.reason} for f in run.skipped
        ],
        "not_sent": [row(r) for r in run.not_sent],
        "stop_reason": run.stop_reason,
        "interrupted": run.interrupted,
    }

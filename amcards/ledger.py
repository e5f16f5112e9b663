"""A send ledger: every intended send is written down before it goes out.

How it works
------------
Each send has a key: the caller's ``idempotency_key``, or one derived
from what is sent (:func:`derive_key`).  Before the request leaves, the
sender *claims* the key with :meth:`SendLedger.claim`, which commits a
``pending`` row to an SQLite file in its own transaction, so the intent
is on disk before a byte is sent.  When the answer comes the sender
records the outcome: :meth:`~SendLedger.mark_sent` with the ids the
service gave, :meth:`~SendLedger.mark_refused` with the error, or
:meth:`~SendLedger.mark_unknown` when the answer was lost.  A claim finds
one of five situations:

* no row, or a ``refused`` one: the key becomes ``pending`` for this
  sender and :meth:`~SendLedger.claim` returns None: go ahead and send;
* ``sent``: the entry comes back with its stored result; return that
  result and send nothing;
* ``unknown``: the entry comes back; call :meth:`~SendLedger.reconcile`,
  which looks the card up, before anything is sent again;
* ``pending``, held by a live sender: :class:`SendInProgressError`;
* ``pending``, left behind by a sender that died (its process is gone,
  or the claim is older than ``stale_after``): the entry turns
  ``unknown`` and comes back, as above.

:func:`send_card_once` runs the whole protocol for one card.

Guarantees
----------
* At most one sender holds a key at a time, across threads and processes
  sharing the file: a claim reads and writes inside one ``BEGIN
  IMMEDIATE`` transaction, which SQLite serialises.  The loser gets
  :class:`SendInProgressError` at once rather than waiting, so a batch
  can move on and come back.
* A key recorded as ``sent`` is never sent again through the ledger, and
  the earlier result is returned without a request.
* A key whose outcome is ``unknown`` is never sent again before it has
  been looked up.
* What reached the disk survives a crash of the process (``synchronous =
  FULL`` in WAL mode): a claim is committed before the request goes out.

Limits
------
* The ledger can only be as right as the lookup in
  :meth:`~SendLedger.reconcile`.  A card found there proves the send
  went through.  Absence proves nothing by itself: the card may not be
  listed yet, may sit beyond the most recent ``lookup_limit`` cards, or
  may no longer match (a renamed template).  So absence is trusted only
  once ``settle_after`` seconds have passed since the last attempt, and
  is then taken as "not sent": the entry becomes re-claimable, and if
  the card did exist after all, sending again mails it twice.
* The card listing shows neither the message nor the return address
  nor ``extra_data``, and a send with no send date matches a card of
  any date.  Cards already recorded under other keys are skipped, but
  a card sent outside the ledger that looks the same can be taken for
  the lost one: the lost send is then recorded as sent when it may not
  have been (a card missed, never a card mailed twice).
* Only ``card`` entries can be looked up.  Multi-card sends (``cards``,
  ``campaign``, ``campaign_multi``) whose outcome is unknown stay
  ``unknown`` until someone checks by hand and calls
  :meth:`~SendLedger.mark_sent` or :meth:`~SendLedger.mark_refused`.
* "The owner's process is gone" can only be seen on the same host (by
  process id, on POSIX).  Elsewhere a dead sender's claim is taken over
  once it is ``stale_after`` seconds old; a sender still working after
  that long may then race a reconciler.
* SQLite's locks need a local file system; do not share the file over a
  network share.
* Sends made without the ledger are invisible to it, except through the
  lookup in :meth:`~SendLedger.reconcile`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import socket
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from amcards.core import validators
from amcards.core.errors import (
    AMcardsException,
    OAuthTokenRefreshError,
    SendInProgressError,
    SendOutcomeUnknownError,
    SpendingLimitError,
    TransportError,
    ValidationError,
)
from amcards.core.http import Timeout
from amcards.core.models import DEFAULT_BASE_URL, Card, CardResponse

if TYPE_CHECKING:
    from amcards.client import AMcardsClient

T = TypeVar("T")

__all__ = [
    "DEFAULT_LOOKUP_LIMIT",
    "DEFAULT_SETTLE_AFTER",
    "DEFAULT_STALE_AFTER",
    "KEY_VERSION",
    "KINDS",
    "STATES",
    "Entry",
    "Kind",
    "SendLedger",
    "State",
    "card_key",
    "card_request",
    "card_response",
    "card_result",
    "check_key",
    "derive_key",
    "is_refusal",
    "no_answer_kept",
    "run_once",
    "send_card_once",
    "server_of",
]

log = logging.getLogger(__name__)

Kind = Literal["card", "cards", "campaign", "campaign_multi"]
State = Literal["pending", "sent", "refused", "unknown"]

#: What a ledger entry can record (one card, one batch of cards, one
#: drip campaign to one recipient, or one campaign to many contacts).
KINDS: tuple[Kind, ...] = ("card", "cards", "campaign", "campaign_multi")
#: The states of an entry.  ``refused`` means "known not to have been
#: sent" (the service refused it, or a lookup settled that no card
#: exists); such a key may be claimed again.
STATES: tuple[State, ...] = ("pending", "sent", "refused", "unknown")

#: A pending claim this many seconds old is taken as abandoned.
DEFAULT_STALE_AFTER = 600.0
#: Absence of a card is trusted this many seconds after the last attempt.
DEFAULT_SETTLE_AFTER = 60.0
#: How many recent cards :meth:`SendLedger.reconcile` looks through.
DEFAULT_LOOKUP_LIMIT = 100
#: Part of every derived key; a change to the derivation bumps it, so
#: keys derived by an older version never match new ones by accident.
KEY_VERSION = 4

_HOST = socket.gethostname()
_ERROR_LIMIT = 1000
_WAL_RETRY_PAUSE = 0.01

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL
        CHECK (kind IN ('card', 'cards', 'campaign', 'campaign_multi')),
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'sent', 'refused', 'unknown')),
    request TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    owner_host TEXT,
    owner_pid INTEGER,
    owner_thread INTEGER,
    revision INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sends_by_state ON sends (state);
CREATE TABLE IF NOT EXISTS ledger_info (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_COLUMNS = (
    "key, kind, state, request, result, error, created, updated, "
    "attempts, owner_host, owner_pid, owner_thread, revision"
)


@attrs.frozen
class Entry:
    """One row of the ledger: a send, what was sent and how it ended.

    Attributes:
        key: The idempotency key.
        kind: One of :data:`KINDS`.
        state: One of :data:`STATES`.
        request: What was (or is about to be) sent, as JSON values; never
            a token.
        result: What the service answered for a ``sent`` entry (ids,
            cost...), else None.
        error: Why the entry is ``refused`` or ``unknown``, else None.
        created: When the key was first claimed (aware, UTC).
        updated: When the entry last changed (aware, UTC).
        attempts: How many claims of this key led to a send.
        owner_host: The host of the sender that made the last claim.
        owner_pid: Its process id.
        owner_thread: Its thread id.
        revision: Grows by one with every change of the row.
    """

    key: str
    kind: Kind
    state: State
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created: dt.datetime
    updated: dt.datetime
    attempts: int
    owner_host: str | None = None
    owner_pid: int | None = None
    owner_thread: int | None = None
    revision: int = 0

    @property
    def owner(self) -> str:
        """Who made the last claim, as ``host pid N thread N``."""
        return (
            f"{self.owner_host} pid {self.owner_pid} "
            f"thread {self.owner_thread}"
        )


class SendLedger:
    """The send ledger, kept in an SQLite file.

    Args:
        path: The database file; created with its table when missing.
        timeout: Seconds to wait for another connection's lock before
            giving up with :class:`sqlite3.OperationalError`.
        stale_after: Seconds after which a ``pending`` claim is taken as
            abandoned by a sender that died.
        settle_after: Seconds after the last attempt before
            :meth:`reconcile` trusts that a card it cannot find was not
            sent.
        clock: Returns the current time in seconds since the epoch.

    Raises:
        ValidationError: naming the bad argument; for ``path``, also a
            folder, a folder that does not exist, or a file that is not
            an SQLite database or cannot be written.
        sqlite3.OperationalError: the file stayed locked by another
            connection for longer than ``timeout``.

    One ledger may be shared by the threads of a process (a lock guards
    its one connection), and any number of processes may open the same
    file.  A process forked with an open ledger opens its own connection
    on first use.  Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        stale_after: float = DEFAULT_STALE_AFTER,
        settle_after: float = DEFAULT_SETTLE_AFTER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = _check_path(path)
        self.stale_after = _check_seconds(
            stale_after, "stale_after", zero=True
        )
        self.settle_after = _check_seconds(
            settle_after, "settle_after", zero=True
        )
        self._timeout = _check_seconds(timeout, "timeout", zero=False)
        if not callable(clock):
            raise ValidationError(field="clock", reason="expected a function")
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        # Connections inherited through fork: kept, never used or closed.
        self._inherited: list[sqlite3.Connection] = []
        self._closed = False
        self._bound: str | None = None
        try:
            with self._locked():
                self._connection()
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc):
                raise
            # Not a database ("file is not a database"), or one that
            # cannot be opened or written (permissions, a read-only disk).
            raise ValidationError(
                field="path",
                reason=f"cannot use {self.path} as a send ledger: {exc}",
            ) from exc

    # Housekeeping ------------------------------------------------------

    def close(self) -> None:
        """Close the database connection; the ledger cannot be used after."""
        with self._locked():
            self._closed = True
            if self._conn is not None:
                self._conn.close()
            self._conn = None

    def __enter__(self) -> SendLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SendLedger {self.path}>"

    # The server ------------------------------------------------------

    @property
    def server(self) -> str | None:
        """The server this ledger's sends go to (a client's ``base_url``),
        or None before the first send through it."""
        with self._locked():
            row = (
                self._connection()
                .execute("SELECT value FROM ledger_info WHERE name = 'server'")
                .fetchone()
            )
        return None if row is None else str(row[0])

    def check_server(self, server: str) -> None:
        """Refuse ``server`` if the ledger is tied to another one.

        Raises:
            ValidationError: field ``ledger``, naming both servers.
        """
        bound = self.server
        if bound is not None and bound != _server_name(server):
            raise _other_server(self.path, bound, server)

    def bind(self, server: str) -> None:
        """Tie the ledger to ``server`` for good, or check that it is.

        A key means "this send already happened" only on the server it
        happened on: a card sent to a test server is not sent to the real
        one.  So a ledger serves one server; :func:`run_once` binds it to
        the client's ``base_url`` before the first send.

        Raises:
            ValidationError: field ``ledger``: the ledger is tied to
                another server.  Use a ledger file per server.
        """
        name = _server_name(server)
        if self._bound == name:
            return
        with self._write() as conn:
            row = conn.execute(
                "SELECT value FROM ledger_info WHERE name = 'server'"
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO ledger_info (name, value) "
                    "VALUES ('server', ?)",
                    (name,),
                )
            elif row[0] != name:
                raise _other_server(self.path, str(row[0]), name)
        self._bound = name

    # Claiming and recording outcomes -----------------------------------

    def claim(
        self, key: str, kind: Kind, request: Mapping[str, Any]
    ) -> Entry | None:
        """Record that ``request`` is about to be sent under ``key``.

        Returns None when the caller now holds the key and should send.
        Returns the existing entry when the key is ``sent`` (return its
        result, send nothing) or ``unknown`` (call :meth:`reconcile`
        first); a ``pending`` claim left by a sender that died is turned
        ``unknown`` and returned.

        Raises:
            SendInProgressError: a live sender holds the key.
            ValidationError: ``key``, ``kind`` or ``request`` is not
                acceptable, or the key already stands for a different
                send (field ``idempotency_key``; only the names of the
                differing parts are given).
        """
        key = check_key(key)
        kind = _check_kind(kind)
        request_json = _to_json(request, "request")
        with self._write() as conn:
            entry = self._select(conn, key)
            if entry is None:
                self._insert(conn, key, kind, request_json)
                return None
            if entry.state == "refused":
                self._reclaim(conn, entry, kind, request_json)
                return None
            _check_same_send(entry, kind, json.loads(request_json))
            if entry.state == "pending":
                if not self.is_stale(entry):
                    raise _in_progress(entry)
                return self._abandon(conn, entry)
            return entry

    def mark_sent(self, key: str, result: Mapping[str, Any]) -> Entry:
        """Record that the send under ``key`` went through.

        ``result`` holds what the service answered (ids, cost...).  A key
        already ``sent`` keeps its first result; a different second one
        is logged as a warning.

        Raises:
            KeyError: the ledger holds no such key.
        """
        result_json = _to_json(result, "result")
        with self._write() as conn:
            entry = self._require(conn, key)
            if entry.state == "sent":
                if entry.result != json.loads(result_json):
                    log.warning(
                        "Ledger key %s was already recorded as sent with "
                        "another result; keeping the first",
                        key,
                    )
                return entry
            conn.execute(
                "UPDATE sends SET state = 'sent', result = ?, error = NULL,"
                " updated = ?, revision = revision + 1 WHERE key = ?",
                (result_json, self._now_text(), key),
            )
            return self._require(conn, key)

    def mark_refused(self, key: str, error: str | BaseException) -> Entry:
        """Record that the send under ``key`` did not go through.

        The key may be claimed again later.  Use this too to settle an
        ``unknown`` entry by hand once you know no card was sent.  It is
        ignored (with a warning) when the entry is ``sent``, or
        ``pending`` under another live sender.

        Raises:
            KeyError: the ledger holds no such key.
        """
        return self._mark_failure(key, "refused", error)

    def mark_unknown(self, key: str, error: str | BaseException) -> Entry:
        """Record that the send under ``key`` may or may not have arrived.

        The key will not be sent again before :meth:`reconcile` has
        looked it up.  Ignored like :meth:`mark_refused`.

        Raises:
            KeyError: the ledger holds no such key.
        """
        return self._mark_failure(key, "unknown", error)

    # Reading ----------------------------------------------------------

    def get(self, key: str) -> Entry | None:
        """The entry under ``key``, or None."""
        with self._locked():
            return self._select(self._connection(), key)

    def entries(self, state: State | None = None) -> Iterator[Entry]:
        """Yield the entries, oldest claim first, optionally in one state.

        The rows are read when iteration starts; later changes are not
        seen.
        """
        query = f"SELECT {_COLUMNS} FROM sends"
        params: tuple[str, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            params = (_check_state(state),)
        with self._locked():
            rows = self._connection().execute(
                query + " ORDER BY created, key", params
            )
            entries = [_entry(row) for row in rows.fetchall()]
        yield from entries

    def summary(self) -> dict[State, int]:
        """How many entries are in each state (every state is listed)."""
        counts: dict[State, int] = dict.fromkeys(STATES, 0)
        with self._locked():
            rows = self._connection().execute(
                "SELECT state, COUNT(*) FROM sends GROUP BY state"
            )
            for state, count in rows.fetchall():
                counts[_check_state(state)] = int(count)
        return counts

    def is_stale(self, entry: Entry) -> bool:
        """Whether a ``pending`` entry was abandoned by a sender that died.

        It is when it is at least ``stale_after`` seconds old, or when its
        owner was another process on this host that no longer exists.
        """
        if entry.state != "pending":
            return False
        age = self._clock() - entry.updated.timestamp()
        if age >= self.stale_after:
            return True
        if entry.owner_host != _HOST or entry.owner_pid is None:
            return False
        if entry.owner_pid == os.getpid():
            return False
        return not _process_exists(entry.owner_pid)

    # Reconciling -------------------------------------------------------

    def reconcile(
        self,
        entry: Entry,
        client: AMcardsClient,
        *,
        lookup_limit: int = DEFAULT_LOOKUP_LIMIT,
    ) -> Entry:
        """Find out whether an ``unknown`` card send went through.

        Works on an ``unknown`` entry, or on a ``pending`` one left by a
        sender that died (:meth:`is_stale`).  For a ``card`` entry it
        looks through the most recent ``lookup_limit`` cards of the
        recipient's ``third_party_contact_id`` (or, without one, of the
        initiator) for a card no other ledger entry has claimed, with
        the same template (by name), initiator, shipping address
        (compared as :func:`derive_key` normalises it; ``country`` only
        when the request gave one, ``address_line_2`` only when the
        listing shows it) and send date (when the request gave one):

        * found: the entry becomes ``sent`` with the card's id, cost and
          address (``result['reconciled']`` is true);
        * not found, ``settle_after`` seconds or more after the last
          attempt: ``refused``, so the key may be claimed again.  See the
          module's notes for the risk this takes;
        * not found sooner: the entry is returned still ``unknown``.

        Entries of other kinds, and entries already ``sent`` or
        ``refused``, are returned as they are.  If another process
        settled the entry meanwhile, its version is returned.

        Raises:
            SendInProgressError: the entry is ``pending`` under a live
                sender.
            KeyError: the ledger no longer holds the key.
            ValidationError: the ledger is tied to a server other than
                the client's (:meth:`bind`).
            AMcardsException: the lookup failed; nothing was changed.
        """
        self.check_server(server_of(client))
        current = self._unknown_or_settled(entry.key)
        if current.state != "unknown":
            return current
        if current.kind != "card":
            log.info(
                "Ledger key %s (%s) cannot be looked up; settle it by hand",
                current.key,
                current.kind,
            )
            return current
        cards = _lookup_cards(current.request, client, lookup_limit)
        card = self._matching_card(current, cards, client)
        if card is not None:
            result = _result_from_card(card, client.base_url)
            return self._settle(current, "sent", result, None)
        waited = self._clock() - current.updated.timestamp()
        if waited < self.settle_after:
            return current
        reason = (
            f"no matching card among the {len(cards)} most recent "
            f"{waited:.0f}s after the last attempt; taken as not sent"
        )
        return self._settle(current, "refused", None, reason)

    # The machinery -----------------------------------------------------

    def _locked(self) -> threading.RLock:
        """The lock guarding the connection, renewed after a fork."""
        if self._pid != os.getpid():
            self._after_fork()
        return self._lock

    def _after_fork(self) -> None:
        """Leave the parent's connection and lock alone in a child.

        Closing a connection the parent opened could disturb the
        parent's locks on the file, so the child only keeps a reference
        to it and opens its own on first use.
        """
        if self._conn is not None:
            self._inherited.append(self._conn)
        self._conn = None
        self._lock = threading.RLock()
        self._pid = os.getpid()

    def _connection(self) -> sqlite3.Connection:
        """The open connection; call it holding :meth:`_locked`."""
        if self._closed:
            raise RuntimeError("the send ledger is closed")
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        self._use_wal(conn)
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise
        conn.execute("COMMIT")
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL mode, waiting out other openers.

        SQLite answers "database is locked" at once, without its busy
        wait, when several connections switch a new file together.
        """
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    conn.close()
                    raise
            time.sleep(_WAL_RETRY_PAUSE)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding SQLite's write lock throughout."""
        with self._locked():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _now_text(self) -> str:
        return _stamp(self._clock())

    def _select(self, conn: sqlite3.Connection, key: str) -> Entry | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM sends WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else _entry(row)

    def _require(self, conn: sqlite3.Connection, key: str) -> Entry:
        entry = self._select(conn, key)
        if entry is None:
            raise KeyError(key)
        return entry

    def _insert(
        self, conn: sqlite3.Connection, key: str, kind: Kind, request: str
    ) -> None:
        now = self._now_text()
        conn.execute(
            f"INSERT INTO sends ({_COLUMNS}) VALUES "
            "(?, ?, 'pending', ?, NULL, NULL, ?, ?, 1, ?, ?, ?, 1)",
            (key, kind, request, now, now, *_me()),
        )

    def _reclaim(
        self,
        conn: sqlite3.Connection,
        entry: Entry,
        kind: Kind,
        request: str,
    ) -> None:
        """Claim a ``refused`` key again; the new request replaces it."""
        conn.execute(
            "UPDATE sends SET kind = ?, state = 'pending', request = ?, "
            "result = NULL, error = NULL, updated = ?, "
            "attempts = attempts + 1, owner_host = ?, owner_pid = ?, "
            "owner_thread = ?, revision = revision + 1 WHERE key = ?",
            (kind, request, self._now_text(), *_me(), entry.key),
        )

    def _abandon(self, conn: sqlite3.Connection, entry: Entry) -> Entry:
        """Turn a stale ``pending`` entry ``unknown``; return it."""
        error = (
            f"claimed by {entry.owner} at {entry.updated.isoformat()}, "
            "which never recorded the outcome"
        )
        conn.execute(
            "UPDATE sends SET state = 'unknown', error = ?, updated = ?, "
            "revision = revision + 1 WHERE key = ?",
            (error, self._now_text(), entry.key),
        )
        log.warning(
            "Ledger key %s was abandoned by %s", entry.key, entry.owner
        )
        return self._require(conn, entry.key)

    def _mark_failure(
        self, key: str, state: State, error: str | BaseException
    ) -> Entry:
        text = _describe(error)
        with self._write() as conn:
            entry = self._require(conn, key)
            held = (
                entry.state == "pending"
                and _me() != _owner(entry)
                and not self.is_stale(entry)
            )
            if entry.state == "sent" or held:
                log.warning(
                    "Ledger key %s is %s; not marking it %s",
                    key,
                    entry.state,
                    state,
                )
                return entry
            conn.execute(
                "UPDATE sends SET state = ?, error = ?, updated = ?, "
                "revision = revision + 1 WHERE key = ?",
                (state, text, self._now_text(), key),
            )
            return self._require(conn, key)

    def _unknown_or_settled(self, key: str) -> Entry:
        """The entry, with a stale ``pending`` turned ``unknown``."""
        with self._write() as conn:
            entry = self._require(conn, key)
            if entry.state != "pending":
                return entry
            if not self.is_stale(entry):
                raise _in_progress(entry)
            return self._abandon(conn, entry)

    def _settle(
        self,
        entry: Entry,
        state: State,
        result: dict[str, Any] | None,
        error: str | None,
    ) -> Entry:
        """Move ``entry`` to ``state`` unless it changed since it was read."""
        result_json = None if result is None else _to_json(result, "result")
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sends SET state = ?, result = ?, error = ?, "
                "updated = ?, revision = revision + 1 "
                "WHERE key = ? AND revision = ?",
                (
                    state,
                    result_json,
                    error,
                    self._now_text(),
                    entry.key,
                    entry.revision,
                ),
            )
            if cursor.rowcount == 0:
                log.info("Ledger key %s changed while looked up", entry.key)
            return self._require(conn, entry.key)

    def _card_ids_taken(self, key: str) -> set[int]:
        """Card ids recorded by every other ``sent`` card entry."""
        with self._locked():
            rows = self._connection().execute(
                "SELECT result FROM sends WHERE state = 'sent' "
                "AND kind = 'card' AND key != ?",
                (key,),
            )
            results = [json.loads(row[0] or "null") for row in rows]
        return {
            result["card_id"]
            for result in results
            if isinstance(result, dict)
            and isinstance(result.get("card_id"), int)
        }

    def _matching_card(
        self, entry: Entry, cards: Sequence[Card], client: AMcardsClient
    ) -> Card | None:
        if not cards:
            return None
        request = entry.request
        template_name = client.template(request["template_id"]).name
        taken = self._card_ids_taken(entry.key)
        for card in cards:
            if card.id in taken:
                continue
            if _card_matches(card, request, template_name):
                return card
        return None


# Keys ------------------------------------------------------------------


def check_key(key: object) -> str:
    """Return an idempotency key given by the caller, unchanged.

    Raises:
        ValidationError: it is not a string with something besides
            whitespace (field ``idempotency_key``).
    """
    if not isinstance(key, str) or not key.strip():
        raise ValidationError(
            field="idempotency_key", reason="expected a non-empty string"
        )
    return key


def derive_key(
    kind: Kind,
    target_id: int | str,
    address: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    send_date: str | dt.date | None = None,
    message: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Derive the ledger key of a send from what is sent.

    The key is the SHA-256 hex digest of a compact JSON object with
    sorted keys and these members:

    * ``v``: :data:`KEY_VERSION`;
    * ``kind``: one of :data:`KINDS`;
    * ``target``: the template id (campaign id for campaign kinds) as
      digits, as :func:`~amcards.core.validators.validate_id` gives it;
    * ``address``: the recipient as
      :func:`~amcards.core.validators.validate_shipping_address` returns
      it (``campaign=True`` for campaign kinds), then every value in
      Unicode NFC with runs of whitespace made one space and
      case-folded.  Empty optional values drop out, and so do the
      country and ``third_party_contact_id``: an address given with
      ``"US"``, with ``"USA"`` or with no country at all, with or
      without a CRM id, is the same recipient (two people whose names,
      streets, cities, states and postal codes all agree but whose
      countries or CRM ids differ are taken for one, which errs on the
      side of not mailing twice).  A US, Canadian or Australian state
      written out becomes its code (``"Michigan"`` is ``"mi"``), spaces
      leave postal codes, and a US ZIP+4 keeps its first five digits.
      On campaign kinds a phone number loses the country code 1 it may
      start with, and a birth date keeps only its month and day.  For
      ``cards`` and ``campaign_multi``, ``address`` is a list of
      recipients and this is their list sorted
      (their order does not matter); a contact's ``extra_data`` is kept
      beside its address;
    * ``send_date``: ``"YYYY-MM-DD"`` or null;
    * ``message``: in NFC, line ends as ``\\n``, stripped at both ends,
      inner spaces kept; null when None or blank;
    * ``extra``: anything else the caller wants to tell apart, as JSON
      (null when None or empty).

    The initiator, return address and ``extra_data`` are left out unless
    put in ``extra``.  A send with no send date gets the same key on any
    day: sending the same card to the same person again on purpose needs
    a send date or an ``idempotency_key`` of its own.

    Raises:
        ValidationError: a value is not acceptable to the validators, or
            ``extra`` is not JSON.
    """
    kind = _check_kind(kind)
    campaign = kind in ("campaign", "campaign_multi")
    target_field = "campaign_id" if campaign else "template_id"
    payload = {
        "v": KEY_VERSION,
        "kind": kind,
        "target": validators.validate_id(target_id, target_field),
        "address": _key_recipients(kind, address),
        "send_date": (
            None
            if send_date is None
            else validators.validate_date(send_date, "send_date")
        ),
        "message": _key_message(message),
        "extra": json.loads(_to_json(extra, "extra")) if extra else None,
    }
    canonical = _to_json(payload, "key")
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _key_recipients(
    kind: Kind, address: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> Any:
    campaign = kind in ("campaign", "campaign_multi")
    if kind in ("card", "campaign"):
        if not isinstance(address, Mapping):
            raise ValidationError(
                field="shipping_address", reason="expected a dict"
            )
        return _key_address(address, "shipping_address", campaign)
    if isinstance(address, (str, bytes, Mapping)) or not isinstance(
        address, Sequence
    ):
        raise ValidationError(
            field="shipping_addresses", reason="expected a list of dicts"
        )
    field = "contacts" if campaign else "shipping_addresses"
    recipients = [
        _key_address(item, f"{field}[{index}]", campaign)
        for index, item in enumerate(address)
    ]
    return sorted(recipients, key=lambda item: _to_json(item, field))


def _key_address(
    address: Mapping[str, Any], field: str, campaign: bool
) -> dict[str, Any]:
    if not isinstance(address, Mapping):
        raise ValidationError(field=field, reason="expected a dict")
    extra_data = None
    if campaign and "extra_data" in address:
        extra_data = validators.validate_extra_data(
            address["extra_data"], f"{field}['extra_data']"
        )
        address = {k: v for k, v in address.items() if k != "extra_data"}
    checked = validators.validate_shipping_address(
        address, field=field, campaign=campaign
    )
    country = checked.get("country", "US")
    canonical: dict[str, Any] = {
        key: _key_text(value)
        for key, value in checked.items()
        if key not in ("country", "third_party_contact_id")
    }
    if "state" in canonical:
        states = _STATE_NAMES.get(country, {})
        canonical["state"] = states.get(canonical["state"], canonical["state"])
    if "postal_code" in canonical:
        postal = "".join(canonical["postal_code"].split())
        if country == "US" and _ZIP_PLUS_4.fullmatch(postal):
            postal = postal[:5]
        canonical["postal_code"] = postal
    phone = canonical.get("phone_number")
    if phone is not None and len(phone) == 11 and phone.startswith("1"):
        canonical["phone_number"] = phone[1:]
    if "birth_date" in canonical:
        # A drip mails on the birthday: the year does not change it.
        canonical["birth_date"] = canonical["birth_date"][-5:]
    if extra_data:
        canonical["extra_data"] = extra_data
    return canonical


_ZIP_PLUS_4 = re.compile(r"[0-9]{5}-?[0-9]{4}")

# State, province and territory names as people type them, folded, to the
# codes the key uses, for the countries whose addresses need a state.
_STATE_NAMES: dict[str, dict[str, str]] = {
    "US": {
        name: code.casefold()
        for code, name in (
            ("AL", "alabama"),
            ("AK", "alaska"),
            ("AZ", "arizona"),
            ("AR", "arkansas"),
            ("CA", "california"),
            ("CO", "colorado"),
            ("CT", "connecticut"),
            ("DE", "delaware"),
            ("FL", "florida"),
            ("GA", "georgia"),
            ("HI", "hawaii"),
            ("ID", "idaho"),
            ("IL", "illinois"),
            ("IN", "indiana"),
            ("IA", "iowa"),
            ("KS", "kansas"),
            ("KY", "kentucky"),
            ("LA", "louisiana"),
            ("ME", "maine"),
            ("MD", "maryland"),
            ("MA", "massachusetts"),
            ("MI", "michigan"),
            ("MN", "minnesota"),
            ("MS", "mississippi"),
            ("MO", "missouri"),
            ("MT", "montana"),
            ("NE", "nebraska"),
            ("NV", "nevada"),
            ("NH", "new hampshire"),
            ("NJ", "new jersey"),
            ("NM", "new mexico"),
            ("NY", "new york"),
            ("NC", "north carolina"),
            ("ND", "north dakota"),
            ("OH", "ohio"),
            ("OK", "oklahoma"),
            ("OR", "oregon"),
            ("PA", "pennsylvania"),
            ("RI", "rhode island"),
            ("SC", "south carolina"),
            ("SD", "south dakota"),
            ("TN", "tennessee"),
            ("TX", "texas"),
            ("UT", "utah"),
            ("VT", "vermont"),
            ("VA", "virginia"),
            ("WA", "washington"),
            ("WV", "west virginia"),
            ("WI", "wisconsin"),
            ("WY", "wyoming"),
            ("DC", "district of columbia"),
            ("DC", "washington dc"),
            ("DC", "washington d.c."),
            ("PR", "puerto rico"),
            ("GU", "guam"),
            ("VI", "u.s. virgin islands"),
            ("VI", "us virgin islands"),
            ("AS", "american samoa"),
            ("MP", "northern mariana islands"),
        )
    },
    "CA": {
        name: code.casefold()
        for code, name in (
            ("AB", "alberta"),
            ("BC", "british columbia"),
            ("MB", "manitoba"),
            ("NB", "new brunswick"),
            ("NL", "newfoundland and labrador"),
            ("NS", "nova scotia"),
            ("NT", "northwest territories"),
            ("NU", "nunavut"),
            ("ON", "ontario"),
            ("PE", "prince edward island"),
            ("QC", "quebec"),
            ("QC", "québec"),
            ("SK", "saskatchewan"),
            ("YT", "yukon"),
        )
    },
    "AU": {
        name: code.casefold()
        for code, name in (
            ("ACT", "australian capital territory"),
            ("NSW", "new south wales"),
            ("NT", "northern territory"),
            ("QLD", "queensland"),
            ("SA", "south australia"),
            ("TAS", "tasmania"),
            ("VIC", "victoria"),
            ("WA", "western australia"),
        )
    },
}


def _key_text(value: str, *, fold: bool = True) -> str:
    text = " ".join(unicodedata.normalize("NFC", value).split())
    return text.casefold() if fold else text


def _key_message(message: object) -> str | None:
    if message is None:
        return None
    message = validators.validate_message(message)
    text = unicodedata.normalize("NFC", message)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


# One card ----------------------------------------------------------------


def card_request(
    template_id: int | str,
    initiator: str,
    shipping_address: Mapping[str, Any],
    return_address: Mapping[str, Any] | None = None,
    send_date: str | dt.date | None = None,
    message: str | None = None,
    extra_data: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ledger's record of a card send: its arguments, normalised.

    Keys: ``template_id`` (digits), ``initiator`` (stripped),
    ``shipping_address`` and ``return_address`` (as the validators
    return them; the latter may be None), ``send_date`` (``YYYY-MM-DD``
    or None), ``message`` (as given, or None) and ``extra_data`` (a
    dict, maybe empty).  The client and the command line should both
    record card sends in this shape, so a key's request compares equal
    whichever of them made it.

    Raises:
        ValidationError: naming the bad argument; nothing is recorded.
    """
    who = validators.validate_initiator(initiator)
    if message is not None:
        validators.validate_message(message)
    return {
        "template_id": validators.validate_id(template_id, "template_id"),
        "initiator": who,
        "shipping_address": validators.validate_shipping_address(
            shipping_address
        ),
        "return_address": validators.validate_return_address(return_address),
        "send_date": (
            None
            if send_date is None
            else validators.validate_date(send_date, "send_date")
        ),
        "message": message,
        "extra_data": validators.validate_extra_data(extra_data),
    }


def card_key(request: Mapping[str, Any]) -> str:
    """The derived key of a :func:`card_request`: template, address, send
    date and message, as :func:`derive_key` combines them."""
    return derive_key(
        "card",
        request["template_id"],
        request["shipping_address"],
        request.get("send_date"),
        request.get("message"),
    )


def card_result(response: CardResponse) -> dict[str, Any]:
    """What the ledger keeps of a card send's answer."""
    return {
        "card_id": response.card_id,
        "total_cost": response.total_cost,
        "user_email": response.user_email,
        "message": response.message,
        "shipping_address": dict(response.shipping_address),
        "base_url": response.base_url,
    }


def card_response(entry: Entry) -> CardResponse:
    """Rebuild the :class:`CardResponse` of a ``sent`` card entry.

    An entry settled by :meth:`SendLedger.reconcile` has no user email
    (``""``) and says so in ``message``.

    Raises:
        ValueError: the entry is not a ``sent`` card entry.
    """
    result = entry.result
    if entry.kind != "card" or entry.state != "sent" or result is None:
        raise ValueError(f"ledger key {entry.key} is not a sent card")
    if "total_cost" not in result or "card_id" not in result:
        raise no_answer_kept(entry)
    return CardResponse(
        card_id=int(result["card_id"]),
        total_cost=int(result["total_cost"]),
        user_email=str(result.get("user_email", "")),
        message=str(result.get("message", "")),
        shipping_address=dict(result.get("shipping_address") or {}),
        base_url=str(result.get("base_url") or DEFAULT_BASE_URL),
    )


def no_answer_kept(entry: Entry) -> ValidationError:
    """The error for a key recorded as sent with no answer to give back.

    That happens when a send was settled by hand (``amcards journal
    --mark-sent``): it is not sent again, and there is nothing to return.
    """
    return ValidationError(
        field="idempotency_key",
        reason=(
            f"key {entry.key} is recorded as sent (settled by hand), so "
            "it is not sent again; the ledger holds no answer to return"
        ),
    )


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` from a send proves that nothing was sent.

    True for a value refused before sending (:class:`ValidationError`,
    or a price over ``max_cost``: :class:`SpendingLimitError`),
    a connection that never carried the request, a token refresh that
    failed before the send, and an answer with a 4xx status.  Anything
    else (a lost answer, a 2xx answer that could not be read, an error
    outside the package) leaves the outcome unknown.
    """
    if isinstance(error, SendOutcomeUnknownError):
        return False
    if isinstance(
        error, (ValidationError, OAuthTokenRefreshError, SpendingLimitError)
    ):
        return True
    if isinstance(error, TransportError):
        return not error.request_sent
    if isinstance(error, AMcardsException) and error.status is not None:
        return 400 <= error.status < 500
    return False


def run_once(
    ledger: SendLedger,
    client: AMcardsClient,
    kind: Kind,
    key: str,
    request: Mapping[str, Any],
    send: Callable[[], T],
    record: Callable[[T], Mapping[str, Any]],
    restore: Callable[[Entry], T],
) -> T:
    """Run ``send`` at most once under ``key``: the ledger protocol.

    Claim the key.  A key already ``sent`` returns ``restore(entry)``
    with no request.  A ``card`` key whose outcome is ``unknown`` is
    reconciled first: found, its answer is returned; settled as not
    sent, it is claimed again; other kinds stay unknown.  Then ``send``
    runs and the outcome is recorded: ``sent`` with ``record(answer)``;
    ``refused`` when :func:`is_refusal` says nothing went out;
    ``unknown`` otherwise, including an interrupt.  Errors are re-raised.

    Raises:
        SendInProgressError: another sender holds the key.
        SendOutcomeUnknownError: the send's answer was lost, or an
            earlier one's still cannot be settled; look again later.
        ValidationError: the key already stands for a different send, or
            the ledger is tied to another server (:meth:`SendLedger.bind`).
    """
    ledger.bind(server_of(client))
    earlier = ledger.claim(key, kind, request)
    if earlier is not None and earlier.state == "unknown" and kind == "card":
        earlier = ledger.reconcile(earlier, client)
        if earlier.state == "refused":
            earlier = ledger.claim(key, kind, request)
    if earlier is not None:
        if earlier.state == "sent":
            return restore(earlier)
        raise SendOutcomeUnknownError(
            f"ledger key {key}: an earlier send's outcome is still "
            "unknown; nothing was sent now. Check it, then record it "
            "with mark_sent or mark_refused.",
            endpoint=kind,
            sent=request,
        )

    try:
        answer = send()
    except BaseException as exc:
        if is_refusal(exc):
            ledger.mark_refused(key, exc)
        else:
            ledger.mark_unknown(key, exc)
        raise
    ledger.mark_sent(key, record(answer))
    return answer


def send_card_once(
    client: AMcardsClient,
    ledger: SendLedger,
    template_id: int | str,
    initiator: str,
    shipping_address: Mapping[str, Any],
    return_address: Mapping[str, Any] | None = None,
    send_date: str | dt.date | None = None,
    message: str | None = None,
    *,
    extra_data: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    timeout: Timeout | float | None = None,
    send: Callable[..., CardResponse] | None = None,
) -> CardResponse:
    """Send one card at most once under a ledger key.

    The arguments are normalised (:func:`card_request`) and the key is
    ``idempotency_key`` or :func:`card_key`; then :func:`run_once` does
    the rest.  ``send`` is what sends the card (``client.send_card`` by
    default).

    Raises:
        SendInProgressError: another sender holds the key.
        SendOutcomeUnknownError: the send's answer was lost, or an
            earlier one's still cannot be settled; look again later.
        ValidationError: a bad argument, or a key that stands for a
            different send.
        AMcardsException: as :meth:`AMcardsClient.send_card` raises.
    """
    request = card_request(
        template_id,
        initiator,
        shipping_address,
        return_address,
        send_date,
        message,
        extra_data,
    )
    key = (
        card_key(request)
        if idempotency_key is None
        else check_key(idempotency_key)
    )
    sender = send if send is not None else client.send_card
    return run_once(
        ledger,
        client,
        "card",
        key,
        request,
        lambda: sender(
            request["template_id"],
            request["initiator"],
            request["shipping_address"],
            request["return_address"],
            request["send_date"],
            request["message"],
            extra_data=request["extra_data"] or None,
            timeout=timeout,
        ),
        card_result,
        card_response,
    )


def server_of(client: AMcardsClient) -> str:
    """The server a ledger records for ``client``'s sends.

    It is the client's ``base_url``, unless the transport names the
    server it really talks to in a ``ledger_server`` attribute, as
    :class:`~amcards.transports.fake.FakeTransport` does: sends to an
    in-memory fake must never count as sent on the real service.
    """
    named = getattr(client.transport, "ledger_server", None)
    if isinstance(named, str) and named.strip():
        return named
    return client.base_url


def _server_name(server: str) -> str:
    if not isinstance(server, str) or not server.strip():
        raise ValidationError(
            field="server", reason="expected the server's base URL"
        )
    return server.strip().rstrip("/")


def _other_server(path: str, bound: str, server: str) -> ValidationError:
    return ValidationError(
        field="ledger",
        reason=(
            f"{path} records sends to {bound}, not to {server}: a card "
            "sent to one server is not sent to another, so use a ledger "
            "file for each server"
        ),
    )


def _check_path(path: str | os.PathLike[str]) -> str:
    """A ledger's path: a file, never a database SQLite throws away."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(
            field="path",
            reason=f"expected a file path, not {type(path).__name__}",
        )
    text = os.fspath(path)
    if not isinstance(text, str):
        raise ValidationError(
            field="path", reason="expected a file path as text, not bytes"
        )
    if not text.strip() or text == ":memory:" or text.startswith("file:"):
        raise ValidationError(
            field="path",
            reason="give the path of a file: an empty name or ':memory:' "
            "keeps nothing once the process ends",
        )
    if os.path.isdir(text):
        raise ValidationError(
            field="path", reason=f"{text} is a folder, not a file"
        )
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise ValidationError(
            field="path", reason=f"the folder {folder} does not exist"
        )
    return text


def _check_seconds(value: object, field: str, *, zero: bool) -> float:
    """A finite number of seconds, above zero (or from zero)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field=field, reason="expected seconds")
    seconds = float(value)
    if (
        not math.isfinite(seconds)
        or seconds < 0
        or (seconds == 0 and not zero)
    ):
        low = "zero or more" if zero else "above zero"
        raise ValidationError(
            field=field, reason=f"expected a finite number {low}"
        )
    return seconds


def _check_kind(kind: object) -> Kind:
    for known in KINDS:
        if kind == known:
            return known
    raise ValidationError(
        field="kind", reason=f"expected one of {', '.join(KINDS)}"
    )


def _check_state(state: object) -> State:
    for known in STATES:
        if state == known:
            return known
    raise ValidationError(
        field="state", reason=f"expected one of {', '.join(STATES)}"
    )


def _to_json(value: Any, field: str) -> str:
    """Compact JSON with sorted keys: one text per value."""
    try:
        return json.dumps(
            value,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            field=field, reason=f"not representable as JSON: {exc}"
        ) from exc


def _stamp(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    return moment.isoformat(timespec="microseconds")


def _me() -> tuple[str, int, int]:
    return _HOST, os.getpid(), threading.get_ident()


def _owner(entry: Entry) -> tuple[str | None, int | None, int | None]:
    return entry.owner_host, entry.owner_pid, entry.owner_thread


def _process_exists(pid: int) -> bool:
    """Whether process ``pid`` exists; True when it cannot be told."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but not been reaped (Linux only).

    A killed sender whose parent has not collected it yet still answers
    ``kill(pid, 0)``; its claim is as dead as if it were gone.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[-1].split()
    except OSError:
        return False
    return bool(fields) and fields[0] == b"Z"


def _describe(error: str | BaseException) -> str:
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}"
    else:
        text = str(error)
    if len(text) > _ERROR_LIMIT:
        text = text[: _ERROR_LIMIT - 1] + "\u2026"
    return text


def _entry(row: Sequence[Any]) -> Entry:
    (
        key,
        kind,
        state,
        request,
        result,
        error,
        created,
        updated,
        attempts,
        owner_host,
        owner_pid,
        owner_thread,
        revision,
    ) = row
    return Entry(
        key=key,
        kind=_check_kind(kind),
        state=_check_state(state),
        request=json.loads(request),
        result=None if result is None else json.loads(result),
        error=error,
        created=dt.datetime.fromisoformat(created),
        updated=dt.datetime.fromisoformat(updated),
        attempts=int(attempts),
        owner_host=owner_host,
        owner_pid=owner_pid,
        owner_thread=owner_thread,
        revision=int(revision),
    )


def _in_progress(entry: Entry) -> SendInProgressError:
    since = entry.updated.isoformat()
    return SendInProgressError(
        f"ledger key {entry.key} is being sent by {entry.owner} "
        f"(claimed {since}); not sending it twice",
        key=entry.key,
        owner=entry.owner,
        since=since,
    )


def _check_same_send(
    entry: Entry, kind: Kind, request: Mapping[str, Any]
) -> None:
    """Refuse a key that already stands for a different send.

    The two requests are compared as the key derivation sees them:
    addresses and messages written another way (case, spaces, line ends,
    a country spelled otherwise or left out) are the same send.
    """
    before = _comparable(entry.kind, entry.request)
    now = _comparable(kind, request)
    differing = sorted(
        name
        for name in set(before) | set(now)
        if before.get(name) != now.get(name)
    )
    if kind != entry.kind:
        differing.insert(0, "kind")
    if differing:
        raise ValidationError(
            field="idempotency_key",
            reason=(
                f"key {entry.key} already stands for a {entry.state} send "
                f"that differs in: {', '.join(differing)}; give the new "
                "send its own idempotency_key"
            ),
        )


def _comparable(kind: Kind, request: Mapping[str, Any]) -> dict[str, Any]:
    """``request`` with its recipients, return address and message
    normalised as :func:`derive_key` does; values the validators refuse
    are compared as they are."""
    view = dict(request)
    for name, value in request.items():
        try:
            if name in ("shipping_address", "shipping_addresses", "contacts"):
                view[name] = _key_recipients(kind, value)
            elif name == "message":
                view[name] = _key_message(value)
            elif name == "return_address" and isinstance(value, Mapping):
                view[name] = {
                    key: _key_text(text)
                    for key, text in value.items()
                    if isinstance(text, str)
                    and text.strip()
                    and key != "country"
                }
        except ValidationError:
            continue
    return view


def _lookup_cards(
    request: Mapping[str, Any], client: AMcardsClient, limit: int
) -> list[Card]:
    """The recent cards a card request could have become."""
    address = request.get("shipping_address")
    initiator = request.get("initiator")
    if (
        not isinstance(address, Mapping)
        or not isinstance(initiator, str)
        or "template_id" not in request
    ):
        raise ValidationError(
            field="request",
            reason=(
                "a card entry needs template_id, initiator and "
                "shipping_address to be looked up"
            ),
        )
    contact_id = address.get("third_party_contact_id")
    if contact_id:
        return client.find_recent_cards(
            third_party_contact_id=contact_id, limit=limit
        )
    return client.find_recent_cards(initiator=initiator, limit=limit)


_MATCHED_KEYS = (
    *validators.REQUIRED_ADDRESS_KEYS,
    "organization",
    "third_party_contact_id",
)


def _card_matches(
    card: Card, request: Mapping[str, Any], template_name: str
) -> bool:
    """Whether ``card`` is what the card ``request`` would have made."""
    if card.campaign_id is not None:
        return False
    if _key_text(card.template_name) != _key_text(template_name):
        return False
    if card.initiator.strip() != request["initiator"]:
        return False
    send_date = request.get("send_date")
    if send_date is not None and card.send_date != send_date:
        return False
    return _address_matches(request["shipping_address"], card)


def _address_matches(wanted: Mapping[str, str], card: Card) -> bool:
    got = card.shipping_address
    for key in _MATCHED_KEYS:
        fold = key != "third_party_contact_id"
        mine = _key_text(wanted.get(key, ""), fold=fold)
        if mine != _key_text(got.get(key, ""), fold=fold):
            return False
    if "address_line_2" in got:
        line_2 = _key_text(wanted.get("address_line_2", ""))
        if line_2 != _key_text(got["address_line_2"]):
            return False
    country = wanted.get("country")
    if country and "country" in got:
        theirs = validators.normalize_country(got["country"])
        if _key_text(country) != _key_text(theirs):
            return False
    return True


def _result_from_card(card: Card, base_url: str) -> dict[str, Any]:
    cost = card.total_amount_charged_cents
    return {
        "card_id": card.id,
        "total_cost": card.amount_charged if cost is None else cost,
        "user_email": "",
        "message": "Found by looking the card up after an unknown outcome",
        "shipping_address": dict(card.shipping_address),
        "base_url": base_url,
        "reconciled": True,
    }

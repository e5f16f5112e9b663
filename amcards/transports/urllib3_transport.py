"""The default transport: a urllib3 connection pool.

One :class:`urllib3.PoolManager` per transport keeps connections alive
between requests and may be shared by many threads.  urllib3's own retries
and redirects are turned off: whether a request is tried again is the
client's decision (a card must never be mailed twice), so every failure
comes back at once as one of the errors in :mod:`amcards.core.errors`.

Failures are translated in one place, :func:`_translate`:

- no connection could be opened (refused, unknown host, a failed TLS
  certificate check): :class:`ConnectError`, ``request_sent`` False;
- opening the connection took too long: :class:`ConnectTimeoutError`,
  also ``request_sent`` False;
- the answer took too long: :class:`ReadTimeoutError`;
- the connection dropped once the request may have gone out:
  :class:`ConnectionLostError`.

Only the method and the path (never the query, a header or a body) reach
the log and the error messages.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading
import time
from collections.abc import Mapping
from types import TracebackType

import urllib3
import urllib3.exceptions as u3
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.util import parse_url as u3_parse_url

from amcards.core.errors import (
    ConnectError,
    ConnectionLostError,
    ConnectTimeoutError,
    ReadTimeoutError,
    TransportError,
)
from amcards.core.http import Request, Response, Timeout

__all__ = ["Urllib3Transport"]

log = logging.getLogger(__name__)

# Base URLs whose connection pool is remembered (a client has one).
_MAX_CACHED_POOLS = 16


class Urllib3Transport:
    """Sends requests over HTTP(S) through a pool of kept-alive connections.

    Args:
        timeout: The default connect and read timeouts; ``send`` may
            override them per call.
        pool_maxsize: Connections kept open per host.
        ca_certs: A CA bundle file to verify servers with instead of the
            system's trust store.
        ssl_context: A ready :class:`ssl.SSLContext` to use instead;
            certificates are verified either way.
        headers: Headers added to every request (a request's own headers
            win).

    Every status comes back as a :class:`Response`; only failures on the
    way raise, as :class:`amcards.core.errors.TransportError` subclasses.
    The transport is safe to share between threads.
    """

    def __init__(
        self,
        *,
        timeout: Timeout = Timeout(),  # noqa: B008 (immutable value)
        pool_maxsize: int = 10,
        ca_certs: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(timeout, Timeout):
            raise TypeError(f"timeout must be a Timeout, got {timeout!r}")
        if pool_maxsize < 1:
            raise ValueError(f"pool_maxsize must be 1 or more: {pool_maxsize}")
        self._timeout = timeout
        self._default_timeout = _urllib3_timeout(timeout)
        self._headers = dict(headers or {})
        self._pools: dict[str, tuple[HTTPConnectionPool, str]] = {}
        self._closed = False
        self._lock = threading.Lock()
        self._pool = urllib3.PoolManager(
            maxsize=pool_maxsize,
            cert_reqs=ssl.CERT_REQUIRED,
            ca_certs=ca_certs,
            ssl_context=ssl_context,
            retries=False,
            timeout=self._default_timeout,
        )

    @property
    def timeout(self) -> Timeout:
        """The timeouts used when ``send`` is given none."""
        return self._timeout

    def send(
        self, request: Request, *, timeout: Timeout | None = None
    ) -> Response:
        """Send ``request`` and return the answer, whatever its status.

        Raises:
            ConnectError: No connection could be opened.
            ConnectTimeoutError: Connecting took longer than allowed.
            ReadTimeoutError: The answer took longer than allowed.
            ConnectionLostError: The connection dropped after the request
                may have been sent.
            TransportError: Any other failure on the way.
            RuntimeError: The transport was closed.

        A URL that is not http:// or https:// is a ConnectError too: the
        request never leaves.
        """
        if self._closed:
            raise RuntimeError("this Urllib3Transport is closed")
        if not request.base_url.startswith(("http://", "https://")):
            raise ConnectError(
                "the URL must start with http:// or https://",
                method=request.method,
                path=request.path,
            )
        limit = self._default_timeout
        if timeout is not None and timeout != self._timeout:
            limit = _urllib3_timeout(timeout)
        started = time.monotonic()
        try:
            pool, prefix = self._pool_for(request.base_url)
            answer = pool.urlopen(
                request.method.upper(),
                prefix + request.target,
                body=request.body or None,
                headers=self._merged_headers(request),
                timeout=limit,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
            )
        except ValueError:
            # http.client refuses a header value with a line break before
            # anything is written; its message quotes the value, which
            # may be a token, so the cause is left out on purpose.
            raise ConnectError(
                "the request could not be written: a header value has a "
                "line break or another character headers cannot carry",
                method=request.method,
                path=request.path,
            ) from None
        except (u3.HTTPError, OSError, http.client.HTTPException) as exc:
            error = _translate(exc, request)
            log.debug(
                "%s %s failed after %.1f ms: %s",
                request.method,
                request.path,
                _ms_since(started),
                type(error).__name__,
            )
            raise error from exc
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d in %.1f ms",
                request.method,
                request.path,
                answer.status,
                _ms_since(started),
            )
        return Response(
            status=answer.status,
            headers=tuple(answer.headers.iteritems()),
            body=answer.data,
        )

    def close(self) -> None:
        """Close every pooled connection; later calls do nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.clear()

    def __enter__(self) -> Urllib3Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Urllib3Transport {state}>"

    def _pool_for(self, base_url: str) -> tuple[HTTPConnectionPool, str]:
        """The connection pool for ``base_url``, and its path prefix.

        Asking the pool manager for every request means parsing the URL
        and building a pool key each time, a good part of what sending a
        request costs over loopback; the pool is looked up once per base
        URL instead, and again only if the manager has closed it.
        """
        cached = self._pools.get(base_url)
        if cached is not None and cached[0].pool is not None:
            return cached
        pool = self._pool.connection_from_url(base_url)
        prefix = (u3_parse_url(base_url).path or "").rstrip("/")
        if len(self._pools) >= _MAX_CACHED_POOLS:
            self._pools.clear()
        self._pools[base_url] = (pool, prefix)
        return pool, prefix

    def _merged_headers(self, request: Request) -> Mapping[str, str]:
        headers = request.headers
        names = {name.lower() for name, _ in headers}
        if not self._headers and len(names) == len(headers):
            # The usual case, nothing to merge: a plain dict is much
            # cheaper for urllib3 to send than an HTTPHeaderDict.
            return dict(headers)
        merged = urllib3.HTTPHeaderDict(self._headers)
        for name in {name for name, _ in request.headers}:
            merged.discard(name)
        for name, value in request.headers:
            merged.add(name, value)
        return merged


def _urllib3_timeout(timeout: Timeout) -> urllib3.Timeout:
    return urllib3.Timeout(connect=timeout.connect, read=timeout.read)


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def _translate(exc: BaseException, request: Request) -> TransportError:
    """The package's error for a urllib3 or socket failure."""
    error_class, message = _classify(exc)
    return error_class(message, method=request.method, path=request.path)


def _classify(exc: BaseException) -> tuple[type[TransportError], str]:
    """Which error ``exc`` becomes, and its message.

    The order matters: urllib3's NewConnectionError is a subclass of its
    ConnectTimeoutError, and its SSLError covers both a refused
    certificate (nothing sent) and a failure later on (perhaps sent).
    """
    if isinstance(exc, u3.NewConnectionError):
        return ConnectError, f"could not connect: {_reason(exc)}"
    if isinstance(exc, u3.ConnectTimeoutError):
        return ConnectTimeoutError, "timed out while connecting"
    if isinstance(exc, u3.ReadTimeoutError):
        return ReadTimeoutError, "timed out waiting for the answer"
    if isinstance(exc, u3.SSLError) and _is_certificate_failure(exc):
        return ConnectError, "the server's TLS certificate was refused"
    if isinstance(exc, u3.LocationValueError):
        return ConnectError, "the URL cannot be requested"
    # XXX: a TLS handshake that fails for another reason than the
    # certificate is counted as possibly sent (ConnectionLostError),
    # though nothing was; the SSLEOFError case of
    # test_urllib3_failures_translate_to_package_errors shows it.
    if isinstance(exc, u3.ProtocolError | u3.SSLError | OSError):
        return ConnectionLostError, f"connection lost: {_reason(exc)}"
    return TransportError, f"the request failed: {_reason(exc)}"


def _is_certificate_failure(exc: u3.SSLError) -> bool:
    causes = [exc, *exc.args, exc.__cause__, exc.__context__]
    return any(
        isinstance(cause, ssl.SSLCertVerificationError | ssl.CertificateError)
        for cause in causes
    )


def _reason(exc: BaseException) -> str:
    """A short reason for ``exc``, without URLs (they may carry a query)."""
    for cause in (exc, *exc.args, exc.__cause__, exc.__context__):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        if isinstance(cause, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(cause, http.client.IncompleteRead | u3.IncompleteRead):
            return "the answer was cut short"
    return type(exc).__name__

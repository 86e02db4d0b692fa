"""Connection pools for the HTTP transport: TCP keepalive on every connection, and cancellable header waits.

``requests`` gives no handle on a connection before the response headers arrive, so a request's cancellation is
handed to the pool through a thread-local (:func:`sending`), and the pool shuts the connection's socket down when
it fires: a thread waiting to connect, for a TLS handshake or for response headers returns at once.

A keep-alive connection the server (or a middlebox) closed while it sat in the pool is only found out when a request
sent on it gets no response. Go's ``net/http`` transport then sends a replayable request (GET, HEAD, OPTIONS, TRACE
without a body) again on another connection (``persistConn.shouldRetryRequest`` in ``net/http/transport.go``), so
client-go never reports that race; the pools below flag it with :class:`StaleConnection` so that the transport does
the same.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dynaclient.request import Cancellation

KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES = 30, 10, 3
"""TCP keepalive on every connection: the first probe after 30 s without traffic, then every 10 s, and the
connection fails after 3 unanswered probes. A peer that vanished (host down, NAT entry dropped) is noticed about
60 s after it last sent anything, where an open watch read would otherwise wait forever (client-go's dialer keeps
alive every 30 s)."""


def keepalive_options() -> list[tuple[int, int, int]]:
    """Return urllib3's default socket options plus TCP keepalive with the timings above, where the OS has them."""
    options = [*HTTPConnection.default_socket_options, (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    idle = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)  # Linux, macOS
    for option, value in ((idle, KEEPALIVE_IDLE), (getattr(socket, "TCP_KEEPINTVL", None), KEEPALIVE_INTERVAL)):
        if option is not None:
            options.append((socket.IPPROTO_TCP, option, value))
    if hasattr(socket, "TCP_KEEPCNT"):
        options.append((socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES))
    return options


_sending = threading.local()
"""The cancellation of the request the current thread is sending, for the connection pools below."""


@contextlib.contextmanager
def sending(cancellation: Cancellation | None) -> Iterator[None]:
    """Let the connection pools see ``cancellation`` while this thread sends a request and waits for its headers."""
    _sending.cancellation = cancellation
    try:
        yield
    finally:
        _sending.cancellation = None


REPLAYABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods a request without a body may be sent again with when its reused connection turned out closed (Go's
``isReplayable``)."""

_CLOSED_BY_PEER = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError, http.client.BadStatusLine)
"""What sending on, or reading headers from, a connection the peer has closed raises (``RemoteDisconnected`` is both
a ``ConnectionResetError`` and a ``BadStatusLine``); timeouts are not among them."""


class StaleConnection(Exception):
    """A replayable request failed on a reused connection before any response came: send it again.

    The failure is the ``__cause__``. Not an ``OSError``, so that urllib3 and requests pass it through untranslated.
    """


class _CancellablePool(HTTPConnectionPool):
    """Cancellable waits for response headers, and :class:`StaleConnection` for a reused connection found closed.

    A request's cancellation reaches the connection while the request waits for its response headers.

    Thread-safety: thread-safe, as urllib3's pools are (the cancellation is the sending thread's own).
    """

    def _make_request(self, conn: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        cancellation: Cancellation | None = getattr(_sending, "cancellation", None)
        reused = getattr(conn, "dynaclient_reused", False)
        unregister = cancellation.on_cancel(lambda: _shut_down_connection(conn)) if cancellation is not None else None
        try:
            response = super()._make_request(conn, method, url, *args, **kwargs)
        except _CLOSED_BY_PEER as exc:
            replayable = method in REPLAYABLE_METHODS and kwargs.get("body") is None and not args
            if reused and replayable and not (cancellation is not None and cancellation.cancelled):
                raise StaleConnection(f"{method} {url}: the reused connection was closed by the peer") from exc
            raise
        finally:
            if unregister is not None:
                unregister()
        conn.dynaclient_reused = True
        return response


class _HandshakeVisibleConnection(HTTPSConnection):
    """Remembers its socket's descriptor: while TLS wraps it, ``sock`` is a detached socket no one can shut down."""

    handshake_fd: int | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.handshake_fd = sock.fileno()
        cancellation: Cancellation | None = getattr(_sending, "cancellation", None)
        if cancellation is not None and cancellation.cancelled:
            # Cancelled while connecting: the cancel found no socket to shut down, and a TLS handshake with a server
            # that never answers would block until the socket times out.
            shut_down(sock)
        return sock


class _CancellableHTTPSPool(_CancellablePool, HTTPSConnectionPool):
    ConnectionCls = _HandshakeVisibleConnection


def _shut_down_connection(conn: Any) -> None:
    """Shut a pooled connection's socket down, even in the middle of its TLS handshake."""
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket) and sock.fileno() != -1:
        shut_down(sock)
        return
    descriptor = getattr(conn, "handshake_fd", None)
    if descriptor is not None:  # the request is in flight, so the descriptor is still this connection's
        with contextlib.suppress(OSError), socket.fromfd(descriptor, socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)


class CancellableAdapter(requests.adapters.HTTPAdapter):
    """Connections with TCP keepalive, whose wait for response headers a cancellation interrupts."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, socket_options=keepalive_options(), **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CancellablePool, "https": _CancellableHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, socket_options=keepalive_options(), **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = {"http": _CancellablePool, "https": _CancellableHTTPSPool}
        return manager


def shut_down(sock: object) -> None:
    """Shut a socket down, so that a thread blocked reading it returns at once."""
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


__all__ = [
    "KEEPALIVE_IDLE",
    "KEEPALIVE_INTERVAL",
    "KEEPALIVE_PROBES",
    "REPLAYABLE_METHODS",
    "CancellableAdapter",
    "StaleConnection",
    "keepalive_options",
    "sending",
    "shut_down",
]

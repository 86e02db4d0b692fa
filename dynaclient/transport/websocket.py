"""WebSocket connections for exec, attach and port-forward, over the ``websockets`` library's sync client.

The only module that imports ``websockets`` (the ``streams`` extra). The HTTP transport opens connections here
with its own SSL context, server name, proxy and user agent, so a WebSocket is trusted and authenticated exactly
as every other request. Library exceptions become dynaclient's at this boundary.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import select
import socket
import ssl
import struct
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dynaclient.exceptions import (
    ConnectError,
    DecodeError,
    StreamClosedError,
    TLSError,
    TransportError,
    TransportTimeout,
    UnsupportedRequestError,
)
from dynaclient.request import Response
from dynaclient.transport.tls_socket import LockedTLSContext

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

logger = logging.getLogger("dynaclient")

MAX_MESSAGE = 32 * 1024 * 1024
"""The largest message accepted: the Go x/net WebSocket server's own limit (``DefaultMaxPayloadBytes``)."""

CLOSE_TIMEOUT = 2.0
"""Seconds :meth:`WebSocketConnection.close` waits for the server's half of the closing handshake."""

SEND_BUFFER = 1024 * 1024
"""The socket's send buffer. Messages are written outside the library's protocol lock (see
:meth:`WebSocketConnection._write_message`), so a blocked write never stops reading; a message is still written only
once the socket is writable (on Linux: a third of this buffer, doubled by the kernel, is free, more than a message
of 256 KiB), so a write rarely holds the write lock that the library's pongs and close frame need."""
_POLL_MS = 500
_JOIN_BELOW = 16 * 1024
"""A message's head and payload shorter than this go to the socket in one write (one TLS record)."""


def binary_frame(channel: int, data: bytes | memoryview, mask: bytes) -> tuple[bytes, bytes]:
    r"""Return the head and the masked payload of a client's binary message holding ``channel`` then ``data``.

    RFC 6455 §5.2-5.3: FIN and opcode 2, the payload length (7 bits, or 126 and 16 bits, or 127 and 64 bits) with
    the mask bit, the 4-byte masking key, then the payload XORed with the key. The channel byte is masked into the
    head, so ``data`` is read once (by ``websockets``' C ``apply_mask``) and never copied behind a prefix: building
    each port-forward message by concatenation, then through ``websockets``' ``Frame.serialize`` (which masks into a
    new object, then copies it into a ``BytesIO`` and out again) cost a quarter of the client's CPU per megabyte.

    >>> binary_frame(1, b"hi", b"\x00\x00\x00\x00")
    (b'\x82\x83\x00\x00\x00\x00\x01', b'hi')
    >>> head, payload = binary_frame(0, b"\xff" * 200, b"\x01\x02\x03\x04")
    >>> head[:4], head[8], payload[:4]
    (b'\x82\xfe\x00\xc9', 1, b'\xfd\xfc\xfb\xfe')
    """
    try:
        from websockets.speedups import apply_mask
    except ImportError:  # pragma: no cover - built without its C extension
        from websockets.utils import apply_mask

    length = len(data) + 1
    if length < 126:
        head = struct.pack("!BB", 0x82, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x82, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x82, 0x80 | 127, length)
    return head + mask + bytes((channel ^ mask[0],)), apply_mask(data, mask[1:] + mask[:1])


class WebSocketConnection:
    """One open WebSocket carrying binary messages.

    Thread-safety: one thread at a time may call :meth:`receive`; :meth:`send` and :meth:`close` may be called
    from any thread. The library runs one background thread per connection, which ends when it closes.

    Attributes:
        subprotocol: the subprotocol the server chose (``""`` when it chose none).
    """

    def __init__(self, connection: ClientConnection, what: str) -> None:
        self._connection = connection
        self._what = what
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sending = 0  # guarded by _lock
        self._writing = threading.Lock()  # one writer of bytes to the socket at a time
        self.subprotocol = str(connection.subprotocol or "")
        with contextlib.suppress(OSError):
            connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        # The library's own writes (pongs, pings, the close frame) take the write lock too, so they never land in
        # the middle of a message that send() writes outside the library's lock.
        library_send_data = connection.send_data

        def send_data() -> None:
            with self._writing:
                library_send_data()

        connection.send_data = send_data  # type: ignore[method-assign]

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self._what} {self.subprotocol or 'no subprotocol'}>"

    def send(self, message: bytes) -> None:
        """Send one binary message (a channel byte, then the channel's data).

        Raises:
            StreamClosedError: the connection is closed or was lost.
        """
        self.send_channel(message[0], memoryview(message)[1:])

    def send_channel(self, channel: int, data: bytes | memoryview) -> None:
        """Send one binary message: the ``channel`` byte, then ``data`` (which is not copied behind it).

        Raises:
            StreamClosedError: the connection is closed or was lost.
        """
        from websockets.exceptions import ConnectionClosed

        with self._lock:
            if self._closing.is_set():
                raise StreamClosedError(f"{self._what}: the stream is closed")
            self._sending += 1
        try:
            self._wait_writable()
            self._write_message(*binary_frame(channel, data, secrets.token_bytes(4)))
        except ConnectionClosed as exc:
            raise self._closed_error(exc) from None
        finally:
            with self._lock:
                self._sending -= 1

    def _write_message(self, head: bytes, payload: bytes) -> None:
        """Check the connection is open under the library's lock, then write a framed message without that lock.

        The library's ``send`` holds its protocol lock for the whole socket write, and its reader thread needs the
        same lock to take in every received frame: while a message was being written nothing was read, so a
        port-forward moving data both ways ran one way at a time. The write lock is taken before the protocol lock
        is released, so the library's own frames (pongs, the close frame), which take both locks in the same order,
        never land inside a message or after a close it framed.

        Raises:
            ConnectionClosed: the connection is closing or closed.
            StreamClosedError: the socket failed during the write.
        """
        from websockets.protocol import State

        connection = self._connection
        with connection.protocol_mutex:
            if connection.protocol.state is not State.OPEN:
                raise connection.protocol.close_exc
            self._writing.acquire()
        try:
            if len(payload) < _JOIN_BELOW:
                connection.socket.sendall(head + payload)
            else:
                connection.socket.sendall(head)
                connection.socket.sendall(payload)
        except OSError as exc:
            raise self._closed_error(exc) from None
        finally:
            self._writing.release()

    def _wait_writable(self) -> None:
        """Wait, without the library's lock, until the socket can take a message without blocking (SEND_BUFFER)."""
        descriptor = self._connection.socket.fileno()
        if descriptor < 0:
            return  # closed: the send that follows says so
        poller = select.poll()
        poller.register(descriptor, select.POLLOUT)
        while not poller.poll(_POLL_MS) and not self._closing.is_set():
            pass

    def receive(self, timeout: float | None = None) -> bytes | None:
        """Return the next message; ``None`` once the connection has closed with a closing handshake.

        Args:
            timeout: seconds to wait for a message; ``None`` waits as long as it takes.

        Raises:
            StreamClosedError: the connection was lost without a closing handshake.
            TransportTimeout: no message came within ``timeout`` seconds.
            DecodeError: the server sent a text message on a binary protocol.
        """
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        try:
            message = self._connection.recv(timeout)
        except TimeoutError:
            raise TransportTimeout(f"{self._what}: nothing received for {timeout}s") from None
        except ConnectionClosedOK:
            return None
        except ConnectionClosed as exc:
            if self._closing.is_set():
                return None
            raise self._closed_error(exc) from None
        if isinstance(message, str):
            raise self._text_error()
        return message

    def receive_many(self, limit: int) -> list[bytes]:
        """Wait for the next message, then take those already received as well, up to about ``limit`` bytes.

        A port-forward's server sends a message per read of at most 32 KiB (kwok v0.7.0 copies with 32 KiB buffers,
        ``pkg/kwok/server/server.go`` ``bufPool``, as Go's ``io.Copy`` does for the kubelet): taking what is queued
        in one call lets a reader pass on larger pieces with fewer calls. An empty list means the connection closed
        with a closing handshake.

        Raises:
            StreamClosedError: as :meth:`receive`, for the first message (a later failure is met by the next call).
            DecodeError: a text message came (what came before it is dropped: the stream is broken).
        """
        from websockets.exceptions import ConnectionClosed

        first = self.receive()
        if first is None:
            return []
        messages, size = [first], len(first)
        while size < limit:
            try:
                message = self._connection.recv(0)
            except (TimeoutError, ConnectionClosed):  # nothing queued, or closed: the next receive says which
                break
            if not isinstance(message, bytes):
                raise self._text_error()
            messages.append(message)
            size += len(message)
        return messages

    def close(self) -> None:
        """Close the connection (waiting at most :data:`CLOSE_TIMEOUT` for the server); safe to call twice.

        While another thread is sending, the socket is shut down first: that send may be blocked on a server
        that stopped reading, holding the lock the closing handshake needs.
        """
        with self._lock:
            self._closing.set()
            sending = self._sending > 0
        if sending:
            with contextlib.suppress(OSError):
                self._connection.socket.shutdown(socket.SHUT_RDWR)
        self._connection.close()

    def _text_error(self) -> DecodeError:
        return DecodeError(f"{self._what}: the server sent a text message on {self.subprotocol or 'a binary'}")

    def _closed_error(self, exc: Exception) -> StreamClosedError:
        if self._closing.is_set():
            return StreamClosedError(f"{self._what}: the stream is closed")
        return StreamClosedError(f"{self._what}: the connection was lost ({exc})")


def connect_options(
    url: str,
    *,
    headers: Mapping[str, str],
    subprotocols: Sequence[str],
    ssl_context: ssl.SSLContext | None,
    server_hostname: str | None,
    proxy: str | None,
    user_agent: str,
    timeout: float | None,
) -> dict[str, Any]:
    """Return the keyword arguments of ``websockets``' ``connect``, the same for its sync and asyncio clients.

    Raises:
        UnsupportedRequestError: the ``websockets`` package (the ``streams`` extra) is not installed.
    """
    try:
        from websockets.typing import Subprotocol
    except ImportError:
        raise UnsupportedRequestError(
            f"{url.split('?', 1)[0]}: exec, attach and port-forward need the websockets package: "
            "pip install 'dynaclient[streams]'"
        ) from None
    secure = url.startswith("wss://")
    options: dict[str, Any] = {
        "subprotocols": [Subprotocol(name) for name in subprotocols],
        "additional_headers": dict(headers),
        "user_agent_header": user_agent,
        "compression": None,  # the apiserver does not negotiate permessage-deflate
        "proxy": proxy,
        "open_timeout": timeout,
        "close_timeout": CLOSE_TIMEOUT,
        "max_size": MAX_MESSAGE,
        "logger": logger,
    }
    if secure:
        options["ssl"] = ssl_context
        if server_hostname:
            options["server_hostname"] = server_hostname
    return options


def handshake_failure(exc: BaseException, what: str, timeout: float | None) -> Response:
    """Return the HTTP answer of a refused upgrade; raise dynaclient's error for any other failure to connect.

    Shared by the sync and asyncio clients (both raise ``websockets``' exceptions).

    Raises:
        UnsupportedRequestError: a ``socks5://`` proxy needs ``python-socks``, which is not installed.
        ConnectError, TLSError, TransportTimeout, TransportError: no WebSocket and no HTTP answer was obtained.
    """
    from websockets.exceptions import InvalidHandshake, InvalidStatus, WebSocketException

    if isinstance(exc, InvalidStatus):
        answer = exc.response
        return Response.from_bytes(answer.status_code, bytes(answer.body), dict(answer.headers.raw_items()))
    if isinstance(exc, ImportError):  # a socks5:// proxy needs python-socks, which websockets imports on demand
        raise UnsupportedRequestError(f"{what}: this proxy needs a package that is not installed: {exc}") from None
    if isinstance(exc, ssl.SSLError):
        raise TLSError(f"{what}: TLS failed: {exc.reason or exc}") from exc
    if isinstance(exc, TimeoutError):
        raise TransportTimeout(f"{what}: the WebSocket handshake timed out after {timeout}s") from exc
    if isinstance(exc, OSError):
        raise ConnectError(f"{what}: cannot connect: {exc}") from exc
    if isinstance(exc, InvalidHandshake | WebSocketException):
        raise TransportError(f"{what}: the WebSocket handshake failed: {exc}") from exc
    raise exc


def open_websocket(url: str, *, what: str, **settings: Any) -> WebSocketConnection | Response:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``); a refused upgrade is returned as its response.

    Args:
        url: the full URL with its query.
        what: ``METHOD path`` for messages (no query, so no secret).
        settings: :func:`connect_options`' keyword arguments: ``headers`` (``Authorization``), ``subprotocols``
            (offered in one header, in preference order), ``ssl_context``, ``server_hostname`` (when not the
            URL's host), ``proxy``, ``user_agent``, ``timeout`` (for the connection and the opening handshake).

    Raises:
        UnsupportedRequestError: the ``websockets`` package (the ``streams`` extra) is not installed.
        ConnectError, TLSError, TransportTimeout, TransportError: no WebSocket and no HTTP answer was obtained.
    """
    options = connect_options(url, **settings)
    from websockets.sync.client import connect

    if "ssl" in options:  # the library's threads read and write one TLS connection: see tls_socket
        options["ssl"] = LockedTLSContext(options["ssl"] or ssl.create_default_context())
    try:
        # legacy=True: the connection itself, closed by WebSocketConnection.close (not a context manager).
        connection = connect(url, **options, legacy=True)
    except Exception as exc:  # handshake_failure maps it, or raises it again
        return handshake_failure(exc, what, settings.get("timeout"))
    return WebSocketConnection(connection, what)


__all__ = [
    "CLOSE_TIMEOUT",
    "MAX_MESSAGE",
    "WebSocketConnection",
    "connect_options",
    "handshake_failure",
    "open_websocket",
]

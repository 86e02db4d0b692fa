"""WebSocket connections for the asyncio client's exec, attach and port-forward, over ``websockets``' asyncio client.

The same library as the synchronous client (:mod:`dynaclient.transport.websocket`), with the same connection
options and the same mapping of a refused upgrade to its HTTP answer (so errors are typed from the server's Status).
aiohttp's own ``ws_connect`` was not used: it drops the body of a refused upgrade, and with it the server's reason.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from dynaclient.exceptions import DecodeError, StreamClosedError, TransportTimeout
from dynaclient.request import Response
from dynaclient.transport.websocket import connect_options, handshake_failure

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection


class AsyncWebSocketConnection:
    """One open WebSocket carrying binary messages, awaited.

    Thread-safety: confined to its event loop; one task at a time may call :meth:`receive`; :meth:`send` and
    :meth:`close` may be awaited from any task of the loop.

    Attributes:
        subprotocol: the subprotocol the server chose (``""`` when it chose none).
    """

    def __init__(self, connection: ClientConnection, what: str) -> None:
        self._connection = connection
        self._what = what
        self._closing = False
        self.subprotocol = str(connection.subprotocol or "")

    def __repr__(self) -> str:
        return f"<AsyncWebSocketConnection {self._what} {self.subprotocol or 'no subprotocol'}>"

    async def send(self, data: bytes) -> None:
        """Send one binary message (waiting while the connection's write buffer is full).

        Raises:
            StreamClosedError: the connection is closed or was lost.
        """
        from websockets.exceptions import ConnectionClosed

        if self._closing:
            raise StreamClosedError(f"{self._what}: the stream is closed")
        try:
            await self._connection.send(data)
        except ConnectionClosed as exc:
            raise self._closed_error(exc) from None

    async def send_channel(self, channel: int, data: bytes | memoryview) -> None:
        """Send one binary message: the ``channel`` byte, then ``data``.

        Raises:
            StreamClosedError: the connection is closed or was lost.
        """
        await self.send(bytes((channel,)) + data)

    async def receive(self, timeout: float | None = None) -> bytes | None:
        """Return the next message; ``None`` once the connection has closed with a closing handshake.

        Raises:
            StreamClosedError: the connection was lost without a closing handshake.
            TransportTimeout: no message came within ``timeout`` seconds.
            DecodeError: the server sent a text message on a binary protocol.
        """
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        try:
            message = await asyncio.wait_for(self._connection.recv(), timeout)
        except TimeoutError:
            raise TransportTimeout(f"{self._what}: nothing received for {timeout}s") from None
        except ConnectionClosedOK:
            return None
        except ConnectionClosed as exc:
            if self._closing:
                return None
            raise self._closed_error(exc) from None
        if isinstance(message, str):
            raise DecodeError(f"{self._what}: the server sent a text message on {self.subprotocol or 'a binary'}")
        return message

    async def close(self) -> None:
        """Close the connection (the server's half of the closing handshake is awaited briefly); safe twice."""
        self._closing = True
        await self._connection.close()

    def _closed_error(self, exc: Exception) -> StreamClosedError:
        if self._closing:
            return StreamClosedError(f"{self._what}: the stream is closed")
        return StreamClosedError(f"{self._what}: the connection was lost ({exc})")


async def open_async_websocket(url: str, *, what: str, **settings: Any) -> AsyncWebSocketConnection | Response:
    """Open a WebSocket to ``url``; a refused upgrade is returned as its response.

    Arguments and errors are those of :func:`dynaclient.transport.websocket.open_websocket`.
    """
    options = connect_options(url, **settings)
    from websockets.asyncio.client import connect

    try:
        connection = await connect(url, **options)
    except Exception as exc:  # handshake_failure maps it, or raises it again
        return handshake_failure(exc, what, settings.get("timeout"))
    return AsyncWebSocketConnection(connection, what)


__all__ = ["AsyncWebSocketConnection", "open_async_websocket"]

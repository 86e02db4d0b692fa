"""Port-forward for the asyncio client: :class:`AsyncPortStream` to one pod port, and :class:`AsyncPortForwarder`.

The channel handling (:class:`~dynaclient.streams.port_forward.PortChannels`), message cutting and port specs are
the synchronous client's. As there (and for the same reason: the kubelet's WebSocket port-forward carries one TCP
connection per WebSocket), every accepted local connection gets its own WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence

from dynaclient.aio.streams.websocket import AsyncWebSocketConnection
from dynaclient.exceptions import DynaclientError, PortForwardError, StreamClosedError
from dynaclient.streams.channels import PORT_DATA, check_port
from dynaclient.streams.port_forward import PortChannels, data_messages

logger = logging.getLogger("dynaclient")

_RECEIVE = 256 * 1024


class AsyncPortStream:
    """A TCP connection to one port inside a pod, awaited: the asyncio form of :class:`~dynaclient.streams.PortStream`.

    :meth:`recv` returns ``b""`` once the pod side has closed (or after :meth:`close`); a failure in the pod raises
    :class:`~dynaclient.exceptions.PortForwardError`.

    Thread-safety: confined to its event loop; one task may receive while another sends.
    """

    def __init__(self, socket: AsyncWebSocketConnection, port: int, what: str) -> None:
        self._socket = socket
        self.port = port
        self._what = what
        self._channels = PortChannels(port)
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncPortStream {self._what} {'closed' if self._closed else 'open'}>"

    async def sendall(self, data: bytes) -> None:
        """Send all of ``data`` to the pod port.

        Raises:
            StreamClosedError: the stream is closed or the connection was lost.
        """
        for part in data_messages(data):
            await self._socket.send_channel(PORT_DATA, part)

    async def recv(self, bufsize: int = _RECEIVE) -> bytes:
        """Return up to ``bufsize`` bytes from the pod port, waiting for some; ``b""`` at the end.

        Raises:
            PortForwardError: the pod side could not connect or failed.
            StreamClosedError: the connection was lost.
        """
        while (data := self._channels.read(bufsize)) is None:
            await self._receive()
        return data

    async def close(self) -> None:
        """Close the connection to the pod port; safe to call twice."""
        self._closed = True
        await self._socket.close()

    async def __aenter__(self) -> AsyncPortStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _receive(self) -> None:
        try:
            message = await self._socket.receive()
        except StreamClosedError:
            if not self._closed:
                raise
            message = None
        if self._channels.feed([] if message is None else [message]):
            await self._socket.close()


class AsyncPortForwarder:
    """Listens on local ports and forwards each accepted connection to a pod port, in the event loop.

    The asyncio form of :class:`~dynaclient.streams.PortForwarder`: get it with ``await pods.port_forward(...)``;
    each connection is copied both ways by two tasks until either side ends; :meth:`close` stops listening, ends
    every connection and awaits every task.

    Attributes:
        address: the local address listened on.
        ports: each remote port mapped to the local port that forwards to it.
        errors: the errors of forwarded connections, in the order they happened.

    Thread-safety: confined to its event loop.
    """

    def __init__(self, connect: Callable[[int], Awaitable[AsyncPortStream]], *, address: str, what: str) -> None:
        self._connect = connect
        self._what = what
        self.address = address
        self.ports: dict[int, int] = {}
        self.errors: list[DynaclientError] = []
        self._servers: list[asyncio.Server] = []
        self._tasks: dict[asyncio.Task[None], AsyncPortStream | None] = {}  # each connection's, and its stream
        self._closed = False

    async def listen(self, mappings: Sequence[tuple[int, int]]) -> None:
        """Start listening for every ``(local, remote)`` mapping (local 0: any free port).

        Raises:
            OSError: a local port cannot be listened on.
        """
        try:
            for local, remote in mappings:
                check_port(remote)
                server = await asyncio.start_server(
                    functools.partial(self._forward, remote=remote), self.address, local
                )
                self._servers.append(server)
                self.ports[remote] = server.sockets[0].getsockname()[1]
        except OSError:
            await self.close()
            raise

    def __repr__(self) -> str:
        pairs = ", ".join(f"{self.address}:{local} -> {remote}" for remote, local in self.ports.items())
        return f"<AsyncPortForwarder {self._what} {pairs}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def close(self) -> None:
        """Stop listening, close every forwarded connection and await its tasks; safe to call twice."""
        self._closed = True
        for server in self._servers:
            server.close()
        for task, stream in list(self._tasks.items()):
            if stream is None:
                task.cancel()  # still connecting to the pod: nothing to hand back yet
            else:
                await stream.close()  # its copy loop sees the end and closes the local side
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    async def __aenter__(self) -> AsyncPortForwarder:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, remote: int) -> None:
        task = asyncio.current_task()
        stream: AsyncPortStream | None = None
        outgoing: asyncio.Task[None] | None = None
        try:
            if self._closed or task is None:
                return
            self._tasks[task] = None
            stream = self._tasks[task] = await self._connect(remote)
            if self.closed:  # closed while connecting
                return
            outgoing = asyncio.create_task(_copy_to_pod(reader, stream))
            while data := await stream.recv():
                writer.write(data)
                await writer.drain()
        except (DynaclientError, OSError) as exc:
            if not self._closed:
                error = exc if isinstance(exc, DynaclientError) else PortForwardError(f"port {remote}: {exc}")
                self.errors.append(error)
                logger.warning("%s: a connection to port %d failed: %s", self._what, remote, exc)
        finally:
            writer.close()  # first, and without awaiting: a cancelled task still releases the local socket
            if outgoing is not None:
                await asyncio.gather(outgoing, return_exceptions=True)  # ends: its local side is closed
            if stream is not None:
                await stream.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            if task is not None:
                self._tasks.pop(task, None)


async def _copy_to_pod(reader: asyncio.StreamReader, stream: AsyncPortStream) -> None:
    try:
        while data := await reader.read(_RECEIVE):
            await stream.sendall(data)
    except (DynaclientError, OSError):
        pass  # the other direction reports failures
    await stream.close()  # the pod side ends too, and with it the other direction


__all__ = ["AsyncPortForwarder", "AsyncPortStream"]

"""Exec and attach for the asyncio client: :class:`AsyncExecStream` and the one-call :func:`run_command`.

The channel handling (:class:`~dynaclient.streams.remote_command.ExecOutput`), the messages and the exit status are
the synchronous client's; only sending and receiving await. As in the sync session, there is no task of our own:
the task that needs a channel's next bytes receives messages for every reader.
"""

from __future__ import annotations

import asyncio
import time

from dynaclient.aio.streams.websocket import AsyncWebSocketConnection
from dynaclient.exceptions import StreamClosedError, StreamError, TransportTimeout
from dynaclient.streams.channels import STDERR, STDOUT
from dynaclient.streams.remote_command import (
    ExecOutput,
    ExecResult,
    check_stdin_open,
    checked_resize_message,
    close_stdin_message,
    stdin_messages,
)


class AsyncExecStream:
    """A running exec or attach, awaited: the asyncio form of :class:`~dynaclient.streams.ExecStream`.

    Attributes:
        protocol: the negotiated subprotocol, ``v5.channel.k8s.io`` or ``v4.channel.k8s.io``.

    Thread-safety: confined to its event loop; any task may write, read either channel, wait or close.
    """

    def __init__(self, socket: AsyncWebSocketConnection, what: str, *, tty: bool = False) -> None:
        self._socket = socket
        self._what = what
        self._tty = tty
        self.protocol = socket.subprotocol
        self._changed = asyncio.Condition()
        self._output = ExecOutput(what)
        self._receiving = False
        self._closed = False
        self._stdin_closed = False

    def __repr__(self) -> str:
        return f"<AsyncExecStream {self._what} {self.protocol} {'ended' if self._output.done else 'running'}>"

    async def write_stdin(self, data: bytes) -> None:
        """Send ``data`` to the command's stdin.

        Raises:
            StreamClosedError: the session or its stdin is closed, or the connection was lost.
        """
        check_stdin_open(self._stdin_closed, self._what)
        for message in stdin_messages(data):
            await self._socket.send(message)

    async def close_stdin(self) -> None:
        """Close stdin, so the command reads end-of-file (v5 only; see :meth:`ExecStream.close_stdin`)."""
        if self._stdin_closed:
            return
        message = close_stdin_message(self.protocol, self._what)
        self._stdin_closed = True
        await self._socket.send(message)

    async def resize(self, width: int, height: int) -> None:
        """Set the terminal size in columns and rows (with ``tty=True``)."""
        await self._socket.send(checked_resize_message(self._tty, width, height, self._what))

    async def read_stdout(self, timeout: float | None = None) -> bytes:
        """Return the next bytes of stdout; ``b""`` once the command ended."""
        return await self._read(STDOUT, timeout)

    async def read_stderr(self, timeout: float | None = None) -> bytes:
        """Return the next bytes of stderr; ``b""`` once the command ended."""
        return await self._read(STDERR, timeout)

    async def wait(self, timeout: float | None = None) -> int:
        """Wait for the command to end and return its exit code; see :meth:`ExecStream.wait`."""
        await self._read(None, timeout)
        return self._output.exit_code()

    @property
    def exit_code(self) -> int | None:
        """The exit code once the command has ended and it was read; ``None`` before."""
        return self._output.exit_code_if_known()

    async def close(self) -> None:
        """End the session and release its connection; safe to call twice."""
        self._closed = True
        await self._socket.close()

    async def __aenter__(self) -> AsyncExecStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def take(self, channel: int) -> bytes:
        """Return and forget everything buffered on ``channel`` (``STDOUT`` or ``STDERR``)."""
        return self._output.take(channel)

    async def _read(self, channel: int | None, timeout: float | None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            async with self._changed:
                while True:
                    chunk = self._output.next_chunk(channel)
                    if chunk is not None:
                        return chunk
                    if not self._receiving:
                        self._receiving = True
                        break
                    try:
                        await asyncio.wait_for(self._changed.wait(), _remaining(deadline))
                    except TimeoutError:
                        raise TransportTimeout(f"{self._what}: nothing received for {timeout}s") from None
            try:
                await self._receive_one(deadline)
            finally:
                async with self._changed:
                    self._receiving = False
                    self._changed.notify_all()

    async def _receive_one(self, deadline: float | None) -> None:
        try:
            message = await self._socket.receive(_remaining(deadline))
        except StreamError as exc:
            await self._finish(exc)
            return
        if message is None:
            await self._finish(None)
            return
        self._output.on_message(message)

    async def _finish(self, failure: StreamError | None) -> None:
        self._output.on_end(failure, closed=self._closed)
        await self._socket.close()


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


async def run_command(stream: AsyncExecStream, stdin: bytes | None, timeout: float | None) -> ExecResult:
    """Feed ``stdin`` (then end-of-file) from a task of its own, collect all output and the exit code, and close.

    Raises:
        ExecError: the command could not be run.
        StreamClosedError: the connection was lost.
        TransportTimeout: the command did not end within ``timeout`` seconds.
    """
    writer = asyncio.create_task(_feed(stream, stdin)) if stdin is not None else None
    try:
        async with stream:
            code = await stream.wait(timeout)
            stdout, stderr = stream.take(STDOUT), stream.take(STDERR)
    finally:
        if writer is not None:
            if not writer.done():
                writer.cancel()
            error = (await asyncio.gather(writer, return_exceptions=True))[0]
            if isinstance(error, BaseException) and not isinstance(error, StreamClosedError | asyncio.CancelledError):
                raise error
    return ExecResult(code, stdout, stderr)


async def _feed(stream: AsyncExecStream, data: bytes) -> None:
    try:
        await stream.write_stdin(data)
        await stream.close_stdin()
    except (StreamError, OSError) as exc:  # the command may exit without reading all of its input
        if not isinstance(exc, StreamClosedError):
            raise


__all__ = ["AsyncExecStream", "run_command"]

"""Exec and attach sessions over the channel protocols, and the one-call :func:`run_command`.

One WebSocket carries stdin, stdout, stderr, the error channel and terminal resizes (see
:mod:`dynaclient.streams.channels`). Reading is demultiplexed without a thread of our own: the thread that needs
a channel's next bytes receives messages for everyone and files the others' under their channel.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import NamedTuple

from dynaclient.exceptions import ExecError, StreamClosedError, StreamError, TransportTimeout
from dynaclient.streams.channels import (
    ERROR,
    STDERR,
    STDIN,
    STDOUT,
    V5_CHANNEL,
    close_message,
    exit_code_from_status,
    frame,
    resize_message,
)
from dynaclient.transport.websocket import WebSocketConnection

STDIN_CHUNK = 64 * 1024
"""Bytes of stdin per message: small messages keep the connection's send lock free for the reader."""


class ExecResult(NamedTuple):
    """What a command run to its end left: unpack it as ``exit_code, stdout, stderr``.

    Thread-safety: immutable.
    """

    exit_code: int
    stdout: bytes
    stderr: bytes


class ExecOutput:
    r"""What an exec or attach session has received so far, filed by channel; no I/O.

    The sync and asyncio sessions share it. The server's ready signal (an empty message on the first output
    channel) is ignored; the error channel's Status is kept whole until the end, then decoded.

    >>> output = ExecOutput("exec")
    >>> for message in (b"\x01", b"\x01hi", b"\x02oops", b'\x03{"status":"Success"}'):
    ...     output.on_message(message)
    >>> output.on_end(None, closed=False)
    >>> output.next_chunk(STDOUT), output.next_chunk(STDOUT), output.take(STDERR), output.exit_code()
    (b'hi', b'', b'oops', 0)

    Thread-safety: not thread-safe; a session guards it with its own lock.
    """

    def __init__(self, what: str) -> None:
        self._what = what
        self._buffers: dict[int, collections.deque[bytes]] = {STDOUT: collections.deque(), STDERR: collections.deque()}
        self._status = b""
        self.done = False
        self.failure: StreamError | None = None

    def on_message(self, message: bytes) -> None:
        """File one message under its channel."""
        if len(message) <= 1:
            return  # the server's ready signal: an empty message on the first output channel
        channel, data = message[0], message[1:]
        if channel == ERROR:
            self._status += data
        elif channel in self._buffers:
            self._buffers[channel].append(data)

    def on_end(self, failure: StreamError | None, *, closed: bool) -> None:
        """Record the end of the session: ``failure`` when the connection failed, ``closed`` when we closed it."""
        self.done = True
        if failure is None and not self._status:
            why = "it was closed" if closed else "the server ended it"
            failure = StreamClosedError(f"{self._what}: {why} before the command's exit status came")
        self.failure = failure

    def next_chunk(self, channel: int | None) -> bytes | None:
        """Return the next bytes of ``channel``, ``b""`` at the end, or ``None`` when more must be received.

        With ``channel`` ``None``, return ``b""`` once the session has ended.

        Raises:
            StreamError: the session ended in failure and nothing of ``channel`` is left.
        """
        buffer = self._buffers.get(channel) if channel is not None else None
        if buffer:
            return buffer.popleft()
        if not self.done:
            return None
        if self.failure is not None:
            raise self.failure
        return b""

    def take(self, channel: int) -> bytes:
        """Return and forget everything buffered on ``channel``."""
        data = b"".join(self._buffers[channel])
        self._buffers[channel].clear()
        return data

    def exit_code(self) -> int:
        """The exit code the session's Status reports (see :func:`exit_code_from_status`).

        Raises:
            ExecError: the command could not be run.
        """
        return exit_code_from_status(self._status)

    def exit_code_if_known(self) -> int | None:
        """The exit code once the session ended with one; ``None`` before, or when the command did not run."""
        if not self.done or self.failure is not None:
            return None
        try:
            return self.exit_code()
        except ExecError:
            return None


def check_stdin_open(stdin_closed: bool, what: str) -> None:
    """Raise when stdin was closed.

    Raises:
        StreamClosedError: it was.
    """
    if stdin_closed:
        raise StreamClosedError(f"{what}: stdin is closed")


def stdin_messages(data: bytes) -> list[bytes]:
    r"""Cut ``data`` into stdin messages of at most :data:`STDIN_CHUNK` bytes.

    >>> stdin_messages(b"ab")
    [b'\x00ab']
    """
    view = memoryview(data)
    return [frame(STDIN, bytes(view[start : start + STDIN_CHUNK])) for start in range(0, len(view), STDIN_CHUNK)]


def close_stdin_message(protocol: str, what: str) -> bytes:
    """Return the message that closes stdin alone.

    Raises:
        StreamError: the protocol is not v5, which alone can close stdin without ending the session.
    """
    if protocol != V5_CHANNEL:
        raise StreamError(f"{what}: {protocol or 'the protocol'} cannot close stdin alone (needs v5)")
    return close_message(STDIN)


def checked_resize_message(tty: bool, width: int, height: int, what: str) -> bytes:
    """Return the resize message for a session with a terminal.

    Raises:
        StreamError: the session has no terminal.
        ValueError: a size is out of range.
    """
    if not tty:
        raise StreamError(f"{what}: resize needs a terminal (tty=True)")
    return resize_message(width, height)


class ExecStream:
    """A running exec or attach: write stdin, read stdout and stderr, resize the terminal, wait for the exit code.

    A non-zero exit is a result (:meth:`wait` returns it); a command that could not be run makes :meth:`wait`
    raise :class:`~dynaclient.exceptions.ExecError`. Output not yet read is kept, so reading only stdout while
    the command writes to stderr too never blocks the session. Close it (or use it as a context manager) to end
    the session; the library thread of its WebSocket ends with it.

    Attributes:
        protocol: the negotiated subprotocol, ``v5.channel.k8s.io`` or ``v4.channel.k8s.io``; only v5 can close
            stdin alone.

    Thread-safety: thread-safe; any thread may write, read either channel, wait or close.
    """

    def __init__(self, socket: WebSocketConnection, what: str, *, tty: bool = False) -> None:
        self._socket = socket
        self._what = what
        self._tty = tty
        self.protocol = socket.subprotocol
        self._changed = threading.Condition()
        self._output = ExecOutput(what)
        self._receiving = False
        self._closed = False
        self._stdin_closed = False

    def __repr__(self) -> str:
        return f"<ExecStream {self._what} {self.protocol} {'ended' if self._output.done else 'running'}>"

    def write_stdin(self, data: bytes) -> None:
        """Send ``data`` to the command's stdin.

        Raises:
            StreamClosedError: the session or its stdin is closed, or the connection was lost.
        """
        check_stdin_open(self._stdin_closed, self._what)
        for message in stdin_messages(data):
            self._socket.send(message)

    def close_stdin(self) -> None:
        """Close stdin, so the command reads end-of-file; output keeps coming.

        Raises:
            StreamError: the server speaks ``v4.channel.k8s.io``, which has no way to close stdin alone.
        """
        if self._stdin_closed:
            return
        message = close_stdin_message(self.protocol, self._what)
        self._stdin_closed = True
        self._socket.send(message)

    def resize(self, width: int, height: int) -> None:
        """Set the terminal size in columns and rows (with ``tty=True``).

        Raises:
            StreamError: the session has no terminal.
            ValueError: a size is out of range.
        """
        self._socket.send(checked_resize_message(self._tty, width, height, self._what))

    def read_stdout(self, timeout: float | None = None) -> bytes:
        """Return the next bytes of stdout (the terminal's output with a TTY); ``b""`` once the command ended.

        Raises:
            TransportTimeout: nothing came within ``timeout`` seconds.
            StreamClosedError: the connection was lost.
        """
        return self._read(STDOUT, timeout)

    def read_stderr(self, timeout: float | None = None) -> bytes:
        """Return the next bytes of stderr; ``b""`` once the command ended (always, with a TTY)."""
        return self._read(STDERR, timeout)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the command to end and return its exit code; output not read is kept for reading.

        Raises:
            ExecError: the command could not be run (the server's Status says why).
            StreamClosedError: the session was closed, or the server ended it without an exit status.
            TransportTimeout: the command did not end within ``timeout`` seconds.
        """
        self._read(None, timeout)
        return self._output.exit_code()

    @property
    def exit_code(self) -> int | None:
        """The exit code once the command has ended and it was read; ``None`` before."""
        with self._changed:
            return self._output.exit_code_if_known()

    def close(self) -> None:
        """End the session and release its connection; safe to call twice and from another thread."""
        self._closed = True
        self._socket.close()

    def __enter__(self) -> ExecStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read(self, channel: int | None, timeout: float | None) -> bytes:
        """Return the next bytes of ``channel``, receiving for every reader; with ``None``, run to the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._changed:
                while True:
                    chunk = self._output.next_chunk(channel)
                    if chunk is not None:
                        return chunk
                    if not self._receiving:
                        self._receiving = True
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TransportTimeout(f"{self._what}: nothing received for {timeout}s")
                    self._changed.wait(remaining)
            try:
                self._receive_one(deadline)
            finally:
                with self._changed:
                    self._receiving = False
                    self._changed.notify_all()

    def _take(self, channel: int) -> bytes:
        """Return and forget everything buffered on ``channel``."""
        with self._changed:
            return self._output.take(channel)

    def _receive_one(self, deadline: float | None) -> None:
        try:
            message = self._socket.receive(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except StreamError as exc:
            self._finish(exc)
            return
        if message is None:
            self._finish(None)
            return
        with self._changed:
            self._output.on_message(message)

    def _finish(self, failure: StreamError | None) -> None:
        with self._changed:
            self._output.on_end(failure, closed=self._closed)
        self._socket.close()


def run_command(stream: ExecStream, stdin: bytes | None, timeout: float | None) -> ExecResult:
    """Feed ``stdin`` (then end-of-file), collect all output and the exit code, and close the session.

    stdin is written from a second thread while this one reads, so a command that writes while it reads can
    never block on a full pipe; that thread is joined before returning.

    Raises:
        ExecError: the command could not be run.
        StreamClosedError: the connection was lost.
        TransportTimeout: the command did not end within ``timeout`` seconds.
    """
    writer: threading.Thread | None = None
    errors: list[BaseException] = []
    if stdin is not None:
        writer = threading.Thread(target=_feed, args=(stream, stdin, errors), name="dynaclient-exec-stdin")
        writer.start()
    try:
        with stream:
            code = stream.wait(timeout)
            stdout, stderr = stream._take(STDOUT), stream._take(STDERR)
    finally:
        if writer is not None:
            writer.join()
    if errors and not isinstance(errors[0], StreamClosedError):
        raise errors[0]
    return ExecResult(code, stdout, stderr)


def _feed(stream: ExecStream, data: bytes, errors: list[BaseException]) -> None:
    try:
        stream.write_stdin(data)
        stream.close_stdin()
    except (StreamError, OSError) as exc:  # the command may exit without reading all of its input
        errors.append(exc)


__all__ = [
    "STDIN_CHUNK",
    "ExecOutput",
    "ExecResult",
    "ExecStream",
    "check_stdin_open",
    "checked_resize_message",
    "close_stdin_message",
    "run_command",
    "stdin_messages",
]

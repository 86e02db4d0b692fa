"""Port-forward over WebSocket: a socket-like stream to one pod port, and local listeners like ``kubectl port-forward``.

The kubelet's WebSocket port-forward (``v4.channel.k8s.io``) carries one TCP connection per requested port per
WebSocket (cri-streaming ``portforward/websocket.go``: one ``PortForward`` call per port, then the socket closes),
so every accepted local connection gets its own WebSocket, as kube-rs, kr8s and the official client do. There is no
half-close on v4: when either side ends, the whole connection ends.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence

from dynaclient.exceptions import DynaclientError, PortForwardError, StreamClosedError
from dynaclient.streams.channels import PORT_DATA, PORT_ERROR, check_port, check_port_prefix, port_forward_error
from dynaclient.transport.websocket import WebSocketConnection

logger = logging.getLogger("dynaclient")

SEND_CHUNK = 256 * 1024
"""Bytes per message sent: well under a third of the socket's send buffer, so a send never blocks (see
:data:`~dynaclient.transport.websocket.SEND_BUFFER`); 256 KiB moved 100 MB faster than 64 KiB."""
_RECEIVE = 256 * 1024


class PortChannels:
    r"""The two channels of one forwarded port as the server fills them, and the data not read yet; no I/O.

    The sync and asyncio streams share it. The first message on each channel is the port number, two bytes
    little-endian (cri-streaming ``portforward/websocket.go``): it is checked and dropped. Text on the error
    channel means the pod side failed: the data that came before it is read first, then the error is raised once,
    then the stream is at its end.

    >>> channels = PortChannels(80)
    >>> channels.read(10) is None  # nothing received yet: receive, then feed
    True
    >>> channels.feed([b"\x00\x50\x00", b"\x00hello", b"\x00 world"])
    False
    >>> channels.read(8), channels.read(8), channels.read(8)
    (b'hello wo', b'rld', None)
    >>> channels.feed([b"\x00!", b"\x01\x50\x00refused"])
    True
    >>> channels.read(8)
    b'!'
    >>> channels.read(8)
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.PortForwardError: port 80: refused
    >>> channels.read(8)
    b''

    Thread-safety: confined to the stream's one reader.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self._announced = {PORT_DATA: False, PORT_ERROR: False}
        self._pending = b""
        self._error: PortForwardError | None = None
        self._ended = False

    def read(self, size: int) -> bytes | None:
        """Return up to ``size`` bytes received and not read yet, ``b""`` at the end, ``None`` when there are none.

        Raises:
            PortForwardError: the error channel reported a failure in the pod (raised once).
        """
        if not self._pending:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            return b"" if self._ended else None
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def feed(self, messages: Sequence[bytes]) -> bool:
        """Take in the messages received (none: the connection ended); return whether the pod side failed.

        Raises:
            DecodeError: a channel began without this port's number.
        """
        if not messages:
            self._ended = True
            return False
        views: list[memoryview] = [] if not self._pending else [memoryview(self._pending)]
        failed = False
        for message in messages:
            try:
                view = self._payload(message)
            except PortForwardError as exc:
                self._error, self._ended, failed = exc, True, True
                break
            if view:
                views.append(view)
        self._pending = views[0].tobytes() if len(views) == 1 else b"".join(views)
        return failed

    def _payload(self, message: bytes) -> memoryview:
        view = memoryview(message)
        if not message or message[0] not in self._announced:
            return view[:0]  # another port's channel: only one port is asked for per connection
        channel, data = message[0], view[1:]
        if not self._announced[channel]:
            self._announced[channel] = True
            data = check_port_prefix(data, self.port, "data" if channel == PORT_DATA else "error")
        if channel == PORT_ERROR:
            if data:
                raise port_forward_error(data, self.port)
            return view[:0]
        return data


def data_messages(data: bytes | memoryview) -> Iterator[memoryview]:
    r"""Cut ``data`` into the payloads of data-channel messages of at most :data:`SEND_CHUNK` bytes, without copying.

    >>> [bytes(part) for part in data_messages(b"hi")]
    [b'hi']
    """
    view = memoryview(data)
    for start in range(0, len(view), SEND_CHUNK):
        yield view[start : start + SEND_CHUNK]


class PortStream:
    """A TCP connection to one port inside a pod, used like a connected socket.

    :meth:`recv` returns ``b""`` once the pod side has closed (or after :meth:`close`); when the pod could not
    connect to the port, or lost the connection, it raises :class:`~dynaclient.exceptions.PortForwardError`.

    Thread-safety: one thread may receive while another sends; :meth:`close` may be called from any thread.
    """

    def __init__(self, socket: WebSocketConnection, port: int, what: str) -> None:
        self._socket = socket
        self.port = port
        self._what = what
        self._channels = PortChannels(port)
        self._closed = False

    def __repr__(self) -> str:
        return f"<PortStream {self._what} {'closed' if self._closed else 'open'}>"

    def sendall(self, data: bytes | memoryview) -> None:
        """Send all of ``data`` to the pod port.

        Raises:
            StreamClosedError: the stream is closed or the connection was lost.
        """
        for part in data_messages(data):
            self._socket.send_channel(PORT_DATA, part)

    def recv(self, bufsize: int = _RECEIVE) -> bytes:
        """Return up to ``bufsize`` bytes from the pod port, waiting for some; ``b""`` at the end.

        Raises:
            PortForwardError: the pod side could not connect or failed.
            StreamClosedError: the connection was lost.
            DecodeError: the server broke the port-forward protocol.
        """
        while (data := self._channels.read(bufsize)) is None:
            self._receive(bufsize)
        return data

    def close(self) -> None:
        """Close the connection to the pod port; safe to call twice and from another thread."""
        self._closed = True
        self._socket.close()

    def __enter__(self) -> PortStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _receive(self, size: int) -> None:
        try:
            messages = self._socket.receive_many(size)
        except StreamClosedError:
            if not self._closed:
                raise
            messages = []
        if self._channels.feed(messages):
            self._socket.close()


class PortForwarder:
    """Listens on local ports and forwards each accepted connection to a pod port, like ``kubectl port-forward``.

    Each accepted connection gets its own :class:`PortStream`; the local and pod sides are copied both ways by two
    threads until either ends. A connection the pod side refuses is closed and its error kept in :attr:`errors`.
    :meth:`close` stops listening, ends every connection and joins every thread it started.

    Attributes:
        address: the local address listened on.
        ports: each remote port mapped to the local port that forwards to it (chosen by the system when 0 was given).
        errors: the errors of forwarded connections, in the order they happened.

    Thread-safety: thread-safe; :meth:`close` may be called from any thread.
    """

    def __init__(
        self,
        connect: Callable[[int], PortStream],
        mappings: Sequence[tuple[int, int]],
        *,
        address: str = "127.0.0.1",
        what: str = "port-forward",
    ) -> None:
        self._connect = connect
        self._what = what
        self.address = address
        self.errors: list[DynaclientError] = []
        self._lock = threading.Lock()
        self._closed = False
        self._threads: set[threading.Thread] = set()
        self._resources: set[socket.socket | PortStream] = set()
        self._listeners: list[socket.socket] = []
        self.ports: dict[int, int] = {}
        try:
            for local, remote in mappings:
                listener = socket.create_server((address, local), reuse_port=False)
                self._listeners.append(listener)
                self.ports[check_port(remote)] = listener.getsockname()[1]
        except OSError:
            self.close()
            raise
        for listener, remote in zip(self._listeners, self.ports, strict=True):
            self._spawn(self._accept, listener, remote, name=f"dynaclient-forward-accept-{remote}")

    def __repr__(self) -> str:
        pairs = ", ".join(f"{self.address}:{local} -> {remote}" for remote, local in self.ports.items())
        return f"<PortForwarder {self._what} {pairs}>"

    def close(self) -> None:
        """Stop listening, close every forwarded connection and join every thread; safe to call twice."""
        with self._lock:
            self._closed = True
            resources = list(self._resources)
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        for resource in resources:
            _close(resource)
        while True:
            with self._lock:
                threads = [thread for thread in self._threads if thread is not threading.current_thread()]
                if not threads:
                    return
            for thread in threads:
                thread.join()
                with self._lock:
                    self._threads.discard(thread)

    def __enter__(self) -> PortForwarder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _spawn(self, target: Callable[..., None], *args: object, name: str) -> None:
        thread = threading.Thread(target=self._run, args=(target, *args), name=name, daemon=True)
        with self._lock:
            if self._closed:
                return
            self._threads.add(thread)
        thread.start()

    def _run(self, target: Callable[..., None], *args: object) -> None:
        try:
            target(*args)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _accept(self, listener: socket.socket, remote: int) -> None:
        while True:
            try:
                local, _ = listener.accept()
            except OSError:
                return  # closed
            if not self._track(local):
                _close(local)
                return
            # As Go (kubectl) and asyncio streams do: a small reply is not held back waiting for an ACK (Nagle).
            local.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._forward, local, remote, name=f"dynaclient-forward-{remote}")

    def _forward(self, local: socket.socket, remote: int) -> None:
        stream: PortStream | None = None
        try:
            stream = self._connect(remote)
            if not self._track(stream):
                return
            self._spawn(self._copy_to_pod, local, stream, name=f"dynaclient-forward-{remote}-out")
            while data := stream.recv():
                local.sendall(data)
        except (DynaclientError, OSError) as exc:
            self._failed(exc, remote)
        finally:
            for resource in (stream, local):
                if resource is not None:
                    self._untrack(resource)
                    _close(resource)

    def _copy_to_pod(self, local: socket.socket, stream: PortStream) -> None:
        buffer = memoryview(bytearray(_RECEIVE))  # sendall has masked each piece into a new object on return
        try:
            while count := local.recv_into(buffer):
                stream.sendall(buffer[:count])
        except (DynaclientError, OSError):
            pass  # the other direction reports failures, and closes both sides
        finally:
            _close(stream)

    def _failed(self, exc: BaseException, remote: int) -> None:
        with self._lock:
            if self._closed:
                return
            error = exc if isinstance(exc, DynaclientError) else PortForwardError(f"port {remote}: {exc}")
            self.errors.append(error)
        logger.warning("%s: a connection to port %d failed: %s", self._what, remote, exc)

    def _track(self, resource: socket.socket | PortStream) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._resources.add(resource)
            return True

    def _untrack(self, resource: socket.socket | PortStream) -> None:
        with self._lock:
            self._resources.discard(resource)


def parse_port_mappings(ports: Iterable[int | str]) -> list[tuple[int, int]]:
    """Parse ``kubectl port-forward`` port specs: ``8080`` (same port), ``8080:80``, ``:80`` (any local port).

    >>> parse_port_mappings([5432, "8080:80", ":9090"])
    [(5432, 5432), (8080, 80), (0, 9090)]

    Raises:
        ValueError: a spec is not one of those forms or names a port out of range.
    """
    mappings: list[tuple[int, int]] = []
    for spec in ports:
        text = str(spec)
        local, _, remote = text.rpartition(":") if ":" in text else (text, "", text)
        try:
            remote_port = check_port(int(remote))
            local_port = int(local) if local else 0
        except ValueError:
            raise ValueError(f"port spec {spec!r} is not PORT, LOCAL:REMOTE or :REMOTE") from None
        if not 0 <= local_port <= 0xFFFF:
            raise ValueError(f"port spec {spec!r}: local port {local_port} is out of range (0 to 65535)")
        mappings.append((local_port, remote_port))
    if not mappings:
        raise ValueError("port-forward needs at least one port")
    return mappings


def _close(resource: socket.socket | PortStream) -> None:
    if isinstance(resource, socket.socket):
        with contextlib.suppress(OSError):
            resource.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError, DynaclientError):
        resource.close()


__all__ = ["SEND_CHUNK", "PortChannels", "PortForwarder", "PortStream", "data_messages", "parse_port_mappings"]

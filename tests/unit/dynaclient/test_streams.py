"""Pod streams without a server: the channel demultiplexer of exec, port-forward and logs over a scripted socket,
and the handshake retries.

Request building and framing are tested in test_stream_requests.py.
"""

from __future__ import annotations

import queue
import socket
import threading
from typing import cast

import pytest

from dynaclient.client import APIClient
from dynaclient.discovery.documents import APIResource
from dynaclient.exceptions import (
    DecodeError,
    ExecError,
    PortForwardError,
    StreamClosedError,
    StreamError,
    TransportTimeout,
)
from dynaclient.request import Cancellation, Request, Response
from dynaclient.resources.client import ResourceClient
from dynaclient.streams import PodLogs
from dynaclient.streams.channels import V4_CHANNEL, V5_CHANNEL, frame
from dynaclient.streams.pods import CONNECT_TIMEOUT, PORT_FORWARD_ATTEMPTS
from dynaclient.streams.port_forward import SEND_CHUNK, PortForwarder, PortStream
from dynaclient.streams.remote_command import STDIN_CHUNK, ExecStream, run_command
from dynaclient.transport.websocket import WebSocketConnection

_END = object()


class ScriptedSocket:
    """Stands in for a WebSocketConnection: hands out queued messages, records what is sent."""

    def __init__(self, subprotocol: str = V5_CHANNEL) -> None:
        self.subprotocol = subprotocol
        self.incoming: queue.Queue[object] = queue.Queue()
        self.sent: list[bytes] = []
        self.closed = threading.Event()

    def feed(self, *messages: bytes) -> None:
        for message in messages:
            self.incoming.put(message)

    def end(self, error: Exception | None = None) -> None:
        self.incoming.put(error if error is not None else _END)

    def send(self, data: bytes) -> None:
        if self.closed.is_set():
            raise StreamClosedError("closed")
        self.sent.append(data)

    def send_channel(self, channel: int, data: bytes | memoryview) -> None:
        self.send(bytes((channel,)) + data)

    def receive(self, timeout: float | None = None) -> bytes | None:
        try:
            item = self.incoming.get(timeout=timeout)
        except queue.Empty:
            raise TransportTimeout("nothing") from None
        if item is _END:
            self.incoming.put(_END)
            return None
        if isinstance(item, Exception):
            raise item
        return cast(bytes, item)

    def receive_many(self, limit: int) -> list[bytes]:
        """One message at a time: the batching of the real connection is not what these tests look at."""
        message = self.receive()
        return [] if message is None else [message]

    def close(self) -> None:
        self.closed.set()
        self.end()


def _exec(sock: ScriptedSocket, *, tty: bool = False) -> ExecStream:
    return ExecStream(cast(WebSocketConnection, sock), "exec in pod p", tty=tty)


SUCCESS = frame(3, b'{"metadata":{},"status":"Success"}')
EXIT_3 = frame(
    3,
    b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: exit 3",'
    b'"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
)


# -- exec demultiplexing ---------------------------------------------------------------------------------------


def test_exec_reads_channels_apart_and_ignores_ready_signal() -> None:
    sock = ScriptedSocket()
    sock.feed(b"\x01", frame(2, b"err1"), frame(1, b"out1"), frame(2, b"err2"), EXIT_3)
    sock.end()
    stream = _exec(sock)
    assert stream.read_stdout() == b"out1"
    assert stream.read_stdout() == b""
    assert stream.read_stderr() == b"err1"
    assert stream.read_stderr() == b"err2"
    assert stream.wait() == 3
    assert stream.exit_code == 3


def test_exec_two_threads_read_two_channels() -> None:
    sock = ScriptedSocket()
    stream = _exec(sock)
    got: dict[str, bytes] = {}

    def read(name: str, reader: object) -> None:
        chunks = []
        while chunk := cast(ExecStream, reader).read_stderr() if name == "err" else stream.read_stdout():
            chunks.append(chunk)
        got[name] = b"".join(chunks)

    threads = [threading.Thread(target=read, args=(n, stream)) for n in ("out", "err")]
    for thread in threads:
        thread.start()
    for i in range(200):
        sock.feed(frame(1 + i % 2, b"%d," % i))
    sock.feed(SUCCESS)
    sock.end()
    for thread in threads:
        thread.join(10)
    assert got["out"] == b"".join(b"%d," % i for i in range(0, 200, 2))
    assert got["err"] == b"".join(b"%d," % i for i in range(1, 200, 2))
    assert stream.wait() == 0


def test_exec_without_status_is_an_error() -> None:
    sock = ScriptedSocket()
    sock.feed(frame(1, b"partial"))
    sock.end()
    stream = _exec(sock)
    with pytest.raises(StreamClosedError, match="before the command's exit status"):
        stream.wait()
    assert stream.exit_code is None


def test_exec_connection_lost_is_typed() -> None:
    sock = ScriptedSocket()
    sock.end(StreamClosedError("exec in pod p: the connection was lost"))
    with pytest.raises(StreamClosedError, match="lost"):
        _exec(sock).read_stdout()


def test_exec_wait_times_out() -> None:
    with pytest.raises(TransportTimeout):
        _exec(ScriptedSocket()).wait(timeout=0.05)


def test_exec_stdin_is_chunked_then_closed_on_v5() -> None:
    sock = ScriptedSocket()
    stream = _exec(sock)
    stream.write_stdin(b"x" * (STDIN_CHUNK + 1))
    stream.close_stdin()
    assert [len(m) for m in sock.sent] == [STDIN_CHUNK + 1, 2, 2]
    assert sock.sent[-1] == b"\xff\x00"
    with pytest.raises(StreamClosedError, match="stdin is closed"):
        stream.write_stdin(b"more")


def test_exec_v4_cannot_close_stdin_and_resize_needs_tty() -> None:
    stream = _exec(ScriptedSocket(V4_CHANNEL))
    with pytest.raises(StreamError, match="cannot close stdin"):
        stream.close_stdin()
    with pytest.raises(StreamError, match="tty"):
        stream.resize(80, 24)
    sock = ScriptedSocket()
    _exec(sock, tty=True).resize(120, 40)
    assert sock.sent == [b'\x04{"Width":120,"Height":40}']


def test_run_command_feeds_stdin_from_a_thread_and_joins_it() -> None:
    sock = ScriptedSocket()
    sock.feed(frame(1, b"a"), frame(2, b"b"), frame(1, b"c"), EXIT_3)
    sock.end()
    before = threading.active_count()
    result = run_command(_exec(sock), b"input", None)
    assert result == (3, b"ac", b"b")
    assert sock.sent == [b"\x00input", b"\xff\x00"]
    assert sock.closed.is_set()
    assert threading.active_count() == before


def test_run_command_reports_a_failed_start() -> None:
    sock = ScriptedSocket()
    sock.feed(frame(3, b'{"status":"Failure","reason":"InternalError","message":"no such file"}'))
    sock.end()
    with pytest.raises(ExecError, match="no such file"):
        run_command(_exec(sock), None, None)


# -- port-forward ----------------------------------------------------------------------------------------------


def _port(sock: ScriptedSocket, port: int = 80) -> PortStream:
    return PortStream(cast(WebSocketConnection, sock), port, "port-forward to p:80")


def test_port_stream_strips_prefixes_and_buffers() -> None:
    sock = ScriptedSocket(V4_CHANNEL)
    sock.feed(b"\x00\x50\x00", b"\x01\x50\x00", b"\x00hello world")
    sock.end()
    stream = _port(sock)
    assert stream.recv(5) == b"hello"
    assert stream.recv() == b" world"
    assert stream.recv() == b""
    stream.sendall(b"x" * (SEND_CHUNK + 1))
    assert [m[0] for m in sock.sent] == [0, 0]
    assert sum(len(m) - 1 for m in sock.sent) == SEND_CHUNK + 1


def test_port_stream_error_channel_and_bad_prefix() -> None:
    sock = ScriptedSocket(V4_CHANNEL)
    sock.feed(b"\x00\x50\x00", b"\x01\x50\x00", b"\x01error forwarding port 80 to pod p: connection refused")
    with pytest.raises(PortForwardError, match="connection refused"):
        _port(sock).recv()
    sock = ScriptedSocket(V4_CHANNEL)
    sock.feed(b"\x00\x51\x00")
    with pytest.raises(DecodeError, match="port 81"):
        _port(sock).recv()


class EchoSocket(ScriptedSocket):
    """A pod port that echoes each data frame it is sent: its answer comes only after the send."""

    def send(self, data: bytes) -> None:
        super().send(data)
        self.feed(data)


def test_port_forwarder_copies_both_ways_and_closes_cleanly() -> None:
    sockets: list[ScriptedSocket] = []

    def connect(port: int) -> PortStream:
        sock = EchoSocket(V4_CHANNEL)
        sock.feed(b"\x00\x50\x00", b"\x01\x50\x00")
        sockets.append(sock)
        return _port(sock, port)

    before = {t.ident for t in threading.enumerate()}
    forwarder = PortForwarder(connect, [(0, 80)])
    local_port = forwarder.ports[80]
    with socket.create_connection(("127.0.0.1", local_port)) as client:
        client.sendall(b"ping")
        assert client.recv(10) == b"ping"
    forwarder.close()
    assert {t.ident for t in threading.enumerate()} <= before
    assert sockets[0].sent == [b"\x00ping"]
    with pytest.raises(OSError):  # noqa: PT011 - the kernel's words vary
        socket.create_connection(("127.0.0.1", local_port), timeout=1)


def test_port_forwarder_keeps_connection_errors() -> None:
    def connect(port: int) -> PortStream:
        raise PortForwardError(f"port {port}: refused")

    forwarder = PortForwarder(connect, [(0, 81)])
    with forwarder, socket.create_connection(("127.0.0.1", forwarder.ports[81])) as client:
        assert client.recv(10) == b""
    assert [str(e) for e in forwarder.errors] == ["port 81: refused"]


# -- logs ------------------------------------------------------------------------------------------------------


def test_pod_logs_lines_keep_split_characters_whole() -> None:
    chunks = [b"caf\xc3", b"\xa9\nsecond", b" line\n\xff\nlast"]
    logs = PodLogs(Response(200, {}, chunks), Cancellation(), "pod ns/p log")
    assert list(logs) == ["café", "second line", "\ufffd", "last"]
    assert logs.ended
    with pytest.raises(RuntimeError, match="read once"):
        logs.read()


def test_pod_logs_close_ends_quietly() -> None:
    cancellation = Cancellation()
    logs = PodLogs(Response(200, {}, iter([b"a\n", b"b\n"])), cancellation, "pod ns/p log")
    lines = logs.lines(keepends=True)
    assert next(lines) == "a\n"
    logs.close()
    assert list(lines) == []
    assert logs.closed
    assert not logs.ended


class _StallingAPIClient:
    """Times out the first ``stalls`` WebSocket handshakes, then opens a scripted socket."""

    def __init__(self, stalls: int) -> None:
        self.stalls = stalls
        self.timeouts: list[float | None] = []

        class _Transport:
            name = "http"

        self.transport = _Transport()

    def open_websocket(self, request: Request, subprotocols: object) -> ScriptedSocket:
        self.timeouts.append(request.timeout)
        if len(self.timeouts) <= self.stalls:
            raise TransportTimeout("the WebSocket handshake timed out")
        return ScriptedSocket(V4_CHANNEL)


def _pods_client(api_client: _StallingAPIClient) -> ResourceClient:
    pods = APIResource("", "v1", "pods", "Pod", namespaced=True)
    return ResourceClient(cast("APIClient", api_client), pods, namespace="default")


def test_a_stalled_port_forward_handshake_is_tried_once_more_within_the_same_time() -> None:
    api_client = _StallingAPIClient(stalls=1)
    stream = _pods_client(api_client).connect_port("db", 5432)
    assert isinstance(stream, PortStream)
    assert api_client.timeouts == [CONNECT_TIMEOUT / PORT_FORWARD_ATTEMPTS] * 2
    with pytest.raises(TransportTimeout):
        _pods_client(_StallingAPIClient(stalls=2)).connect_port("db", 5432)


def test_a_stalled_exec_handshake_is_not_retried() -> None:
    api_client = _StallingAPIClient(stalls=1)
    with pytest.raises(TransportTimeout):
        _pods_client(api_client).exec_stream("web", ["true"])
    assert api_client.timeouts == [CONNECT_TIMEOUT]

"""Chunked bodies read in bulk: the framing undone in any split, and the HTTP transport reading them from a socket.

The loopback server here speaks HTTP/1.1 framing only (what the test is about); everything a Kubernetes API server
does is tested against the real one in tests/integration.
"""

from __future__ import annotations

import gzip
import itertools
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from urllib3.exceptions import ProtocolError

from dynaclient.exceptions import ConnectionLostError
from dynaclient.request import Request
from dynaclient.transport._chunked import ChunkedDecoder, _framed_blocks
from dynaclient.transport.http import HTTPTransport
from tests.loopback_http import LoopbackServer


def frame(pieces: list[bytes], *, extension: bytes = b"", trailers: bytes = b"") -> bytes:
    """Return ``pieces`` as an HTTP/1.1 chunked body."""
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(piece), extension, piece) for piece in pieces if piece)
    return body + b"0\r\n" + trailers + b"\r\n"


def decode(framed: bytes, cuts: list[int]) -> tuple[bytes, bool]:
    decoder, out = ChunkedDecoder(), bytearray()
    edges = [0, *sorted(cut % (len(framed) + 1) for cut in cuts), len(framed)]
    for start, stop in itertools.pairwise(edges):
        decoder.feed(framed[start:stop], out.extend)
    return bytes(out), decoder.done


@given(
    pieces=st.lists(st.binary(max_size=300), max_size=12),
    cuts=st.lists(st.integers(min_value=0), max_size=20),
    extension=st.sampled_from([b"", b";name=value", b";a"]),
    trailers=st.sampled_from([b"", b"Expires: never\r\n", b"A: 1\r\nB: 2\r\n"]),
)
def test_any_split_of_a_chunked_body_gives_back_its_bytes(
    pieces: list[bytes], cuts: list[int], extension: bytes, trailers: bytes
) -> None:
    framed = frame(pieces, extension=extension, trailers=trailers)
    assert decode(framed, cuts) == (b"".join(pieces), True)


def test_a_body_without_its_last_chunk_is_not_done() -> None:
    assert decode(b"5\r\nhello\r\n", []) == (b"hello", False)
    assert decode(b"5\r\nhello\r\n0\r\n", []) == (b"hello", False)  # the empty line after the last chunk


@pytest.mark.parametrize(
    ("framed", "message"),
    [
        (b"zz\r\nhello\r\n", "bad chunk-size line"),
        (b"-5\r\nhello\r\n", "bad chunk-size line"),
        (b"5\r\nhelloXY0\r\n\r\n", "does not end with CRLF"),
        (b"0\r\n\r\nextra", "data after the end"),
        (b"1" * 5000, "too long"),
    ],
)
def test_broken_framing_is_a_protocol_error(framed: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode(framed, [])


class ChunkedServer(LoopbackServer):
    """Answers each request on a connection with the next scripted raw response (headers and framed body).

    Thread-safety: thread-safe (the connection count under the lock).
    """

    def __init__(self, responses: list[bytes], *, close_after: bool = False) -> None:
        self._responses = responses
        self._close_after = close_after
        super().__init__()

    def serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as reader:
            for response in self._responses:
                while (line := reader.readline()) not in (b"\r\n", b""):
                    pass
                if not line:
                    return
                connection.sendall(response)
            if self._close_after:
                connection.shutdown(socket.SHUT_RDWR)
            else:
                reader.read()  # keep the connection open until the client closes it


def response(body: bytes, *headers: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    return head + b"".join(header + b"\r\n" for header in headers) + b"\r\n" + body


def plain_then_gzipped(pieces: list[bytes], *, piece: int) -> ChunkedServer:
    """A server answering the same data twice: in ``pieces`` as chunks, then gzipped in chunks of ``piece`` bytes."""
    compressed = gzip.compress(b"".join(pieces))
    gzipped = frame([compressed[i : i + piece] for i in range(0, len(compressed), piece)])
    return ChunkedServer([response(frame(pieces)), response(gzipped, b"Content-Encoding: gzip")])


@pytest.fixture
def serve() -> Iterator[list[ChunkedServer]]:
    servers: list[ChunkedServer] = []
    yield servers
    for server in servers:
        server.close()


def get(transport: HTTPTransport) -> bytes:
    return transport.send(Request("GET", "/api/v1/namespaces", timeout=10)).read()


def test_a_small_chunked_body_that_came_with_the_headers_is_read_without_waiting_for_more(
    serve: list[ChunkedServer],
) -> None:
    # The whole answer lands in the reader's buffer with the headers: a read past it would wait for the timeout.
    server = ChunkedServer([response(frame([b'{"kind":', b'"List"}'])), response(frame([b"{}"]))])
    serve.append(server)
    transport = HTTPTransport(server.url)
    assert get(transport) == b'{"kind":"List"}'
    assert get(transport) == b"{}"
    assert server.connections == 1  # the connection went back to the pool


def test_a_large_body_in_many_chunks_and_a_gzip_coded_one_are_read_whole(serve: list[ChunkedServer]) -> None:
    items = [b'{"metadata":{"name":"cm-%d"},"data":{"k":"%s"}},' % (n, b"v" * 1500) for n in range(3000)]
    server = plain_then_gzipped(items, piece=1000)
    serve.append(server)
    transport = HTTPTransport(server.url)
    assert get(transport) == b"".join(items)
    assert get(transport) == b"".join(items)
    assert server.connections == 1


def test_a_gzip_coded_body_is_handed_on_inflated_in_parts_of_at_most_64_kib(serve: list[ChunkedServer]) -> None:
    # 4 MiB that deflate to a few kilobytes: one chunk inflates to far more than one part may hold.
    data = b"".join(b"%08d" % n + b" " * 1016 for n in range(4096))
    compressed = gzip.compress(data)
    server = ChunkedServer([response(frame([compressed[:100], compressed[100:]]), b"Content-Encoding: gzip")])
    serve.append(server)
    parts = list(HTTPTransport(server.url).send(Request("GET", "/api/v1/namespaces", timeout=10)).iter_chunks())
    assert b"".join(parts) == data
    assert max(map(len, parts)) <= 64 * 1024
    assert len(parts) >= len(data) // (64 * 1024)
    assert server.connections == 1


def test_a_connection_closed_in_the_middle_of_a_chunked_body_is_a_lost_connection(serve: list[ChunkedServer]) -> None:
    server = ChunkedServer([response(b"5\r\nhello\r\n3\r\nab")], close_after=True)
    serve.append(server)
    with pytest.raises(ConnectionLostError, match="lost in the middle of the response"):
        get(HTTPTransport(server.url))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (gzip.compress(b"x" * 5000)[:-12], "the gzip stream of a response ended early"),
        (gzip.compress(b"x" * 5000)[:10] + b"not deflate data at all", "Connection broken"),
    ],
    ids=["cut short", "not deflate"],
)
def test_a_broken_gzip_body_is_a_lost_connection_whichever_inflate_reads_it(
    body: bytes, message: str, serve: list[ChunkedServer]
) -> None:
    server = ChunkedServer([response(frame([body]), b"Content-Encoding: gzip")])
    serve.append(server)
    with pytest.raises(ConnectionLostError, match="lost in the middle of the response") as raised:
        get(HTTPTransport(server.url))
    assert message in str(raised.value.__cause__)


class ScriptedFile:
    """A buffered file over scripted socket reads: the first segment is what came with the headers.

    Thread-safety: confined.
    """

    def __init__(self, segments: list[bytes]) -> None:
        self._head, *self._reads = segments

    def peek(self, size: int) -> bytes:
        return self._head

    def read(self, size: int) -> bytes:
        taken, self._head = self._head[:size], self._head[size:]
        return taken

    def readinto1(self, view: memoryview) -> int:
        if not self._reads:
            raise AssertionError("read past the end of the body: a real socket would wait for the timeout")
        segment = self._reads.pop(0)
        view[: len(segment)] = segment
        return len(segment)


@given(
    pieces=st.lists(st.binary(max_size=200), max_size=8),
    trailers=st.sampled_from([b"", b"A: 1\r\n"]),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
)
def test_the_socket_is_never_read_after_the_end_of_the_body_however_it_arrives(
    pieces: list[bytes], trailers: bytes, cuts: list[int]
) -> None:
    framed = frame(pieces, trailers=trailers)
    edges = sorted({0, len(framed), *(cut % (len(framed) + 1) for cut in cuts)})
    segments = [framed[start:stop] for start, stop in itertools.pairwise(edges)] or [b""]
    decoder, out = ChunkedDecoder(), bytearray()
    for block in _framed_blocks(ScriptedFile(segments), decoder):
        decoder.feed(block, out.extend)
    assert (bytes(out), decoder.done) == (b"".join(pieces), True)


def follow(transport: HTTPTransport) -> Iterator[bytes]:
    """Stream a body as a followed log is read: in batches, resting 1 ms when the connection runs dry."""
    return transport.send(Request("GET", "/log", expect="stream", read_pause=0.001)).iter_chunks()


def test_a_stream_read_in_batches_gives_back_its_bytes_and_its_connection(serve: list[ChunkedServer]) -> None:
    lines = [b"line %d %s\n" % (n, b"x" * (n % 97)) for n in range(5000)]
    server = plain_then_gzipped(lines, piece=700)
    serve.append(server)
    transport = HTTPTransport(server.url)
    assert b"".join(follow(transport)) == b"".join(lines)
    assert b"".join(follow(transport)) == b"".join(lines)
    assert server.connections == 1  # read to its end, the connection went back to the pool


class SteppedServer(LoopbackServer):
    """Sends a chunked answer in steps: each step's bytes only once the test has read the step before.

    Thread-safety: thread-safe (:attr:`read` is an event per step).
    """

    def __init__(self, steps: list[bytes]) -> None:
        self.steps = steps
        self.read = [threading.Event() for _ in steps]
        super().__init__()

    def serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as reader:
            while reader.readline() not in (b"\r\n", b""):
                pass
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            for step, read in zip(self.steps, self.read, strict=True):
                connection.sendall(step)
                if not read.wait(10):
                    return
            reader.read()


def test_a_stream_read_in_batches_hands_on_what_arrived_without_waiting_for_more() -> None:
    # The server sends the next lines only after the test has the ones before: a reader that waited for a fuller
    # batch, or for the end, would never get them (and the test would time out).
    steps = [frame([b"first\n"])[:-5], b"7\r\nsecond\n\r\n", b"6\r\nthird\n\r\n0\r\n\r\n"]
    server = SteppedServer(steps)
    try:
        received = b""
        for chunk, read in zip(follow(HTTPTransport(server.url)), server.read, strict=False):
            received += chunk
            read.set()
        assert received == b"first\nsecond\nthird\n"
    finally:
        for read in server.read:
            read.set()
        server.close()


def test_a_stream_closed_in_the_middle_is_a_lost_connection(serve: list[ChunkedServer]) -> None:
    server = ChunkedServer([response(b"6\r\nfirst\n\r\n3\r\nab")], close_after=True)
    serve.append(server)
    chunks = follow(HTTPTransport(server.url))
    with pytest.raises(ConnectionLostError, match="lost in the middle of the response"):
        list(chunks)

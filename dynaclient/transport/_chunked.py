"""Read a whole response body from its connection in bulk, undoing HTTP/1.1 chunked framing without urllib3.

urllib3 reads a chunked body one chunk at a time, each through several Python calls (``read_chunked``,
``_update_chunk_length``, ``_handle_chunk``, ``http.client``'s ``_safe_read``). The API server writes a list's
items one by one (apimachinery's streaming JSON list encoder), Go's ``net/http`` makes each write a chunk of about
2 KB, and its connection buffer sends them in TLS records of about 4 KB: a 10,000-ConfigMap list arrives in some
8,000 chunks, and reading them cost the client more CPU than decoding the JSON. Here each socket read takes a whole
record, :class:`ChunkedDecoder` strips the framing of everything in it with ``bytes.find``, and the data goes on
in pieces of a megabyte. A followed log is read the same way but handed on as it arrives (:func:`stream_body`);
watch streams keep urllib3's reader (an event must not wait).
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

from urllib3.exceptions import ProtocolError

from dynaclient._buffers import BufferPool
from dynaclient.transport.compression import GZIP_ERRORS, gzip_decoder

_SIZE_LINE = re.compile(rb"([0-9a-fA-F]{1,16})(?:;[^\r\n]*)?\r\n")
"""A chunk-size line (extensions ignored); Go writes 1 to 8 hex digits and no extension."""
_MAX_LINE = 4096
_BUFFER = 256 * 1024
_FIRST_PIECE = 32 * 1024
_INFLATED = 64 * 1024  # inflated bytes per call at most: buffers the allocator keeps in its heap and reuses
_RECORD = 16 * 1024 + 64  # the most one TLS record carries (plain HTTP reads are capped to it too)
_BROKEN: tuple[type[Exception], ...] = (OSError, *GZIP_ERRORS)

Sink = Callable[[memoryview], object]
"""Takes a chunk's data, as a view of the bytes fed (see :meth:`ChunkedDecoder.feed`)."""


class ChunkedDecoder:
    r"""Undo ``Transfer-Encoding: chunked`` framing (RFC 9112 section 7.1) of bytes fed in any split; sans I/O.

    Thread-safety: confined.

    >>> decoder, out = ChunkedDecoder(), bytearray()
    >>> for piece in (b"5\r\nhel", b"lo\r\n6;ext=1\r\n world\r", b"\n0\r\nTrailer: x\r\n\r\n"):
    ...     decoder.feed(piece, out.extend)
    >>> bytes(out), decoder.done
    (b'hello world', True)
    """

    __slots__ = ("_crlf", "_left", "_pending", "_trailers", "done")

    def __init__(self) -> None:
        self._left = 0  # data bytes of the current chunk still to come
        self._crlf = 0  # bytes of the CRLF after the current chunk's data still to come
        self._pending = b""  # an incomplete size or trailer line
        self._trailers = False  # the last chunk was read: trailer lines until an empty one
        self.done = False

    def feed(self, data: bytes | memoryview, sink: Sink) -> None:
        """Give the data bytes framed in ``data`` to ``sink``, a chunk (or a chunk's part) at a time.

        The views ``sink`` is given are views of ``data`` (of a copy, for a line split across two feeds): they are
        valid as long as ``data``'s bytes are. Nothing else of ``data`` is kept after the call.

        Raises:
            ProtocolError: the framing is broken (a bad size line, data after the end).
        """
        # A block is scanned where it lies (a memoryview of the read buffer); only a line split across two blocks
        # is joined, a few bytes.
        framed = memoryview(self._pending + bytes(data) if self._pending else data)
        self._pending = b""
        pos = 0
        while 0 <= pos < len(framed):
            if self._left or self._crlf:
                pos = self._chunk_rest(framed, pos, sink)
            elif self.done:
                raise ProtocolError("data after the end of a chunked body")
            else:
                pos = self._line(framed, pos, sink)

    def _chunk_rest(self, framed: memoryview, pos: int, sink: Sink) -> int:
        """Take the rest of a chunk begun in an earlier feed (its data, then its CRLF); return the new position."""
        if self._left:
            take = min(self._left, len(framed) - pos)
            sink(framed[pos : pos + take])
            self._left -= take
            return pos + take
        take = min(self._crlf, len(framed) - pos)
        if bytes(framed[pos : pos + take]) != b"\r\n"[2 - self._crlf : 2 - self._crlf + take]:
            raise ProtocolError("a chunk's data does not end with CRLF")
        self._crlf -= take
        return pos + take

    def _line(self, framed: memoryview, pos: int, sink: Sink) -> int:
        """Take a size line and its chunk, or a trailer line; return the new position, or -1 to wait for more."""
        if not self._trailers and (size_line := _SIZE_LINE.match(framed, pos)) is not None:
            size, start = int(size_line[1], 16), size_line.end()
            stop = start + size
            if size == 0:
                self._trailers = True
            elif stop + 2 <= len(framed):  # the common case: the whole chunk is here
                if framed[stop] != 0x0D or framed[stop + 1] != 0x0A:  # CR LF
                    raise ProtocolError("a chunk's data does not end with CRLF")
                sink(framed[start:stop])
                return stop + 2
            else:
                self._left, self._crlf = size, 2
            return start
        line = bytes(framed[pos : pos + _MAX_LINE])
        eol = line.find(b"\r\n")
        if eol < 0:
            if len(framed) - pos > _MAX_LINE:
                raise ProtocolError("a chunk-size or trailer line is too long")
            self._pending = line
            return -1
        if not self._trailers:
            raise ProtocolError(f"bad chunk-size line: {line[:eol][:40]!r}")
        eol += pos
        self.done = eol == pos  # an empty line ends the trailer section; others are trailer fields
        return eol + 2


def bulk_body(answer: Any, piece: int) -> Iterator[bytes] | None:
    """Return the pieces of a ``requests`` response's chunked body read in bulk, or ``None`` to let urllib3 read it.

    Only a chunked body not yet read, identity or gzip coded, takes this path. Once it is read whole the connection
    goes back to the pool as urllib3 would put it; on any error it is left for the response's close to drop.

    Args:
        answer: a ``requests.Response`` opened with ``stream=True``.
        piece: the size of the pieces yielded (the last may be shorter).
    """
    source = _chunked_source(answer)
    if source is None:
        return None
    fp, gunzip = source
    return _mapped(_pieces(answer, fp, gunzip, piece))


def stream_body(answer: Any, pause: float) -> Iterator[bytes] | None:
    """Return a ``requests`` response's chunked stream as it arrives, read in batches; ``None`` to let urllib3 read it.

    Each read takes everything the connection has: it waits for the first bytes (within the socket's timeout),
    then takes what else has arrived without waiting, and the data goes on at once. When the connection ran dry
    the reader then rests ``pause`` seconds, so the server's next small writes gather in the socket instead of
    each waking the reader. Takes the same bodies as :func:`bulk_body`, over TLS or a plain socket.

    Args:
        answer: a ``requests.Response`` opened with ``stream=True``.
        pause: seconds to rest after the connection ran dry.
    """
    source = _chunked_source(answer)
    if source is None:
        return None
    fp, gunzip = source
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if not isinstance(sock, socket.socket):  # TLS in TLS (urllib3's SSLTransport) and the like
        return None
    return _mapped(_stream_pieces(answer, fp, gunzip, sock, pause))


def _chunked_source(answer: Any) -> tuple[Any, Any] | None:
    """The file a chunked body not yet read comes from, and its gzip decoder (``None`` for identity)."""
    raw = answer.raw
    original = getattr(raw, "_original_response", None)
    fp = getattr(original, "fp", None)
    if not getattr(original, "chunked", False) or getattr(original, "chunk_left", 0) is not None or fp is None:
        return None
    if getattr(original, "_method", "GET") == "HEAD" or getattr(original, "status", 0) in (204, 304):
        return None
    coding = answer.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity", "gzip"):
        return None
    return fp, gzip_decoder() if coding == "gzip" else None


def _mapped(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Yield ``pieces``, raising what urllib3's reader would for the same failures."""
    try:
        yield from pieces
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:  # the peer went away: not a TLS failure
        raise ProtocolError(f"Connection broken: {exc!r}", exc) from exc
    except (TimeoutError, ssl.SSLError):
        raise  # as they are: a read timeout, a TLS failure
    except _BROKEN as exc:  # what urllib3's reader reports as a broken connection
        raise ProtocolError(f"Connection broken: {exc!r}", exc) from exc


def _pieces(answer: Any, fp: Any, gunzip: Any, piece: int) -> Iterator[bytes]:
    decoder, out = ChunkedDecoder(), _Decoded(gunzip)
    limit = min(piece, _FIRST_PIECE)  # the head goes on early: a list's continue token is in it
    for block in _framed_blocks(fp, decoder):
        out.feed(decoder, block)
        if out.ready(limit):
            yield from out.take()
            limit = piece
    yield from _finish(answer, out)


def _stream_pieces(answer: Any, fp: Any, gunzip: Any, sock: socket.socket, pause: float) -> Iterator[bytes]:
    decoder, out = ChunkedDecoder(), _Decoded(gunzip)
    out.feed(decoder, memoryview(fp.read(len(fp.peek(1)))))  # what came with the headers
    read = _socket_reader(fp)
    view = memoryview(bytearray(_BUFFER))
    dry = False
    while not decoder.done:
        if out.ready(1):
            yield from out.take()
        if dry:
            time.sleep(pause)
        count, dry = _drain(sock, read, view)
        if not count:
            raise ProtocolError("the connection closed in the middle of a chunked body")
        out.feed(decoder, view[:count])
    yield from _finish(answer, out)


def _drain(sock: socket.socket, read: Callable[[memoryview], int], view: memoryview) -> tuple[int, bool]:
    """Fill ``view`` with what the connection has, waiting only for the first bytes.

    Returns the count (0: the connection closed) and whether the connection ran dry before ``view`` was full.
    """
    count = read(view[:_RECORD])
    timeout = sock.gettimeout()
    sock.settimeout(0.0)  # from here on a read that would wait raises instead
    try:
        while 0 < count <= len(view) - _RECORD:
            more = read(view[count : count + _RECORD])
            if not more:
                return count, True
            count += more
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return count, True
    finally:
        sock.settimeout(timeout)
    return count, count == 0


class _Decoded:
    """A body's data taken out of its framing (and gzip) and not yet handed on.

    Gzip-coded data is inflated when it is taken, in parts of at most 64 KiB, each handed on before the next is
    inflated: the consumer copies it (a list page's into its decoder's body) and drops it, so the allocator serves
    every part from the same heap memory. Inflating a block at a time and joining a page's parts took buffers of
    hundreds of kilobytes, which glibc mapped for them, or trimmed from its heap once they were freed, and which
    were faulted in again for the next page. The coded data is kept as views of the block just read, so it is
    taken before the next block is read. Identity data is gathered where the framing is stripped.

    Thread-safety: confined.
    """

    __slots__ = ("_coded", "_gathered", "_gunzip", "_inflated")

    def __init__(self, gunzip: Any) -> None:
        self._gunzip = gunzip
        self._gathered = bytearray()  # identity data
        self._coded: list[memoryview] = []  # gzip-coded data of the block just read, not inflated yet
        self._inflated: list[bytes] = []  # inflated at the end of the body

    def feed(self, decoder: ChunkedDecoder, block: memoryview) -> None:
        """Add the data framed in ``block``."""
        decoder.feed(block, self._gathered.extend if self._gunzip is None else self._coded.append)

    def ready(self, least: int) -> bool:
        """Whether :meth:`take` has data: gzip-coded data, or at least ``least`` bytes (and one) of identity data."""
        if self._gunzip is None:
            return len(self._gathered) >= max(least, 1)
        return bool(self._coded or self._inflated)

    def take(self) -> Iterator[bytes]:
        """Yield the data ready, inflating it part by part, and forget it."""
        if self._gunzip is None:
            if self._gathered:
                data = bytes(self._gathered)
                self._gathered.clear()
                yield data
            return
        coded, self._coded = self._coded, []
        for chunk in coded:
            yield from self._inflate(chunk)
        inflated, self._inflated = self._inflated, []
        yield from inflated

    def end(self) -> None:
        """Inflate what is left of the gzip stream; the body has ended.

        Raises:
            ProtocolError: the gzip stream is incomplete.
        """
        if self._gunzip is not None:
            self._inflated = list(self.take())  # the last block's data, inflated before the stream's end is read
            if tail := self._gunzip.flush():
                self._inflated.append(tail)
            if not self._gunzip.eof:
                raise ProtocolError("the gzip stream of a response ended early")

    def _inflate(self, data: memoryview | bytes) -> Iterator[bytes]:
        while data:  # what inflated past the limit without more input comes out of the next call, or of flush
            if part := self._gunzip.decompress(data, _INFLATED):
                yield part
            data = self._gunzip.unconsumed_tail


def _finish(answer: Any, out: _Decoded) -> Iterator[bytes]:
    """Yield the last data of a body read to its end, and give the connection back as urllib3 would."""
    out.end()
    raw = answer.raw
    raw._original_response.close()  # as urllib3 does once a body is read: the connection is idle again
    raw.release_conn()
    answer._content_consumed = True
    yield from out.take()


_READ_BUFFERS = BufferPool(keep=4, largest=_BUFFER, size=_BUFFER)
"""Each list page is read in its own thread: its 256 KiB read buffer is taken from here and given back."""


def _framed_blocks(fp: Any, decoder: ChunkedDecoder) -> Iterator[memoryview]:
    """Yield the framed body as read, until ``decoder`` is done; a block is valid until the next is asked for."""
    # First the body bytes that came with the headers, from the file's buffer (a socket read when there were
    # none); after that the socket is read directly, so no read waits for more than the server has sent.
    head = fp.read(len(fp.peek(1)))
    yield memoryview(head)
    read = _socket_reader(fp)
    buffer = _READ_BUFFERS.take()
    try:
        view = memoryview(buffer)
        filled, tail = 0, head[-4:]  # the last bytes of the block handed on before, for an end split across two
        while not decoder.done:
            count = read(view[filled : filled + _RECORD])
            if not count:
                raise ProtocolError("the connection closed in the middle of a chunked body")
            filled += count
            # Hand the block on when the buffer is full, or when what came may be the end (the last chunk and the
            # empty line): reading on past the end would wait for bytes the server will never send.
            if filled > _BUFFER - _RECORD or (tail + buffer[max(0, filled - 4) : filled]).endswith(b"\r\n\r\n"):
                yield view[:filled]
                tail, filled = bytes(buffer[max(0, filled - 4) : filled]), 0
    finally:
        _READ_BUFFERS.give(buffer)


def _socket_reader(fp: Any) -> Callable[[memoryview], int]:
    """Return the cheapest call that reads what the connection has into a buffer (at least a byte; 0 at EOF)."""
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    sslobj = getattr(sock, "_sslobj", None)
    if isinstance(sock, ssl.SSLSocket) and sslobj is not None:
        # What SSLSocket.recv_into does, without its three Python frames per TLS record (4,000 per 16 MB list).
        # The socket's timeout applies inside the call, and a shutdown from another thread ends it.
        return lambda view: int(sslobj.read(len(view), view))
    if isinstance(sock, socket.socket):
        return sock.recv_into
    readinto1: Callable[[memoryview], int] = fp.readinto1  # TLS in TLS (urllib3's SSLTransport) and the like
    return readinto1


__all__ = ["ChunkedDecoder", "bulk_body", "stream_body"]

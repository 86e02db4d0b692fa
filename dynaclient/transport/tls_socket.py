"""A TLS socket that one thread reads while others write: the WebSocket client's, for exec, attach and port-forward.

``websockets``' threaded client reads its socket in a background thread while the caller writes (the opening
request, then every message). On an :class:`ssl.SSLSocket` that runs OpenSSL's ``SSL_read`` and ``SSL_write`` on
one ``SSL`` object at once, which OpenSSL does not support, and the reader waits for the socket to be readable
before it calls ``recv``, which misses bytes already taken into OpenSSL's buffers. Together they stalled the opening
handshake now and then: a TLS 1.3 server sends its session ticket after the client's Finished, so the ticket is read
while the request is written, and the reader was found blocked in ``SSL_read`` with the server's ``101`` never
delivered, until the 30 s handshake timeout (and ``close`` could not wake it).

Here the TLS state lives in memory (:class:`ssl.SSLObject` over two :class:`ssl.MemoryBIO`), every call into it
holds one lock, bytes move to and from the socket outside that lock, and ``recv`` returns everything that can be
decrypted, so nothing waits in a buffer the reader's ``select`` cannot see.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from typing import Any

_READ = 256 * 1024
"""Bytes taken from the socket per read: more than one TLS record (16 KiB), so a busy stream decrypts in batches."""
_RECORD_HEADER = 5


class LockedTLSContext:
    """The ``ssl`` argument of ``websockets``' sync ``connect``: wraps its socket in a :class:`LockedTLSSocket`.

    ``websockets`` calls only ``wrap_socket(sock, server_hostname=...)`` on it (``ClientConnection.enable_tls``).

    Thread-safety: immutable; safe to share.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context

    def wrap_socket(self, sock: socket.socket, server_hostname: str | None = None) -> LockedTLSSocket:
        """Return ``sock`` with TLS, after the handshake (bounded by ``sock``'s timeout)."""
        return LockedTLSSocket(sock, self.context, server_hostname)


class LockedTLSSocket:
    """A client TLS connection over a connected socket, with the methods ``websockets``' sync client calls.

    Thread-safety: one thread may call :meth:`recv` while any number of others call :meth:`sendall`; the TLS state
    is touched under one lock and records reach the socket in the order they were made. :meth:`close` and
    :meth:`shutdown` may be called from any thread and wake a blocked :meth:`recv`.
    """

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, server_hostname: str | None) -> None:
        self._socket = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._tls_lock = threading.Lock()  # guards _tls and both BIOs
        self._send_lock = threading.Lock()  # taken before _tls_lock: records go out in the order they were made
        self._ended = False  # guarded by _tls_lock: the peer closed; recv returns b"" from now on
        self._handshake()

    def __repr__(self) -> str:
        return f"<LockedTLSSocket fd={self._socket.fileno()}>"

    def _handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._feed(self._read_record())
                continue
            self._flush()  # the client's Finished
            return

    def _read_record(self) -> bytes:
        """One whole TLS record from the socket (fewer bytes only at its end), and not a byte more.

        A record is a 5-byte header (type, version, length) then ``length`` bytes (RFC 8446 §5.1). The handshake
        reads this way, so nothing the server sends after it waits here unseen by the reader's ``select``.
        """
        header = self._receive_exactly(_RECORD_HEADER)
        if len(header) < _RECORD_HEADER:
            return header
        return header + self._receive_exactly(int.from_bytes(header[3:5], "big"))

    def _receive_exactly(self, size: int) -> bytes:
        """``size`` bytes from the socket; fewer only at its end."""
        data = b""
        while len(data) < size:
            chunk = self._socket.recv(size - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def _feed(self, data: bytes) -> None:
        """Hand bytes read from the socket to the TLS object; ``b""`` is the socket's end."""
        with self._tls_lock:
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()

    def _flush(self) -> None:
        """Send the records the TLS object has made (alerts, key updates, the handshake's own)."""
        with self._send_lock:
            with self._tls_lock:
                data = self._outgoing.read()
            if data:
                self._socket.sendall(data)

    def recv(self, bufsize: int) -> bytes:
        """Return every byte that can be decrypted now, waiting for the socket only when there is none.

        ``bufsize`` is ignored on purpose: bytes left decrypted here would not make the socket readable again.
        ``b""`` means the server closed the connection.
        """
        while True:
            chunks = []
            with self._tls_lock:
                while not self._ended:
                    try:
                        chunk = self._tls.read(_READ)
                    except ssl.SSLWantReadError:
                        break
                    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                        chunk = b""
                    if not chunk:  # the server's close_notify (an empty read), or the socket's end without one
                        self._ended = True
                        break
                    chunks.append(chunk)
                ended = self._ended
                reply = self._outgoing.pending > 0
            if reply:
                self._flush()
            if chunks:
                return b"".join(chunks)
            if ended:
                return b""
            self._feed(self._socket.recv(_READ))  # blocks until the server sends more

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt ``data`` and send it whole."""
        with self._send_lock:
            with self._tls_lock:
                self._tls.write(data)
                records = self._outgoing.read()
            self._socket.sendall(records)

    def fileno(self) -> int:
        """The socket's descriptor, for ``select``."""
        return self._socket.fileno()

    def settimeout(self, timeout: float | None) -> None:
        """Set the socket's timeout for reads and writes."""
        self._socket.settimeout(timeout)

    def setsockopt(self, level: int, option: int, value: int) -> None:
        """Set a socket option."""
        self._socket.setsockopt(level, option, value)

    def getsockname(self) -> Any:
        """The local address."""
        return self._socket.getsockname()

    def getpeername(self) -> Any:
        """The server's address."""
        return self._socket.getpeername()

    def shutdown(self, how: int) -> None:
        """Shut the socket down (no close_notify, as :meth:`ssl.SSLSocket.shutdown`)."""
        self._socket.shutdown(how)

    def close(self) -> None:
        """Close the socket, first waking a :meth:`recv` blocked on it (closing alone does not, on Linux)."""
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()


__all__ = ["LockedTLSContext", "LockedTLSSocket"]

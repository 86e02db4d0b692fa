"""LockedTLSSocket against a TLS 1.3 server on loopback (the server sends session tickets after the handshake)."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dynaclient.testing.certs import TinyCA
from dynaclient.transport.tls_socket import LockedTLSContext, LockedTLSSocket

Serve = Callable[..., LockedTLSSocket]


@pytest.fixture
def authority() -> TinyCA:
    return TinyCA("test-ca")


@pytest.fixture
def client_context(authority: TinyCA) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=authority.cert_pem.decode())
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


@pytest.fixture
def serve(authority: TinyCA, client_context: ssl.SSLContext, tmp_path: Path) -> Iterator[Serve]:
    """Start a one-connection TLS server running ``handler``; return the client's connected LockedTLSSocket."""
    pair = authority.issue("server", ip_addresses=["127.0.0.1"], server=True)
    (tmp_path / "cert.pem").write_bytes(pair.cert_pem)
    (tmp_path / "key.pem").write_bytes(pair.key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    threads: list[threading.Thread] = []
    clients: list[LockedTLSSocket] = []

    def start(handler: Callable[[ssl.SSLSocket], object], context: ssl.SSLContext | None = None) -> LockedTLSSocket:
        def run() -> None:
            connection, _ = listener.accept()
            try:
                tls = server_context.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError):  # the client refused the certificate
                connection.close()
                return
            with tls:
                handler(tls)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        raw = socket.create_connection(listener.getsockname(), timeout=10)
        try:
            client = LockedTLSContext(context or client_context).wrap_socket(raw, server_hostname="127.0.0.1")
        except ssl.SSLError:
            raw.close()
            raise
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test server did not finish"
    listener.close()


def _echo(tls: ssl.SSLSocket) -> None:
    while data := tls.recv(65536):
        tls.sendall(data)


def test_one_thread_reads_while_another_writes_and_every_byte_comes_back(serve: Serve) -> None:
    client = serve(_echo)
    sent = os.urandom(4 * 1024 * 1024)
    received = bytearray()

    def read() -> None:
        while len(received) < len(sent):
            select.select([client], [], [], 10)
            data = client.recv(65536)
            if not data:
                return
            received.extend(data)

    reader = threading.Thread(target=read)
    reader.start()
    view = memoryview(sent)
    for start in range(0, len(sent), 100_003):  # not a multiple of a TLS record
        client.sendall(view[start : start + 100_003])
    reader.join(timeout=30)

    assert not reader.is_alive()
    assert bytes(received) == sent


def test_recv_returns_every_record_that_has_arrived_so_select_never_waits_on_hidden_bytes(serve: Serve) -> None:
    sent = threading.Event()

    def three_records_then_wait(tls: ssl.SSLSocket) -> None:
        for letter in b"abc":
            tls.sendall(bytes([letter]) * 10_000)
        sent.set()
        tls.recv(1)  # until the client closes

    client = serve(three_records_then_wait)
    assert sent.wait(10)
    data = b""
    while len(data) < 30_000:
        readable, _, _ = select.select([client], [], [], 10)
        assert readable, f"select saw nothing more after {len(data)} bytes"
        data += client.recv(1024)  # less than what has arrived: recv returns it all anyway

    assert data == b"a" * 10_000 + b"b" * 10_000 + b"c" * 10_000


def test_what_the_server_sends_right_after_the_handshake_makes_the_socket_readable(serve: Serve) -> None:
    client = serve(lambda tls: (tls.sendall(b"first"), tls.recv(1)))

    readable, _, _ = select.select([client], [], [], 10)

    assert readable
    assert client.recv(65536) == b"first"


def test_the_servers_close_notify_is_the_end_of_the_stream(serve: Serve) -> None:
    def bye(tls: ssl.SSLSocket) -> None:
        tls.sendall(b"bye")
        with contextlib.suppress(ssl.SSLError):  # unwrap then waits for the client's close_notify, which never comes
            tls.unwrap()

    client = serve(bye)

    data = b""
    while chunk := client.recv(65536):
        data += chunk

    assert data == b"bye"
    assert client.recv(65536) == b""


def test_close_wakes_a_thread_blocked_in_recv(serve: Serve) -> None:
    client = serve(lambda tls: tls.recv(1))
    outcome: list[bytes | OSError] = []

    def blocked() -> None:
        try:
            outcome.append(client.recv(65536))
        except OSError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=blocked)
    reader.start()
    client.close()
    reader.join(timeout=10)

    assert not reader.is_alive()
    assert outcome[0] == b"" or isinstance(outcome[0], OSError)


def test_a_server_the_context_does_not_trust_fails_the_handshake(serve: Serve) -> None:
    stranger = ssl.create_default_context(cadata=TinyCA("another-ca").cert_pem.decode())

    with pytest.raises(ssl.SSLCertVerificationError):
        serve(lambda tls: None, stranger)


def test_a_server_that_hangs_up_in_the_middle_of_a_record_fails_the_handshake(client_context: ssl.SSLContext) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    raw = socket.create_connection(listener.getsockname(), timeout=10)
    server_side, _ = listener.accept()
    server_side.sendall(b"\x16\x03")  # two bytes of a record header, then the end
    server_side.close()

    with pytest.raises(ssl.SSLEOFError):  # at once: not the socket's 10 s timeout (a TimeoutError)
        LockedTLSContext(client_context).wrap_socket(raw, server_hostname="127.0.0.1")
    raw.close()
    listener.close()

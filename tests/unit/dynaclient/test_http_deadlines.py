"""The HTTP transport against a misbehaving loopback server: a stall mid-body is a timeout, and a server dripping one
byte at a time cannot hold a request past its timeout."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from dynaclient.exceptions import TransportTimeout
from dynaclient.request import Request
from dynaclient.transport.http import HTTPTransport

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """Serve one connection on 127.0.0.1 with the given behaviour; yield a function returning the URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(behave: Callable[[socket.socket], None]) -> str:
        def run() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                with contextlib.suppress(OSError):  # the client aborted the connection
                    behave(connection)
                stop.wait(10)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    stop.set()
    listener.close()


def test_a_stall_in_the_middle_of_the_body_is_a_transport_timeout(server: Callable[..., str]) -> None:
    # Before: requests reported the mid-body read timeout as a ConnectionError, and so did dynaclient (ConnectError).
    url = server(lambda connection: connection.sendall(HEAD + b'{"kind":'))
    response = HTTPTransport(url).send(Request("GET", "/api", timeout=0.5))

    with pytest.raises(TransportTimeout):
        response.read()


def test_a_server_dripping_bytes_cannot_hold_a_request_past_its_timeout(server: Callable[..., str]) -> None:
    # Before: each read got the whole timeout again, so 1 byte every 0.2 s held a 1 s request for 200 s.
    def drip(connection: socket.socket) -> None:
        connection.sendall(HEAD)
        for _ in range(1000):
            connection.sendall(b" ")
            time.sleep(0.2)  # the misbehaving server's pace, not test synchronisation

    url = server(drip)
    started = time.monotonic()
    response = HTTPTransport(url).send(Request("GET", "/api", timeout=1.0))

    with pytest.raises(TransportTimeout, match=r"did not complete within 1\.0s"):
        response.read()
    assert time.monotonic() - started < 3.0

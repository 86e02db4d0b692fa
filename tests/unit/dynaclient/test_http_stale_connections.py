"""The HTTP transport against a loopback server that closes kept-alive connections when their next request comes.

That is the race every keep-alive client meets: the server (or a load balancer) drops an idle connection just as the
client sends on it. Go's transport sends a replayable request again on another connection; so do we.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from dynaclient.exceptions import TransportError
from dynaclient.request import Request
from dynaclient.transport.http import HTTPTransport
from tests.loopback_http import LoopbackServer


class ClosingServer(LoopbackServer):
    """Answers the first request of each connection with keep-alive and closes the connection on the second.

    Thread-safety: thread-safe (counters under the lock; read them after the requests returned).
    """

    def __init__(self) -> None:
        self.answered: list[str] = []
        super().__init__()

    def serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as reader:
            for turn in range(2):
                request_line = reader.readline().decode()
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                reader.read(length)
                if turn == 1 or not request_line:
                    return  # closed with the request unanswered
                with self.lock:
                    self.answered.append(request_line.split(" ")[0])
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


@pytest.fixture
def server() -> Iterator[ClosingServer]:
    closing = ClosingServer()
    yield closing
    closing.close()


def test_a_get_on_a_connection_the_server_closed_is_sent_again_on_a_new_one(server: ClosingServer) -> None:
    transport = HTTPTransport(server.url)
    for _ in range(3):
        assert transport.send(Request("GET", "/api/v1/namespaces", timeout=5.0)).read() == b"{}"
    assert server.answered == ["GET", "GET", "GET"]
    assert server.connections == 3  # the second and third GETs each found their pooled connection closed
    transport.close()


def test_a_request_with_a_body_on_a_connection_the_server_closed_is_not_sent_again(server: ClosingServer) -> None:
    transport = HTTPTransport(server.url)
    assert transport.send(Request("GET", "/api/v1/namespaces", timeout=5.0)).read() == b"{}"
    with pytest.raises(TransportError):
        transport.send(Request("POST", "/api/v1/namespaces", body=b"{}", timeout=5.0))
    assert server.answered == ["GET"]  # the server may have acted on the POST: only the caller can decide to resend
    transport.close()

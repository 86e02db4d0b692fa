"""A TCP echo server on loopback, for the port-forward tests to serve as a pod's port."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def serve_echo() -> Iterator[int]:
    """Echo every connection to a loopback port until the block ends; yield the port.

    Its threads are named ``test-echo*``: a connection's thread ends when the peer closes, on its own schedule, so
    checks for threads left behind (``no_thread_left`` in pod_streams_rig.py) leave them out.
    """
    server = socket.create_server(("127.0.0.1", 0))

    def echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(262144):
                connection.sendall(data)

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(connection,), name="test-echo", daemon=True).start()

    acceptor = threading.Thread(target=serve, name="test-echo-accept", daemon=True)
    acceptor.start()
    try:
        yield server.getsockname()[1]
    finally:
        server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close() alone does not on Linux)
        server.close()
        acceptor.join(5)

"""A loopback TCP server for transport unit tests: it accepts connections and hands each to a thread of its own.

Subclasses say what is sent on a connection (HTTP/1.1 framing only); everything a Kubernetes API server does is
tested against the real one in tests/integration.
"""

from __future__ import annotations

import socket
import threading


class LoopbackServer:
    """Accepts connections on 127.0.0.1 and serves each in a daemon thread with :meth:`serve`.

    Thread-safety: thread-safe (the connection count under :attr:`lock`; read it after the requests returned).
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.lock = threading.Lock()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection: socket.socket) -> None:
        """Serve one accepted connection (it is closed by the subclass)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop accepting connections."""
        self._listener.close()

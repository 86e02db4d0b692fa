"""A loopback TCP proxy that paces the bytes it forwards: a link of limited bandwidth, for the compression cases.

``python -m bench.pacing_proxy --upstream 127.0.0.1:6443 --megabits 100`` listens on a free loopback port, prints it
on one line, and forwards every connection to the upstream (TLS passes through untouched). Both directions share
one link budget of ``megabits`` per second, as a single network path would; bytes are released in 16 KiB slices,
each no earlier than the link has carried the previous ones. Runs until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time

SLICE = 16 * 1024


class Link:
    """The shared bandwidth budget: :meth:`take` returns when ``size`` more bytes may cross.

    Thread-safety: thread-safe (one lock around the link's clock).
    """

    def __init__(self, bytes_per_second: float) -> None:
        self._rate = bytes_per_second
        self._free_at = 0.0
        self._lock = threading.Lock()

    def take(self, size: int) -> None:
        """Wait until the link has carried ``size`` bytes after everything taken before."""
        with self._lock:
            now = time.monotonic()
            self._free_at = max(self._free_at, now) + size / self._rate
            wait = self._free_at - now
        if wait > 0:
            time.sleep(wait)


def _pump(source: socket.socket, sink: socket.socket, link: Link) -> None:
    try:
        while data := source.recv(SLICE):
            link.take(len(data))
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _serve(client: socket.socket, upstream: tuple[str, int], link: Link) -> None:
    try:
        server = socket.create_connection(upstream)
    except OSError:
        client.close()
        return
    for sock in (client, server):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=_pump, args=(client, server, link), daemon=True).start()
    _pump(server, client, link)


def main(argv: list[str] | None = None) -> int:
    """Listen, print the port, forward connections paced until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="host:port to forward to")
    parser.add_argument("--megabits", type=float, required=True, help="link bandwidth in megabits per second")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    link = Link(args.megabits * 1e6 / 8)
    listener = socket.create_server(("127.0.0.1", 0))
    sys.stdout.write(f"{listener.getsockname()[1]}\n")
    sys.stdout.flush()
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve, args=(client, (host.strip("[]"), int(port)), link), daemon=True).start()


if __name__ == "__main__":
    raise SystemExit(main())

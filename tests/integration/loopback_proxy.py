"""A TCP proxy on loopback in front of the API server that cuts, freezes or swallows connections, and clients
whose every connection goes through it: for tests of what clients do when the network misbehaves."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import struct
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from dynaclient import Discovery, DynamicClient, RESTMapper, client_from_config, load_kubeconfig
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster


class LoopbackProxy:
    """A TCP proxy on 127.0.0.1 in front of the API server that cuts, freezes or swallows connections.

    * :meth:`cut` resets every open connection (RST), as a dropped link or a restarted load balancer does;
    * :meth:`freeze` black-holes every open connection for good: the sockets stay open and whatever either side
      sends is dropped, as a hung middlebox or a half-dead peer does; later connections pass;
    * ``swallowing`` makes new connections reach nothing: they are accepted and what the client sends is
      dropped, so its request never gets response headers.

    TLS passes through untouched (the client still verifies the server's certificate for 127.0.0.1).

    Thread-safety: thread-safe.
    """

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self._upstream = (target.hostname or "127.0.0.1", target.port or 443)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._links: list[tuple[socket.socket, socket.socket | None, threading.Event]] = []
        self.swallowing = False
        self.cuts = self.freezes = 0
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def cut(self) -> int:
        """Reset every open connection; return how many there were."""
        with self._lock:
            links, self._links = self._links, []
            self.cuts += 1
        for client, server, _ in links:
            for sock in (client, server):
                if sock is not None:
                    _reset(sock)
        return len(links)

    def freeze(self) -> int:
        """Black-hole every open connection for good; return how many there were."""
        with self._lock:
            links = list(self._links)
            self.freezes += 1
        for _, _, frozen in links:
            frozen.set()
        return len(links)

    def close(self) -> None:
        """Stop accepting and reset every connection."""
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            frozen = threading.Event()
            server = None
            if self.swallowing:
                frozen.set()
            else:
                try:
                    server = socket.create_connection(self._upstream, timeout=5)
                    server.settimeout(None)
                except OSError:
                    client.close()  # the API server is restarting: refused, like it
                    continue
            with self._lock:
                self._links.append((client, server, frozen))
            threading.Thread(target=_pump, args=(client, server, frozen), daemon=True).start()
            if server is not None:
                threading.Thread(target=_pump, args=(server, client, frozen), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket | None, frozen: threading.Event) -> None:
    """Copy ``source`` to ``sink`` until either closes; once ``frozen``, read and drop."""
    try:
        while data := source.recv(65536):
            if sink is not None and not frozen.is_set():
                sink.sendall(data)
    except OSError:
        pass
    for sock in (source, sink):
        if sock is not None:
            _reset(sock)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)  # wakes a pump blocked reading it
    with contextlib.suppress(OSError):
        sock.close()


@pytest.fixture
def proxy(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[LoopbackProxy]:
    """A loopback proxy in front of the session's API server."""
    loopback = LoopbackProxy(load_kubeconfig(kube_apiserver.kubeconfig_path).server)
    yield loopback
    loopback.close()


def client_through(proxy: LoopbackProxy, kube_apiserver: ControlPlane | ExistingCluster) -> DynamicClient:
    """A client of its own whose every connection goes through ``proxy`` (close its ``api_client`` after)."""
    config = load_kubeconfig(kube_apiserver.kubeconfig_path)
    host = urlsplit(config.server).hostname
    api = client_from_config(
        dataclasses.replace(config, server=proxy.url, tls_server_name=config.tls_server_name or host)
    )
    return DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False)))


__all__ = ["LoopbackProxy", "client_through", "proxy"]

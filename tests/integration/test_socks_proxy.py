"""A kubeconfig ``proxy-url: socks5://`` reaches the real server through a SOCKS5 proxy on loopback.

Before: the loader accepted socks5 and the transport refused it ("scheme is not supported").
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dynaclient import client_from_config, load_kubeconfig
from dynaclient.testing import ControlPlane


class Socks5Proxy:
    """A minimal SOCKS5 proxy (RFC 1928: no authentication, CONNECT only) recording the destinations asked for.

    Thread-safety: ``destinations`` is appended by connection threads and read after the requests.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socks5://127.0.0.1:{self._listener.getsockname()[1]}"
        self.destinations: list[tuple[str, int]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            _, methods = client.recv(2)
            client.recv(methods)
            client.sendall(b"\x05\x00")  # no authentication
            kind = client.recv(4)[3]  # version, command (CONNECT), reserved, address type
            # 3: a host name (the proxy resolves it, as Go's dialer asks); 1: an IPv4 address.
            host = client.recv(client.recv(1)[0]).decode() if kind == 3 else socket.inet_ntoa(client.recv(4))
            (port,) = struct.unpack("!H", client.recv(2))
            self.destinations.append((host, port))
            with socket.create_connection((host, port)) as upstream:
                client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", port))
                pump = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
                pump.start()
                _copy(client, upstream)
                pump.join(5)


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


@pytest.fixture
def socks_proxy() -> Iterator[Socks5Proxy]:
    proxy = Socks5Proxy()
    yield proxy
    proxy.close()


def test_a_socks5_proxy_url_carries_the_requests_to_the_server(
    kube_apiserver: ControlPlane, socks_proxy: Socks5Proxy, tmp_path: Path
) -> None:
    config = yaml.safe_load(kube_apiserver.kubeconfig_path.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["proxy-url"] = socks_proxy.url
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))

    with client_from_config(load_kubeconfig(path)) as client:
        assert client.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"

    port = int(kube_apiserver.server_url.rsplit(":", 1)[1])
    assert socks_proxy.destinations[0] == ("127.0.0.1", port)

"""The HTTP transport against a loopback socket that accepts connections and never answers: bounds and cancellation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests.adapters

import dynaclient.transport.http as http_transport
from dynaclient.exceptions import RequestCancelled, TransportTimeout
from dynaclient.request import Cancellation, Request
from dynaclient.transport.http import HTTPTransport


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections are accepted, then never read from or answered (nor the TLS handshake)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_cancellation_interrupts_the_wait_for_response_headers_and_the_tls_handshake(
    silent_port: int, scheme: str
) -> None:
    transport = HTTPTransport(f"{scheme}://127.0.0.1:{silent_port}", insecure_skip_tls_verify=True)
    cancellation = Cancellation()
    threading.Timer(0.2, cancellation.cancel).start()
    started = time.monotonic()
    with pytest.raises(RequestCancelled):
        transport.send(Request("GET", "/api/v1/pods", timeout=30.0, cancellation=cancellation))
    assert time.monotonic() - started < 5.0
    transport.close()


def test_a_watch_waits_for_its_response_headers_only_so_long(silent_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_transport, "STREAM_HEADER_TIMEOUT", 0.3)
    transport = HTTPTransport(f"http://127.0.0.1:{silent_port}")
    with pytest.raises(TransportTimeout, match=r"GET /api/v1/pods: timed out after 0\.3s"):
        transport.send(Request("GET", "/api/v1/pods", query=(("watch", "true"),), expect="stream"))
    transport.close()


def test_the_default_header_bound_of_a_watch_is_well_under_a_minute() -> None:
    assert 0 < http_transport.STREAM_HEADER_TIMEOUT <= 30.0


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_connection_keeps_alive_with_probes_that_notice_a_dead_peer_within_about_a_minute(scheme: str) -> None:
    transport = HTTPTransport(f"{scheme}://127.0.0.1:1", insecure_skip_tls_verify=True)
    adapter = transport._session.get_adapter(f"{scheme}://127.0.0.1:1")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    options = adapter.poolmanager.connection_pool_kw["socket_options"]
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in options
    assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in options  # urllib3's default is kept
    if hasattr(socket, "TCP_KEEPIDLE"):
        assert (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 30) in options
        idle, interval, probes = 30, 10, 3
        assert idle + interval * probes <= 60
    transport.close()

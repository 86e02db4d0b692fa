"""Port-forward to pods on kwok nodes: single streams, the forwarder, and kubectl's forward on the same pod."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import pytest

from dynaclient import PortForwardError
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane
from tests.integration.cluster_rig import KUBECTL
from tests.integration.pod_streams_rig import POD, no_thread_left


def _round_trip(send: Callable[[bytes], None], receive: Callable[[int], bytes], data: bytes) -> bytes:
    sender = threading.Thread(target=send, args=(data,))
    sender.start()
    received = bytearray()
    while len(received) < len(data):
        chunk = receive(1 << 20)
        assert chunk, f"the connection ended after {len(received)} of {len(data)} bytes"
        received += chunk
    sender.join(60)
    return bytes(received)


@pytest.mark.timeout(180)
def test_port_stream_round_trips_100_mb(streams: Any, echo_port: int) -> None:
    data = os.urandom(1 << 20) * 100
    with no_thread_left(), streams.connect_port(POD, 8080) as stream:
        assert _round_trip(stream.sendall, stream.recv, data) == data


@pytest.mark.timeout(180)
def test_port_forwarder_100_mb_and_20_concurrent_connections(streams: Any, echo_port: int) -> None:
    with no_thread_left():
        forwarder = streams.port_forward(POD, [":8080", ":8081"])
        with forwarder:
            local = forwarder.ports[8080]
            big = os.urandom(1 << 20) * 100
            with socket.create_connection(("127.0.0.1", local)) as connection:
                assert _round_trip(connection.sendall, connection.recv, big) == big
            results: dict[int, bool] = {}

            def one(index: int) -> None:
                data = os.urandom(1 << 20) + bytes([index]) * 1000
                port = forwarder.ports[8080 + index % 2]
                with socket.create_connection(("127.0.0.1", port)) as connection:
                    results[index] = _round_trip(connection.sendall, connection.recv, data) == data

            workers = [threading.Thread(target=one, args=(i,)) for i in range(20)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(120)
            assert results == dict.fromkeys(range(20), True)
            assert forwarder.errors == []
        with pytest.raises(OSError):  # noqa: PT011 - closed: the kernel refuses, in its own words
            socket.create_connection(("127.0.0.1", local), timeout=2)


def test_port_without_a_forward_is_a_typed_error(streams: Any, echo_port: int) -> None:
    with no_thread_left(), streams.connect_port(POD, 9999) as stream:
        with pytest.raises(PortForwardError, match="port 9999"):
            stream.recv()
        assert stream.recv() == b""


def test_kubectl_port_forward_agrees(cluster: ControlPlane, pods: ResourceClient, echo_port: int, streams: Any) -> None:
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", "-n", pods.namespace_name, "port-forward", POD]
    forward = subprocess.Popen([*argv, ":8080"], stdout=subprocess.PIPE, text=True)
    try:
        assert forward.stdout is not None
        match = re.search(r"127\.0\.0\.1:(\d+) -> 8080", forward.stdout.readline())
        assert match
        data = os.urandom(1 << 20)
        with (
            socket.create_connection(("127.0.0.1", int(match.group(1)))) as theirs,
            streams.connect_port(POD, 8080) as ours,
        ):
            assert _round_trip(theirs.sendall, theirs.recv, data) == _round_trip(ours.sendall, ours.recv, data)
    finally:
        forward.kill()
        forward.wait(10)
        if forward.stdout is not None:
            forward.stdout.close()

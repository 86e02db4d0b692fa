"""Every pod stream ends with a typed error when its connection drops, leaving no thread or task behind."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from dynaclient import DynamicClient, StreamClosedError, TransportError, client_from_config, load_kubeconfig
from dynaclient.aio import AsyncDynamicClient
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane
from tests.integration.flavours import BlockingPodStreams, LoopThread
from tests.integration.loopback_proxy import LoopbackProxy
from tests.integration.pod_streams_rig import POD, no_thread_left


@contextlib.contextmanager
def nothing_left(loop: LoopThread | None) -> Iterator[None]:
    """No thread started inside is left once it ends, nor, given the asyncio client's loop, a task of that loop."""

    async def tasks() -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - {asyncio.current_task()}

    before = loop.run(tasks()) if loop is not None else set()
    with no_thread_left():
        yield
    if loop is None:
        return
    deadline = time.monotonic() + 5
    while (left := loop.run(tasks()) - before) and time.monotonic() < deadline:
        time.sleep(0.02)  # cancelled tasks finish on the loop's next turns
    assert not left, f"tasks left behind: {left}"


@pytest.fixture
def through_proxy(
    cluster: ControlPlane, pods: ResourceClient, flavour: str, event_loop_thread: LoopThread
) -> Iterator[tuple[LoopbackProxy, Any, LoopThread | None]]:
    """A loopback proxy in front of the real API server (no fake server) and the flavour's pod streams through it."""
    config = load_kubeconfig(cluster.kubeconfig_path)
    proxy = LoopbackProxy(config.server)
    through = dataclasses.replace(config, server=proxy.url, tls_server_name=urlsplit(config.server).hostname)
    if flavour == "sync":
        api_client = client_from_config(through)
        yield proxy, DynamicClient.from_api_client(api_client).resource("pods").namespace(pods.namespace_name), None
        api_client.close()
    else:
        client = AsyncDynamicClient.from_config(through)
        resource = event_loop_thread.run(client.resource("pods")).namespace(pods.namespace_name)
        yield proxy, BlockingPodStreams(event_loop_thread, resource), event_loop_thread
        event_loop_thread.run(client.aclose())
    proxy.close()


def test_a_dropped_connection_ends_every_stream_with_a_typed_error(
    through_proxy: tuple[LoopbackProxy, Any, LoopThread | None], log_file: Path, echo_port: int
) -> None:
    proxy, streams, loop = through_proxy
    with nothing_left(loop):
        session = streams.exec_stream(POD, ["sleep", "30"])
        stream = streams.connect_port(POD, 8080)
        stream.sendall(b"ping")
        assert stream.recv() == b"ping"
        log = streams.logs(POD, follow=True, tail_lines=1)
        lines = iter(log)
        assert next(lines) == "new line 4"
        assert proxy.cut() >= 3  # the log, the exec and the port-forward (and any pooled connection)
        with pytest.raises(StreamClosedError, match="connection was lost"):
            session.wait(timeout=30)
        with pytest.raises(StreamClosedError, match="connection was lost"):
            stream.recv()
        with pytest.raises(TransportError):
            next(lines)
        session.close()
        stream.close()
        log.close()

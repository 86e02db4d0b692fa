"""The pod-streams tests' rig: a namespace with the kwok pod ``app``, the clients whose streams a scenario runs,
the pod's log and echo port, and kubectl on the same pods (fixtures re-exported by conftest.py).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dynaclient import BadRequestError, DynamicClient, client_from_config, load_kubeconfig
from dynaclient.aio import AsyncDynamicClient
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.kwok import cri_log_line
from tests.integration.cluster_rig import KUBECTL
from tests.integration.echo import serve_echo
from tests.integration.flavours import BlockingPodStreams, LoopThread

POD = "app"


@pytest.fixture(scope="module")
def client(cluster: ControlPlane) -> Iterator[DynamicClient]:
    with DynamicClient.from_api_client(client_from_config(load_kubeconfig(cluster.kubeconfig_path))) as dynamic:
        yield dynamic


def _wait_running(pods: ResourceClient, name: str) -> None:
    deadline = time.monotonic() + 30
    while pods.get(name).get("status", {}).get("phase") != "Running":
        assert time.monotonic() < deadline, f"pod {name} did not become Running"
        time.sleep(0.05)  # kwok runs in another process: poll it


def _create_pod(pods: ResourceClient, name: str) -> None:
    container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    pods.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}})
    _wait_running(pods, name)


@pytest.fixture(scope="module")
def pods(client: DynamicClient) -> Iterator[ResourceClient]:
    namespace = f"streams-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": namespace}})
    bound = client.resource("pods").namespace(namespace)
    _create_pod(bound, POD)
    yield bound
    client.request("DELETE", f"/api/v1/namespaces/{namespace}")


@pytest.fixture(scope="module")
def async_pods(
    cluster: ControlPlane, pods: ResourceClient, event_loop_thread: LoopThread
) -> Iterator[BlockingPodStreams]:
    """The asyncio client's pods in the same namespace, used from the test's thread (tests/integration/flavours.py)."""
    client = AsyncDynamicClient.from_config(load_kubeconfig(cluster.kubeconfig_path))
    resource = event_loop_thread.run(client.resource("pods"))
    yield BlockingPodStreams(event_loop_thread, resource.namespace(pods.namespace_name))
    event_loop_thread.run(client.aclose())


@pytest.fixture
def streams(flavour: str, pods: ResourceClient, async_pods: BlockingPodStreams) -> Any:
    """Whose logs, exec, attach and port-forward a scenario runs: the threaded client's or the asyncio one's."""
    return pods if flavour == "sync" else async_pods


def kubectl(cluster: ControlPlane, pods: Any, *args: str, stdin: bytes | None = None) -> Any:
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", "-n", pods.namespace_name, *args]
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=60, check=False)


@contextlib.contextmanager
def no_thread_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5

    def ours() -> set[threading.Thread]:  # the tests' own echo servers and relays end on their own schedule
        return {t for t in set(threading.enumerate()) - before if not t.name.startswith("test-")}

    while (left := ours()) and time.monotonic() < deadline:
        time.sleep(0.02)  # library threads finish their last step after close() returns
    assert not left, f"threads left behind: {left}"


NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
OLD = NOW - datetime.timedelta(hours=2)


@pytest.fixture(scope="module")
def log_file(cluster: ControlPlane, pods: ResourceClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "app.log"
    old = [cri_log_line(f"old line {i} ünïcode", time=OLD + datetime.timedelta(seconds=i)) for i in range(5)]
    new = [cri_log_line(f"new line {i}", time=NOW + datetime.timedelta(seconds=i)) for i in range(5)]
    path.write_text("".join([*old, cri_log_line("from stderr", stream="stderr", time=NOW), *new]))
    cluster.serve_pod_logs(pods.namespace_name, POD, path)
    _wait_served(pods, POD)
    return path


def _wait_served(pods: ResourceClient, name: str) -> None:
    """Wait until kwok, which watches its Logs objects from another process, serves the pod's log."""
    deadline = time.monotonic() + 30
    while True:
        try:
            pods.logs(name, limit_bytes=1).read()
            return
        except BadRequestError as exc:
            if "no logs found" not in exc.message:
                raise
            assert time.monotonic() < deadline, f"kwok did not serve the log of {name}"
            time.sleep(0.05)  # kwok runs in another process: poll it


@pytest.fixture(scope="module")
def echo_port(cluster: ControlPlane, pods: ResourceClient) -> Iterator[int]:
    """A local echo server, served as port 8080 (and 8081) of the pod."""
    with serve_echo() as port:
        cluster.serve_pod_port_forward(pods.namespace_name, POD, {8080: port, 8081: port})
        yield port

"""Pod streams against the plain control plane: pods without a node, and what each transport supports."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator

import pytest

from dynaclient import (
    BadRequestError,
    DynamicClient,
    KubectlProxyRefusedError,
    NotFoundError,
    PodNotRunningError,
    UnsupportedRequestError,
    kubectl_proxy_client,
    kubectl_raw_client,
)
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster

KUBECTL = "/usr/bin/kubectl"


def _unscheduled_pod(pods: ResourceClient, name: str) -> None:
    pods.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [
        {"name": "app", "image": "example.invalid/app"}]}})  # fmt: skip


@pytest.fixture
def pods(dynamic_client: DynamicClient, namespace: str) -> ResourceClient:
    return dynamic_client.resource("pods").namespace(namespace)


def test_pod_without_node_is_not_running(pods: ResourceClient) -> None:
    _unscheduled_pod(pods, "waiting")
    with pytest.raises(PodNotRunningError, match="not scheduled"):
        pods.logs("waiting")
    with pytest.raises(PodNotRunningError, match="does not have a host assigned"):
        pods.exec("waiting", ["true"])
    with pytest.raises(PodNotRunningError, match="does not have a host assigned"):
        pods.connect_port("waiting", 80)
    with pytest.raises(NotFoundError):
        pods.logs("missing")
    with pytest.raises(NotFoundError):
        pods.exec("missing", ["true"])


def test_bad_container_name_is_a_typed_error(pods: ResourceClient) -> None:
    _unscheduled_pod(pods, "one")
    with pytest.raises(BadRequestError, match="container nope is not valid"):
        pods.logs("one", container="nope")
    with pytest.raises(BadRequestError, match="container nope is not valid"):
        pods.exec("one", ["true"], container="nope")


def test_streams_on_other_resources_are_refused(dynamic_client: DynamicClient, namespace: str) -> None:
    with pytest.raises(ValueError, match="pod subresource; this client is for configmaps"):
        dynamic_client.resource("configmaps").namespace(namespace).logs("x")


@pytest.fixture
def kubectl_proxy(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[str]:
    """A ``kubectl proxy`` on a free port with its default filters."""
    process = subprocess.Popen(
        [KUBECTL, "proxy", "--port=0", f"--kubeconfig={kube_apiserver.kubeconfig_path}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "Starting to serve on 127.0.0.1:NNNNN"
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, line
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_kubectl_proxy_refuses_exec_and_attach_but_forwards_ports(
    kubectl_proxy: str, pods: ResourceClient, dynamic_client: DynamicClient
) -> None:
    _unscheduled_pod(pods, "proxied")
    with kubectl_proxy_client(kubectl_proxy) as api_client:
        proxied = DynamicClient.from_api_client(api_client).resource("pods").namespace(pods.namespace_name)
        with pytest.raises(KubectlProxyRefusedError, match="kubectl proxy refuses exec by default") as refused:
            proxied.exec("proxied", ["true"])
        assert refused.value.code == 403
        with pytest.raises(KubectlProxyRefusedError, match="refuses attach"):
            proxied.attach("proxied")
        # Port-forward is not filtered: the upgrade reaches the apiserver, which answers for the pod.
        with pytest.raises(PodNotRunningError, match="does not have a host assigned"):
            proxied.connect_port("proxied", 80)
        with pytest.raises(PodNotRunningError, match="not scheduled"):
            proxied.logs("proxied")


def test_kubectl_raw_carries_logs_but_not_websockets(
    kube_apiserver: ControlPlane | ExistingCluster, pods: ResourceClient
) -> None:
    _unscheduled_pod(pods, "raw")
    before = threading.active_count()
    with kubectl_raw_client(kube_apiserver.kubeconfig_path, kubectl=KUBECTL) as api_client:
        # (Discovery over kubectl --raw is another matter: reuse the resource the main client discovered.)
        raw = ResourceClient(api_client, pods.api_resource, namespace=pods.namespace_name)
        with pytest.raises(UnsupportedRequestError, match="cannot open WebSockets"):
            raw.exec("raw", ["true"])
        with pytest.raises(UnsupportedRequestError, match="cannot open WebSockets"):
            raw.connect_port("raw", 80)
        with pytest.raises(BadRequestError, match="container nope is not valid"):
            raw.logs("raw", container="nope")
    assert threading.active_count() == before

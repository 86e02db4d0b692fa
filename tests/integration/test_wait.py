"""wait_for and wait_for_deletion against a real kube-apiserver: CRDs, conditions set late, null conditions."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dynaclient import DynamicClient, ResourceClient
from dynaclient.exceptions import ResourceNotFoundError, WaitTimeoutError
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.wait import condition_true, crd_established, is_created, stream


def crd_body(group: str, kind: str = "Gadget") -> dict[str, Any]:
    plural = kind.lower() + "s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


@pytest.fixture
def crds(dynamic_client: DynamicClient) -> ResourceClient:
    return dynamic_client.resource("customresourcedefinitions")


@pytest.fixture
def gadget_crd(crds: ResourceClient) -> Iterator[dict[str, Any]]:
    body = crd_body(f"w{uuid.uuid4().hex[:8]}.example.com")
    crds.create(body)
    yield body
    crds.delete(body["metadata"]["name"])


def served(client: DynamicClient, resource: str) -> ResourceClient:
    """Resolve ``resource``; discovery may lag a moment behind the CRD's Established condition."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return client.resource(resource)
        except ResourceNotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def later(seconds: float, action: Any) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)  # the action must happen while the wait is under way, not before it starts
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_crd_established_returns_as_soon_as_the_server_reports_it(crds: ResourceClient) -> None:
    body = crd_body(f"e{uuid.uuid4().hex[:8]}.example.com")
    started = time.monotonic()
    crds.create(body)
    try:
        crd = crds.wait_for(body["metadata"]["name"], crd_established, 30)
        assert crd is not None
        assert time.monotonic() - started < 5
        assert any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"])
    finally:
        crds.delete(body["metadata"]["name"])


def test_null_conditions_wait_until_a_condition_is_written(
    dynamic_client: DynamicClient, gadget_crd: dict[str, Any], namespace: str
) -> None:
    crds = dynamic_client.resource("customresourcedefinitions")
    crds.wait_for(gadget_crd["metadata"]["name"], crd_established, 30)
    group = gadget_crd["spec"]["group"]
    gadgets = served(dynamic_client, f"gadgets.{group}").namespace(namespace)
    gadget = gadgets.create({"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g"}})
    gadget["status"] = {"conditions": None}
    gadgets.update_status(gadget)
    ready = condition_true("Ready")
    with pytest.raises(
        WaitTimeoutError, match=r"condition Ready on gadgets/g in namespace \S+ \(last state: no status reported\)"
    ):
        gadgets.wait_for("g", ready, 1)

    def set_ready() -> None:
        current = gadgets.get("g")
        current["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "observedGeneration": 1}
        gadgets.update_status(current)

    thread = later(0.5, set_ready)
    found = gadgets.wait_for("g", ready, 30)
    thread.join()
    assert found is not None
    assert found["status"]["conditions"][0]["type"] == "Ready"


def test_observed_generation_behind_is_not_ready(
    dynamic_client: DynamicClient, gadget_crd: dict[str, Any], namespace: str
) -> None:
    dynamic_client.resource("customresourcedefinitions").wait_for(gadget_crd["metadata"]["name"], crd_established, 30)
    group = gadget_crd["spec"]["group"]
    gadgets = served(dynamic_client, f"gadgets.{group}").namespace(namespace)
    gadgets.create({"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": 1}})
    current = gadgets.get("g")
    current["status"] = {"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}]}
    gadgets.update_status(current)
    gadgets.patch("g", {"spec": {"size": 2}})  # generation 2; the Ready condition describes generation 1
    with pytest.raises(WaitTimeoutError):
        gadgets.wait_for("g", condition_true("Ready"), 1)


def test_wait_for_creation_and_deletion(dynamic_client: DynamicClient, namespace: str) -> None:
    configmaps = dynamic_client.resource("configmaps").namespace(namespace)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    thread = later(0.3, lambda: configmaps.create(body))
    created = configmaps.wait_for("c", is_created, 30)
    thread.join()
    assert created is not None
    assert created["metadata"]["name"] == "c"
    thread = later(0.3, lambda: configmaps.delete("c"))
    configmaps.wait_for_deletion("c", 30)
    thread.join()
    configmaps.wait_for_deletion("c", 1)  # already gone: returns at once


def test_wait_for_deletion_times_out_naming_the_object(dynamic_client: DynamicClient, namespace: str) -> None:
    configmaps = dynamic_client.resource("configmaps").namespace(namespace)
    configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stays"}})
    with pytest.raises(WaitTimeoutError, match="deletion on configmaps/stays") as caught:
        configmaps.wait_for_deletion("stays", 1)
    assert caught.value.last is not None


def data_ready(obj: dict[str, Any] | None) -> bool:
    return obj is not None and (obj.get("data") or {}).get("ready") == "yes"


def test_the_wait_resumes_after_the_server_ends_its_watches(
    dynamic_client: DynamicClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "WATCH_TIMEOUT_SECONDS", 1)  # the server ends every watch after a second
    configmaps = dynamic_client.resource("configmaps").namespace(namespace)
    configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    thread = later(2.5, lambda: configmaps.patch("c", {"data": {"ready": "yes"}}))
    found = configmaps.wait_for("c", data_ready, 30)
    thread.join()
    assert found is not None
    assert found["data"]["ready"] == "yes"


def test_the_wait_survives_an_apiserver_restart_and_a_compacted_history(
    kube_apiserver: ControlPlane | ExistingCluster, dynamic_client: DynamicClient, namespace: str
) -> None:
    if isinstance(kube_apiserver, ExistingCluster):
        pytest.skip("restarts the local control plane's apiserver")
    configmaps = dynamic_client.resource("configmaps").namespace(namespace)
    configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    results: list[dict[str, Any] | None] = []
    waiter = threading.Thread(target=lambda: results.append(configmaps.wait_for("c", data_ready, 60)))
    waiter.start()
    time.sleep(0.5)  # the wait is watching
    kube_apiserver.restart_apiserver()
    configmaps.patch("c", {"data": {"other": "x"}})
    kube_apiserver.compact_etcd()  # the wait's resourceVersion is now history
    configmaps.patch("c", {"data": {"ready": "yes"}})
    waiter.join(60)
    assert not waiter.is_alive()
    assert results[0] is not None
    assert results[0]["data"] == {"other": "x", "ready": "yes"}

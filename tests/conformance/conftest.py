"""The conformance suite's ``cluster`` fixture: each test runs on the fake and on the real control plane.

The fake runs are unit tests; the real runs carry the ``integration`` marker and use the session's plane.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dynaclient import Discovery, DynamicClient, ResourceClient, RESTMapper, client_from_config, load_kubeconfig
from dynaclient.exceptions import NotFoundError
from dynaclient.testing import ControlPlane
from dynaclient.testing.fake import FakeDynamicClient

GROUP = "conformance.dynaclient.dev"
CRD_NAME = f"gadgets.{GROUP}"
_OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
SCHEMA = {
    "type": "object",
    "properties": {"spec": {**_OPEN, "properties": {"color": {"type": "string"}}}, "status": _OPEN},
}
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": SCHEMA},
                "subresources": {"status": {}},
                "selectableFields": [{"jsonPath": ".spec.color"}],
            }
        ],
    },
}


@dataclass
class Cluster:
    """A client, a fresh namespace in its cluster, and how to compact the cluster's history (when it can)."""

    client: DynamicClient
    namespace: str
    compact: Callable[[], object] | None = None
    restart: Callable[[], object] | None = None

    def resource(self, name: str) -> ResourceClient:
        """The resource, bound to the test's namespace when namespaced."""
        resource = self.client.resource(name)
        return resource.namespace(self.namespace) if resource.api_resource.namespaced else resource

    def gadgets(self) -> ResourceClient:
        """The conformance CRD's resource in the test's namespace (the CRD created once per cluster)."""
        crds = self.client.resource("customresourcedefinitions")
        try:
            crds.get(CRD_NAME)
        except NotFoundError:
            crds.create(CRD)
        wait_until(lambda: _established(crds.get(CRD_NAME)))
        return self.resource(f"gadgets.{GROUP}")


def gadget(name: str, **fields: Any) -> dict[str, Any]:
    """A Gadget manifest."""
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": name}, **fields}


def _established(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``check`` until true (the real server's controllers act asynchronously)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.05)


def _with_namespace(
    client: DynamicClient, compact: Callable[[], object] | None = None, restart: Callable[[], object] | None = None
) -> Cluster:
    name = f"dc-test-{uuid.uuid4().hex[:10]}"
    client.resource("namespaces").create({"metadata": {"name": name}})
    return Cluster(client, name, compact, restart)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    """The fake with a fresh namespace, or the session's control plane with the plugin's ``namespace``."""
    if request.param == "fake":
        return _with_namespace(FakeDynamicClient())
    return Cluster(request.getfixturevalue("dynamic_client"), request.getfixturevalue("namespace"))


@pytest.fixture(scope="session")
def uncached_plane() -> Iterator[tuple[ControlPlane, DynamicClient]]:
    """A control plane without the watch cache, so etcd serves every read: history ends where etcd compacts it."""
    with ControlPlane(watch_cache=False) as plane, client_from_config(load_kubeconfig(plane.kubeconfig_path)) as api:
        yield plane, DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False), min_refresh_interval=0))


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
def compactable(request: pytest.FixtureRequest) -> Cluster:
    """A cluster whose history can be compacted and whose watches can be ended: the fake, or an uncached plane."""
    if request.param == "fake":
        fake = FakeDynamicClient()
        return _with_namespace(fake, fake.server.compact, fake.server.restart)
    plane, client = request.getfixturevalue("uncached_plane")
    return _with_namespace(client, plane.compact_etcd, plane.restart_apiserver)

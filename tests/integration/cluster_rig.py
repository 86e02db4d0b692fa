"""The whole-cluster tests' rig: the session's plane with its kwok nodes (fixture ``cluster``), plain requests to a
plane as its administrator (``HTTP``, fixture ``http``), and polling what runs in other processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster

KUBECTL = "/usr/bin/kubectl"


class HTTP:
    """Plain `requests` calls to the plane as its token administrator."""

    def __init__(self, plane: ControlPlane) -> None:
        self.base = plane.server_url
        self.verify = str(plane.ca_path)
        self.headers = {"Authorization": f"Bearer {plane.token}"}

    def __call__(self, method: str, path: str, body: object = None, **params: str) -> requests.Response:
        return requests.request(
            method, self.base + path, json=body, params=params, headers=self.headers, verify=self.verify, timeout=30
        )

    def ok(self, method: str, path: str, body: object = None, **params: str) -> dict[str, Any]:
        response = self(method, path, body, **params)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text[:300]}"
        result: dict[str, Any] = response.json()
        return result

    def merge_patch(self, path: str, patch: dict[str, Any]) -> None:
        headers = {**self.headers, "Content-Type": "application/merge-patch+json"}
        response = requests.patch(self.base + path, json=patch, headers=headers, verify=self.verify, timeout=30)
        assert response.status_code == 200, response.text[:300]

    def items(self, path: str, **params: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok("GET", path, **params)["items"]
        return items


@pytest.fixture(scope="module")
def cluster(kube_cluster: ControlPlane | ExistingCluster) -> ControlPlane:
    """The session's ``kube_cluster`` plane; a module using it is skipped against DYNACLIENT_TEST_KUBECONFIG."""
    if isinstance(kube_cluster, ExistingCluster):
        pytest.skip("these tests need the local rig's kwok nodes, not DYNACLIENT_TEST_KUBECONFIG")
    return kube_cluster


@pytest.fixture(scope="module")
def http(cluster: ControlPlane) -> HTTP:
    return HTTP(cluster)


def _wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)  # polling real controllers that run in other processes
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _pod(name: str) -> dict[str, Any]:
    container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


def _running(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p for p in pods if p.get("status", {}).get("phase") == "Running" and "deletionTimestamp" not in p["metadata"]
    ]

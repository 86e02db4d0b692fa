"""pytest plugin (registered through the ``pytest11`` entry point): a real API server for your tests.

Fixtures:

* ``kube_apiserver`` (session): a running :class:`~dynaclient.testing.ControlPlane`, or, when the environment
  variable ``DYNACLIENT_TEST_KUBECONFIG`` names a kubeconfig, an :class:`ExistingCluster` for that cluster.
  When the control plane cannot start, the fixture raises: tests error, they are never skipped.
* ``namespace`` (function): a fresh, uniquely named namespace, deleted after the test.

Nothing is imported or started until a test asks for a fixture, so installing dynaclient costs other test
suites nothing.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from dynaclient.testing.controlplane import ControlPlane

TEST_LABEL = "dynaclient.dev/test"


class ExistingCluster:
    """A cluster named by ``DYNACLIENT_TEST_KUBECONFIG``, used instead of starting a control plane.

    It offers what every cluster has (``kubeconfig_path``); operations that only a local control plane can do
    (``restart_apiserver``, ``compact_etcd``) are not available on it.

    Thread-safety: immutable.
    """

    def __init__(self, kubeconfig_path: Path) -> None:
        self.kubeconfig_path = kubeconfig_path

    def __repr__(self) -> str:
        return f"<ExistingCluster {self.kubeconfig_path}>"


def _kubectl(cluster: ControlPlane | ExistingCluster, *args: str) -> None:
    command = ["kubectl", f"--kubeconfig={cluster.kubeconfig_path}", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def _create_namespace(cluster: ControlPlane | ExistingCluster, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {TEST_LABEL: "true"}}}
    if isinstance(cluster, ExistingCluster):
        _kubectl(cluster, "create", "namespace", name)
        _kubectl(cluster, "label", "namespace", name, f"{TEST_LABEL}=true")
        return
    _admin_request(cluster, "POST", "/api/v1/namespaces", body).raise_for_status()


def _delete_namespace(cluster: ControlPlane | ExistingCluster, name: str) -> None:
    # Without a controller-manager the namespace stays Terminating; its unique name keeps tests apart.
    if isinstance(cluster, ExistingCluster):
        _kubectl(cluster, "delete", "namespace", name, "--wait=false", "--ignore-not-found")
        return
    _admin_request(cluster, "DELETE", f"/api/v1/namespaces/{name}", None)


def _admin_request(plane: ControlPlane, method: str, path: str, body: object) -> requests.Response:
    return requests.request(
        method,
        plane.server_url + path,
        json=body,
        headers={"Authorization": f"Bearer {plane.token}"},
        verify=str(plane.ca_path),
        timeout=30,
    )


@pytest.fixture(scope="session")
def kube_apiserver() -> Iterator[ControlPlane | ExistingCluster]:
    """Start a local control plane for the session (or use ``DYNACLIENT_TEST_KUBECONFIG``)."""
    existing = os.environ.get("DYNACLIENT_TEST_KUBECONFIG")
    if existing:
        path = Path(existing).expanduser()
        if not path.is_file():
            raise pytest.UsageError(f"DYNACLIENT_TEST_KUBECONFIG={existing} is not a file")
        yield ExistingCluster(path)
        return
    from dynaclient.testing.controlplane import ControlPlane

    with ControlPlane() as plane:
        yield plane


@pytest.fixture
def namespace(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[str]:
    """Create a uniquely named namespace labelled ``dynaclient.dev/test=true``; delete it afterwards."""
    name = f"dc-test-{uuid.uuid4().hex[:10]}"
    _create_namespace(kube_apiserver, name)
    try:
        yield name
    finally:
        _delete_namespace(kube_apiserver, name)

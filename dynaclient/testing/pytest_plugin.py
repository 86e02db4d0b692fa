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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dynaclient import APIClient, client_from_config, load_kubeconfig

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


def _admin_client(cluster: ControlPlane | ExistingCluster) -> APIClient:
    return client_from_config(load_kubeconfig(cluster.kubeconfig_path))


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
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {TEST_LABEL: "true"}}}
    with _admin_client(kube_apiserver) as client:
        client.request("POST", "/api/v1/namespaces", body=body)
        try:
            yield name
        finally:
            # Without a controller-manager the namespace stays Terminating; its unique name keeps tests apart.
            client.request("DELETE", f"/api/v1/namespaces/{name}")

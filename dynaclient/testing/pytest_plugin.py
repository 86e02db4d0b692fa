"""pytest plugin (registered through the ``pytest11`` entry point): a real API server for your tests.

Fixtures:

* ``kube_apiserver`` (session): a running :class:`~dynaclient.testing.ControlPlane`, or, when the environment
  variable ``DYNACLIENT_TEST_KUBECONFIG`` names a kubeconfig, an :class:`ExistingCluster` for that cluster.
  When the control plane cannot start, the fixture raises: tests error, they are never skipped.
* ``namespace`` (function): a fresh, uniquely named namespace, deleted after the test.
* ``kube_cluster`` (session): a whole cluster, ``ControlPlane(controllers=True, nodes=2)``: garbage collection,
  namespace deletion, Deployments, a scheduler and two kwok nodes on which pods become Running. It starts only
  when a test asks for it (plain tests keep the fast plane) and is shared by the session. With
  ``DYNACLIENT_TEST_KUBECONFIG`` it is that cluster.
* ``cluster_namespace`` (function): a fresh namespace in ``kube_cluster``, deleted after the test (the namespace
  controller then removes its objects in the background).

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


def _existing_cluster() -> ExistingCluster | None:
    existing = os.environ.get("DYNACLIENT_TEST_KUBECONFIG")
    if not existing:
        return None
    path = Path(existing).expanduser()
    if not path.is_file():
        raise pytest.UsageError(f"DYNACLIENT_TEST_KUBECONFIG={existing} is not a file")
    return ExistingCluster(path)


@pytest.fixture(scope="session")
def kube_apiserver() -> Iterator[ControlPlane | ExistingCluster]:
    """Start a local control plane for the session (or use ``DYNACLIENT_TEST_KUBECONFIG``)."""
    existing = _existing_cluster()
    if existing is not None:
        yield existing
        return
    from dynaclient.testing.controlplane import ControlPlane

    with ControlPlane() as plane:
        yield plane


CLUSTER_NODES = 2
"""Nodes of the ``kube_cluster`` fixture's plane."""


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[ControlPlane | ExistingCluster]:
    """Start a local cluster (controllers, scheduler, two kwok nodes) for the session, or use the existing one."""
    existing = _existing_cluster()
    if existing is not None:
        yield existing
        return
    from dynaclient.testing.controlplane import ControlPlane

    with ControlPlane(controllers=True, nodes=CLUSTER_NODES) as plane:
        yield plane


@pytest.fixture
def cluster_namespace(kube_cluster: ControlPlane | ExistingCluster) -> Iterator[str]:
    """Create a uniquely named namespace in ``kube_cluster``; delete it afterwards (not waiting for its end)."""
    yield from _test_namespace(kube_cluster)


@pytest.fixture
def namespace(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[str]:
    """Create a uniquely named namespace labelled ``dynaclient.dev/test=true``; delete it afterwards."""
    yield from _test_namespace(kube_apiserver)


def _test_namespace(cluster: ControlPlane | ExistingCluster) -> Iterator[str]:
    name = f"dc-test-{uuid.uuid4().hex[:10]}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {TEST_LABEL: "true"}}}
    with _admin_client(cluster) as client:
        client.request("POST", "/api/v1/namespaces", body=body)
        try:
            yield name
        finally:
            # Without a controller-manager the namespace stays Terminating; its unique name keeps tests apart.
            # With one, the namespace controller empties and removes it in the background.
            client.request("DELETE", f"/api/v1/namespaces/{name}")

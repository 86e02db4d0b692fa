"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynaclient import APIClient, Discovery, DynamicClient, RESTMapper, client_from_config, load_kubeconfig
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster


@pytest.fixture(scope="session")
def api_client(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[APIClient]:
    """An APIClient for the session's cluster, from its kubeconfig's current context."""
    with client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path)) as client:
        yield client


@pytest.fixture(scope="session")
def dynamic_client(api_client: APIClient) -> DynamicClient:
    """A DynamicClient over ``api_client``; discovery uncached on disk and refreshed at once on a miss."""
    return DynamicClient(api_client, RESTMapper(Discovery(api_client, cache_dir=False), min_refresh_interval=0))

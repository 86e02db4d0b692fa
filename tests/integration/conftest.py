"""Fixtures shared by the integration tests: an APIClient for the local control plane."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynaclient.auth import StaticTokenAuth
from dynaclient.client import APIClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.http import HTTPTransport


@pytest.fixture(scope="session")
def api_client(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[APIClient]:
    """An APIClient for the session's control plane, authenticated with its bearer token."""
    if not isinstance(kube_apiserver, ControlPlane):
        pytest.fail("the api_client fixture needs the local control plane (unset DYNACLIENT_TEST_KUBECONFIG)")
    transport = HTTPTransport(kube_apiserver.server_url, ca_data=kube_apiserver.ca_path.read_bytes())
    with APIClient(transport, auth=StaticTokenAuth(kube_apiserver.token)) as client:
        yield client

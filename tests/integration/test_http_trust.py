"""TLS trust: a kubeconfig's certificate authority is the only one the HTTP transport trusts, connection after
connection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dynaclient import load_kubeconfig
from dynaclient.connect import client_from_config
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.http import HTTPTransport


def test_connections_trust_only_the_kubeconfig_certificate_authority(
    kube_apiserver: ControlPlane | ExistingCluster,
) -> None:
    config = load_kubeconfig(kube_apiserver.kubeconfig_path)
    with client_from_config(config) as client, ThreadPoolExecutor(4) as pool:
        # Concurrent requests open several connections.
        versions = list(pool.map(lambda _: client.request("GET", "/version"), range(8)))
        transport = client.transport
        assert isinstance(transport, HTTPTransport)
        trusted = transport._current_context().get_ca_certs()

    assert all("gitVersion" in version for version in versions)
    assert len(trusted) == 1

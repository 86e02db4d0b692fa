"""Compression: large responses come gzipped unless the kubeconfig says ``disable-compression``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynaclient import Request, load_kubeconfig
from dynaclient.connect import client_from_config
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster


@pytest.mark.parametrize(("disable_compression", "encoding"), [(False, "gzip"), (True, None)], ids=["default", "off"])
def test_a_large_response_is_gzipped_unless_compression_is_disabled(
    kube_apiserver: ControlPlane | ExistingCluster, disable_compression: bool, encoding: str | None
) -> None:
    config = replace(load_kubeconfig(kube_apiserver.kubeconfig_path), disable_compression=disable_compression)
    with client_from_config(config) as client:
        # The OpenAPI document is megabytes: far above the apiserver's 128 KiB compression threshold.
        response = client.send(Request("GET", "/openapi/v2"))
        body = response.read()

    assert response.headers.get("content-encoding") == encoding
    assert body.startswith(b"{")

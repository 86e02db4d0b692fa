"""Compression: what the real API server sends (``Content-Encoding``) for each compression setting.

The server gzips a response over 128 KiB when the request accepts gzip; ``auto`` and ``gzip`` ask for gzip (this
local plane is on loopback: the policy is the same for every server), ``identity`` does not, and
``disable_compression`` (kubeconfig ``disable-compression``) means identity whatever ``compression`` says. The
synchronous and asyncio clients share the policy (test_aio_compression.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynaclient import Request, load_kubeconfig
from dynaclient.connect import client_from_config
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.compression import COMPRESSION_ENV


@pytest.mark.parametrize(
    ("compression", "disable_compression", "encoding"),
    [
        ("auto", False, "gzip"),
        ("gzip", False, "gzip"),
        ("identity", False, None),
        ("gzip", True, None),
    ],
    ids=["auto", "gzip", "identity", "disabled"],
)
def test_the_server_sends_the_encoding_the_setting_asks_for(
    kube_apiserver: ControlPlane | ExistingCluster,
    monkeypatch: pytest.MonkeyPatch,
    compression: str,
    disable_compression: bool,
    encoding: str | None,
) -> None:
    monkeypatch.delenv(COMPRESSION_ENV, raising=False)
    config = replace(
        load_kubeconfig(kube_apiserver.kubeconfig_path),
        compression=compression,  # type: ignore[arg-type]
        disable_compression=disable_compression,
    )
    with client_from_config(config) as client:
        # The OpenAPI document is megabytes: far above the apiserver's 128 KiB compression threshold.
        response = client.send(Request("GET", "/openapi/v2"))
        body = response.read()

    assert response.headers.get("content-encoding") == encoding
    assert body.startswith(b"{")


def test_the_environment_overrides_auto(
    kube_apiserver: ControlPlane | ExistingCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COMPRESSION_ENV, "identity")
    with client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path)) as client:
        response = client.send(Request("GET", "/openapi/v2"))
        response.read()

    assert response.headers.get("content-encoding") is None

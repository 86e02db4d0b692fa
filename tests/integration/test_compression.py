"""Compression: what the real API server sends (``Content-Encoding``) for each compression setting.

The server gzips a response over 128 KiB when the request accepts gzip; ``auto`` asks a loopback server (this local
plane) for identity, ``gzip`` always for gzip, and ``disable_compression`` (kubeconfig ``disable-compression``)
means identity whatever ``compression`` says.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynaclient import Request, load_kubeconfig
from dynaclient.connect import client_from_config
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.compression import COMPRESSION_ENV, is_loopback_server


@pytest.mark.parametrize(
    ("compression", "disable_compression", "encodings"),
    [
        ("auto", False, (None, "gzip")),
        ("gzip", False, ("gzip", "gzip")),
        ("identity", False, (None, None)),
        ("gzip", True, (None, None)),
    ],
    ids=["auto", "gzip", "identity", "disabled"],
)
def test_the_server_sends_the_encoding_the_setting_asks_for(
    kube_apiserver: ControlPlane | ExistingCluster,
    monkeypatch: pytest.MonkeyPatch,
    compression: str,
    disable_compression: bool,
    encodings: tuple[str | None, str | None],
) -> None:
    """``encodings``: what a loopback server sends, and what any other server sends."""
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

    expected = encodings[0] if is_loopback_server(config.server) else encodings[1]
    assert response.headers.get("content-encoding") == expected
    assert body.startswith(b"{")


def test_the_environment_overrides_auto(
    kube_apiserver: ControlPlane | ExistingCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COMPRESSION_ENV, "gzip")
    with client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path)) as client:
        response = client.send(Request("GET", "/openapi/v2"))
        response.read()

    assert response.headers.get("content-encoding") == "gzip"

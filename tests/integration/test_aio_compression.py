"""The asyncio client's compression: the synchronous client's policy (dynaclient/transport/compression.py says why).

What the real API server sends (``Content-Encoding``) for each setting; the server gzips a response over 128 KiB
when the request accepts gzip.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from dynaclient import Request, load_kubeconfig
from dynaclient.aio import AsyncDynamicClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.compression import COMPRESSION_ENV


@pytest.mark.parametrize(
    ("setting", "encoding"),
    [
        (("auto", False, ""), "gzip"),
        (("gzip", False, ""), "gzip"),
        (("identity", False, ""), None),
        (("gzip", True, ""), None),
        (("auto", False, "identity"), None),
    ],
    ids=["auto", "gzip", "identity", "disabled", "environment"],
)
def test_the_async_client_asks_for_gzip_unless_told_otherwise(
    kube_apiserver: ControlPlane | ExistingCluster,
    monkeypatch: pytest.MonkeyPatch,
    setting: tuple[str, bool, str],
    encoding: str | None,
) -> None:
    """``setting``: the config's ``compression`` and ``disable_compression``, and the environment variable."""
    compression, disable_compression, environment = setting
    monkeypatch.setenv(COMPRESSION_ENV, environment)
    config = replace(
        load_kubeconfig(kube_apiserver.kubeconfig_path),
        compression=compression,  # type: ignore[arg-type]
        disable_compression=disable_compression,
    )

    async def fetch() -> tuple[str | None, bytes]:
        async with AsyncDynamicClient.from_config(config) as client:
            # The OpenAPI document is megabytes: far above the apiserver's 128 KiB compression threshold.
            response = await client.api_client.send(Request("GET", "/openapi/v2"))
            return response.headers.get("content-encoding"), await response.read()

    received, body = asyncio.run(fetch())
    assert received == encoding
    assert body.startswith(b"{")  # inflated by the transport

"""Which response encoding the asyncio client asks for: gzip unless told otherwise, loopback included.

The synchronous client's ``auto`` asks a loopback server for identity
(:func:`~dynaclient.transport.compression.accept_encoding`): gzip cost that server about a third of its CPU per
large list and saved the client nothing. Over aiohttp the client's side differs. kube-apiserver writes an
uncompressed list in HTTP chunks of about 2 KiB (Go's ``net/http`` flushes its 2 KiB buffer as one chunk per
item or two), and aiohttp hands each chunk through its ``StreamReader`` in Python (``feed_data``, then
``_read_nowait_chunk`` and ``resume_reading`` when read): about 8,000 chunks for 10,000 ConfigMaps. A gzipped
body arrives in far fewer, larger chunks, and inflating it costs less than that per-chunk handling. Measured on
the local control plane (``p1-dynaclient-async``, fresh processes, alternating, medians; see the CHANGELOG):
gzip took 16-18% less client CPU and no more wall time; the server spent about 0.05 s more CPU per list.

So ``auto`` means gzip for the asyncio client, as client-go and the async peers (lightkube, kr8s: httpx asks for
gzip) always do. ``identity`` (or the kubeconfig's ``disable-compression: true``, or
``DYNACLIENT_COMPRESSION=identity``) is honoured as in the synchronous client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from dynaclient.transport.compression import COMPRESSION_ENV, Compression, accept_encoding


def async_accept_encoding(
    server: str,
    compression: Compression,
    *,
    disabled: bool = False,
    proxied: bool = False,
    env: Mapping[str, str] | None = None,
) -> Literal["gzip", "identity"]:
    """Return the encoding the asyncio client asks ``server`` for (see the module docstring).

    Args:
        server: the API server URL.
        compression: the configured choice (``ClientConfig.compression``).
        disabled: the kubeconfig's ``disable-compression``.
        proxied: requests go through a proxy.
        env: the environment whose :data:`~dynaclient.transport.compression.COMPRESSION_ENV` overrides ``auto``
            (``None``: this process's).

    Raises:
        ConfigError: ``compression`` or the environment variable is not one of the three choices.

    >>> async_accept_encoding("https://127.0.0.1:6443", "auto", env={})
    'gzip'
    >>> async_accept_encoding("https://127.0.0.1:6443", "auto", env={"DYNACLIENT_COMPRESSION": "identity"})
    'identity'
    >>> async_accept_encoding("https://10.1.2.3", "identity", env={})
    'identity'
    >>> async_accept_encoding("https://127.0.0.1:6443", "auto", disabled=True, env={})
    'identity'
    """
    if disabled:
        return "identity"
    environ = os.environ if env is None else env
    if compression == "auto" and not environ.get(COMPRESSION_ENV, "").strip():
        compression = "gzip"
    return accept_encoding(server, compression, proxied=proxied, env=environ)


__all__ = ["async_accept_encoding"]

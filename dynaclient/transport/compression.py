"""Which response encoding to ask the API server for: gzip, or identity (uncompressed).

The API server gzips any response over 128 KiB when the request accepts gzip (apiserver
``pkg/endpoints/handlers/responsewriters/writers.go``, ``defaultGzipThresholdBytes``). Compressing a 10,000-object
list costs the server about a third of its CPU for that list. On loopback the bytes cost almost nothing to move, so
identity saves that CPU for a little more client CPU (reading more bytes through TLS); across a slow link the much
smaller gzipped body is faster. Measured with ``python -m bench.run --cases compress`` (docs/performance.md):

* loopback, 10,000 ConfigMaps: identity cost the server 0.18-0.21 s of CPU against 0.24-0.32 s with gzip, and the
  client 0.02-0.03 s more; wall times were even on a quiet machine and favoured identity on a busy one;
* a 100 Mbit/s link: gzip listed 3.6-5x faster.

So ``auto`` (the default) asks for identity when the server is a loopback address (a local control plane, a
``kubectl proxy``, an SSH tunnel) reached without a proxy, and for gzip otherwise, as client-go always does
unless ``DisableCompression`` is set. The kubeconfig's ``disable-compression: true`` means identity everywhere.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Literal, get_args
from urllib.parse import urlsplit

from dynaclient.exceptions import ConfigError

Compression = Literal["auto", "gzip", "identity"]
"""``auto``: identity for a loopback server, gzip otherwise; ``gzip``: always ask for gzip; ``identity``: never."""

COMPRESSION_ENV = "DYNACLIENT_COMPRESSION"
"""Environment variable that overrides ``auto`` (``gzip``, ``identity`` or ``auto``); an explicit choice wins."""


def is_loopback_server(server: str) -> bool:
    """Return whether the server URL's host is a loopback address or ``localhost``.

    >>> [is_loopback_server(url) for url in ("https://127.0.0.1:6443", "https://[::1]:6443", "http://localhost:8001")]
    [True, True, True]
    >>> [is_loopback_server(url) for url in ("https://10.0.0.1", "https://example.com", "https://localhost.example")]
    [False, False, False]
    """
    host = urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def accept_encoding(
    server: str, compression: Compression, *, proxied: bool = False, env: Mapping[str, str] | None = None
) -> Literal["gzip", "identity"]:
    """Return the encoding to ask ``server`` for under ``compression`` (see the module docstring).

    Args:
        server: the API server URL.
        compression: the configured choice.
        proxied: requests go through a proxy (the link beyond it is unknown: ``auto`` asks for gzip).
        env: the environment whose :data:`COMPRESSION_ENV` overrides ``auto`` (``None``: this process's).

    Raises:
        ConfigError: ``compression`` or the environment variable is not one of the three choices.

    >>> accept_encoding("https://127.0.0.1:6443", "auto", env={}), accept_encoding("https://10.1.2.3", "auto", env={})
    ('identity', 'gzip')
    >>> accept_encoding("https://127.0.0.1:6443", "auto", proxied=True, env={})
    'gzip'
    >>> accept_encoding("https://127.0.0.1:6443", "auto", env={"DYNACLIENT_COMPRESSION": "gzip"})
    'gzip'
    >>> accept_encoding("https://10.1.2.3", "identity", env={"DYNACLIENT_COMPRESSION": "gzip"})
    'identity'
    """
    choice = _checked(compression, "compression")
    if choice == "auto":
        environ = os.environ if env is None else env
        choice = _checked(environ.get(COMPRESSION_ENV, "").strip().lower() or "auto", COMPRESSION_ENV)
    if choice == "auto":
        return "identity" if is_loopback_server(server) and not proxied else "gzip"
    return choice


def _checked(value: str, what: str) -> Compression:
    choices: tuple[Compression, ...] = get_args(Compression)
    for choice in choices:
        if value == choice:
            return choice
    raise ConfigError(f"{what}: {value!r} is not one of {', '.join(choices)}")


__all__ = ["COMPRESSION_ENV", "Compression", "accept_encoding", "is_loopback_server"]

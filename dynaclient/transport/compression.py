"""Which response encoding to ask the API server for: gzip, or identity (uncompressed).

The API server gzips any response over 128 KiB when the request accepts gzip (apiserver
``pkg/endpoints/handlers/responsewriters/writers.go``, ``defaultGzipThresholdBytes``). ``auto`` (the default) asks
every server for gzip, as client-go does unless ``DisableCompression`` is set, and as the Python peers do (httpx,
requests). Across a link of 100 Mbit/s a gzipped 10,000-ConfigMap list arrives 5-6x faster. On loopback
(docs/benchmarks.md, "Compression") gzip saves the client about a fifth of its CPU per list (it reads a sixteenth of
the bytes through TLS, in a few large HTTP chunks instead of some 8,000 of 2 KiB) for no more wall time; the
server's CPU per list was the same in rounds interleaved in one process, and up to 1.6x identity's in rounds in
fresh processes on an idle plane. An earlier version asked a loopback server for identity.

``identity`` (or ``DYNACLIENT_COMPRESSION=identity``, or the kubeconfig's ``disable-compression: true``) asks for
uncompressed responses: for a server whose CPU is scarcer than the client's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, get_args

from dynaclient.exceptions import ConfigError

Compression = Literal["auto", "gzip", "identity"]
"""``auto``: the default, gzip today (the environment may override it); ``gzip``: ask for gzip; ``identity``: never."""

COMPRESSION_ENV = "DYNACLIENT_COMPRESSION"
"""Environment variable that overrides ``auto`` (``gzip``, ``identity`` or ``auto``); an explicit choice wins."""


def accept_encoding(
    compression: Compression, *, disabled: bool = False, env: Mapping[str, str] | None = None
) -> Literal["gzip", "identity"]:
    """Return the encoding to ask the server for under ``compression`` (see the module docstring).

    Args:
        compression: the configured choice (``ClientConfig.compression``).
        disabled: the kubeconfig's ``disable-compression``: identity whatever else is said.
        env: the environment whose :data:`COMPRESSION_ENV` overrides ``auto`` (``None``: this process's).

    Raises:
        ConfigError: ``compression`` or the environment variable is not one of the three choices.

    >>> accept_encoding("auto", env={}), accept_encoding("identity", env={}), accept_encoding("gzip", disabled=True)
    ('gzip', 'identity', 'identity')
    >>> accept_encoding("auto", env={"DYNACLIENT_COMPRESSION": "identity"})
    'identity'
    >>> accept_encoding("gzip", env={"DYNACLIENT_COMPRESSION": "identity"})
    'gzip'
    """
    choice = _checked(compression, "compression")
    if choice == "auto":
        environ = os.environ if env is None else env
        choice = _checked(environ.get(COMPRESSION_ENV, "").strip().lower() or "auto", COMPRESSION_ENV)
    return "identity" if disabled or choice == "identity" else "gzip"


def _checked(value: str, what: str) -> Compression:
    choices: tuple[Compression, ...] = get_args(Compression)
    for choice in choices:
        if value == choice:
            return choice
    raise ConfigError(f"{what}: {value!r} is not one of {', '.join(choices)}")


__all__ = ["COMPRESSION_ENV", "Compression", "accept_encoding"]

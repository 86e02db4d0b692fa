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

Bodies read in bulk (lists, followed logs) are inflated by :func:`gzip_decoder`: ISA-L's inflate (``isal``, in the
``fast`` extra on x86-64 and ARM64) when it is installed, about 2.3x zlib's speed on a 500-ConfigMap page (0.20
against 0.46 ms for 800 KB), else zlib's.
"""

from __future__ import annotations

import importlib
import os
import zlib
from collections.abc import Mapping
from typing import Any, Literal, Protocol, get_args

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


class GzipDecoder(Protocol):
    """What :func:`gzip_decoder` returns: zlib's ``Decompress`` interface, as far as it is used."""

    @property
    def eof(self) -> bool: ...  # noqa: D102 - zlib's meaning: the end of the gzip stream was read

    @property
    def unconsumed_tail(self) -> bytes: ...  # noqa: D102 - input left over when max_length was reached

    def decompress(self, data: bytes | bytearray | memoryview, /, max_length: int = 0) -> bytes: ...  # noqa: D102

    def flush(self) -> bytes: ...  # noqa: D102


def _isal_zlib() -> Any:
    try:
        return importlib.import_module("isal.isal_zlib")  # optional: the ``fast`` extra
    except ImportError:
        return None


_ISAL_ZLIB = _isal_zlib()

GZIP_ERRORS: tuple[type[Exception], ...] = (zlib.error,) if _ISAL_ZLIB is None else (zlib.error, _ISAL_ZLIB.error)
"""What :func:`gzip_decoder`'s decoders raise for a broken gzip stream."""

INFLATER = "zlib" if _ISAL_ZLIB is None else "isal"
"""The inflate in use: ``"isal"`` when installed, else ``"zlib"``."""


def gzip_decoder() -> GzipDecoder:
    """Return a decoder of one gzip stream (header, deflate data, trailer checked): ISA-L's when installed.

    >>> import gzip
    >>> decoder = gzip_decoder()
    >>> decoder.decompress(gzip.compress(b"items")) + decoder.flush(), decoder.eof
    (b'items', True)
    """
    decoder: GzipDecoder = (zlib if _ISAL_ZLIB is None else _ISAL_ZLIB).decompressobj(wbits=31)
    return decoder


def _checked(value: str, what: str) -> Compression:
    choices: tuple[Compression, ...] = get_args(Compression)
    for choice in choices:
        if value == choice:
            return choice
    raise ConfigError(f"{what}: {value!r} is not one of {', '.join(choices)}")


__all__ = [
    "COMPRESSION_ENV",
    "GZIP_ERRORS",
    "INFLATER",
    "Compression",
    "GzipDecoder",
    "accept_encoding",
    "gzip_decoder",
]

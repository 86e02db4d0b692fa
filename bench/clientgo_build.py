"""Build the client-go reference program (``bench/clientgo``) from Go modules, the way the control plane is built.

The wrapper module pins client-go v0.34.4 in ``go.mod``/``go.sum``. One binary serves P2 (the informer) and P3
(``--mode=writer``, the paced writer); it goes to
``${XDG_CACHE_HOME:-~/.cache}/dynaclient/bench/clientgo-informer-<hash of the sources>`` and is reused until a
source file changes. Built with ``CGO_ENABLED=0`` and ``-mod=readonly`` (dynaclient/testing/binaries.py does the
same), under a lock file so that concurrent runs build once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parent / "clientgo"


def _sources() -> list[Path]:
    """Return the files the binary is built from: go.mod, go.sum and every Go file, in a stable order."""
    return [MODULE_DIR / "go.mod", MODULE_DIR / "go.sum", *sorted(MODULE_DIR.glob("*.go"))]


class ClientGoBuildError(RuntimeError):
    """Go is missing or the reference program failed to build; the message has the output tail.

    Thread-safety: immutable once raised.
    """


def cache_dir() -> Path:
    """Return where built benchmark binaries are kept."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "dynaclient" / "bench"


def source_hash() -> str:
    """Return a short hash of the wrapper module's sources (the binary's cache key)."""
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_clientgo_informer() -> Path:
    """Return the reference binary, building it first if needed.

    Raises:
        ClientGoBuildError: no ``go`` on PATH, or the build failed.
    """
    directory = cache_dir()
    target = directory / f"clientgo-informer-{source_hash()}"
    if os.access(target, os.X_OK):
        return target
    go = shutil.which("go")
    if go is None:
        raise ClientGoBuildError("the Go toolchain ('go') is needed to build the client-go reference")
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".clientgo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(target, os.X_OK):
            return target
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly", "GOWORK": "off"}
        with tempfile.TemporaryDirectory(dir=directory, prefix=".clientgo-") as tmp:
            output = Path(tmp) / "clientgo-informer"
            built = subprocess.run(
                [go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(output), "."],
                cwd=MODULE_DIR,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if built.returncode != 0:
                raise ClientGoBuildError(f"go build failed:\n{(built.stdout + built.stderr)[-3000:]}")
            os.replace(output, target)
    return target

"""Build the Go reference programs (``bench/clientgo``, ``bench/controllerruntime``) from Go modules.

Each wrapper module pins its versions in ``go.mod``/``go.sum`` (client-go v0.34.4; controller-runtime v0.22.4 on
the same client-go). The client-go binary serves P2 (the informer) and P3 (``--mode=writer``, the paced writer);
the controller-runtime one is P7's Sawtooth operator. A binary goes to
``${XDG_CACHE_HOME:-~/.cache}/dynaclient/bench/<name>-<hash of the sources>`` and is reused until a source file
changes. Built with ``CGO_ENABLED=0`` and ``-mod=readonly`` (dynaclient/testing/binaries.py does the same), under
a lock file so that concurrent runs build once.
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
CONTROLLER_RUNTIME_DIR = Path(__file__).resolve().parent / "controllerruntime"


def _sources(module_dir: Path) -> list[Path]:
    """Return the files a binary is built from: go.mod, go.sum and every Go file, in a stable order."""
    return [module_dir / "go.mod", module_dir / "go.sum", *sorted(module_dir.glob("*.go"))]


class ClientGoBuildError(RuntimeError):
    """Go is missing or the reference program failed to build; the message has the output tail.

    Thread-safety: immutable once raised.
    """


def cache_dir() -> Path:
    """Return where built benchmark binaries are kept."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "dynaclient" / "bench"


def source_hash(module_dir: Path = MODULE_DIR) -> str:
    """Return a short hash of a wrapper module's sources (the binary's cache key)."""
    digest = hashlib.sha256()
    for path in _sources(module_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_clientgo_informer() -> Path:
    """Return the client-go reference binary, building it first if needed.

    Raises:
        ClientGoBuildError: no ``go`` on PATH, or the build failed.
    """
    return build_go_program(MODULE_DIR, "clientgo-informer")


def build_controller_runtime_sawtooth() -> Path:
    """Return the controller-runtime Sawtooth operator (P7), building it first if needed.

    Raises:
        ClientGoBuildError: no ``go`` on PATH, or the build failed.
    """
    return build_go_program(CONTROLLER_RUNTIME_DIR, "controllerruntime-sawtooth")


def build_go_program(module_dir: Path, name: str) -> Path:
    """Return the binary ``name`` of the wrapper module in ``module_dir``, building it first if needed.

    Raises:
        ClientGoBuildError: no ``go`` on PATH, or the build failed.
    """
    directory = cache_dir()
    target = directory / f"{name}-{source_hash(module_dir)}"
    if os.access(target, os.X_OK):
        return target
    go = shutil.which("go")
    if go is None:
        raise ClientGoBuildError("the Go toolchain ('go') is needed to build the client-go reference")
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(target, os.X_OK):
            return target
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly", "GOWORK": "off"}
        with tempfile.TemporaryDirectory(dir=directory, prefix=f".{name}-") as tmp:
            output = Path(tmp) / name
            built = subprocess.run(
                [go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(output), "."],
                cwd=module_dir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if built.returncode != 0:
                raise ClientGoBuildError(f"go build failed:\n{(built.stdout + built.stderr)[-3000:]}")
            os.replace(output, target)
    return target

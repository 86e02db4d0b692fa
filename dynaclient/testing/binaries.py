"""Locate, or build from Go modules, the ``kube-apiserver`` and ``etcd`` binaries of the local control plane.

Resolution order, per binary (the first hit wins):

1. ``TEST_ASSET_KUBE_APISERVER`` / ``TEST_ASSET_ETCD`` (envtest's variables);
2. ``$KUBEBUILDER_ASSETS/<name>``;
3. the setup-envtest store, ``${XDG_DATA_HOME:-~/.local/share}/kubebuilder-envtest/k8s/<version>-linux-amd64/``;
4. dynaclient's own cache, ``${XDG_CACHE_HOME:-~/.cache}/dynaclient/controlplane/<version>/``;
5. otherwise both are built into that cache from the wrapper Go module shipped in ``gomodule/`` beside this
   file, which pins Kubernetes |version| and the etcd server that release was tested with.

The lookup order and file names follow controller-runtime's ``pkg/internal/testing/process/bin_path_finder.go``
and setup-envtest's store layout.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "1.34.4"
"""The Kubernetes release the wrapper module pins (``k8s.io/kubernetes v1.34.4``)."""

ETCD_VERSION = "3.6.4"
"""The etcd server version ``k8s.io/apiserver v0.34.4`` requires, so the one the release was tested with."""

GO_MODULE_DIR = Path(__file__).with_name("gomodule")

_NAMES = {"kube-apiserver": "TEST_ASSET_KUBE_APISERVER", "etcd": "TEST_ASSET_ETCD"}
_GO_PACKAGES = {"etcd": "go.etcd.io/etcd/server/v3", "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver"}

Progress = Callable[[str], None]


class BinaryNotFoundError(RuntimeError):
    """No binary was found and building one failed or was not allowed.

    Thread-safety: immutable once raised.
    """


@dataclass(frozen=True, slots=True)
class ControlPlaneBinaries:
    """Paths of the two binaries and where each came from.

    Thread-safety: immutable.
    """

    kube_apiserver: Path
    etcd: Path
    sources: Mapping[str, str]


def _platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{sys.platform}-{machine}"


def envtest_store_dir(env: Mapping[str, str], version: str = KUBERNETES_VERSION) -> Path:
    """Return setup-envtest's directory for ``version``.

    >>> path = envtest_store_dir({"XDG_DATA_HOME": "/d", "HOME": "/h"}, "1.34.4")
    >>> str(path.parent), path.name.startswith("1.34.4-")
    ('/d/kubebuilder-envtest/k8s', True)
    """
    data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(data) / "kubebuilder-envtest" / "k8s" / f"{version}-{_platform()}"


def cache_dir(env: Mapping[str, str], version: str = KUBERNETES_VERSION) -> Path:
    """Return dynaclient's cache directory for binaries of ``version``.

    >>> str(cache_dir({"XDG_CACHE_HOME": "/c"}, "1.34.4"))
    '/c/dynaclient/controlplane/1.34.4'
    """
    cache = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    return Path(cache) / "dynaclient" / "controlplane" / version


def candidates(name: str, env: Mapping[str, str], version: str = KUBERNETES_VERSION) -> list[tuple[str, Path]]:
    """Return the places looked at for binary ``name``, in order, as ``(source, path)`` pairs.

    >>> [s for s, _ in candidates("etcd", {"TEST_ASSET_ETCD": "/e", "KUBEBUILDER_ASSETS": "/k", "HOME": "/h"})]
    ['TEST_ASSET_ETCD', 'KUBEBUILDER_ASSETS', 'setup-envtest', 'cache']
    """
    found: list[tuple[str, Path]] = []
    if env.get(_NAMES[name]):
        found.append((_NAMES[name], Path(env[_NAMES[name]])))
    if env.get("KUBEBUILDER_ASSETS"):
        found.append(("KUBEBUILDER_ASSETS", Path(env["KUBEBUILDER_ASSETS"]) / name))
    found.append(("setup-envtest", envtest_store_dir(env, version) / name))
    found.append(("cache", cache_dir(env, version) / name))
    return found


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def locate(name: str, env: Mapping[str, str]) -> tuple[str, Path] | None:
    """Return the first usable ``(source, path)`` for ``name``, or ``None``.

    An explicit ``TEST_ASSET_*`` that does not point at an executable is an error, not a silent fall-through.

    Raises:
        BinaryNotFoundError: ``TEST_ASSET_*`` names a missing or non-executable file.
    """
    for source, path in candidates(name, env):
        if _executable(path):
            return source, path
        if source == _NAMES[name]:
            raise BinaryNotFoundError(f"{source}={path} is not an executable file")
    return None


def resolve_binaries(
    env: Mapping[str, str] | None = None, *, build: bool = True, progress: Progress | None = None
) -> ControlPlaneBinaries:
    """Find both binaries, building the missing ones into the cache when ``build`` is true.

    Args:
        env: the environment to read (default ``os.environ``).
        build: whether to build from Go modules when a binary is found nowhere.
        progress: receives progress lines during a build (default: print to stderr).

    Raises:
        BinaryNotFoundError: a binary is missing and could not be built.
    """
    env = os.environ if env is None else env
    found = {name: locate(name, env) for name in _NAMES}
    missing = [name for name, hit in found.items() if hit is None]
    if missing:
        if not build:
            raise BinaryNotFoundError(f"not found: {', '.join(missing)} (looked at {_looked_at(missing, env)})")
        built = build_binaries(cache_dir(env), env=env, progress=progress or _stderr)
        found.update({name: ("cache", built[name]) for name in missing})
    api, etcd = found["kube-apiserver"], found["etcd"]
    assert api is not None
    assert etcd is not None
    return ControlPlaneBinaries(api[1], etcd[1], {"kube-apiserver": api[0], "etcd": etcd[0]})


def _looked_at(names: list[str], env: Mapping[str, str]) -> str:
    return "; ".join(str(path) for name in names for _, path in candidates(name, env))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - progress of a minutes-long build


def no_go_toolchain_message(env: Mapping[str, str]) -> str:
    """The error when no binary was found and Go is not installed to build one: it names every alternative.

    >>> print(no_go_toolchain_message({"HOME": "/h", "XDG_DATA_HOME": "/d"}))
    ... # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    the Go toolchain ('go') is needed to build the control plane and was not found; or provide the binaries:
    TEST_ASSET_KUBE_APISERVER and TEST_ASSET_ETCD (paths to the files), KUBEBUILDER_ASSETS (a directory holding
    both), or the setup-envtest store (setup-envtest use 1.34.4 puts them in /d/kubebuilder-envtest/k8s/1.34.4-...)
    """
    return (
        "the Go toolchain ('go') is needed to build the control plane and was not found; or provide the binaries: "
        f"{_NAMES['kube-apiserver']} and {_NAMES['etcd']} (paths to the files), KUBEBUILDER_ASSETS (a directory "
        f"holding both), or the setup-envtest store (setup-envtest use {KUBERNETES_VERSION} puts them in "
        f"{envtest_store_dir(env)})"
    )


def _ldflags() -> str:
    major, minor, _ = KUBERNETES_VERSION.split(".")
    values = {
        "gitVersion": f"v{KUBERNETES_VERSION}",
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    # hack/lib/version.sh stamps both packages; without it /version reports v0.0.0-master.
    flags = [
        f"-X '{pkg}.{key}={value}'"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in values.items()
    ]
    return " ".join(["-s", "-w", *flags])


def _go_command(name: str, output: Path) -> list[str]:
    go = shutil.which("go")
    if go is None:
        raise BinaryNotFoundError(no_go_toolchain_message(os.environ))
    command = [go, "build", "-trimpath", "-v", "-o", str(output)]
    if name == "kube-apiserver":
        command += ["-ldflags", _ldflags()]
    else:
        command += ["-ldflags", f"-X go.etcd.io/etcd/api/v3/version.GitSHA=v{ETCD_VERSION}"]
    return [*command, _GO_PACKAGES[name]]


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test runs wait for the first build
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_binaries(
    directory: Path, *, env: Mapping[str, str] | None = None, progress: Progress = _stderr
) -> dict[str, Path]:
    """Build both binaries into ``directory`` (once; concurrent callers wait on a lock file).

    Returns:
        The path of each binary.

    Raises:
        BinaryNotFoundError: Go is missing or the build failed (the output tail is in the message).
    """
    targets = {name: directory / name for name in _NAMES}
    with _build_lock(directory):
        if all(_executable(path) for path in targets.values()):
            return targets
        directory.mkdir(parents=True, exist_ok=True)
        for name, path in targets.items():
            if not _executable(path):
                _build_one(name, path, dict(env or os.environ), progress)
    return targets


def _build_one(name: str, target: Path, env: dict[str, str], progress: Progress) -> None:
    version = f"v{KUBERNETES_VERSION}" if name == "kube-apiserver" else f"v{ETCD_VERSION}"
    progress(f"building {name} {version} from Go modules (first run only; several minutes on 2 cores)...")
    env.update(CGO_ENABLED="0", GOFLAGS="-mod=readonly", GOWORK="off")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-") as tmp:
        output = Path(tmp) / name
        process = subprocess.Popen(
            _go_command(name, output),
            cwd=GO_MODULE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        tail = _follow_build(process, name, started, progress)
        if process.wait() != 0 or not _executable(output):
            raise BinaryNotFoundError(f"building {name} failed:\n" + "\n".join(tail[-30:]))
        os.replace(output, target)  # atomic: a half-written binary is never visible
    progress(f"built {target} in {time.monotonic() - started:.0f}s")


def _follow_build(process: subprocess.Popen[str], name: str, started: float, progress: Progress) -> list[str]:
    """Read ``go build -v`` output, reporting the package count every 20 seconds; return the output lines."""
    lines: list[str] = []
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(20):
            progress(f"  ... {name}: {len(lines)} packages compiled, {time.monotonic() - started:.0f}s")

    ticker = threading.Thread(target=heartbeat, name=f"build-{name}-progress", daemon=True)
    ticker.start()
    try:
        assert process.stdout is not None
        lines.extend(line.rstrip() for line in process.stdout)
    finally:
        done.set()
        ticker.join()
    return lines


def binary_version(path: Path) -> str:
    """Return the first line ``<binary> --version`` prints (``Kubernetes v1.34.4``, ``etcd Version: 3.6.4``)."""
    result = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=False)
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "unknown"


__all__ = [
    "ETCD_VERSION",
    "KUBERNETES_VERSION",
    "BinaryNotFoundError",
    "ControlPlaneBinaries",
    "binary_version",
    "build_binaries",
    "cache_dir",
    "candidates",
    "envtest_store_dir",
    "locate",
    "resolve_binaries",
]

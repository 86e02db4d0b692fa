"""Locate, or build from Go modules, the binaries of the local control plane.

The binaries: ``kube-apiserver`` and ``etcd`` (always), ``kube-controller-manager`` and ``kube-scheduler`` (a
plane with controllers), ``kwok`` (a plane with simulated nodes). Resolution order, per binary (the first hit wins):

1. ``TEST_ASSET_<NAME>``, e.g. ``TEST_ASSET_KUBE_APISERVER`` / ``TEST_ASSET_ETCD`` (envtest's variables);
2. ``$KUBEBUILDER_ASSETS/<name>``;
3. the setup-envtest store, ``${XDG_DATA_HOME:-~/.local/share}/kubebuilder-envtest/k8s/<version>-linux-amd64/``;
4. dynaclient's own cache, ``${XDG_CACHE_HOME:-~/.cache}/dynaclient/controlplane/<version>/`` (kwok as
   ``kwok-v<kwok version>-dynaclient.<patch level>``);
5. otherwise the missing ones are built into that cache, under one lock, from the wrapper Go modules shipped in
   ``gomodule/`` beside this file: one pins Kubernetes |version| and the etcd server that release was tested
   with, ``gomodule/kwok`` pins kwok on its own (sharing the first module would upgrade kube-apiserver's
   dependencies). kwok is built from a patched copy of its module (:mod:`dynaclient.testing.kwok_patch`: exec
   exit codes and stdin end-of-file as a kubelet delivers them).

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from dynaclient.testing.kwok_patch import PATCH_LEVEL, KwokPatchError, patched_wrapper_module

KUBERNETES_VERSION = "1.34.4"
"""The Kubernetes release the wrapper module pins (``k8s.io/kubernetes v1.34.4``)."""

ETCD_VERSION = "3.6.4"
"""The etcd server version ``k8s.io/apiserver v0.34.4`` requires, so the one the release was tested with."""

KWOK_VERSION = "0.7.0"
"""The kwok release ``gomodule/kwok`` pins (the newest one that builds with Go 1.24 module graphs)."""

GO_MODULE_DIR = Path(__file__).with_name("gomodule")

APISERVER_COMPONENTS = ("kube-apiserver", "etcd")
"""The binaries of the plain control plane."""
ALL_COMPONENTS = ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok")
"""Every binary the control plane can run, in build order."""

_GO_PACKAGES = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
    "kwok": "sigs.k8s.io/kwok/cmd/kwok",
}

Progress = Callable[[str], None]


class BinaryNotFoundError(RuntimeError):
    """No binary was found and building one failed or was not allowed.

    Thread-safety: immutable once raised.
    """


@dataclass(frozen=True, slots=True)
class ControlPlaneBinaries:
    """Paths of the binaries and where each came from; the optional ones are ``None`` when not resolved.

    Thread-safety: immutable.
    """

    kube_apiserver: Path
    etcd: Path
    sources: Mapping[str, str]
    kube_controller_manager: Path | None = None
    kube_scheduler: Path | None = None
    kwok: Path | None = None

    def path(self, name: str) -> Path:
        """Return the path of binary ``name`` (``kube-scheduler``, ...).

        Raises:
            BinaryNotFoundError: that binary was not resolved.
        """
        path: Path | None = getattr(self, name.replace("-", "_"), None)
        if path is None:
            raise BinaryNotFoundError(f"{name} was not resolved; pass it to resolve_binaries(components=...)")
        return path


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


def asset_variable(name: str) -> str:
    """Return the environment variable that names binary ``name`` explicitly.

    >>> asset_variable("kube-controller-manager")
    'TEST_ASSET_KUBE_CONTROLLER_MANAGER'
    """
    return "TEST_ASSET_" + name.upper().replace("-", "_")


def cached_name(name: str) -> str:
    """Return the file name of binary ``name`` in dynaclient's cache (kwok's carries its version and patch level).

    >>> cached_name("etcd"), cached_name("kwok")
    ('etcd', 'kwok-v0.7.0-dynaclient.1')
    """
    return f"kwok-v{KWOK_VERSION}-dynaclient.{PATCH_LEVEL}" if name == "kwok" else name


def candidates(name: str, env: Mapping[str, str], version: str = KUBERNETES_VERSION) -> list[tuple[str, Path]]:
    """Return the places looked at for binary ``name``, in order, as ``(source, path)`` pairs.

    >>> [s for s, _ in candidates("etcd", {"TEST_ASSET_ETCD": "/e", "KUBEBUILDER_ASSETS": "/k", "HOME": "/h"})]
    ['TEST_ASSET_ETCD', 'KUBEBUILDER_ASSETS', 'setup-envtest', 'cache']
    """
    found: list[tuple[str, Path]] = []
    variable = asset_variable(name)
    if env.get(variable):
        found.append((variable, Path(env[variable])))
    if env.get("KUBEBUILDER_ASSETS"):
        found.append(("KUBEBUILDER_ASSETS", Path(env["KUBEBUILDER_ASSETS"]) / name))
    found.append(("setup-envtest", envtest_store_dir(env, version) / name))
    found.append(("cache", cache_dir(env, version) / cached_name(name)))
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
        if source == asset_variable(name):
            raise BinaryNotFoundError(f"{source}={path} is not an executable file")
    return None


def resolve_binaries(
    env: Mapping[str, str] | None = None,
    *,
    build: bool = True,
    progress: Progress | None = None,
    components: Iterable[str] = APISERVER_COMPONENTS,
) -> ControlPlaneBinaries:
    """Find the binaries, building the missing ones into the cache when ``build`` is true.

    Args:
        env: the environment to read (default ``os.environ``).
        build: whether to build from Go modules when a binary is found nowhere.
        progress: receives progress lines during a build (default: print to stderr).
        components: the binaries wanted, from :data:`ALL_COMPONENTS`; kube-apiserver and etcd always are.

    Raises:
        BinaryNotFoundError: a binary is missing and could not be built, or ``components`` names an unknown one.
    """
    env = os.environ if env is None else env
    wanted = _ordered([*APISERVER_COMPONENTS, *components])
    found = {name: locate(name, env) for name in wanted}
    missing = [name for name, hit in found.items() if hit is None]
    if missing:
        if not build:
            raise BinaryNotFoundError(f"not found: {', '.join(missing)} (looked at {_looked_at(missing, env)})")
        built = build_binaries(cache_dir(env), env=env, progress=progress or _stderr, components=missing)
        found.update({name: ("cache", built[name]) for name in missing})
    paths = {name.replace("-", "_"): hit[1] for name, hit in found.items() if hit is not None}
    sources = {name: hit[0] for name, hit in found.items() if hit is not None}
    return ControlPlaneBinaries(sources=sources, **paths)


def _ordered(components: Iterable[str]) -> list[str]:
    wanted = set(components)
    unknown = wanted - set(ALL_COMPONENTS)
    if unknown:
        raise BinaryNotFoundError(f"unknown binaries {sorted(unknown)}; known: {', '.join(ALL_COMPONENTS)}")
    return [name for name in ALL_COMPONENTS if name in wanted]


def _looked_at(names: list[str], env: Mapping[str, str]) -> str:
    return "; ".join(str(path) for name in names for _, path in candidates(name, env))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - progress of a minutes-long build


def no_go_toolchain_message(env: Mapping[str, str]) -> str:
    """The error when no binary was found and Go is not installed to build one: it names every alternative.

    >>> print(no_go_toolchain_message({"HOME": "/h", "XDG_DATA_HOME": "/d"}))
    ... # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    the Go toolchain ('go') is needed to build the control plane and was not found; or provide the binaries:
    TEST_ASSET_<NAME> per binary (TEST_ASSET_KUBE_APISERVER, TEST_ASSET_ETCD, ...), KUBEBUILDER_ASSETS (a directory
    holding them), or the setup-envtest store (setup-envtest use 1.34.4 puts them in
    /d/kubebuilder-envtest/k8s/1.34.4-...)
    """
    examples = ", ".join(asset_variable(name) for name in ("kube-apiserver", "etcd"))
    return (
        "the Go toolchain ('go') is needed to build the control plane and was not found; or provide the binaries: "
        f"TEST_ASSET_<NAME> per binary ({examples}, ...), KUBEBUILDER_ASSETS (a directory holding them), "
        f"or the setup-envtest store (setup-envtest use {KUBERNETES_VERSION} puts them in {envtest_store_dir(env)})"
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
    if name.startswith("kube-"):
        command += ["-ldflags", _ldflags()]
    elif name == "etcd":
        command += ["-ldflags", f"-X go.etcd.io/etcd/api/v3/version.GitSHA=v{ETCD_VERSION}"]
    else:  # kwok's version is a constant of its source (pkg/consts/consts.go)
        command += ["-ldflags", "-s -w"]
    return [*command, _GO_PACKAGES[name]]


def _release(name: str) -> str:
    return {"etcd": ETCD_VERSION, "kwok": KWOK_VERSION}.get(name, KUBERNETES_VERSION)


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
    directory: Path,
    *,
    env: Mapping[str, str] | None = None,
    progress: Progress = _stderr,
    components: Iterable[str] = APISERVER_COMPONENTS,
) -> dict[str, Path]:
    """Build the missing binaries of ``components`` into ``directory`` (once; concurrent callers wait on a lock).

    Returns:
        The path of each binary asked for.

    Raises:
        BinaryNotFoundError: Go is missing or the build failed (the output tail is in the message).
    """
    targets = {name: directory / cached_name(name) for name in _ordered(components)}
    with _build_lock(directory):
        if all(_executable(path) for path in targets.values()):
            return targets
        directory.mkdir(parents=True, exist_ok=True)
        for name, path in targets.items():
            if not _executable(path):
                _build_one(name, path, dict(env or os.environ), progress)
    return targets


def _build_one(name: str, target: Path, env: dict[str, str], progress: Progress) -> None:
    version = f"v{_release(name)}"
    progress(f"building {name} {version} from Go modules (first run only; several minutes on 2 cores)...")
    env.update(CGO_ENABLED="0", GOFLAGS="-mod=readonly", GOWORK="off")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{name}-") as tmp:
        output = Path(tmp) / name
        command = _go_command(name, output)
        module = _kwok_module(Path(tmp), env) if name == "kwok" else GO_MODULE_DIR
        process = subprocess.Popen(
            command,
            cwd=module,
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


def _kwok_module(work: Path, env: Mapping[str, str]) -> Path:
    """Return the wrapper module building kwok with the rig's patch (:mod:`dynaclient.testing.kwok_patch`)."""
    try:
        return patched_wrapper_module(GO_MODULE_DIR / "kwok", KWOK_VERSION, work, env)
    except KwokPatchError as error:
        raise BinaryNotFoundError(f"building kwok failed: {error}") from error


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
    "ALL_COMPONENTS",
    "APISERVER_COMPONENTS",
    "ETCD_VERSION",
    "KUBERNETES_VERSION",
    "KWOK_VERSION",
    "BinaryNotFoundError",
    "ControlPlaneBinaries",
    "asset_variable",
    "binary_version",
    "build_binaries",
    "cache_dir",
    "cached_name",
    "candidates",
    "envtest_store_dir",
    "locate",
    "resolve_binaries",
]

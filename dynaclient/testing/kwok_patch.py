"""The rig's patch to kwok: exec exit codes and stdin end-of-file as a real kubelet delivers them.

kwok v0.7.0 (and v0.8.0, and kwok's main branch as of 2026-08, commit ``172defa``, same code) differs from a kubelet
backed by containerd in two ways that :mod:`dynaclient.streams` must be compared with kubectl on:

1. **A non-zero exit is an InternalError, not NonZeroExitCode.** The kubelet's stream server builds the
   ``NonZeroExitCode`` Status (the code in a ``ExitCode`` cause) only when the executor's error *is* a
   ``k8s.io/utils/exec.ExitError`` by type assertion (``k8s.io/kubelet`` v0.33.0
   ``pkg/cri/streaming/remotecommand/exec.go`` lines 53-74); kwok returns ``os/exec``'s error wrapped by
   ``fmt.Errorf("cmd wait: %s %s: %w", ...)`` (``pkg/utils/exec/exec.go`` lines 246-253). The patch converts it at
   kwok's executor (``Server.ExecInContainer``, ``pkg/kwok/server/debugging_exec.go`` lines 78-82, both the pty and
   the pipe paths) into what containerd's CRI stream runtime returns, ``&exec.CodeExitError{Err:
   fmt.Errorf("error executing command %v, exit code %d", cmd, code), Code: code}`` (containerd
   ``internal/cri/server/streaming.go`` ``streamRuntime.Exec``), so the Status message is the one a real node
   sends. A command killed by a signal gets 128 + the signal, as containerd's shim reports it.
2. **End-of-file on stdin never reaches the command without a terminal.** With ``PipeStdin`` kwok copies the
   stream into ``cmd.StdinPipe()`` in a goroutine and never closes the pipe (``pkg/utils/exec/exec.go`` lines
   219-227), so neither v5's CLOSE nor SPDY's half-close ends ``cat``. The patch closes the pipe once the copy
   ends, as containerd closes an exec's stdin when the stream ends (``internal/cri/server/container_execsync.go``
   ``execInternal``: ``cio.AttachOptions{StdinOnce: true, CloseStdin: ... process.CloseIO(ctx,
   containerd.WithStdinCloser)}``).

The patch is applied to a copy of the downloaded module by exact text replacement (an anchor that is not found
exactly once fails the build, naming the file), and the wrapper module ``gomodule/kwok`` is built with
``replace sigs.k8s.io/kwok => <that copy>``. The pinned version stays v0.7.0; the cached binary carries
:data:`PATCH_LEVEL` in its name so an unpatched binary built before is never reused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KWOK_MODULE = "sigs.k8s.io/kwok"
PATCH_LEVEL = 1
"""Bump on any change to :data:`PATCHES`: the cached binary is ``kwok-v<version>-dynaclient.<PATCH_LEVEL>``."""


class KwokPatchError(RuntimeError):
    """kwok's source could not be downloaded or does not contain the text a patch replaces.

    Thread-safety: immutable once raised.
    """


@dataclass(frozen=True, slots=True)
class Replacement:
    """Replace ``old``, which must occur exactly once in ``file`` (relative to the module root), by ``new``.

    Thread-safety: immutable.
    """

    file: str
    old: str
    new: str


_EXECUTOR = "pkg/kwok/server/debugging_exec.go"

PATCHES: tuple[Replacement, ...] = (
    # 1. The exit status as the ExitError the kubelet's stream server asserts (imports, then the executor's return).
    Replacement(
        _EXECUTOR,
        '\t"context"\n\t"fmt"\n\t"io"\n\t"net/http"\n\t"strings"\n\t"time"\n',
        '\t"context"\n\t"errors"\n\t"fmt"\n\t"io"\n\t"net/http"\n'
        '\tosexec "os/exec"\n\t"strings"\n\t"syscall"\n\t"time"\n',
    ),
    Replacement(
        _EXECUTOR,
        '\tremotecommandserver "k8s.io/kubelet/pkg/cri/streaming/remotecommand"\n',
        '\tremotecommandserver "k8s.io/kubelet/pkg/cri/streaming/remotecommand"\n\tutilexec "k8s.io/utils/exec"\n',
    ),
    Replacement(
        _EXECUTOR,
        "\tif tty {\n"
        "\t\treturn s.execInContainerWithTTY(ctx, cmd, in, out, resize)\n"
        "\t}\n\n"
        "\treturn s.execInContainer(ctx, cmd, in, out, errOut)\n"
        "}\n",
        "\tif tty {\n"
        "\t\treturn exitCodeError(cmd, s.execInContainerWithTTY(ctx, cmd, in, out, resize))\n"
        "\t}\n\n"
        "\treturn exitCodeError(cmd, s.execInContainer(ctx, cmd, in, out, errOut))\n"
        "}\n\n"
        "// exitCodeError (dynaclient's patch) returns a command's exit status as containerd's streamRuntime.Exec\n"
        "// does, a utilexec.CodeExitError, so that the kubelet's ServeExec reports NonZeroExitCode.\n"
        "func exitCodeError(cmd []string, err error) error {\n"
        "\tvar exitErr *osexec.ExitError\n"
        "\tif !errors.As(err, &exitErr) {\n"
        "\t\treturn err\n"
        "\t}\n"
        "\tcode := exitErr.ExitCode()\n"
        "\tif status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {\n"
        "\t\tcode = 128 + int(status.Signal())\n"
        "\t}\n"
        '\treturn &utilexec.CodeExitError{Err: fmt.Errorf("error executing command %v, exit code %d", cmd, code), '
        "Code: code}\n"
        "}\n",
    ),
    # 2. End-of-file on the stream closes the command's stdin.
    Replacement(
        "pkg/utils/exec/exec.go",
        "\t\t\tgo func() {\n\t\t\t\t_, _ = io.Copy(inPipe, opt.In)\n\t\t\t}()\n",
        "\t\t\tgo func() {\n\t\t\t\t_, _ = io.Copy(inPipe, opt.In)\n\t\t\t\t_ = inPipe.Close()\n\t\t\t}()\n",
    ),
)


def apply_patches(root: Path, patches: tuple[Replacement, ...] = PATCHES) -> None:
    """Apply ``patches`` in order to the source tree at ``root``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.go").write_text("x := 1")
    ...     apply_patches(Path(tmp), (Replacement("a.go", "x := 1", "x := 2"),))
    ...     (Path(tmp) / "a.go").read_text()
    'x := 2'
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.go").write_text("x := 1")
    ...     apply_patches(Path(tmp), (Replacement("a.go", "y := 1", "y := 2"),))
    Traceback (most recent call last):
    ...
    dynaclient.testing.kwok_patch.KwokPatchError: a.go: the text to patch occurs 0 times, not once: 'y := 1'

    Raises:
        KwokPatchError: an ``old`` text does not occur exactly once in its file.
    """
    for patch in patches:
        path = root / patch.file
        text = path.read_text()
        count = text.count(patch.old)
        if count != 1:
            first_line = patch.old.strip().splitlines()[0]
            raise KwokPatchError(f"{patch.file}: the text to patch occurs {count} times, not once: {first_line!r}")
        path.write_text(text.replace(patch.old, patch.new))


def _go(args: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    go = shutil.which("go")
    if go is None:
        raise KwokPatchError("the Go toolchain ('go') is needed to build kwok and was not found")
    result = subprocess.run([go, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KwokPatchError(f"go {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def patched_wrapper_module(wrapper: Path, version: str, work: Path, env: Mapping[str, str]) -> Path:
    """Return a copy, in ``work``, of the wrapper module ``wrapper`` building kwok ``version`` patched.

    The module is downloaded (``go mod download``, checked against ``go.sum``), copied writable into
    ``work/source``, patched, and the copy of the wrapper (``work/wrapper``) replaces ``sigs.k8s.io/kwok`` by it.

    Raises:
        KwokPatchError: Go is missing, the download failed, or a patch does not apply.
    """
    info = json.loads(_go(["mod", "download", "-json", f"{KWOK_MODULE}@v{version}"], wrapper, env))
    if "Dir" not in info:
        raise KwokPatchError(f"go mod download {KWOK_MODULE}@v{version} did not give its directory: {info}")
    source = work / "source"
    shutil.copytree(info["Dir"], source)
    for directory, _, files in os.walk(source):  # the module cache is read-only
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)
    apply_patches(source)
    module = work / "wrapper"
    module.mkdir()
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(wrapper / name, module / name)
    # Relative, so the binary's build info (go version -m) names no temporary directory: builds stay reproducible.
    _go(["mod", "edit", f"-replace={KWOK_MODULE}=../{source.name}"], module, env)
    return module


__all__ = [
    "KWOK_MODULE",
    "PATCHES",
    "PATCH_LEVEL",
    "KwokPatchError",
    "Replacement",
    "apply_patches",
    "patched_wrapper_module",
]

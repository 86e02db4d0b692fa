"""Child processes of the local control plane that never outlive the test run.

Each process runs in its own process group, so stopping it also stops anything it forked; an ``atexit`` guard
stops whatever is still running when the interpreter exits (Ctrl-C, a failing test session); and when started
from the main thread, the kernel sends the child SIGKILL if the parent dies without running ``atexit``
(``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import requests

_RUNNING: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ControlPlaneError(RuntimeError):
    """The control plane could not start, or an operation on it failed; the message has the log tail.

    Thread-safety: immutable once raised.
    """


def _die_with_parent(sig: int = signal.SIGKILL) -> None:  # pragma: no cover - runs between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)


# A shell that runs the command in the background and, on SIGTERM (the parent-death signal it is given), kills its
# whole process group: what the command itself forked (kwok's exec'd commands) dies with a crashed test process.
_GROUP_GUARD = 'trap "kill -KILL 0" TERM; "$@" & wait $!'


class ManagedProcess:
    """One long-running child process with its output in a log file.

    Args:
        name: names the process in errors and ``pids``.
        argv: the command line.
        log_path: the file that receives stdout and stderr (unless ``echo``).
        echo: send the output to this process's stderr instead.
        env: variables added to this process's environment.
        guard_group: run the command under a shell that kills the whole process group when this process dies,
            for commands that fork children of their own.

    Thread-safety: thread-safe; ``start``/``stop`` serialise on an internal lock.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        echo: bool = False,
        env: Mapping[str, str] | None = None,
        guard_group: bool = False,
    ) -> None:
        self.name = name
        self.argv = ["/bin/sh", "-c", _GROUP_GUARD, name, *argv] if guard_group else list(argv)
        self._death_signal = signal.SIGTERM if guard_group else signal.SIGKILL
        self.log_path = log_path
        self._echo = echo
        self._env = None if env is None else {**os.environ, **env}
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The process id while running (with ``guard_group``, the guarding shell's, which leads the group)."""
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the process in a new process group."""
        with self._lock:
            if self._process is not None:
                return
            self._log = None if self._echo else open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            in_main = threading.current_thread() is threading.main_thread()
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log or sys.stderr,
                stderr=subprocess.STDOUT,
                env=self._env,
                start_new_session=True,
                preexec_fn=functools.partial(_die_with_parent, self._death_signal)
                if in_main and sys.platform == "linux"
                else None,
            )
            _RUNNING.add(self)

    def exit_code(self) -> int | None:
        """Return the exit code if the process has exited, else ``None``."""
        process = self._process
        return process.poll() if process else None

    def stop(self, timeout: float = 10.0) -> None:
        """Send SIGTERM to the process group, then SIGKILL after ``timeout`` seconds; wait for it."""
        with self._lock:
            process, self._process = self._process, None
            _RUNNING.discard(self)
            if process is not None:
                _terminate_group(process, timeout)
            if self._log is not None:
                self._log.close()
                self._log = None

    def log_tail(self, lines: int = 40) -> str:
        """Return the last ``lines`` lines of the log (empty when echoing to stderr)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __repr__(self) -> str:
        return f"<ManagedProcess {self.name} pid={self.pid}>"


def http_status(url: str, *, verify: bool | str, headers: Mapping[str, str] | None = None) -> int:
    """Return the status code of a GET of ``url`` (2 s timeout), or 0 when no answer came: a readiness probe."""
    try:
        return requests.get(url, verify=verify, headers=headers, timeout=2).status_code
    except requests.RequestException:
        return 0


def wait_until(check: Callable[[], bool], process: ManagedProcess, what: str, timeout: float) -> None:
    """Poll ``check`` every 0.1 s until it is true; fail early, with the log tail, if ``process`` exits.

    Raises:
        ControlPlaneError: the process exited, or ``check`` stayed false for ``timeout`` seconds; the message
            names the process and ends with the tail of its log.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.exit_code() is not None:
            raise ControlPlaneError(f"{process.name} exited with {process.exit_code()}:\n{process.log_tail()}")
        if check():
            return
        time.sleep(0.1)  # polling a child process's readiness; not test synchronisation
    raise ControlPlaneError(f"{what} not ready after {timeout:.0f}s ({process.name}):\n{process.log_tail()}")


def _terminate_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure nothing it forked survives in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        return


@atexit.register
def _stop_all() -> None:
    for process in list(_RUNNING):
        process.stop(timeout=5.0)


__all__ = ["ControlPlaneError", "ManagedProcess", "free_port", "http_status", "wait_until"]

"""Exec, with and without a terminal, against pods on kwok nodes, compared with kubectl on the same pods.

kwok runs exec'd commands on this machine (see :mod:`dynaclient.testing.kwok`). The rig builds kwok v0.7.0 with a
small patch (:mod:`dynaclient.testing.kwok_patch`) so that exec behaves as on a kubelet backed by containerd, and the
tests compare both clients on those semantics:

* A non-zero exit is the ``NonZeroExitCode`` Status carrying the code (``exit 3`` is exit code 3 for dynaclient and
  for ``kubectl exec``; a command killed by SIGKILL is 137). Unpatched kwok wraps ``os/exec``'s error with
  ``fmt.Errorf``, which the kubelet's stream server only reports as an ``InternalError``.
* End-of-file on stdin reaches the command without a terminal: v5's CLOSE (``FF 00``, dynaclient) and SPDY's
  half-close (kubectl's) both end ``cat``. Unpatched kwok never closes the command's stdin pipe. With a TTY (kwok's
  pty, ``debugging_exec_other.go``), end-of-file is the terminal's: ^D at the start of a line, as a user types it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pty
import re
import select
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dynaclient import BadRequestError, ExecError, StreamClosedError
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane
from tests.integration.cluster_rig import KUBECTL
from tests.integration.pod_streams_rig import POD, kubectl, no_thread_left


def test_exec_echo_and_both_output_streams_match_kubectl(
    cluster: ControlPlane, pods: ResourceClient, streams: Any
) -> None:
    assert streams.exec(POD, ["echo", "hello"]) == (0, b"hello\n", b"")
    command = ["sh", "-c", "echo out; echo err >&2; echo more"]
    exit_code, stdout, stderr = streams.exec(POD, command)
    theirs = kubectl(cluster, pods, "exec", POD, "--", *command)
    their_stderr = _without_kubectl_logs(theirs.stderr)
    assert (
        (exit_code, stdout, stderr) == (theirs.returncode, theirs.stdout, their_stderr) == (0, b"out\nmore\n", b"err\n")
    )


def test_exec_feeds_stdin(cluster: ControlPlane, pods: ResourceClient, streams: Any) -> None:
    data = os.urandom(300_000)
    command = ["sh", "-c", f"head -c {len(data)} | sha256sum"]
    ours = streams.exec(POD, command, stdin=data, timeout=60)
    theirs = kubectl(cluster, pods, "exec", "-i", POD, "--", *command, stdin=data)
    assert ours.exit_code == theirs.returncode == 0
    assert ours.stdout == theirs.stdout == f"{hashlib.sha256(data).hexdigest()}  -\n".encode()


def test_exec_10_mb_of_stdout(cluster: ControlPlane, pods: ResourceClient, streams: Any) -> None:
    command = ["sh", "-c", "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 10485760"]
    ours = streams.exec(POD, command, timeout=120)
    theirs = kubectl(cluster, pods, "exec", POD, "--", *command)
    assert ours.exit_code == theirs.returncode == 0
    assert len(ours.stdout) == 10 * 1024 * 1024
    assert ours.stdout == theirs.stdout


def _without_kubectl_logs(stderr: bytes) -> bytes:
    """kubectl adds klog lines to stderr ("E1207 ... websocket.go:296] Unknown stream id 1, discarding message")."""
    return re.sub(rb"(?m)^[EIW]\d{4} [^\n]*\n", b"", stderr)


@pytest.mark.parametrize(
    ("script", "code"),
    [("exit 0", 0), ("echo out; echo err >&2; exit 3", 3), ("echo out; kill -9 $$", 137)],
    ids=["exit-0", "exit-3", "sigkill"],
)
def test_exec_exit_codes_as_kubectl_reports_them(
    cluster: ControlPlane, pods: ResourceClient, streams: Any, script: str, code: int
) -> None:
    # A non-zero exit is NonZeroExitCode with the code (a signal as 128 + its number, as containerd reports it):
    # a result for dynaclient, kubectl's own exit code, which adds its line to stderr.
    ours = streams.exec(POD, ["sh", "-c", script])
    theirs = kubectl(cluster, pods, "exec", POD, "--", "sh", "-c", script)
    their_stderr = _without_kubectl_logs(theirs.stderr)
    if code:
        assert their_stderr.endswith(f"command terminated with exit code {code}\n".encode())
        their_stderr = their_stderr.rsplit(b"command terminated", 1)[0]
    assert ours.exit_code == theirs.returncode == code
    assert (ours.stdout, ours.stderr) == (theirs.stdout, their_stderr)


def test_exec_of_a_missing_command_fails_to_start_as_in_kubectl(
    cluster: ControlPlane, pods: ResourceClient, streams: Any
) -> None:
    with pytest.raises(ExecError, match="executable file not found") as caught:
        streams.exec(POD, ["no-such-command-dynaclient"])
    theirs = kubectl(cluster, pods, "exec", POD, "--", "no-such-command-dynaclient")
    assert theirs.returncode != 0
    assert "executable file not found" in theirs.stderr.decode()
    assert "no-such-command-dynaclient" in str(caught.value)


def _read_until(read: Callable[[], bytes], pattern: bytes) -> bytes:
    seen = b""
    while pattern not in seen:
        chunk = read()
        assert chunk, f"the stream ended before {pattern!r}; got {seen!r}"
        seen += chunk
    return seen


@pytest.mark.parametrize("command", [["cat"], ["wc", "-c"]], ids=["cat", "wc"])
def test_exec_reads_stdin_to_its_end_without_a_terminal_as_kubectl_does(
    cluster: ControlPlane, pods: ResourceClient, streams: Any, command: list[str]
) -> None:
    # Both commands end only once stdin is closed: v5's CLOSE for dynaclient, SPDY's half-close for kubectl.
    data = os.urandom(200_000)
    ours = streams.exec(POD, command, stdin=data, timeout=60)
    theirs = kubectl(cluster, pods, "exec", "-i", POD, "--", *command, stdin=data)
    assert ours.exit_code == theirs.returncode == 0
    assert ours.stdout == theirs.stdout == (data if command == ["cat"] else f"{len(data)}\n".encode())
    assert ours.stderr == _without_kubectl_logs(theirs.stderr) == b""


def test_closing_stdin_of_a_session_ends_a_command_reading_it(streams: Any) -> None:
    with no_thread_left(), streams.exec_stream(POD, ["sh", "-c", "cat; echo '[eof]'"], stdin=True) as session:
        assert session.protocol == "v5.channel.k8s.io"
        session.write_stdin(b"line\n")
        assert _read_until(lambda: session.read_stdout(timeout=30), b"line\n") == b"line\n"
        session.close_stdin()
        assert session.wait(timeout=30) == 0
        assert _read_until(session.read_stdout, b"[eof]\n") == b"[eof]\n"


TYPED = b"hello\nworld\n\x04"  # two lines, then ^D at the start of a line: end-of-file on a terminal


TO_EOF = ["sh", "-c", "stty -echo; echo ready; cat; echo '[eof]'; read keep"]
"""The shell waits for one more line after ``cat`` has met end-of-file: kwok drops a pty's last output when the
command exits at once. Echo is off (and the input sent only once the shell says so), so the output is fixed."""


TO_EOF_OUTPUT = b"ready\r\nhello\r\nworld\r\n[eof]\r\n"


@contextlib.contextmanager
def kubectl_in_a_terminal(
    cluster: ControlPlane, pods: Any, *args: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Run kubectl on a pseudo-terminal (``exec -t`` needs one); yield it and the terminal's master side.

    kubectl's own stderr goes to a file, not to the terminal: it logs there (klog, e.g. "Unknown stream id 1,
    discarding message" when a frame of its WebSocket stream arrives for a stream it has closed), and with a TTY the
    command's own stderr comes through the terminal anyway.
    """
    master, slave = pty.openpty()
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", "-n", pods.namespace_name, *args]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=log, start_new_session=True)
        os.close(slave)
        try:
            yield process, master
        finally:
            process.kill()
            process.wait(10)
            os.close(master)


def _read_terminal(master: int, pattern: bytes) -> bytes:
    seen = b""
    while pattern not in seen:
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, f"kubectl wrote nothing for 30 s; got {seen!r}"
        seen += os.read(master, 65536)
    return seen


def test_exec_reads_stdin_to_the_end_of_file_of_a_terminal_as_kubectl_does(
    cluster: ControlPlane, pods: ResourceClient, streams: Any
) -> None:
    with no_thread_left(), streams.exec_stream(POD, TO_EOF, stdin=True, tty=True) as session:
        ours = _read_until(lambda: session.read_stdout(timeout=30), b"ready\r\n")
        session.write_stdin(TYPED)
        ours += _read_until(lambda: session.read_stdout(timeout=30), b"[eof]\r\n")
        session.write_stdin(b"done\n")
        assert session.wait(timeout=30) == 0
    with kubectl_in_a_terminal(cluster, pods, "exec", "-it", POD, "--", *TO_EOF) as (process, master):
        theirs = _read_terminal(master, b"ready\r\n")
        os.write(master, TYPED)
        theirs += _read_terminal(master, b"[eof]\r\n")
        os.write(master, b"done\n")
        assert process.wait(30) == 0
    assert ours == theirs == TO_EOF_OUTPUT


def test_exec_with_a_tty_follows_resizes(streams: Any) -> None:
    # Resize and stdin are separate streams past the API server (SPDY streams to the node, one goroutine each), so a
    # line written after a resize may reach the shell before the terminal has its new size: the test asks for the
    # size until the terminal reports the new one, as a user would see it change.
    command = ["sh", "-c", 'while read line && [ "$line" != done ]; do stty size; done']
    with no_thread_left(), streams.exec_stream(POD, command, stdin=True, tty=True) as session:
        for columns, rows in ((80, 24), (132, 50)):
            session.resize(columns, rows)
            _wait_for_terminal_size(session, rows, columns)
        session.write_stdin(b"done\n")
        assert session.wait(timeout=30) == 0
        assert session.read_stderr() == b""


_TERMINAL_SIZE = re.compile(rb"^(\d+) (\d+)\r?$", re.MULTILINE)


def _wait_for_terminal_size(session: Any, rows: int, columns: int, attempts: int = 50) -> None:
    """Ask the shell for the terminal's size (one answer per line written) until it is ``rows`` x ``columns``."""
    reported: list[tuple[int, int]] = []
    for _ in range(attempts):
        session.write_stdin(b"size\n")
        output = b""
        while not (sizes := _TERMINAL_SIZE.findall(output)):
            chunk = session.read_stdout(timeout=30)
            assert chunk, f"the shell ended; it reported {reported}"
            output += chunk
        reported += [(int(r), int(c)) for r, c in sizes]
        if reported[-1] == (rows, columns):
            return
    raise AssertionError(f"the terminal never reported {rows} {columns}; it reported {reported}")


def test_exec_session_reads_stdout_and_stderr_from_two_threads(streams: Any) -> None:
    command = ["sh", "-c", "for i in $(seq 1 2000); do echo out$i; echo err$i >&2; done"]
    with no_thread_left(), streams.exec_stream(POD, command) as session:
        got: dict[str, bytes] = {}

        def drain(name: str, read: Callable[[], bytes]) -> None:
            got[name] = b"".join(iter(read, b""))

        readers = [
            threading.Thread(target=drain, args=("out", session.read_stdout)),
            threading.Thread(target=drain, args=("err", session.read_stderr)),
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(60)
        assert session.wait() == 0
    assert got["out"] == b"".join(b"out%d\n" % i for i in range(1, 2001))
    assert got["err"] == b"".join(b"err%d\n" % i for i in range(1, 2001))


def test_a_closed_session_gives_typed_errors(streams: Any) -> None:
    with no_thread_left():
        session = streams.exec_stream(POD, ["sleep", "30"], stdin=True)
        session.close()
        with pytest.raises(StreamClosedError):
            session.write_stdin(b"late")
        with pytest.raises(StreamClosedError, match="closed before the command's exit status"):
            session.wait()


def test_exec_in_a_missing_container_is_a_typed_error(streams: Any) -> None:
    with pytest.raises(BadRequestError, match="container nope is not valid"):
        streams.exec(POD, ["true"], container="nope")

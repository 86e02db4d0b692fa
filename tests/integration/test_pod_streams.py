"""Logs, exec, attach and port-forward against pods on kwok nodes, compared with kubectl on the same pods.

kwok runs exec'd commands on this machine and reads logs from files the tests write (see
:mod:`dynaclient.testing.kwok`). The rig builds kwok v0.7.0 with a small patch (:mod:`dynaclient.testing.kwok_patch`)
so that exec behaves as on a kubelet backed by containerd, and the tests compare both clients on those semantics:

* A non-zero exit is the ``NonZeroExitCode`` Status carrying the code (``exit 3`` is exit code 3 for dynaclient and
  for ``kubectl exec``; a command killed by SIGKILL is 137). Unpatched kwok wraps ``os/exec``'s error with
  ``fmt.Errorf``, which the kubelet's stream server only reports as an ``InternalError``.
* End-of-file on stdin reaches the command without a terminal: v5's CLOSE (``FF 00``, dynaclient) and SPDY's
  half-close (kubectl's) both end ``cat``. Unpatched kwok never closes the command's stdin pipe. With a TTY (kwok's
  pty, ``debugging_exec_other.go``), end-of-file is the terminal's: ^D at the start of a line, as a user types it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import hashlib
import os
import pty
import re
import select
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from dynaclient import (
    APIError,
    BadRequestError,
    DynamicClient,
    ExecError,
    PortForwardError,
    StreamClosedError,
    TransportError,
    client_from_config,
    load_kubeconfig,
)
from dynaclient.aio import AsyncDynamicClient
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane, kwok
from dynaclient.testing.kwok import cri_log_line, write_container_log
from dynaclient.testing.pytest_plugin import ExistingCluster
from tests.integration.flavours import BlockingPodStreams, LoopThread
from tests.integration.loopback_proxy import LoopbackProxy

KUBECTL = "/usr/bin/kubectl"
POD = "app"


@pytest.fixture(scope="module")
def cluster(kube_cluster: ControlPlane | ExistingCluster) -> ControlPlane:
    if isinstance(kube_cluster, ExistingCluster):
        pytest.skip("these tests need the local rig's kwok nodes, not DYNACLIENT_TEST_KUBECONFIG")
    return kube_cluster


@pytest.fixture(scope="module")
def client(cluster: ControlPlane) -> Iterator[DynamicClient]:
    with DynamicClient.from_api_client(client_from_config(load_kubeconfig(cluster.kubeconfig_path))) as dynamic:
        yield dynamic


def _wait_running(pods: ResourceClient, name: str) -> None:
    deadline = time.monotonic() + 30
    while pods.get(name).get("status", {}).get("phase") != "Running":
        assert time.monotonic() < deadline, f"pod {name} did not become Running"
        time.sleep(0.05)  # kwok runs in another process: poll it


def _create_pod(pods: ResourceClient, name: str) -> None:
    container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    pods.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}})
    _wait_running(pods, name)


@pytest.fixture(scope="module")
def pods(client: DynamicClient) -> Iterator[ResourceClient]:
    namespace = f"streams-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": namespace}})
    bound = client.resource("pods").namespace(namespace)
    _create_pod(bound, POD)
    yield bound
    client.request("DELETE", f"/api/v1/namespaces/{namespace}")


@pytest.fixture(scope="module")
def async_pods(
    cluster: ControlPlane, pods: ResourceClient, event_loop_thread: LoopThread
) -> Iterator[BlockingPodStreams]:
    """The asyncio client's pods in the same namespace, used from the test's thread (tests/integration/flavours.py)."""
    client = AsyncDynamicClient.from_config(load_kubeconfig(cluster.kubeconfig_path))
    resource = event_loop_thread.run(client.resource("pods"))
    yield BlockingPodStreams(event_loop_thread, resource.namespace(pods.namespace_name))
    event_loop_thread.run(client.aclose())


@pytest.fixture
def streams(flavour: str, pods: ResourceClient, async_pods: BlockingPodStreams) -> Any:
    """Whose logs, exec, attach and port-forward a scenario runs: the threaded client's or the asyncio one's."""
    return pods if flavour == "sync" else async_pods


def kubectl(cluster: ControlPlane, pods: Any, *args: str, stdin: bytes | None = None) -> Any:
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", "-n", pods.namespace_name, *args]
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=60, check=False)


@contextlib.contextmanager
def no_thread_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5

    def ours() -> set[threading.Thread]:  # the tests' own echo servers and relays end on their own schedule
        return {t for t in set(threading.enumerate()) - before if not t.name.startswith("test-")}

    while (left := ours()) and time.monotonic() < deadline:
        time.sleep(0.02)  # library threads finish their last step after close() returns
    assert not left, f"threads left behind: {left}"


# -- logs ------------------------------------------------------------------------------------------------------

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
OLD = NOW - datetime.timedelta(hours=2)


@pytest.fixture(scope="module")
def log_file(cluster: ControlPlane, pods: ResourceClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "app.log"
    old = [cri_log_line(f"old line {i} ünïcode", time=OLD + datetime.timedelta(seconds=i)) for i in range(5)]
    new = [cri_log_line(f"new line {i}", time=NOW + datetime.timedelta(seconds=i)) for i in range(5)]
    path.write_text("".join([*old, cri_log_line("from stderr", stream="stderr", time=NOW), *new]))
    cluster.serve_pod_logs(pods.namespace_name, POD, path)
    _wait_served(pods, POD)
    return path


def _wait_served(pods: ResourceClient, name: str) -> None:
    """Wait until kwok, which watches its Logs objects from another process, serves the pod's log."""
    deadline = time.monotonic() + 30
    while True:
        try:
            pods.logs(name, limit_bytes=1).read()
            return
        except BadRequestError as exc:
            if "no logs found" not in exc.message:
                raise
            assert time.monotonic() < deadline, f"kwok did not serve the log of {name}"
            time.sleep(0.05)  # kwok runs in another process: poll it


SINCE = (OLD + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
LOG_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({}, []),
    ({"tail_lines": 3}, ["--tail=3"]),
    ({"tail_lines": 0}, ["--tail=0"]),
    ({"since_seconds": 3600}, ["--since=3600s"]),
    ({"since_time": SINCE}, [f"--since-time={SINCE}"]),
    ({"timestamps": True}, ["--timestamps"]),
    ({"limit_bytes": 25}, ["--limit-bytes=25"]),
    ({"tail_lines": 2, "timestamps": True}, ["--tail=2", "--timestamps"]),
]


@pytest.mark.parametrize(("options", "flags"), LOG_CASES, ids=[" ".join(f) or "full" for _, f in LOG_CASES])
def test_logs_are_byte_identical_to_kubectl(
    cluster: ControlPlane, streams: Any, log_file: Path, options: dict[str, Any], flags: list[str]
) -> None:
    ours = streams.logs(POD, **options).read()
    theirs = kubectl(cluster, streams, "logs", POD, *flags)
    assert theirs.returncode == 0, theirs.stderr
    assert ours == theirs.stdout
    assert ours or options == {"tail_lines": 0}


def test_logs_lines_decode_and_a_limit_ends_a_follow(streams: Any, log_file: Path) -> None:
    lines = list(streams.logs(POD, tail_lines=2))
    assert lines == ["new line 3", "new line 4"]
    assert next(iter(streams.logs(POD))) == "old line 0 ünïcode"
    with streams.logs(POD, follow=True, limit_bytes=10) as log:
        assert log.read() == b"old line 0"
        assert log.ended


def _read_line(stream: Any) -> bytes:
    line: bytes = stream.readline()
    return line


def test_follow_of_a_growing_log_matches_kubectl(
    cluster: ControlPlane, pods: ResourceClient, tmp_path: Path, streams: Any, flavour: str
) -> None:
    growing = f"growing-{flavour}"
    _create_pod(pods, growing)
    path = tmp_path / "growing.log"
    write_container_log(path, ["before 1", "before 2"])
    cluster.serve_pod_logs(pods.namespace_name, growing, path)
    _wait_served(pods, growing)
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", "-n", pods.namespace_name, "logs", "-f", "--tail=1"]
    follower = subprocess.Popen([*argv, growing], stdout=subprocess.PIPE)
    with no_thread_left():
        log = streams.logs(growing, follow=True, tail_lines=1)
        chunks = log.lines(keepends=True)
        assert next(chunks) == "before 2\n"
        assert follower.stdout is not None
        assert _read_line(follower.stdout) == b"before 2\n"
        appended = [f"appended {i} " + "x" * (i * 37 % 300) for i in range(200)]
        write_container_log(path, appended[:100])
        write_container_log(path, appended[100:])
        ours = "".join(next(chunks) for _ in appended).encode()
        theirs = b"".join(_read_line(follower.stdout) for _ in appended)
        assert ours == theirs == "".join(f"{line}\n" for line in appended).encode()
        # Closing from another thread ends the blocked iteration quietly.
        threading.Timer(0.2, log.close).start()
        assert list(chunks) == []
        assert log.closed
        assert not log.ended
    follower.kill()
    follower.wait(10)
    follower.stdout.close()


def test_previous_logs_read_the_terminated_instance_as_kubectl_does(
    cluster: ControlPlane, pods: ResourceClient, tmp_path: Path, streams: Any, flavour: str
) -> None:
    # kwok cannot restart a container; its Logs object names the previous instance's file (previousLogsFile).
    restarted = f"restarted-{flavour}"
    _create_pod(pods, restarted)
    current, previous = tmp_path / "current.log", tmp_path / "previous.log"
    write_container_log(current, ["current 1"])
    write_container_log(previous, ["previous 1", "previous 2"])
    logs = kwok.pod_logs(pods.namespace_name, restarted, current, previous_logs_file=previous)
    cluster.admin_http().apply(kwok.resource_path("Logs", pods.namespace_name), logs)
    _wait_served(pods, restarted)
    ours = streams.logs(restarted, previous=True).read()
    theirs = kubectl(cluster, pods, "logs", "--previous", restarted)
    assert theirs.returncode == 0, theirs.stderr
    assert ours == theirs.stdout == b"previous 1\nprevious 2\n"
    assert streams.logs(restarted).read() == b"current 1\n"


def test_previous_logs_of_a_container_never_restarted_is_a_typed_error(
    cluster: ControlPlane, pods: ResourceClient, log_file: Path, streams: Any
) -> None:
    with pytest.raises(APIError) as caught:
        streams.logs(POD, previous=True)
    theirs = kubectl(cluster, pods, "logs", "--previous", POD)
    assert theirs.returncode != 0
    assert caught.value.message in theirs.stderr.decode()
    assert caught.value.message


def test_logs_of_a_missing_container_is_a_typed_error(
    cluster: ControlPlane, pods: ResourceClient, log_file: Path, streams: Any
) -> None:
    with pytest.raises(BadRequestError, match="container nope is not valid for pod app") as caught:
        streams.logs(POD, container="nope")
    theirs = kubectl(cluster, pods, "logs", POD, "-c", "nope")
    assert caught.value.message in theirs.stderr.decode()


# -- exec ------------------------------------------------------------------------------------------------------


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


# -- attach ----------------------------------------------------------------------------------------------------


def test_attach_streams_what_the_container_writes(
    cluster: ControlPlane, pods: ResourceClient, tmp_path: Path, streams: Any
) -> None:
    path = tmp_path / "attach.log"
    cluster.serve_pod_attach(pods.namespace_name, POD, path)
    with no_thread_left(), streams.attach(POD) as session:
        deadline = time.monotonic() + 30
        seen = b""
        while b"attached line" not in seen:  # kwok follows the file from its end once the attach is set up
            assert time.monotonic() < deadline
            write_container_log(path, ["attached line"])
            with contextlib.suppress(TimeoutError):
                seen += session.read_stdout(timeout=0.5)


# -- port-forward ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def echo_port(cluster: ControlPlane, pods: ResourceClient) -> Iterator[int]:
    """A local echo server, served as port 8080 (and 8081) of the pod."""
    server = socket.create_server(("127.0.0.1", 0))
    threads: list[threading.Thread] = []

    def echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(262144):
                connection.sendall(data)

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            thread = threading.Thread(target=echo, args=(connection,), name="test-echo", daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=serve, name="test-echo-accept", daemon=True)
    acceptor.start()
    port = server.getsockname()[1]
    cluster.serve_pod_port_forward(pods.namespace_name, POD, {8080: port, 8081: port})
    yield port
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    acceptor.join(5)


def _round_trip(send: Callable[[bytes], None], receive: Callable[[int], bytes], data: bytes) -> bytes:
    sender = threading.Thread(target=send, args=(data,))
    sender.start()
    received = bytearray()
    while len(received) < len(data):
        chunk = receive(1 << 20)
        assert chunk, f"the connection ended after {len(received)} of {len(data)} bytes"
        received += chunk
    sender.join(60)
    return bytes(received)


@pytest.mark.timeout(180)
def test_port_stream_round_trips_100_mb(streams: Any, echo_port: int) -> None:
    data = os.urandom(1 << 20) * 100
    with no_thread_left(), streams.connect_port(POD, 8080) as stream:
        assert _round_trip(stream.sendall, stream.recv, data) == data


@pytest.mark.timeout(180)
def test_port_forwarder_100_mb_and_20_concurrent_connections(streams: Any, echo_port: int) -> None:
    with no_thread_left():
        forwarder = streams.port_forward(POD, [":8080", ":8081"])
        with forwarder:
            local = forwarder.ports[8080]
            big = os.urandom(1 << 20) * 100
            with socket.create_connection(("127.0.0.1", local)) as connection:
                assert _round_trip(connection.sendall, connection.recv, big) == big
            results: dict[int, bool] = {}

            def one(index: int) -> None:
                data = os.urandom(1 << 20) + bytes([index]) * 1000
                port = forwarder.ports[8080 + index % 2]
                with socket.create_connection(("127.0.0.1", port)) as connection:
                    results[index] = _round_trip(connection.sendall, connection.recv, data) == data

            workers = [threading.Thread(target=one, args=(i,)) for i in range(20)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(120)
            assert results == dict.fromkeys(range(20), True)
            assert forwarder.errors == []
        with pytest.raises(OSError):  # noqa: PT011 - closed: the kernel refuses, in its own words
            socket.create_connection(("127.0.0.1", local), timeout=2)


def test_port_without_a_forward_is_a_typed_error(streams: Any, echo_port: int) -> None:
    with no_thread_left(), streams.connect_port(POD, 9999) as stream:
        with pytest.raises(PortForwardError, match="port 9999"):
            stream.recv()
        assert stream.recv() == b""


def test_kubectl_port_forward_agrees(cluster: ControlPlane, pods: ResourceClient, echo_port: int, streams: Any) -> None:
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", "-n", pods.namespace_name, "port-forward", POD]
    forward = subprocess.Popen([*argv, ":8080"], stdout=subprocess.PIPE, text=True)
    try:
        assert forward.stdout is not None
        match = re.search(r"127\.0\.0\.1:(\d+) -> 8080", forward.stdout.readline())
        assert match
        data = os.urandom(1 << 20)
        with (
            socket.create_connection(("127.0.0.1", int(match.group(1)))) as theirs,
            streams.connect_port(POD, 8080) as ours,
        ):
            assert _round_trip(theirs.sendall, theirs.recv, data) == _round_trip(ours.sendall, ours.recv, data)
    finally:
        forward.kill()
        forward.wait(10)
        if forward.stdout is not None:
            forward.stdout.close()


# -- the connection dropped under a stream ---------------------------------------------------------------------


@contextlib.contextmanager
def nothing_left(loop: LoopThread | None) -> Iterator[None]:
    """No thread started inside is left once it ends, nor, given the asyncio client's loop, a task of that loop."""

    async def tasks() -> set[asyncio.Task[Any]]:
        return asyncio.all_tasks() - {asyncio.current_task()}

    before = loop.run(tasks()) if loop is not None else set()
    with no_thread_left():
        yield
    if loop is None:
        return
    deadline = time.monotonic() + 5
    while (left := loop.run(tasks()) - before) and time.monotonic() < deadline:
        time.sleep(0.02)  # cancelled tasks finish on the loop's next turns
    assert not left, f"tasks left behind: {left}"


@pytest.fixture
def through_proxy(
    cluster: ControlPlane, pods: ResourceClient, flavour: str, event_loop_thread: LoopThread
) -> Iterator[tuple[LoopbackProxy, Any, LoopThread | None]]:
    """A loopback proxy in front of the real API server (no fake server) and the flavour's pod streams through it."""
    config = load_kubeconfig(cluster.kubeconfig_path)
    proxy = LoopbackProxy(config.server)
    through = dataclasses.replace(config, server=proxy.url, tls_server_name=urlsplit(config.server).hostname)
    if flavour == "sync":
        api_client = client_from_config(through)
        yield proxy, DynamicClient.from_api_client(api_client).resource("pods").namespace(pods.namespace_name), None
        api_client.close()
    else:
        client = AsyncDynamicClient.from_config(through)
        resource = event_loop_thread.run(client.resource("pods")).namespace(pods.namespace_name)
        yield proxy, BlockingPodStreams(event_loop_thread, resource), event_loop_thread
        event_loop_thread.run(client.aclose())
    proxy.close()


def test_a_dropped_connection_ends_every_stream_with_a_typed_error(
    through_proxy: tuple[LoopbackProxy, Any, LoopThread | None], log_file: Path, echo_port: int
) -> None:
    proxy, streams, loop = through_proxy
    with nothing_left(loop):
        session = streams.exec_stream(POD, ["sleep", "30"])
        stream = streams.connect_port(POD, 8080)
        stream.sendall(b"ping")
        assert stream.recv() == b"ping"
        log = streams.logs(POD, follow=True, tail_lines=1)
        lines = iter(log)
        assert next(lines) == "new line 4"
        assert proxy.cut() >= 3  # the log, the exec and the port-forward (and any pooled connection)
        with pytest.raises(StreamClosedError, match="connection was lost"):
            session.wait(timeout=30)
        with pytest.raises(StreamClosedError, match="connection was lost"):
            stream.recv()
        with pytest.raises(TransportError):
            next(lines)
        session.close()
        stream.close()
        log.close()

"""kubectl against a kwok pod of the session's ``kube_cluster`` plane: logs, attach, exec and port-forward."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynaclient.testing import ControlPlane
from dynaclient.testing.kwok import write_container_log
from tests.integration.cluster_rig import HTTP, KUBECTL, _pod, _running, _wait_for
from tests.integration.echo import serve_echo


@pytest.fixture(scope="module")
def kwok_pod(cluster: ControlPlane, http: HTTP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    ns = f"streams-{time.monotonic_ns() % 10**8}"
    http.ok("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    http.ok("POST", f"/api/v1/namespaces/{ns}/pods", _pod("app"))
    _wait_for(lambda: _running([http.ok("GET", f"/api/v1/namespaces/{ns}/pods/app")]), "the pod Running")
    yield ns, "app"
    http("DELETE", f"/api/v1/namespaces/{ns}")


def _kubectl(cluster: ControlPlane, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


@contextlib.contextmanager
def _popen(cluster: ControlPlane, *args: str) -> Iterator[subprocess.Popen[str]]:
    argv = [KUBECTL, f"--kubeconfig={cluster.kubeconfig_path}", *args]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            yield process
        finally:
            process.kill()


def test_kubectl_logs_reads_the_file_the_test_writes(
    cluster: ControlPlane, kwok_pod: tuple[str, str], tmp_path: Path
) -> None:
    ns, pod = kwok_pod
    log = tmp_path / "app.log"
    write_container_log(log, ["first line", "second line"])
    cluster.serve_pod_logs(ns, pod, log)
    _wait_served(cluster, ns, pod, "first line\nsecond line\n")
    with _popen(cluster, "-n", ns, "logs", "-f", "--tail=1", pod) as follow:
        assert follow.stdout is not None
        assert follow.stdout.readline() == "second line\n"
        write_container_log(log, ["appended while following"])
        assert follow.stdout.readline() == "appended while following\n"
    other = tmp_path / "other.log"
    write_container_log(other, ["from another file"], stream="stderr")
    cluster.serve_pod_logs(ns, pod, other)  # serving again replaces what the pod serves
    _wait_served(cluster, ns, pod, "from another file\n")


def _wait_served(cluster: ControlPlane, ns: str, pod: str, expected: str) -> None:
    """Wait until ``kubectl logs`` shows ``expected``: kwok, another process, loads its Logs objects when it sees
    them, so what the pod serves changes a moment after ``serve_pod_logs`` returns."""
    answers: list[subprocess.CompletedProcess[str]] = []

    def served() -> bool:
        answers.append(_kubectl(cluster, "-n", ns, "logs", pod))
        return (answers[-1].returncode, answers[-1].stdout) == (0, expected)

    try:
        _wait_for(served, f"kubectl logs to show {expected!r}")
    except AssertionError as exc:
        last = answers[-1]
        raise AssertionError(f"{exc}; last answer {last.returncode}: {last.stdout!r} {last.stderr!r}") from None


def test_kubectl_attach_streams_lines_appended_after_attaching(
    cluster: ControlPlane, kwok_pod: tuple[str, str], tmp_path: Path
) -> None:
    ns, pod = kwok_pod
    output = tmp_path / "attach.log"
    write_container_log(output, ["written before attaching"])
    cluster.serve_pod_attach(ns, pod, output)
    # kwok loads its Attach objects a moment after they are created: until then kubectl attach ends at once.
    line = _wait_for(lambda: _attach_line(cluster, ns, pod, output), "kubectl attach to stream an appended line")
    assert line.startswith("appended "), line


def _attach_line(cluster: ControlPlane, ns: str, pod: str, output: Path) -> str:
    """Attach with kubectl while lines are appended to ``output``; return the first line it shows ("" if none)."""
    with _popen(cluster, "-n", ns, "attach", pod, "-c", "main") as attach:
        assert attach.stdout is not None

        def append_until_read() -> None:  # kwok streams only what is appended once the stream is open
            for n in range(100):
                if appended.is_set():
                    return
                write_container_log(output, [f"appended {n}"])
                time.sleep(0.2)

        appended = threading.Event()
        writer = threading.Thread(target=append_until_read, daemon=True)
        writer.start()
        line = attach.stdout.readline()
        appended.set()
        writer.join(5)
    return line


def test_kubectl_exec_runs_a_local_command_with_its_output_and_exit_code(
    cluster: ControlPlane, kwok_pod: tuple[str, str], tmp_path: Path
) -> None:
    ns, pod = kwok_pod
    done = _kubectl(cluster, "-n", ns, "exec", pod, "--", "sh", "-c", "echo out; echo err >&2")
    assert (done.returncode, done.stdout, done.stderr) == (0, "out\n", "err\n")
    failed = _kubectl(cluster, "-n", ns, "exec", pod, "--", "sh", "-c", "exit 3")
    # The rig's kwok reports a non-zero exit as NonZeroExitCode, as a kubelet does (dynaclient.testing.kwok_patch).
    assert (failed.returncode, failed.stdout, failed.stderr) == (3, "", "command terminated with exit code 3\n")


def test_kubectl_exec_uses_the_work_dir_and_environment_the_test_sets(
    cluster: ControlPlane, http: HTTP, kwok_pod: tuple[str, str], tmp_path: Path
) -> None:
    ns, _ = kwok_pod
    http.ok("POST", f"/api/v1/namespaces/{ns}/pods", _pod("configured"))
    _wait_for(lambda: _running([http.ok("GET", f"/api/v1/namespaces/{ns}/pods/configured")]), "the pod Running")
    cluster.serve_pod_exec(ns, "configured", work_dir=tmp_path, env={"GREETING": "from-the-test"})
    expected = (0, f"from-the-test in {tmp_path}\n")
    answers: list[subprocess.CompletedProcess[str]] = []

    def configured() -> bool:  # kwok loads the pod's Exec object a moment after it is created
        answers.append(
            _kubectl(cluster, "-n", ns, "exec", "configured", "--", "sh", "-c", 'echo "$GREETING in $(pwd)"')
        )
        return (answers[-1].returncode, answers[-1].stdout) == expected

    try:
        _wait_for(configured, "kubectl exec to run in the configured work dir")
    except AssertionError:
        assert (answers[-1].returncode, answers[-1].stdout) == expected, answers[-1].stderr


@pytest.fixture
def echo_server() -> Iterator[int]:
    with serve_echo() as port:
        yield port


def test_kubectl_port_forward_round_trips_bytes_through_a_local_echo_server(
    cluster: ControlPlane, kwok_pod: tuple[str, str], echo_server: int
) -> None:
    ns, pod = kwok_pod
    cluster.serve_pod_port_forward(ns, pod, {8080: echo_server})
    payload = bytes(range(256)) * 64
    # kwok loads the pod's PortForward object a moment after it is created: until then a connection is refused.
    received = _wait_for(lambda: _forward(cluster, ns, pod, payload), "kubectl port-forward to reach the echo server")
    assert received == payload


def _forward(cluster: ControlPlane, ns: str, pod: str, payload: bytes) -> bytes | None:
    """Send ``payload`` through ``kubectl port-forward`` and return its echo; ``None`` if the connection failed."""
    with _popen(cluster, "-n", ns, "port-forward", f"pod/{pod}", ":8080") as forward:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
        assert match, line
        try:
            with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=10) as connection:
                connection.sendall(payload)
                received = b""
                while len(received) < len(payload):
                    chunk = connection.recv(65536)
                    if not chunk:
                        return None  # the forwarded connection closed early
                    received += chunk
        except ConnectionError:  # reset by kubectl when kwok refused the stream
            return None
        return received

"""Logs and attach against kwok pods (served from files the tests write), compared with kubectl on the same pods."""

from __future__ import annotations

import contextlib
import datetime
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dynaclient import APIError, BadRequestError
from dynaclient.resources.client import ResourceClient
from dynaclient.testing import ControlPlane, kwok
from dynaclient.testing.kwok import write_container_log
from tests.integration.cluster_rig import KUBECTL
from tests.integration.pod_streams_rig import OLD, POD, _create_pod, _wait_served, kubectl, no_thread_left

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

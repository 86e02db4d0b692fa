"""The cluster rig's life cycle: planes started and stopped, a killed test process, a failing component, the CLI."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynaclient.testing import ControlPlane, ControlPlaneError, resolve_binaries
from tests.integration.cluster_rig import HTTP, KUBECTL, _pod, _running, _wait_for


@contextlib.contextmanager
def _killed(process: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        if process.poll() is None:  # a failed assertion must not leave the process running
            process.kill()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


CLUSTER_NAMES = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}


def test_nodes_without_controllers_run_pods_and_stop_ends_every_process() -> None:
    plane = ControlPlane(nodes=1).start()
    pids, work_dir = plane.pids, plane.work_dir
    assert set(pids) == CLUSTER_NAMES - {"kube-controller-manager"}
    http = HTTP(plane)
    http.ok("POST", "/api/v1/namespaces/default/pods", _pod("solo"))
    _wait_for(lambda: _running([http.ok("GET", "/api/v1/namespaces/default/pods/solo")]), "the pod Running")
    assert all(_alive(pid) for pid in pids.values())
    plane.stop()
    assert not any(_alive(pid) for pid in pids.values())
    assert not work_dir.exists()


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(ProcessLookupError):
                if os.getpgid(int(entry.name)) == pgid and _alive(int(entry.name)):
                    members.append(int(entry.name))
    return members


def _sleep_in(pids: list[int]) -> int | None:
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            if Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00600\x00":
                return pid
    return None


def test_a_killed_test_process_leaves_no_cluster_process_behind() -> None:
    script = (
        "import json, subprocess, sys\n"
        "from dynaclient.testing import ControlPlane\n"
        "plane = ControlPlane(controllers=True, nodes=1).start()\n"
        f"kubectl = ['{KUBECTL}', '--kubeconfig', str(plane.kubeconfig_path)]\n"
        "subprocess.run([*kubectl, 'run', 'sleeper', '--image=busybox'], check=True, capture_output=True)\n"
        "subprocess.run([*kubectl, 'wait', '--for=condition=Ready', 'pod/sleeper'], check=True, capture_output=True)\n"
        "exec_ = subprocess.Popen([*kubectl, 'exec', 'sleeper', '--', 'sleep', '600'])\n"
        "print(json.dumps({**plane.pids, 'kubectl': exec_.pid}), flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        pids = json.loads(child.stdout.readline())
        kubectl = pids.pop("kubectl")
        assert set(pids) == CLUSTER_NAMES
        # kwok runs the exec'd command on this machine, in kwok's process group.
        sleeper = _wait_for(lambda: _sleep_in(_group_members(pids["kwok"])), "the exec'd sleep running")
        child.kill()  # SIGKILL: only the kernel's parent-death signal can clean up
        child.wait(10)
    os.kill(kubectl, signal.SIGKILL)  # the child's own client, not part of the plane
    everything = [*pids.values(), sleeper]
    _wait_for(lambda: not any(_alive(pid) for pid in everything), "every cluster process gone", timeout=15)


def test_a_component_that_fails_to_start_is_named_with_its_log_tail(tmp_path: Path) -> None:
    fake = tmp_path / "kube-controller-manager"
    fake.write_text("#!/bin/sh\necho 'E0101 unknown flag: --something (a fake controller manager)' >&2\nexit 3\n")
    fake.chmod(0o755)
    binaries = dataclasses.replace(resolve_binaries(), kube_controller_manager=fake, kube_scheduler=fake)
    plane = ControlPlane(binaries=binaries, controllers=True)
    with pytest.raises(ControlPlaneError) as error:
        plane.start()
    message = str(error.value)
    assert message.startswith("kube-controller-manager exited with 3")
    assert "a fake controller manager" in message
    assert not plane.pids


def test_cli_up_with_controllers_and_nodes_serves_a_cluster_until_ctrl_c() -> None:
    argv = [sys.executable, "-m", "dynaclient.testing", "up", "--controllers", "--nodes", "1"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as up, _killed(up):
        assert up.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("export KUBECONFIG="):
            line = up.stdout.readline()
            assert line, f"up exited early: {up.stderr.read() if up.stderr else ''}"
            lines.append(line.strip())
        assert "nodes: kwok-node-0" in lines
        assert any(line.startswith("kube-controller-manager pid ") for line in lines)
        kubeconfig = lines[-1].split("=", 1)[1]
        done = subprocess.run(
            [KUBECTL, "--kubeconfig", kubeconfig, "get", "nodes", "--no-headers"], capture_output=True, text=True
        )
        assert done.stdout.split()[:2] == ["kwok-node-0", "Ready"], done.stderr
        up.send_signal(signal.SIGINT)
        assert up.wait(30) == 0
    assert not os.path.exists(kubeconfig)

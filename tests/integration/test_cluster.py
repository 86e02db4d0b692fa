"""The whole cluster on loopback: real kube-controller-manager and kube-scheduler, kwok nodes, kubectl streams.

Every test here shares the session's ``kube_cluster`` plane (controllers, scheduler, two kwok nodes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from dynaclient.testing import ControlPlane, ControlPlaneError, resolve_binaries
from dynaclient.testing.kwok import write_container_log
from dynaclient.testing.pytest_plugin import ExistingCluster

KUBECTL = "/usr/bin/kubectl"


class HTTP:
    """Plain `requests` calls to the plane as its token administrator."""

    def __init__(self, plane: ControlPlane) -> None:
        self.base = plane.server_url
        self.verify = str(plane.ca_path)
        self.headers = {"Authorization": f"Bearer {plane.token}"}

    def __call__(self, method: str, path: str, body: object = None, **params: str) -> requests.Response:
        return requests.request(
            method, self.base + path, json=body, params=params, headers=self.headers, verify=self.verify, timeout=30
        )

    def ok(self, method: str, path: str, body: object = None, **params: str) -> dict[str, Any]:
        response = self(method, path, body, **params)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text[:300]}"
        result: dict[str, Any] = response.json()
        return result

    def merge_patch(self, path: str, patch: dict[str, Any]) -> None:
        headers = {**self.headers, "Content-Type": "application/merge-patch+json"}
        response = requests.patch(self.base + path, json=patch, headers=headers, verify=self.verify, timeout=30)
        assert response.status_code == 200, response.text[:300]

    def items(self, path: str, **params: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok("GET", path, **params)["items"]
        return items


@pytest.fixture(scope="module")
def cluster(kube_cluster: ControlPlane | ExistingCluster) -> ControlPlane:
    if isinstance(kube_cluster, ExistingCluster):
        pytest.skip("these tests exercise the local cluster rig (kwok nodes), not DYNACLIENT_TEST_KUBECONFIG")
    return kube_cluster


@pytest.fixture(scope="module")
def http(cluster: ControlPlane) -> HTTP:
    return HTTP(cluster)


def _wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)  # polling real controllers that run in other processes
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def _pod(name: str) -> dict[str, Any]:
    container = {"name": "main", "image": "registry.k8s.io/pause:3.10"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


def _running(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p for p in pods if p.get("status", {}).get("phase") == "Running" and "deletionTimestamp" not in p["metadata"]
    ]


def _app_pods(http: HTTP, namespace: str, app: str) -> list[dict[str, Any]]:
    return http.items(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"app={app}")


def test_the_cluster_has_ready_kwok_nodes(cluster: ControlPlane, http: HTTP) -> None:
    nodes = http.items("/api/v1/nodes")
    ready = {
        n["metadata"]["name"]
        for n in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
    }
    assert ready == set(cluster.node_names) == {"kwok-node-0", "kwok-node-1"}


def test_a_deployment_runs_its_pods_on_kwok_nodes_and_scaling_down_deletes_pods(
    cluster: ControlPlane, http: HTTP, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    http.ok("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", _deployment("web", 3))
    pods = _wait_for(lambda: len(_running(_app_pods(http, ns, "web"))) == 3 and _app_pods(http, ns, "web"), "3 pods")
    assert {p["spec"]["nodeName"] for p in pods} <= set(cluster.node_names)
    assert all(p["status"]["podIP"].startswith("10.244.") for p in pods)
    http.merge_patch(f"/apis/apps/v1/namespaces/{ns}/deployments/web", {"spec": {"replicas": 1}})
    _wait_for(lambda: len(_app_pods(http, ns, "web")) == 1, "2 of 3 pods deleted")
    assert len(_running(_app_pods(http, ns, "web"))) == 1


@pytest.mark.parametrize("propagation", ["Background", "Foreground"])
def test_deleting_a_deployment_removes_its_replica_set_and_pods(
    http: HTTP, cluster_namespace: str, propagation: str
) -> None:
    ns = cluster_namespace
    http.ok("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", _deployment("doomed", 2))
    _wait_for(lambda: len(_running(_app_pods(http, ns, "doomed"))) == 2, "2 running pods")
    assert len(http.items(f"/apis/apps/v1/namespaces/{ns}/replicasets")) == 1
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
    http.ok("DELETE", f"/apis/apps/v1/namespaces/{ns}/deployments/doomed", options)
    _wait_for(lambda: not http.items(f"/apis/apps/v1/namespaces/{ns}/replicasets"), "the ReplicaSet gone")
    _wait_for(lambda: not _app_pods(http, ns, "doomed"), "the pods gone")
    assert http("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/doomed").status_code == 404


def test_a_job_completes_on_a_kwok_node(http: HTTP, cluster_namespace: str) -> None:
    ns = cluster_namespace
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"}, "spec": {"template": template}}
    http.ok("POST", f"/apis/batch/v1/namespaces/{ns}/jobs", job)
    path = f"/apis/batch/v1/namespaces/{ns}/jobs/once"
    # kwok's default pod stages complete a Job's pods; the job controller then records the success.
    _wait_for(lambda: http.ok("GET", path).get("status", {}).get("succeeded") == 1, "the Job succeeded")


def test_deleting_a_namespace_with_objects_in_it_completes(http: HTTP) -> None:
    ns = f"doomed-{time.monotonic_ns() % 10**8}"
    http.ok("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    http.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    http.ok("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", _deployment("web", 1))
    _wait_for(lambda: len(_running(_app_pods(http, ns, "web"))) == 1, "a running pod")
    http.ok("DELETE", f"/api/v1/namespaces/{ns}")
    _wait_for(lambda: http("GET", f"/api/v1/namespaces/{ns}").status_code == 404, "the namespace gone", timeout=60)


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.rig.dynaclient.dev"},
    "spec": {
        "group": "rig.dynaclient.dev",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


@pytest.mark.timeout(120)
def test_an_object_owned_by_a_custom_resource_is_collected_when_the_owner_is_deleted(
    http: HTTP, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    if http("GET", f"{crds}/widgets.rig.dynaclient.dev").status_code == 404:
        http.ok("POST", crds, WIDGET_CRD)
    widgets = f"/apis/rig.dynaclient.dev/v1/namespaces/{ns}/widgets"
    _wait_for(lambda: http("GET", widgets).status_code == 200, "the Widget resource served")
    owner = http.ok(
        "POST", widgets, {"apiVersion": "rig.dynaclient.dev/v1", "kind": "Widget", "metadata": {"name": "w"}}
    )
    reference = {"apiVersion": "rig.dynaclient.dev/v1", "kind": "Widget", "name": "w", "uid": owner["metadata"]["uid"]}
    body = {"metadata": {"name": "owned", "ownerReferences": [reference]}, "data": {"a": "1"}}
    http.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", body)
    http.ok("DELETE", f"{widgets}/w")
    # The garbage collector learns new resources from discovery every 30 s (kcm's garbagecollector.Sync period).
    gone = lambda: http("GET", f"/api/v1/namespaces/{ns}/configmaps/owned").status_code == 404  # noqa: E731
    _wait_for(gone, "the owned ConfigMap collected", timeout=90)


# -- kubectl against a kwok pod --------------------------------------------------------------------------------


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
def _killed(process: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        if process.poll() is None:  # a failed assertion must not leave the process running
            process.kill()


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
    done = _kubectl(cluster, "-n", ns, "logs", pod)
    assert (done.returncode, done.stdout) == (0, "first line\nsecond line\n"), done.stderr
    with _popen(cluster, "-n", ns, "logs", "-f", "--tail=1", pod) as follow:
        assert follow.stdout is not None
        assert follow.stdout.readline() == "second line\n"
        write_container_log(log, ["appended while following"])
        assert follow.stdout.readline() == "appended while following\n"
    other = tmp_path / "other.log"
    write_container_log(other, ["from another file"], stream="stderr")
    cluster.serve_pod_logs(ns, pod, other)  # serving again replaces what the pod serves
    assert _kubectl(cluster, "-n", ns, "logs", pod).stdout == "from another file\n"


def test_kubectl_attach_streams_lines_appended_after_attaching(
    cluster: ControlPlane, kwok_pod: tuple[str, str], tmp_path: Path
) -> None:
    ns, pod = kwok_pod
    output = tmp_path / "attach.log"
    write_container_log(output, ["written before attaching"])
    cluster.serve_pod_attach(ns, pod, output)
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
    assert line.startswith("appended "), line


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
    done = _kubectl(cluster, "-n", ns, "exec", "configured", "--", "sh", "-c", 'echo "$GREETING in $(pwd)"')
    assert (done.returncode, done.stdout) == (0, f"from-the-test in {tmp_path}\n"), done.stderr


@pytest.fixture
def echo_server() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))

    def echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(connection,), daemon=True).start()

    accepting = threading.Thread(target=serve, daemon=True)
    accepting.start()
    yield server.getsockname()[1]
    server.close()
    accepting.join(5)


def test_kubectl_port_forward_round_trips_bytes_through_a_local_echo_server(
    cluster: ControlPlane, kwok_pod: tuple[str, str], echo_server: int
) -> None:
    ns, pod = kwok_pod
    cluster.serve_pod_port_forward(ns, pod, {8080: echo_server})
    with _popen(cluster, "-n", ns, "port-forward", f"pod/{pod}", ":8080") as forward:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
        assert match, line
        payload = bytes(range(256)) * 64
        with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=10) as connection:
            connection.sendall(payload)
            received = b""
            while len(received) < len(payload):
                chunk = connection.recv(65536)
                assert chunk, "the forwarded connection closed early"
                received += chunk
        assert received == payload


# -- life cycle ------------------------------------------------------------------------------------------------


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

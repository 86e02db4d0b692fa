"""The local control plane itself: a real kube-apiserver and etcd, reached over plain HTTP and kubectl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster

SAWTOOTH_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "sawtooths.sawtooth.hyperledger.org"},
    "spec": {
        "group": "sawtooth.hyperledger.org",
        "scope": "Namespaced",
        "names": {"plural": "sawtooths", "singular": "sawtooth", "kind": "Sawtooth", "shortNames": ["st"]},
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                        },
                    }
                },
            }
        ],
    },
}
SAWTOOTHS = "/apis/sawtooth.hyperledger.org/v1alpha1/namespaces/{ns}/sawtooths"


class HTTP:
    """Plain `requests` calls to the plane, as one of its two users."""

    def __init__(self, plane: ControlPlane, user: str) -> None:
        self.base = plane.server_url
        self.verify = str(plane.ca_path)
        self.session = requests.Session()
        if user == "token":
            self.session.headers["Authorization"] = f"Bearer {plane.token}"
        else:
            self.session.cert = (str(plane.client_cert_path), str(plane.client_key_path))

    def __call__(self, method: str, path: str, body: object = None, **params: str) -> requests.Response:
        # verify per request: REQUESTS_CA_BUNDLE in the environment would override a session-level setting.
        return self.session.request(method, self.base + path, json=body, params=params, verify=self.verify, timeout=30)


@pytest.fixture(scope="module")
def plane(kube_apiserver: ControlPlane | ExistingCluster) -> ControlPlane:
    if isinstance(kube_apiserver, ExistingCluster):
        pytest.skip("these tests exercise the local control plane itself, not DYNACLIENT_TEST_KUBECONFIG")
    return kube_apiserver


@pytest.fixture(scope="module")
def sawtooth_crd(plane: ControlPlane) -> Iterator[None]:
    http = HTTP(plane, "cert")
    http("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", SAWTOOTH_CRD).raise_for_status()
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{SAWTOOTH_CRD['metadata']['name']}"
    _wait_for(lambda: _established(http("GET", path)), "CRD Established")
    yield
    http("DELETE", path)
    # CRD deletion finishes asynchronously (the apiextensions finalizer); later tests see a settled discovery.
    _wait_for(lambda: http("GET", path).status_code == 404, "CRD deleted")


def _established(response: requests.Response) -> bool:
    conditions = (response.json().get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def _wait_for(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s")
        time.sleep(0.1)  # waiting on the server's own asynchronous work (CRD establishing, process exit)


@pytest.mark.parametrize("user", ["cert", "token"])
def test_configmap_round_trip_over_plain_http(plane: ControlPlane, namespace: str, user: str) -> None:
    http = HTTP(plane, user)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    created = http("POST", path, {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    assert created.status_code == 201, created.text
    listed = http("GET", path).json()
    assert [item["metadata"]["name"] for item in listed["items"]] == ["cm"]
    assert http("DELETE", f"{path}/cm").status_code == 200
    assert http("GET", f"{path}/cm").status_code == 404


@pytest.mark.parametrize(("user", "expected"), [("cert", "admin"), ("token", "token-admin")])
def test_both_users_authenticate_as_themselves(plane: ControlPlane, user: str, expected: str) -> None:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    answer = HTTP(plane, user)("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", review)
    assert answer.status_code == 201, answer.text
    info = answer.json()["status"]["userInfo"]
    assert info["username"] == expected
    assert "system:masters" in info["groups"]


def test_anonymous_requests_are_refused_beyond_health_endpoints(plane: ControlPlane) -> None:
    url = plane.server_url
    assert requests.get(f"{url}/readyz", verify=str(plane.ca_path), timeout=10).status_code == 200
    assert requests.get(f"{url}/api/v1/namespaces", verify=str(plane.ca_path), timeout=10).status_code == 403


@pytest.mark.usefixtures("sawtooth_crd")
def test_sawtooth_custom_resource_round_trip_over_plain_http(plane: ControlPlane, namespace: str) -> None:
    http = HTTP(plane, "cert")
    body = {
        "apiVersion": "sawtooth.hyperledger.org/v1alpha1",
        "kind": "Sawtooth",
        "metadata": {"name": "example-sawtooth"},
        "spec": {"size": 3},
    }
    path = SAWTOOTHS.format(ns=namespace)
    assert http("POST", path, body).status_code == 201
    (item,) = http("GET", path).json()["items"]
    assert item["spec"]["size"] == 3
    assert http("DELETE", f"{path}/example-sawtooth").status_code == 200
    assert http("GET", path).json()["items"] == []


def _kubectl(plane: ControlPlane, *args: str, stdin: str | None = None) -> str:
    command = ["kubectl", f"--kubeconfig={plane.kubeconfig_path}", *args]
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.usefixtures("sawtooth_crd")
@pytest.mark.parametrize("context", ["dynaclient", "dynaclient-token"])
def test_kubectl_creates_lists_and_deletes_through_the_plane(plane: ControlPlane, namespace: str, context: str) -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-kubectl"}, "data": {"a": "b"}},
        {
            "apiVersion": "sawtooth.hyperledger.org/v1alpha1",
            "kind": "Sawtooth",
            "metadata": {"name": "example-sawtooth"},
            "spec": {"size": 3},
        },
    ]
    _kubectl(plane, "--context", context, "-n", namespace, "create", "-f", "-", stdin=yaml.safe_dump_all(manifests))
    listed = json.loads(
        _kubectl(plane, "--context", context, "-n", namespace, "get", "configmaps,sawtooths", "-o", "json")
    )
    assert sorted((i["kind"], i["metadata"]["name"]) for i in listed["items"]) == [
        ("ConfigMap", "from-kubectl"),
        ("Sawtooth", "example-sawtooth"),
    ]
    size = _kubectl(
        plane, "--context", context, "-n", namespace, "get", "st", "example-sawtooth", "-o", "jsonpath={.spec.size}"
    )
    assert size == "3"
    _kubectl(
        plane, "--context", context, "-n", namespace, "delete", "configmap/from-kubectl", "sawtooth/example-sawtooth"
    )
    after = json.loads(
        _kubectl(plane, "--context", context, "-n", namespace, "get", "configmaps,sawtooths", "-o", "json")
    )
    assert after["items"] == []


def test_restart_apiserver_keeps_the_data_and_the_address(plane: ControlPlane, namespace: str) -> None:
    http = HTTP(plane, "token")
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    uid = http("POST", path, {"metadata": {"name": "survivor"}}).json()["metadata"]["uid"]
    before = (plane.server_url, plane.pids["etcd"], plane.pids["kube-apiserver"])
    plane.restart_apiserver()
    assert (plane.server_url, plane.pids["etcd"]) == before[:2]
    assert plane.pids["kube-apiserver"] != before[2]
    assert http("GET", f"{path}/survivor").json()["metadata"]["uid"] == uid


def _watch_from(http: HTTP, path: str, resource_version: str) -> list[dict[str, Any]]:
    response = http("GET", path, watch="1", resourceVersion=resource_version, timeoutSeconds="1")
    if response.status_code != 200:
        return [{"type": "HTTP", "object": response.json()}]
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def _expired(events: list[dict[str, Any]]) -> bool:
    return any(e["type"] in ("ERROR", "HTTP") and e["object"].get("code") == 410 for e in events)


def test_after_compaction_a_watch_from_an_old_resource_version_is_gone() -> None:
    with ControlPlane(watch_cache=False) as plane:
        http = HTTP(plane, "token")
        path = "/api/v1/namespaces/default/configmaps"
        old = http("POST", path, {"metadata": {"name": "c"}, "data": {"n": "0"}}).json()["metadata"]["resourceVersion"]
        for n in range(1, 4):
            http("PUT", f"{path}/c", {"metadata": {"name": "c"}, "data": {"n": str(n)}})
        assert not _expired(_watch_from(http, path, old)), "the watch expired before compaction"
        plane.compact_etcd()
        assert _expired(_watch_from(http, path, old))


def test_with_the_watch_cache_an_old_resource_version_is_gone_once_the_apiserver_relists(plane: ControlPlane) -> None:
    http = HTTP(plane, "token")
    path = "/api/v1/namespaces/default/configmaps"
    old = http("POST", path, {"metadata": {"generateName": "c-"}}).json()["metadata"]["resourceVersion"]
    http("POST", path, {"metadata": {"generateName": "c-"}})
    plane.compact_etcd()
    plane.restart_apiserver()
    assert _expired(_watch_from(http, path, old))


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_stop_ends_every_process_and_removes_the_work_directory() -> None:
    plane = ControlPlane().start()
    pids, work_dir = plane.pids, plane.work_dir
    assert all(_alive(pid) for pid in pids.values())
    plane.stop()
    assert not any(_alive(pid) for pid in pids.values())
    assert not work_dir.exists()
    plane.stop()  # a second stop is harmless


def test_a_killed_test_process_leaves_no_orphan_control_plane(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from dynaclient.testing import ControlPlane\n"
        "plane = ControlPlane().start()\n"
        "print(json.dumps(plane.pids), flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        pids = json.loads(child.stdout.readline())
        assert len(pids) == 2
        child.kill()  # SIGKILL: no atexit, no finally; only the kernel's parent-death signal can clean up
        child.wait(10)
    _wait_for(lambda: not any(_alive(pid) for pid in pids.values()), "orphans gone", timeout=15)


def test_cli_up_serves_kubectl_and_stops_on_ctrl_c() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "dynaclient.testing", "up"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as up:
        assert up.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("export KUBECONFIG="):
            line = up.stdout.readline()
            assert line, f"up exited early: {up.stderr.read() if up.stderr else ''}"
            lines.append(line.strip())
        kubeconfig = lines[-1].split("=", 1)[1]
        assert any(line.startswith("kubeconfig: ") for line in lines)
        done = subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, "get", "namespaces"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "default" in done.stdout
        up.send_signal(signal.SIGINT)
        assert up.wait(30) == 0
        assert not os.path.exists(kubeconfig)

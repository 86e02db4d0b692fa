"""The ``dynaclient`` command line against a real API server, compared with kubectl where kubectl has the command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynaclient.cli import main
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster

KUBECTL = "/usr/bin/kubectl"
Cluster = ControlPlane | ExistingCluster


def run(capsys: pytest.CaptureFixture[str], cluster: Cluster, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--kubeconfig", str(cluster.kubeconfig_path)])
    out, err = capsys.readouterr()
    return code, out, err


def kubectl(cluster: Cluster, *args: str) -> str:
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(cluster.kubeconfig_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def without_volatile(obj: Any) -> Any:
    """Drop what differs between two reads of the same objects (a list's resourceVersion)."""
    if isinstance(obj, dict) and obj.get("kind") == "List":
        obj["metadata"].pop("resourceVersion", None)
    return obj


@pytest.fixture
def populated(kube_apiserver: Cluster, namespace: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    path = tmp_path / "objects.yaml"
    path.write_text(
        "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{tier: {tier}}}\n"
            f"data:\n  text: 'é <&> {name}'\n"
            for name, tier in (("alpha", "web"), ("beta", "db"), ("gamma", "web"))
        )
    )
    code, out, _ = run(capsys, kube_apiserver, "apply", "-f", str(path), "-n", namespace)
    assert code == 0
    assert out.splitlines() == ["configmap/alpha created", "configmap/beta created", "configmap/gamma created"]
    return namespace


@pytest.mark.parametrize("output", ["json", "yaml", "name"])
@pytest.mark.parametrize(
    "selection",
    [
        ["configmaps"],
        ["configmaps", "beta"],
        ["configmaps", "alpha", "gamma"],
        ["configmaps", "-l", "tier=web"],
        ["cm/beta"],
    ],
)
def test_get_output_equals_kubectl(
    kube_apiserver: Cluster, populated: str, capsys: pytest.CaptureFixture[str], output: str, selection: list[str]
) -> None:
    args = [*selection, "-n", populated, "-o", output]
    code, ours, _ = run(capsys, kube_apiserver, "get", *args)
    theirs = kubectl(kube_apiserver, "get", *args)
    assert code == 0
    if output == "name":
        assert ours == theirs
    else:
        load = json.loads if output == "json" else yaml.safe_load
        assert without_volatile(load(ours)) == without_volatile(load(theirs))


def test_get_table_has_kubectls_columns_and_missing_names_exit_1(
    kube_apiserver: Cluster, populated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, ours, _ = run(capsys, kube_apiserver, "get", "configmaps", "-n", populated)
    theirs = kubectl(kube_apiserver, "get", "configmaps", "-n", populated)
    assert code == 0
    assert [line.split()[:2] for line in ours.splitlines()] == [line.split()[:2] for line in theirs.splitlines()]
    code, ours, err = run(capsys, kube_apiserver, "get", "configmaps", "nope", "-n", populated)
    assert (code, ours) == (1, "")
    assert err == 'Error from server (NotFound): configmaps "nope" not found\n'


def test_all_namespaces_and_the_context_namespace(
    kube_apiserver: Cluster, populated: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, kube_apiserver, "get", "configmaps", "-A", "-l", "tier=db")
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines[0][:2] == ["NAMESPACE", "NAME"]
    assert [populated, "beta"] in [line[:2] for line in lines[1:]]  # other tests' namespaces are listed too
    config = yaml.safe_load(kube_apiserver.kubeconfig_path.read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = populated
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    code = main(["get", "configmaps", "-l", "tier=db", "-o", "name", "--kubeconfig", str(kubeconfig)])
    assert (code, capsys.readouterr().out) == (0, "configmap/beta\n")


def test_the_kubectl_transport_prints_the_same(
    kube_apiserver: Cluster, populated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, direct, _ = run(capsys, kube_apiserver, "get", "configmaps", "-n", populated, "-o", "json")
    code_kubectl, via_kubectl, err = run(
        capsys, kube_apiserver, "--transport", "kubectl", "get", "configmaps", "-n", populated, "-o", "json"
    )
    assert (code, code_kubectl, err) == (0, 0, "")
    assert json.loads(via_kubectl) == json.loads(direct)
    code, table, _ = run(capsys, kube_apiserver, "get", "configmaps", "alpha", "-n", populated, "--transport=kubectl")
    assert code == 0
    assert table.splitlines()[0].split() == ["NAME", "AGE"]
    assert table.splitlines()[1].split()[0] == "alpha"


def test_api_resources_match_kubectl(kube_apiserver: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, ours, _ = run(capsys, kube_apiserver, "api-resources", "-o", "name")
    assert code == 0
    assert sorted(ours.split()) == sorted(kubectl(kube_apiserver, "api-resources", "-o", "name").split())


def crd_yaml(group: str) -> str:
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: things.{group}}}
spec:
  group: {group}
  scope: Cluster
  names: {{plural: things, kind: Thing}}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object}}}}
"""


def test_wait_for_established_returns_as_soon_as_the_server_reports_it(
    kube_apiserver: Cluster, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    group = f"c{uuid.uuid4().hex[:8]}.example.com"
    path = tmp_path / "crd.yaml"
    path.write_text(crd_yaml(group))
    assert run(capsys, kube_apiserver, "apply", "-f", str(path))[0] == 0
    started = time.monotonic()
    code, out, _ = run(
        capsys, kube_apiserver, "wait", f"crd/things.{group}", "--for=condition=Established", "--timeout=30s"
    )
    assert time.monotonic() - started < 3
    assert (code, out) == (0, f"customresourcedefinition.apiextensions.k8s.io/things.{group} condition met\n")
    code, out, err = run(capsys, kube_apiserver, "wait", f"crd/things.{group}", "--for=condition=Nope", "--timeout=1s")
    assert code == 1
    assert err.startswith(
        f"error: timed out waiting for the condition on customresourcedefinition.apiextensions.k8s.io/things.{group}"
    )
    code, out, err = run(capsys, kube_apiserver, "wait", f"crd/nope.{group}", "--for=condition=Established")
    assert (code, out, err) == (
        1,
        "",
        f'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "nope.{group}" not found\n',
    )
    code, out, _ = run(capsys, kube_apiserver, "delete", "-f", str(path))
    assert (code, out) == (0, f"customresourcedefinition.apiextensions.k8s.io/things.{group} deleted\n")
    code, _, err = run(capsys, kube_apiserver, "delete", "-f", str(path))
    assert code == 1
    assert "Error from server (NotFound): " in err


def test_bad_manifest_is_one_line_exit_1(
    kube_apiserver: Cluster, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n"
    )
    code, out, err = run(capsys, kube_apiserver, "apply", "-f", str(path), "-n", "default")
    assert (code, out) == (1, "")
    assert err == f"error: {path} document 2 (line 5): unknown kind Gizmo: the server has no resource of that kind\n"


def test_usage_errors_exit_1_and_help_everywhere() -> None:
    for command in ("api-resources", "get", "watch", "apply", "delete", "wait"):
        done = subprocess.run(
            [sys.executable, "-m", "dynaclient.cli", command, "--help"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0
        assert "--kubeconfig" in done.stdout
    done = subprocess.run([sys.executable, "-m", "dynaclient.cli", "get"], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "error: the following arguments are required: RESOURCE" in done.stderr


def test_watch_prints_the_list_then_changes_until_the_timeout(
    kube_apiserver: Cluster, populated: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import threading

    path = tmp_path / "delta.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: delta, labels: {tier: web}}\n")

    def later() -> None:
        time.sleep(0.5)  # while the watch runs
        main(["apply", "-f", str(path), "-n", populated, "--kubeconfig", str(kube_apiserver.kubeconfig_path)])

    thread = threading.Thread(target=later)
    thread.start()
    code = main(
        [
            "watch",
            "configmaps",
            "-n",
            populated,
            "-l",
            "tier=web",
            "--timeout=2s",
            "--kubeconfig",
            str(kube_apiserver.kubeconfig_path),
        ]
    )
    thread.join()
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "configmap/delta created" in out  # printed by the apply
    events = [line for line in out if line.startswith(("ADDED", "MODIFIED", "DELETED"))]
    assert events == ["ADDED    configmap/alpha", "ADDED    configmap/gamma", "ADDED    configmap/delta"]
    code = main(
        [
            "watch",
            "configmaps",
            "delta",
            "-n",
            populated,
            "-o",
            "json",
            "--timeout=1s",
            "--kubeconfig",
            str(kube_apiserver.kubeconfig_path),
        ]
    )
    frames = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert code == 0
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in frames] == [("ADDED", "delta")]


def test_an_unreachable_server_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    assert main(["get", "pods", "--kubeconfig", str(kubeconfig)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1

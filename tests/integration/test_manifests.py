"""Manifests on the whole local cluster (controllers, scheduler, kwok nodes): apply, wait, prune, delete.

Every test shares the session's ``kube_cluster`` plane; each uses its own namespace and CRD group.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynaclient import APIClient, Discovery, DynamicClient, RESTMapper, client_from_config, load_kubeconfig
from dynaclient.cli import main
from dynaclient.exceptions import ManifestError, NotFoundError
from dynaclient.manifests import ApplySet, PlannedObject, apply_manifests, delete_manifests, load_manifests, load_path
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster

KUBECTL = "/usr/bin/kubectl"

SIX_KINDS = """\
# One of each: the namespace and CRD come first whatever the order here.
apiVersion: {group}/v1
kind: Widget
metadata:
  name: gear
  namespace: {ns}
spec:
  size: 3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector: {{app: web}}
  ports:
  - port: 80
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {ns}
data:
  mode: fast
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: widgets, singular: widget, kind: Widget}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels: {{team: demo}}
"""
# The Namespace has a label: a Namespace whose applied configuration owns no field at all gets its managedFields
# written once more by the API server on the second apply (to "before-first-apply"); kubectl apply --server-side
# sees the same (resourceVersion moves once, then stays).


@pytest.fixture(scope="module")
def cluster(kube_cluster: ControlPlane | ExistingCluster) -> ControlPlane | ExistingCluster:
    return kube_cluster


@pytest.fixture(scope="module")
def client(cluster: ControlPlane | ExistingCluster) -> Iterator[DynamicClient]:
    api: APIClient = client_from_config(load_kubeconfig(cluster.kubeconfig_path))
    with DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False), min_refresh_interval=0)) as dynamic:
        yield dynamic


def unique() -> str:
    return uuid.uuid4().hex[:8]


def six_kinds(tmp_path: Path) -> tuple[Path, str, str]:
    ns, group = f"mf-{unique()}", f"g{unique()}.example.com"
    path = tmp_path / "six.yaml"
    path.write_text(SIX_KINDS.format(ns=ns, group=group))
    return path, ns, group


def current_version(client: DynamicClient, item: PlannedObject) -> str:
    assert item.resource is not None
    resources = client.resource(item.resource)
    obj = (resources.namespace(item.namespace) if item.namespace else resources).get(item.name)
    return str(obj["metadata"]["resourceVersion"])


def gone(client: DynamicClient, resource: str, name: str, namespace: str = "") -> bool:
    resources = client.resource(resource)
    try:
        (resources.namespace(namespace) if namespace else resources).get(name)
    except NotFoundError:
        return True
    return False


def test_six_kinds_apply_in_one_call_idempotently_wait_and_delete(client: DynamicClient, tmp_path: Path) -> None:
    path, ns, group = six_kinds(tmp_path)
    manifests = load_path(path)
    lines: list[str] = []
    first = apply_manifests(client, manifests, wait=True, timeout=120, progress=lines.append)
    assert [(a.planned.ref, a.action) for a in first.applied] == [
        (f"namespace/{ns}", "created"),
        (f"customresourcedefinition.apiextensions.k8s.io/widgets.{group}", "created"),
        ("configmap/settings", "created"),
        ("service/web", "created"),
        ("deployment.apps/web", "created"),
        (f"widget.{group}/gear", "created"),
    ]
    assert any("to be established" in line for line in lines)
    deployment = client.resource("deployments.apps").namespace(ns).get("web")
    assert deployment["status"]["availableReplicas"] == 2  # waited for: the controllers and kwok made it available

    settled = {a.planned.ref: current_version(client, a.planned) for a in first.applied}
    second = apply_manifests(client, manifests, wait=True, timeout=60)
    assert [(a.planned.ref, a.action) for a in second.applied] == [(a.planned.ref, "unchanged") for a in first.applied]
    assert {a.planned.ref: a.object["metadata"]["resourceVersion"] for a in second.applied} == settled

    deleted = delete_manifests(client, manifests, timeout=120)
    refs = [item.ref for item in deleted.deleted]
    assert (refs[0], refs[-1]) == (f"widget.{group}/gear", f"namespace/{ns}")  # reverse order
    assert gone(client, "namespaces", ns)
    assert gone(client, "customresourcedefinitions", f"widgets.{group}")
    again = delete_manifests(client, manifests, timeout=10)
    assert (again.deleted, len(again.missing)) == ([], 6)


def configmaps_yaml(ns: str, *names: str) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  k: v\n"
        for name in names
    )


def kubectl(cluster: ControlPlane | ExistingCluster, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECTL_APPLYSET": "true", "KUBECONFIG": str(cluster.kubeconfig_path)}
    return subprocess.run(
        [KUBECTL, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_prune_with_an_applyset_kubectl_recognises(
    client: DynamicClient, cluster: ControlPlane | ExistingCluster, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    applyset = ApplySet("demo-set", ns, tooling="kubectl/v1.32.4")  # shared with kubectl (same tool name)
    apply_manifests(client, load_manifests(configmaps_yaml(ns, "a", "b", "c")), applyset=applyset)
    result = apply_manifests(client, load_manifests(configmaps_yaml(ns, "a", "b")), applyset=applyset)
    assert result.pruned == [f"configmap/c in namespace {ns}"]
    assert gone(client, "configmaps", "c", ns)
    parent = client.resource("secrets").namespace(ns).get("demo-set")
    assert parent["metadata"]["labels"]["applyset.kubernetes.io/id"] == applyset.id
    assert parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"] == "ConfigMap"
    member = client.resource("configmaps").namespace(ns).get("a")
    assert member["metadata"]["labels"]["applyset.kubernetes.io/part-of"] == applyset.id

    # kubectl sees the same set: with only "a" it would prune "b", and nothing else
    args = ["apply", "--server-side", "--prune", "--applyset=demo-set", "-n", ns, "--dry-run=server", "-f", "-"]
    preview = kubectl(cluster, *args, stdin=configmaps_yaml(ns, "a"))
    assert preview.returncode == 0, preview.stderr
    assert "configmap/b pruned (server dry run)" in preview.stdout
    assert "configmap/a" in preview.stdout
    assert preview.stdout.count("pruned") == 1

    # and what kubectl writes, dynaclient prunes: kubectl adds "d", dynaclient's next apply without it removes it
    real = kubectl(cluster, *args[:-3], "-f", "-", stdin=configmaps_yaml(ns, "a", "b", "d"))
    assert real.returncode == 0, real.stderr
    again = apply_manifests(client, load_manifests(configmaps_yaml(ns, "a", "b")), applyset=applyset)
    assert again.pruned == [f"configmap/d in namespace {ns}"]


def test_kubectl_refuses_a_set_dynaclient_manages_by_default(
    client: DynamicClient, cluster: ControlPlane | ExistingCluster, cluster_namespace: str
) -> None:
    ns = cluster_namespace
    apply_manifests(client, load_manifests(configmaps_yaml(ns, "a")), applyset=ApplySet("own", ns))
    args = ["apply", "--server-side", "--prune", "--applyset=own", "-n", ns, "--dry-run=server", "-f", "-"]
    refused = kubectl(cluster, *args, stdin=configmaps_yaml(ns, "a"))
    assert refused.returncode == 1
    assert "dynaclient" in refused.stderr
    with pytest.raises(ManifestError, match="is managed by dynaclient/"):
        apply_manifests(
            client, load_manifests(configmaps_yaml(ns, "a")), applyset=ApplySet("own", ns, tooling="kubectl/v1")
        )


BAD = {
    "yaml": ("---\nkind: [\n", r"bad.yaml document 2 \(line 10\): invalid YAML"),
    "kind": (
        "---\napiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n",
        r"bad.yaml document 2 \(line 9\): unknown kind Gizmo",
    ),
    "name": (
        "---\napiVersion: v1\nkind: Secret\nmetadata: {}\n",
        r"bad.yaml document 2 \(line 9\): Secret: missing metadata.name",
    ),
    "apiVersion": (
        "---\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: d}\n",
        r"bad.yaml document 2 \(line 9\): apiVersion apps/v1beta1 does not serve kind Deployment",
    ),
    "server": (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\n",
        r"bad.yaml document 2 \(line 9\): configmap/Not_Valid in namespace .*: 422 Invalid: "
        r"ConfigMap \"Not_Valid\" is invalid",
    ),
}


@pytest.mark.parametrize("fault", sorted(BAD))
def test_bad_manifests_fail_before_anything_is_written(
    client: DynamicClient, cluster_namespace: str, tmp_path: Path, fault: str
) -> None:
    text, message = BAD[fault]
    path = tmp_path / "bad.yaml"
    path.write_text(
        configmaps_yaml(cluster_namespace, "first").replace(f"  namespace: {cluster_namespace}\n", "") + text
    )
    with pytest.raises(ManifestError, match=message):
        apply_manifests(client, load_path(path), namespace=cluster_namespace)
    assert gone(client, "configmaps", "first", cluster_namespace)  # the valid object before it was not applied


def test_six_kinds_in_one_command(
    cluster: ControlPlane | ExistingCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, ns, group = six_kinds(tmp_path)
    kubeconfig = ["--kubeconfig", str(cluster.kubeconfig_path)]
    assert main(["apply", "-f", str(path), "--wait", "--timeout=2m", *kubeconfig]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"namespace/{ns} created",
        f"customresourcedefinition.apiextensions.k8s.io/widgets.{group} created",
        "configmap/settings created",
        "service/web created",
        "deployment.apps/web created",
        f"widget.{group}/gear created",
    ]
    assert "waiting for deployment.apps/web to be ready (5/6)" in err  # progress goes to stderr
    assert main(["apply", "-f", str(path), *kubeconfig]) == 0
    assert {line.rsplit(" ", 1)[1] for line in capsys.readouterr().out.splitlines()} == {"unchanged"}
    assert main(["delete", "-f", str(path), "--timeout=2m", *kubeconfig]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"namespace/{ns} deleted"
    assert main(["get", "namespace", ns, *kubeconfig]) == 1
    assert capsys.readouterr().err == f'Error from server (NotFound): namespaces "{ns}" not found\n'


def test_objects_in_a_new_namespace_are_dry_run_before_any_of_them_is_written(
    client: DynamicClient, tmp_path: Path
) -> None:
    path, ns, _ = six_kinds(tmp_path)
    broken = path.read_text().replace("replicas: 2", "replicas: -1")  # refused by validation, not by the plan
    path.write_text(broken)
    with pytest.raises(ManifestError, match=r"deployment.apps/web in namespace .*: 422 Invalid: .*replicas"):
        apply_manifests(client, load_path(path), timeout=60)
    # the foundation (namespace, CRD) had to exist for the server to judge the rest; nothing else was written
    assert not gone(client, "namespaces", ns)
    assert gone(client, "configmaps", "settings", ns)
    assert gone(client, "services", "web", ns)
    delete_manifests(client, load_path(path), timeout=120)

"""Generated types against the real kube-apiserver: the shipped package is what the server's OpenAPI v3 generates,
every object the server lists matches its type, and a custom resource's types check under mypy --strict."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mypy import api as mypy_api

import dynaclient.types
from dynaclient import APIClient, DynamicClient, client_from_config, kubectl_raw_client, load_kubeconfig
from dynaclient.codegen import OpenAPISource, fetch_source, generate, type_mismatches, write_package
from dynaclient.gvr import GroupVersionKind, GroupVersionResource
from dynaclient.testing import ControlPlane
from dynaclient.testing.binaries import KUBERNETES_VERSION
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.types import KINDS
from dynaclient.types.apiextensions.v1 import CustomResourceDefinition

SHIPPED = Path(dynaclient.types.__file__).parent
REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def dyn(dynamic_client: DynamicClient) -> DynamicClient:
    return dynamic_client


@pytest.fixture(scope="module")
def source(api_client: APIClient) -> OpenAPISource:
    return fetch_source(api_client)


def test_the_shipped_types_are_what_the_control_plane_generates(source: OpenAPISource) -> None:
    assert source.server_version == f"v{KUBERNETES_VERSION}", "dynaclient.types is generated for the pinned version"
    files = generate(source.builtin(), "dynaclient.types")
    shipped = {path.relative_to(SHIPPED).as_posix(): path.read_text() for path in SHIPPED.rglob("*.py")}
    assert sorted(files) == sorted(shipped), "run scripts/generate-types"
    changed = [name for name, text in files.items() if shipped[name] != text]
    assert changed == [], "run scripts/generate-types"
    assert generate(source.builtin(), "dynaclient.types") == files  # same input, same bytes


NAMESPACE = f"dc-codegen-{uuid.uuid4().hex[:8]}"


def test_the_documents_read_through_kubectl_are_the_same_bytes(
    kube_apiserver: ControlPlane | ExistingCluster, source: OpenAPISource
) -> None:
    with kubectl_raw_client(kube_apiserver.kubeconfig_path) as api:
        through_kubectl = fetch_source(api, ["v1", "apps/v1"])  # the hashes are checked as it reads
    assert through_kubectl.raw == source.select(["v1", "apps/v1"]).raw


SAMPLES: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "1"}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
     "spec": {"ports": [{"port": 80, "targetPort": "http"}], "selector": {"app": "web"}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pod"},
     "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                             "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "pvc"},
     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
     "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}},
    {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "rq"}, "spec": {"hard": {"pods": "10"}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
     "spec": {"selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
     "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db",
              "template": {"metadata": {"labels": {"app": "db"}},
                           "spec": {"containers": [{"name": "c", "image": "postgres:17"}]}}}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
     "spec": {"selector": {"matchLabels": {"app": "agent"}},
              "template": {"metadata": {"labels": {"app": "agent"}},
                           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
     "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
         "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}},
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
     "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}},
    {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
     "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 3,
              "metrics": [{"type": "Resource",
                           "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
     "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
     "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
     "spec": {"rules": [{"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
              "backend": {"service": {"name": "svc", "port": {"number": 80}}}}]}}]}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "reader"},
     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "reader"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
     "subjects": [{"kind": "ServiceAccount", "name": "sa"}]},
    {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"},
     "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "svc-1"}, "addressType": "IPv4",
     "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}], "ports": [{"port": 80}]},
    {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"},
     "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "tests", "reportingInstance": "tests-1",
     "action": "Test", "reason": "Testing", "regarding": {"kind": "Pod", "name": "pod", "namespace": NAMESPACE},
     "type": "Normal"},
]  # fmt: skip


@pytest.fixture(scope="module")
def sample_namespace(dyn: DynamicClient) -> Iterator[str]:
    """A namespace holding one object of many namespaced kinds, so that the round trip sees them filled in."""
    namespaces = dyn.resource("namespaces")
    name = NAMESPACE
    namespaces.create({"metadata": {"name": name}})
    try:
        for sample in SAMPLES:
            group, _, version = sample["apiVersion"].rpartition("/")
            created = dyn.resource(GroupVersionKind(group, version, sample["kind"])).namespace(name).create(sample)
            module, _, kind = KINDS[(sample["apiVersion"], sample["kind"])].rpartition(".")
            typed_dict = getattr(importlib.import_module(f"dynaclient.types.{module}"), kind)
            assert type_mismatches(created, typed_dict) == [], f"the answer to creating {sample['kind']}"
        yield name
    finally:
        namespaces.delete(name)


def test_every_object_the_server_lists_matches_its_generated_type(dyn: DynamicClient, sample_namespace: str) -> None:
    checked: dict[str, int] = {}
    problems: list[str] = []
    for resource in _listable_builtin_resources(dyn):
        for obj in dyn.resource(resource).list():
            where = KINDS.get((obj["apiVersion"], obj["kind"]))
            assert where is not None, f"no generated type for {obj['apiVersion']} {obj['kind']}"
            module, _, name = where.rpartition(".")
            typed_dict = getattr(importlib.import_module(f"dynaclient.types.{module}"), name)
            problems += [f"{obj['kind']} {obj['metadata']['name']}: {m}" for m in type_mismatches(obj, typed_dict)]
            checked[obj["kind"]] = checked.get(obj["kind"], 0) + 1
    assert problems == [], "\n".join(problems)
    assert {sample["kind"] for sample in SAMPLES} <= set(checked)
    assert {"Namespace", "ClusterRole", "FlowSchema", "APIService", "PriorityClass"} <= set(checked)


def _listable_builtin_resources(dyn: DynamicClient) -> list[GroupVersionResource]:
    """Every resource of the group-versions dynaclient.types covers that can be listed (no subresources)."""
    resources = []
    for key in sorted(dynaclient.types.OPENAPI_DOCUMENTS):
        group, _, version = key.removeprefix("api/").removeprefix("apis/").rpartition("/")
        for resource in dyn.api_client.request("GET", f"/{key}")["resources"]:
            if "/" not in resource["name"] and "list" in resource["verbs"]:
                resources.append(GroupVersionResource(group, version, resource["name"]))
    return resources


def _install(dyn: DynamicClient, crd: dict[str, Any]) -> None:
    """Create ``crd`` and wait until the server publishes its OpenAPI v3 document."""
    crds = dyn.resource("customresourcedefinitions.apiextensions.k8s.io")
    assert type_mismatches(crds.create(crd), CustomResourceDefinition) == []
    group, version = crd["spec"]["group"], crd["spec"]["versions"][0]["name"]
    with crds.watch(field_selector={"metadata.name": crd["metadata"]["name"]}, timeout_seconds=60) as events:
        for event in events:
            conditions = event.object.get("status", {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                break
    # The OpenAPI v3 document follows the Established condition asynchronously (apiextensions-apiserver
    # pkg/controller/openapiv3); there is nothing to watch, so poll.
    deadline = time.monotonic() + 30
    while f"apis/{group}/{version}" not in dyn.api_client.request("GET", "/openapi/v3")["paths"]:
        assert time.monotonic() < deadline, f"{group}/{version} never appeared in /openapi/v3"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def sawtooth_crd(dyn: DynamicClient) -> Iterator[dict[str, Any]]:
    crd: dict[str, Any] = yaml.safe_load((REPO / "examples" / "sawtooth_crd.yaml").read_text())
    _install(dyn, crd)
    try:
        yield crd
    finally:
        dyn.resource("customresourcedefinitions.apiextensions.k8s.io").delete(crd["metadata"]["name"])


def test_the_example_sawtooth_types_are_what_the_server_generates(api_client: APIClient, sawtooth_crd: Any) -> None:
    source = fetch_source(api_client, ["sawtooth.hyperledger.org/v1alpha1"])
    files = generate(source, "sawtooth_types", generate_builtins=False)
    committed = REPO / "examples" / "sawtooth_types"
    assert files == {p.relative_to(committed).as_posix(): p.read_text() for p in sorted(committed.rglob("*.py"))}


def test_the_sawtooth_example_reads_the_custom_resource_untyped_and_typed(
    kube_apiserver: ControlPlane | ExistingCluster, sawtooth_crd: Any, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(kube_apiserver.kubeconfig_path)}
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "sawtooth.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^untyped: example-sawtooth-\w+ size=3 \(found=True\)$", done.stdout, re.MULTILINE)
    assert re.search(r"^typed:   example-sawtooth-\w+ size=3$", done.stdout, re.MULTILINE)


WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["mode"],
            "properties": {
                "mode": {"type": "string", "enum": ["fast", "safe"]},
                "port": {"x-kubernetes-int-or-string": True},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "note": {"type": "string", "nullable": True},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "from": {"type": "array", "items": {"type": "object", "properties": {"host": {"type": "string"}}}},
                "ratio": {"type": "number"},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def widget_group(dyn: DynamicClient) -> Iterator[str]:
    group = f"t{uuid.uuid4().hex[:8]}.example.org"
    version = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": WIDGET_SCHEMA}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced", "versions": [version],
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"}},
    }  # fmt: skip
    _install(dyn, crd)
    try:
        yield group
    finally:
        dyn.resource("customresourcedefinitions.apiextensions.k8s.io").delete(f"widgets.{group}")


def test_a_custom_resource_generates_typed_modules_that_pass_ruff_and_mypy_and_match_its_objects(
    api_client: APIClient, dyn: DynamicClient, widget_group: str, namespace: str, tmp_path: Path
) -> None:
    source = fetch_source(api_client, [f"{widget_group}/v1"])
    package = tmp_path / "widget_types"
    write_package(generate(source, "widget_types", generate_builtins=False), package)
    module_path = package / widget_group.replace(".", "_") / "v1.py"
    text = module_path.read_text()
    for line in [
        'mode: Required[Literal["fast", "safe"]]',
        "port: int | str",
        "config: dict[str, Any]",
        "note: str | None",
        "labels: dict[str, str]",
        "ratio: float",
        "spec: WidgetSpec",
        "class WidgetSpecFrom(TypedDict, total=False):",
        '"from": "list[WidgetSpecFrom]",',
        "template: WidgetSpecTemplate",
        "metadata: meta_v1.ObjectMeta",
    ]:
        assert line in text
    ruff = Path(sys.executable).parent / "ruff"
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [str(ruff), *command, str(package)], capture_output=True, text=True, check=False, cwd=REPO
        )
        assert done.returncode == 0, done.stdout + done.stderr
    sample = tmp_path / "use_widget.py"
    sample.write_text(
        textwrap.dedent(f"""
        from widget_types.{widget_group.replace(".", "_")}.v1 import Widget

        def mode(widget: Widget) -> str:
            return widget["spec"]["mode"] + str(widget["spec"]["port"])
    """)
    )
    stdout, stderr, status = mypy_api.run(["--strict", "--no-incremental", str(package), str(sample)])
    assert status == 0, stdout + stderr

    widget = {"apiVersion": f"{widget_group}/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"mode": "fast", "port": "http", "config": {"any": ["thing"]}, "note": None,
                       "labels": {"a": "b"}, "from": [{"host": "h"}], "ratio": 1,
                       "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}}}  # fmt: skip
    dyn.resource(GroupVersionKind(widget_group, "v1", "Widget")).namespace(namespace).create(widget)
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(f"widget_types.{widget_group.replace('.', '_')}.v1")
        listed = list(dyn.resource(GroupVersionKind(widget_group, "v1", "Widget")).namespace(namespace).list())
        assert [type_mismatches(obj, module.Widget) for obj in listed] == [[]]
        assert [str(m) for m in type_mismatches({**listed[0], "spec": {"mode": "slow"}}, module.Widget)] == [
            ".spec.mode: expected one of fast, safe, got slow"
        ]
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("widget_types")]:
            del sys.modules[name]


def test_every_group_version_of_the_pinned_version_generates_types_that_pass_ruff_and_mypy(tmp_path: Path) -> None:
    """dynaclient.types holds what a default server serves; alpha and beta group-versions generate as cleanly."""
    every_api = ["--runtime-config=api/all=true", "--feature-gates=AllAlpha=true,AllBeta=true"]
    with (
        ControlPlane(apiserver_args=every_api) as plane,
        client_from_config(load_kubeconfig(plane.kubeconfig_path)) as api,
    ):
        source = fetch_source(api).builtin()
    served = {document.group_version for document in source.documents}
    assert {
        "storagemigration.k8s.io/v1alpha1",
        "resource.k8s.io/v1beta2",
        "internal.apiserver.k8s.io/v1alpha1",
    } <= served
    assert {key.removeprefix("apis/").replace("api/v1", "v1") for key in dynaclient.types.OPENAPI_DOCUMENTS} < served
    write_package(generate(source, "every_api"), tmp_path / "every_api")
    ruff = Path(sys.executable).parent / "ruff"
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [str(ruff), *command, str(tmp_path / "every_api")], capture_output=True, text=True, check=False, cwd=REPO
        )
        assert done.returncode == 0, done.stdout + done.stderr
    stdout, stderr, status = mypy_api.run(
        ["--strict", "--cache-dir", str(tmp_path / "cache"), str(tmp_path / "every_api")]
    )
    assert status == 0, stdout + stderr

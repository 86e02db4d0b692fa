"""Generated types against the real kube-apiserver: the shipped package is what the server's OpenAPI v3 generates,
every object the server lists matches its type, and a custom resource's types check under mypy --strict."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dynaclient.types
from dynaclient import APIClient, DynamicClient
from dynaclient.codegen import OpenAPISource, fetch_source, generate, type_mismatches
from dynaclient.gvr import GroupVersionKind, GroupVersionResource
from dynaclient.testing.binaries import KUBERNETES_VERSION
from dynaclient.types import KINDS

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
            dyn.resource(GroupVersionKind(group, version, sample["kind"])).namespace(name).create(sample)
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

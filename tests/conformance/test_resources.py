"""Conformance: which resources are served and how they are named, scoped and defined (discovery, CRDs)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from dynaclient import GroupVersionKind, GroupVersionResource
from dynaclient.exceptions import BadRequestError, NamespaceScopeError, NotFoundError, ResourceNotFoundError
from tests.conformance.conftest import GROUP, SCHEMA, gadget, wait_until

if TYPE_CHECKING:
    from tests.conformance.conftest import Cluster


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cm", ("", "v1", "configmaps", True)),
        ("ConfigMap", ("", "v1", "configmaps", True)),
        ("deploy", ("apps", "v1", "deployments", True)),
        ("leases.coordination.k8s.io", ("coordination.k8s.io", "v1", "leases", True)),
        ("ns", ("", "v1", "namespaces", False)),
        ("sa", ("", "v1", "serviceaccounts", True)),
        ("svc", ("", "v1", "services", True)),
        ("ev", ("", "v1", "events", True)),
        ("events.events.k8s.io", ("events.k8s.io", "v1", "events", True)),
        ("no", ("", "v1", "nodes", False)),
        ("rs", ("apps", "v1", "replicasets", True)),
        ("cj", ("batch", "v1", "cronjobs", True)),
        ("sts", ("apps", "v1", "statefulsets", True)),
        ("ds", ("apps", "v1", "daemonsets", True)),
        ("crd", ("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)),
        (GroupVersionResource("", "v1", "secrets"), ("", "v1", "secrets", True)),
        (GroupVersionKind("batch", "v1", "Job"), ("batch", "v1", "jobs", True)),
    ],
)
def test_built_in_resources_resolve_by_any_name(
    cluster: Cluster, name: Any, expected: tuple[str, str, str, bool]
) -> None:
    found = cluster.client.resource(name).api_resource
    assert (found.group, found.version, found.resource, found.namespaced) == expected


def test_custom_resources_resolve_once_their_crd_exists(cluster: Cluster) -> None:
    cluster.gadgets()
    found = cluster.client.resource("gd").api_resource
    assert (found.group, found.kind, found.namespaced, found.subresources) == (GROUP, "Gadget", True, ("status",))
    with pytest.raises(ResourceNotFoundError):
        cluster.client.resource("nonesuches")


def test_cluster_scoped_resources_take_no_namespace(cluster: Cluster) -> None:
    with pytest.raises(NamespaceScopeError):
        cluster.client.resource("namespaces").namespace("x")
    created = cluster.client.resource("namespaces").create({"metadata": {"name": f"{cluster.namespace}-c"}})
    assert "namespace" not in created["metadata"]


def test_workload_kinds_track_their_generation(cluster: Cluster) -> None:
    deployments = cluster.resource("deployments.apps")
    labels = {"app": "web"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
    spec = {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}
    created = deployments.create({"metadata": {"name": "web"}, "spec": spec})
    assert created["metadata"]["generation"] == 1
    assert deployments.patch("web", {"spec": {"replicas": 2}})["metadata"]["generation"] == 2
    assert deployments.patch("web", {"metadata": {"labels": {"x": "y"}}})["metadata"]["generation"] == 2


def test_secrets_select_on_their_type(cluster: Cluster) -> None:
    secrets = cluster.resource("secrets")
    secrets.create({"metadata": {"name": "opaque"}, "type": "Opaque", "stringData": {}})
    secrets.create({"metadata": {"name": "custom"}, "type": "example.com/custom"})
    assert [s["metadata"]["name"] for s in secrets.list(field_selector="type=example.com/custom")] == ["custom"]


def test_a_crd_is_established_served_at_each_version_and_its_objects_go_with_it(cluster: Cluster) -> None:
    plural = f"t{uuid.uuid4().hex[:10]}"
    crds = cluster.client.resource("customresourcedefinitions")
    version: dict[str, Any] = {"served": True, "schema": {"openAPIV3Schema": SCHEMA}}
    crd: dict[str, Any] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Cluster",
            "names": {"plural": plural, "singular": plural, "kind": f"K{plural}"},
            "versions": [{**version, "name": "v1", "storage": True}, {**version, "name": "v2", "storage": False}],
        },
    }
    assert crds.create(crd)["metadata"]["generation"] == 1

    def established() -> bool:
        conditions = crds.get(crd["metadata"]["name"]).get("status", {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    wait_until(established)
    v1 = cluster.client.resource(GroupVersionResource(GROUP, "v1", plural))
    v2 = cluster.client.resource(GroupVersionResource(GROUP, "v2", plural))
    v1.create({**gadget("one", spec={"size": 1}), "kind": f"K{plural}"})
    assert v2.get("one")["apiVersion"] == f"{GROUP}/v2"
    assert v2.get("one")["spec"] == {"size": 1}
    deleting = crds.delete(crd["metadata"]["name"])
    assert deleting["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    assert deleting["metadata"]["deletionTimestamp"]

    def gone() -> bool:
        try:
            crds.get(crd["metadata"]["name"])
        except NotFoundError:
            return True
        return False

    wait_until(gone)


@pytest.mark.parametrize(
    ("resources", "qos_class"),
    [
        ({}, "BestEffort"),
        ({"requests": {"cpu": "1"}}, "Burstable"),
        ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
    ],
)
def test_a_pod_starts_pending_with_its_qos_class(cluster: Cluster, resources: dict[str, Any], qos_class: str) -> None:
    pods = cluster.resource("pods")
    container = {"name": "c", "image": "example.com/image", "resources": resources}
    created = pods.create({"metadata": {"name": "p"}, "spec": {"containers": [container]}})
    assert created["status"] == {"phase": "Pending", "qosClass": qos_class}
    assert created["metadata"]["generation"] == 1


def test_an_unscheduled_pod_is_deleted_at_once_and_returned(cluster: Cluster) -> None:
    pods = cluster.resource("pods")
    pods.create({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "example.com/image"}]}})
    deleted = pods.delete("p")
    assert deleted["kind"] == "Pod"
    assert deleted["metadata"]["deletionGracePeriodSeconds"] == 0
    with pytest.raises(NotFoundError):
        pods.get("p")


def test_other_deletes_answer_a_success_status(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    uid = configmaps.create({"metadata": {"name": "a"}})["metadata"]["uid"]
    answer = configmaps.delete("a")
    assert (answer["kind"], answer["status"]) == ("Status", "Success")
    assert answer["details"] == {"name": "a", "kind": "configmaps", "uid": uid}
    gadgets = cluster.gadgets()
    gadgets.create(gadget("g"))
    assert gadgets.delete("g")["details"]["group"] == GROUP


def test_built_in_workloads_start_with_an_empty_status_and_split_spec_and_status(cluster: Cluster) -> None:
    deployments = cluster.resource("deployments.apps")
    labels = {"app": "web"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
    spec = {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}
    created = deployments.create({"metadata": {"name": "web"}, "spec": spec, "status": {"replicas": 9}})
    assert created["status"] == {}
    status = deployments.update_status({**created, "spec": {**spec, "replicas": 5}, "status": {"replicas": 1}})
    assert (status["spec"]["replicas"], status["status"]) == (1, {"replicas": 1})
    updated = deployments.update({**status, "spec": {**spec, "replicas": 2}, "status": {"replicas": 7}})
    assert (updated["spec"]["replicas"], updated["status"]) == (2, {"replicas": 1})
    service = cluster.resource("services").create({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    assert service["status"] == {"loadBalancer": {}}


def test_namespaces_carry_their_name_label(cluster: Cluster) -> None:
    namespaces = cluster.client.resource("namespaces")
    name = f"{cluster.namespace}-l"
    created = namespaces.create({"metadata": {"name": name, "labels": {"team": "a"}}})
    assert created["metadata"]["labels"] == {"team": "a", "kubernetes.io/metadata.name": name}
    updated = namespaces.update({**created, "metadata": {**created["metadata"], "labels": {}}})
    assert updated["metadata"]["labels"] == {"kubernetes.io/metadata.name": name}


def test_a_node_is_created_with_the_status_it_sends(cluster: Cluster) -> None:
    nodes = cluster.client.resource("nodes")
    name = f"{cluster.namespace}-node"
    status = {"capacity": {"cpu": "4"}, "phase": "Running"}
    created = nodes.create({"metadata": {"name": name}, "spec": {"unschedulable": True}, "status": status})
    assert created["status"]["capacity"] == {"cpu": "4"}
    assert created["status"]["phase"] == "Running"
    assert name in [n["metadata"]["name"] for n in nodes.list(field_selector="spec.unschedulable=true")]
    with pytest.raises(BadRequestError, match=r"field label not supported: spec\.foo"):
        nodes.list(field_selector="spec.foo=x").to_list()
    nodes.delete(name)


@pytest.mark.parametrize("resource", ["replicasets.apps", "cronjobs.batch", "jobs.batch"])
def test_more_workloads_start_with_generation_one_and_an_initial_status(cluster: Cluster, resource: str) -> None:
    pod_spec = {"restartPolicy": "Never", "containers": [{"name": "c", "image": "example.com/image"}]}
    labels = {"app": "x"}
    specs: dict[str, dict[str, Any]] = {
        "replicasets.apps": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {**pod_spec, "restartPolicy": "Always"}},
        },
        "cronjobs.batch": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
        "jobs.batch": {"template": {"spec": pod_spec}},
    }
    created = cluster.resource(resource).create({"metadata": {"name": "w"}, "spec": specs[resource]})
    assert created["metadata"]["generation"] == 1
    assert created["status"] == ({"replicas": 0} if resource == "replicasets.apps" else {})


def test_raw_requests_get_the_same_answers(cluster: Cluster) -> None:
    path = f"/api/v1/namespaces/{cluster.namespace}/configmaps"
    with pytest.raises(BadRequestError):
        cluster.client.request("POST", path, body=b"{not json")
    with pytest.raises(NotFoundError):
        cluster.client.request("GET", f"/apis/{GROUP}/v1/nonesuches")
    created = cluster.client.request("POST", path, body={"metadata": {"name": "raw"}})
    assert cluster.client.request("GET", f"{path}/raw")["metadata"]["uid"] == created["metadata"]["uid"]

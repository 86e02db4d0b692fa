"""The whole cluster on loopback: real kube-controller-manager and kube-scheduler running workloads on kwok nodes.

Every test here shares the session's ``kube_cluster`` plane (controllers, scheduler, two kwok nodes).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from dynaclient.testing import ControlPlane
from tests.integration.cluster_rig import HTTP, _running, _wait_for


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
    # With Foreground the Deployment outlives its dependents until the garbage collector drops its
    # foregroundDeletion finalizer: wait for it to go too.
    _wait_for(lambda: http("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/doomed").status_code == 404, "gone")


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

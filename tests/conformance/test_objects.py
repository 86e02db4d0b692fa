"""Conformance: create, get, update, patch, apply and delete agree between the fake and kube-apiserver."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

import pytest

from dynaclient.exceptions import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    ServerError,
    UnsupportedMediaTypeError,
)
from dynaclient.resources.options import Preconditions
from tests.conformance.conftest import GROUP, gadget

if TYPE_CHECKING:
    from tests.conformance.conftest import Cluster

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_create_fills_in_the_server_fields(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    created = configmaps.create({"metadata": {"name": "a", "labels": {"app": "x"}}, "data": {"k": "v"}})
    meta = created["metadata"]
    assert (created["apiVersion"], created["kind"]) == ("v1", "ConfigMap")
    assert meta["namespace"] == cluster.namespace
    assert meta["uid"]
    assert meta["resourceVersion"].isdigit()
    assert TIMESTAMP.fullmatch(meta["creationTimestamp"])
    assert "generation" not in meta  # configmaps track no generation
    fetched = configmaps.get("a")
    assert fetched["metadata"]["resourceVersion"] == meta["resourceVersion"]
    assert fetched["data"] == {"k": "v"}


def test_empty_metadata_fields_are_dropped(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    empty: dict[str, Any] = {"labels": {}, "annotations": {}, "finalizers": [], "ownerReferences": []}
    created = configmaps.create({"metadata": {"name": "a", **empty}})
    assert not set(empty) & set(created["metadata"])
    updated = configmaps.update({**created, "metadata": {**created["metadata"], **empty}, "data": {"k": "v"}})
    assert not set(empty) & set(updated["metadata"])


def test_generate_name_appends_five_random_characters(cluster: Cluster) -> None:
    created = cluster.resource("configmaps").create({"metadata": {"generateName": "job-"}})
    assert re.fullmatch(r"job-[bcdfghjklmnpqrstvwxz2456789]{5}", created["metadata"]["name"])


def test_create_errors(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "a"}})
    with pytest.raises(AlreadyExistsError):
        configmaps.create({"metadata": {"name": "a"}})
    with pytest.raises(InvalidError) as invalid:
        configmaps.create({"metadata": {"name": "Not_Valid"}})
    assert [cause["field"] for cause in invalid.value.causes] == ["metadata.name"]
    with pytest.raises(NotFoundError):
        cluster.client.resource("configmaps").namespace(f"{cluster.namespace}-missing").create(
            {"metadata": {"name": "a"}}
        )
    with pytest.raises(NotFoundError):
        configmaps.get("missing")


def test_one_resource_version_counter_spans_all_resources(cluster: Cluster) -> None:
    configmap = cluster.resource("configmaps").create({"metadata": {"name": "a"}})
    secret = cluster.resource("secrets").create({"metadata": {"name": "a"}})
    assert int(secret["metadata"]["resourceVersion"]) > int(configmap["metadata"]["resourceVersion"])


def test_the_body_may_not_name_another_namespace(cluster: Cluster) -> None:
    with pytest.raises(BadRequestError, match="does not match the namespace"):
        cluster.resource("configmaps").create({"metadata": {"name": "a", "namespace": f"{cluster.namespace}-x"}})


def test_updates_are_optimistic(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    first = configmaps.create({"metadata": {"name": "a"}, "data": {"n": "1"}})
    second = configmaps.update({**first, "data": {"n": "2"}})
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    with pytest.raises(ConflictError):
        configmaps.update({**first, "data": {"n": "3"}})  # first's resourceVersion is stale
    unconditional = {"metadata": {"name": "a"}, "data": {"n": "4"}}
    assert configmaps.update(unconditional)["data"] == {"n": "4"}
    with pytest.raises(NotFoundError):
        configmaps.update({"metadata": {"name": "missing"}})


def test_an_update_that_changes_nothing_keeps_the_resource_version(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    created = configmaps.create({"metadata": {"name": "a"}, "data": {"n": "1"}})
    again = configmaps.patch("a", {"data": {"n": "1"}})
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_subresource_splits_spec_and_status(cluster: Cluster) -> None:
    gadgets = cluster.gadgets()
    created = gadgets.create(gadget("g", spec={"size": 1}, status={"ready": True}))
    assert "status" not in created  # status is ignored on create
    assert created["metadata"]["generation"] == 1
    updated = gadgets.update({**created, "spec": {"size": 2}, "status": {"ready": True}})
    assert "status" not in updated
    assert updated["spec"] == {"size": 2}
    assert updated["metadata"]["generation"] == 2
    relabelled = {**updated["metadata"], "labels": {"ignored": "yes"}}
    status = gadgets.update_status(
        {**updated, "metadata": relabelled, "spec": {"size": 99}, "status": {"observedSize": 2}}
    )
    assert "labels" not in status["metadata"]  # a status write changes nothing but status
    assert status["status"] == {"observedSize": 2}
    assert status["spec"] == {"size": 2}
    assert status["metadata"]["generation"] == 2  # status writes do not bump the generation
    labelled = gadgets.patch("g", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 2  # nor do metadata writes
    patched = gadgets.patch("g", {"status": {"observedSize": 3}}, subresource="status")
    assert patched["status"] == {"observedSize": 3}


def test_finalizers_hold_a_deleted_object_until_the_last_is_removed(cluster: Cluster) -> None:
    gadgets = cluster.gadgets()
    body = gadget("g", spec={})
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    gadgets.create(body)
    answer = gadgets.delete("g")
    assert answer["metadata"]["deletionTimestamp"]
    held = gadgets.get("g")
    assert TIMESTAMP.fullmatch(held["metadata"]["deletionTimestamp"])
    assert held["metadata"]["generation"] == 2  # starting deletion bumps the generation
    again = gadgets.delete("g")  # deleting again changes nothing
    assert again["metadata"]["resourceVersion"] == held["metadata"]["resourceVersion"]
    with pytest.raises(InvalidError):
        gadgets.patch("g", {"metadata": {"finalizers": ["example.com/cleanup", "example.com/new"]}})
    gadgets.patch("g", {"metadata": {"finalizers": None}})
    with pytest.raises(NotFoundError):
        gadgets.get("g")


def test_delete_preconditions_and_missing_objects(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    created = configmaps.create({"metadata": {"name": "a"}})
    with pytest.raises(ConflictError):
        configmaps.delete("a", preconditions=Preconditions(uid="not-the-uid"))
    with pytest.raises(ConflictError):
        configmaps.delete("a", preconditions=Preconditions(resource_version="1"))
    configmaps.delete("a", preconditions=Preconditions(uid=created["metadata"]["uid"]))
    with pytest.raises(NotFoundError):
        configmaps.delete("a")


def test_foreground_deletion_adds_its_finalizer(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "a"}})
    configmaps.delete("a", propagation_policy="Foreground")
    held = configmaps.get("a")  # without a garbage collector nothing removes the finalizer
    assert held["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert held["metadata"]["deletionTimestamp"]


def test_a_terminating_namespace_refuses_new_objects(cluster: Cluster) -> None:
    namespaces = cluster.client.resource("namespaces")
    name = f"{cluster.namespace}-t"
    created = namespaces.create({"metadata": {"name": name}})
    assert created["spec"]["finalizers"] == ["kubernetes"]
    assert created["status"]["phase"] == "Active"
    namespaces.delete(name)
    assert namespaces.get(name)["status"]["phase"] == "Terminating"
    with pytest.raises(ForbiddenError):
        cluster.client.resource("configmaps").namespace(name).create({"metadata": {"name": "a"}})


def test_merge_and_json_patches(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "a"}, "data": {"x": "1", "y": "2"}})
    merged = configmaps.patch("a", {"data": {"x": None, "z": "3"}})
    assert merged["data"] == {"y": "2", "z": "3"}
    ops = [{"op": "test", "path": "/data/y", "value": "2"}, {"op": "replace", "path": "/data/y", "value": "5"}]
    assert configmaps.patch("a", ops, patch_type="json")["data"] == {"y": "5", "z": "3"}
    with pytest.raises(InvalidError):
        configmaps.patch("a", [{"op": "test", "path": "/data/y", "value": "wrong"}], patch_type="json")
    stale = {"metadata": {"resourceVersion": merged["metadata"]["resourceVersion"]}, "data": {"q": "1"}}
    with pytest.raises(ConflictError):
        configmaps.patch("a", stale)
    assert configmaps.patch("a", {"data": {"s": "1"}}, patch_type="strategic")["data"]["s"] == "1"
    with pytest.raises(NotFoundError):
        configmaps.patch("missing", {"data": {}})


def test_strategic_merge_patch_is_refused_for_custom_resources(cluster: Cluster) -> None:
    gadgets = cluster.gadgets()
    gadgets.create(gadget("g", spec={}))
    with pytest.raises(UnsupportedMediaTypeError):
        gadgets.patch("g", {"spec": {"size": 1}}, patch_type="strategic")


def test_server_side_apply_owns_fields_and_reports_conflicts(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    intent = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1", "y": "1"}}
    created = configmaps.apply(intent, field_manager="alice")
    assert created["data"] == {"x": "1", "y": "1"}
    same_value = {**intent, "data": {"x": "1"}}
    assert configmaps.apply(same_value, field_manager="bob")["data"] == {"x": "1", "y": "1"}  # shared, no conflict
    with pytest.raises(ConflictError) as conflict:
        configmaps.apply({**intent, "data": {"x": "2"}}, field_manager="bob")
    assert "alice" in str(conflict.value)
    assert ".data.x" in str(conflict.value)
    assert configmaps.apply({**intent, "data": {"x": "2"}}, field_manager="bob", force=True)["data"]["x"] == "2"
    # alice stops applying y, which nobody else owns: it is removed; x is bob's now, so it stays.
    assert configmaps.apply({**intent, "data": {}}, field_manager="alice")["data"] == {"x": "2"}


def test_apply_needs_kind_and_api_version(cluster: Cluster) -> None:
    with pytest.raises(BadRequestError, match="invalid object type"):
        cluster.resource("configmaps").apply({"metadata": {"name": "a"}, "data": {}}, field_manager="me")


def test_apply_conflicts_with_the_manager_of_an_update(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "a"}, "data": {"x": "1"}}, field_manager="creator")
    intent = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "2"}}
    with pytest.raises(ConflictError) as conflict:
        configmaps.apply(intent, field_manager="applier")
    assert "creator" in str(conflict.value)


def test_dry_run_persists_nothing(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    assert configmaps.create({"metadata": {"name": "a"}}, dry_run=True)["metadata"]["name"] == "a"
    with pytest.raises(NotFoundError):
        configmaps.get("a")


def test_resource_version_on_create_is_refused(cluster: Cluster) -> None:
    with pytest.raises(ServerError, match="resourceVersion should not be set on objects to be created"):
        cluster.resource("configmaps").create({"metadata": {"name": "a", "resourceVersion": "5"}})


def test_custom_resources_need_kind_and_api_version(cluster: Cluster) -> None:
    gadgets = cluster.gadgets()
    with pytest.raises(BadRequestError, match="Object 'Kind' is missing"):
        gadgets.create({"apiVersion": f"{GROUP}/v1", "metadata": {"name": "g"}})
    cluster.resource("configmaps").create({"metadata": {"name": "a"}})  # built-ins do without


def test_concurrent_read_modify_write_loses_no_update(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "counter"}, "data": {"n": "0"}})

    def increment() -> None:
        for _ in range(5):
            while True:
                current = configmaps.get("counter")
                current["data"]["n"] = str(int(current["data"]["n"]) + 1)
                try:
                    configmaps.update(current)
                    break
                except ConflictError:
                    continue

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert configmaps.get("counter")["data"]["n"] == "20"


def test_dry_run_updates_and_deletes_change_nothing(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    created = configmaps.create({"metadata": {"name": "a"}, "data": {"v": "1"}})
    assert configmaps.patch("a", {"data": {"v": "2"}}, dry_run=True)["data"] == {"v": "2"}
    configmaps.delete("a", dry_run=True)
    assert configmaps.get("a") == created


def test_orphan_deletion_adds_its_finalizer(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "a"}})
    configmaps.delete("a", propagation_policy="Orphan")
    assert configmaps.get("a")["metadata"]["finalizers"] == ["orphan"]


def test_delete_collection_deletes_what_the_selector_matches(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    for name, app in (("a", "web"), ("b", "web"), ("c", "db")):
        configmaps.create({"metadata": {"name": name, "labels": {"app": app}}})
    configmaps.delete_collection(label_selector="app=web")
    assert [cm["metadata"]["name"] for cm in configmaps.list(label_selector="app")] == ["c"]


def test_json_patch_operations(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    configmaps.create({"metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"k": "v"}})
    ops = [
        {"op": "copy", "from": "/data/k", "path": "/data/copied"},
        {"op": "move", "from": "/data/k", "path": "/data/moved"},
        {"op": "add", "path": "/metadata/labels/y", "value": "2"},
        {"op": "remove", "path": "/metadata/labels/x"},
    ]
    patched = configmaps.patch("a", ops, patch_type="json")
    assert patched["data"] == {"copied": "v", "moved": "v"}
    assert patched["metadata"]["labels"] == {"y": "2"}
    with pytest.raises(InvalidError):
        configmaps.patch("a", [{"op": "remove", "path": "/data/missing"}], patch_type="json")


def test_status_apply_and_patch_leave_the_spec_alone(cluster: Cluster) -> None:
    gadgets = cluster.gadgets()
    gadgets.create(gadget("g", spec={"size": 1}))
    applied = gadgets.apply(gadget("g", status={"observedSize": 1}), field_manager="ctl", subresource="status")
    assert applied["status"] == {"observedSize": 1}
    assert applied["spec"] == {"size": 1}


def test_strategic_merge_patch_merges_keyed_lists_of_built_ins(cluster: Cluster) -> None:
    deployments = cluster.resource("deployments.apps")
    labels = {"app": "web"}
    containers = [{"name": "web", "image": "example.com/web:1", "env": [{"name": "A", "value": "1"}]}]
    template = {"metadata": {"labels": labels}, "spec": {"containers": containers}}
    body = {"metadata": {"name": "web", "finalizers": ["example.com/a"]}}
    deployments.create({**body, "spec": {"selector": {"matchLabels": labels}, "template": template}})
    patch = {
        "metadata": {"finalizers": ["example.com/b"]},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "example.com/web:2", "env": [{"name": "B", "value": "2"}]},
                        {"name": "sidecar", "image": "example.com/sidecar:1"},
                    ]
                }
            }
        },
    }
    patched = deployments.patch("web", patch, patch_type="strategic")
    found = patched["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in found] == [
        ("web", "example.com/web:2"),
        ("sidecar", "example.com/sidecar:1"),
    ]
    assert [(e["name"], e["value"]) for e in found[0]["env"]] == [("B", "2"), ("A", "1")]  # patch items first
    assert sorted(patched["metadata"]["finalizers"]) == ["example.com/a", "example.com/b"]
    delete = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    removed = deployments.patch("web", delete, patch_type="strategic")
    assert [c["name"] for c in removed["spec"]["template"]["spec"]["containers"]] == ["web"]
    unset = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a", "example.com/b"]}}
    emptied = deployments.patch("web", unset, patch_type="strategic")
    assert "finalizers" not in emptied["metadata"]


@pytest.mark.parametrize("resource", ["leases.coordination.k8s.io", "gadgets"])
def test_some_resources_refuse_an_update_without_a_resource_version(cluster: Cluster, resource: str) -> None:
    client = cluster.gadgets() if resource == "gadgets" else cluster.resource(resource)
    body = gadget("a", spec={}) if resource == "gadgets" else {"metadata": {"name": "a"}, "spec": {}}
    client.create(body)
    with pytest.raises(InvalidError, match="must be specified for an update"):
        client.update({**body, "spec": {"holderIdentity": "me"}})


def test_the_body_must_be_of_the_resource_s_type(cluster: Cluster) -> None:
    with pytest.raises(BadRequestError, match="cannot be handled as a ConfigMap"):
        cluster.resource("configmaps").create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}})
    gadgets = cluster.gadgets()
    with pytest.raises(InvalidError, match="must be Gadget"):
        gadgets.create({**gadget("a"), "kind": "Other"})
    with pytest.raises(BadRequestError, match="does not match the expected API version"):
        gadgets.create({**gadget("a"), "apiVersion": f"{GROUP}/v2"})

"""The dynamic client against a real kube-apiserver: every verb, scopes, paging, expiry, watches, apply conflicts."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest

from dynaclient._json_decoding import loads
from dynaclient.auth import StaticTokenAuth
from dynaclient.client import APIClient
from dynaclient.discovery.discovery import Discovery
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.exceptions import (
    AlreadyExistsError,
    ConflictError,
    GoneError,
    InvalidError,
    NamespaceScopeError,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from dynaclient.gvr import GroupVersionKind
from dynaclient.objects import nested_get
from dynaclient.request import Request
from dynaclient.resources import _list_bodies
from dynaclient.resources._list_bodies import decode_items_in_pieces
from dynaclient.resources.client import ResourceClient
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.resources.listing import peek_continue_token
from dynaclient.resources.options import Preconditions
from dynaclient.resources.requests import resource_path
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.http import HTTPTransport
from dynaclient.watch.events import WatchEvent
from tests.integration.flavours import BlockingClient

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def dynamic_client(api: APIClient) -> DynamicClient:
    # A lookup miss refreshes discovery at once, so resources created by a test resolve without a new client.
    return DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False), min_refresh_interval=0))


def connect(plane: ControlPlane) -> DynamicClient:
    transport = HTTPTransport(plane.server_url, ca_data=plane.ca_path.read_bytes())
    return dynamic_client(APIClient(transport, auth=StaticTokenAuth(plane.token)))


@pytest.fixture(scope="module")
def dyn(api_client: APIClient) -> DynamicClient:
    return dynamic_client(api_client)


@pytest.fixture
def configmaps(flavour: str, dyn: DynamicClient, async_client: BlockingClient, namespace: str) -> ResourceClient:
    """The threaded client's configmaps, or the asyncio client's seen from the test's thread (flavours.py)."""
    if flavour == "async":
        return cast(ResourceClient, async_client.resource("configmaps").namespace(namespace))
    return dyn.resource("configmaps").namespace(namespace)


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "t"}}, "data": data}


def names(objects: Any) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects]


def test_configmaps_support_every_verb(configmaps: ResourceClient) -> None:
    assert configmaps.create(configmap("dry"), dry_run=True)["metadata"]["name"] == "dry"
    with pytest.raises(NotFoundError):
        configmaps.get("dry")
    created = configmaps.create(configmap("a", k="1"), field_manager="tester")
    with pytest.raises(AlreadyExistsError):
        configmaps.create(configmap("a"))
    assert configmaps.get("a")["data"] == {"k": "1"}
    assert names(configmaps.list(label_selector={"app": "t"})) == ["a"]
    assert names(configmaps.list(field_selector={"metadata.name": "other"})) == []
    updated = configmaps.update({**created, "data": {"k": "2"}})
    assert updated["data"] == {"k": "2"}
    assert configmaps.patch("a", {"data": {"m": "3"}})["data"] == {"k": "2", "m": "3"}
    json_patch = [{"op": "remove", "path": "/data/m"}]
    assert configmaps.patch("a", json_patch, patch_type="json")["data"] == {"k": "2"}
    assert configmaps.patch("a", {"data": {"s": "4"}}, patch_type="strategic")["data"]["s"] == "4"
    with pytest.raises(ConflictError):
        configmaps.delete("a", preconditions=Preconditions(uid="not-the-uid"))
    configmaps.delete("a", dry_run=True)
    configmaps.delete("a", preconditions=Preconditions(uid=created["metadata"]["uid"]), propagation_policy="Background")
    with pytest.raises(NotFoundError):
        configmaps.get("a")


def test_delete_collection_removes_only_the_selected_objects(configmaps: ResourceClient) -> None:
    for name, app in (("x", "drop"), ("y", "drop"), ("z", "keep")):
        configmaps.create({"metadata": {"name": name, "labels": {"app": app}}})
    configmaps.delete_collection(label_selector={"app": "drop"})
    assert names(configmaps.list()) == ["z"]


def test_secrets_carry_base64_data_and_dry_run_delete_keeps_them(dyn: DynamicClient, namespace: str) -> None:
    secrets = dyn.resource("secrets").namespace(namespace)
    secrets.create({"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}})
    assert base64.b64decode(secrets.get("s")["data"]["password"]) == b"hunter2"
    secrets.delete("s", dry_run=True)
    assert secrets.get("s")["kind"] == "Secret"


def test_pods_are_created_updated_and_deleted_without_a_scheduler(dyn: DynamicClient, namespace: str) -> None:
    pods = dyn.resource("pods")
    body = {"metadata": {"name": "p", "namespace": namespace}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    created = pods.create(body)  # the namespace comes from metadata.namespace
    assert created["status"]["phase"] == "Pending"
    bound = pods.namespace(namespace)
    labelled = bound.update({**created, "metadata": {**created["metadata"], "labels": {"l": "v"}}})
    condition = {"type": "Ready", "status": "False", "reason": "Testing"}
    status = bound.update_status({**labelled, "status": {**labelled["status"], "conditions": [condition]}})
    assert status["status"]["conditions"][0]["reason"] == "Testing"
    assert names(pods.list(label_selector="l=v")) == ["p"]  # across all namespaces
    bound.delete("p", grace_period_seconds=0)
    with pytest.raises(NotFoundError):
        bound.get("p")


def test_deployment_scale_subresource_is_read_updated_and_patched(dyn: DynamicClient, namespace: str) -> None:
    deployments = dyn.resource("deployments.apps").namespace(namespace)
    labels = {"app": "web"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
    deployments.create({"metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                                              "template": template}})  # fmt: skip
    scale = deployments.get("web", subresource="scale")
    assert (scale["kind"], scale["spec"]["replicas"]) == ("Scale", 1)
    scale["spec"]["replicas"] = 3
    assert deployments.update(scale, subresource="scale")["spec"]["replicas"] == 3
    deployments.patch("web", {"spec": {"replicas": 5}}, subresource="scale")
    assert deployments.get("web")["spec"]["replicas"] == 5
    containers = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    patched = deployments.patch("web", containers, patch_type="strategic")
    assert patched["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"


def test_namespaces_are_cluster_scoped(dyn: DynamicClient) -> None:
    namespaces = dyn.resource("namespaces")
    name = f"dc-dyn-{uuid.uuid4().hex[:8]}"
    namespaces.create({"metadata": {"name": name, "labels": {"dc-dyn": name}}})
    try:
        assert names(namespaces.list(label_selector={"dc-dyn": name})) == [name]
        assert namespaces.get(name)["status"]["phase"] == "Active"
        with pytest.raises(NamespaceScopeError):
            namespaces.namespace(name)
    finally:
        assert namespaces.delete(name)["status"]["phase"] == "Terminating"


def test_a_crd_created_during_the_test_is_served_through_the_same_client(dyn: DynamicClient, namespace: str) -> None:
    group = f"t{uuid.uuid4().hex[:8]}.sawtooth.hyperledger.org"
    crds = dyn.resource("customresourcedefinitions.apiextensions.k8s.io")
    with pytest.raises(NamespaceScopeError):
        crds.namespace(namespace)
    crds.create(sawtooth_crd(group))
    try:
        wait_until_established(crds, f"sawtooths.{group}")
        sawtooths = dyn.resource(f"sawtooths.{group}").namespace(namespace)
        assert dyn.resource(GroupVersionKind(group, "v1alpha1", "Sawtooth")).api_resource.resource == "sawtooths"
        created = sawtooths.create({"apiVersion": f"{group}/v1alpha1", "kind": "Sawtooth", "metadata": {"name": "s"},
                                    "spec": {"size": 1}})  # fmt: skip
        assert sawtooths.update_status({**created, "status": {"ready": True}})["status"] == {"ready": True}
        assert sawtooths.patch("s", {"spec": {"size": 2}})["spec"]["size"] == 2
        with pytest.raises(UnsupportedMediaTypeError):
            sawtooths.patch("s", {"spec": {"size": 3}}, patch_type="strategic")
        assert [item["kind"] for item in sawtooths.list()] == ["Sawtooth"]
    finally:
        crds.delete(f"sawtooths.{group}")


def sawtooth_crd(group: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    version = {"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema},
               "subresources": {"status": {}}}  # fmt: skip
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"sawtooths.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "sawtooths", "singular": "sawtooth", "kind": "Sawtooth"},
            "versions": [version],
        },
    }


def wait_until_established(crds: ResourceClient, name: str) -> None:
    with crds.watch(field_selector={"metadata.name": name}, timeout_seconds=60) as events:
        for event in events:
            conditions = nested_get(event.object, "status", "conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return
    pytest.fail(f"{name} was not established within 60 s")


def test_server_side_apply_conflicts_between_managers_until_forced(configmaps: ResourceClient) -> None:
    configmaps.apply(configmap("ssa", key="first"), field_manager="alice")
    with pytest.raises(ConflictError) as conflict:
        configmaps.apply(configmap("ssa", key="second"), field_manager="bob")
    assert "alice" in str(conflict.value)
    applied = configmaps.apply(configmap("ssa", key="second"), field_manager="bob", force=True)
    assert applied["data"] == {"key": "second"}
    owners = {entry["manager"] for entry in applied["metadata"]["managedFields"]}
    assert "bob" in owners


def test_a_stale_update_is_a_conflict(configmaps: ResourceClient) -> None:
    stale = configmaps.create(configmap("c", v="1"))
    configmaps.update({**stale, "data": {"v": "2"}})
    with pytest.raises(ConflictError):
        configmaps.update({**stale, "data": {"v": "3"}})


def test_an_invalid_object_is_rejected_with_causes(configmaps: ResourceClient) -> None:
    with pytest.raises(InvalidError) as invalid:
        configmaps.create(configmap("Not_A_Valid_Name"))
    assert [cause.get("field") for cause in invalid.value.causes] == ["metadata.name"]


def create_configmaps(configmaps: ResourceClient, count: int) -> set[str]:
    wanted = {f"cm-{index:04d}" for index in range(count)}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: configmaps.create({"metadata": {"name": name}}), wanted))
    return wanted


def test_paging_by_100_over_1200_objects_yields_each_exactly_once(configmaps: ResourceClient) -> None:
    wanted = create_configmaps(configmaps, 1200)
    listing = configmaps.list(limit=100)
    pages = list(listing.pages())
    seen = [name for page in pages for name in names(page["items"])]
    assert len(seen) == len(wanted)
    assert set(seen) == wanted
    assert len(pages) == 12
    assert all(len(page["items"]) == 100 for page in pages)


def test_with_the_watch_cache_a_continue_token_survives_etcd_compaction(
    kube_apiserver: ControlPlane | ExistingCluster, configmaps: ResourceClient
) -> None:
    # Kubernetes 1.34 serves paginated lists from watch-cache snapshots (KEP-4988, ListFromCacheSnapshot), so a
    # token whose revision etcd has compacted still continues the same consistent list.
    assert isinstance(kube_apiserver, ControlPlane)
    wanted = create_configmaps(configmaps, 6)
    pages = configmaps.list(limit=2).pages()
    first = next(pages)
    configmaps.create({"metadata": {"name": "later"}})
    kube_apiserver.compact_etcd()
    rest = [name for page in pages for name in names(page["items"])]
    assert set(names(first["items"]) + rest) == wanted


@pytest.fixture(scope="module")
def uncached() -> Iterator[tuple[ControlPlane, DynamicClient]]:
    """A control plane without the watch cache: lists are served by etcd, as in client-go's pager 410 case."""
    with ControlPlane(watch_cache=False) as plane, connect(plane) as client:
        client.resource("namespaces").create({"metadata": {"name": "paging"}})
        create_configmaps(client.resource("configmaps").namespace("paging"), 6)
        yield plane, client


def compact_and_continue(
    uncached: tuple[ControlPlane, DynamicClient], *, restart: bool
) -> tuple[list[str], list[str], bool]:
    plane, client = uncached
    paging = client.resource("configmaps").namespace("paging")
    # No prefetch: the token must expire between two pages, not while the next one is already fetched.
    listing = paging.list(limit=2, restart_on_expired=restart, prefetch=False)
    items = iter(listing)
    first = [next(items)["metadata"]["name"], next(items)["metadata"]["name"]]
    paging.patch(first[0], {"data": {"touched": uuid.uuid4().hex}})  # a new revision to compact up to
    plane.compact_etcd()
    return first, names(items), listing.restarted


def test_without_the_watch_cache_an_expired_continue_token_is_gone(
    uncached: tuple[ControlPlane, DynamicClient],
) -> None:
    with pytest.raises(GoneError):
        compact_and_continue(uncached, restart=False)


def test_an_expired_continue_token_restarts_with_a_full_list_when_asked(
    uncached: tuple[ControlPlane, DynamicClient],
) -> None:
    first, rest, restarted = compact_and_continue(uncached, restart=True)
    assert restarted
    assert sorted(rest) == [f"cm-{index:04d}" for index in range(6)]  # the fresh list, whole
    assert set(first) <= set(rest)


def test_a_watch_from_a_lists_resource_version_sees_exactly_the_later_changes_in_order(
    configmaps: ResourceClient,
) -> None:
    configmaps.create(configmap("before"))
    listing = configmaps.list()
    assert names(listing) == ["before"]
    configmaps.create(configmap("a"))
    configmaps.patch("a", {"data": {"k": "v"}})
    configmaps.delete("a")
    configmaps.create(configmap("b"))
    with configmaps.watch(resource_version=listing.resource_version, timeout_seconds=30) as events:
        received = [(event.type, event.object["metadata"]["name"]) for event in take(events, 4)]
    assert received == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"), ("ADDED", "b")]


def take(events: Iterator[WatchEvent], count: int) -> list[WatchEvent]:
    taken: list[WatchEvent] = []
    for event in events:
        taken.append(event)
        if len(taken) == count:
            break
    return taken


def test_initial_events_end_with_a_bookmark_when_asked(configmaps: ResourceClient) -> None:
    create_configmaps(configmaps, 3)
    with configmaps.watch(
        send_initial_events=True, resource_version_match="NotOlderThan", allow_bookmarks=True, timeout_seconds=30
    ) as events:
        received = []
        for event in events:
            received.append(event)
            if event.type == "BOOKMARK":
                break
    assert [event.type for event in received] == ["ADDED"] * 3 + ["BOOKMARK"]
    assert received[-1].object["metadata"]["annotations"][INITIAL_EVENTS_END] == "true"
    assert events.resource_version == received[-1].resource_version


def test_metadata_only_list_get_and_watch_return_partial_object_metadata(configmaps: ResourceClient) -> None:
    configmaps.create(configmap("m", secret="not-in-metadata"))
    items = list(configmaps.list(metadata_only=True))
    assert [(item["kind"], item["apiVersion"]) for item in items] == [("PartialObjectMetadata", "meta.k8s.io/v1")]
    assert "data" not in items[0]
    assert "data" not in configmaps.get("m", metadata_only=True)
    with configmaps.watch(metadata_only=True, timeout_seconds=30) as events:
        assert next(events).object["kind"] == "PartialObjectMetadata"


def test_closing_a_watch_from_another_thread_returns_promptly(configmaps: ResourceClient) -> None:
    watch = configmaps.watch(resource_version="0", timeout_seconds=300)
    received: list[str] = []
    consumer = threading.Thread(target=lambda: received.extend(event.type for event in watch), name="consumer")
    consumer.start()
    watch.close()
    consumer.join(10)
    assert not consumer.is_alive()
    assert watch.closed


def test_both_list_layouts_the_server_writes_are_read_without_decoding_and_decoded_in_pieces(
    dyn: DynamicClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built-in lists put metadata first; custom resource lists have sorted keys (items before metadata).
    group = f"t{uuid.uuid4().hex[:8]}.sawtooth.hyperledger.org"
    crds = dyn.resource("customresourcedefinitions")
    crds.create(sawtooth_crd(group))
    try:
        wait_until_established(crds, f"sawtooths.{group}")
        sawtooths = dyn.resource(f"sawtooths.{group}").namespace(namespace)
        configmaps = dyn.resource("configmaps").namespace(namespace)
        for index in range(5):
            sawtooths.create({"apiVersion": f"{group}/v1alpha1", "kind": "Sawtooth",
                              "metadata": {"name": f"s{index}"}, "spec": {"size": index}})  # fmt: skip
            configmaps.create(configmap(f"c{index}", payload="x" * 300))
        monkeypatch.setattr(_list_bodies, "PIECE_BYTES", 256)  # several pieces per page
        for resource in (sawtooths, configmaps):
            path = resource_path(resource.api_resource, namespace=namespace)
            body = dyn.api_client.send(Request("GET", path, query=(("limit", "4"),))).read()
            whole = json.loads(body)
            assert whole["metadata"]["continue"]
            assert peek_continue_token(body) == whole["metadata"]["continue"]
            assert decode_items_in_pieces(body, loads) == whole
            assert [item["metadata"]["name"] for item in resource.list(limit=2)] == sorted(
                item["metadata"]["name"] for item in resource.list(limit=0)
            )
    finally:
        crds.delete(f"sawtooths.{group}")

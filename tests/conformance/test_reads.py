"""Conformance: list (selectors, pages, resourceVersions) and watch agree between the fake and kube-apiserver."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from dynaclient import ResourceClient, WatchEvent
from dynaclient.exceptions import BadRequestError
from tests.conformance.conftest import gadget

if TYPE_CHECKING:
    from tests.conformance.conftest import Cluster


def names(items: Iterable[dict[str, Any]]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


def create(resource: ResourceClient, name: str, labels: dict[str, str] | None = None, **fields: Any) -> None:
    resource.create({"metadata": {"name": name, "labels": labels or {}}, **fields})


def next_events(watch: Iterator[WatchEvent], count: int) -> list[tuple[str, str]]:
    """The next ``count`` non-bookmark events as ``(type, name)``."""
    found: list[tuple[str, str]] = []
    for event in watch:
        if event.type != "BOOKMARK":
            found.append((event.type, event.object["metadata"]["name"]))
        if len(found) == count:
            break
    return found


def test_label_and_field_selectors(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "web-1", {"app": "web", "tier": "front"})
    create(configmaps, "web-2", {"app": "web"})
    create(configmaps, "db", {"app": "db"})
    assert names(configmaps.list(label_selector="app=web")) == ["web-1", "web-2"]
    assert names(configmaps.list(label_selector={"app": ["web", "db"]})) == ["db", "web-1", "web-2"]
    assert names(configmaps.list(label_selector="tier")) == ["web-1"]
    assert names(configmaps.list(label_selector="app!=web")) == ["db"]
    assert names(configmaps.list(field_selector="metadata.name=db")) == ["db"]
    assert names(configmaps.list(field_selector="metadata.name!=db", label_selector="app")) == ["web-1", "web-2"]
    with pytest.raises(BadRequestError):
        configmaps.list(field_selector="data.x=1").to_list()


def test_custom_resources_select_on_their_selectable_fields(cluster: Cluster) -> None:
    gadgets = cluster.gadgets()
    gadgets.create(gadget("red", spec={"color": "red"}))
    gadgets.create(gadget("blue", spec={"color": "blue"}))
    assert names(gadgets.list(field_selector="spec.color=blue")) == ["blue"]


def test_lists_span_namespaces_and_cluster_scope(cluster: Cluster) -> None:
    create(cluster.resource("configmaps"), "mine", {"conformance": cluster.namespace})
    everywhere = cluster.client.resource("configmaps").list(label_selector={"conformance": cluster.namespace})
    assert names(everywhere) == ["mine"]
    namespaces = names(cluster.client.resource("namespaces").list())
    assert {"default", "kube-system", "kube-public", "kube-node-lease", cluster.namespace} <= set(namespaces)


def test_pages_are_a_consistent_snapshot(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    for index in range(5):
        create(configmaps, f"cm-{index}")
    first = configmaps.list_page(limit=2)
    assert names(first["items"]) == ["cm-0", "cm-1"]
    assert first["metadata"]["remainingItemCount"] == 3
    token = first["metadata"]["continue"]
    create(configmaps, "cm-9")  # after the snapshot: not listed
    configmaps.delete("cm-4")  # after the snapshot: still listed
    second = configmaps.list_page(limit=2, continue_token=token)
    third = configmaps.list_page(limit=2, continue_token=second["metadata"]["continue"])
    assert names(second["items"]) + names(third["items"]) == ["cm-2", "cm-3", "cm-4"]
    assert not third["metadata"].get("continue")
    assert names(configmaps.list(limit=2)) == ["cm-0", "cm-1", "cm-2", "cm-3", "cm-9"]


def test_exact_resource_version_reads_the_past(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "a", data={"v": "1"})
    before = configmaps.list_page(limit=0)["metadata"]["resourceVersion"]
    configmaps.patch("a", {"data": {"v": "2"}})
    create(configmaps, "b")
    past = configmaps.list_page(limit=0, resource_version=before, resource_version_match="Exact")
    assert [(item["metadata"]["name"], item["data"]) for item in past["items"]] == [("a", {"v": "1"})]
    assert past["metadata"]["resourceVersion"] == before


def test_metadata_only_lists_and_gets(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "a", {"x": "y"}, data={"secret": "s"})
    page = configmaps.list_page(metadata_only=True)
    assert page["items"][0]["kind"] == "PartialObjectMetadata"
    assert "data" not in page["items"][0]
    assert configmaps.get("a", metadata_only=True)["metadata"]["labels"] == {"x": "y"}


def test_watch_from_a_resource_version_streams_every_change_in_order(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "before")
    version = configmaps.list_page()["metadata"]["resourceVersion"]
    with configmaps.watch(resource_version=version, timeout_seconds=30) as watch:
        create(configmaps, "a")
        configmaps.patch("a", {"data": {"v": "1"}})
        configmaps.delete("a")
        events = []
        for event in watch:
            events.append(event)
            if len(events) == 3:
                break
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("MODIFIED", "a"),
        ("DELETED", "a"),
    ]
    versions = [int(e.resource_version) for e in events]
    assert versions == sorted(versions)
    assert versions[0] > int(version)
    assert events[2].object["kind"] == "ConfigMap"


@pytest.mark.parametrize("version", [None, "0"])
def test_watch_without_a_resource_version_starts_with_the_current_objects(
    cluster: Cluster, version: str | None
) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "a")
    create(configmaps, "b")
    with configmaps.watch(resource_version=version, timeout_seconds=30) as watch:
        assert sorted(next_events(watch, 2)) == [("ADDED", "a"), ("ADDED", "b")]
        create(configmaps, "c")
        assert next_events(watch, 1) == [("ADDED", "c")]


def test_send_initial_events_ends_with_a_bookmark(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "a")
    with configmaps.watch(
        send_initial_events=True, resource_version_match="NotOlderThan", allow_bookmarks=True, timeout_seconds=30
    ) as watch:
        first = next(watch)
        assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "a")
        bookmark = next(watch)
        assert bookmark.type == "BOOKMARK"
        assert bookmark.object["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        assert int(bookmark.resource_version) >= int(first.resource_version)


def test_watch_with_a_selector_sees_objects_enter_and_leave_it(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    create(configmaps, "a")
    version = configmaps.get("a")["metadata"]["resourceVersion"]
    with configmaps.watch(label_selector="app=web", resource_version=version, timeout_seconds=30) as watch:
        configmaps.patch("a", {"metadata": {"labels": {"app": "web"}}})
        configmaps.patch("a", {"data": {"v": "1"}})
        configmaps.patch("a", {"metadata": {"labels": {"app": "db"}}})
        create(configmaps, "b", {"app": "web"})
        assert next_events(watch, 4) == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"), ("ADDED", "b")]


def test_watch_of_one_namespace_sees_only_it(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    other = f"{cluster.namespace}-o"
    cluster.client.resource("namespaces").create({"metadata": {"name": other}})
    elsewhere = cluster.client.resource("configmaps").namespace(other)
    version = configmaps.list_page()["metadata"]["resourceVersion"]
    with configmaps.watch(resource_version=version, timeout_seconds=30) as watch:
        create(elsewhere, "there")
        create(configmaps, "here")
        assert next_events(watch, 1) == [("ADDED", "here")]


def test_a_watch_of_all_namespaces_sees_each(cluster: Cluster) -> None:
    other = f"{cluster.namespace}-w"
    cluster.client.resource("namespaces").create({"metadata": {"name": other}})
    everywhere = cluster.client.resource("configmaps")
    label = {"conformance": cluster.namespace}
    version = everywhere.list_page(label_selector=label)["metadata"]["resourceVersion"]
    with everywhere.watch(label_selector=label, resource_version=version, timeout_seconds=30) as watch:
        create(cluster.resource("configmaps"), "here", label)
        create(everywhere.namespace(other), "there", label)
        assert next_events(watch, 2) == [("ADDED", "here"), ("ADDED", "there")]


def test_a_watch_ends_after_its_timeout_and_close_ends_it_from_another_thread(cluster: Cluster) -> None:
    configmaps = cluster.resource("configmaps")
    version = configmaps.list_page()["metadata"]["resourceVersion"]
    with configmaps.watch(resource_version=version, timeout_seconds=1) as watch:
        assert list(watch) == []
    watch = configmaps.watch(resource_version=version)
    timer = threading.Timer(0.2, watch.close)
    timer.start()
    assert list(watch) == []
    timer.join()

"""Conformance: what is served from a cluster's history, and the 410 Gone once that history is compacted.

The real side is a control plane without the watch cache, where etcd serves every read at a past revision (with
the watch cache, kube-apiserver keeps serving recent history from memory after a compaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dynaclient.exceptions import GoneError

if TYPE_CHECKING:
    from tests.conformance.conftest import Cluster


def test_a_watch_replays_the_changes_after_its_resource_version(compactable: Cluster) -> None:
    configmaps = compactable.client.resource("configmaps").namespace(compactable.namespace)
    version = configmaps.create({"metadata": {"name": "a"}})["metadata"]["resourceVersion"]
    configmaps.patch("a", {"data": {"v": "1"}})
    configmaps.create({"metadata": {"name": "b"}})
    configmaps.delete("a")
    with configmaps.watch(resource_version=version, timeout_seconds=30) as watch:
        events = [(event.type, event.object["metadata"]["name"]) for _, event in zip(range(3), watch, strict=False)]
    assert events == [("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_after_compaction_older_versions_are_gone(compactable: Cluster) -> None:
    assert compactable.compact is not None
    configmaps = compactable.client.resource("configmaps").namespace(compactable.namespace)
    for index in range(3):
        configmaps.create({"metadata": {"name": f"cm-{index}"}})
    first = configmaps.list_page(limit=1)
    old = first["metadata"]["resourceVersion"]
    configmaps.patch("cm-0", {"data": {"v": "1"}})
    configmaps.patch("cm-0", {"data": {"v": "2"}})  # a watch from old starts at old + 1, now compacted too
    compactable.compact()
    with pytest.raises(GoneError):
        configmaps.list_page(limit=1, continue_token=first["metadata"]["continue"])
    with pytest.raises(GoneError):
        configmaps.list_page(limit=0, resource_version=old, resource_version_match="Exact")
    with configmaps.watch(resource_version=old, timeout_seconds=30) as watch, pytest.raises(GoneError):
        next(watch)


def test_a_watch_cut_by_a_restart_resumes_from_its_last_version_or_is_gone(compactable: Cluster) -> None:
    assert compactable.compact is not None
    assert compactable.restart is not None
    configmaps = compactable.client.resource("configmaps").namespace(compactable.namespace)
    version = configmaps.create({"metadata": {"name": "a"}})["metadata"]["resourceVersion"]
    watch = configmaps.watch(resource_version=version, timeout_seconds=60)
    configmaps.create({"metadata": {"name": "b"}})
    first = next(watch)
    assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "b")
    compactable.restart()
    assert next(watch, None) is None  # the connection is cut: the watch ends, as client-go's does
    assert watch.resource_version == first.object["metadata"]["resourceVersion"]
    configmaps.create({"metadata": {"name": "c"}})
    with configmaps.watch(resource_version=watch.resource_version, timeout_seconds=30) as resumed:
        event = next(resumed)
        assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "c")
    configmaps.patch("c", {"data": {"v": "1"}})
    compactable.compact()
    with (
        configmaps.watch(resource_version=watch.resource_version, timeout_seconds=30) as stale,
        pytest.raises(GoneError),
    ):
        next(stale)

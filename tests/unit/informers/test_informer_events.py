"""The informer's handlers, called for lists and watch events in order; the cache sync after the first list."""

from __future__ import annotations

import threading

import pytest

from dynaclient import JSONObject
from informers import DeletedFinalStateUnknown, KeyFuncError
from tests.unit.informers.informer_harness import WAIT, Harness, obj


def test_a_scripted_create_update_delete_sequence_yields_exactly_the_expected_calls(harness: Harness) -> None:
    harness.informer.on_replace([], "1")
    harness.event("ADDED", obj("web", "2"))
    harness.event("ADDED", obj("db", "3"))
    harness.event("MODIFIED", obj("web", "4"))
    harness.event("DELETED", obj("db", "5"))
    harness.event("MODIFIED", obj("web", "6"))
    harness.event("DELETED", obj("web", "7"))

    assert harness.calls() == [
        ("add", "default/web", "2", False),
        ("add", "default/db", "3", False),
        ("update", "default/web", "2", "4"),
        ("delete", "default/db", "5", False),
        ("update", "default/web", "4", "6"),
        ("delete", "default/web", "7", False),
    ]
    assert harness.informer.store.list_keys() == []
    assert harness.informer.last_sync_resource_version == "7"


def test_the_first_list_gives_initial_adds_and_a_relist_gives_tombstones_then_changes_in_list_order(
    harness: Harness,
) -> None:
    gone, changed, same = obj("gone", "1"), obj("changed", "1"), obj("same", "1")
    harness.informer.on_replace([gone, changed, same], "10")
    harness.informer.on_replace([obj("new-b", "12"), obj("changed", "11"), obj("same", "1"), obj("new-a", "13")], "20")

    assert harness.calls() == [
        ("add", "default/gone", "1", True),
        ("add", "default/changed", "1", True),
        ("add", "default/same", "1", True),
        ("delete", "default/gone", "1", True),
        ("add", "default/new-b", "12", False),
        ("update", "default/changed", "1", "11"),
        ("add", "default/new-a", "13", False),
    ]
    tombstone = harness.handler.objects[3]
    assert isinstance(tombstone, DeletedFinalStateUnknown)
    assert tombstone.obj is gone
    assert harness.informer.store.list_keys() == ["default/changed", "default/new-a", "default/new-b", "default/same"]
    assert harness.informer.last_sync_resource_version == "20"


def test_the_handlers_see_the_replaced_store_when_they_are_called(harness: Harness) -> None:
    seen: list[list[str]] = []
    done = threading.Event()

    def on_add(obj: JSONObject, is_initial: bool) -> None:
        seen.append(harness.informer.store.list_keys())
        done.set()

    harness.informer.add_event_handler(on_add=on_add)
    harness.informer.on_replace([obj("a"), obj("b")], "10")
    assert done.wait(WAIT)
    assert seen[0] == ["default/a", "default/b"]


def test_on_update_is_called_only_when_the_resource_version_changed(harness: Harness) -> None:
    harness.informer.on_replace([obj("web", "1")], "1")
    harness.event("MODIFIED", obj("web", "1"))
    harness.event("ADDED", obj("web", "1"))
    harness.event("ADDED", obj("web", "2"))

    assert harness.calls() == [("add", "default/web", "1", True), ("update", "default/web", "1", "2")]


def test_objects_without_resource_versions_count_as_updated_when_they_differ(harness: Harness) -> None:
    first, second = {"metadata": {"name": "a"}}, {"metadata": {"name": "a"}, "spec": {"x": 1}}
    harness.informer.on_replace([first], "1")
    harness.event("MODIFIED", {"metadata": {"name": "a"}})
    harness.event("MODIFIED", second)

    assert harness.calls() == [("add", "a", "", True), ("update", "a", "", "")]


def test_a_delete_of_an_unknown_object_is_still_notified_with_the_event_object(harness: Harness) -> None:
    harness.informer.on_replace([], "1")
    stranger = obj("stranger", "9")
    harness.event("DELETED", stranger)

    assert harness.calls() == [("delete", "default/stranger", "9", False)]
    assert harness.handler.objects == [stranger]


def test_a_bookmark_records_its_resource_version_without_notifying(harness: Harness) -> None:
    harness.informer.on_replace([obj("a")], "5")
    harness.event("BOOKMARK", {"metadata": {"resourceVersion": "42"}})
    harness.informer.on_resource_version("43")

    assert harness.calls() == [("add", "default/a", "1", True)]
    assert harness.informer.last_sync_resource_version == "43"
    assert harness.informer.health().bookmarks == 2


def test_an_error_event_is_refused(harness: Harness) -> None:
    with pytest.raises(ValueError, match="cannot apply an ERROR event"):
        harness.event("ERROR", {"kind": "Status", "code": 410})


def test_a_list_with_an_unnamed_object_leaves_the_cache_unchanged(harness: Harness) -> None:
    harness.informer.on_replace([obj("a")], "5")
    with pytest.raises(KeyFuncError, match=r"no metadata\.name"):
        harness.informer.on_replace([obj("b"), {"metadata": {}}], "6")

    assert harness.informer.store.list_keys() == ["default/a"]
    assert harness.calls() == [("add", "default/a", "1", True)]


def test_the_informer_has_synced_after_its_first_list() -> None:
    harness = Harness()
    try:
        assert not harness.informer.has_synced()
        assert not harness.registration.has_synced()
        harness.informer.on_replace([obj("a")], "5")
        assert harness.informer.has_synced()
        assert harness.informer.wait_for_cache_sync(0)
        assert harness.registration.wait_until_idle(WAIT)
        assert harness.registration.has_synced()
    finally:
        assert harness.informer.stop(WAIT)


def test_wait_for_cache_sync_gives_up_when_the_clock_reaches_the_timeout(harness: Harness) -> None:
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(harness.informer.wait_for_cache_sync(30)))
    waiter.start()
    assert harness.clock.block_until_waiters(1)
    harness.clock.advance(30)
    waiter.join(WAIT)
    assert result == [False]


def with_uid(obj: JSONObject, uid: str) -> JSONObject:
    obj["metadata"]["uid"] = uid
    return obj


def test_a_relist_that_finds_a_name_under_another_uid_notifies_a_tombstone_then_an_add(harness: Harness) -> None:
    old = with_uid(obj("a", "1"), "uid-1")
    harness.informer.on_replace([old, with_uid(obj("b", "1"), "uid-b")], "5")
    new = with_uid(obj("a", "9"), "uid-2")
    harness.informer.on_replace([new, with_uid(obj("b", "8"), "uid-b")], "9")

    assert harness.calls() == [
        ("add", "default/a", "1", True),
        ("add", "default/b", "1", True),
        ("delete", "default/a", "1", True),
        ("add", "default/a", "9", False),
        ("update", "default/b", "1", "8"),
    ]
    tombstone = harness.handler.objects[2]
    assert isinstance(tombstone, DeletedFinalStateUnknown)
    assert tombstone.obj is old
    assert harness.handler.objects[3] is new


def test_a_watch_event_for_a_name_under_another_uid_notifies_a_tombstone_then_an_add(harness: Harness) -> None:
    harness.informer.on_replace([with_uid(obj("a", "1"), "uid-1")], "5")
    harness.event("MODIFIED", with_uid(obj("a", "7"), "uid-2"))
    harness.event("MODIFIED", with_uid(obj("a", "8"), "uid-2"))

    assert harness.calls() == [
        ("add", "default/a", "1", True),
        ("delete", "default/a", "1", True),
        ("add", "default/a", "7", False),
        ("update", "default/a", "7", "8"),
    ]

"""Filtering handlers and function handlers added to the informer."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import pytest

from dynaclient import JSONObject, get_labels, get_resource_version
from informers import DeletedFinalStateUnknown, FilteringEventHandler, FunctionHandler, annotation_filter, label_filter
from informers.testing import RecordingHandler
from tests.unit.informers.informer_harness import WAIT, Harness, obj


def test_a_filtering_handler_turns_updates_across_the_filter_into_adds_and_deletes(harness: Harness) -> None:
    web = RecordingHandler()
    registration = harness.informer.add_event_handler(
        FilteringEventHandler(lambda o: get_labels(o) == {"app": "web"}, web)
    )
    harness.informer.on_replace([obj("a", "1"), obj("b", "1", app="web")], "5")
    harness.event("MODIFIED", obj("a", "2", app="web"))
    harness.event("MODIFIED", obj("a", "3", app="web"))
    harness.event("MODIFIED", obj("a", "4"))
    harness.event("MODIFIED", obj("a", "5"))
    harness.informer.on_replace([], "6")

    assert registration.wait_until_idle(WAIT)
    assert web.calls == [
        ("add", "default/b", "1", True),
        ("add", "default/a", "2", False),
        ("update", "default/a", "2", "3"),
        ("delete", "default/a", "3", False),
        ("delete", "default/b", "1", True),
    ]
    assert not isinstance(web.objects[3], DeletedFinalStateUnknown)
    assert isinstance(web.objects[4], DeletedFinalStateUnknown)  # the predicate saw its object, the handler it


@pytest.mark.parametrize(
    "predicate",
    [label_filter({"app": "web"}), label_filter("app in (web)"), annotation_filter({"team": "a"})],
    ids=["label-mapping", "label-string", "annotation"],
)
def test_label_and_annotation_filters_pass_inferred_deletes_of_matching_objects(
    harness: Harness, predicate: Callable[[JSONObject | DeletedFinalStateUnknown], bool]
) -> None:
    matching = obj("b", "1", app="web")
    matching["metadata"]["annotations"] = {"team": "a"}
    web = RecordingHandler()
    registration = harness.informer.add_event_handler(FilteringEventHandler(predicate, web))
    harness.informer.on_replace([obj("a", "1"), matching], "5")
    harness.informer.on_replace([], "6")

    assert registration.wait_until_idle(WAIT)
    assert web.calls == [("add", "default/b", "1", True), ("delete", "default/b", "1", True)]
    assert predicate(DeletedFinalStateUnknown("default/b", matching))
    assert not predicate(DeletedFinalStateUnknown("default/a", obj("a", "1")))


def test_function_handlers_taking_one_argument_get_the_object_so_queue_put_works(harness: Harness) -> None:
    added: queue.Queue[JSONObject] = queue.Queue(maxsize=1)
    updated: list[JSONObject] = []
    deleted: queue.Queue[Any] = queue.Queue()
    registration = harness.informer.add_event_handler(on_add=added.put, on_update=updated.append, on_delete=deleted.put)
    harness.informer.on_replace([obj("a", "1")], "5")
    assert added.get(timeout=WAIT)["metadata"]["name"] == "a"
    harness.event("ADDED", obj("b", "2"))
    harness.event("ADDED", obj("c", "3"))  # the queue holds one: put blocks until the test takes "b", as put does
    assert [added.get(timeout=WAIT)["metadata"]["name"] for _ in range(2)] == ["b", "c"]
    harness.event("MODIFIED", obj("a", "4"))
    harness.event("DELETED", obj("a", "5"))

    assert registration.wait_until_idle(WAIT)
    assert registration.health().errors == 0
    assert [get_resource_version(new) for new in updated] == ["4"]
    assert get_resource_version(deleted.get_nowait()) == "5"


def test_function_handlers_taking_two_arguments_or_is_initial_get_the_flag_and_both_objects() -> None:
    seen: list[object] = []

    def with_default(obj: JSONObject, is_initial: bool = False) -> None:
        seen.append(("default", is_initial))

    def variadic(*args: object) -> None:
        seen.append(("variadic", len(args)))

    FunctionHandler(on_add=lambda o, is_initial: seen.append(("lambda", is_initial))).on_add({}, True)
    FunctionHandler(on_add=with_default).on_add({}, True)
    FunctionHandler(on_add=variadic, on_update=variadic).on_add({}, True)
    FunctionHandler(on_update=variadic).on_update({}, {})
    FunctionHandler(on_update=lambda old, new: seen.append(("update", old, new))).on_update({"o": 1}, {"n": 2})
    assert seen == [
        ("lambda", True),
        ("default", True),
        ("variadic", 2),
        ("variadic", 2),
        ("update", {"o": 1}, {"n": 2}),
    ]

from __future__ import annotations

import copy
import gc
from collections import Counter
from typing import Any

import pytest

from dynaclient import JSONObject
from informers.cache.store import Store
from informers.exceptions import KeyFuncError
from informers.processor import Listener, SharedProcessor
from informers.reflector.listwatch import ListPage, WatchStream
from informers.sink import CacheSink, PreparingListerWatcher
from informers.testing import RecordingHandler, make_object


class CountingTransform:
    def __init__(self, fail_on: str = "") -> None:
        self.calls: Counter[str] = Counter()
        self.fail_on = fail_on

    def __call__(self, obj: JSONObject) -> JSONObject:
        name = obj["metadata"]["name"]
        self.calls[name] += 1
        if name == self.fail_on:
            raise ValueError(f"cannot transform {name}")
        return {**obj, "transformed": True}


class Pages:
    """A lister-watcher serving fixed pages by continue token."""

    def __init__(self, pages: dict[str | None, ListPage]) -> None:
        self.pages = pages

    def list_page(self, *, continue_token: str | None, **_: Any) -> ListPage:
        return copy.deepcopy(self.pages[continue_token])  # fresh objects on every call, as from a server

    def watch(self, **_: Any) -> WatchStream:
        raise AssertionError("not watched")


def objects(*names: str) -> list[JSONObject]:
    return [make_object(name, resource_version="1") for name in names]


def sink_and_pages(transform: CountingTransform) -> tuple[CacheSink, PreparingListerWatcher, list[JSONObject]]:
    first, second = objects("a", "b"), objects("c")
    pages = Pages({None: ListPage(first, "9", "t"), "t": ListPage(second, "9")})
    sink = CacheSink(Store(), SharedProcessor(), name="test", transform=transform)
    return sink, PreparingListerWatcher(pages, sink), first + second


def read(lister: PreparingListerWatcher, token: str | None) -> list[JSONObject]:
    return lister.list_page(limit=2, continue_token=token, resource_version=None, resource_version_match=None).items


def test_list_pages_are_prepared_on_arrival_and_each_object_is_transformed_once() -> None:
    transform = CountingTransform()
    sink, lister, _ = sink_and_pages(transform)
    items = read(lister, None)
    assert transform.calls == {"a": 1, "b": 1}  # before the list is complete
    items += read(lister, "t")
    sink.on_replace(items, "9")
    assert transform.calls == {"a": 1, "b": 1, "c": 1}
    assert sorted(sink.store.list_keys()) == ["default/a", "default/b", "default/c"]
    assert all(obj["transformed"] for obj in sink.store.list())


def test_a_failed_preparation_fails_the_replace_as_before_and_leaves_the_cache_alone() -> None:
    transform = CountingTransform(fail_on="b")
    sink, lister, _ = sink_and_pages(transform)
    items = read(lister, None) + read(lister, "t")
    with pytest.raises(ValueError, match="cannot transform b"):
        sink.on_replace(items, "9")
    assert sink.store.list_keys() == []
    assert not sink.synced.is_set()
    assert transform.calls == {"a": 1, "b": 1}  # b once, and nothing after it


def test_objects_not_prepared_are_transformed_at_the_replace() -> None:
    transform = CountingTransform()
    sink, lister, _ = sink_and_pages(transform)
    read(lister, None)  # a list that never completes
    fresh = objects("a", "z")  # say, a streaming list's objects
    sink.on_replace(fresh, "10")
    assert transform.calls == {"a": 2, "b": 1, "z": 1}
    assert sorted(sink.store.list_keys()) == ["default/a", "default/z"]


def test_a_new_first_page_drops_what_an_unfinished_list_prepared() -> None:
    transform = CountingTransform()
    sink, lister, _ = sink_and_pages(transform)
    stale = read(lister, None)
    items = read(lister, None) + read(lister, "t")
    sink.on_replace(stale + items[2:], "9")  # stale objects were dropped with the first list: prepared again
    assert transform.calls == {"a": 3, "b": 3, "c": 1}


def test_a_list_mixing_prepared_and_unprepared_objects_uses_what_was_prepared() -> None:
    transform = CountingTransform()
    sink, lister, _ = sink_and_pages(transform)
    first, second = read(lister, None), read(lister, "t")
    sink.on_replace([*first, *objects("z"), *second], "9")  # not the pages as read: matched object by object
    assert transform.calls == {"a": 1, "b": 1, "c": 1, "z": 1}
    assert sink.store.list_keys() == ["default/a", "default/b", "default/c", "default/z"]


def test_an_object_without_a_key_fails_the_replace_where_it_stands_and_leaves_the_cache_alone() -> None:
    transform = CountingTransform(fail_on="none of them")
    nameless = {"metadata": {"namespace": "default", "name": ""}}
    pages = Pages(
        {None: ListPage([*objects("a"), nameless, *objects("b")], "9", "t"), "t": ListPage(objects("c"), "9")}
    )
    sink = CacheSink(Store(), SharedProcessor(), name="test", transform=transform)
    lister = PreparingListerWatcher(pages, sink)
    items = read(lister, None) + read(lister, "t")
    with pytest.raises(KeyFuncError):
        sink.on_replace(items, "9")
    assert sink.store.list_keys() == []
    assert transform.calls == {"a": 1, "": 1}  # nothing after the nameless object was prepared


def test_a_replace_without_handlers_fills_the_cache_and_a_later_handler_gets_it_as_initial_adds() -> None:
    processor = SharedProcessor()
    sink = CacheSink(Store(), processor, name="test", transform=None)
    sink.on_replace(objects("b", "a"), "9")
    assert sink.synced.is_set()
    handler = RecordingHandler()
    late = Listener(handler, name="late", upstream_synced=sink.synced, requested_resync=0.0)
    sink.add_listener(late)
    processor.start()
    try:
        assert late.wait_until_idle(10.0)
        assert handler.calls == [("add", "default/a", "1", True), ("add", "default/b", "1", True)]
        assert late.has_synced()
    finally:
        processor.stop()
        assert processor.join(lambda: 10.0) == []


def test_a_replace_runs_with_the_collector_paused_and_puts_the_cache_in_the_oldest_generation() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        assert gc.get_freeze_count() == 0  # a process that froze objects itself is never promoted into
        collecting: list[bool] = []

        def spy(obj: JSONObject) -> list[str]:  # an index function: it runs while the new cache is built
            collecting.append(gc.isenabled())
            return []

        sink = CacheSink(Store({"spy": spy}), SharedProcessor(), name="test", transform=None)
        sink.on_replace(objects("a", "b"), "9")
        assert collecting == [False, False]
        assert gc.isenabled()
        cached = sink.store.get_by_key("default/a")
        assert any(obj is cached for obj in gc.get_objects(generation=2))
        assert not any(obj is cached for obj in gc.get_objects(generation=0))
    finally:
        if not was_enabled:
            gc.disable()

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from dynaclient import JSONObject, WatchEvent, get_labels, get_resource_version
from informers import (
    AlreadyStartedError,
    DeletedFinalStateUnknown,
    FakeClock,
    FilteringEventHandler,
    FunctionHandler,
    HandlerRegistration,
    IndexConflictError,
    InformerError,
    KeyFuncError,
    ListerWatcher,
    SharedIndexInformer,
    annotation_filter,
    label_filter,
    label_index,
    strip_managed_fields,
)
from informers.testing import IdleReflectorFactory, IdleReflectorStatus, RecordingHandler, make_object

WAIT = 10.0
NO_SERVER = cast(ListerWatcher, object())


def obj(name: str, rv: str = "1", namespace: str = "default", **labels: str) -> JSONObject:
    return make_object(name, namespace, rv, labels)


class Harness:
    """An informer with an idle reflector, started, and one recording handler."""

    def __init__(self, **options: Any) -> None:
        self.reflectors = IdleReflectorFactory()
        self.clock = FakeClock()
        self.informer = SharedIndexInformer(
            NO_SERVER, name="pods", reflector_factory=self.reflectors, clock=self.clock, **options
        )
        self.handler = RecordingHandler()
        self.registration = self.informer.add_event_handler(self.handler)
        self.informer.start()

    def event(self, event_type: str, obj: JSONObject) -> None:
        self.informer.on_event(WatchEvent(event_type, obj))  # type: ignore[call-overload]

    def calls(self, registration: HandlerRegistration | None = None) -> list[tuple[object, ...]]:
        assert (registration or self.registration).wait_until_idle(WAIT)
        return list(self.handler.calls)


@pytest.fixture
def harness() -> Iterator[Harness]:
    harness = Harness()
    yield harness
    assert harness.informer.stop(WAIT)


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


# -- resync --------------------------------------------------------------------------------------------------------


def test_resync_replays_the_cache_to_the_handlers_due_without_calling_the_server() -> None:
    harness = Harness(resync=10.0)
    try:
        quiet = RecordingHandler()
        quiet_registration = harness.informer.add_event_handler(quiet, resync=0)
        harness.informer.on_replace([obj("a", "1"), obj("b", "2")], "5")
        assert harness.clock.block_until_waiters(1)

        harness.clock.advance(10)
        assert harness.handler.wait_for(4)[2:] == [("update", "default/a", "1", "1"), ("update", "default/b", "2", "2")]
        objects = harness.handler.objects
        assert objects[2] is harness.informer.store.get_by_key("default/a")
        assert quiet_registration.wait_until_idle(WAIT)
        assert quiet.calls == [("add", "default/a", "1", True), ("add", "default/b", "2", True)]
        assert harness.informer.health().resyncs == 1
    finally:
        assert harness.informer.stop(WAIT)


def test_a_direct_resync_before_the_period_has_passed_replays_nothing(harness: Harness) -> None:
    harness.informer.on_replace([obj("a")], "5")
    harness.informer.resync()
    assert harness.calls() == [("add", "default/a", "1", True)]


@pytest.mark.parametrize(
    ("informer_resync", "handler_resyncs", "expected"),
    [
        (None, [0.1], [1.0]),
        (60.0, [5.0, 0.0, None], [5.0, 0.0, 60.0]),
        (None, [60.0, 30.0], [60.0, 30.0]),
        (10.0, [30.0, 20.0], [30.0, 20.0]),
    ],
    ids=["one-second-floor", "lowers-check-period-before-start", "first-period-becomes-check-period", "longer-kept"],
)
def test_handler_resync_periods_before_start_follow_client_go(
    informer_resync: float | None, handler_resyncs: list[float | None], expected: list[float]
) -> None:
    informer = SharedIndexInformer(NO_SERVER, resync=informer_resync, reflector_factory=IdleReflectorFactory())
    for resync in handler_resyncs:
        informer.add_event_handler(RecordingHandler(), resync=resync)
    assert [handler.resync_period for handler in informer.health().handlers] == expected


def test_a_handler_added_after_start_gets_at_least_the_resync_check_period() -> None:
    harness = Harness(resync=30.0)
    try:
        harness.informer.add_event_handler(RecordingHandler(), resync=5.0)
        harness.informer.add_event_handler(RecordingHandler(), resync=90.0)
        assert [handler.resync_period for handler in harness.informer.health().handlers] == [30.0, 30.0, 90.0]
    finally:
        assert harness.informer.stop(WAIT)


# -- transform -----------------------------------------------------------------------------------------------------


def test_the_transform_runs_once_per_object_before_it_is_stored_and_never_on_tombstones() -> None:
    transformed: list[str] = []

    def transform(obj: JSONObject) -> JSONObject:
        transformed.append(obj["metadata"]["name"])
        return strip_managed_fields(obj)

    harness = Harness(transform=transform)
    try:
        managed = {"metadata": {"name": "a", "namespace": "default", "resourceVersion": "1", "managedFields": [{}]}}
        harness.informer.on_replace([managed, obj("b")], "5")
        harness.event("MODIFIED", {**obj("a", "2"), "metadata": {**obj("a", "2")["metadata"], "managedFields": []}})
        harness.informer.on_replace([obj("a", "2")], "6")

        assert harness.calls()[-1] == ("delete", "default/b", "1", True)
        assert transformed == ["a", "b", "a", "a"]
        stored = harness.informer.store.get_by_key("default/a")
        assert stored is not None
        assert "managedFields" not in stored["metadata"]
        assert all(
            "managedFields" not in o.obj["metadata"]
            for o in harness.handler.objects
            if isinstance(o, DeletedFinalStateUnknown)
        )
    finally:
        assert harness.informer.stop(WAIT)


def test_a_transform_that_returns_no_object_is_a_clear_error() -> None:
    harness = Harness(transform=lambda obj: None)
    try:
        with pytest.raises(TypeError, match="transform of informer pods returned a NoneType"):
            harness.informer.on_replace([obj("a")], "5")
        assert len(harness.informer.store) == 0
    finally:
        assert harness.informer.stop(WAIT)


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


# -- filtering -----------------------------------------------------------------------------------------------------


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


# -- indexes, lifecycle and health -------------------------------------------------------------------------------


def test_indexers_can_be_added_while_running_and_queried(harness: Harness) -> None:
    harness.informer.on_replace([obj("a", app="web"), obj("b", app="db"), obj("c", namespace="prod", app="web")], "5")
    harness.informer.add_indexers({"app": label_index("app")})

    assert [o["metadata"]["name"] for o in harness.informer.by_index("app", "web")] == ["a", "c"]
    assert [o["metadata"]["name"] for o in harness.informer.indexer.by_index("namespace", "prod")] == ["c"]
    with pytest.raises(IndexConflictError):
        harness.informer.add_indexers({"app": label_index("app")})


def test_start_is_idempotent_and_a_stopped_informer_cannot_restart_or_take_handlers_or_indexers() -> None:
    harness = Harness()
    harness.informer.start()
    assert len(harness.reflectors.built) == 1
    assert harness.reflectors.built[0].running.wait(WAIT)

    assert harness.informer.stop(WAIT)
    assert harness.informer.stop(WAIT)
    with pytest.raises(AlreadyStartedError, match="informer pods was stopped"):
        harness.informer.start()
    with pytest.raises(InformerError, match="stopped: cannot add an event handler"):
        harness.informer.add_event_handler(RecordingHandler())
    with pytest.raises(InformerError, match="stopped: cannot add indexers"):
        harness.informer.add_indexers({"app": label_index("app")})
    harness.registration.remove()


def test_stop_joins_every_thread_of_the_informer() -> None:
    harness = Harness(resync=5.0)
    harness.informer.add_event_handler(RecordingHandler())
    assert harness.reflectors.built[0].running.wait(WAIT)
    names = {thread.name for thread in threading.enumerate() if thread.name.startswith("informer[pods]")}
    assert names == {"informer[pods]", "informer[pods]/resync", "informer[pods]/handler-1", "informer[pods]/handler-2"}

    assert harness.informer.stop(2.0)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("informer[pods]")]


def test_health_reports_counts_reflector_status_and_handler_state(harness: Harness) -> None:
    def on_add(obj: JSONObject, is_initial: bool) -> None:
        raise ZeroDivisionError

    failing = harness.informer.add_event_handler(on_add=on_add)
    harness.informer.on_replace([obj("a")], "5")
    harness.event("ADDED", obj("b", "6"))
    harness.event("MODIFIED", obj("b", "7"))
    harness.informer.on_replace([obj("b", "7")], "8")
    harness.informer.on_resource_version("9")
    harness.reflectors.built[0].set_status(
        IdleReflectorStatus(watching=True, last_error="TimeoutError: watch stalled", watch_restarts=3)
    )
    assert failing.wait_until_idle(WAIT)
    assert harness.registration.wait_until_idle(WAIT)

    health = harness.informer.health()
    assert (health.name, health.started, health.stopped, health.has_synced) == ("pods", True, False, True)
    assert (health.resource_version, health.objects) == ("9", 1)
    assert (health.lists, health.relists, health.events, health.bookmarks) == (2, 1, 2, 1)
    assert (health.watching, health.last_error, health.watch_restarts) == (True, "TimeoutError: watch stalled", 3)
    assert health.reflector == harness.reflectors.built[0].status()
    assert [(h.name, h.errors, h.delivered) for h in health.handlers] == [
        ("informer[pods]/handler-1", 0, 4),
        ("informer[pods]/handler-2", 2, 4),
    ]
    assert (health.handler_errors, health.handler_queue_depth) == (2, 0)


def test_health_gives_the_current_error_only_until_recovery_and_the_staleness_on_the_informers_clock(
    harness: Harness,
) -> None:
    reflector = harness.reflectors.built[0]
    error = "ReflectorError: the watch request got no response for 65 s; reopening it"
    reflector.set_status(
        IdleReflectorStatus(last_error=error, consecutive_failures=1, last_error_at=1.0, last_confirmed_at=0.0)
    )
    harness.clock.advance(70.0)
    stalled = harness.informer.health()
    assert (stalled.current_error, stalled.last_error, stalled.last_error_age, stalled.staleness) == (
        error,
        error,
        69.0,
        70.0,
    )
    reflector.set_status(
        IdleReflectorStatus(watching=True, last_error=error, last_error_at=1.0, last_confirmed_at=70.0)
    )
    harness.clock.advance(2.0)
    recovered = harness.informer.health()
    assert (recovered.current_error, recovered.last_error, recovered.last_error_age, recovered.staleness) == (
        None,
        error,
        71.0,
        2.0,
    )


def test_health_before_start_has_no_reflector() -> None:
    health = SharedIndexInformer(NO_SERVER, name="idle", reflector_factory=IdleReflectorFactory()).health()
    assert (health.started, health.watching, health.last_error, health.reflector, health.relists) == (
        False,
        False,
        None,
        None,
        0,
    )


def test_run_blocks_until_the_stop_event_is_set_then_stops_the_informer() -> None:
    reflectors = IdleReflectorFactory()
    informer = SharedIndexInformer(NO_SERVER, name="run", reflector_factory=reflectors)
    stop = threading.Event()
    runner = threading.Thread(target=informer.run, args=(stop,))
    runner.start()
    assert informer.wait_for_cache_sync(0) is False
    assert reflectors.wait_built(1)[0].running.wait(WAIT)
    assert not informer.is_stopped

    stop.set()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert informer.is_stopped

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import cast

import pytest

from dynaclient import JSONObject, WatchEvent
from informers import DeletedFinalStateUnknown, FunctionHandler, HandlerRegistration, ListerWatcher, SharedIndexInformer
from informers.aio.processor import AsyncListener
from informers.notifications import AddNotification
from informers.processor import Listener, SharedProcessor, effective_resync_period
from informers.testing import IdleReflector, RecordingHandler, make_object

WAIT = 10.0
NO_SERVER = cast(ListerWatcher, object())


class BlockingHandler(RecordingHandler):
    """Records calls, but each on_add blocks until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        self.entered.set()
        assert self.gate.wait(WAIT), "the test never opened the gate"
        super().on_add(obj, is_initial)


class RaisingOnFirstAdd(RecordingHandler):
    def __init__(self) -> None:
        super().__init__()
        self.raised = False

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        if not self.raised:
            self.raised = True
            raise RuntimeError("handler bug")
        super().on_add(obj, is_initial)


def listener(handler: RecordingHandler, name: str = "test/handler", synced: bool = True) -> Listener:
    upstream = threading.Event()
    if synced:
        upstream.set()
    return Listener(handler, name=name, upstream_synced=upstream, requested_resync=0.0)


def running_informer() -> SharedIndexInformer:
    informer = SharedIndexInformer(NO_SERVER, name="pods", reflector_factory=IdleReflector)
    informer.start()
    return informer


@pytest.fixture
def informer() -> Iterator[SharedIndexInformer]:
    informer = running_informer()
    yield informer
    assert informer.stop(WAIT)


@pytest.fixture
def processor() -> Iterator[SharedProcessor]:
    processor = SharedProcessor()
    yield processor
    processor.stop()
    assert processor.join(lambda: WAIT) == []


def test_a_slow_handler_does_not_delay_another_handler(processor: SharedProcessor) -> None:
    slow, fast = BlockingHandler(), RecordingHandler()
    processor.add(listener(slow, "slow"))
    processor.add(listener(fast, "fast"))
    processor.start()
    for name in ("a", "b", "c"):
        processor.distribute(AddNotification(make_object(name)))

    assert slow.entered.wait(WAIT)
    assert [call[1] for call in fast.wait_for(3)] == ["default/a", "default/b", "default/c"]
    assert slow.calls == []

    slow.gate.set()
    assert [call[1] for call in slow.wait_for(3)] == ["default/a", "default/b", "default/c"]


def test_a_handler_that_raises_is_logged_and_counted_and_keeps_receiving(
    processor: SharedProcessor, caplog: pytest.LogCaptureFixture
) -> None:
    handler = RaisingOnFirstAdd()
    failing = listener(handler, "informer[pods]/handler-1")
    processor.add(failing)
    processor.start()
    with caplog.at_level(logging.ERROR, logger="informers.processor"):
        processor.distribute(AddNotification(make_object("a")))
        processor.distribute(AddNotification(make_object("b")))
        assert failing.wait_until_idle(WAIT)

    assert handler.calls == [("add", "default/b", "1", False)]
    health = failing.health()
    assert (health.errors, health.delivered, health.queue_depth) == (1, 2, 0)
    assert "informer[pods]/handler-1 raised RuntimeError on add of 'default/a'" in caplog.text
    assert "RuntimeError: handler bug" in caplog.text


def test_the_queue_depth_counts_notifications_waiting_behind_a_busy_handler(processor: SharedProcessor) -> None:
    handler = BlockingHandler()
    busy = listener(handler)
    processor.add(busy)
    processor.start()
    for name in ("a", "b", "c"):
        processor.distribute(AddNotification(make_object(name)))
    assert handler.entered.wait(WAIT)

    assert busy.health().queue_depth == 2
    assert not busy.wait_until_idle(0)
    handler.gate.set()
    assert busy.wait_until_idle(WAIT)
    assert busy.health().queue_depth == 0


def test_a_removed_handler_receives_nothing_more_while_the_others_continue(processor: SharedProcessor) -> None:
    removed, kept = RecordingHandler(), RecordingHandler()
    removed_listener = listener(removed, "removed")
    processor.add(removed_listener)
    processor.add(listener(kept, "kept"))
    processor.start()
    processor.distribute(AddNotification(make_object("before")))
    assert len(removed.wait_for(1)) == 1
    assert len(kept.wait_for(1)) == 1

    processor.remove(removed_listener)
    processor.remove(removed_listener)
    processor.distribute(AddNotification(make_object("after")))

    assert [call[1] for call in kept.wait_for(2)] == ["default/before", "default/after"]
    assert removed_listener.join(WAIT)
    assert removed.calls == [("add", "default/before", "1", False)]
    assert processor.listeners() == [processor.listeners()[0]]
    assert processor.listeners()[0].name == "kept"


def test_stop_drops_queued_notifications_and_ends_every_thread(processor: SharedProcessor) -> None:
    handler = BlockingHandler()
    processor.add(listener(handler, "informer[x]/handler-1"))
    processor.start()
    processor.distribute(AddNotification(make_object("a")))
    processor.distribute(AddNotification(make_object("b")))
    assert handler.entered.wait(WAIT)

    processor.stop()
    handler.gate.set()

    assert processor.join(lambda: WAIT) == []
    assert handler.calls == [("add", "default/a", "1", False)]
    assert "informer[x]/handler-1" not in {thread.name for thread in threading.enumerate()}


def test_has_synced_waits_for_every_initial_notification_to_be_handled(processor: SharedProcessor) -> None:
    handler = BlockingHandler()
    initial = listener(handler)
    processor.add(initial)
    processor.start()
    processor.distribute(AddNotification(make_object("a"), is_initial=True), initial=True)
    assert handler.entered.wait(WAIT)

    assert not initial.has_synced()
    handler.gate.set()
    assert initial.wait_until_idle(WAIT)
    assert initial.has_synced()


def test_a_batch_is_queued_in_order_and_each_of_its_initial_notifications_counts_towards_has_synced(
    processor: SharedProcessor,
) -> None:
    handler = BlockingHandler()
    batched = listener(handler)
    processor.add(batched)
    processor.start()
    batch = [AddNotification(make_object(name), is_initial=True) for name in ("a", "b", "c")]
    processor.distribute_all(batch, initial=True)
    assert handler.entered.wait(WAIT)

    assert (batched.health().queue_depth, batched.has_synced()) == (2, False)
    handler.gate.set()
    assert batched.wait_until_idle(WAIT)
    assert [call[1] for call in handler.calls] == ["default/a", "default/b", "default/c"]
    assert batched.has_synced()


class BlockingOnName(RecordingHandler):
    """Records calls; the on_add of the object named ``name`` blocks until the test opens the gate."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.entered = threading.Event()
        self.gate = threading.Event()

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        if obj["metadata"]["name"] == self.name:
            self.entered.set()
            assert self.gate.wait(WAIT), "the test never opened the gate"
        super().on_add(obj, is_initial)


def test_has_synced_turns_true_after_the_last_initial_notification_though_live_ones_follow_in_the_same_batch() -> None:
    handler = BlockingOnName("live")
    mixed = listener(handler)
    mixed.add_all([AddNotification(make_object(name), is_initial=True) for name in ("a", "b")], initial=True)
    mixed.add(AddNotification(make_object("live")))
    mixed.add(AddNotification(make_object("next")))
    mixed.start()  # all four are queued before the thread starts: it takes them as one batch
    try:
        assert handler.entered.wait(WAIT)

        health = mixed.health()
        assert (mixed.has_synced(), health.delivered, health.queue_depth) == (True, 2, 1)
        assert not mixed.wait_until_idle(0)
        handler.gate.set()
        assert mixed.wait_until_idle(WAIT)
        assert [call[1] for call in handler.calls] == ["default/a", "default/b", "default/live", "default/next"]
        assert (mixed.health().delivered, mixed.health().queue_depth) == (4, 0)
    finally:
        handler.gate.set()
        mixed.stop()
        assert mixed.join(WAIT)


def test_stop_drops_the_rest_of_the_batch_in_hand() -> None:
    handler = BlockingOnName("a")
    stopping = listener(handler)
    stopping.add_all([AddNotification(make_object(name)) for name in ("a", "b", "c")])
    stopping.start()
    assert handler.entered.wait(WAIT)

    stopping.stop()
    handler.gate.set()

    assert stopping.join(WAIT)
    assert [call[1] for call in handler.calls] == ["default/a"]
    assert stopping.health().queue_depth == 0


def test_a_batch_for_a_stopped_listener_is_dropped() -> None:
    stopped = listener(RecordingHandler())
    stopped.stop()

    stopped.add_all([AddNotification(make_object("a"), is_initial=True)], initial=True)

    assert (stopped.health().queue_depth, stopped.has_synced()) == (0, True)


def test_has_synced_is_false_until_the_informer_has_synced() -> None:
    assert not listener(RecordingHandler(), synced=False).has_synced()
    assert listener(RecordingHandler(), synced=True).has_synced()


def test_a_handler_added_after_start_first_receives_the_cache_as_initial_adds_then_live_events(
    informer: SharedIndexInformer,
) -> None:
    informer.on_replace([make_object("a"), make_object("b")], "10")
    late = RecordingHandler()
    registration = informer.add_event_handler(late)
    informer.on_event(WatchEvent("MODIFIED", make_object("a", resource_version="11")))

    assert late.wait_for(3) == [
        ("add", "default/a", "1", True),
        ("add", "default/b", "1", True),
        ("update", "default/a", "1", "11"),
    ]
    assert registration.wait_until_idle(WAIT)
    assert len(late.calls) == 3
    assert registration.has_synced()


def test_has_synced_is_per_registration(informer: SharedIndexInformer) -> None:
    slow, fast = BlockingHandler(), RecordingHandler()
    slow_registration = informer.add_event_handler(slow)
    fast_registration = informer.add_event_handler(fast)
    assert not fast_registration.has_synced()

    informer.on_replace([make_object("a")], "10")
    assert slow.entered.wait(WAIT)
    assert fast_registration.wait_until_idle(WAIT)

    assert fast_registration.has_synced()
    assert not slow_registration.has_synced()
    slow.gate.set()
    assert slow_registration.wait_until_idle(WAIT)
    assert slow_registration.has_synced()


def test_a_registration_removes_its_handler_and_removal_is_idempotent(informer: SharedIndexInformer) -> None:
    removed, kept = RecordingHandler(), RecordingHandler()
    registration = informer.add_event_handler(removed)
    informer.add_event_handler(kept)
    registration.remove()
    informer.remove_event_handler(registration)
    informer.on_event(WatchEvent("ADDED", make_object("a")))

    assert kept.wait_for(1) == [("add", "default/a", "1", False)]
    assert not registration.wait_until_idle(WAIT)  # removed before the informer synced: it never will
    assert removed.calls == []
    assert [handler.name for handler in informer.health().handlers] == ["informer[pods]/handler-2"]


def test_removing_a_registration_of_another_informer_does_nothing_and_a_foreign_object_is_a_type_error() -> None:
    first, second = running_informer(), running_informer()
    try:
        handler = RecordingHandler()
        first.add_event_handler(handler)
        foreign = second.add_event_handler(RecordingHandler())
        first.remove_event_handler(foreign)
        with pytest.raises(TypeError, match="expected a HandlerRegistration, got a str"):
            first.remove_event_handler("handler-1")  # type: ignore[arg-type]

        first.on_event(WatchEvent("ADDED", make_object("a")))
        assert handler.wait_for(1) == [("add", "default/a", "1", False)]
    finally:
        assert first.stop(WAIT)
        assert second.stop(WAIT)


def test_the_same_handler_registered_twice_gets_two_independent_registrations(informer: SharedIndexInformer) -> None:
    handler = RecordingHandler()
    first: HandlerRegistration = informer.add_event_handler(handler)
    informer.add_event_handler(handler)
    first.remove()
    informer.on_event(WatchEvent("ADDED", make_object("a")))
    assert handler.wait_for(1) == [("add", "default/a", "1", False)]
    assert len(informer.health().handlers) == 1


def test_callbacks_are_adapted_and_missing_ones_ignore_their_notifications(informer: SharedIndexInformer) -> None:
    deleted: list[object] = []
    done = threading.Event()

    def on_delete(obj: object) -> None:
        deleted.append(obj)
        done.set()

    informer.add_event_handler(on_delete=on_delete)
    informer.on_event(WatchEvent("ADDED", make_object("a")))
    informer.on_event(WatchEvent("DELETED", make_object("a", resource_version="2")))
    assert done.wait(WAIT)
    assert deleted == [make_object("a", resource_version="2")]
    assert not isinstance(deleted[0], DeletedFinalStateUnknown)


@pytest.mark.parametrize(
    ("handler", "callbacks"),
    [(None, {}), (FunctionHandler(), {"on_add": lambda obj, initial: None})],
    ids=["neither", "both"],
)
def test_add_event_handler_takes_a_handler_or_callbacks_but_not_both(
    handler: FunctionHandler | None, callbacks: dict[str, object]
) -> None:
    informer = SharedIndexInformer(NO_SERVER, reflector_factory=IdleReflector)
    with pytest.raises(TypeError, match="either a handler or on_add/on_update/on_delete"):
        informer.add_event_handler(handler, **callbacks)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("desired", "check", "expected"),
    [(0.0, 30.0, 0.0), (60.0, 0.0, 0.0), (5.0, 30.0, 30.0), (60.0, 30.0, 60.0), (30.0, 30.0, 30.0)],
    ids=["no-resync-wanted", "informer-cannot-resync", "raised-to-check-period", "longer-kept", "equal"],
)
def test_effective_resync_period_follows_client_go(desired: float, check: float, expected: float) -> None:
    assert effective_resync_period(desired, check) == expected


def test_a_handler_may_call_back_into_the_informer_because_no_lock_is_held_during_callbacks(
    informer: SharedIndexInformer,
) -> None:
    later = RecordingHandler()
    registrations: list[HandlerRegistration] = []

    def on_add(obj: JSONObject, is_initial: bool) -> None:
        registrations.append(informer.add_event_handler(later))
        informer.add_indexers({"name": lambda o: [o["metadata"]["name"]]})
        registrations[0].remove()

    registrations.append(informer.add_event_handler(on_add=on_add))
    informer.on_replace([make_object("a")], "5")

    assert later.wait_for(1) == [("add", "default/a", "1", True)]
    assert [o["metadata"]["name"] for o in informer.by_index("name", "a")] == ["a"]
    assert [handler.name for handler in informer.health().handlers] == ["informer[pods]/handler-2"]


class ExitingOnFirstAdd(RecordingHandler):
    def __init__(self) -> None:
        super().__init__()
        self.exited = False

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        if not self.exited:
            self.exited = True
            raise SystemExit(3)
        super().on_add(obj, is_initial)


def test_a_handler_raising_system_exit_is_logged_and_its_thread_keeps_delivering(
    processor: SharedProcessor, caplog: pytest.LogCaptureFixture
) -> None:
    handler = ExitingOnFirstAdd()
    exiting = listener(handler, "informer[pods]/handler-1")
    processor.add(exiting)
    processor.start()
    with caplog.at_level(logging.ERROR, logger="informers.processor"):
        processor.distribute(AddNotification(make_object("a")))
        processor.distribute(AddNotification(make_object("b")))
        assert exiting.wait_until_idle(WAIT)

    assert handler.calls == [("add", "default/b", "1", False)]
    assert exiting.health().errors == 1
    assert "raised SystemExit on add of 'default/a'" in caplog.text


def test_wait_until_idle_waits_for_the_informer_to_sync_and_the_handler_to_take_the_initial_list() -> None:
    informer = SharedIndexInformer(NO_SERVER, name="pods", reflector_factory=IdleReflector)
    handler = BlockingHandler()
    registration = informer.add_event_handler(handler)
    informer.start()
    try:
        assert not registration.wait_until_idle(0.05)  # nothing listed yet: not synced, so not idle
        informer.on_replace([make_object("a")], "1")
        assert handler.entered.wait(WAIT)
        assert not registration.wait_until_idle(0.05)  # the handler is still in its initial add
        handler.gate.set()
        assert registration.wait_until_idle(WAIT)
        assert registration.has_synced()
        assert handler.calls == [("add", "default/a", "1", True)]
    finally:
        handler.gate.set()
        assert informer.stop(WAIT)


def test_wait_until_idle_returns_false_when_the_informer_stops_before_syncing() -> None:
    informer = running_informer()
    registration = informer.add_event_handler(RecordingHandler())
    assert informer.stop(WAIT)
    assert not registration.wait_until_idle(WAIT)


def test_the_async_listener_delivers_queued_runs_in_order_and_counts_their_initial_notifications() -> None:
    async def scenario() -> None:
        handler = RecordingHandler()
        upstream = threading.Event()
        upstream.set()
        queued = AsyncListener(handler, name="async/handler", upstream_synced=upstream, requested_resync=0.0)
        queued.add_all([AddNotification(make_object(name), is_initial=True) for name in ("a", "b")], initial=True)
        queued.add(AddNotification(make_object("c")))
        assert (queued.health().queue_depth, queued.has_synced()) == (3, False)

        queued.start()
        for _ in range(1000):  # yields to the delivery task until it has delivered everything
            if queued.health().delivered == 3:
                break
            await asyncio.sleep(0)

        assert [call[1] for call in handler.calls] == ["default/a", "default/b", "default/c"]
        health = queued.health()
        assert (health.queue_depth, health.delivered, health.has_synced) == (0, 3, True)
        queued.stop()
        await queued.wait_ended()

    asyncio.run(scenario())

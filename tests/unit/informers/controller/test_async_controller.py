"""The async controller over async informers fed by hand and a fake clock: outcomes, sources, predicates, stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dynaclient import JSONObject, WatchEvent, WatchEventType
from informers import FakeClock
from informers.aio import AsyncController, AsyncSharedInformerFactory
from informers.controller import (
    ItemExponentialFailureRateLimiter,
    Request,
    Requeue,
    TerminalError,
    generation_changed,
)
from informers.reflector.listwatch import ListPage
from informers.testing import make_object

WAIT = 10.0


def _object(name: str, rv: str = "1", generation: int = 1, **metadata: Any) -> JSONObject:
    obj = make_object(name, resource_version=rv)
    obj["metadata"].update(generation=generation, **metadata)
    return obj


class _Stream:
    def __init__(self, events: asyncio.Queue[WatchEvent | None]) -> None:
        self._events = events

    def __aiter__(self) -> AsyncIterator[WatchEvent]:
        return self._read()

    async def _read(self) -> AsyncIterator[WatchEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    def close(self) -> None:
        self._events.put_nowait(None)


class FedListWatch:
    """An async lister-watcher: one list of the given objects, then the events :meth:`send` feeds.

    Thread-safety: confined to the test's event loop.
    """

    def __init__(self, objects: list[JSONObject]) -> None:
        self.objects = objects
        self.events: asyncio.Queue[WatchEvent | None] = asyncio.Queue()

    async def list_page(self, **_: Any) -> ListPage:
        return ListPage(list(self.objects), "1")

    async def watch(self, **_: Any) -> _Stream:
        return _Stream(self.events)

    def send(self, kind: WatchEventType, obj: JSONObject) -> None:
        self.events.put_nowait(WatchEvent(kind, obj))


class AsyncReconciler:
    """Records requests and overlapping reconciles of one key; ``outcomes`` scripts what each call returns or raises.

    Thread-safety: confined to the test's event loop.
    """

    def __init__(self) -> None:
        self.calls: list[Request] = []
        self.outcomes: dict[str, list[Any]] = {}
        self.running: set[Request] = set()
        self.overlaps: list[Request] = []
        self.changed = asyncio.Condition()

    async def __call__(self, request: Request) -> Any:
        if request in self.running:
            self.overlaps.append(request)
        self.running.add(request)
        try:
            await asyncio.sleep(0)  # a real await inside the reconcile
            async with self.changed:
                self.calls.append(request)
                self.changed.notify_all()
            scripted = self.outcomes.get(request.name) or [None]
            outcome = scripted.pop(0) if len(scripted) > 1 else scripted[0]
        finally:
            self.running.discard(request)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def wait_for(self, count: int) -> list[str]:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: len(self.calls) >= count), WAIT)
        return [request.name for request in self.calls]


def _controller(
    objects: list[JSONObject], reconciler: Any, clock: FakeClock, **options: Any
) -> tuple[AsyncController, FedListWatch]:
    source = FedListWatch(objects)
    factory = AsyncSharedInformerFactory(None, lister_watcher_factory=lambda *_: source)
    limiter = ItemExponentialFailureRateLimiter(1.0, 60.0)
    controller = AsyncController(
        None, for_="things", reconcile=reconciler, factory=factory, clock=clock, rate_limiter=limiter, **options
    )
    return controller, source


def test_initial_objects_are_reconciled_by_worker_tasks_and_outcomes_follow_the_table() -> None:
    clock = FakeClock()
    reconciler = AsyncReconciler()
    reconciler.outcomes = {
        "ok": [None],
        "later": [Requeue(after=30.0), None],
        "failing": [RuntimeError("boom"), None],
        "terminal": [TerminalError("no")],
    }

    async def scenario() -> AsyncController:
        objects = [_object(name) for name in ("ok", "later", "failing", "terminal")]
        controller, _ = _controller(objects, reconciler, clock, workers=3)
        async with controller:
            assert sorted(await reconciler.wait_for(4)) == ["failing", "later", "ok", "terminal"]
            assert controller.queue.stats().delayed == 2
            clock.advance(1.0)  # the error's first backoff
            assert (await reconciler.wait_for(5))[4] == "failing"
            clock.advance(29.0)
            assert (await reconciler.wait_for(6))[5] == "later"
            assert await controller.wait_until_idle(WAIT)
            assert controller.lister().get("ok", "default")["metadata"]["name"] == "ok"
        return controller

    controller = asyncio.run(scenario())
    assert controller.stats().reconciles == {
        "success": 3,
        "requeue_after": 1,
        "requeue": 0,
        "error": 1,
        "terminal_error": 1,
    }
    assert not reconciler.overlaps


def test_events_enqueue_and_predicates_skip_updates() -> None:
    reconciler = AsyncReconciler()

    async def scenario() -> list[str]:
        controller, source = _controller([_object("a")], reconciler, FakeClock(), predicates=[generation_changed])
        async with controller:
            await reconciler.wait_for(1)
            source.send("MODIFIED", _object("a", rv="2", generation=1, labels={"x": "y"}))  # skipped
            source.send("ADDED", _object("b", rv="3"))
            source.send("MODIFIED", _object("a", rv="4", generation=2))
            names = await reconciler.wait_for(3)
            assert await controller.wait_until_idle(WAIT)
        return names

    assert asyncio.run(scenario()) == ["a", "b", "a"]


def test_a_key_changed_during_its_reconcile_is_reconciled_again_never_twice_at_once() -> None:
    reconciler = AsyncReconciler()
    release = asyncio.Event()

    async def slow(request: Request) -> None:
        await release.wait()
        await reconciler(request)

    async def scenario() -> list[str]:
        controller, source = _controller([_object("a")], slow, FakeClock(), workers=4)
        async with controller:
            assert await _until(lambda: controller.stats().active_workers == 1)
            for rv in range(2, 6):
                source.send("MODIFIED", _object("a", rv=str(rv), generation=rv))
            assert await _until(lambda: controller.queue.stats().adds >= 2)
            release.set()
            names = await reconciler.wait_for(2)
            assert await controller.wait_until_idle(WAIT)
        return names

    assert asyncio.run(scenario()) == ["a", "a"]
    assert not reconciler.overlaps


def test_stop_drains_the_queue_or_abandons_it() -> None:
    async def scenario(drain: bool) -> int:
        release = asyncio.Event()
        reconciled: list[Request] = []

        async def reconcile(request: Request) -> None:
            await release.wait()
            reconciled.append(request)

        controller, _ = _controller([_object(f"o{i}") for i in range(5)], reconcile, FakeClock())
        await controller.start()
        assert await _until(lambda: controller.stats().active_workers == 1)
        stopping = asyncio.create_task(controller.stop(WAIT, drain=drain))
        await asyncio.sleep(0.01)
        release.set()
        assert await stopping
        return len(reconciled)

    assert asyncio.run(scenario(drain=True)) == 5
    assert asyncio.run(scenario(drain=False)) == 1


def test_stop_cancels_a_reconcile_that_outlives_the_timeout() -> None:
    async def scenario() -> tuple[bool, bool]:
        cancelled = asyncio.Event()

        async def stuck(request: Request) -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

        controller, _ = _controller([_object("a")], stuck, FakeClock())
        await controller.start()
        assert await _until(lambda: controller.stats().active_workers == 1)
        return await controller.stop(0.05), cancelled.is_set()

    assert asyncio.run(scenario()) == (False, True)


def test_arguments_are_checked_and_start_runs_once() -> None:
    with pytest.raises(ValueError, match="at least 1 worker"):
        AsyncController(None, for_="things", reconcile=AsyncReconciler(), workers=0)
    with pytest.raises(TypeError, match="needs a client"):
        AsyncController(None, for_="things", reconcile=AsyncReconciler())

    async def scenario() -> None:
        controller, _ = _controller([], AsyncReconciler(), FakeClock())
        async with controller:
            with pytest.raises(Exception, match="already started"):
                await controller.start()

    asyncio.run(scenario())


async def _until(condition: Any, timeout: float = WAIT) -> bool:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)
    return True


def test_run_reconciles_until_stop_is_set_then_stops_the_workers() -> None:
    reconciler = AsyncReconciler()

    async def scenario() -> tuple[list[str], bool]:
        controller, _ = _controller([_object("a"), _object("b")], reconciler, FakeClock(), workers=2)
        stop = asyncio.Event()
        running = asyncio.create_task(controller.run(stop, sync_timeout=WAIT))
        names = await reconciler.wait_for(2)
        stop.set()
        await asyncio.wait_for(running, WAIT)
        return sorted(names), controller.queue.shutting_down()

    assert asyncio.run(scenario()) == (["a", "b"], True)

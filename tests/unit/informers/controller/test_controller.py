"""The controller over informers fed by hand (idle reflectors) and a fake clock: sources, outcomes, predicates, stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from dynaclient import JSONObject, WatchEvent
from informers import FakeClock, ListerWatcher, SharedInformerFactory
from informers.controller import (
    Controller,
    ItemExponentialFailureRateLimiter,
    Request,
    Requeue,
    TerminalError,
    generation_changed,
    requests_for_owner,
)
from informers.controller.sources import EnqueueHandler
from informers.handlers import DeletedFinalStateUnknown
from informers.testing import IdleReflector, IdleReflectorFactory, make_object

WAIT = 10.0


def _object(name: str, rv: str = "1", generation: int = 1, **metadata: Any) -> JSONObject:
    obj = make_object(name, resource_version=rv)
    obj["metadata"].update(generation=generation, **metadata)
    return obj


class Reconciler:
    """Records requests; ``outcomes`` scripts what each call of a key returns or raises."""

    def __init__(self) -> None:
        self.calls: list[Request] = []
        self.outcomes: dict[str, list[Any]] = {}
        self._changed = threading.Condition()

    def __call__(self, request: Request) -> Any:
        with self._changed:
            self.calls.append(request)
            self._changed.notify_all()
            scripted = self.outcomes.get(request.name) or [None]
            outcome = scripted.pop(0) if len(scripted) > 1 else scripted[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def wait_for(self, count: int) -> list[str]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.calls) >= count, WAIT), self.calls
            return [request.name for request in self.calls]


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.reflectors = IdleReflectorFactory()
        self.factory = SharedInformerFactory(
            None,
            lister_watcher_factory=lambda *scope: cast(ListerWatcher, object()),
            reflector_factory=self.reflectors,
            clock=self.clock,
        )
        self.reconcile = Reconciler()

    def controller(self, **options: Any) -> Controller:
        options.setdefault("rate_limiter", ItemExponentialFailureRateLimiter(0.005, 1000.0))
        return Controller(
            None, for_="widgets", reconcile=self.reconcile, factory=self.factory, clock=self.clock, **options
        )

    def start(self, controller: Controller, initial: dict[str, list[JSONObject]]) -> dict[str, IdleReflector]:
        """Start ``controller`` while feeding each informer (by resource name) its initial list."""
        starting = threading.Thread(target=controller.start)
        starting.start()
        reflectors = {r.name: r for r in self.reflectors.wait_built(len(initial))}
        for name, items in initial.items():
            reflectors[name].sink.on_replace(items, "1")
        starting.join(WAIT)
        assert not starting.is_alive()
        return reflectors


@pytest.fixture
def rig() -> Iterator[Rig]:
    rig = Rig()
    yield rig
    rig.factory.shutdown(WAIT)


def test_initial_objects_are_reconciled_then_changes(rig: Rig) -> None:
    controller = rig.controller(workers=2)
    reflectors = rig.start(controller, {"widgets": [_object("a"), _object("b")]})
    assert sorted(rig.reconcile.wait_for(2)) == ["a", "b"]
    reflectors["widgets"].sink.on_event(WatchEvent("MODIFIED", _object("a", rv="2", generation=2)))
    assert rig.reconcile.wait_for(3)[2] == "a"
    reflectors["widgets"].sink.on_event(WatchEvent("DELETED", _object("b", rv="3")))
    assert rig.reconcile.wait_for(4)[3] == "b"
    assert controller.stop(WAIT)
    assert controller.stats().reconciles["success"] == 4


def test_predicates_skip_updates_that_change_no_generation(rig: Rig) -> None:
    controller = rig.controller(predicates=[generation_changed])
    reflectors = rig.start(controller, {"widgets": [_object("a")]})
    rig.reconcile.wait_for(1)
    reflectors["widgets"].sink.on_event(WatchEvent("MODIFIED", _object("a", rv="2", generation=1)))  # status only
    reflectors["widgets"].sink.on_event(WatchEvent("MODIFIED", _object("a", rv="3", generation=2)))
    assert rig.reconcile.wait_for(2) == ["a", "a"]
    assert controller.wait_until_idle(WAIT)
    assert len(rig.reconcile.calls) == 2


def test_an_error_is_logged_with_the_key_and_retried_with_backoff(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.reconcile.outcomes["a"] = [RuntimeError("boom"), RuntimeError("boom"), None]
    controller = rig.controller()
    rig.start(controller, {"widgets": [_object("a")]})
    rig.reconcile.wait_for(1)
    assert controller.queue.wait_until(lambda stats: stats.delayed == 1)
    rig.clock.advance(0.005)
    rig.reconcile.wait_for(2)
    assert controller.queue.wait_until(lambda stats: stats.delayed == 1)
    rig.clock.advance(0.005)
    assert controller.queue.get(timeout=0) is None  # the second retry waits 10 ms
    rig.clock.advance(0.005)
    rig.reconcile.wait_for(3)
    assert controller.wait_until_idle(WAIT)
    stats = controller.stats()
    assert (stats.reconciles["error"], stats.reconciles["success"]) == (2, 1)
    assert controller.queue.num_requeues(Request("default", "a")) == 0  # forgotten on success
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "default/a" in errors[0].getMessage()
    assert "boom" in errors[0].getMessage()


def test_requeue_after_waits_and_terminal_errors_are_not_retried(rig: Rig) -> None:
    rig.reconcile.outcomes["a"] = [Requeue(after=30.0), None]
    rig.reconcile.outcomes["b"] = [TerminalError("bad spec")]
    controller = rig.controller()
    rig.start(controller, {"widgets": [_object("a"), _object("b")]})
    rig.reconcile.wait_for(2)
    assert controller.queue.wait_until(lambda stats: stats.delayed == 1)
    rig.clock.advance(29)
    assert controller.queue.stats().delayed == 1
    rig.clock.advance(1)
    assert rig.reconcile.wait_for(3)[2] == "a"
    assert controller.wait_until_idle(WAIT)
    reconciles = controller.stats().reconciles
    assert (reconciles["requeue_after"], reconciles["terminal_error"], reconciles["success"]) == (1, 1, 1)


def test_a_result_of_the_wrong_type_is_an_error(rig: Rig) -> None:
    rig.reconcile.outcomes["a"] = ["done"]
    controller = rig.controller()
    rig.start(controller, {"widgets": [_object("a")]})
    rig.reconcile.wait_for(1)
    assert controller.queue.wait_until(lambda stats: controller.stats().reconciles["error"] == 1)
    assert controller.queue.stats().delayed == 1


def test_watches_map_events_of_other_resources(rig: Rig) -> None:
    def to_widget(obj: JSONObject) -> list[Request]:
        return [Request("default", obj["metadata"]["labels"]["widget"])]

    controller = rig.controller(watches=[("gadgets", to_widget)])
    reflectors = rig.start(controller, {"widgets": [], "gadgets": [make_object("g", labels={"widget": "w"})]})
    assert rig.reconcile.wait_for(1) == ["w"]
    assert set(controller.stats().informer_lag) == {"widgets", "gadgets"}
    reflectors["gadgets"].sink.on_event(WatchEvent("DELETED", make_object("g", labels={"widget": "x"})))
    assert rig.reconcile.wait_for(2) == ["w", "x"]


def test_wait_until_idle_counts_a_delayed_key_only_if_it_comes_back_by_the_deadline(rig: Rig) -> None:
    rig.reconcile.outcomes["a"] = [Requeue(after=30.0), None]
    controller = rig.controller()
    rig.start(controller, {"widgets": [_object("a")]})
    assert controller.queue.wait_until(lambda stats: stats.delayed == 1 and not stats.processing)
    assert controller.stats().queue.next_delayed_in == pytest.approx(30.0)
    assert controller.wait_until_idle(1.0)  # back in 30 s of the controller's clock: after the deadline
    rig.clock.advance(29.5)
    assert not controller.wait_until_idle(1.0)  # back in 0.5 s: before the deadline, so not idle
    rig.clock.advance(0.5)
    assert controller.wait_until_idle(WAIT)
    assert [r.name for r in rig.reconcile.calls] == ["a", "a"]
    assert controller.stats().queue.next_delayed_in is None


def test_wait_until_idle_waits_for_an_event_a_handler_holds_and_the_key_it_enqueues(rig: Rig) -> None:
    gate, mapping = threading.Event(), threading.Event()

    def to_widget(obj: JSONObject) -> list[Request]:
        mapping.set()
        assert gate.wait(WAIT)
        return [Request("default", obj["metadata"]["name"])]

    controller = rig.controller(watches=[("gadgets", to_widget)])
    reflectors = rig.start(controller, {"widgets": [], "gadgets": []})
    reflectors["gadgets"].sink.on_event(WatchEvent("ADDED", make_object("g")))
    assert mapping.wait(WAIT)  # the handler holds the event; the work queue is empty
    assert controller.queue.stats().depth == 0
    assert not controller.wait_until_idle(0.1)
    when_idle: list[tuple[bool, int]] = []

    def wait() -> None:
        idle = controller.wait_until_idle(WAIT)
        when_idle.append((idle, len(rig.reconcile.calls)))

    waiting = threading.Thread(target=wait)
    waiting.start()
    gate.set()
    waiting.join(WAIT)
    assert when_idle == [(True, 1)]  # idle only once the key the event mapped to was reconciled
    assert [r.name for r in rig.reconcile.calls] == ["g"]


def test_stop_drains_queued_keys_or_abandons_them(rig: Rig) -> None:
    gate = threading.Event()
    rig.reconcile.outcomes["a"] = [None]

    def blocking(request: Request) -> Any:
        if request.name == "a":
            gate.wait(WAIT)
        return rig.reconcile(request)

    for drain, expected in ((True, ["a", "b", "c"]), (False, ["a"])):
        rig = Rig()
        controller = Controller(
            None, for_="widgets", reconcile=blocking, factory=rig.factory, clock=rig.clock, workers=1
        )
        gate.clear()
        rig.start(controller, {"widgets": [_object("a"), _object("b"), _object("c")]})
        assert controller.queue.wait_until(lambda stats: stats.processing == 1 and stats.depth == 2)
        stopping = threading.Thread(target=controller.stop, kwargs={"timeout": WAIT, "drain": drain})
        stopping.start()
        gate.set()
        stopping.join(WAIT)
        assert sorted(r.name for r in rig.reconcile.calls) == expected
        rig.factory.shutdown(WAIT)


def test_start_fails_when_a_cache_does_not_sync(rig: Rig) -> None:
    controller = rig.controller()
    errors: list[BaseException] = []

    def start() -> None:
        try:
            controller.start(sync_timeout=120)
        except TimeoutError as error:
            errors.append(error)

    starting = threading.Thread(target=start)
    starting.start()
    assert rig.clock.block_until_waiters(1)
    rig.clock.advance(120)
    starting.join(WAIT)
    assert "widgets did not sync within 120" in str(errors[0])


def test_start_twice_is_an_error(rig: Rig) -> None:
    controller = rig.controller()
    rig.start(controller, {"widgets": []})
    with pytest.raises(Exception, match="already started"):
        controller.start()
    controller.stop(WAIT)


def test_owned_objects_enqueue_their_controller_owner_from_old_and_new() -> None:
    enqueued: list[Request] = []
    handler = EnqueueHandler(requests_for_owner("example.com", "Sawtooth"), enqueued.append)

    def owned(owner: str, kind: str = "Sawtooth", controller: bool = True) -> JSONObject:
        reference = {"apiVersion": "example.com/v2", "kind": kind, "name": owner, "uid": "u", "controller": controller}
        return _object("cm", ownerReferences=[reference])

    handler.on_add(owned("one"), True)
    handler.on_add(owned("two", kind="Other"), False)
    handler.on_add(owned("three", controller=False), False)
    handler.on_update(owned("one"), owned("four"))
    handler.on_delete(DeletedFinalStateUnknown("default/cm", owned("five")))
    assert [r.name for r in enqueued] == ["one", "one", "four", "five"]


def test_a_controller_needs_workers_and_a_client_for_owns() -> None:
    reconcile: Callable[[Request], None] = lambda request: None  # noqa: E731
    with pytest.raises(ValueError, match="at least 1 worker"):
        Controller(None, for_="widgets", reconcile=reconcile, workers=0)
    with pytest.raises(TypeError, match="needs a client"):
        Controller(None, for_="widgets", reconcile=reconcile, owns=["configmaps"], factory=Rig().factory)


def test_the_prometheus_exporter_reads_levels_at_scrape_time_and_counts_events(rig: Rig) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from informers.controller.prometheus import PrometheusRecorder

    registry = CollectorRegistry()
    recorder = PrometheusRecorder(registry)
    rig.reconcile.outcomes["b"] = [RuntimeError("boom"), None]
    controller = rig.controller(metrics=recorder)
    recorder.watch(controller)
    rig.start(controller, {"widgets": [_object("a"), _object("b")]})
    rig.reconcile.wait_for(2)
    reported = (
        'controller_runtime_reconcile_errors_total{controller="widgets"} 1.0',
        'controller_runtime_reconcile_total{controller="widgets",result="success"} 1.0',
    )
    # a worker reports to the recorder last, after requeueing: wait for the reports themselves
    assert controller.queue.wait_until(lambda stats: all(r in generate_latest(registry).decode() for r in reported))
    scraped = generate_latest(registry).decode()
    assert 'controller_runtime_reconcile_total{controller="widgets",result="success"} 1.0' in scraped
    assert 'workqueue_adds_total{name="widgets"} 2.0' in scraped
    assert 'workqueue_retries_total{name="widgets"} 1.0' in scraped
    assert 'workqueue_depth{name="widgets"} 0.0' in scraped
    assert 'informer_handler_pending_notifications{controller="widgets",informer="widgets"} 0.0' in scraped
    assert 'controller_runtime_max_concurrent_reconciles{controller="widgets"} 1.0' in scraped


def test_namespace_scopes_every_informer_and_the_label_selector_only_the_primary() -> None:
    scopes: list[tuple[object, ...]] = []

    def lister_watchers(*scope: object) -> ListerWatcher:
        scopes.append(scope)
        return cast(ListerWatcher, object())

    factory = SharedInformerFactory(
        None, lister_watcher_factory=lister_watchers, reflector_factory=IdleReflectorFactory()
    )
    controller = Controller(
        None,
        for_="widgets",
        reconcile=lambda request: None,
        watches=[("gadgets", lambda obj: [])],
        namespace="prod",
        label_selector="tier=web",
        factory=factory,
    )
    controller.informer()
    controller.informer("gadgets")
    assert scopes == [("widgets", "prod", "tier=web", None), ("gadgets", "prod", None, None)]
    factory.shutdown(WAIT)

"""The informer's indexes, start and stop, run, and health."""

from __future__ import annotations

import threading

import pytest

from dynaclient import JSONObject
from informers import AlreadyStartedError, IndexConflictError, InformerError, SharedIndexInformer, label_index
from informers.testing import IdleReflectorFactory, IdleReflectorStatus, RecordingHandler
from tests.unit.informers.informer_harness import NO_SERVER, WAIT, Harness, obj


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

"""The informer's resync: the cache replayed to the handlers due, on client-go's periods."""

from __future__ import annotations

import pytest

from informers import SharedIndexInformer
from informers.testing import IdleReflectorFactory, RecordingHandler
from tests.unit.informers.informer_harness import NO_SERVER, WAIT, Harness, obj


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

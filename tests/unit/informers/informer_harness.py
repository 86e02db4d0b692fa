"""An informer with an idle reflector and a recording handler, for the informer's tests (fixture ``harness``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest

from dynaclient import JSONObject, WatchEvent
from informers import FakeClock, HandlerRegistration, ListerWatcher, SharedIndexInformer
from informers.testing import IdleReflectorFactory, RecordingHandler, make_object

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

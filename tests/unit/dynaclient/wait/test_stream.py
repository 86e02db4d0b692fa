"""resumed_watch and await_condition over a scripted resource: resume, relist on 410, synthetic deletes, timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import pytest

from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import ConnectError, NotFoundError, WaitTimeoutError
from dynaclient.wait import await_condition, condition_true, is_deleted, resumed_watch
from dynaclient.watch.events import WatchEvent

CONFIGMAPS = APIResource("", "v1", "configmaps", "ConfigMap", True)


def cm(name: str, rv: str, **status: Any) -> dict[str, Any]:
    return {
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": rv, "uid": "u-" + name},
        "status": status,
    }


class FakeWatch:
    def __init__(self, events: list[WatchEvent], clock: FakeClock, advance: float) -> None:
        self.events = events
        self.resource_version = ""
        self.clock = clock
        self.advance = advance

    def __enter__(self) -> FakeWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Iterator[WatchEvent]:
        for event in self.events:
            if event.type != "ERROR":
                self.resource_version = event.resource_version
            yield event
        self.clock.now += self.advance  # the server ended the stream after its timeout


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedResource:
    """Answers list_page and watch from scripts, recording the resourceVersions and timeouts asked for."""

    api_resource = CONFIGMAPS
    namespace_name = "ns"

    def __init__(
        self, pages: list[dict[str, Any]], streams: list[list[WatchEvent]], clock: FakeClock, advance: float = 1.0
    ) -> None:
        self.pages = pages
        self.streams = streams
        self.clock = clock
        self.advance = advance
        self.watched: list[tuple[str | None, int | None]] = []

    def list_page(self, **options: Any) -> dict[str, Any]:
        return self.pages.pop(0)

    def watch(
        self, *, resource_version: str | None = None, timeout_seconds: int | None = None, **options: Any
    ) -> FakeWatch:
        self.watched.append((resource_version, timeout_seconds))
        events = self.streams.pop(0) if self.streams else []
        return FakeWatch(events, self.clock, self.advance)

    def get(self, name: str, **options: Any) -> dict[str, Any]:
        return cm(name, "1")


def fake(resource: ScriptedResource) -> Any:
    return resource  # stands in for a ResourceClient (only the methods the stream calls)


def page(rv: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"resourceVersion": rv}, "items": list(items)}


GONE = WatchEvent("ERROR", {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"})


def test_list_then_bookmark_then_changes_resuming_from_the_last_version() -> None:
    clock = FakeClock()
    resource = ScriptedResource(
        [page("10", cm("a", "9"))],
        [
            [WatchEvent("MODIFIED", cm("a", "11"))],
            [WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "15"}})],
            [WatchEvent("ADDED", cm("b", "16"))],
        ],
        clock,
    )
    events = resumed_watch(fake(resource), timeout=10, clock=clock)
    seen = [(e.type, e.resource_version) for e in islice(events, 4)]
    assert seen == [("ADDED", "9"), ("BOOKMARK", "10"), ("MODIFIED", "11"), ("ADDED", "16")]
    assert [rv for rv, _ in resource.watched] == ["10", "11", "15"]  # each resume starts where the last stream ended


def test_gone_relists_and_reports_objects_deleted_meanwhile() -> None:
    clock = FakeClock()
    resource = ScriptedResource(
        [page("10", cm("a", "9"), cm("b", "9")), page("20", cm("b", "19"))],
        [[GONE]],
        clock,
    )
    events = resumed_watch(fake(resource), timeout=10, clock=clock)
    seen = [(e.type, e.object["metadata"].get("name"), e.resource_version) for e in islice(events, 6)]
    assert seen == [
        ("ADDED", "a", "9"),
        ("ADDED", "b", "9"),
        ("BOOKMARK", None, "10"),
        ("DELETED", "a", "9"),
        ("MODIFIED", "b", "19"),
        ("BOOKMARK", None, "20"),
    ]


def test_each_watch_asks_the_server_to_end_by_the_deadline() -> None:
    clock = FakeClock()
    resource = ScriptedResource([page("1")], [], clock, advance=2.5)
    assert [e.type for e in resumed_watch(fake(resource), timeout=6, clock=clock)] == ["BOOKMARK"]
    assert [t for _, t in resource.watched] == [6, 4, 1]


def test_await_condition_sees_null_conditions_then_the_condition() -> None:
    clock = FakeClock()
    fresh = cm("a", "1")
    fresh["status"] = {"conditions": None}
    ready = cm("a", "2", conditions=[{"type": "Ready", "status": "True"}])
    resource = ScriptedResource([page("1", fresh)], [[WatchEvent("MODIFIED", ready)]], clock)
    assert await_condition(fake(resource), "a", condition_true("Ready"), 10, clock=clock) == ready


def test_await_condition_times_out_with_the_last_state() -> None:
    clock = FakeClock()
    resource = ScriptedResource([page("1", cm("a", "1"))], [], clock, advance=5)
    with pytest.raises(
        WaitTimeoutError, match=r"timed out after 3s waiting for condition Ready on configmaps/a in namespace ns"
    ) as caught:
        await_condition(fake(resource), "a", condition_true("Ready"), 3, clock=clock)
    assert caught.value.last is not None


def test_deletion_is_seen_through_a_relist_when_the_event_was_missed() -> None:
    clock = FakeClock()
    resource = ScriptedResource([page("1", cm("a", "1")), page("5")], [[GONE]], clock)
    assert await_condition(fake(resource), "a", is_deleted("u-a"), 10, clock=clock) is None


def test_a_recreated_object_counts_as_deleted() -> None:
    clock = FakeClock()
    replaced = cm("a", "7")
    replaced["metadata"]["uid"] = "other"
    resource = ScriptedResource([page("1", cm("a", "1"))], [[WatchEvent("MODIFIED", replaced)]], clock)
    assert await_condition(fake(resource), "a", is_deleted("u-a"), 10, clock=clock) == replaced


def test_a_resource_no_longer_served_means_the_object_is_gone() -> None:
    clock = FakeClock()

    class Unserved(ScriptedResource):
        def list_page(self, **options: Any) -> dict[str, Any]:
            raise NotFoundError({"kind": "Status", "message": "404 page not found"}, code=404)

    resource = Unserved([], [], clock)
    assert await_condition(fake(resource), "a", is_deleted("u-a"), 10, clock=clock) is None
    with pytest.raises(NotFoundError):
        await_condition(fake(resource), "a", condition_true("Ready"), 10, clock=clock)


def test_unreachable_requests_are_retried_with_backoff_then_raised_at_the_deadline() -> None:
    clock = FakeClock()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds

    class Flaky(ScriptedResource):
        failures = 2

        def list_page(self, **options: Any) -> dict[str, Any]:
            if self.failures:
                self.failures -= 1
                raise ConnectError("connection refused")
            return super().list_page(**options)

    resource = Flaky([page("1", cm("a", "1"))], [], clock, advance=100)
    events = list(resumed_watch(fake(resource), timeout=10, clock=clock, sleep=sleep))
    assert [e.type for e in events] == ["ADDED", "BOOKMARK"]
    assert sleeps == [0.2, 0.4]

    down = Flaky([], [], clock)
    down.failures = 100
    clock.now = 0.0
    with pytest.raises(ConnectError):
        list(resumed_watch(fake(down), timeout=3, clock=clock, sleep=sleep))
    assert clock.now <= 3

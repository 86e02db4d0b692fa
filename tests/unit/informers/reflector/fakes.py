"""A scripted ListerWatcher, watch stream and sink, and a reflector on a fake clock that drives them step by step."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterator
from random import Random
from typing import Any

from dynaclient import Cancellation, JSONObject, WatchEvent, get_name
from informers import Backoff, FakeClock
from informers.reflector.listwatch import ListPage
from informers.reflector.reflector import DEFAULT_STALL_TIMEOUT, Reflector
from informers.reflector.state import BackingOff


class UnscriptedCall(BaseException):
    """The script ran out: a BaseException, so the reflector cannot mistake it for a server failure."""


class FakeWatchStream:
    """A watch that yields scripted events (raising scripted errors), then ends or, with ``keep_open``, waits."""

    def __init__(self, *items: WatchEvent | Exception, keep_open: bool = False) -> None:
        self._items: queue.SimpleQueue[WatchEvent | Exception | None] = queue.SimpleQueue()
        for item in items:
            self._items.put(item)
        self._keep_open = keep_open
        self.closed = threading.Event()
        self.closes = 0

    def push(self, item: WatchEvent | Exception) -> None:
        self._items.put(item)

    def __iter__(self) -> Iterator[WatchEvent]:
        while not self.closed.is_set():
            try:
                item = self._items.get(block=self._keep_open)
            except queue.Empty:
                return
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def close(self) -> None:
        self.closes += 1
        self.closed.set()
        self._items.put(None)


class FakeListerWatcher:
    """Returns scripted pages and watches, raises scripted errors, and records every call with its arguments."""

    def __init__(self, *, pages: list[ListPage | Exception], watches: list[FakeWatchStream | Exception]) -> None:
        self.pages: deque[ListPage | Exception] = deque(pages)
        self.watches: deque[FakeWatchStream | Exception] = deque(watches)
        self.lists: list[dict[str, Any]] = []
        self.watch_calls: list[dict[str, Any]] = []
        self.on_watch: threading.Event | None = None
        self.watch_opened = threading.Event()
        self.cancellations: list[Cancellation | None] = []

    def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> ListPage:
        self.cancellations.append(cancellation)
        self.lists.append(
            {"limit": limit, "continue": continue_token, "rv": resource_version, "rvm": resource_version_match}
        )
        if not self.pages:
            raise UnscriptedCall(f"unscripted list call {self.lists[-1]}")
        page = self.pages.popleft()
        if isinstance(page, Exception):
            raise page
        return page

    def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> FakeWatchStream:
        self.cancellations.append(cancellation)
        call = {"rv": resource_version, "bookmarks": allow_bookmarks, "timeout": timeout_seconds}
        self.watch_calls.append(call | {"initial": send_initial_events, "rvm": resource_version_match})
        if not self.watches:
            raise UnscriptedCall(f"unscripted watch call {self.watch_calls[-1]}")
        if self.on_watch is not None:
            self.on_watch.set()
        stream = self.watches.popleft()
        if isinstance(stream, Exception):
            raise stream
        self.watch_opened.set()
        return stream

    def list_versions(self) -> list[tuple[int | None, str | None, str | None]]:
        return [(call["limit"], call["continue"], call["rv"]) for call in self.lists]

    def watch_versions(self) -> list[str]:
        return [call["rv"] for call in self.watch_calls]


class RecordingSink:
    """Records every delivery; can be told to fail once."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.replaced = threading.Event()
        self.fail_next_event = False
        self.failure: BaseException = RuntimeError("the store rejected the event")

    def on_replace(self, items: list[JSONObject], resource_version: str) -> None:
        self.calls.append(("replace", ",".join(get_name(item) for item in items), resource_version))
        self.replaced.set()

    def on_event(self, event: WatchEvent) -> None:
        if self.fail_next_event:
            self.fail_next_event = False
            raise self.failure
        self.calls.append((event.type, get_name(event.object), event.resource_version))

    def on_resource_version(self, resource_version: str) -> None:
        self.calls.append(("bookmark", resource_version))


class FixedRandom(Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


class Harness:
    """A reflector on a fake clock with jitter-free backoff, plus the fakes it talks to."""

    def __init__(
        self,
        *,
        pages: list[ListPage | Exception] | None = None,
        watches: list[FakeWatchStream | Exception] | None = None,
        watch_list: bool | None = False,
        random: Random | None = None,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    ) -> None:
        self.clock = FakeClock(start=1000.0)
        self.lister_watcher = FakeListerWatcher(pages=pages or [], watches=watches or [])
        self.sink = RecordingSink()
        self.stop = threading.Event()
        self.reflector = Reflector(
            self.lister_watcher,
            self.sink,
            name="pods",
            clock=self.clock,
            backoff=Backoff(clock=self.clock, jitter=0.0),
            watch_list=watch_list,
            stall_timeout=stall_timeout,
            random=random or FixedRandom(0.5),
        )

    def step(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.reflector.step(self.stop)

    def backoff_delay(self) -> float:
        phase = self.reflector.state.phase
        assert isinstance(phase, BackingOff)
        assert phase.until is not None
        return round(phase.until - self.clock.monotonic(), 6)

    def wait_out_backoff(self) -> float:
        delay = self.backoff_delay()
        self.clock.advance(delay)
        self.step()
        return delay

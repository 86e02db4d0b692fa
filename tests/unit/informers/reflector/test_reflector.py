"""The reflector driven step by step against a scripted ListerWatcher, on a fake clock; one test runs it threaded."""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Iterator
from random import Random
from typing import Any

import pytest

from dynaclient import (
    BadRequestError,
    Cancellation,
    ConnectError,
    GoneError,
    JSONObject,
    RequestCancelled,
    ServerError,
    TooManyRequestsError,
    WatchEvent,
    WatchEventType,
    get_name,
)
from informers import AlreadyStartedError, Backoff, FakeClock
from informers.reflector.listwatch import ListPage
from informers.reflector.reflector import DEFAULT_STALL_TIMEOUT, Reflector
from informers.reflector.state import BackingOff, Listing, StreamingList, Watching


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


def pod(name: str, resource_version: str) -> JSONObject:
    return {"kind": "Pod", "metadata": {"namespace": "default", "name": name, "resourceVersion": resource_version}}


def event(kind: WatchEventType, name: str, resource_version: str) -> WatchEvent:
    return WatchEvent(kind, pod(name, resource_version))


def bookmark(resource_version: str, initial_events_end: str | None = None) -> WatchEvent:
    metadata: JSONObject = {"resourceVersion": resource_version}
    if initial_events_end is not None:
        metadata["annotations"] = {"k8s.io/initial-events-end": initial_events_end}
    return WatchEvent("BOOKMARK", {"kind": "Pod", "metadata": metadata})


def expired() -> GoneError:
    return GoneError({"kind": "Status", "reason": "Expired", "message": "too old resource version: 5 (9)"}, code=410)


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


def test_the_watch_starts_at_the_resource_version_of_the_list_so_nothing_is_missed_in_between() -> None:
    stream = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([pod("a", "3")], "10")], watches=[stream])
    harness.step(2)
    assert harness.lister_watcher.lists == [{"limit": 500, "continue": None, "rv": "0", "rvm": None}]
    assert harness.lister_watcher.watch_calls == [
        {"rv": "10", "bookmarks": True, "timeout": 450, "initial": False, "rvm": None}
    ]
    assert harness.sink.calls == [("replace", "a", "10")]
    status = harness.reflector.status()
    assert (status.phase, status.watching, status.has_synced) == ("watching", True, True)
    assert (status.lists, status.relists, status.watch_starts, status.last_synced_resource_version) == (1, 0, 1, "10")


def test_a_clean_close_rewatches_from_the_last_event_or_bookmark_without_a_relist() -> None:
    first = FakeWatchStream(event("ADDED", "b", "11"), bookmark("15"))
    harness = Harness(pages=[ListPage([], "10")], watches=[first, FakeWatchStream(keep_open=True)])
    harness.step(6)  # list, open, event, bookmark, end, reopen
    assert harness.lister_watcher.watch_versions() == ["10", "15"]
    assert len(harness.lister_watcher.lists) == 1
    assert harness.sink.calls == [("replace", "", "10"), ("ADDED", "b", "11"), ("bookmark", "15")]
    assert first.closes >= 1
    status = harness.reflector.status()
    assert (status.watch_starts, status.watch_restarts, status.events, status.bookmarks) == (2, 1, 1, 1)
    assert (status.errors, status.last_synced_resource_version) == (0, "15")


@pytest.mark.parametrize(
    ("error", "delay"),
    [
        (TooManyRequestsError({"reason": "TooManyRequests"}, code=429), 0.8),
        (TooManyRequestsError({"reason": "TooManyRequests"}, code=429, retry_after=5.0), 5.0),
        (ConnectError("connection refused"), 0.8),
    ],
    ids=["429", "429-with-retry-after", "connection-refused"],
)
def test_a_watch_the_server_refuses_is_retried_after_a_backoff_without_a_relist(error: Exception, delay: float) -> None:
    harness = Harness(pages=[ListPage([], "10")], watches=[error, FakeWatchStream(keep_open=True)])
    harness.step(2)
    assert harness.wait_out_backoff() == delay
    harness.step()
    assert harness.lister_watcher.watch_versions() == ["10", "10"]
    assert len(harness.lister_watcher.lists) == 1
    status = harness.reflector.status()
    assert (status.watching, status.errors, status.watch_restarts, status.relists) == (True, 1, 1, 0)
    assert status.last_error is not None
    assert status.last_error.startswith(type(error).__name__)


@pytest.mark.parametrize("where", ["opening", "streaming"])
def test_an_expired_watch_relists_with_a_consistent_paginated_read_then_watches_from_it(where: str) -> None:
    failing = expired() if where == "opening" else FakeWatchStream(event("ADDED", "b", "11"), expired())
    pages: list[ListPage | Exception] = [ListPage([pod("a", "3")], "10"), ListPage([pod("b", "11")], "20", "c1")]
    pages.append(ListPage([pod("c", "19")], "21"))
    harness = Harness(pages=pages, watches=[failing, FakeWatchStream(keep_open=True)])
    harness.step(2 if where == "opening" else 4)
    harness.wait_out_backoff()
    harness.step(3)  # two pages, then the watch
    assert harness.lister_watcher.list_versions() == [(500, None, "0"), (500, None, ""), (500, "c1", None)]
    assert harness.lister_watcher.watch_versions() == ["10", "20"]
    assert harness.sink.calls[-1] == ("replace", "b,c", "20")
    status = harness.reflector.status()
    assert (status.lists, status.relists, status.has_synced, status.watching) == (2, 1, True, True)


def test_an_expired_continue_page_falls_back_to_one_full_list() -> None:
    pages: list[ListPage | Exception] = [ListPage([pod("a", "3")], "10", "c1"), expired()]
    pages.append(ListPage([pod("a", "3"), pod("b", "4")], "12"))
    harness = Harness(pages=pages, watches=[FakeWatchStream(keep_open=True)])
    harness.step(4)
    assert harness.lister_watcher.list_versions() == [(500, None, "0"), (500, "c1", None), (None, None, "0")]
    assert harness.sink.calls == [("replace", "a,b", "12")]
    assert harness.lister_watcher.watch_versions() == ["12"]


@pytest.mark.parametrize(("draw", "timeout"), [(0.0, 300), (0.5, 450), (0.999999, 599)], ids=["min", "mid", "max"])
def test_watch_timeouts_are_jittered_between_five_and_ten_minutes(draw: float, timeout: int) -> None:
    harness = Harness(pages=[ListPage([], "10")], watches=[FakeWatchStream(keep_open=True)], random=FixedRandom(draw))
    harness.step(2)
    assert harness.lister_watcher.watch_calls[0]["timeout"] == timeout


def test_a_storage_read_error_frame_forces_a_relist_at_the_last_resource_version() -> None:
    storage = ServerError({"kind": "Status", "reason": "StorageReadError", "message": "corrupt object"}, code=500)
    stream = FakeWatchStream(event("MODIFIED", "a", "11"), storage)
    pages: list[ListPage | Exception] = [ListPage([pod("a", "3")], "10"), ListPage([], "12")]
    harness = Harness(pages=pages, watches=[stream, FakeWatchStream(keep_open=True)])
    harness.step(4)
    harness.wait_out_backoff()
    harness.step(2)
    assert harness.lister_watcher.list_versions() == [(500, None, "0"), (None, None, "11")]
    assert harness.sink.calls[-1] == ("replace", "", "12")
    assert harness.lister_watcher.watch_versions() == ["10", "12"]


def test_stopping_before_the_first_step_makes_no_request() -> None:
    harness = Harness()
    harness.stop.set()
    assert not harness.reflector.step(harness.stop)
    assert not harness.reflector.step(harness.stop)
    assert (harness.lister_watcher.lists, harness.lister_watcher.watch_calls) == ([], [])
    assert harness.reflector.status().phase == "stopped"


def test_stopping_after_the_watch_opened_closes_it() -> None:
    stream = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([], "10")], watches=[stream])
    harness.step(2)
    harness.stop.set()
    assert not harness.reflector.step(harness.stop)
    assert stream.closed.is_set()
    assert harness.reflector.status().watching is False


def test_a_watch_opened_while_stop_was_requested_is_closed_at_once_and_discarded() -> None:
    stream = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([], "10")], watches=[stream])
    harness.lister_watcher.on_watch = harness.stop
    harness.step()
    assert not harness.reflector.step(harness.stop)
    assert stream.closed.is_set()
    assert harness.sink.calls == [("replace", "", "10")]


def test_stopping_during_a_backoff_ends_the_wait() -> None:
    harness = Harness(pages=[ServerError({}, code=503)])
    harness.step()
    harness.stop.set()
    assert not harness.reflector.step(harness.stop)
    assert harness.reflector.status().phase == "stopped"


def test_a_streaming_list_syncs_only_on_the_end_bookmark_then_keeps_watching_on_the_same_stream() -> None:
    stream = FakeWatchStream(
        event("ADDED", "a", "5"),
        event("ADDED", "b", "6"),
        event("MODIFIED", "a", "7"),
        event("DELETED", "b", "8"),
        bookmark("8", initial_events_end="false"),
        bookmark("9", initial_events_end="true"),
        event("ADDED", "c", "10"),
    )
    harness = Harness(watches=[stream], watch_list=None)
    harness.step(6)  # open, four events, the "false" bookmark
    assert harness.sink.calls == []
    assert harness.reflector.status().has_synced is False
    harness.step(2)
    assert harness.sink.calls == [("replace", "a", "9"), ("ADDED", "c", "10")]
    assert harness.lister_watcher.watch_calls == [
        {"rv": "", "bookmarks": True, "timeout": 450, "initial": True, "rvm": "NotOlderThan"}
    ]
    assert harness.lister_watcher.lists == []
    status = harness.reflector.status()
    assert (status.has_synced, status.watching, status.last_synced_resource_version) == (True, True, "10")
    assert harness.reflector.state.streaming_list == "supported"


def test_a_server_that_rejects_streaming_lists_is_listed_instead_and_never_asked_again() -> None:
    pages: list[ListPage | Exception] = [ListPage([pod("a", "3")], "10"), ListPage([], "30")]
    watches: list[FakeWatchStream | Exception] = [BadRequestError({"reason": "BadRequest"}, code=400)]
    watches += [FakeWatchStream(expired()), FakeWatchStream(keep_open=True)]
    harness = Harness(pages=pages, watches=watches, watch_list=None)
    harness.step(4)  # refused streaming list, list, watch, expired
    harness.wait_out_backoff()
    harness.step(2)
    assert [call["initial"] for call in harness.lister_watcher.watch_calls] == [True, False, False]
    assert harness.lister_watcher.list_versions() == [(500, None, "0"), (500, None, "")]
    assert harness.reflector.state.streaming_list == "unsupported"


def test_a_streaming_list_closed_before_the_bookmark_restarts_with_a_fresh_set_of_initial_events() -> None:
    first = FakeWatchStream(event("ADDED", "a", "5"), event("ADDED", "b", "6"))
    second = FakeWatchStream(event("ADDED", "b", "6"), bookmark("7", initial_events_end="true"), keep_open=True)
    harness = Harness(watches=[first, second], watch_list=True)
    harness.step(4)  # open, two events, the close
    assert isinstance(harness.reflector.state.phase, BackingOff)
    harness.wait_out_backoff()
    harness.step(3)
    assert harness.sink.calls == [("replace", "b", "7")]
    assert harness.lister_watcher.watch_versions() == ["", ""]


def test_a_stalled_watch_is_closed_and_reopened_from_the_last_resource_version() -> None:
    stalled = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([], "10")], watches=[stalled, FakeWatchStream(keep_open=True)], stall_timeout=90)
    harness.step(2)
    harness.clock.advance(50.0)
    stalled.push(bookmark("12"))
    harness.step()  # the bookmark restarts the stall countdown
    harness.clock.advance(89.0)
    assert not harness.reflector.check_stalled()
    harness.clock.advance(1.0)
    assert harness.reflector.check_stalled()
    assert stalled.closed.is_set()
    harness.step()
    assert harness.reflector.state.phase == Watching(resumed=True)
    harness.step()
    assert harness.lister_watcher.watch_versions() == ["10", "12"]
    status = harness.reflector.status()
    assert (status.errors, status.renewals, status.watch_restarts, len(harness.lister_watcher.lists)) == (0, 1, 1, 1)
    assert status.last_error is None  # silence is no failure: a quiet resource gets no bookmarks
    assert status.last_confirmed_at == 1000.0 + 50.0 + 90.0  # the renewed watch opened from resourceVersion 12


def test_backoff_grows_while_failures_continue_and_starts_over_after_a_quiet_period() -> None:
    failure = ServerError({"reason": "ServiceUnavailable"}, code=503)
    pages: list[ListPage | Exception] = [failure, failure, failure, ListPage([], "10")]
    stream = FakeWatchStream(keep_open=True)
    harness = Harness(pages=pages, watches=[stream, FakeWatchStream(keep_open=True)])
    harness.step()
    delays = [harness.wait_out_backoff()]
    harness.step()
    delays.append(harness.wait_out_backoff())
    harness.step()
    delays.append(harness.wait_out_backoff())
    assert delays == [0.8, 1.6, 3.2]
    assert harness.reflector.status().consecutive_failures == 3
    harness.step(2)  # the list succeeds; the watch opens
    assert harness.reflector.status().consecutive_failures == 0
    harness.clock.advance(200.0)
    stream.push(ConnectError("connection reset"))
    harness.step()
    assert harness.backoff_delay() == 0.8


def test_backoff_starts_over_as_soon_as_the_reflector_recovers_not_after_a_quiet_period() -> None:
    # An outage: five failed lists take the backoff to 12.8 s. The server comes back: the list succeeds, then the
    # watch is refused (a 429 while the watch cache initializes). The retry comes after 0.8 s, not 25.6 s.
    failure: Exception = ConnectError("connection refused")
    refused = TooManyRequestsError({"reason": "TooManyRequests"}, code=429)
    pages: list[ListPage | Exception] = [*([failure] * 5), ListPage([], "10")]
    harness = Harness(pages=pages, watches=[refused, FakeWatchStream(keep_open=True)])
    harness.step()
    delays = []
    for _ in range(4):
        delays.append(harness.wait_out_backoff())
        harness.step()
    assert delays == [0.8, 1.6, 3.2, 6.4]
    harness.wait_out_backoff()
    harness.step(2)  # the list succeeds; the watch is refused
    assert harness.backoff_delay() == 0.8


def test_health_shows_recovery_the_age_of_the_last_error_and_the_staleness() -> None:
    stream = FakeWatchStream(keep_open=True)
    failure = ServerError({"reason": "ServiceUnavailable", "message": "etcd is down"}, code=503)
    harness = Harness(pages=[failure, ListPage([], "10")], watches=[stream])
    harness.step()
    failing = harness.reflector.status()
    assert (failing.consecutive_failures, failing.last_error_at, failing.last_confirmed_at) == (1, 1000.0, None)
    harness.wait_out_backoff()
    harness.step(2)  # list, open
    harness.clock.advance(5.0)
    stream.push(bookmark("12"))
    harness.step()
    recovered = harness.reflector.status()
    assert recovered.consecutive_failures == 0
    assert recovered.last_error == "ServerError: 503 ServiceUnavailable: etcd is down"  # history, not current
    assert (recovered.last_error_at, recovered.last_confirmed_at) == (1000.0, 1005.8)


def test_the_first_failure_logs_at_info_and_the_next_in_a_row_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    failure = ServerError({"reason": "ServiceUnavailable", "message": "etcd is down"}, code=503)
    harness = Harness(pages=[failure, failure])
    caplog.set_level(logging.INFO, logger="informers.reflector")
    harness.step()
    harness.wait_out_backoff()
    harness.step()
    records = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert records == [
        (logging.INFO, 'reflector pods: ServerError: 503 ServiceUnavailable: etcd is down; next: listing at '
         'resourceVersion "0" in pages of 500 in 0.8 s'),
        (logging.WARNING, 'reflector pods: ServerError: 503 ServiceUnavailable: etcd is down (failure 2 in a row); '
         'next: listing at resourceVersion "0" in pages of 500 in 1.6 s'),
    ]  # fmt: skip


def test_a_sink_that_fails_makes_the_reflector_relist(caplog: pytest.LogCaptureFixture) -> None:
    stream = FakeWatchStream(event("ADDED", "b", "11"))
    pages: list[ListPage | Exception] = [ListPage([], "10"), ListPage([pod("b", "11")], "11")]
    harness = Harness(pages=pages, watches=[stream, FakeWatchStream(keep_open=True)])
    harness.sink.fail_next_event = True
    harness.step(3)
    assert isinstance(harness.reflector.state.phase, BackingOff)
    assert stream.closed.is_set()
    harness.wait_out_backoff()
    harness.step()
    assert harness.sink.calls == [("replace", "", "10"), ("replace", "b", "11")]
    assert harness.reflector.status().last_error == "RuntimeError: the store rejected the event"
    assert "the sink failed" in caplog.text


def test_run_returns_promptly_when_stopped_and_closes_the_open_watch() -> None:
    stream = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([pod("a", "3")], "10")], watches=[stream])
    runner = threading.Thread(target=harness.reflector.run, args=(harness.stop,), daemon=True)
    runner.start()
    assert harness.lister_watcher.watch_opened.wait(10)
    assert harness.sink.replaced.is_set()
    harness.stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert stream.closed.is_set()
    assert harness.reflector.status().phase == "stopped"
    with pytest.raises(AlreadyStartedError, match="pods"):
        harness.reflector.run(harness.stop)


def test_run_closes_a_stalled_watch_from_its_guard_thread() -> None:
    stalled = FakeWatchStream(keep_open=True)
    reopened = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([], "10")], watches=[stalled, reopened], stall_timeout=60)
    runner = threading.Thread(target=harness.reflector.run, args=(harness.stop,), daemon=True)
    runner.start()
    assert harness.lister_watcher.watch_opened.wait(10)
    harness.lister_watcher.watch_opened.clear()
    assert harness.clock.block_until_waiters(1)  # the guard waits for the watch's stall deadline
    harness.clock.advance(60.0)
    assert harness.lister_watcher.watch_opened.wait(10)
    assert stalled.closed.is_set()
    harness.stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert reopened.closed.is_set()


@pytest.mark.parametrize(
    ("options", "message"),
    [({"page_size": 0}, "page_size=0"), ({"stall_timeout": 0.0}, "stall_timeout=0.0")],
    ids=["page-size", "stall-timeout"],
)
def test_bad_options_are_rejected_with_their_name(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Reflector(FakeListerWatcher(pages=[], watches=[]), RecordingSink(), name="pods", **options)


def test_the_phase_after_a_list_is_a_watch_to_open() -> None:
    harness = Harness(pages=[ListPage([], "10")])
    before = harness.reflector.state
    harness.step()
    assert (before.phase, harness.reflector.state.phase) == (Listing("0", 500), Watching())
    assert repr(harness.reflector) == "Reflector(name='pods', phase='watching')"


def test_a_reflector_lists_in_pages_by_default() -> None:
    reflector = Reflector(FakeListerWatcher(pages=[], watches=[]), RecordingSink(), name="pods")

    assert reflector.state.phase == Listing("0", 500)


def test_a_streaming_reflector_starts_with_a_streaming_list() -> None:
    assert Harness(watch_list=None).reflector.state.phase == StreamingList("")


class HangingListerWatcher(FakeListerWatcher):
    """Its first ``hang_lists`` lists and ``hang_watches`` watch opens wait until cancelled (no response ever)."""

    def __init__(self, *, hang_lists: int = 0, hang_watches: int = 0, **script: Any) -> None:
        super().__init__(**script)
        self.hang_lists, self.hang_watches = hang_lists, hang_watches
        self.hanging = threading.Event()

    def _hang(self, cancellation: Cancellation | None) -> None:
        assert cancellation is not None, "the reflector passed no cancellation"
        self.hanging.set()
        assert cancellation.wait(10), "the call was never cancelled"
        self.hanging.clear()
        raise RequestCancelled("cancelled while waiting for the response")

    def list_page(self, **options: Any) -> ListPage:
        if self.hang_lists:
            self.hang_lists -= 1
            self._hang(options.get("cancellation"))
        return super().list_page(**options)

    def watch(self, **options: Any) -> FakeWatchStream:
        if self.hang_watches:
            self.hang_watches -= 1
            self._hang(options.get("cancellation"))
        return super().watch(**options)


def running(harness: Harness, lister_watcher: FakeListerWatcher) -> threading.Thread:
    harness.lister_watcher = lister_watcher
    harness.reflector = Reflector(
        lister_watcher, harness.sink, name="pods", clock=harness.clock, stall_timeout=DEFAULT_STALL_TIMEOUT
    )
    runner = threading.Thread(target=harness.reflector.run, args=(harness.stop,), daemon=True)
    runner.start()
    return runner


def test_stop_cancels_a_list_waiting_for_its_response() -> None:
    harness = Harness()
    lister_watcher = HangingListerWatcher(hang_lists=1, pages=[], watches=[])
    runner = running(harness, lister_watcher)
    assert lister_watcher.hanging.wait(10)
    harness.stop.set()
    runner.join(10)
    assert not runner.is_alive()
    assert harness.reflector.status().phase == "stopped"


def test_stop_cancels_a_watch_request_waiting_for_its_response() -> None:
    harness = Harness()
    lister_watcher = HangingListerWatcher(hang_watches=1, pages=[ListPage([], "10")], watches=[])
    runner = running(harness, lister_watcher)
    assert lister_watcher.hanging.wait(10)
    harness.stop.set()
    runner.join(10)
    assert not runner.is_alive()


def test_a_watch_request_without_a_response_is_cancelled_after_the_stall_timeout_and_retried() -> None:
    reopened = FakeWatchStream(keep_open=True)
    harness = Harness()
    lister_watcher = HangingListerWatcher(hang_watches=1, pages=[ListPage([], "10")], watches=[reopened])
    runner = running(harness, lister_watcher)
    try:
        assert lister_watcher.hanging.wait(10)
        assert harness.clock.block_until_waiters(1)  # the guard
        harness.clock.advance(DEFAULT_STALL_TIMEOUT - 1.0)
        assert harness.clock.block_until_waiters(1)
        assert lister_watcher.hanging.is_set(), "cancelled before the stall timeout"
        harness.clock.advance(1.0)
        assert lister_watcher.watch_opened.wait(10), "the watch was not requested again"
        status = harness.reflector.status()
        assert status.last_error == "ReflectorError: the watch request got no response for 65 s; reopening it"
        assert lister_watcher.watch_versions() == ["10"]  # the hung request is not recorded; this is the retry
        assert len(lister_watcher.lists) == 1
    finally:
        harness.stop.set()
        runner.join(10)
    assert not runner.is_alive()


def test_a_frozen_watch_is_noticed_within_the_default_stall_timeout_just_past_the_minute_bookmarks() -> None:
    assert 61.25 < DEFAULT_STALL_TIMEOUT <= 65.0
    frozen = FakeWatchStream(keep_open=True)
    harness = Harness(pages=[ListPage([], "10")], watches=[frozen, FakeWatchStream(keep_open=True)])
    harness.step(2)
    harness.clock.advance(60.0)
    frozen.push(bookmark("11"))  # a minute bookmark, then nothing: the connection froze
    harness.step()
    harness.clock.advance(DEFAULT_STALL_TIMEOUT - 0.5)
    assert not harness.reflector.check_stalled()
    harness.clock.advance(0.5)
    assert harness.reflector.check_stalled()
    harness.step(2)
    assert harness.lister_watcher.watch_versions() == ["10", "11"]


def test_a_list_request_without_a_response_is_cancelled_after_the_stall_timeout_and_retried() -> None:
    harness = Harness()
    lister_watcher = HangingListerWatcher(
        hang_lists=1, pages=[ListPage([], "10")], watches=[FakeWatchStream(keep_open=True)]
    )
    runner = running(harness, lister_watcher)
    try:
        assert lister_watcher.hanging.wait(10)
        assert harness.clock.block_until_waiters(1)  # the guard
        harness.clock.advance(DEFAULT_STALL_TIMEOUT)
        assert harness.clock.block_until_waiters(2)  # the guard, and the reflector backing off
        assert not lister_watcher.hanging.is_set()
        assert harness.reflector.status().last_error == (
            "ReflectorError: the list request got no response for 65 s; cancelled it"
        )
        harness.clock.advance(2.0)  # the backoff
        assert lister_watcher.watch_opened.wait(10), "the list was not retried"
    finally:
        harness.stop.set()
        runner.join(10)
    assert not runner.is_alive()


def test_a_sink_raising_system_exit_makes_the_reflector_relist_instead_of_ending_its_thread() -> None:
    stream = FakeWatchStream(event("ADDED", "b", "11"))
    pages: list[ListPage | Exception] = [ListPage([], "10"), ListPage([pod("b", "11")], "11")]
    harness = Harness(pages=pages, watches=[stream, FakeWatchStream(keep_open=True)])
    harness.sink.fail_next_event, harness.sink.failure = True, SystemExit(2)
    harness.step(3)
    assert isinstance(harness.reflector.state.phase, BackingOff)
    harness.wait_out_backoff()
    harness.step()
    assert harness.sink.calls == [("replace", "", "10"), ("replace", "b", "11")]
    assert harness.reflector.status().last_error == "ReflectorError: the sink raised SystemExit(2)"

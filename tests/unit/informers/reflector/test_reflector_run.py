"""Stopping the reflector, running it in its thread, and cancelling its requests that get no response."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from dynaclient import Cancellation, RequestCancelled, ServerError
from informers import AlreadyStartedError
from informers.reflector.listwatch import ListPage
from informers.reflector.reflector import DEFAULT_STALL_TIMEOUT, Reflector
from tests.unit.informers.reflector.fakes import FakeListerWatcher, FakeWatchStream, Harness
from tests.unit.informers.reflector.objects import pod


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

"""How the reflector meets failures: stalled watches, backoff, health, logging and a failing sink."""

from __future__ import annotations

import logging

import pytest

from dynaclient import ConnectError, ServerError, TooManyRequestsError
from informers.reflector.listwatch import ListPage
from informers.reflector.reflector import DEFAULT_STALL_TIMEOUT
from informers.reflector.state import BackingOff, Watching
from tests.unit.informers.reflector.fakes import FakeWatchStream, Harness
from tests.unit.informers.reflector.objects import bookmark, event, pod


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

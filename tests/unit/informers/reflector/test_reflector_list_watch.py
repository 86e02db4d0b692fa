"""The reflector's lists, watches and streaming lists, driven step by step against a scripted ListerWatcher."""

from __future__ import annotations

from typing import Any

import pytest

from dynaclient import BadRequestError, ConnectError, ServerError, TooManyRequestsError
from informers.reflector.listwatch import ListPage
from informers.reflector.reflector import Reflector
from informers.reflector.state import BackingOff, Listing, StreamingList, Watching
from tests.unit.informers.reflector.fakes import FakeListerWatcher, FakeWatchStream, FixedRandom, Harness, RecordingSink
from tests.unit.informers.reflector.objects import bookmark, event, expired, pod


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

"""The reflector's pure state machine, listing: first lists, restarts, and paginated lists."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dynaclient import GoneError, ServerError
from informers.reflector.errors import ReflectorError
from informers.reflector.listwatch import ListPage
from informers.reflector.state import (
    BackingOff,
    BackoffElapsed,
    Failed,
    Listing,
    ListRequest,
    PageReceived,
    Phase,
    ReflectorState,
    Replace,
    Stopped,
    StreamingList,
    StreamingListSupport,
    Watching,
    WatchRequest,
)
from informers.reflector.transitions import advance, begin_list, initial_state, list_request, watch_request
from tests.unit.informers.reflector.objects import expired, pod, too_large
from tests.unit.informers.reflector.states import names


def test_the_first_paginated_list_asks_for_resource_version_0_in_pages_of_500() -> None:
    state = initial_state(watch_list=False)
    assert state.phase == Listing("0", 500)
    assert list_request(state.phase) == ListRequest(500, None, "0", None)


@pytest.mark.parametrize(("watch_list", "support"), [(None, "unknown"), (True, "required")], ids=["auto", "forced"])
def test_the_first_streaming_list_asks_for_the_most_recent_state(
    watch_list: bool | None, support: StreamingListSupport
) -> None:
    state = initial_state(watch_list=watch_list)
    assert state.phase == StreamingList("")
    assert state.streaming_list == support
    assert watch_request(state) == WatchRequest("", send_initial_events=True, resource_version_match="NotOlderThan")


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        ({}, Listing("0", 500)),
        ({"synced": True}, Listing("42", None)),
        ({"synced": True, "paginated_result": True}, Listing("42", 500)),
        ({"synced": True, "resource_version_unavailable": True}, Listing("", 500)),
        ({"streaming_list": "supported", "synced": True}, StreamingList("42")),
        ({"streaming_list": "supported", "synced": True, "resource_version_unavailable": True}, StreamingList("")),
    ],
    ids=[
        "never-synced-lists-at-0",
        "relist-at-a-resource-version-is-unpaginated-for-the-watch-cache",
        "relist-paginates-when-the-first-list-came-in-pages",
        "expired-relists-with-a-consistent-paginated-read",
        "streaming-relist-from-the-last-resource-version",
        "expired-streaming-relist-from-the-most-recent",
    ],
)
def test_a_list_starts_from_what_the_state_remembers(memory: dict[str, Any], expected: Phase) -> None:
    state = replace(ReflectorState(Stopped(), "42", streaming_list="unsupported"), **memory)
    assert begin_list(state) == expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Listing("0", 500), ListRequest(500, None, "0", None)),
        (Listing("0", 500, continue_token="c1"), ListRequest(500, "c1", None, None)),
        (Listing("0", 500, full_list=True), ListRequest(None, None, "0", None)),
        (Listing("", 500), ListRequest(500, None, "", None)),
    ],
    ids=["first-page", "continue-page-drops-the-resource-version", "full-list-is-unpaginated", "consistent-read"],
)
def test_list_requests_follow_the_pager(phase: Listing, expected: ListRequest) -> None:
    assert list_request(phase) == expected


def test_pages_accumulate_and_the_last_one_replaces_everything_at_the_first_pages_resource_version() -> None:
    state = initial_state(watch_list=False)
    first = advance(state, PageReceived(ListPage([pod("a", "3")], "10", "c1")))
    assert first.effects == ()
    assert first.state.phase == Listing("0", 500, "c1", ([pod("a", "3")],), "10")
    last = advance(first.state, PageReceived(ListPage([pod("b", "4")], "11")))
    (effect,) = last.effects
    assert isinstance(effect, Replace)
    assert (names(effect.items), effect.resource_version) == (["a", "b"], "10")
    assert last.state.phase == Watching()
    assert (last.state.resource_version, last.state.synced, last.state.paginated_result) == ("10", True, True)
    assert watch_request(last.state) == WatchRequest("10", send_initial_events=False, resource_version_match=None)


def test_a_one_page_list_leaves_later_relists_unpaginated() -> None:
    listed = advance(initial_state(watch_list=False), PageReceived(ListPage([], "10"))).state
    assert listed.paginated_result is False
    assert begin_list(listed) == Listing("10", None)


def test_an_expired_continue_token_falls_back_to_one_unpaginated_list_at_the_original_resource_version() -> None:
    state = advance(initial_state(watch_list=False), PageReceived(ListPage([pod("a", "3")], "10", "c1"))).state
    transition = advance(state, Failed(expired()))
    assert transition.state.phase == Listing("0", 500, full_list=True)
    assert list_request(transition.state.phase) == ListRequest(None, None, "0", None)
    assert isinstance(transition.error, GoneError)


@pytest.mark.parametrize("error", [expired(), too_large()], ids=["expired", "too-large"])
@pytest.mark.parametrize(
    ("phase", "retry"),
    [(Listing("0", 500), Listing("", 500)), (Listing("42", None), Listing("", None))],
    ids=["paginated", "unpaginated"],
)
def test_an_unavailable_resource_version_relists_at_once_with_a_consistent_read_and_the_same_page_size(
    error: Exception, phase: Listing, retry: Listing
) -> None:
    state = ReflectorState(phase, "42", synced=phase.resource_version != "0", streaming_list="unsupported")
    transition = advance(state, Failed(error))
    assert transition.state.phase == retry
    assert transition.state.resource_version_unavailable is True
    assert transition.error is error


def test_an_expired_consistent_read_backs_off_instead_of_looping() -> None:
    state = ReflectorState(Listing("", 500), resource_version_unavailable=True, streaming_list="unsupported")
    transition = advance(state, Failed(expired()))
    assert transition.state.phase == BackingOff(Listing("", 500))


def test_a_list_that_fails_otherwise_backs_off_then_lists_again() -> None:
    state = initial_state(watch_list=False)
    failed = advance(state, Failed(ServerError({"reason": "InternalError"}, code=500)))
    assert failed.state.phase == BackingOff(Listing("0", 500))
    assert advance(failed.state, BackoffElapsed()).state.phase == Listing("0", 500)


def test_a_list_without_a_resource_version_is_a_failure_since_nothing_could_be_watched_from_it() -> None:
    transition = advance(initial_state(watch_list=False), PageReceived(ListPage([pod("a", "1")], "")))
    assert transition.effects == ()
    assert isinstance(transition.error, ReflectorError)
    assert isinstance(transition.state.phase, BackingOff)

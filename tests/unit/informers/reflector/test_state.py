"""The reflector's pure state machine: each rule driven by handing ``advance`` a state and an outcome."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from dynaclient import (
    BadRequestError,
    ConnectError,
    DecodeError,
    ForbiddenError,
    GoneError,
    InvalidError,
    JSONObject,
    MethodNotAllowedError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    TransportTimeout,
    UnsupportedRequestError,
    WatchEvent,
    WatchEventType,
)
from informers.reflector.errors import (
    ReflectorError,
    minimum_delay,
    resource_version_unavailable,
    streaming_list_unsupported,
    watch_retriable,
)
from informers.reflector.listwatch import ListPage
from informers.reflector.state import (
    Apply,
    BackingOff,
    BackoffElapsed,
    Bookmark,
    EventReceived,
    Failed,
    InitialEvents,
    Listing,
    ListRequest,
    Outcome,
    PageReceived,
    Phase,
    ReflectorState,
    Replace,
    Stopped,
    StreamEnded,
    StreamingList,
    StreamingListSupport,
    StreamOpened,
    StreamStalled,
    Watching,
    WatchRequest,
)
from informers.reflector.transitions import advance, begin_list, describe, initial_state, list_request, watch_request


class StubStream:
    """A watch the pure transitions only carry around."""

    def __iter__(self) -> Iterator[WatchEvent]:
        return iter(())

    def close(self) -> None:
        pass


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


def too_large() -> ServerError:
    causes = [{"type": "ResourceVersionTooLarge", "message": "Too large resource version"}]
    return ServerError({"reason": "Timeout", "details": {"causes": causes}}, code=504)


def watching(resource_version: str = "10", streaming_list: StreamingListSupport = "unsupported") -> ReflectorState:
    phase = Watching(StubStream(), opened_at=0.0, received=1)
    return ReflectorState(phase, resource_version, synced=True, streaming_list=streaming_list)


def names(items: list[JSONObject]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


# --- starting and restarting a list -------------------------------------------------------------------------------


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


# --- paginated lists ----------------------------------------------------------------------------------------------


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


# --- watching -----------------------------------------------------------------------------------------------------


def test_an_opened_watch_is_held_by_the_phase() -> None:
    stream = StubStream()
    state = ReflectorState(Watching(), "10", synced=True)
    assert advance(state, StreamOpened(stream, at=5.0)).state.phase == Watching(stream, opened_at=5.0)


@pytest.mark.parametrize("kind", ["ADDED", "MODIFIED", "DELETED"])
def test_watch_events_are_applied_and_move_the_resource_version(kind: WatchEventType) -> None:
    change = event(kind, "a", "11")
    transition = advance(watching("10"), EventReceived(change))
    assert transition.effects == (Apply(change),)
    assert transition.state.resource_version == "11"


def test_a_bookmark_moves_the_resource_version_without_a_change() -> None:
    transition = advance(watching("10"), EventReceived(bookmark("15")))
    assert transition.effects == (Bookmark("15"),)
    assert transition.state.resource_version == "15"


def test_a_clean_close_rewatches_at_once_from_the_last_resource_version_without_a_list() -> None:
    transition = advance(watching("15"), StreamEnded(at=100.0))
    assert transition.state.phase == Watching(resumed=True)
    assert transition.error is None
    assert watch_request(transition.state).resource_version == "15"


def test_a_watch_closed_within_a_second_without_an_event_backs_off_before_rewatching() -> None:
    state = ReflectorState(Watching(StubStream(), opened_at=10.0), "15", synced=True)
    transition = advance(state, StreamEnded(at=10.5))
    assert transition.state.phase == BackingOff(Watching(resumed=True))
    assert "very short watch" in str(transition.error)


def test_a_silent_watch_is_renewed_at_once_from_the_last_resource_version_without_an_error() -> None:
    # A quiet resource gets no bookmarks (the server sends them only once its cache moved past the watch's RV).
    transition = advance(watching("15"), StreamStalled(idle=200.0))
    assert transition.state.phase == Watching(resumed=True)
    assert transition.error is None


def test_a_watch_request_without_a_response_is_retried_at_once_as_a_failure() -> None:
    transition = advance(watching("15"), StreamStalled(idle=65.0, opening=True))
    assert transition.state.phase == Watching(resumed=True)
    assert str(transition.error) == "the watch request got no response for 65 s; reopening it"


@pytest.mark.parametrize(
    ("error", "expected", "unavailable"),
    [
        (expired(), BackingOff(Listing("", 500)), True),
        (too_large(), BackingOff(Listing("", 500)), True),
        (TooManyRequestsError({}, code=429, retry_after=3.0), BackingOff(Watching(resumed=True), 3.0), False),
        (ConnectError("connection refused"), BackingOff(Watching(resumed=True)), False),
        (TransportTimeout("read timed out"), BackingOff(Watching(resumed=True)), False),
        (ServerError({"reason": "StorageReadError"}, code=500), BackingOff(Listing("10", None)), False),
        (ServerError({"reason": "InternalError"}, code=500), BackingOff(Listing("10", None)), False),
        (DecodeError("watch frame 3 is not JSON"), BackingOff(Listing("10", None)), False),
    ],
    ids=[
        "expired-relists-consistently",
        "too-large-relists-consistently",
        "429-resumes-the-watch-after-retry-after",
        "connection-refused-resumes-the-watch",
        "transport-timeout-resumes-the-watch",
        "storage-read-error-relists",
        "internal-error-relists",
        "undecodable-frame-relists",
    ],
)
def test_a_failed_watch_backs_off_then_resumes_or_relists(error: Exception, expected: Phase, unavailable: bool) -> None:
    transition = advance(watching("10"), Failed(error))
    assert transition.state.phase == expected
    assert transition.state.resource_version_unavailable is unavailable
    assert transition.state.synced is True
    assert transition.error is error


def test_an_error_event_is_handled_like_the_error_it_carries() -> None:
    status = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
    transition = advance(watching("10"), EventReceived(WatchEvent("ERROR", status)))
    assert transition.state.phase == BackingOff(Listing("", 500))
    assert isinstance(transition.error, GoneError)


def test_an_expired_watch_relists_by_streaming_when_the_server_streams_lists() -> None:
    transition = advance(watching("10", streaming_list="supported"), Failed(expired()))
    assert transition.state.phase == BackingOff(StreamingList(""))


# --- streaming lists ----------------------------------------------------------------------------------------------


def streaming(support: StreamingListSupport = "unknown", resource_version: str = "") -> ReflectorState:
    stream = StubStream()
    return ReflectorState(StreamingList(resource_version, stream), resource_version, streaming_list=support)


def feed(state: ReflectorState, *outcomes: Outcome) -> ReflectorState:
    for outcome in outcomes:
        transition = advance(state, outcome)
        assert transition.effects == ()
        state = transition.state
    return state


def test_initial_events_and_bookmarks_without_the_end_annotation_deliver_nothing() -> None:
    state = feed(
        streaming(),
        EventReceived(event("ADDED", "a", "5")),
        EventReceived(bookmark("6")),
        EventReceived(bookmark("6", initial_events_end="false")),
    )
    assert isinstance(state.phase, StreamingList)
    assert state.synced is False
    assert repr(state.phase.events) == "<1 initial events>"


def test_the_end_bookmark_delivers_one_replace_with_updates_and_deletes_applied_at_its_resource_version() -> None:
    start = streaming()
    assert isinstance(start.phase, StreamingList)
    state = feed(
        start,
        EventReceived(event("ADDED", "a", "5")),
        EventReceived(event("ADDED", "b", "6")),
        EventReceived(event("MODIFIED", "a", "7")),
        EventReceived(event("DELETED", "b", "8")),
        EventReceived(event("ADDED", "c", "9")),
    )
    transition = advance(state, EventReceived(bookmark("9", initial_events_end="true")))
    (effect,) = transition.effects
    assert isinstance(effect, Replace)
    assert (names(effect.items), effect.resource_version) == (["a", "c"], "9")
    assert effect.items[0]["metadata"]["resourceVersion"] == "7"
    assert transition.state.phase == Watching(start.phase.stream, received=6)
    assert (transition.state.resource_version, transition.state.synced) == ("9", True)
    assert transition.state.streaming_list == "supported"


def test_initial_events_fold_without_recursion_however_many_there_are() -> None:
    chain = None
    for number in range(20_000):
        chain = InitialEvents(event("ADDED", f"pod-{number}", str(number)), chain)
    assert chain is not None
    assert len(chain.objects()) == 20_000
    assert repr(chain) == "<20000 initial events>"


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError({"reason": "BadRequest"}, code=400),
        InvalidError({"reason": "Invalid"}, code=422),
        ForbiddenError({"reason": "Forbidden"}, code=403),
        MethodNotAllowedError({"reason": "MethodNotAllowed"}, code=405),
        UnsupportedRequestError("kubectl cannot stream"),
    ],
    ids=["400", "422", "403", "405", "transport"],
)
@pytest.mark.parametrize("support", ["unknown", "supported"])
def test_a_server_that_cannot_stream_lists_makes_the_reflector_fall_back_to_paginated_lists_for_good(
    error: Exception, support: StreamingListSupport
) -> None:
    transition = advance(replace(streaming(support), phase=StreamingList("")), Failed(error))
    assert transition.state.phase == Listing("0", 500)
    assert transition.state.streaming_list == "unsupported"
    assert transition.error is error


def test_required_streaming_lists_retry_after_a_backoff_instead_of_falling_back() -> None:
    transition = advance(streaming("required"), Failed(BadRequestError({}, code=400)))
    assert transition.state.phase == BackingOff(StreamingList(""))
    assert transition.state.streaming_list == "required"


@pytest.mark.parametrize("cut", [StreamEnded(at=400.0), StreamStalled(idle=200.0)], ids=["ended", "stalled"])
def test_a_streaming_list_cut_short_on_an_untested_server_falls_back_to_a_paginated_list(cut: Outcome) -> None:
    state = feed(streaming("unknown"), EventReceived(event("ADDED", "a", "5")))
    transition = advance(state, cut)
    assert transition.state.phase == Listing("0", 500)
    assert transition.state.streaming_list == "unsupported"
    assert "before the initial-events-end bookmark" in str(transition.error)


@pytest.mark.parametrize("support", ["supported", "required"])
def test_a_streaming_list_cut_short_on_a_streaming_server_restarts_with_no_initial_events(
    support: StreamingListSupport,
) -> None:
    state = feed(streaming(support, "42"), EventReceived(event("ADDED", "a", "5")))
    state = replace(state, synced=True)
    transition = advance(state, StreamEnded(at=400.0))
    assert transition.state.phase == BackingOff(StreamingList("42"))


def test_an_expired_streaming_list_restarts_at_once_from_the_most_recent_state() -> None:
    transition = advance(streaming("supported", "42"), Failed(expired()))
    assert transition.state.phase == StreamingList("")
    assert transition.state.resource_version_unavailable is True


@pytest.mark.parametrize(
    "error",
    [TooManyRequestsError({}, code=429), ConnectError("refused"), ServerError({}, code=503)],
    ids=["429", "connect", "503"],
)
def test_a_streaming_list_that_fails_otherwise_is_retried_after_a_backoff(error: Exception) -> None:
    transition = advance(streaming("unknown", "42"), Failed(error))
    assert transition.state.phase == BackingOff(StreamingList("42"))
    assert transition.state.streaming_list == "unknown"


# --- backoff, misuse, descriptions ----------------------------------------------------------------------------------


def test_backing_off_enters_the_next_phase_when_the_delay_has_passed() -> None:
    state = ReflectorState(BackingOff(Watching(resumed=True), until=3.0), "10", synced=True)
    assert advance(state, BackoffElapsed()).state.phase == Watching(resumed=True)


@pytest.mark.parametrize(
    ("phase", "outcome"),
    [
        (Stopped(), BackoffElapsed()),
        (Listing("0", 500), StreamEnded(at=1.0)),
        (Watching(), PageReceived(ListPage([], "1"))),
        (BackingOff(Watching()), Failed(ConnectError("refused"))),
    ],
    ids=["stopped", "listing-stream-ended", "watching-page", "backing-off-failed"],
)
def test_an_outcome_that_cannot_happen_in_a_phase_is_a_value_error(phase: Phase, outcome: Outcome) -> None:
    with pytest.raises(ValueError, match="cannot happen while"):
        advance(ReflectorState(phase), outcome)


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (ReflectorState(Listing("0", 500)), 'listing at resourceVersion "0" in pages of 500'),
        (ReflectorState(Listing("0", 500, full_list=True)), 'listing at resourceVersion "0"'),
        (ReflectorState(StreamingList("")), 'streaming the list from resourceVersion ""'),
        (ReflectorState(Watching(), "7"), 'watching from resourceVersion "7"'),
        (ReflectorState(BackingOff(Listing("", 500), until=4.0)), 'listing at resourceVersion "" in pages of 500'),
        (ReflectorState(Stopped()), "stopped"),
    ],
    ids=["listing", "full-list", "streaming", "watching", "backoff-without-now", "stopped"],
)
def test_describe_says_what_a_phase_does(state: ReflectorState, text: str) -> None:
    assert describe(state) == text


# --- sorting failures -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (expired(), True),
        (GoneError({"reason": "Gone"}, code=410), True),
        (too_large(), True),
        (
            ServerError(
                {"reason": "Timeout", "message": "Timeout: Too large resource version: 9, current: 5"}, code=504
            ),
            True,
        ),
        (
            ServerError(
                {"reason": "Timeout", "details": {"causes": [{"message": "Too large resource version"}]}}, code=504
            ),
            True,
        ),
        (ServerError({"reason": "Timeout", "message": "request did not complete"}, code=504), False),
        (ServerError({"reason": "InternalError", "message": "Too large resource version"}, code=500), False),
        (NotFoundError({"reason": "NotFound"}, code=404), False),
        (ConnectError("refused"), False),
    ],
    ids=[
        "expired",
        "gone",
        "too-large-cause",
        "too-large-message-before-1.17",
        "too-large-cause-message-1.17",
        "plain-timeout",
        "message-without-timeout",
        "not-found",
        "no-response",
    ],
)
def test_expired_and_too_large_resource_versions_are_recognised_as_client_go_does(
    error: Exception, unavailable: bool
) -> None:
    assert resource_version_unavailable(error) is unavailable


def test_only_transport_errors_and_429_resume_a_watch_without_a_relist() -> None:
    assert watch_retriable(ConnectError("refused"))
    assert watch_retriable(TooManyRequestsError({}, code=429))
    assert not watch_retriable(expired())
    assert not watch_retriable(ServerError({}, code=500))


def test_not_found_does_not_mean_streaming_lists_are_unsupported() -> None:
    assert not streaming_list_unsupported(NotFoundError({}, code=404))


def test_only_a_429_asks_for_a_minimum_delay() -> None:
    assert minimum_delay(TooManyRequestsError({}, code=429, retry_after=-1.0)) == 0.0
    assert minimum_delay(TooManyRequestsError({"details": {"retryAfterSeconds": 7}}, code=429)) == 7.0
    assert minimum_delay(ServerError({}, code=503)) == 0.0

"""The reflector's pure state machine, streaming lists: initial events, the end bookmark, and the fallbacks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynaclient import (
    BadRequestError,
    ConnectError,
    ForbiddenError,
    InvalidError,
    MethodNotAllowedError,
    ServerError,
    TooManyRequestsError,
    UnsupportedRequestError,
)
from informers.reflector.state import (
    BackingOff,
    EventReceived,
    Failed,
    InitialEvents,
    Listing,
    Outcome,
    ReflectorState,
    Replace,
    StreamEnded,
    StreamingList,
    StreamingListSupport,
    StreamStalled,
    Watching,
)
from informers.reflector.transitions import advance
from tests.unit.informers.reflector.objects import bookmark, event, expired
from tests.unit.informers.reflector.states import StubStream, names


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

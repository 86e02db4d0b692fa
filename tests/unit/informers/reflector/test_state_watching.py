"""The reflector's pure state machine, watching: events, bookmarks, closes, silences and failures."""

from __future__ import annotations

import pytest

from dynaclient import (
    ConnectError,
    DecodeError,
    GoneError,
    ServerError,
    TooManyRequestsError,
    TransportTimeout,
    WatchEvent,
    WatchEventType,
)
from informers.reflector.state import (
    Apply,
    BackingOff,
    Bookmark,
    EventReceived,
    Failed,
    Listing,
    Phase,
    ReflectorState,
    StreamEnded,
    StreamingList,
    StreamOpened,
    StreamStalled,
    Watching,
)
from informers.reflector.transitions import advance, watch_request
from tests.unit.informers.reflector.objects import bookmark, event, expired, too_large
from tests.unit.informers.reflector.states import StubStream, watching


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

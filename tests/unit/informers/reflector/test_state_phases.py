"""The reflector's pure state machine in any phase: backoff elapsing, impossible outcomes, descriptions."""

from __future__ import annotations

import pytest

from dynaclient import ConnectError
from informers.reflector.listwatch import ListPage
from informers.reflector.state import (
    BackingOff,
    BackoffElapsed,
    Failed,
    Listing,
    Outcome,
    PageReceived,
    Phase,
    ReflectorState,
    Stopped,
    StreamEnded,
    StreamingList,
    Watching,
)
from informers.reflector.transitions import advance, describe


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

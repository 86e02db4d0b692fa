"""A reflector's health: the :class:`ReflectorStatus` snapshot and how each step updates it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from informers.reflector.errors import describe_error
from informers.reflector.state import (
    Apply,
    BackingOff,
    EventReceived,
    Listing,
    Outcome,
    Phase,
    ReflectorState,
    Replace,
    Stopped,
    StreamingList,
    StreamOpened,
    StreamStalled,
    Transition,
    Watching,
)

_NAMES: dict[type[Phase], str] = {
    Listing: "listing",
    StreamingList: "streaming-list",
    Watching: "watching",
    BackingOff: "backing-off",
    Stopped: "stopped",
}


def phase_name(phase: Phase) -> str:
    """Return the status name of ``phase``.

    >>> phase_name(Watching())
    'watching'
    """
    return _NAMES[type(phase)]


@dataclass(frozen=True, slots=True)
class ReflectorStatus:
    """A snapshot of a reflector's health.

    Attributes:
        name: the reflector's name.
        phase: ``listing``, ``streaming-list``, ``watching``, ``backing-off`` or ``stopped``.
        last_synced_resource_version: the resourceVersion of the last list, event or bookmark; ``""`` before.
        watching: a watch is open and past its initial events.
        has_synced: the first whole state was delivered (``on_replace``).
        last_error: the last failure as ``"Type: message"``, kept after recovery (``consecutive_failures`` is then
            ``0``); ``None`` if there was none.
        last_error_at: when ``last_error`` happened (clock seconds); ``None`` if there was none.
        last_confirmed_at: when the server last confirmed the state (clock seconds): a whole state delivered, an
            event or bookmark received, or a watch opened from the last synced resourceVersion; ``None`` before
            the first. The staleness of the cache is measured from it.
        renewals: watches closed after ``stall_timeout`` seconds without an event or bookmark, and reopened from
            the last resourceVersion: a quiet resource (the server sends bookmarks only once its watch cache moved
            past the watch's resourceVersion) or a dead or frozen connection, which cannot be told apart.
        lists: whole states delivered, the first included.
        relists: whole states delivered after the first.
        watch_starts: watches opened, streaming lists included.
        watch_restarts: watches reopened from the resourceVersion the previous one reached, without a list.
        events: ``ADDED``, ``MODIFIED`` and ``DELETED`` events delivered from watches.
        bookmarks: bookmarks received.
        errors: failures of any kind.
        consecutive_failures: failures since the last delivered state, event or bookmark.

    Thread-safety: immutable.
    """

    name: str
    phase: str
    last_synced_resource_version: str = ""
    watching: bool = False
    has_synced: bool = False
    last_error: str | None = None
    lists: int = 0
    relists: int = 0
    watch_starts: int = 0
    watch_restarts: int = 0
    events: int = 0
    bookmarks: int = 0
    errors: int = 0
    consecutive_failures: int = 0
    last_error_at: float | None = None
    last_confirmed_at: float | None = None
    renewals: int = 0


def progressed(outcome: Outcome, transition: Transition, new: ReflectorState) -> bool:
    """Return whether a step brought news from the server: a whole state, or a watch event or bookmark.

    >>> from dynaclient import WatchEvent
    >>> bookmark = EventReceived(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": "5"}}))
    >>> state = ReflectorState(Watching())
    >>> progressed(bookmark, Transition(state), state)
    True
    """
    replaced = any(isinstance(effect, Replace) for effect in transition.effects)
    return replaced or (isinstance(outcome, EventReceived) and isinstance(new.phase, Watching))


def record(
    status: ReflectorStatus,
    *,
    old: ReflectorState,
    outcome: Outcome,
    transition: Transition,
    new: ReflectorState,
    error: Exception | None,
    now: float,
) -> ReflectorStatus:
    """Return ``status`` updated for one step: ``old`` met ``outcome`` and became ``new``.

    Args:
        status: the status before the step.
        old: the state before the step.
        outcome: what the step's request brought.
        transition: what :func:`~informers.reflector.transitions.advance` made of it.
        new: the state after the step (the transition's, or a backoff if the sink failed).
        error: the failure the step handled, if any.
        now: the clock time of the step.

    Returns:
        The new status.
    """
    replaced = sum(isinstance(effect, Replace) for effect in transition.effects)
    opened = isinstance(outcome, StreamOpened)
    bookmark = isinstance(outcome, EventReceived) and outcome.event.type == "BOOKMARK"
    progress = progressed(outcome, transition, new)
    consecutive = status.consecutive_failures + 1 if error is not None else 0 if progress else None
    return replace(
        status,
        phase=phase_name(new.phase),
        last_synced_resource_version=new.resource_version,
        watching=isinstance(new.phase, Watching) and new.phase.stream is not None,
        has_synced=new.synced,
        last_error=describe_error(error) if error is not None else status.last_error,
        lists=status.lists + replaced,
        relists=status.relists + (replaced if old.synced else 0),
        watch_starts=status.watch_starts + opened,
        watch_restarts=status.watch_restarts + (opened and isinstance(old.phase, Watching) and old.phase.resumed),
        events=status.events + sum(isinstance(effect, Apply) for effect in transition.effects),
        bookmarks=status.bookmarks + bookmark,
        errors=status.errors + (error is not None),
        consecutive_failures=status.consecutive_failures if consecutive is None else consecutive,
        last_error_at=now if error is not None else status.last_error_at,
        last_confirmed_at=now if progress or (opened and isinstance(old.phase, Watching)) else status.last_confirmed_at,
        renewals=status.renewals + (isinstance(outcome, StreamStalled) and not outcome.opening),
    )


__all__ = ["ReflectorStatus", "phase_name", "progressed", "record"]

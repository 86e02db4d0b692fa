"""Health snapshots of an informer: what its cache applied, what its reflector reports, how its handlers keep up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from informers.processor import HandlerHealth


class ReflectorStatusView(Protocol):
    """The part of a reflector's status snapshot an informer's health reports (:class:`~informers.ReflectorStatus`).

    Thread-safety: implementations are immutable snapshots.
    """

    @property
    def watching(self) -> bool:
        """Whether a watch is open now."""
        ...

    @property
    def last_error(self) -> str | None:
        """The last list or watch error as ``"Type: message"``, or ``None``."""
        ...

    @property
    def watch_restarts(self) -> int:
        """How many times a watch was reopened."""
        ...

    @property
    def consecutive_failures(self) -> int:
        """Failures since the server last delivered a whole state, an event or a bookmark."""
        ...

    @property
    def last_error_at(self) -> float | None:
        """When :attr:`last_error` happened, in clock seconds."""
        ...

    @property
    def last_confirmed_at(self) -> float | None:
        """When the server last confirmed the state (a list, an event, a bookmark, a watch opened), in clock seconds."""
        ...


@dataclass(frozen=True, slots=True)
class InformerHealth:
    """A snapshot of an informer's health.

    Attributes:
        name: the informer's name.
        started: whether it was started.
        stopped: whether it was stopped.
        has_synced: whether the cache was filled from a complete list.
        resource_version: the resourceVersion the cache is at (the last synced one); ``""`` before the first list.
        objects: how many objects the cache holds.
        lists: complete lists applied (the initial list, then one per relist).
        events: watch events applied (added, modified, deleted).
        bookmarks: bookmarks recorded.
        resyncs: resyncs replayed to handlers.
        watching: whether the reflector has a watch open.
        last_error: the reflector's last error as ``"Type: message"``, or ``None``; kept after recovery.
        current_error: the error the reflector has not got past yet (failures since its last progress), or
            ``None`` once a whole state, an event or a bookmark came after it: recovered.
        last_error_age: seconds since ``last_error``; ``None`` without one.
        staleness: seconds since the server last confirmed the cache (the last event, bookmark, list, or watch
            opened from the cache's resourceVersion); ``None`` before the first. The reflector renews a watch
            silent for its ``stall_timeout`` (65 s by default), which replaces a dead or frozen connection, so well
            over that means the server cannot be reached; ``current_error`` then says why.
        watch_restarts: how many times the reflector reopened its watch.
        reflector: the reflector's own status snapshot, ``None`` before start.
        handlers: each handler's queue depth, deliveries and errors, in registration order.

    Thread-safety: immutable.
    """

    name: str
    started: bool
    stopped: bool
    has_synced: bool
    resource_version: str
    objects: int
    lists: int
    events: int
    bookmarks: int
    resyncs: int
    watching: bool
    last_error: str | None
    watch_restarts: int
    reflector: ReflectorStatusView | None
    handlers: tuple[HandlerHealth, ...]
    current_error: str | None = None
    last_error_age: float | None = None
    staleness: float | None = None

    @property
    def relists(self) -> int:
        """Lists after the initial one (after an expired resourceVersion or a failed watch)."""
        return max(self.lists - 1, 0)

    @property
    def handler_queue_depth(self) -> int:
        """Notifications waiting across all handlers."""
        return sum(handler.queue_depth for handler in self.handlers)

    @property
    def handler_errors(self) -> int:
        """Exceptions raised across all handlers."""
        return sum(handler.errors for handler in self.handlers)


__all__ = ["InformerHealth", "ReflectorStatusView"]

"""The fake API server's storage: objects by resource, a revision counter and the history of changes.

It plays etcd and the watch cache at once. Every write gets the next revision (one counter for every resource, as
etcd's revision is), is kept in the history, and is handed to the open watches. Reads at an older revision
(continue tokens, ``resourceVersionMatch=Exact``) roll the current state back through the history; a revision
older than the last :meth:`ObjectStore.compact` is gone, as after an etcd compaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from dynaclient._types import JSONObject

GroupResource = tuple[str, str]
ObjectKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
ChangeType = Literal["ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True, slots=True)
class Change:
    """One committed write.

    Attributes:
        revision: the revision it was committed at (the object's ``resourceVersion``).
        type: what happened.
        group_resource: the resource written.
        key: namespace and name.
        object: the object after the write; for ``DELETED``, its last state stamped with ``revision``.
        previous: the object before the write, or ``None`` for ``ADDED``.

    Thread-safety: immutable; the dicts are never mutated once committed.
    """

    revision: int
    type: ChangeType
    group_resource: GroupResource
    key: ObjectKey
    object: JSONObject
    previous: JSONObject | None


class RevisionGone(Exception):
    """A read or watch asked for a revision older than the last compaction.

    Thread-safety: immutable once raised.
    """

    def __init__(self, revision: int, compacted: int) -> None:
        super().__init__(f"revision {revision} is older than the compacted revision {compacted}")
        self.revision = revision
        self.compacted = compacted


class ObjectStore:
    """Objects, revisions and history of one fake API server.

    Committed dicts are never mutated: readers may hold them without copying (the server encodes them to JSON
    before they leave it).

    Thread-safety: thread-safe. Every method takes the store's lock; :meth:`locked` holds it across a
    read-modify-write. Subscribers are called with the lock held and must only enqueue.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._objects: dict[GroupResource, dict[ObjectKey, JSONObject]] = {}
        self._history: list[Change] = []
        self._subscribers: list[Callable[[Change], None]] = []
        self.revision = 0
        self.compacted = 0

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the lock: what is read inside stays current until the block ends."""
        with self._lock:
            yield

    def get(self, group_resource: GroupResource, key: ObjectKey) -> JSONObject | None:
        """Return the current object, or ``None``."""
        with self._lock:
            return self._objects.get(group_resource, {}).get(key)

    def items(self, group_resource: GroupResource, revision: int | None = None) -> list[tuple[ObjectKey, JSONObject]]:
        """Return the objects as of ``revision`` (default: now), sorted by key.

        Raises:
            RevisionGone: ``revision`` is older than the last compaction.
        """
        with self._lock:
            current = dict(self._objects.get(group_resource, {}))
            if revision is not None and revision < self.revision:
                if revision < self.compacted:
                    raise RevisionGone(revision, self.compacted)
                for change in reversed(self._history):
                    if change.revision <= revision:
                        break
                    if change.group_resource != group_resource:
                        continue
                    if change.previous is None:
                        current.pop(change.key, None)
                    else:
                        current[change.key] = change.previous
            return sorted(current.items())

    def commit(
        self, change_type: ChangeType, group_resource: GroupResource, key: ObjectKey, stamp: Callable[[str], JSONObject]
    ) -> JSONObject:
        """Write the next revision: ``stamp(resource_version)`` returns the object to store (or the deleted one)."""
        with self._lock:
            self.revision += 1
            obj = stamp(str(self.revision))
            objects = self._objects.setdefault(group_resource, {})
            previous = objects.get(key)
            if change_type == "DELETED":
                del objects[key]
            else:
                objects[key] = obj
            change = Change(self.revision, change_type, group_resource, key, obj, previous)
            self._history.append(change)
            for subscriber in self._subscribers:
                subscriber(change)
            return obj

    def subscribe(self, since: int, subscriber: Callable[[Change], None]) -> Callable[[], None]:
        """Hand ``subscriber`` every change after revision ``since``, the past ones first; return the unsubscriber.

        As an etcd watch, which starts at ``since + 1``, it needs the history from there on: the change at the
        compacted revision itself is kept.

        Raises:
            RevisionGone: ``since + 1`` is older than the last compaction.
        """
        with self._lock:
            if since + 1 < self.compacted:
                raise RevisionGone(since, self.compacted)
            for change in self._history:
                if change.revision > since:
                    subscriber(change)
            # A watch from a future revision sees nothing until the store gets there.
            subscriber = _after(since, subscriber) if since > self.revision else subscriber
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def compact(self, revision: int | None = None) -> int:
        """Forget the history up to ``revision`` (default: now), as an etcd compaction does; return it."""
        with self._lock:
            target = self.revision if revision is None else min(revision, self.revision)
            self.compacted = max(self.compacted, target)
            self._history = [change for change in self._history if change.revision >= self.compacted]
            return self.compacted


def _after(revision: int, subscriber: Callable[[Change], None]) -> Callable[[Change], None]:
    def filtered(change: Change) -> None:
        if change.revision > revision:
            subscriber(change)

    return filtered


__all__ = ["Change", "ChangeType", "GroupResource", "ObjectKey", "ObjectStore", "RevisionGone"]

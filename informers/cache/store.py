"""The thread-safe indexed cache an informer keeps: objects by ``namespace/name`` key, plus secondary indices."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dynaclient import JSONObject
from informers.cache.index import Indexers, IndexFunc, Indices
from informers.cache.keys import KeyFunc, meta_namespace_key
from informers.cache.mutation import MutationDetector, detection_enabled_by_env, raise_if_mutated
from informers.handlers import DeletedFinalStateUnknown

if TYPE_CHECKING:
    # SortedDict is a dict subclass whose keys(), values() and items() iterate in key order; sortedcontainers
    # ships no type information, so type checkers see it through its dict interface.
    _SortedItems = dict[str, JSONObject]
else:
    from sortedcontainers import SortedDict as _SortedItems


@dataclass(frozen=True, slots=True)
class ReplaceDiff:
    """What a :meth:`Store.replace` changed, computed during the swap, so an informer can emit events for a relist.

    ``added``, ``updated`` and ``unchanged`` follow the order of the replacing items; ``deleted`` is in key order.
    An object counts as updated when its ``metadata.resourceVersion`` differs from the cached one (or, when either
    lacks one, when the objects differ). The informer sends ``unchanged`` pairs only to handlers that want resyncs
    (client-go shared_informer.go ``OnUpdate``: an update with an unchanged resourceVersion is a sync) and a
    :class:`~informers.handlers.DeletedFinalStateUnknown` tombstone for each ``deleted`` pair.

    Attributes:
        added: ``(key, new)`` for keys that were not cached.
        updated: ``(key, old, new)`` for cached keys whose object changed.
        deleted: ``(key, old)`` for cached keys the replacing items lack; ``old`` is the last known state.
        unchanged: ``(key, old, new)`` for cached keys whose object kept its resourceVersion.

    Thread-safety: immutable (the objects it holds are shared and read-only by contract).
    """

    added: tuple[tuple[str, JSONObject], ...] = ()
    updated: tuple[tuple[str, JSONObject, JSONObject], ...] = ()
    deleted: tuple[tuple[str, JSONObject], ...] = ()
    unchanged: tuple[tuple[str, JSONObject, JSONObject], ...] = ()

    def __repr__(self) -> str:
        counts = (len(self.added), len(self.updated), len(self.deleted), len(self.unchanged))
        return "ReplaceDiff(added={}, updated={}, deleted={}, unchanged={})".format(*counts)


class StoreReader(Protocol):
    """The read side of a :class:`Store`: what an informer hands to listers and user code (kube-rs ``Store``).

    Objects returned are shared with the cache and must not be modified (see :class:`Store`).

    Thread-safety: implementations are thread-safe.
    """

    @property
    def resource_version(self) -> str:
        """The resourceVersion of the last replace, write or bookmark; ``""`` before any."""
        ...

    def get(self, obj: JSONObject) -> JSONObject | None:
        """Return the cached object with the same key as ``obj``, or ``None``."""
        ...

    def get_by_key(self, key: str) -> JSONObject | None:
        """Return the cached object with key ``key``, or ``None``."""
        ...

    def list(self) -> builtins.list[JSONObject]:
        """Return every cached object, sorted by key."""
        ...

    def list_keys(self) -> builtins.list[str]:
        """Return every key, sorted."""
        ...

    def by_index(self, index_name: str, value: str) -> builtins.list[JSONObject]:
        """Return the objects indexed under ``value`` in ``index_name``, sorted by key."""
        ...

    def index_keys(self, index_name: str, value: str) -> builtins.list[str]:
        """Return the keys indexed under ``value`` in ``index_name``, sorted."""
        ...

    def list_index_values(self, index_name: str) -> builtins.list[str]:
        """Return the values of ``index_name`` that index at least one object, sorted."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


class Store:
    """A thread-safe cache of Kubernetes objects by ``namespace/name`` key, with secondary indices.

    This is client-go's ``ThreadSafeStore`` plus ``Indexer`` (tools/cache/thread_safe_store.go, index.go) with the
    kube-rs reader/writer split (kube-runtime reflector/store.rs): one writer (the informer) calls :meth:`add`,
    :meth:`update`, :meth:`delete`, :meth:`replace` and :meth:`update_resource_version`; any number of threads
    read. Writers are serialised by a writer lock; readers take a short lock that a writer holds only while it
    swaps state in, so index functions and relist preparation never block readers. A :meth:`replace` builds the
    new items and indices aside and swaps them in at once: a reader sees all of the old list or all of the new.

    **TL;DR: do not modify anything this store returns** (client-go thread_safe_store.go). Objects are shared,
    not copied: the one you get is the one the cache holds and other handlers see, and modifying it corrupts the
    cache and its indices. Deep-copy before changing. With ``detect_mutation=True`` (or the environment variable
    ``DYNACLIENT_DETECT_MUTATION=1``) the store keeps a canonical JSON fingerprint of each object and raises
    :class:`~informers.exceptions.MutationDetectedError` from :meth:`check_mutations`, and from any write that
    replaces or removes a modified object (the write itself is applied first). It costs a JSON encoding per write:
    use it in tests.

    Index functions run on the writer's thread while the writer lock is held: they must be pure, fast, do no I/O
    and not call back into the store.

    Thread-safety: thread-safe.

    >>> store = Store({"namespace": lambda obj: [obj["metadata"].get("namespace", "")]})
    >>> store.add({"metadata": {"namespace": "prod", "name": "web", "resourceVersion": "7"}})
    >>> store.list_keys(), store.index_keys("namespace", "prod"), store.resource_version
    (['prod/web'], ['prod/web'], '7')
    """

    def __init__(
        self,
        indexers: Indexers | None = None,
        *,
        key_func: KeyFunc = meta_namespace_key,
        detect_mutation: bool | None = None,
    ) -> None:
        """Create an empty store.

        Args:
            indexers: index functions by index name.
            key_func: computes an object's key; the default gives ``namespace/name``.
            detect_mutation: keep fingerprints to detect modified objects; ``None`` reads
                ``DYNACLIENT_DETECT_MUTATION`` (``1``, ``true`` or ``yes`` turn it on).
        """
        if detect_mutation is None:
            detect_mutation = detection_enabled_by_env()
        self._key_func = key_func
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._items: dict[str, JSONObject] = _SortedItems()
        self._indices = Indices(indexers)
        self._resource_version = ""
        self._detector = MutationDetector() if detect_mutation else None

    # -- reads -------------------------------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        """The resourceVersion of the last replace, write or bookmark; ``""`` before any."""
        with self._lock:
            return self._resource_version

    @property
    def indexers(self) -> dict[str, IndexFunc]:
        """A copy of the index functions by name."""
        with self._lock:
            return self._indices.indexers

    @property
    def detects_mutation(self) -> bool:
        """Whether this store keeps fingerprints to detect modified objects."""
        return self._detector is not None

    def key_of(self, obj: JSONObject | DeletedFinalStateUnknown) -> str:
        """Return the key this store files ``obj`` under.

        Raises:
            KeyFuncError: the object has no usable key.
        """
        return self._key_func(obj)

    def get(self, obj: JSONObject) -> JSONObject | None:
        """Return the cached object with the same key as ``obj`` (which may hold only the metadata), or ``None``.

        Raises:
            KeyFuncError: ``obj`` has no usable key.
        """
        return self.get_by_key(self._key_func(obj))

    def get_by_key(self, key: str) -> JSONObject | None:
        """Return the cached object with key ``key`` (``namespace/name`` or ``name``), or ``None``."""
        with self._lock:
            return self._items.get(key)

    def list(self) -> builtins.list[JSONObject]:
        """Return every cached object, sorted by key (a new list of shared objects)."""
        with self._lock:
            return builtins.list(self._items.values())

    def list_keys(self) -> builtins.list[str]:
        """Return every key, sorted."""
        with self._lock:
            return builtins.list(self._items.keys())

    def by_index(self, index_name: str, value: str) -> builtins.list[JSONObject]:
        """Return the objects indexed under ``value`` in ``index_name``, sorted by key.

        Costs O(m log m) for m matches, whatever the size of the store.

        Raises:
            IndexNotFoundError: no index is named ``index_name``.
        """
        with self._lock:
            return [self._items[key] for key in sorted(self._indices.keys(index_name, value))]

    def index_keys(self, index_name: str, value: str) -> builtins.list[str]:
        """Return the keys indexed under ``value`` in ``index_name``, sorted.

        Raises:
            IndexNotFoundError: no index is named ``index_name``.
        """
        with self._lock:
            return sorted(self._indices.keys(index_name, value))

    def list_index_values(self, index_name: str) -> builtins.list[str]:
        """Return the values of ``index_name`` that index at least one object, sorted.

        Raises:
            IndexNotFoundError: no index is named ``index_name``.
        """
        with self._lock:
            return self._indices.values(index_name)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __repr__(self) -> str:
        with self._lock:
            names = sorted(self._indices.indexers)
            return f"Store(items={len(self._items)}, indices={names}, resource_version={self._resource_version!r})"

    # -- writes ------------------------------------------------------------------------------------------------

    def add(self, obj: JSONObject) -> JSONObject | None:
        """Insert or replace ``obj`` under its key; return the object it replaced, or ``None``.

        The store takes ownership of ``obj``: the caller must not modify it afterwards.

        Raises:
            KeyFuncError: ``obj`` has no usable key.
            MutationDetectedError: with mutation detection on, the replaced object had been modified.
            Exception: whatever an index function raises; the store is then unchanged.
        """
        key = self._key_func(obj)
        with self._write_lock:
            values = self._indices.compute(key, obj)
            with self._lock:
                old = self._items.get(key)
                self._items[key] = obj
                self._indices.assign(key, values)
                self._resource_version = _resource_version_of(obj) or self._resource_version
            mutated = self._track_locked(key, old, obj)
        raise_if_mutated(mutated)
        return old

    def update(self, obj: JSONObject) -> JSONObject | None:
        """Insert or replace ``obj``; the same as :meth:`add`, as in client-go."""
        return self.add(obj)

    def delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> JSONObject | None:
        """Remove the object with the key of ``obj`` (or of a tombstone); return it, or ``None`` if absent.

        Raises:
            KeyFuncError: ``obj`` has no usable key.
            MutationDetectedError: with mutation detection on, the removed object had been modified.
        """
        key = self._key_func(obj)
        version = "" if isinstance(obj, DeletedFinalStateUnknown) else _resource_version_of(obj)
        with self._write_lock:
            with self._lock:
                old = self._items.pop(key, None)
                if old is not None:
                    self._indices.assign(key, {})
                self._resource_version = version or self._resource_version
            mutated = self._track_locked(key, old, None)
        raise_if_mutated(mutated)
        return old

    def replace(self, items: Mapping[str, JSONObject], resource_version: str) -> ReplaceDiff:
        """Replace the whole content with ``items`` (key -> object) at once, and return what changed.

        The new items and indices are built before the store is locked for readers, then swapped in together, so
        readers see either the old content or the new (client-go ``Replace`` rebuilds every index; kube-rs swaps
        its buffer on ``InitDone``). Keys must be what the store's key function gives for each object. The store
        takes ownership of the objects.

        Args:
            items: the complete new content, by key, in list order.
            resource_version: the resourceVersion of the list.

        Returns:
            The added, updated, deleted and unchanged objects.

        Raises:
            MutationDetectedError: with mutation detection on, a replaced or removed object had been modified.
            Exception: whatever an index function raises; the store is then unchanged.
        """
        new_items: dict[str, JSONObject] = _SortedItems(items)
        with self._write_lock:
            # Index from ``items``: a SortedDict's items() view iterates in Python, one generator step per object.
            indices = Indices.build(self._indices.indexers, items.items())
            # Only writers change self._items and this one holds the writer lock: reading it unlocked is safe.
            diff = _diff(self._items, items)
            mutated = self._check_mutations_locked()
            with self._lock:
                self._items, self._indices = new_items, indices
                self._resource_version = resource_version
            if self._detector is not None:
                self._detector.reset(new_items.items())
        raise_if_mutated(mutated)
        return diff

    def update_resource_version(self, resource_version: str) -> None:
        """Record the resourceVersion of a bookmark, which changes no object."""
        with self._write_lock, self._lock:
            self._resource_version = resource_version

    def add_indexers(self, indexers: Indexers) -> None:
        """Register more indices and build them over the current content.

        Raises:
            IndexConflictError: one of the names is already registered; nothing is added.
            Exception: whatever an index function raises; nothing is added.
        """
        with self._write_lock:
            self._indices.check_new(indexers)
            # As in replace, the writer lock keeps self._items still while the new indices are built.
            added = Indices.build(indexers, self._items.items())
            with self._lock:
                self._indices.absorb(added)

    def check_mutations(self) -> None:
        """Raise if any cached object changed since it was stored; a no-op without mutation detection.

        Raises:
            MutationDetectedError: names the keys of the modified objects.
        """
        with self._write_lock:
            mutated = self._check_mutations_locked()
        raise_if_mutated(mutated)

    # -- mutation detection (callers hold the writer lock) -----------------------------------------------------

    def _track_locked(self, key: str, old: JSONObject | None, new: JSONObject | None) -> builtins.list[str]:
        return [] if self._detector is None else self._detector.track(key, old, new)

    def _check_mutations_locked(self) -> builtins.list[str]:
        return [] if self._detector is None else self._detector.check(self._items.items())


def _diff(old_items: Mapping[str, JSONObject], new_items: Mapping[str, JSONObject]) -> ReplaceDiff:
    if not old_items:  # the first list: everything is added, and the pairs are built without a Python-level loop
        return ReplaceDiff(added=tuple(new_items.items()))
    added: builtins.list[tuple[str, JSONObject]] = []
    updated: builtins.list[tuple[str, JSONObject, JSONObject]] = []
    unchanged: builtins.list[tuple[str, JSONObject, JSONObject]] = []
    for key, new in new_items.items():
        old = old_items.get(key)
        if old is None:
            added.append((key, new))
        elif _changed(old, new):
            updated.append((key, old, new))
        else:
            unchanged.append((key, old, new))
    deleted = tuple((key, old) for key, old in old_items.items() if key not in new_items)
    return ReplaceDiff(tuple(added), tuple(updated), deleted, tuple(unchanged))


def _changed(old: JSONObject, new: JSONObject) -> bool:
    if old is new:
        return False
    old_version, new_version = _resource_version_of(old), _resource_version_of(new)
    if old_version and new_version:
        return old_version != new_version
    return old != new


def _resource_version_of(obj: JSONObject) -> str:
    metadata = obj.get("metadata")
    version = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
    return version if isinstance(version, str) else ""


__all__ = ["ReplaceDiff", "Store", "StoreReader"]

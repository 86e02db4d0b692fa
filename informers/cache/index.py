"""Index functions and the index tables a store maintains: index name -> value -> keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from dynaclient import JSONObject
from informers.exceptions import IndexConflictError, IndexNotFoundError

IndexFunc = Callable[[JSONObject], list[str]]
"""Compute the values under which an object is indexed; several values are allowed, none means "not indexed".

An index function runs while the store's writer lock is held, on every write: it must be pure and fast, do no
I/O, and must not modify the object or call back into the store.
"""

Indexers = Mapping[str, IndexFunc]
"""Index functions by index name."""

NAMESPACE_INDEX = "namespace"
"""The conventional name of the :func:`namespace_index` index (client-go ``cache.NamespaceIndex``)."""

LABELS_INDEX = "labels"
"""The conventional name of the :func:`labels_index` index."""


def namespace_index(obj: JSONObject) -> list[str]:
    """Index an object by its namespace (client-go tools/cache/index.go ``MetaNamespaceIndexFunc``).

    As in client-go, a cluster-scoped object is indexed under ``""``.

    >>> namespace_index({"metadata": {"name": "web", "namespace": "prod"}})
    ['prod']
    >>> namespace_index({"metadata": {"name": "node-1"}})
    ['']
    """
    metadata = obj.get("metadata")  # _metadata() inlined: this runs for every object of every informer
    namespace = (metadata.get("namespace") if isinstance(metadata, dict) else None) or ""
    return [namespace] if isinstance(namespace, str) else []


def label_index(label: str) -> IndexFunc:
    """Return an index function that indexes objects by the value of the label ``label``.

    Objects without the label are not indexed; a label with an empty value is indexed under ``""``.

    >>> by_app = label_index("app")
    >>> by_app({"metadata": {"name": "a", "labels": {"app": "web"}}})
    ['web']
    >>> by_app({"metadata": {"name": "b"}})
    []
    """

    def index_by_label(obj: JSONObject) -> list[str]:
        value = _labels(obj).get(label)
        return [value] if isinstance(value, str) else []

    index_by_label.__name__ = index_by_label.__qualname__ = f"label_index({label!r})"
    return index_by_label


def labels_index(obj: JSONObject) -> list[str]:
    """Index an object under ``"key=value"`` for each of its labels, so one index answers any label lookup.

    >>> labels_index({"metadata": {"name": "a", "labels": {"tier": "db", "app": "web"}}})
    ['app=web', 'tier=db']
    """
    return sorted(f"{key}={value}" for key, value in _labels(obj).items() if isinstance(value, str))


def _metadata(obj: JSONObject) -> JSONObject:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _labels(obj: JSONObject) -> JSONObject:
    labels = _metadata(obj).get("labels")
    return labels if isinstance(labels, dict) else {}


IndexValues = dict[str, tuple[str, ...]]
"""The values one object has in each index that indexes it (index name -> values)."""


class Indices:
    """The index tables of a store: for each index, value -> keys, plus each key's current values.

    Keeping each key's values means a write or delete never re-runs index functions on the old object, so the
    tables stay consistent even if someone broke the contract and modified a cached object. Values whose key set
    becomes empty are removed (client-go thread_safe_store.go ``updateSingleIndex``).

    Thread-safety: confined: the owning store reads it under its lock, computes values while holding its writer
    lock and writes it while holding both locks.
    """

    def __init__(self, indexers: Indexers | None = None) -> None:
        self._indexers: dict[str, IndexFunc] = dict(indexers or {})
        self._keys: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}
        self._values: dict[str, IndexValues] = {}
        self._previous: IndexValues = {}

    @classmethod
    def build(cls, indexers: Indexers, items: Iterable[tuple[str, JSONObject]]) -> Indices:
        """Build the tables for ``indexers`` over ``(key, object)`` pairs.

        Raises:
            Exception: whatever an index function raises, with a note naming the index and key.
        """
        indices = cls(indexers)
        tables, values_of = indices._keys, indices._values
        for key, obj in items:  # assign() for keys not indexed yet, inlined: a relist indexes every object
            values = indices.compute(key, obj)
            if not values:
                continue
            values_of[key] = values
            for name, index_values in values.items():
                table = tables[name]
                for value in index_values:
                    if (keys := table.get(value)) is None:
                        table[value] = {key}
                    else:
                        keys.add(key)
        return indices

    @property
    def indexers(self) -> dict[str, IndexFunc]:
        """A copy of the index functions by name."""
        return dict(self._indexers)

    def compute(self, key: str, obj: JSONObject) -> IndexValues:
        """Run every index function on ``obj``; touches no table, so it may run before the store is locked.

        Raises:
            TypeError: an index function returned a string or a non-string value.
            Exception: whatever an index function raises, with a note naming the index and key.
        """
        result: IndexValues = {}
        for name, func in self._indexers.items():
            try:
                found = func(obj)
                # The common case, one string, checked inline; anything else by _checked_values.
                if type(found) is list and len(found) == 1 and type(value := found[0]) is str:
                    values: tuple[str, ...] = (value,)
                else:
                    values = _checked_values(found)
            except Exception as exc:
                exc.add_note(f"while computing index {name!r} for key {key!r}")
                raise
            if values:
                result[name] = values
        if result == self._previous:
            # Neighbours often have the same values (one namespace): keep one dict for them. These dicts are never
            # modified, only replaced.
            return self._previous
        self._previous = result
        return result

    def assign(self, key: str, values: IndexValues) -> None:
        """Make ``values`` the index values of ``key`` (``{}`` removes the key from every index)."""
        old = self._values.pop(key, {})
        for name, old_values in old.items():
            table = self._keys[name]
            for value in old_values:
                keys = table[value]
                keys.discard(key)
                if not keys:
                    del table[value]
        for name, new_values in values.items():
            table = self._keys[name]
            for value in new_values:
                table.setdefault(value, set()).add(key)
        if values:
            self._values[key] = values

    def absorb(self, other: Indices) -> None:
        """Add the indices of ``other``, built over the same keys, to these.

        Raises:
            IndexConflictError: an index of ``other`` already exists here.
        """
        self.check_new(other._indexers)
        self._indexers.update(other._indexers)
        self._keys.update(other._keys)
        for key, values in other._values.items():
            self._values[key] = {**self._values.get(key, {}), **values}  # a new dict: they may be shared

    def check_new(self, indexers: Indexers) -> None:
        """Raise :class:`IndexConflictError` if one of ``indexers`` is already registered."""
        conflicts = sorted(set(indexers) & set(self._indexers))
        if conflicts:
            raise IndexConflictError(f"indexer conflict: indices {conflicts} already exist")

    def keys(self, index_name: str, value: str) -> set[str]:
        """Return the keys indexed under ``value`` (the live set: copy it before releasing the lock).

        Raises:
            IndexNotFoundError: no index is named ``index_name``.
        """
        return self._table(index_name).get(value, _EMPTY)

    def values(self, index_name: str) -> list[str]:
        """Return the sorted values that have at least one key in ``index_name``.

        Raises:
            IndexNotFoundError: no index is named ``index_name``.
        """
        return sorted(self._table(index_name))

    def _table(self, index_name: str) -> dict[str, set[str]]:
        table = self._keys.get(index_name)
        if table is None:
            raise IndexNotFoundError(f"index with name {index_name!r} does not exist")
        return table


_EMPTY: set[str] = set()


def _checked_values(values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"an index function must return a list of strings, got a {type(values).__name__}")
    for value in values:
        if not isinstance(value, str):
            raise TypeError(f"an index function must return a list of strings, got a {type(value).__name__} value")
    return tuple(dict.fromkeys(values))


__all__ = [
    "LABELS_INDEX",
    "NAMESPACE_INDEX",
    "IndexFunc",
    "IndexValues",
    "Indexers",
    "Indices",
    "label_index",
    "labels_index",
    "namespace_index",
]

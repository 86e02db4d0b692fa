"""Event handlers: the ``EventHandler`` protocol, a function adapter, a filtering wrapper and the tombstone.

Handlers are called on their own delivery thread (see :mod:`informers.processor`), one notification at a time, in
the order the informer saw the changes. The objects they receive are shared with the cache: never modify them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dynaclient import JSONObject, get_annotations, get_labels, label_selector, parse_label_selector


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """A delete the informer inferred from a relist instead of seeing it on the watch.

    When the watch is interrupted and the relist no longer contains an object, its final state is unknown: it may
    have been changed before it was deleted. Handlers then receive this tombstone in ``on_delete`` instead of the
    object; ``obj`` is the last state the cache knew, which may be stale (client-go
    tools/cache/delta_fifo.go ``DeletedFinalStateUnknown``, same name and meaning so client-go code ports directly).

    The repr shows the key only: the object may be a Secret.

    Attributes:
        key: the ``namespace/name`` key of the deleted object.
        obj: the last known state of the object; shared with the cache, do not modify.

    Thread-safety: immutable (the object it carries is read-only by contract).

    >>> DeletedFinalStateUnknown("default/web", {"metadata": {"name": "web", "namespace": "default"}})
    DeletedFinalStateUnknown(key='default/web')
    """

    key: str
    obj: JSONObject = field(repr=False)


AddFunc = Callable[[JSONObject, bool], None] | Callable[[JSONObject], Any]
"""``on_add(obj, is_initial)``, or ``on_add(obj)`` for a callable taking one required argument (``queue.put``)."""

UpdateFunc = Callable[[JSONObject, JSONObject], None] | Callable[[JSONObject], Any]
"""``on_update(old, new)``, or ``on_update(new)`` for a callable taking one required argument (``queue.put``)."""

DeleteFunc = Callable[[JSONObject | DeletedFinalStateUnknown], None]
"""``on_delete(obj)``: ``obj`` is a :class:`DeletedFinalStateUnknown` when the delete was inferred from a relist."""

Predicate = Callable[[JSONObject], bool]
"""A filter for :class:`FilteringEventHandler`; for a tombstone it gets the tombstone's last known object."""


class EventHandler(Protocol):
    """What an informer notifies (client-go tools/cache/controller.go ``ResourceEventHandler``).

    The callbacks run on the handler's own delivery thread, never while the informer holds a lock. An exception
    is logged and counted and delivery continues with the next notification.

    Thread-safety: an implementation is called from one delivery thread at a time.
    """

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        """Handle an object that appeared; ``is_initial`` is true for the objects of the initial list."""
        ...

    def on_update(self, old: JSONObject, new: JSONObject) -> None:
        """Handle a changed object; on a resync ``old`` and ``new`` are the same object."""
        ...

    def on_delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> None:
        """Handle a deleted object, or a :class:`DeletedFinalStateUnknown` for a delete inferred from a relist."""
        ...


class FunctionHandler:
    """An :class:`EventHandler` made of optional functions; a missing one ignores its notifications.

    client-go ``ResourceEventHandlerDetailedFuncs``: ``on_add`` receives ``is_initial`` and ``on_update`` both
    objects. A callable that takes one required positional argument and has no parameter named ``is_initial``
    (``queue.put``, ``list.append``, ``lambda obj: ...``) gets the object alone: ``on_add(obj)`` and
    ``on_update(new)``. ``on_add=queue.put`` therefore queues the object and keeps ``put``'s blocking default,
    where passing ``is_initial`` would have set its ``block`` argument.

    Thread-safety: immutable (the functions are called from one delivery thread at a time).

    >>> seen = []
    >>> handler = FunctionHandler(on_add=lambda obj, is_initial: seen.append((obj["metadata"]["name"], is_initial)))
    >>> handler.on_add({"metadata": {"name": "web"}}, True)
    >>> handler.on_delete({"metadata": {"name": "web"}})
    >>> seen
    [('web', True)]
    >>> names = []
    >>> FunctionHandler(on_add=names.append).on_add({"metadata": {"name": "db"}}, False)
    >>> names
    [{'metadata': {'name': 'db'}}]
    """

    __slots__ = ("_add", "_add_takes_flag", "_delete", "_update", "_update_takes_old")

    def __init__(
        self, on_add: AddFunc | None = None, on_update: UpdateFunc | None = None, on_delete: DeleteFunc | None = None
    ) -> None:
        """Wrap the given callbacks."""
        self._add = on_add
        self._update = on_update
        self._delete = on_delete
        self._add_takes_flag = on_add is not None and _takes_two(on_add, "is_initial")
        self._update_takes_old = on_update is not None and _takes_two(on_update, "old")

    def __repr__(self) -> str:
        given = [
            name
            for name, func in (("on_add", self._add), ("on_update", self._update), ("on_delete", self._delete))
            if func
        ]
        return f"FunctionHandler({', '.join(given)})"

    def on_add(self, obj: JSONObject, is_initial: bool) -> Any:
        """Call ``on_add(obj, is_initial)`` if it was given; return what it returns (a coroutine, if async)."""
        if self._add_takes_flag:
            return self._add(obj, is_initial)  # type: ignore[call-arg, misc]
        if self._add is not None:
            return self._add(obj)  # type: ignore[call-arg]
        return None

    def on_update(self, old: JSONObject, new: JSONObject) -> Any:
        """Call ``on_update(old, new)`` if it was given; return what it returns."""
        if self._update_takes_old:
            return self._update(old, new)  # type: ignore[call-arg, misc]
        if self._update is not None:
            return self._update(new)  # type: ignore[call-arg]
        return None

    def on_delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> Any:
        """Call ``on_delete(obj)`` if it was given; return what it returns."""
        return self._delete(obj) if self._delete is not None else None


@dataclass(frozen=True, slots=True)
class FilteringEventHandler:
    """Pass to ``handler`` only the objects ``predicate`` accepts; an update across the filter becomes an add or delete.

    client-go tools/cache/controller.go ``FilteringResourceEventHandler``:

    * ``on_add`` and ``on_delete`` pass when the predicate accepts the object;
    * ``on_update`` passes when both objects are accepted; when only the new one is, the handler gets
      ``on_add(new, False)``; when only the old one is, it gets ``on_delete(old)``, the plain object, not a tombstone.

    For a :class:`DeletedFinalStateUnknown` the predicate is given the tombstone's last known object and the handler
    the tombstone itself. client-go hands the tombstone to the filter, where a label check fails or raises on it and
    the filtered handler silently misses every delete inferred from a relist.

    The predicate runs on the delivery thread, so it may be slow without delaying other handlers.

    Attributes:
        predicate: accepts the objects the handler should see.
        handler: the handler that receives what passes.

    Thread-safety: immutable (called from one delivery thread at a time).

    >>> seen = []
    >>> inner = FunctionHandler(on_add=lambda obj, _: seen.append("add"), on_delete=lambda obj: seen.append("delete"))
    >>> web = FilteringEventHandler(lambda obj: obj["metadata"].get("labels") == {"app": "web"}, inner)
    >>> web.on_update({"metadata": {"name": "a"}}, {"metadata": {"name": "a", "labels": {"app": "web"}}})
    >>> web.on_update({"metadata": {"name": "a", "labels": {"app": "web"}}}, {"metadata": {"name": "a"}})
    >>> seen
    ['add', 'delete']
    """

    predicate: Predicate
    handler: EventHandler

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        """Forward the add if the object passes."""
        if self.predicate(obj):
            self.handler.on_add(obj, is_initial)

    def on_update(self, old: JSONObject, new: JSONObject) -> None:
        """Forward an update, or turn an update across the filter into an add or a delete."""
        old_passes, new_passes = self.predicate(old), self.predicate(new)
        if old_passes and new_passes:
            self.handler.on_update(old, new)
        elif new_passes:
            self.handler.on_add(new, False)
        elif old_passes:
            self.handler.on_delete(old)

    def on_delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> None:
        """Forward the delete if the object (for a tombstone, its last known object) passes."""
        if self.predicate(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj):
            self.handler.on_delete(obj)


def label_filter(selector: str | Mapping[str, Any]) -> Callable[[JSONObject | DeletedFinalStateUnknown], bool]:
    """Return a predicate: whether an object's labels match ``selector``; a tombstone is judged by its object.

    Args:
        selector: a label selector string or mapping, as :func:`dynaclient.label_selector` takes it.

    Raises:
        SelectorError: the selector is invalid (at once, not at the first object).

    >>> web = label_filter({"app": "web"})
    >>> web({"metadata": {"labels": {"app": "web"}}}), web(DeletedFinalStateUnknown("ns/a", {"metadata": {}}))
    (True, False)
    """
    requirements = parse_label_selector(label_selector(selector))

    def matches(obj: JSONObject | DeletedFinalStateUnknown) -> bool:
        labels = get_labels(_object_of(obj))
        return all(requirement.matches(labels) for requirement in requirements)

    return matches


def annotation_filter(annotations: Mapping[str, str | None]) -> Callable[[JSONObject | DeletedFinalStateUnknown], bool]:
    """Return a predicate: whether an object carries ``annotations``; a tombstone is judged by its object.

    Args:
        annotations: each key must be present; with a value other than ``None`` it must also be equal.

    >>> owned = annotation_filter({"example.com/owner": "team-a", "example.com/managed": None})
    >>> owned({"metadata": {"annotations": {"example.com/owner": "team-a", "example.com/managed": ""}}})
    True
    >>> owned(DeletedFinalStateUnknown("ns/a", {"metadata": {"annotations": {"example.com/owner": "team-b"}}}))
    False
    """
    wanted = dict(annotations)

    def matches(obj: JSONObject | DeletedFinalStateUnknown) -> bool:
        present = get_annotations(_object_of(obj))
        return all(key in present and (value is None or present[key] == value) for key, value in wanted.items())

    return matches


def _object_of(obj: JSONObject | DeletedFinalStateUnknown) -> JSONObject:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def _takes_two(func: Callable[..., Any], name: str) -> bool:
    """Whether ``func`` wants the two-argument form: two required positionals, or a parameter called ``name``."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # no signature (some builtins): the documented two-argument form
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.kind in positional and p.default is inspect.Parameter.empty]
    variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    return len(required) >= 2 or variadic or any(p.name == name for p in parameters)


__all__ = [
    "AddFunc",
    "DeleteFunc",
    "DeletedFinalStateUnknown",
    "EventHandler",
    "FilteringEventHandler",
    "FunctionHandler",
    "Predicate",
    "UpdateFunc",
    "annotation_filter",
    "label_filter",
]

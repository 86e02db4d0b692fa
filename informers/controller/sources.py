"""Turn informer events into requests: of the object itself, of its controller owner, or through a mapping.

controller-runtime pkg/handler: ``EnqueueRequestForObject``, ``EnqueueRequestForOwner(..., OnlyControllerOwner())``
and ``EnqueueRequestsFromMapFunc``. On an update the requests of the old and the new object are both enqueued, so
an object that changed owner reconciles both owners; tombstones are unwrapped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dynaclient import JSONObject, get_controller_of
from informers.controller.predicates import UpdatePredicate
from informers.controller.reconcile import Request
from informers.handlers import DeletedFinalStateUnknown

MapFunc = Callable[[JSONObject], Iterable[Request]]
"""Map a watched object to the requests it should trigger."""


def request_for_object(obj: JSONObject) -> list[Request]:
    """Map an object to its own request."""
    return [Request.for_object(obj)]


def requests_for_owner(group: str, kind: str, *, namespaced: bool = True) -> MapFunc:
    """Return a mapping from an object to its controller owner's request, when that owner is of ``group``/``kind``.

    The version of the reference is ignored (controller-runtime compares group and kind). The owner's namespace is
    the object's; it is empty for a cluster-scoped owner kind.

    >>> to_owner = requests_for_owner("example.com", "Sawtooth")
    >>> ref = {"apiVersion": "example.com/v1", "kind": "Sawtooth", "name": "a", "uid": "u", "controller": True}
    >>> to_owner({"metadata": {"name": "a-config", "namespace": "prod", "ownerReferences": [ref]}})
    [Request(namespace='prod', name='a')]
    """

    def map_to_owner(obj: JSONObject) -> list[Request]:
        reference = get_controller_of(obj)
        if reference is None or reference.get("kind") != kind:
            return []
        if str(reference.get("apiVersion", "")).rpartition("/")[0] != group:
            return []
        namespace = str((obj.get("metadata") or {}).get("namespace") or "") if namespaced else ""
        return [Request(namespace, str(reference.get("name") or ""))]

    return map_to_owner


class EnqueueHandler:
    """An informer event handler that maps each event to requests and hands them to ``enqueue``.

    Thread-safety: called from one informer delivery thread; ``enqueue`` must be thread-safe.
    """

    def __init__(
        self, map_func: MapFunc, enqueue: Callable[[Request], None], *, predicate: UpdatePredicate | None = None
    ) -> None:
        """Map events with ``map_func``; updates that fail ``predicate`` are skipped."""
        self._map = map_func
        self._enqueue = enqueue
        self._predicate = predicate

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        """Enqueue the object's requests."""
        for request in self._map(obj):
            self._enqueue(request)

    def on_update(self, old: JSONObject, new: JSONObject) -> None:
        """Enqueue the requests of the old and the new object, unless the predicate skips the update."""
        if self._predicate is not None and not self._predicate(old, new):
            return
        for request in dict.fromkeys([*self._map(old), *self._map(new)]):
            self._enqueue(request)

    def on_delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> None:
        """Enqueue the deleted object's requests (a tombstone's last known state is used)."""
        for request in self._map(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj):
            self._enqueue(request)


def informer_scope(namespace: str | None, label_selector: str | None, *, primary: bool) -> dict[str, str]:
    """Return the factory arguments of a controller's informer: its namespace, and its label selector if primary.

    The label selector narrows only the primary resource; owned and watched resources are seen whole.

    >>> informer_scope("prod", "app=web", primary=True)
    {'namespace': 'prod', 'label_selector': 'app=web'}
    >>> informer_scope(None, "app=web", primary=False)
    {}
    """
    scope: dict[str, str] = {}
    if namespace is not None:
        scope["namespace"] = namespace
    if primary and label_selector is not None:
        scope["label_selector"] = label_selector
    return scope


__all__ = ["EnqueueHandler", "MapFunc", "informer_scope", "request_for_object", "requests_for_owner"]

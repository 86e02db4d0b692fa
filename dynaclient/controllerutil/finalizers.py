"""Finalizers: check an object for one, and add or remove one on the server without clobbering others' writes.

Writes are merge patches carrying the object's ``resourceVersion``, so a concurrent change (another controller's
finalizer, say) makes the server answer 409 Conflict instead of being overwritten; the helpers then read the
object again and retry (:func:`~dynaclient.retry_on_conflict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.controllerutil.conflicts import retry_on_conflict
from dynaclient.exceptions import ConflictError, NotFoundError
from dynaclient.resources.client import ResourceClient


def has_finalizer(obj: Mapping[str, Any], finalizer: str) -> bool:
    """Tell whether ``obj`` lists ``finalizer`` (controller-runtime ``ContainsFinalizer``).

    >>> has_finalizer({"metadata": {"finalizers": ["a.example.com/x"]}}, "a.example.com/x")
    True
    >>> has_finalizer({"metadata": {"finalizers": None}}, "a.example.com/x")
    False
    """
    return finalizer in ((obj.get("metadata") or {}).get("finalizers") or [])


def add_finalizer(resource: ResourceClient, obj: JSONObject, finalizer: str) -> JSONObject:
    """Add ``finalizer`` to ``obj`` on the server and return the object written (``obj`` itself if already there).

    A deleting object takes no new finalizer (the server refuses them): it is returned unchanged.

    Args:
        resource: the client of the object's resource (namespaced or not: the object's namespace is used).
        obj: the object as last read; its ``resourceVersion`` makes the patch conditional.
        finalizer: the finalizer, a qualified name such as ``sawtooths.example.com/cleanup``.

    Raises:
        ConflictError: the object kept changing through every retry.
        NotFoundError: the object is gone.
    """
    return _patch_finalizers(resource, obj, finalizer, add=True)


def remove_finalizer(resource: ResourceClient, obj: JSONObject, finalizer: str) -> JSONObject:
    """Remove every occurrence of ``finalizer`` from ``obj`` on the server and return the object written.

    Removing the last finalizer of a deleting object lets the server delete it. An object already gone (a cache
    a write behind) counts as done: ``obj`` is returned.

    Raises:
        ConflictError: the object kept changing through every retry.
    """
    try:
        return _patch_finalizers(resource, obj, finalizer, add=False)
    except NotFoundError:
        return obj  # already gone: nothing holds it any more


def finalizers_patch(obj: Mapping[str, Any], finalizer: str, *, add: bool) -> JSONObject | None:
    """Return the merge patch that adds (or removes) ``finalizer`` on ``obj``, or ``None`` when none is needed.

    The patch carries ``obj``'s resourceVersion, so it fails with 409 if the object changed since. A deleting
    object takes no new finalizer (the server refuses them with 422): ``None``. Shared by the sync and async
    helpers.

    >>> finalizers_patch({"metadata": {"resourceVersion": "7", "finalizers": ["a/x"]}}, "b/y", add=True)
    {'metadata': {'resourceVersion': '7', 'finalizers': ['a/x', 'b/y']}}
    >>> finalizers_patch({"metadata": {"finalizers": ["a/x"]}}, "b/y", add=False) is None
    True
    """
    metadata = obj.get("metadata") or {}
    finalizers = list(metadata.get("finalizers") or [])
    if (finalizer in finalizers) == add or (add and metadata.get("deletionTimestamp")):
        return None
    wanted = [*finalizers, finalizer] if add else [f for f in finalizers if f != finalizer]
    return {"metadata": {"resourceVersion": metadata.get("resourceVersion"), "finalizers": wanted}}


def _patch_finalizers(resource: ResourceClient, obj: JSONObject, finalizer: str, *, add: bool) -> JSONObject:
    metadata = obj.get("metadata") or {}
    name, namespace = str(metadata.get("name") or ""), str(metadata.get("namespace") or "")
    client = resource.namespace(namespace) if namespace else resource
    current = [obj]

    def attempt() -> JSONObject:
        latest = current[0]
        patch = finalizers_patch(latest, finalizer, add=add)
        if patch is None:
            return latest
        try:
            return client.patch(name, patch, patch_type="merge")
        except ConflictError:
            current[0] = client.get(name)  # a conflict: retry on what the server holds now
            raise

    return retry_on_conflict(attempt)


__all__ = ["add_finalizer", "finalizers_patch", "has_finalizer", "remove_finalizer"]

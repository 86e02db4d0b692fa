"""The finalizer flow: apply while an object lives, clean up once when it is deleted (kube-rs ``finalizer()``).

Call :func:`finalizer` from a reconcile with the object read from the lister:

======================  ==========  ==========================================================================
has the finalizer       deleting    what happens
======================  ==========  ==========================================================================
no                      no          the finalizer is added, then ``apply`` runs on the object written
yes                     no          ``apply(obj)``
yes                     yes         ``cleanup(obj)``; only if it returns, the finalizer is removed
no                      yes         nothing: apply never ran, so there is nothing to clean up
======================  ==========  ==========================================================================

So once ``apply`` has started, ``cleanup`` must succeed before the object can disappear. kube-rs returns after
adding the finalizer and waits for the write's own event; applying at once saves a reconcile per new object and
works under predicates that skip metadata-only updates. Both must be idempotent,
and ``cleanup`` must cope with an ``apply`` that never finished. The writes are JSON patches that ``test`` the
finalizer list first (kube-rs kube-runtime/src/finalizer.rs), so a concurrent change to the list fails the write
(422) instead of dropping another controller's finalizer. The usual cause is a cache a write behind (the
controller's own finalizer write not seen yet): the flow then reads the object from the server and runs once more
on it, instead of failing the reconcile into a rate-limited retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from dynaclient import InvalidError, JSONObject, ResourceClient

R = TypeVar("R")


def finalizer(
    resource: ResourceClient,
    name: str,
    obj: JSONObject,
    *,
    apply: Callable[[JSONObject], R],
    cleanup: Callable[[JSONObject], R],
) -> R | None:
    """Run ``apply`` or ``cleanup`` for ``obj`` under the finalizer ``name`` (see the module's table).

    Args:
        resource: the client of the object's resource (the object's namespace is used).
        name: the finalizer, unique to this controller, e.g. ``sawtooths.example.com/cleanup``.
        obj: the object as last read.
        apply: brings the world in line with the living object; its result is returned.
        cleanup: undoes what ``apply`` did outside the object; its result is returned.

    Returns:
        What ``apply`` or ``cleanup`` returned; ``None`` for a deleting object that never had the finalizer.

    Raises:
        Exception: whatever ``apply`` or ``cleanup`` raised (the finalizer stays), or the API error of the patch.
    """
    try:
        return _finalize(resource, name, obj, apply, cleanup)
    except _StaleFinalizers:
        # A JSON patch test failed: the finalizer list on the server is not the one read. Once more on the server's.
        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace") or "")
        client = resource.namespace(namespace) if namespace else resource
        return _finalize(resource, name, client.get(str(metadata.get("name") or "")), apply, cleanup)


def _finalize(
    resource: ResourceClient,
    name: str,
    obj: JSONObject,
    apply: Callable[[JSONObject], R],
    cleanup: Callable[[JSONObject], R],
) -> R | None:
    metadata = obj.get("metadata") or {}
    finalizers = list(metadata.get("finalizers") or [])
    deleting = bool(metadata.get("deletionTimestamp"))
    namespace = str(metadata.get("namespace") or "")
    client = resource.namespace(namespace) if namespace else resource
    object_name = str(metadata.get("name") or "")
    if name in finalizers and not deleting:
        return apply(obj)
    if name in finalizers:
        result = cleanup(obj)
        index = finalizers.index(name)
        path = f"/metadata/finalizers/{index}"
        _patch(client, object_name, [{"op": "test", "path": path, "value": name}, {"op": "remove", "path": path}])
        return result
    if deleting:
        return None
    patch: list[dict[str, Any]]
    if finalizers:
        patch = [
            {"op": "test", "path": "/metadata/finalizers", "value": finalizers},
            {"op": "add", "path": "/metadata/finalizers/-", "value": name},
        ]
    else:
        # An absent list tests equal to null (kube-rs does the same); a list made empty by someone fails the test.
        patch = [
            {"op": "test", "path": "/metadata/finalizers", "value": None},
            {"op": "add", "path": "/metadata/finalizers", "value": [name]},
        ]
    return apply(_patch(client, object_name, patch))


class _StaleFinalizers(Exception):
    """The finalizer list on the server is not the one the patch tested."""


def _patch(client: ResourceClient, name: str, patch: list[dict[str, Any]]) -> JSONObject:
    try:
        return client.patch(name, patch, patch_type="json")
    except InvalidError as error:  # the server answers a failed JSON patch test with 422
        raise _StaleFinalizers(str(error)) from error


__all__ = ["finalizer"]

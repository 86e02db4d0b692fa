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

So once ``apply`` has started, ``cleanup`` must succeed before the object can disappear. Both must be idempotent,
and ``cleanup`` must cope with an ``apply`` that never finished. kube-rs returns after adding the finalizer and
waits for the write's own event; applying at once saves a reconcile per new object and works under predicates
that skip metadata-only updates.

The finalizer list is written with :func:`~dynaclient.add_finalizer` and :func:`~dynaclient.remove_finalizer`:
merge patches carrying the object's resourceVersion, so a concurrent change is a 409, never a lost finalizer of
another controller (kube-rs gets the same from JSON patch ``test`` operations). On a 409, usually a cache one write
behind (the controller's own finalizer write not seen yet), the object is read from the server and the write
retried, instead of failing the reconcile into a rate-limited retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

from dynaclient import JSONObject, ResourceClient, add_finalizer, has_finalizer, remove_finalizer

R = TypeVar("R")


FinalizerStep = Literal["add", "apply", "cleanup", "nothing"]
"""What :func:`finalizer` does for an object (the module's table); ``add`` then applies on the object written."""


def finalizer_step(obj: JSONObject, name: str) -> FinalizerStep:
    """Return the row of the module's table for ``obj`` (shared by the sync and async flows).

    >>> finalizer_step({"metadata": {"finalizers": ["x/y"]}}, "x/y"), finalizer_step({"metadata": {}}, "x/y")
    ('apply', 'add')
    >>> finalizer_step({"metadata": {"deletionTimestamp": "t", "finalizers": ["x/y"]}}, "x/y")
    'cleanup'
    """
    deleting = bool((obj.get("metadata") or {}).get("deletionTimestamp"))
    if has_finalizer(obj, name):
        return "cleanup" if deleting else "apply"
    return "nothing" if deleting else "add"


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
        Exception: whatever ``apply`` or ``cleanup`` raised (the finalizer stays), or the API error of the write.
    """
    step = finalizer_step(obj, name)
    if step == "apply":
        return apply(obj)
    if step == "cleanup":
        result = cleanup(obj)
        remove_finalizer(resource, obj, name)
        return result
    if step == "nothing":
        return None
    written = add_finalizer(resource, obj, name)
    if (written.get("metadata") or {}).get("deletionTimestamp"):
        # Deleted meanwhile (the write re-read the object on a conflict): decide again on the object as it is.
        return finalizer(resource, name, written, apply=apply, cleanup=cleanup)
    return apply(written)


__all__ = ["FinalizerStep", "finalizer", "finalizer_step"]

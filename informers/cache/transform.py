"""Transforms: functions an informer applies to each object once, before it is stored and handed to handlers."""

from __future__ import annotations

from collections.abc import Callable

from dynaclient import JSONObject

Transform = Callable[[JSONObject], JSONObject]
"""Turn an object from the server into what the cache stores.

It runs once per object received, on the informer's reflector thread, before the object is stored: it may modify
the object in place and return it, since nothing else holds it yet (client-go shared_informer.go ``SetTransform``).
A paginated list's objects are transformed page by page as they arrive, so when a list fails partway (say, its
continue token expires) the objects already transformed are dropped and the relist's fresh objects are transformed.
It never sees a :class:`~informers.handlers.DeletedFinalStateUnknown` tombstone. An exception aborts the list or
event; the reflector then retries.
"""


def strip_managed_fields(obj: JSONObject) -> JSONObject:
    """Remove ``metadata.managedFields`` (server-side apply bookkeeping), often half of an object's size.

    The object is modified in place and returned, which suits a :data:`Transform`.

    >>> strip_managed_fields({"metadata": {"name": "web", "managedFields": [{"manager": "kubectl"}]}})
    {'metadata': {'name': 'web'}}
    >>> strip_managed_fields({"kind": "Status"})
    {'kind': 'Status'}
    """
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return obj


def chain_transforms(*transforms: Transform) -> Transform:
    """Return a transform that applies ``transforms`` in order.

    >>> drop_status = lambda obj: {key: value for key, value in obj.items() if key != "status"}
    >>> chain_transforms(strip_managed_fields, drop_status)({"metadata": {"managedFields": []}, "status": {}})
    {'metadata': {}}
    """

    def chained(obj: JSONObject) -> JSONObject:
        for transform in transforms:
            obj = transform(obj)
        return obj

    return chained


__all__ = ["Transform", "chain_transforms", "strip_managed_fields"]

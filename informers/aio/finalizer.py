"""The finalizer flow for ``async def`` reconciles: :func:`~informers.controller.finalizer` with awaited steps.

The table (:func:`~informers.controller.finalizer.finalizer_step`) and the patches
(:func:`~dynaclient.finalizers_patch`: merge patches carrying the resourceVersion) are the sync
flow's; on a 409 the object is read again and the write retried, as ``add_finalizer`` / ``remove_finalizer`` do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from dynaclient import ConflictError, JSONObject, NotFoundError, finalizers_patch
from dynaclient.aio import AsyncResourceClient
from informers.controller.finalizer import finalizer_step

R = TypeVar("R")

_CONFLICT_STEPS = 5
_CONFLICT_DELAY = 0.01
"""client-go util/retry ``DefaultRetry``: 5 attempts 10 ms apart (as :func:`~dynaclient.retry_on_conflict`)."""


async def finalizer(
    resource: AsyncResourceClient,
    name: str,
    obj: JSONObject,
    *,
    apply: Callable[[JSONObject], Awaitable[R]],
    cleanup: Callable[[JSONObject], Awaitable[R]],
) -> R | None:
    """Await ``apply`` or ``cleanup`` for ``obj`` under the finalizer ``name`` (see ``informers.controller.finalizer``).

    Returns:
        What ``apply`` or ``cleanup`` returned; ``None`` for a deleting object that never had the finalizer.

    Raises:
        Exception: whatever ``apply`` or ``cleanup`` raised (the finalizer stays), or the API error of the write.
    """
    step = finalizer_step(obj, name)
    if step == "apply":
        return await apply(obj)
    if step == "cleanup":
        result = await cleanup(obj)
        with contextlib.suppress(NotFoundError):  # already gone: nothing holds it any more
            await _patch_finalizers(resource, obj, name, add=False)
        return result
    if step == "nothing":
        return None
    written = await _patch_finalizers(resource, obj, name, add=True)
    if (written.get("metadata") or {}).get("deletionTimestamp"):
        return await finalizer(resource, name, written, apply=apply, cleanup=cleanup)  # deleted meanwhile
    return await apply(written)


async def _patch_finalizers(resource: AsyncResourceClient, obj: JSONObject, name: str, *, add: bool) -> JSONObject:
    metadata = obj.get("metadata") or {}
    object_name, namespace = str(metadata.get("name") or ""), str(metadata.get("namespace") or "")
    client = resource.namespace(namespace) if namespace else resource
    latest = obj
    for _ in range(_CONFLICT_STEPS - 1):
        try:
            return await _write(client, latest, name, add=add)
        except ConflictError:
            latest = await client.get(object_name)  # retry on what the server holds now
            await asyncio.sleep(_CONFLICT_DELAY)
    return await _write(client, latest, name, add=add)


async def _write(client: AsyncResourceClient, latest: JSONObject, name: str, *, add: bool) -> JSONObject:
    patch = finalizers_patch(latest, name, add=add)
    if patch is None:
        return latest
    return await client.patch(str(latest["metadata"]["name"]), patch, patch_type="merge")


__all__ = ["finalizer"]

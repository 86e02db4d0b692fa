"""Informers on an event loop: the same store, indexes, listers, sink and reflector state machine, run by tasks.

Needs ``dynaclient[async]``. Handlers may be plain or ``async def`` callbacks::

    async with AsyncSharedInformerFactory(client) as factory:
        configmaps = await factory.for_resource("configmaps")
        configmaps.add_event_handler(on_add=notify)
        factory.start()
        await factory.wait_for_cache_sync()
"""

from __future__ import annotations

from informers.aio.controller import AsyncController, AsyncReconcile
from informers.aio.factory import AsyncSharedInformerFactory
from informers.aio.finalizer import finalizer
from informers.aio.informer import AsyncSharedIndexInformer
from informers.aio.listwatch import AsyncEventStream, AsyncListerWatcher, AsyncResourceListWatch, HeldWatch
from informers.aio.processor import AsyncListener
from informers.aio.reflector import AsyncReflector

__all__ = [
    "AsyncController",
    "AsyncEventStream",
    "AsyncListener",
    "AsyncListerWatcher",
    "AsyncReconcile",
    "AsyncReflector",
    "AsyncResourceListWatch",
    "AsyncSharedIndexInformer",
    "AsyncSharedInformerFactory",
    "HeldWatch",
    "finalizer",
]

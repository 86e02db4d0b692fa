"""One shared async informer per resource and scope, started, synced and shut down together on the loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from dynaclient import GroupVersionResource
from dynaclient.aio import AsyncDynamicClient
from informers.aio.informer import AsyncSharedIndexInformer
from informers.aio.listwatch import AsyncListerWatcher, AsyncResourceListWatch
from informers.aio.reflector import AsyncReflector
from informers.cache.index import Indexers
from informers.cache.transform import Transform
from informers.factory import _FACTORY_DEFAULT, InformerKey, Resource, _field_selector, _label_selector

AsyncListerWatcherFactory = Callable[[Resource, str | None, str | None, str | None], AsyncListerWatcher]
"""Build the lister-watcher of ``(resource, namespace, label_selector, field_selector)`` (tests, other sources)."""


class AsyncSharedInformerFactory:
    """Hand out one :class:`AsyncSharedIndexInformer` per resource and scope (see ``SharedInformerFactory``).

    ``informer = await factory.for_resource("configmaps")`` (discovery resolves the name off the loop);
    :meth:`start`; ``await factory.wait_for_cache_sync()``; ``await factory.shutdown()``, or ``async with``.

    Thread-safety: confined to one event loop.
    """

    def __init__(
        self,
        client: AsyncDynamicClient | None,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | Mapping[str, Any] | None = None,
        resync: float | None = None,
        transform: Transform | None = None,
        indexers: Indexers | None = None,
        lister_watcher_factory: AsyncListerWatcherFactory | None = None,
        reflector_factory: Callable[..., AsyncReflector] = AsyncReflector,
    ) -> None:
        """Create a factory; arguments as ``SharedInformerFactory``'s. No informer exists or runs yet.

        ``reflector_factory`` builds each informer's reflector, called as
        :class:`~informers.aio.reflector.AsyncReflector` is (``functools.partial`` changes its defaults).

        Raises:
            TypeError: neither a client nor a lister-watcher factory was given.
        """
        if client is None and lister_watcher_factory is None:
            raise TypeError("AsyncSharedInformerFactory needs a client or a lister_watcher_factory")
        self._client = client
        self._new_lister_watcher = lister_watcher_factory
        self._reflector_factory = reflector_factory
        self._namespace = namespace or None
        self._label_selector = _label_selector(label_selector)
        self._field_selector = _field_selector(field_selector)
        self._resync = resync
        self._transform = transform
        self._indexers = dict(indexers or {})
        self._informers: dict[InformerKey, AsyncSharedIndexInformer] = {}
        self._started: set[InformerKey] = set()
        self._shutting_down = False

    def __repr__(self) -> str:
        return f"<AsyncSharedInformerFactory informers={len(self._informers)} started={len(self._started)}>"

    async def for_resource(
        self,
        resource: Resource,
        *,
        namespace: str | None = _FACTORY_DEFAULT,
        label_selector: str | Mapping[str, Any] | None = _FACTORY_DEFAULT,
        field_selector: str | Mapping[str, Any] | None = _FACTORY_DEFAULT,
    ) -> AsyncSharedIndexInformer:
        """Return the shared informer of ``resource`` in the factory's scope, or in the one given, creating it.

        Raises:
            SelectorError: a selector is invalid.
            ResourceNotFoundError: the server serves no such resource.
        """
        as_given = InformerKey(
            resource,
            self._namespace if namespace is _FACTORY_DEFAULT else namespace or None,
            self._label_selector if label_selector is _FACTORY_DEFAULT else _label_selector(label_selector),
            self._field_selector if field_selector is _FACTORY_DEFAULT else _field_selector(field_selector),
        )
        key = as_given
        resource_client = None
        if self._client is not None:
            resource_client = await self._client.resource(resource)
            served = resource_client.api_resource
            key = replace(as_given, resource=served.gvr, namespace=as_given.namespace if served.namespaced else None)
        existing = self._informers.get(key)
        if existing is not None:
            return existing
        lister_watcher: AsyncListerWatcher
        if self._new_lister_watcher is not None:
            lister_watcher = self._new_lister_watcher(
                key.resource, key.namespace, key.label_selector, key.field_selector
            )
        else:
            assert resource_client is not None
            if key.namespace:
                resource_client = resource_client.namespace(key.namespace)
            lister_watcher = AsyncResourceListWatch(
                resource_client, label_selector=key.label_selector, field_selector=key.field_selector
            )
        gvr = key.resource
        informer = AsyncSharedIndexInformer(
            lister_watcher,
            name=replace(as_given, namespace=key.namespace).name,
            resource=gvr.group_resource if isinstance(gvr, GroupVersionResource) else gvr,
            indexers=self._indexers,
            resync=self._resync,
            transform=self._transform,
            reflector_factory=self._reflector_factory,
        )
        return self._informers.setdefault(key, informer)

    def informers(self) -> dict[InformerKey, AsyncSharedIndexInformer]:
        """Return every informer created so far, by key."""
        return dict(self._informers)

    def start(self) -> None:
        """Start every informer not started yet, on the running loop; a no-op after :meth:`shutdown`."""
        if self._shutting_down:
            return
        for key, informer in self._informers.items():
            if key not in self._started:
                self._started.add(key)
                informer.start()

    async def wait_for_cache_sync(self, timeout: float | None = None) -> dict[InformerKey, bool]:
        """Wait until every started informer has synced, or ``timeout`` seconds in all; return each one's state."""
        started = {key: self._informers[key] for key in self._started}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(informer.wait_synced() for informer in started.values()))
        return {key: informer.has_synced() for key, informer in started.items()}

    async def shutdown(self) -> None:
        """Stop every informer together and wait for their tasks; idempotent. Afterwards :meth:`start` does nothing."""
        self._shutting_down = True
        await asyncio.gather(*(informer.shutdown() for informer in self._informers.values()))

    async def __aenter__(self) -> AsyncSharedInformerFactory:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()


__all__ = ["AsyncListerWatcherFactory", "AsyncSharedInformerFactory"]

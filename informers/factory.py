"""The shared informer factory: one informer per resource and scope, started, synced and shut down together."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from dynaclient import DynamicClient, GroupVersionResource, field_selector, label_selector
from informers.cache.index import Indexers
from informers.cache.transform import Transform
from informers.clock import Clock, RealClock
from informers.informer import ReflectorFactory, SharedIndexInformer
from informers.reflector.listwatch import ListerWatcher, ResourceListWatch
from informers.reflector.reflector import Reflector

logger = logging.getLogger(__name__)

Resource = str | GroupVersionResource
"""A resource as :meth:`dynaclient.DynamicClient.resource` takes it: a name (``"deployments.apps"``) or a GVR."""

ListerWatcherFactory = Callable[[Resource, str | None, str | None, str | None], ListerWatcher]
"""Build the lister-watcher of ``(resource, namespace, label_selector, field_selector)``; ``None``: no restriction."""


@dataclass(frozen=True, slots=True)
class InformerKey:
    """What makes informers distinct within a factory: the resource and the scope of its list and watch.

    Attributes:
        resource: the resource, resolved by the factory's client to its GroupVersionResource (so ``"cm"``,
            ``"configmaps"`` and ``GroupVersionResource("", "v1", "configmaps")`` are one key); as given to
            :meth:`SharedInformerFactory.for_resource` when the factory has no client to resolve it with.
        namespace: the namespace, or ``None`` for all namespaces (and always for cluster-scoped resources).
        label_selector: the label selector string, or ``None``.
        field_selector: the field selector string, or ``None``.

    Thread-safety: immutable.

    >>> InformerKey("deployments.apps", "prod", "app=web").name
    'deployments.apps@prod[app=web]'
    """

    resource: Resource
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None

    @property
    def name(self) -> str:
        """The informer's name: ``resource[@namespace][[label selector]][{field selector}]``."""
        where = f"@{self.namespace}" if self.namespace else ""
        labels = f"[{self.label_selector}]" if self.label_selector else ""
        fields = f"{{{self.field_selector}}}" if self.field_selector else ""
        return f"{self.resource}{where}{labels}{fields}"


_FACTORY_DEFAULT: Final[Any] = object()


class SharedInformerFactory:
    """Hand out one shared informer per resource and scope, and start, sync and shut them down together.

    client-go dynamic/dynamicinformer/informer.go ``dynamicSharedInformerFactory``: :meth:`for_resource` creates
    an informer on first use and returns the same one afterwards; :meth:`start` starts those not started yet, so it
    is safe to call again after creating more. Unlike client-go, :meth:`shutdown` also stops the informers, all at
    once.

    The factory's namespace, selectors, resync and transform apply to every informer;
    :meth:`for_resource` may narrow the scope of one.

    Thread-safety: thread-safe.
    """

    def __init__(
        self,
        client: DynamicClient | None,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, Any] | None = None,
        field_selector: str | Mapping[str, Any] | None = None,
        resync: float | None = None,
        transform: Transform | None = None,
        indexers: Indexers | None = None,
        lister_watcher_factory: ListerWatcherFactory | None = None,
        reflector_factory: ReflectorFactory = Reflector,
        clock: Clock | None = None,
    ) -> None:
        """Create a factory; no informer exists or runs yet.

        Args:
            client: the client the default lister-watchers list and watch with.
            namespace: the default namespace; ``None`` or ``""``: all namespaces.
            label_selector: the default label selector (a string or a mapping, see :func:`dynaclient.label_selector`).
            field_selector: the default field selector (see :func:`dynaclient.field_selector`).
            resync: the handlers' default resync period in seconds (``None``: none).
            transform: applied once to each object before it is stored, e.g. :func:`~informers.strip_managed_fields`.
            indexers: more indices for every informer (the ``namespace`` index is always there).
            lister_watcher_factory: builds lister-watchers instead of ``client`` (tests, other sources).
            reflector_factory: builds each informer's reflector.
            clock: time source for resyncs and waits.

        Raises:
            TypeError: neither a client nor a lister-watcher factory was given.
            SelectorError: a selector is invalid.
        """
        if lister_watcher_factory is None:
            if client is None:
                raise TypeError("SharedInformerFactory needs a client or a lister_watcher_factory")
            lister_watcher_factory = client_lister_watcher_factory(client)
        self._new_lister_watcher = lister_watcher_factory
        self._client = client
        self._namespace = namespace or None
        self._label_selector = _label_selector(label_selector)
        self._field_selector = _field_selector(field_selector)
        self._resync = resync
        self._transform = transform
        self._indexers = dict(indexers or {})
        self._reflector_factory = reflector_factory
        self._clock: Clock = clock or RealClock()
        self._lock = threading.Lock()
        self._informers: dict[InformerKey, SharedIndexInformer] = {}
        self._started: set[InformerKey] = set()
        self._shutting_down = False

    def __repr__(self) -> str:
        with self._lock:
            return f"<SharedInformerFactory informers={len(self._informers)} started={len(self._started)}>"

    def __enter__(self) -> SharedInformerFactory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def for_resource(
        self,
        resource: Resource,
        *,
        namespace: str | None = _FACTORY_DEFAULT,
        label_selector: str | Mapping[str, Any] | None = _FACTORY_DEFAULT,
        field_selector: str | Mapping[str, Any] | None = _FACTORY_DEFAULT,
    ) -> SharedIndexInformer:
        """Return the shared informer of ``resource`` in the factory's scope, or in the one given, creating it.

        Informers are shared by resource, namespace and selectors. With a client, the resource is resolved first
        (discovery): every spelling of one resource (``"cm"``, ``"configmaps"``, ``"configmaps.v1."``, its GVR)
        gets the same informer, and a cluster-scoped resource ignores the namespace. Without one, spellings are
        distinct keys. An informer created after :meth:`start` runs once :meth:`start` is called again.

        Raises:
            SelectorError: a selector is invalid.
            ResourceNotFoundError: the factory's client (or the default lister-watcher factory) found no such
                resource on the server.
        """
        as_given = InformerKey(
            resource,
            self._namespace if namespace is _FACTORY_DEFAULT else namespace or None,
            self._label_selector if label_selector is _FACTORY_DEFAULT else _label_selector(label_selector),
            self._field_selector if field_selector is _FACTORY_DEFAULT else _field_selector(field_selector),
        )
        key = self._resolved(as_given)
        with self._lock:
            existing = self._informers.get(key)
        if existing is not None:
            return existing
        # Built outside the lock: the default lister-watcher factory may call discovery.
        informer = SharedIndexInformer(
            self._new_lister_watcher(key.resource, key.namespace, key.label_selector, key.field_selector),
            name=replace(as_given, namespace=key.namespace).name,
            resource=key.resource.group_resource if isinstance(key.resource, GroupVersionResource) else key.resource,
            indexers=self._indexers,
            resync=self._resync,
            transform=self._transform,
            clock=self._clock,
            reflector_factory=self._reflector_factory,
        )
        with self._lock:
            return self._informers.setdefault(key, informer)

    def _resolved(self, key: InformerKey) -> InformerKey:
        """Return ``key`` with its resource resolved by the client (discovery, outside the lock)."""
        if self._client is None:
            return key
        served = self._client.mapper.resource_for(key.resource)
        return replace(key, resource=served.gvr, namespace=key.namespace if served.namespaced else None)

    def informers(self) -> dict[InformerKey, SharedIndexInformer]:
        """Return every informer created so far, by key."""
        with self._lock:
            return dict(self._informers)

    def start(self) -> None:
        """Start every informer not started yet; idempotent, and a no-op after :meth:`shutdown`."""
        with self._lock:
            if self._shutting_down:
                return
            pending = {key: informer for key, informer in self._informers.items() if key not in self._started}
            self._started.update(pending)
        for informer in pending.values():
            informer.start()

    def wait_for_cache_sync(self, timeout: float | None = None) -> dict[InformerKey, bool]:
        """Wait until every started informer has synced, or ``timeout`` seconds in all; return each one's state.

        Only informers started by :meth:`start` are waited for (client-go ``WaitForCacheSync``).
        """
        with self._lock:
            started = {key: self._informers[key] for key in self._started}
        deadline = None if timeout is None else self._clock.monotonic() + timeout
        synced: dict[InformerKey, bool] = {}
        for key, informer in started.items():
            remaining = None if deadline is None else max(0.0, deadline - self._clock.monotonic())
            synced[key] = informer.wait_for_cache_sync(remaining)
        return synced

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop every informer and wait up to ``timeout`` seconds in all for their threads; return whether they ended.

        Every informer is told to stop first, then each is waited for: they stop together, so one slow to stop
        delays none of the others. Idempotent. Afterwards :meth:`start` does nothing.
        """
        with self._lock:
            self._shutting_down = True
            informers = list(self._informers.values())
        # Threads end in real time: the deadline is real even when the factory's clock is fake.
        deadline = None if timeout is None else time.monotonic() + timeout
        for informer in informers:
            informer.stop(wait=False)
        stopped = True
        for informer in informers:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            stopped = informer.stop(remaining) and stopped
        return stopped


def client_lister_watcher_factory(client: DynamicClient) -> ListerWatcherFactory:
    """Return a lister-watcher factory that lists and watches through ``client`` (client-go: the dynamic client)."""

    def new_lister_watcher(
        resource: Resource, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> ListerWatcher:
        resource_client = client.resource(resource)
        if namespace:
            resource_client = resource_client.namespace(namespace)
        return ResourceListWatch(resource_client, label_selector=label_selector, field_selector=field_selector)

    return new_lister_watcher


def _label_selector(spec: str | Mapping[str, Any] | None) -> str | None:
    return label_selector(spec) or None


def _field_selector(spec: str | Mapping[str, Any] | None) -> str | None:
    return field_selector(spec) or None


__all__ = ["InformerKey", "ListerWatcherFactory", "Resource", "SharedInformerFactory", "client_lister_watcher_factory"]

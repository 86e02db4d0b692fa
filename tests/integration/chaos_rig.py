"""The rig of the informer chaos tests: informers of either flavour reading through a loopback proxy.

The informer reaches the API server through :class:`~tests.integration.loopback_proxy.LoopbackProxy`, which resets
connections (cuts), freezes them for good (black holes) or swallows requests (no response ever). Its
lister-watcher counts the watches it opens, so a test can act when the next one opens. The fixtures are registered
for every integration module in tests/integration/conftest.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from dynaclient import (
    Cancellation,
    Discovery,
    DynamicClient,
    ResourceClient,
    RESTMapper,
    client_from_config,
    load_kubeconfig,
)
from dynaclient.aio import AsyncDynamicClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from informers import (
    Backoff,
    InformerHealth,
    ListerWatcher,
    ListPage,
    Reflector,
    ReflectorStatus,
    SharedIndexInformer,
    SharedInformerFactory,
    WatchStream,
    client_lister_watcher_factory,
)
from informers.aio import (
    AsyncEventStream,
    AsyncListerWatcher,
    AsyncReflector,
    AsyncResourceListWatch,
    AsyncSharedInformerFactory,
)
from informers.factory import Resource
from informers.testing import RecordingHandler
from tests.integration.flavours import LoopThread
from tests.integration.loopback_proxy import LoopbackProxy, client_through

DETECTION_SLACK = 3.0
"""Seconds a black hole may take to be noticed beyond the stall timeout: the guard's wake-up and a loaded machine."""

CONVERGENCE_TIMEOUT = 60.0
"""Seconds for the cache and the handler to reach the server's final state once the writer stops: more than the
backoff cap of the chaos runs' reflector (2 s), and a relist."""


class WatchCounter:
    """Counts the watches a lister-watcher opened, so that a test can act when the next one opens.

    Thread-safety: thread-safe (counted on the informer's thread or loop, waited for from the test's thread).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._opened = 0

    @property
    def opened(self) -> int:
        """How many watches were opened so far."""
        with self._condition:
            return self._opened

    def wait_opened(self, count: int, timeout: float) -> bool:
        """Block until ``count`` watches were opened, or ``timeout`` seconds pass; return which."""
        with self._condition:
            return self._condition.wait_for(lambda: self._opened >= count, timeout)

    def _count(self) -> None:
        with self._condition:
            self._opened += 1
            self._condition.notify_all()


class CountingListWatch(WatchCounter):
    """A ListerWatcher that counts the watches it opened.

    Thread-safety: thread-safe.
    """

    def __init__(self, inner: ListerWatcher) -> None:
        super().__init__()
        self._inner = inner

    def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> ListPage:
        """List through the inner lister-watcher."""
        return self._inner.list_page(
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            cancellation=cancellation,
        )

    def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> WatchStream:
        """Open a watch through the inner lister-watcher and count it."""
        stream = self._inner.watch(
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
            timeout_seconds=timeout_seconds,
            send_initial_events=send_initial_events,
            resource_version_match=resource_version_match,
            cancellation=cancellation,
        )
        self._count()
        return stream


class AsyncCountingListWatch(WatchCounter):
    """An async lister-watcher that counts the watches it opened (on the loop; waited for from a thread).

    Thread-safety: thread-safe.
    """

    def __init__(self, inner: AsyncListerWatcher) -> None:
        super().__init__()
        self._inner = inner

    async def list_page(self, **options: Any) -> ListPage:
        """List through the inner lister-watcher."""
        return await self._inner.list_page(**options)

    async def watch(self, **options: Any) -> AsyncEventStream:
        """Open a watch through the inner lister-watcher and count it."""
        stream = await self._inner.watch(**options)
        self._count()
        return stream


@dataclass
class ChaosInformer:
    """A started ConfigMap informer of either flavour reading through the proxy, driven from the test's thread.

    Attributes:
        informer: the informer (its health and store are read from any thread).
        watches: counts the watches it opened.
        shutdown: stops it and closes its client; returns whether it stopped within 30 s.

    Thread-safety: used from the test's thread; the informer's reads are thread-safe.
    """

    informer: SharedIndexInformer
    watches: WatchCounter
    shutdown: Callable[[], bool]


def threaded_chaos_informer(
    plane: ControlPlane, proxy: LoopbackProxy, namespace: str, handler: RecordingHandler, *, reflector: dict[str, Any]
) -> ChaosInformer:
    """Start and sync a threaded informer through ``proxy`` with ``handler``."""
    informer_client = client_through(proxy, plane)
    counters: list[CountingListWatch] = []
    client_factory = client_lister_watcher_factory(informer_client)

    def counting_factory(resource: Resource, ns: str | None, labels: str | None, fields: str | None) -> ListerWatcher:
        counters.append(CountingListWatch(client_factory(resource, ns, labels, fields)))
        return counters[-1]

    factory = SharedInformerFactory(
        informer_client,
        namespace=namespace,
        lister_watcher_factory=counting_factory,
        reflector_factory=functools.partial(Reflector, **reflector),
    )
    informer = factory.for_resource("configmaps")
    informer.add_event_handler(handler)

    def shutdown() -> bool:
        try:
            return factory.shutdown(timeout=30.0)
        finally:
            informer_client.api_client.close()

    factory.start()
    chaos = ChaosInformer(informer, counters[0], shutdown)
    if not all(factory.wait_for_cache_sync(CONVERGENCE_TIMEOUT).values()):
        shutdown()
        raise AssertionError("the informer did not sync")
    return chaos


def async_chaos_informer(
    loop: LoopThread,
    plane: ControlPlane,
    proxy: LoopbackProxy,
    namespace: str,
    handler: RecordingHandler,
    *,
    reflector: dict[str, Any],
) -> ChaosInformer:
    """Start and sync an asyncio informer through ``proxy`` on ``loop`` with ``handler`` (called on the loop)."""
    config = load_kubeconfig(plane.kubeconfig_path)
    host = urlsplit(config.server).hostname
    client = AsyncDynamicClient.from_config(
        dataclasses.replace(config, server=proxy.url, tls_server_name=config.tls_server_name or host)
    )
    counters: list[AsyncCountingListWatch] = []

    async def start() -> AsyncSharedInformerFactory:
        configmaps = (await client.resource("configmaps")).namespace(namespace)

        def counting_factory(*_: object) -> AsyncListerWatcher:
            counters.append(AsyncCountingListWatch(AsyncResourceListWatch(configmaps)))
            return counters[-1]

        factory = AsyncSharedInformerFactory(
            client,
            namespace=namespace,
            lister_watcher_factory=counting_factory,
            reflector_factory=functools.partial(AsyncReflector, **reflector),
        )
        (await factory.for_resource("configmaps")).add_event_handler(handler)
        factory.start()
        return factory

    factory = loop.run(start())
    (informer,) = factory.informers().values()

    def shutdown() -> bool:
        try:
            loop.run(asyncio.wait_for(factory.shutdown(), 30.0))
        except TimeoutError:
            return False
        finally:
            loop.run(client.aclose())
        return True

    chaos = ChaosInformer(informer, counters[0], shutdown)
    if not all(loop.run(factory.wait_for_cache_sync(CONVERGENCE_TIMEOUT)).values()):
        shutdown()
        raise AssertionError("the informer did not sync")
    return chaos


def chaos_informer_of(
    request: pytest.FixtureRequest,
    flavour: str,
    plane: ControlPlane,
    proxy: LoopbackProxy,
    namespace: str,
    *,
    reflector: dict[str, Any],
) -> Callable[[RecordingHandler], ChaosInformer]:
    """Build the informer of the ``flavour`` under test (the async one on the session's event loop thread)."""
    if flavour == "sync":
        return lambda handler: threaded_chaos_informer(plane, proxy, namespace, handler, reflector=reflector)
    loop: LoopThread = request.getfixturevalue("event_loop_thread")
    return lambda handler: async_chaos_informer(loop, plane, proxy, namespace, handler, reflector=reflector)


@pytest.fixture
def restartable_plane(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[ControlPlane]:
    """The session's control plane, which the test may restart: running and ready again after the test."""
    assert isinstance(kube_apiserver, ControlPlane), "chaos restarts the apiserver: it needs the local control plane"
    yield kube_apiserver
    assert kube_apiserver.running, "the control plane is not running after the chaos test"


@pytest.fixture
def writer_client(restartable_plane: ControlPlane) -> Iterator[DynamicClient]:
    """A client of the writer's own: its connections break with the apiserver's, not the informer's."""
    with client_from_config(load_kubeconfig(restartable_plane.kubeconfig_path)) as api:
        yield DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False)))


@pytest.fixture
def writer_configmaps(kube_apiserver: ControlPlane | ExistingCluster, namespace: str) -> Iterator[ResourceClient]:
    """The ConfigMaps of ``namespace`` through a direct client of their own."""
    with client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path)) as api:
        yield (
            DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False))).resource("configmaps").namespace(namespace)
        )


@contextlib.contextmanager
def proxied_informer(
    proxy: LoopbackProxy, kube_apiserver: ControlPlane | ExistingCluster, namespace: str, stall_timeout: float
) -> Iterator[tuple[SharedInformerFactory, SharedIndexInformer, RecordingHandler]]:
    """A synced ConfigMap informer reading through ``proxy``, with a short stall timeout; shut down after."""
    client = client_through(proxy, kube_apiserver)
    reflector = functools.partial(Reflector, stall_timeout=stall_timeout, backoff=Backoff(cap=1.0))
    factory = SharedInformerFactory(client, namespace=namespace, reflector_factory=reflector)
    informer, handler = factory.for_resource("configmaps"), RecordingHandler()
    informer.add_event_handler(handler)
    try:
        factory.start()
        assert all(factory.wait_for_cache_sync(30).values())
        yield factory, informer, handler
    finally:
        assert factory.shutdown(timeout=5.0), "the informer did not stop within 5 s"
        client.api_client.close()


def wait_for_health(informer: SharedIndexInformer, done: Callable[[InformerHealth], bool], timeout: float) -> float:
    """Poll the informer's health until ``done`` holds; return the seconds it took, or fail after ``timeout``."""
    started = time.monotonic()
    while not done(informer.health()):
        assert time.monotonic() - started < timeout, f"not within {timeout} s: {informer.health()}"
        threading.Event().wait(0.05)  # polling a condition with a deadline
    return time.monotonic() - started


def reflector_status(health: InformerHealth) -> ReflectorStatus:
    assert isinstance(health.reflector, ReflectorStatus)
    return health.reflector


def noticed(before: ReflectorStatus, now: ReflectorStatus) -> bool:
    unanswered = now.errors > before.errors and "got no response" in (now.last_error or "")
    return now.renewals > before.renewals or unanswered

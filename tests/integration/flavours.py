"""Run the synchronous scenarios against the asyncio client and informers too (the ``flavour`` parameter).

The integration scenarios are written once, against the synchronous API. For the ``async`` flavour their fixtures
hand out blocking views of :mod:`dynaclient.aio` and :mod:`informers.aio` objects: each call is sent to an event loop
running in one background thread and awaited there, so every request, list, watch, informer and handler of the
scenario runs on the loop, exactly as an asyncio program would run it. A plain handler a scenario registers becomes
an ``async def`` handler that hands the call to :func:`asyncio.to_thread`, as an async program with blocking handler
code would (the scenarios' handlers block on purpose: slow handlers, recorders with conditions).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from dynaclient import JSONObject, WatchEvent
from dynaclient.aio import AsyncDynamicClient, AsyncObjectList, AsyncResourceClient, AsyncWatch
from informers import HandlerRegistration, InformerHealth, Lister, StoreReader
from informers.aio import AsyncSharedIndexInformer, AsyncSharedInformerFactory
from informers.cache.index import Indexers

_T = TypeVar("_T")
TIMEOUT = 120.0


class LoopThread:
    """One event loop in a daemon thread; :meth:`run` awaits a coroutine there from the calling thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="flavour-event-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    def call(self, function: Callable[[], _T]) -> _T:
        async def on_loop() -> _T:
            return function()

        return self.run(on_loop())

    def close(self) -> None:
        """Stop the loop as ``asyncio.run`` ends: what still runs is cancelled, async generators are closed."""

        async def settle() -> None:
            running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        self.run(settle())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class BlockingList:
    """An :class:`~dynaclient.aio.AsyncObjectList` iterated from a thread."""

    def __init__(self, loop: LoopThread, listing: AsyncObjectList[JSONObject]) -> None:
        self._loop = loop
        self._listing = listing
        self._pages = listing.pages()

    @property
    def resource_version(self) -> str:
        if not self._listing.resource_version:  # not iterated yet: fetch the first page, as ObjectList does
            self._loop.run(self._listing.first_page())
        return self._listing.resource_version

    @property
    def restarted(self) -> bool:
        return self._listing.restarted

    def pages(self) -> Iterator[JSONObject]:
        while True:
            try:
                yield self._loop.run(anext(self._pages))
            except StopAsyncIteration:
                return

    def __iter__(self) -> Iterator[JSONObject]:
        for page in self.pages():
            yield from page["items"]

    def to_list(self) -> JSONObject:
        return self._loop.run(self._listing.to_list())


class BlockingWatch:
    """An :class:`~dynaclient.aio.AsyncWatch` iterated from a thread and closable from any thread."""

    def __init__(self, loop: LoopThread, watch: AsyncWatch[JSONObject]) -> None:
        self._loop = loop
        self._watch = watch

    @property
    def resource_version(self) -> str:
        return self._watch.resource_version

    @property
    def closed(self) -> bool:
        return self._watch.closed

    def __iter__(self) -> BlockingWatch:
        return self

    def __next__(self) -> WatchEvent:
        try:
            return self._loop.run(anext(self._watch))
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self._loop.loop.call_soon_threadsafe(self._watch.close)

    def __enter__(self) -> BlockingWatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BlockingResource:
    """An :class:`~dynaclient.aio.AsyncResourceClient` with the synchronous ResourceClient's verbs."""

    def __init__(self, loop: LoopThread, resource: AsyncResourceClient) -> None:
        self._loop = loop
        self.resource = resource

    def namespace(self, namespace: str) -> BlockingResource:
        return BlockingResource(self._loop, self.resource.namespace(namespace))

    def list(self, **options: Any) -> BlockingList:
        return BlockingList(self._loop, self.resource.list(**options))

    def watch(self, **options: Any) -> BlockingWatch:
        return BlockingWatch(self._loop, self._loop.run(self.resource.watch(**options)))

    def __getattr__(self, verb: str) -> Callable[..., Any]:
        method = getattr(self.resource, verb)
        return lambda *args, **kwargs: self._loop.run(method(*args, **kwargs))


class BlockingClient:
    """An :class:`~dynaclient.aio.AsyncDynamicClient` whose ``resource`` returns :class:`BlockingResource`."""

    def __init__(self, loop: LoopThread, client: AsyncDynamicClient) -> None:
        self.loop = loop
        self.client = client

    def resource(self, name: str) -> BlockingResource:
        return BlockingResource(self.loop, self.loop.run(self.client.resource(name)))


def _off_loop(function: Callable[..., Any] | None) -> Callable[..., Any] | None:
    if function is None:
        return None

    async def handler(*args: Any) -> None:
        await asyncio.to_thread(function, *args)

    return handler


class BlockingInformer:
    """An :class:`~informers.aio.AsyncSharedIndexInformer` used from a thread: reads direct, the rest on the loop."""

    def __init__(self, loop: LoopThread, informer: AsyncSharedIndexInformer) -> None:
        self._loop = loop
        self.informer = informer

    @property
    def store(self) -> StoreReader:
        return self.informer.store

    def lister(self) -> Lister:
        return self.informer.lister()

    def by_index(self, index_name: str, value: str) -> list[JSONObject]:
        return self.informer.by_index(index_name, value)

    def health(self) -> InformerHealth:
        return self.informer.health()

    def add_indexers(self, indexers: Indexers) -> None:
        self._loop.call(lambda: self.informer.add_indexers(indexers))

    def add_event_handler(
        self,
        *,
        on_add: Callable[..., Any] | None = None,
        on_update: Callable[..., Any] | None = None,
        on_delete: Callable[..., Any] | None = None,
    ) -> HandlerRegistration:
        return self._loop.call(
            lambda: self.informer.add_event_handler(
                on_add=_off_loop(on_add), on_update=_off_loop(on_update), on_delete=_off_loop(on_delete)
            )
        )


class BlockingFactory:
    """An :class:`~informers.aio.AsyncSharedInformerFactory` with the synchronous factory's methods."""

    def __init__(self, loop: LoopThread, factory: AsyncSharedInformerFactory) -> None:
        self._loop = loop
        self.factory = factory

    def for_resource(self, resource: str, **scope: Any) -> BlockingInformer:
        return BlockingInformer(self._loop, self._loop.run(self.factory.for_resource(resource, **scope)))

    def start(self) -> None:
        self._loop.call(self.factory.start)

    def wait_for_cache_sync(self, timeout: float | None = None) -> dict[Any, bool]:
        return self._loop.run(self.factory.wait_for_cache_sync(timeout))

    def shutdown(self, timeout: float | None = None) -> bool:
        self._loop.run(asyncio.wait_for(self.factory.shutdown(), timeout))
        return True

    def __enter__(self) -> BlockingFactory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def blocking_client(loop: LoopThread, kubeconfig: str) -> BlockingClient:
    """An async client on ``loop``, discovery uncached on disk and refreshed at once on a miss (as the sync fixture)."""
    from dynaclient import APIClient, Discovery, RESTMapper, load_kubeconfig

    client = AsyncDynamicClient.from_config(load_kubeconfig(kubeconfig))
    discovery = Discovery(APIClient(client.bridge, auth=client.api_client.auth), cache_dir=False)
    client.mapper = RESTMapper(discovery, min_refresh_interval=0)
    return BlockingClient(loop, client)


class BlockingStream:
    """An object of :mod:`dynaclient.aio.streams` (a log, a session, a port stream, a forwarder) used from threads.

    Every method runs on the loop (awaited there when it is a coroutine); results from the same package are wrapped
    again, async iterators become blocking ones; ``with`` enters and leaves the object's ``async with``.
    """

    def __init__(self, loop: LoopThread, target: Any) -> None:
        self._loop = loop
        self.target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._wrap(self._loop.run(_invoke(value, args, kwargs)))

        return call

    def _wrap(self, value: Any) -> Any:
        if hasattr(value, "__anext__"):
            return self._blocking_iterator(value)
        if type(value).__module__.startswith("dynaclient.aio.streams"):
            return BlockingStream(self._loop, value)
        return value

    def _blocking_iterator(self, iterator: Any) -> Iterator[Any]:
        while True:
            try:
                yield self._loop.run(anext(iterator))
            except StopAsyncIteration:
                return

    def __iter__(self) -> Iterator[Any]:
        return self._blocking_iterator(self._loop.call(self.target.__aiter__))

    def __enter__(self) -> BlockingStream:
        self._loop.run(self.target.__aenter__())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.run(self.target.__aexit__(None, None, None))


async def _invoke(function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = function(*args, **kwargs)
    if asyncio.iscoroutine(result):
        result = await result
    return result


class BlockingPodStreams:
    """The pod stream verbs of an :class:`~dynaclient.aio.AsyncResourceClient` of pods, with the sync signatures."""

    def __init__(self, loop: LoopThread, pods: AsyncResourceClient) -> None:
        self._stream = BlockingStream(loop, pods)
        self.namespace_name = pods.namespace_name

    def __getattr__(self, verb: str) -> Any:
        return getattr(self._stream, verb)

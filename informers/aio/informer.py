"""The shared informer driven by tasks: the same store, indexes, listers, sink and handlers, no thread.

:class:`AsyncSharedIndexInformer` is :class:`~informers.informer.SharedIndexInformer` whose reflector is an
:class:`~informers.aio.reflector.AsyncReflector` task and whose handlers are served by
:class:`~informers.aio.processor.AsyncListener` tasks; the cache (:class:`~informers.cache.store.Store`), its indexes,
its :class:`~informers.cache.lister.Lister` and the sink that turns lists and events into notifications are shared code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from dynaclient import JSONObject, WatchEvent
from informers.aio.listwatch import AsyncEventStream, AsyncListerWatcher
from informers.aio.processor import AsyncListener, wake_on_loop
from informers.aio.reflector import AsyncReflector
from informers.exceptions import AlreadyStartedError
from informers.informer import SharedIndexInformer
from informers.processor import Listener
from informers.reflector.listwatch import ListPage
from informers.sink import CacheSink

logger = logging.getLogger("informers.informer")


class _PreparingAsyncListerWatcher:
    """Has the sink prepare each list page as it arrives (:class:`~informers.sink.PreparingListerWatcher`, awaited)."""

    def __init__(self, inner: AsyncListerWatcher, sink: CacheSink) -> None:
        self._inner = inner
        self._sink = sink

    async def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
    ) -> ListPage:
        page = await self._inner.list_page(
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
        )
        # Transforms and interning of a page's objects take a worker thread, not the loop (the sink is thread-safe).
        await asyncio.to_thread(self._sink.prepare, page.items, first_page=not continue_token)
        return page

    async def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
    ) -> AsyncEventStream:
        return await self._inner.watch(
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
            timeout_seconds=timeout_seconds,
            send_initial_events=send_initial_events,
            resource_version_match=resource_version_match,
        )


class _SyncSignal:
    """The informer's sink, which also wakes the loop's waiters once the cache has synced."""

    def __init__(self, sink: CacheSink, synced: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
        self._sink = sink
        self._synced = synced
        self._loop = loop

    def on_replace(self, items: list[JSONObject], resource_version: str) -> None:
        self._sink.on_replace(items, resource_version)  # from a worker thread: see AsyncReflector
        if self._sink.synced.is_set():
            wake_on_loop(self._loop, self._synced)

    def on_event(self, event: WatchEvent) -> None:
        self._sink.on_event(event)

    def on_resource_version(self, resource_version: str) -> None:
        self._sink.on_resource_version(resource_version)


class AsyncSharedIndexInformer(SharedIndexInformer):
    """Keep an indexed cache of one resource and notify handlers, with tasks on the running loop.

    Reading (``store``, ``lister()``, ``by_index``, ``has_synced``, ``health``) and handler registration are those
    of :class:`~informers.informer.SharedIndexInformer`; handlers may be plain or ``async def`` callbacks.
    :meth:`start` must be called from a running loop; ``await informer.wait_synced()`` waits for the first list;
    ``await informer.shutdown()`` cancels the tasks and waits for them. The blocking
    :meth:`wait_for_cache_sync` and :meth:`run` of the threaded informer are refused.

    Thread-safety: confined to its event loop (the reads are thread-safe, as in the threaded informer).
    """

    listener_class: type[Listener] = AsyncListener

    def __init__(
        self,
        lister_watcher: AsyncListerWatcher,
        *,
        reflector_factory: Callable[..., AsyncReflector] = AsyncReflector,
        **options: object,
    ) -> None:
        """Create a stopped informer; ``options`` are :class:`~informers.informer.SharedIndexInformer`'s.

        Args:
            lister_watcher: lists and watches the resource, in its scope.
            reflector_factory: builds the reflector at :meth:`start`, called as
                :class:`~informers.aio.reflector.AsyncReflector` is; ``functools.partial(AsyncReflector,
                stall_timeout=5.0)`` changes its defaults.
            options: the other arguments of :class:`~informers.informer.SharedIndexInformer`.
        """
        super().__init__(None, **options)  # type: ignore[arg-type]
        self._async_lister_watcher = lister_watcher
        self._async_reflector_factory = reflector_factory
        self._synced_event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the reflector, resync and handler tasks on the running loop; a no-op if already started.

        Raises:
            AlreadyStartedError: the informer was stopped; informers do not restart.
            RuntimeError: no event loop is running.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._stopped:
                raise AlreadyStartedError(f"informer {self.name} was stopped: it cannot start again")
            if self._started:
                return
            self._started = True
            reflector = self._async_reflector_factory(
                _PreparingAsyncListerWatcher(self._async_lister_watcher, self._sink),
                _SyncSignal(self._sink, self._synced_event, loop),
                name=self.name,
                clock=self._clock,
            )
            self._reflector = reflector
            self._processor.start()
            self._tasks.append(loop.create_task(self._run_reflector_async(reflector), name=f"informer[{self.name}]"))
            if self._resync_check_period > 0:
                self._tasks.append(loop.create_task(self._run_resync_async(), name=f"informer[{self.name}]/resync"))

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait until the cache is filled from a complete list, or ``timeout`` seconds; return which."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._synced_event.wait()
        return self.has_synced()

    def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Not available on the loop (it would block it): ``await informer.wait_synced()``."""
        raise TypeError("an AsyncSharedIndexInformer is awaited: await informer.wait_synced()")

    def stop(self, timeout: float | None = None, *, wait: bool = True) -> bool:
        """Cancel every task without waiting; return whether they have all ended. ``await shutdown()`` waits."""
        with self._lock:
            self._stopped = True
            tasks = list(self._tasks)
        self._stop.set()
        self._processor.stop()
        for task in tasks:
            task.cancel()
        return all(task.done() for task in tasks)

    async def shutdown(self) -> None:
        """Cancel every task and wait for them to end (the open watch is closed); idempotent."""
        self.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        listeners: Sequence[Listener] = self._processor.listeners()
        for listener in listeners:
            if isinstance(listener, AsyncListener):
                await listener.wait_ended()

    async def __aenter__(self) -> AsyncSharedIndexInformer:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def _run_reflector_async(self, reflector: AsyncReflector) -> None:
        try:
            await reflector.run_async()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the reflector of informer %s failed; the cache no longer follows the server", self.name)

    async def _run_resync_async(self) -> None:
        while True:
            await asyncio.sleep(self._resync_check_period)
            self.resync()


__all__ = ["AsyncSharedIndexInformer"]

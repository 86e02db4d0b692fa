"""The controller on an event loop: ``async def reconcile`` run by worker tasks over the same work queue.

Everything but the workers is the threaded :class:`~informers.controller.Controller`'s: the
:class:`~informers.controller.WorkQueue` (its tasks wait with :meth:`~informers.controller.WorkQueue.get_async`),
the rate limiters, the event sources and predicates, :func:`~informers.controller.settle`'s outcome table and the
metrics. The informers are async informers (:class:`~informers.aio.AsyncSharedIndexInformer`): no thread is started.

::

    async def reconcile(request: Request) -> Requeue | None:
        ...

    controller = AsyncController(client, for_="sawtooths.example.com", reconcile=reconcile, workers=4)
    async with controller:  # watches, syncs the caches, starts the workers
        await stop.wait()
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from dynaclient import GroupVersionResource
from dynaclient.aio import AsyncDynamicClient
from informers.aio.factory import AsyncSharedInformerFactory
from informers.aio.informer import AsyncSharedIndexInformer
from informers.cache.lister import Lister
from informers.clock import Clock, RealClock
from informers.controller.metrics import ControllerStats, MetricsRecorder, NullRecorder
from informers.controller.predicates import UpdatePredicate, all_of
from informers.controller.queue import WorkQueue
from informers.controller.ratelimiter import RateLimiter
from informers.controller.reconcile import RESULTS, Request, settle
from informers.controller.sources import (
    EnqueueHandler,
    MapFunc,
    informer_scope,
    request_for_object,
    requests_for_owner,
)
from informers.exceptions import AlreadyStartedError
from informers.processor import HandlerRegistration

logger = logging.getLogger(__name__)

Resource = str | GroupVersionResource
AsyncReconcile = Callable[[Request], Awaitable[Any]]
"""``async def reconcile(request)`` returns ``None`` or a :class:`~informers.controller.Requeue`, or raises."""

_IDLE_POLL = 0.005
"""Seconds between two looks at the queue and the handlers while waiting for them to go idle or synced."""


class AsyncController:
    """Reconcile the objects of one resource with worker tasks on the running event loop.

    The arguments, the outcome of a reconcile and the guarantees (never two reconciles of one key at once, a key
    changed during its reconcile reconciled again after) are :class:`~informers.controller.Controller`'s; only
    ``reconcile`` is a coroutine function and the workers are tasks. A plain function is accepted too (called on
    the loop: keep it quick).

    Thread-safety: confined to one event loop; :attr:`queue` is thread-safe (keys may be added from any thread).
    """

    def __init__(
        self,
        client: AsyncDynamicClient | None,
        *,
        for_: Resource,
        reconcile: AsyncReconcile,
        owns: Sequence[Resource] = (),
        watches: Sequence[tuple[Resource, MapFunc]] = (),
        workers: int = 1,
        namespace: str | None = None,
        label_selector: str | None = None,
        predicates: Sequence[UpdatePredicate] = (),
        name: str | None = None,
        factory: AsyncSharedInformerFactory | None = None,
        rate_limiter: RateLimiter | None = None,
        metrics: MetricsRecorder | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Describe the controller; nothing is watched until :meth:`start`. Arguments as ``Controller``'s.

        Raises:
            ValueError: ``workers`` is below 1.
            TypeError: neither a client nor a factory was given, or ``owns`` without a client.
        """
        if workers < 1:
            raise ValueError(f"a controller needs at least 1 worker, got {workers}")
        if client is None and (factory is None or owns):
            raise TypeError("AsyncController needs a client (a factory alone serves for_ and watches, not owns)")
        self.name = name or str(for_)
        self._client = client
        self._for = for_
        self._reconcile = reconcile
        self._owns = tuple(owns)
        self._watches = tuple(watches)
        self._workers = workers
        self._namespace = namespace
        self._label_selector = label_selector
        self._predicate = all_of(*predicates) if predicates else None
        self._own_factory = factory is None
        self._factory = factory if factory is not None else AsyncSharedInformerFactory(client, namespace=namespace)
        self._clock: Clock = clock or RealClock()
        self._metrics: MetricsRecorder = metrics or NullRecorder()
        self._queue: WorkQueue[Request] = WorkQueue(
            self.name, rate_limiter=rate_limiter, clock=self._clock, metrics=self._metrics
        )
        self._started = False
        self._abandon = False
        self._tasks: list[asyncio.Task[None]] = []
        self._informers: dict[Resource, AsyncSharedIndexInformer] = {}
        self._registrations: list[tuple[AsyncSharedIndexInformer, HandlerRegistration]] = []
        self._results = dict.fromkeys(RESULTS, 0)
        self._active = 0

    def __repr__(self) -> str:
        return f"<AsyncController {self.name!r} workers={self._workers} queue={self._queue!r}>"

    async def __aenter__(self) -> AsyncController:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def queue(self) -> WorkQueue[Request]:
        """The work queue (for example to enqueue a key by hand)."""
        return self._queue

    async def informer(self, resource: Resource | None = None) -> AsyncSharedIndexInformer:
        """Return the informer of ``resource`` in this controller's scope (default: the primary's)."""
        resource = self._for if resource is None else resource
        informer = self._informers.get(resource)
        if informer is None:
            scope = informer_scope(self._namespace, self._label_selector, primary=resource == self._for)
            informer = self._informers[resource] = await self._factory.for_resource(resource, **scope)
        return informer

    def lister(self, resource: Resource | None = None) -> Lister:
        """Return the lister of ``resource``'s informer (default: the primary's); :meth:`start` created it.

        Raises:
            KeyError: ``resource`` is not one of the controller's (``for_``, ``owns``, ``watches``), or the
                controller was not started.
        """
        return self._informers[self._for if resource is None else resource].lister()

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self, sync_timeout: float = 120.0) -> None:
        """Watch, wait until every cache and handler has synced, then start the worker tasks; return.

        Raises:
            AlreadyStartedError: the controller was started before.
            TimeoutError: a cache did not sync within ``sync_timeout`` seconds (the controller is stopped again).
            ResourceNotFoundError: a resource is not served (a CRD not installed yet, say).
        """
        if self._started:
            raise AlreadyStartedError(f"controller {self.name} was already started")
        self._started = True
        self._register(await self.informer(), request_for_object, self._predicate)
        if self._owns:
            assert self._client is not None  # checked in __init__
            primary = (await self._client.resource(self._for)).api_resource
            to_owner = requests_for_owner(primary.group, primary.kind, namespaced=primary.namespaced)
            for owned in self._owns:
                self._register(await self.informer(owned), to_owner, None)
        for watched, map_func in self._watches:
            self._register(await self.informer(watched), map_func, None)
        self._factory.start()
        unsynced = await self._wait_for_sync(sync_timeout)
        if unsynced:
            await self.stop(timeout=0, drain=False)
            raise TimeoutError(f"controller {self.name}: {', '.join(unsynced)} did not sync within {sync_timeout}s")
        loop = asyncio.get_running_loop()
        for index in range(self._workers):
            self._tasks.append(loop.create_task(self._work(), name=f"controller[{self.name}]/worker-{index}"))
        logger.info("controller %s started %d worker tasks", self.name, self._workers)

    def _register(
        self, informer: AsyncSharedIndexInformer, map_func: MapFunc, predicate: UpdatePredicate | None
    ) -> None:
        registration = informer.add_event_handler(EnqueueHandler(map_func, self._queue.add, predicate=predicate))
        self._registrations.append((informer, registration))

    async def _wait_for_sync(self, timeout: float) -> list[str]:
        # As the threaded controller: the caches, then this controller's handlers, so every object of the initial
        # lists is queued before a worker starts.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._factory.wait_for_cache_sync()
                while not all(registration.has_synced() for _, registration in self._registrations):
                    await asyncio.sleep(_IDLE_POLL)
        return [informer.name for informer, registration in self._registrations if not registration.has_synced()]

    async def stop(self, timeout: float = 30.0, *, drain: bool = True) -> bool:
        """Stop taking events, then finish (``drain``) or abandon the queued keys; wait for the worker tasks.

        With ``drain``, workers reconcile every key already queued (delayed keys are dropped); without, they only
        finish the reconcile they are in. Workers still running after ``timeout`` seconds are cancelled. A
        controller that created its own informer factory shuts it down.

        Returns:
            Whether every worker ended within ``timeout`` (rather than being cancelled).
        """
        for _, registration in self._registrations:
            registration.remove()
        self._abandon = not drain
        self._queue.shut_down()
        ended = True
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=timeout)
            ended = not pending
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_factory:
            await self._factory.shutdown()
        if not ended:
            logger.warning("controller %s: workers cancelled %.1fs after stop", self.name, timeout)
        return ended

    async def run(self, stop: asyncio.Event | None = None, *, sync_timeout: float = 120.0) -> None:
        """Start, reconcile until ``stop`` is set (or the calling task is cancelled), then stop without draining."""
        await self.start(sync_timeout)
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            await self.stop(drain=False)

    # -- workers -----------------------------------------------------------------------------------------------

    async def _work(self) -> None:
        while (request := await self._queue.get_async()) is not None:
            try:
                if not self._abandon:
                    await self._reconcile_one(request)
            finally:
                self._queue.done(request)

    async def _reconcile_one(self, request: Request) -> None:
        self._active += 1
        started = self._clock.monotonic()
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._reconcile(request)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            error = exc
        finally:
            self._active -= 1
        label = settle(self._queue, request, result, error)
        self._results[label] += 1
        if error is not None:
            logger.error(
                "controller %s: reconcile of %s failed (%s, %d retries): %s",
                self.name,
                request,
                label,
                self._queue.num_requeues(request),
                error,
                exc_info=error,
            )
        self._metrics.reconciled(self.name, label, self._clock.monotonic() - started)

    # -- metrics -----------------------------------------------------------------------------------------------

    def stats(self) -> ControllerStats:
        """Return a snapshot: queue levels, reconciles by result, busy workers, and each informer's lag."""
        lag = {informer.name: registration.health().queue_depth for informer, registration in self._registrations}
        return ControllerStats(self.name, self._queue.stats(), dict(self._results), self._active, self._workers, lag)

    async def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no key is queued, delayed or held and the handlers are caught up; return whether it happened.

        For tests and demos that need "the controller has converged".
        """
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            queue = stats.queue
            if not (queue.depth or queue.delayed or queue.processing or any(stats.informer_lag.values())):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_IDLE_POLL)


__all__ = ["AsyncController", "AsyncReconcile"]

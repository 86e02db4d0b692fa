"""The controller: informer events become keys in a work queue, and workers reconcile each key, one at a time.

controller-runtime's builder (``For``, ``Owns``, ``Watches``) and controller loop in one class, over a
:class:`~informers.SharedInformerFactory`:

* events of the primary resource (``for_``) enqueue the object's own key;
* events of ``owns`` resources enqueue the key of their controller owner of the primary kind;
* events of ``watches`` resources enqueue whatever keys their mapping returns.

A key is never reconciled by two workers at once, and a key changed during its reconcile is reconciled again after
(:class:`~informers.controller.WorkQueue`). What happens after a reconcile is :func:`~informers.controller.settle`'s
table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dynaclient import DynamicClient, GroupVersionResource
from informers.cache.lister import Lister
from informers.clock import Clock, RealClock
from informers.controller.metrics import ControllerStats, MetricsRecorder, NullRecorder, QueueStats
from informers.controller.predicates import UpdatePredicate, all_of
from informers.controller.queue import WorkQueue
from informers.controller.ratelimiter import RateLimiter
from informers.controller.reconcile import RESULTS, Request, settle
from informers.controller.sources import EnqueueHandler, MapFunc, informer_scope, request_for_object, requests_for_owner
from informers.exceptions import AlreadyStartedError
from informers.factory import SharedInformerFactory
from informers.informer import SharedIndexInformer
from informers.processor import HandlerRegistration

if TYPE_CHECKING:
    from informers.leaderelection import LeaderElection, Shards

logger = logging.getLogger(__name__)

Resource = str | GroupVersionResource
_IDLE_POLL = 0.05
"""Seconds :meth:`Controller.wait_until_idle` waits on the queue before it looks at the handlers again."""

Reconcile = Callable[[Request], Any]
"""``reconcile(request)`` returns ``None`` or a :class:`~informers.controller.Requeue`, or raises."""


class Controller:
    """Reconcile the objects of one resource with a pool of worker threads.

    ``reconcile(request)`` reads what it needs from listers (:meth:`lister`), acts, and returns ``None`` (done),
    ``Requeue(after=seconds)`` or ``Requeue()`` (rate-limited retry); an exception is logged with the key, counted
    and retried with the rate limiter; a :class:`~informers.controller.TerminalError` is not retried.

    The queue, :func:`~informers.controller.settle` and the event sources know nothing of threads: an asyncio
    worker that awaits ``async def reconcile`` can take keys from the same queue.

    Thread-safety: thread-safe; ``reconcile`` is called from several worker threads, never twice at once for one
    key, and never with a lock held.
    """

    def __init__(
        self,
        client: DynamicClient | None,
        *,
        for_: Resource,
        reconcile: Reconcile,
        owns: Sequence[Resource] = (),
        watches: Sequence[tuple[Resource, MapFunc]] = (),
        workers: int = 1,
        namespace: str | None = None,
        label_selector: str | None = None,
        predicates: Sequence[UpdatePredicate] = (),
        name: str | None = None,
        factory: SharedInformerFactory | None = None,
        rate_limiter: RateLimiter | None = None,
        metrics: MetricsRecorder | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Describe the controller; nothing is watched until :meth:`start`.

        Args:
            client: the client its informers list and watch with, and that resolves the primary kind for ``owns``.
            for_: the primary resource (``"sawtooths.example.com"``, a GVR); its events enqueue their own key.
            reconcile: called with each :class:`~informers.controller.Request`.
            owns: resources whose objects are controlled by primary objects (``ownerReferences`` with
                ``controller: true`` of the primary's group and kind); their events enqueue the owner's key.
            watches: ``(resource, map_func)`` pairs; each event of ``resource`` enqueues ``map_func(obj)``.
            workers: worker threads, at least 1 (controller-runtime ``MaxConcurrentReconciles``).
            namespace: watch this namespace only; ``None``: all (or the factory's).
            label_selector: watch only primary objects with these labels.
            predicates: updates of the primary pass only if every predicate passes (adds and deletes always do).
            name: the name in logs, metrics and thread names; default: ``for_``.
            factory: share informers with other controllers; default: a factory of the controller's own.
            rate_limiter: delays of retries; default :func:`~informers.controller.default_controller_rate_limiter`.
            metrics: where queue and reconcile events are reported.
            clock: the time source of delays and durations.

        Raises:
            ValueError: ``workers`` is below 1.
            TypeError: neither a client nor a factory was given, or ``owns`` without a client.
        """
        if workers < 1:
            raise ValueError(f"a controller needs at least 1 worker, got {workers}")
        if client is None and (factory is None or owns):
            raise TypeError("Controller needs a client (a factory alone serves for_ and watches, not owns)")
        self.name = name or str(for_)
        self._client = client
        self._for = for_
        self._reconcile = reconcile
        self._owns = tuple(owns)
        self._watches = tuple(watches)
        self._workers = workers
        self._namespace = namespace
        self._label_selector = label_selector
        self._predicates = tuple(predicates)
        self._own_factory = factory is None
        self._factory = factory if factory is not None else SharedInformerFactory(client, namespace=namespace)
        self._clock: Clock = clock or RealClock()
        self._metrics: MetricsRecorder = metrics or NullRecorder()
        self._queue: WorkQueue[Request] = WorkQueue(
            self.name, rate_limiter=rate_limiter, clock=self._clock, metrics=self._metrics
        )
        self._lock = threading.Lock()
        self._started = False
        self._abandon = threading.Event()
        self._threads: list[threading.Thread] = []
        self._registrations: list[tuple[SharedIndexInformer, HandlerRegistration]] = []
        self._informers: dict[Resource, SharedIndexInformer] = {}
        self._results = dict.fromkeys(RESULTS, 0)
        self._active = 0
        self._shards: Shards | None = None

    def __repr__(self) -> str:
        return f"<Controller {self.name!r} workers={self._workers} queue={self._queue!r}>"

    def __enter__(self) -> Controller:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def queue(self) -> WorkQueue[Request]:
        """The work queue (for example to enqueue a key by hand)."""
        return self._queue

    def informer(self, resource: Resource | None = None) -> SharedIndexInformer:
        """Return the informer of ``resource`` in this controller's scope (default: the primary's)."""
        resource = self._for if resource is None else resource
        informer = self._informers.get(resource)  # reconciles call this per key: skip the factory's REST mapping
        if informer is None:
            primary = resource == self._for
            scope = informer_scope(self._namespace, self._label_selector, primary=primary)
            informer = self._factory.for_resource(resource, **scope)
            self._informers[resource] = informer  # the factory returns this same informer every time
        return informer

    def lister(self, resource: Resource | None = None) -> Lister:
        """Return the lister of ``resource``'s informer (default: the primary's): what reconciles read."""
        return self.informer(resource).lister()

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self, sync_timeout: float = 120.0) -> None:
        """Watch, wait until every cache and handler has synced, then start the workers; return.

        Raises:
            AlreadyStartedError: the controller was started before.
            TimeoutError: a cache did not sync within ``sync_timeout`` seconds of the controller's clock (the
                controller is stopped again).
            ResourceNotFoundError: a resource is not served (a CRD not installed yet, say).
        """
        with self._lock:
            if self._started:
                raise AlreadyStartedError(f"controller {self.name} was already started")
            self._started = True
        self._register(self.informer(), request_for_object, self._primary_predicate())
        if self._owns:
            assert self._client is not None  # checked in __init__
            primary = self._client.resource(self._for).api_resource
            to_owner = requests_for_owner(primary.group, primary.kind, namespaced=primary.namespaced)
            for owned in self._owns:
                self._register(self.informer(owned), to_owner, None)
        for watched, map_func in self._watches:
            self._register(self.informer(watched), map_func, None)
        self._factory.start()
        unsynced = self._wait_for_sync(sync_timeout)
        if unsynced:
            self.stop(timeout=0, drain=False)
            raise TimeoutError(f"controller {self.name}: {', '.join(unsynced)} did not sync within {sync_timeout}s")
        for index in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"controller[{self.name}]/worker-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()
        logger.info("controller %s started %d workers", self.name, self._workers)

    def _primary_predicate(self) -> UpdatePredicate | None:
        return all_of(*self._predicates) if self._predicates else None

    def _register(self, informer: SharedIndexInformer, map_func: MapFunc, predicate: UpdatePredicate | None) -> None:
        registration = informer.add_event_handler(EnqueueHandler(map_func, self._queue.add, predicate=predicate))
        self._registrations.append((informer, registration))

    def _wait_for_sync(self, timeout: float) -> list[str]:
        # controller-runtime source/kind.go: the cache first, then this controller's handler registration, so every
        # object of the initial lists is in the queue before a worker starts. The timeout is on the controller's
        # clock, like the informers' waits.
        deadline = self._clock.monotonic() + timeout
        unsynced = []
        for informer, registration in self._registrations:
            synced = informer.wait_for_cache_sync(max(0.0, deadline - self._clock.monotonic()))
            synced = synced and registration.wait_until_idle(max(0.0, deadline - self._clock.monotonic()))
            if not (synced and registration.has_synced()):
                unsynced.append(informer.name)
        return unsynced

    def stop(self, timeout: float = 30.0, *, drain: bool = True) -> bool:
        """Stop taking events, then finish (``drain``) or abandon the queued keys; wait for the workers.

        With ``drain``, workers reconcile every key already queued (delayed keys are dropped); without, they only
        finish the reconcile they are in. A controller that created its own informer factory shuts it down.

        Args:
            timeout: real seconds to wait in all.
            drain: reconcile the queued keys first.

        Returns:
            Whether every worker ended within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        for _, registration in self._registrations:
            registration.remove()
        if drain:
            self._queue.shut_down_with_drain(timeout)
        else:
            self._abandon.set()
        self._queue.shut_down()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stopped = not any(thread.is_alive() for thread in self._threads)
        if self._own_factory:
            stopped = self._factory.shutdown(max(0.0, deadline - time.monotonic())) and stopped
        if not stopped:
            logger.warning("controller %s: workers still running %.1fs after stop", self.name, timeout)
        return stopped

    def run(
        self,
        leader_election: LeaderElection | None = None,
        *,
        shards: Shards | None = None,
        stop: threading.Event | None = None,
        sync_timeout: float = 120.0,
    ) -> None:
        """Reconcile until ``stop`` is set: alone, only while ``leader_election`` leads, or only this replica's keys.

        With ``leader_election`` the controller starts when leadership is won and stops (abandoning its queue)
        when it ends; leadership lost raises :class:`~informers.LeaderElectionLostError` (exit, as
        controller-runtime does: a controller is started once). With ``shards`` the controller runs throughout and
        reconciles only the keys the ring gives this replica (:class:`~informers.leaderelection.Shards`).

        Raises:
            TypeError: both ``leader_election`` and ``shards`` were given.
            LeaderElectionLostError: leadership was lost.
        """
        if leader_election is not None and shards is not None:
            raise TypeError("run takes leader_election or shards, not both")
        stop = stop or threading.Event()
        if leader_election is not None:
            leader_election.run(lambda leading: self._run_until(leading, sync_timeout), stop=stop)
            return
        self._shards = shards
        if shards is None:
            self._run_until(stop, sync_timeout)
            return
        self.start(sync_timeout)
        try:
            shards.run(self._enqueue_matching, stop=stop)  # returns once no key of this replica is reconciling
        finally:
            self.stop(drain=False)

    def _run_until(self, stop: threading.Event, sync_timeout: float) -> None:
        self.start(sync_timeout)
        try:
            stop.wait()
        finally:
            self.stop(drain=False)

    def _enqueue_matching(self, gained: Callable[[str], bool]) -> None:
        for obj in self.lister().list():
            request = Request.for_object(obj)
            if gained(str(request)):
                self._queue.add(request)

    # -- workers -----------------------------------------------------------------------------------------------

    def _work(self) -> None:
        while (request := self._queue.get()) is not None:
            try:
                if self._abandon.is_set():
                    continue
                if self._shards is None:
                    self._reconcile_one(request)
                elif self._shards.begin(str(request)):
                    try:
                        self._reconcile_one(request)
                    finally:
                        self._shards.end(str(request))
                else:
                    self._queue.forget(request)  # another replica's key (its owner enqueues it when gained)
            finally:
                self._queue.done(request)

    def _reconcile_one(self, request: Request) -> None:
        with self._lock:
            self._active += 1
        started = self._clock.monotonic()
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._reconcile(request)
        except Exception as exc:
            error = exc
        label = settle(self._queue, request, result, error)
        elapsed = self._clock.monotonic() - started
        with self._lock:
            self._active -= 1
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
        self._metrics.reconciled(self.name, label, elapsed)

    # -- metrics -----------------------------------------------------------------------------------------------

    def stats(self) -> ControllerStats:
        """Return a snapshot: queue levels, reconciles by result, busy workers, and each informer's lag."""
        lag = {informer.name: registration.health().queue_depth for informer, registration in self._registrations}
        with self._lock:
            results, active = dict(self._results), self._active
        return ControllerStats(self.name, self._queue.stats(), results, active, self._workers, lag)

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Block until the controller is idle, or ``timeout`` seconds pass; return whether it became idle.

        Idle means, in one check: every event handler has delivered all its informer gave it (none queued, none
        running), no key waits for a worker, none is being reconciled, and none is delayed to come back by the
        deadline, ``timeout`` seconds from the call on the controller's clock. A key requeued for later than that
        (``Requeue(after=3600)``) does not keep the controller busy: ``stats().queue.next_delayed_in`` tells when
        it comes back. A write whose watch event has not reached the informer yet is not known to the controller.

        For tests and demos that need "the controller has converged".
        """
        deadline = self._clock.monotonic() + timeout
        end = time.monotonic() + timeout

        def queue_idle(queue: QueueStats) -> bool:
            comes_back = (
                queue.next_delayed_in is not None and self._clock.monotonic() + queue.next_delayed_in <= deadline
            )
            return not (queue.depth or queue.processing or comes_back)

        while True:
            # Handlers first, then the queue: an event a handler held at the first check is in the queue by the
            # second, so no key is between the two unseen.
            for _, registration in self._registrations:
                registration.wait_until_idle(max(0.0, end - time.monotonic()))
            if all(registration.wait_until_idle(0) for _, registration in self._registrations) and queue_idle(
                self._queue.stats()
            ):
                return True
            if time.monotonic() >= end:
                return False
            self._queue.wait_until(queue_idle, min(_IDLE_POLL, max(0.0, end - time.monotonic())))


__all__ = ["Controller", "Reconcile"]

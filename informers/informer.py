"""The shared indexed informer: a reflector fills a store, and every change is fanned out to event handlers.

client-go tools/cache/shared_informer.go ``sharedIndexInformer``: the informer owns the lifecycle (reflector,
resync and handler threads), the handler registrations and their resync periods, and the read side (store,
indices, lister, health); its :class:`~informers.sink.CacheSink` applies what the reflector delivers.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from dynaclient import GroupResource, JSONObject, WatchEvent
from informers.cache.index import NAMESPACE_INDEX, Indexers, namespace_index
from informers.cache.lister import Lister
from informers.cache.store import Store, StoreReader
from informers.cache.transform import Transform
from informers.clock import Clock, RealClock
from informers.exceptions import AlreadyStartedError, InformerError
from informers.handlers import AddFunc, DeleteFunc, EventHandler, FunctionHandler, UpdateFunc
from informers.health import InformerHealth, ReflectorStatusView
from informers.processor import (
    MINIMUM_RESYNC_PERIOD,
    HandlerRegistration,
    Listener,
    SharedProcessor,
    effective_resync_period,
)
from informers.reflector.listwatch import ListerWatcher, ReflectorSink
from informers.reflector.reflector import Reflector
from informers.sink import CacheSink, PreparingListerWatcher

logger = logging.getLogger(__name__)


class RunnableReflector(Protocol):
    """What the informer needs of a reflector (:class:`informers.reflector.reflector.Reflector`).

    Thread-safety: :meth:`run` is called from the informer's reflector thread, :meth:`status` from any thread.
    """

    def run(self, stop: threading.Event) -> None:
        """List and watch, feeding the sink, until ``stop`` is set."""
        ...

    def status(self) -> ReflectorStatusView:
        """Return a snapshot of the reflector's progress."""
        ...


class ReflectorFactory(Protocol):
    """Build the reflector of an informer; ``functools.partial(Reflector, page_size=...)`` fits.

    Thread-safety: called once per informer, from the thread that calls :meth:`SharedIndexInformer.start`.
    """

    def __call__(
        self, lister_watcher: ListerWatcher, sink: ReflectorSink, /, *, name: str, clock: Clock
    ) -> RunnableReflector:
        """Return a reflector that feeds ``sink`` from ``lister_watcher``; it must not start any thread."""
        ...


class SharedIndexInformer:
    """Keep an indexed cache of one resource in one scope and notify event handlers of every change.

    Lifecycle: :meth:`start` (or the blocking :meth:`run`) starts the reflector thread, a resync thread when a
    resync period is set, and a delivery thread per handler; :meth:`stop` stops and joins them all. Nothing runs
    before :meth:`start`. The informer implements :class:`~informers.reflector.listwatch.ReflectorSink`: tests may
    drive it by calling :meth:`on_replace`, :meth:`on_event` and :meth:`on_resource_version` directly.

    Objects in the cache and in notifications are shared: never modify them.

    Thread-safety: thread-safe; the sink methods are called by one reflector thread at a time.
    """

    listener_class: type[Listener] = Listener
    """Delivers notifications to each handler (the asyncio informer's listeners run as tasks)."""

    def __init__(
        self,
        lister_watcher: ListerWatcher,
        *,
        name: str = "informer",
        resource: GroupResource | str = "",
        indexers: Indexers | None = None,
        resync: float | None = None,
        transform: Transform | None = None,
        clock: Clock | None = None,
        reflector_factory: ReflectorFactory = Reflector,
        detect_mutation: bool | None = None,
    ) -> None:
        """Create a stopped informer.

        Args:
            lister_watcher: lists and watches the resource, in its scope.
            name: names the informer's threads (``informer[<name>]``) and log lines.
            resource: names the resource in the lister's not-found errors.
            indexers: more indices; the ``namespace`` index is always there.
            resync: the default handler resync period in seconds; ``None`` or ``0``: no resync. At least 1 s.
            transform: applied once to each object before it is stored (see
                :data:`~informers.cache.transform.Transform`).
            clock: time source for resyncs and waits.
            reflector_factory: builds the reflector at :meth:`start`; an
                :class:`~informers.reflector.reflector.Reflector` with its defaults unless given
                (``functools.partial(Reflector, page_size=100)`` changes them).
            detect_mutation: see :class:`~informers.cache.store.Store`.
        """
        self.name = name
        self._lister_watcher = lister_watcher
        self._resource = resource
        self._store = Store({NAMESPACE_INDEX: namespace_index, **(indexers or {})}, detect_mutation=detect_mutation)
        self._clock: Clock = clock or RealClock()
        self._reflector_factory = reflector_factory
        self._reflector: RunnableReflector | None = None
        self._processor = SharedProcessor()
        self._sink = CacheSink(self._store, self._processor, name=name, transform=transform)
        self._default_resync = _floored(resync or 0.0)
        self._resync_check_period = self._default_resync
        self._lock = threading.Lock()  # lifecycle; taken before the sink's lock, never after
        self._started = False
        self._stopped = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._handlers_added = 0

    def __repr__(self) -> str:
        state = "stopped" if self.is_stopped else "running" if self.is_started else "new"
        return f"<SharedIndexInformer {self.name} {state} synced={self.has_synced()} objects={len(self._store)}>"

    # -- read side ---------------------------------------------------------------------------------------------

    @property
    def store(self) -> StoreReader:
        """The cache, read-only (client-go ``GetStore``)."""
        return self._store

    @property
    def indexer(self) -> StoreReader:
        """The cache with its indices, read-only (client-go ``GetIndexer``); the same object as :attr:`store`."""
        return self._store

    def lister(self) -> Lister:
        """Return a :class:`~informers.cache.lister.Lister` over the cache."""
        return Lister(self._store, self._resource)

    def by_index(self, index_name: str, value: str) -> list[JSONObject]:
        """Return the cached objects indexed under ``value`` in ``index_name``, sorted by key.

        Raises:
            IndexNotFoundError: no index is named ``index_name``.
        """
        return self._store.by_index(index_name, value)

    def add_indexers(self, indexers: Indexers) -> None:
        """Register more indices, built over the current cache at once; allowed until the informer stops.

        Raises:
            InformerError: the informer is stopped.
            IndexConflictError: an index with one of the names exists; nothing is added.
        """
        if self.is_stopped:
            raise InformerError(f"informer {self.name} is stopped: cannot add indexers")
        self._store.add_indexers(indexers)

    def has_synced(self) -> bool:
        """Return whether the cache has been filled from a complete list (not per handler: see the registration)."""
        return self._sink.synced.is_set()

    def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Block until the cache is filled from a complete list or ``timeout`` seconds pass; return which."""
        return self._clock.wait(self._sink.synced, timeout)

    @property
    def last_sync_resource_version(self) -> str:
        """The resourceVersion the cache is at; ``""`` before the first list."""
        return self._store.resource_version

    @property
    def is_started(self) -> bool:
        """Whether :meth:`start` was called."""
        with self._lock:
            return self._started

    @property
    def is_stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        with self._lock:
            return self._stopped

    def health(self) -> InformerHealth:
        """Return a snapshot of the informer's progress, its reflector's and each handler's."""
        with self._lock:
            started, stopped, reflector = self._started, self._stopped, self._reflector
        status = reflector.status() if reflector is not None else None
        now = self._clock.monotonic()
        lists, events, bookmarks, resyncs = self._sink.counts.snapshot()
        return InformerHealth(
            name=self.name,
            started=started,
            stopped=stopped,
            has_synced=self.has_synced(),
            resource_version=self._store.resource_version,
            objects=len(self._store),
            lists=lists,
            events=events,
            bookmarks=bookmarks,
            resyncs=resyncs,
            watching=status is not None and status.watching,
            last_error=status.last_error if status is not None else None,
            watch_restarts=status.watch_restarts if status is not None else 0,
            reflector=status,
            handlers=tuple(listener.health() for listener in self._processor.listeners()),
            current_error=status.last_error if status is not None and status.consecutive_failures else None,
            last_error_age=_age(now, status.last_error_at if status is not None else None),
            staleness=_age(now, status.last_confirmed_at if status is not None else None),
        )

    # -- handlers ----------------------------------------------------------------------------------------------

    def add_event_handler(
        self,
        handler: EventHandler | None = None,
        *,
        on_add: AddFunc | None = None,
        on_update: UpdateFunc | None = None,
        on_delete: DeleteFunc | None = None,
        resync: float | None = None,
    ) -> HandlerRegistration:
        """Register a handler (an :class:`~informers.handlers.EventHandler`, or callbacks) on its own thread.

        The handler first receives every cached object as ``on_add(obj, True)``, then every change. ``resync``
        (seconds, at least 1; ``None``: the informer's; ``0``: none) replays the cache to this handler as
        ``on_update(obj, obj)`` periodically. As in client-go, a period shorter than the informer's resync check
        period lowers it before :meth:`start` and is raised to it after.

        Raises:
            TypeError: both a handler and callbacks were given, or neither.
            InformerError: the informer is stopped.
        """
        if (handler is None) == (on_add is None and on_update is None and on_delete is None):
            raise TypeError("add_event_handler takes either a handler or on_add/on_update/on_delete callbacks")
        target = handler if handler is not None else FunctionHandler(on_add, on_update, on_delete)
        requested = self._default_resync if resync is None else _floored(resync)
        with self._lock:
            if self._stopped:
                raise InformerError(f"informer {self.name} is stopped: cannot add an event handler")
            self._handlers_added += 1
            listener = self.listener_class(
                target,
                name=f"informer[{self.name}]/handler-{self._handlers_added}",
                upstream_synced=self._sink.synced,
                requested_resync=requested,
            )
            self._set_resync_period_locked(listener)
            self._sink.add_listener(listener)
        return HandlerRegistration(listener, self.remove_event_handler)

    def remove_event_handler(self, registration: HandlerRegistration) -> None:
        """Unregister a handler; removing an unknown or removed registration does nothing.

        Queued notifications are dropped; a callback already running may still finish after this returns.

        Raises:
            TypeError: ``registration`` is not a :class:`~informers.processor.HandlerRegistration`.
        """
        if not isinstance(registration, HandlerRegistration):
            raise TypeError(f"expected a HandlerRegistration, got a {type(registration).__name__}")
        self._sink.remove_listener(registration.listener)

    def _set_resync_period_locked(self, listener: Listener) -> None:
        # client-go shared_informer.go AddEventHandlerWithOptions. One deviation: an informer created without a
        # resync period (check period 0) takes the first handler period before start, where client-go would
        # silently never resync that handler.
        requested, now = listener.requested_resync, self._clock.monotonic()
        lowers = requested > 0 and (self._resync_check_period == 0 or requested < self._resync_check_period)
        if lowers and not self._started:
            self._resync_check_period = requested
            for existing in self._processor.listeners():
                existing.set_resync_period(effective_resync_period(existing.requested_resync, requested), now)
        elif lowers and self._resync_check_period == 0:
            logger.warning("informer %s was started without resync: %s will not be resynced", self.name, listener.name)
        listener.set_resync_period(effective_resync_period(requested, self._resync_check_period), now)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the reflector, the resync and the handler threads and return; a no-op if already started.

        Raises:
            AlreadyStartedError: the informer was stopped; informers do not restart.
        """
        with self._lock:
            if self._stopped:
                raise AlreadyStartedError(f"informer {self.name} was stopped: it cannot start again")
            if self._started:
                return
            self._started = True
            self._reflector = self._reflector_factory(
                PreparingListerWatcher(self._lister_watcher, self._sink), self._sink, name=self.name, clock=self._clock
            )
            self._processor.start()
            self._threads.append(threading.Thread(target=self._run_reflector, name=f"informer[{self.name}]"))
            if self._resync_check_period > 0:
                self._threads.append(threading.Thread(target=self._run_resync, name=f"informer[{self.name}]/resync"))
            for thread in self._threads:
                thread.daemon = True
                thread.start()

    def run(self, stop: threading.Event) -> None:
        """Start, block until ``stop`` is set, then stop and join every thread (client-go ``Run(ctx)``)."""
        self.start()
        stop.wait()
        self.stop()

    def stop(self, timeout: float | None = None, *, wait: bool = True) -> bool:
        """Stop every thread and wait up to ``timeout`` seconds in all for them to end; return whether they have.

        The reflector and the handlers are told to stop at once, so a reflector slow to stop does not keep the
        handlers running: notifications still queued are dropped, a callback in progress finishes; the list or
        watch request in flight is cancelled. With ``wait=False`` it returns at once (whether the threads have
        already ended), so that many informers can be told to stop before any is waited for. Idempotent.
        """
        # Threads end in real time: the deadline is real even when the informer's clock is fake.
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        with self._lock:
            self._stopped = True
            threads = list(self._threads)
        self._stop.set()
        self._processor.stop()
        if not wait:
            return not any(thread.is_alive() for thread in threads)
        running = [thread.name for thread in threads if not _joined(thread, remaining())]
        running += self._processor.join(remaining)
        if running:
            logger.warning("informer %s: threads still running after stop: %s", self.name, ", ".join(running))
        return not running

    def _run_reflector(self) -> None:
        reflector = self._reflector
        if reflector is None:  # pragma: no cover - start() sets it before starting this thread
            return
        try:
            reflector.run(self._stop)
        except BaseException:  # logged, never silent (a thread ends quietly on SystemExit)
            logger.exception("the reflector of informer %s failed; the cache no longer follows the server", self.name)

    def _run_resync(self) -> None:
        # client-go: the reflector's resync timer fires every resyncCheckPeriod; shouldResync picks the due handlers.
        while not self._clock.wait(self._stop, self._resync_check_period):
            self.resync()

    def resync(self) -> None:
        """Replay the cache as ``on_update(obj, obj)`` to the handlers whose resync is due; no server call."""
        self._sink.resync(self._clock.monotonic())

    # -- ReflectorSink: the reflector feeds the informer through its CacheSink ---------------------------------

    def on_replace(self, items: list[JSONObject], resource_version: str) -> None:
        """Replace the cache with ``items`` and notify (see :meth:`CacheSink.on_replace`)."""
        self._sink.on_replace(items, resource_version)

    def on_event(self, event: WatchEvent) -> None:
        """Apply one watch event and notify (see :meth:`CacheSink.on_event`)."""
        self._sink.on_event(event)

    def on_resource_version(self, resource_version: str) -> None:
        """Record a bookmark's resourceVersion."""
        self._sink.on_resource_version(resource_version)


def _age(now: float, at: float | None) -> float | None:
    return None if at is None else max(now - at, 0.0)


def _floored(period: float) -> float:
    return max(period, MINIMUM_RESYNC_PERIOD) if period > 0 else 0.0


def _joined(thread: threading.Thread, timeout: float | None) -> bool:
    if thread is not threading.current_thread():
        thread.join(timeout)
    return not thread.is_alive()


__all__ = ["ReflectorFactory", "RunnableReflector", "SharedIndexInformer"]

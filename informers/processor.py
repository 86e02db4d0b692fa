"""Fan-out of notifications to event handlers: one delivery thread and unbounded queue per handler.

client-go tools/cache/shared_informer.go ``sharedProcessor`` and ``processorListener``: the informer appends each
notification to every handler's queue and returns at once; each handler's own thread calls it, in order. A slow or
failing handler therefore never delays the informer or another handler, and each handler sees every object's
changes in the order the informer saw them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dynaclient import JSONObject
from informers.cache.keys import meta_namespace_key
from informers.exceptions import KeyFuncError
from informers.handlers import DeletedFinalStateUnknown, EventHandler
from informers.notifications import AddNotification, Notification, UpdateNotification

logger = logging.getLogger(__name__)

MINIMUM_RESYNC_PERIOD = 1.0
"""The shortest handler resync period in seconds; shorter requests are raised to it (client-go
shared_informer.go ``minimumResyncPeriod``)."""


@dataclass(frozen=True, slots=True)
class HandlerHealth:
    """A snapshot of one handler's delivery.

    Attributes:
        name: the registration's name (also its thread's name).
        queue_depth: notifications waiting for the handler.
        delivered: notifications the handler has returned from, raising or not.
        errors: notifications the handler raised on.
        has_synced: whether the handler has received the whole initial list.
        resync_period: the effective resync period in seconds; ``0`` for none.

    Thread-safety: immutable.
    """

    name: str
    queue_depth: int
    delivered: int
    errors: int
    has_synced: bool
    resync_period: float


def effective_resync_period(desired: float, check_period: float) -> float:
    """Return the resync period a handler gets, given the informer's resync check period.

    client-go shared_informer.go ``determineResyncPeriod``: no resync wanted or none possible gives ``0``; a period
    shorter than the check period is raised to it.

    >>> effective_resync_period(5.0, 30.0), effective_resync_period(60.0, 30.0), effective_resync_period(60.0, 0.0)
    (30.0, 60.0, 0.0)
    """
    if desired <= 0 or check_period <= 0:
        return 0.0
    return max(desired, check_period)


class Listener:
    """Delivers notifications to one handler from its own thread, through an unbounded FIFO queue.

    :meth:`add` never blocks. Notifications added with ``initial=True`` are counted until the handler returns
    from them, which is what :meth:`has_synced` waits for (client-go tools/cache/synctrack ``SingleFileTracker``).
    The queue holds runs, one per :meth:`add_all`, not one entry per notification; the delivery thread takes every
    queued run at once and delivers them in order, taking the lock again only after each initial run and at the end
    (so ``delivered`` in :meth:`health` grows in steps): a list of 10,000 objects costs two lock round trips.
    A handler that raises is logged and counted; the next notification follows (client-go crashes by default).
    That holds for ``SystemExit`` and every other ``BaseException`` too: in a thread they would otherwise end the
    delivery thread without a word, and the handler would never be called again.

    Thread-safety: thread-safe; the handler is only ever called from the listener's thread.
    """

    def __init__(
        self, handler: EventHandler, *, name: str, upstream_synced: threading.Event, requested_resync: float
    ) -> None:
        """Create a stopped listener; ``upstream_synced`` is set once the informer has its initial list."""
        self.handler = handler
        self.name = name
        self.requested_resync = requested_resync
        self.resync_period = 0.0
        self.next_resync = 0.0
        self._upstream_synced = upstream_synced
        self._condition = threading.Condition()
        self._queue: deque[tuple[Sequence[Notification], bool]] = deque()  # runs: (notifications, initial)
        self._queued = 0  # notifications in self._queue
        self._in_hand = 0  # notifications taken by the delivery thread and not delivered yet; written by it only
        self._busy = False
        self._stopped = False
        self._pending_initial = 0
        self._delivered = 0
        self._errors = 0
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<Listener {self.name} handler={self.handler!r}>"

    def add(self, notification: Notification, *, initial: bool = False) -> None:
        """Queue ``notification``; ``initial`` counts it towards :meth:`has_synced`. Dropped once stopped."""
        self.add_all((notification,), initial=initial)

    def add_all(self, notifications: Sequence[Notification], *, initial: bool = False) -> None:
        """Queue ``notifications`` in order, at once (a relist's); as :meth:`add` for each, but one wake-up.

        The listener keeps ``notifications`` itself, not a copy: the caller must not modify it afterwards (several
        listeners may share one).
        """
        with self._condition:
            if self._stopped or not notifications:
                return
            self._queue.append((notifications, initial))
            self._queued += len(notifications)
            self._pending_initial += len(notifications) if initial else 0
            self._condition.notify_all()

    def start(self) -> None:
        """Start the delivery thread; a no-op if it is already started or the listener is stopped."""
        with self._condition:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drop the queued notifications and end the thread after the callback in progress, without waiting."""
        with self._condition:
            self._stopped = True
            self._queue.clear()
            self._queued = 0
            self._condition.notify_all()

    def join(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for the thread to end; return whether it has (or never started)."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return thread is None
        thread.join(timeout)
        return not thread.is_alive()

    def wait_until_idle(self, timeout: float | None) -> bool:
        """Block until the handler has synced and caught up with its queue, or ``timeout`` seconds pass.

        Returns:
            Whether the handler has synced (see :meth:`has_synced`), its queue is empty and no callback runs:
            ``False`` on timeout, and when the listener stopped before the handler synced.
        """
        # Real time, like Condition.wait_for: this waits for threads, whatever clock the informer uses.
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._upstream_synced.wait(0.05 if deadline is None else min(0.05, _left(deadline))):
            with self._condition:
                if self._stopped:
                    return False
            if deadline is not None and _left(deadline) <= 0:
                return False
        with self._condition:
            self._condition.wait_for(
                lambda: self._stopped or not (self._queue or self._busy),
                None if deadline is None else _left(deadline),
            )
            return self._pending_initial == 0 and not (self._queue or self._busy)

    def has_synced(self) -> bool:
        """Return whether the informer has synced and the handler has returned from every initial notification."""
        with self._condition:
            pending = self._pending_initial
        return pending == 0 and self._upstream_synced.is_set()

    def health(self) -> HandlerHealth:
        """Return a snapshot of this listener's delivery."""
        synced = self.has_synced()
        with self._condition:
            depth, delivered, errors = self._queued + self._in_hand, self._delivered, self._errors
        return HandlerHealth(self.name, depth, delivered, errors, synced, self.resync_period)

    def set_resync_period(self, period: float, now: float) -> None:
        """Set the effective resync period; the next resync falls one period after ``now``."""
        self.resync_period = period
        self.next_resync = now + period

    def due_for_resync(self, now: float) -> bool:
        """Return whether a resync is due at ``now``; if so, schedule the next one (client-go ``shouldResync``)."""
        if self.resync_period <= 0 or now < self.next_resync:
            return False
        self.next_resync = now + self.resync_period
        return True

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._stopped or bool(self._queue))
                if self._stopped:
                    return
                # Take everything queued in one lock round trip, not two per notification. Notifications added
                # meanwhile queue behind the batch, in order.
                batch, self._queue = self._queue, deque()
                self._in_hand, self._queued = self._queued, 0
                self._busy = True
            self._deliver_batch(batch)

    def _deliver_batch(self, batch: deque[tuple[Sequence[Notification], bool]]) -> None:
        delivered = errors = 0
        for notifications, initial in batch:
            done = 0
            for notification in notifications:
                if self._stopped:  # stop() drops what is left after the callback in progress
                    break
                self._in_hand -= 1  # waiting no more: the queue depth counts what waits behind this one
                errors += not self._deliver(notification)
                done += 1
            delivered += done
            if initial and done:  # the run's initial notifications are handled: has_synced may turn true now
                self._count(delivered, errors, done, busy=True)
                delivered = errors = 0
            if done < len(notifications):
                break
        self._in_hand = 0
        self._count(delivered, errors, 0, busy=False)

    def _count(self, delivered: int, errors: int, initial_done: int, *, busy: bool) -> None:
        with self._condition:
            self._busy = busy
            self._pending_initial -= initial_done
            self._delivered += delivered
            self._errors += errors
            self._condition.notify_all()

    def _deliver(self, notification: Notification) -> bool:
        try:
            if isinstance(notification, AddNotification):
                self.handler.on_add(notification.obj, notification.is_initial)
            elif isinstance(notification, UpdateNotification):
                self.handler.on_update(notification.old, notification.new)
            else:
                self.handler.on_delete(notification.obj)
        except BaseException as error:  # SystemExit included: it would end this thread silently
            log_handler_error(self.name, error, notification)
            return False
        return True


class HandlerRegistration:
    """The handle :meth:`SharedIndexInformer.add_event_handler` returns: sync state, health and removal.

    The same handler registered twice gets two independent registrations (client-go
    ``ResourceEventHandlerRegistration``).

    Thread-safety: thread-safe.
    """

    def __init__(self, listener: Listener, remover: Callable[[HandlerRegistration], None]) -> None:
        """Wrap ``listener``; ``remover`` unregisters it from its informer."""
        self._listener = listener
        self._remover = remover

    def __repr__(self) -> str:
        return f"<HandlerRegistration {self.name} handler={self.handler!r}>"

    @property
    def name(self) -> str:
        """The registration's name, also the name of its delivery thread."""
        return self._listener.name

    @property
    def handler(self) -> EventHandler:
        """The registered handler."""
        return self._listener.handler

    @property
    def listener(self) -> Listener:
        """The listener that delivers to the handler (for the informer)."""
        return self._listener

    def has_synced(self) -> bool:
        """Return whether the handler has returned from every notification of the initial list.

        client-go shared_informer.go ``handlerRegistration.HasSynced``: the informer has synced and the handler
        has finished with every initial add queued for it (for a handler added after start, the current cache).
        """
        return self._listener.has_synced()

    def remove(self) -> None:
        """Unregister the handler; idempotent. Queued notifications are dropped; a running callback may finish."""
        self._remover(self)

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Block until the handler has caught up with every queued notification; return ``False`` on timeout."""
        return self._listener.wait_until_idle(timeout)

    def health(self) -> HandlerHealth:
        """Return a snapshot of the handler's queue depth, deliveries and errors."""
        return self._listener.health()


class SharedProcessor:
    """The listeners of one informer: registration, fan-out, resync selection, start and stop.

    Listeners registered before :meth:`start` start with it; later ones start as they are added. Removed listeners
    are stopped at once but still joined by :meth:`join`, so shutting down leaves no thread behind.

    Thread-safety: thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._removed: list[Listener] = []
        self._started = False
        self._stopped = False

    def listeners(self) -> list[Listener]:
        """Return the registered listeners, in registration order."""
        with self._lock:
            return list(self._listeners)

    def add(self, listener: Listener) -> None:
        """Register ``listener``, starting it if the processor is running."""
        with self._lock:
            self._listeners.append(listener)
            running = self._started and not self._stopped
        if running:
            listener.start()

    def remove(self, listener: Listener) -> None:
        """Unregister and stop ``listener``; a no-op if it is not registered."""
        with self._lock:
            if listener not in self._listeners:
                return
            self._listeners.remove(listener)
            self._removed.append(listener)
        listener.stop()

    def has_listeners(self) -> bool:
        """Return whether a listener is registered."""
        with self._lock:
            return bool(self._listeners)

    def distribute(self, notification: Notification, *, initial: bool = False) -> None:
        """Queue ``notification`` for every listener."""
        self.distribute_all((notification,), initial=initial)

    def distribute_all(self, notifications: Sequence[Notification], *, initial: bool = False) -> None:
        """Queue ``notifications``, in order, for every listener."""
        for listener in self.listeners():
            listener.add_all(notifications, initial=initial)

    def due_for_resync(self, now: float) -> list[Listener]:
        """Return the listeners whose resync is due at ``now``, scheduling their next one."""
        return [listener for listener in self.listeners() if listener.due_for_resync(now)]

    def start(self) -> None:
        """Start every registered listener; a no-op once started."""
        with self._lock:
            if self._started:
                return
            self._started = True
            listeners = list(self._listeners)
        for listener in listeners:
            listener.start()

    def stop(self) -> None:
        """Stop every listener; buffered notifications are dropped."""
        with self._lock:
            self._stopped = True
            listeners = self._listeners + self._removed
        for listener in listeners:
            listener.stop()

    def join(self, deadline: Callable[[], float | None]) -> list[str]:
        """Wait for every listener thread, each for the time ``deadline()`` leaves; return the names still running."""
        with self._lock:
            listeners = self._listeners + self._removed
        return [listener.name for listener in listeners if not listener.join(deadline())]


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def log_handler_error(listener: str, error: BaseException, notification: Notification) -> None:
    """Log that a handler raised ``error`` on ``notification`` and that delivery goes on."""
    callback = type(notification).__name__.removesuffix("Notification").lower()
    logger.error(
        "event handler %s raised %s on %s of %s; delivery continues",
        listener,
        type(error).__name__,
        callback,
        _key(notification),
        exc_info=error,
    )


def _key(notification: Notification) -> str:
    obj: JSONObject | DeletedFinalStateUnknown = (
        notification.new if isinstance(notification, UpdateNotification) else notification.obj
    )
    try:
        return repr(meta_namespace_key(obj))
    except KeyFuncError:
        return "an object without a key"


__all__ = [
    "MINIMUM_RESYNC_PERIOD",
    "HandlerHealth",
    "HandlerRegistration",
    "Listener",
    "SharedProcessor",
    "effective_resync_period",
    "log_handler_error",
]

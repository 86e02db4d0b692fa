"""The work queue: deduplicating, never handing a key to two workers, delaying and rate-limited.

One class with client-go's three layers (util/workqueue queue.go, delaying_queue.go, rate_limiting_queue.go):

* A key waits at most once: adding a key that is already waiting does nothing.
* A key a worker holds (between :meth:`WorkQueue.get` and :meth:`WorkQueue.done`) is never handed to another
  worker; if it is added meanwhile it is queued again at ``done``, so the change is not lost.
* :meth:`WorkQueue.add_after` delays a key; a key delayed twice keeps the earlier time.
* :meth:`WorkQueue.add_rate_limited` delays a key by its rate limiter; :meth:`WorkQueue.forget` resets it.
* After :meth:`WorkQueue.shut_down`, adds are dropped and workers still get the keys already waiting; ``get``
  returns ``None`` once none is left. :meth:`WorkQueue.shut_down_with_drain` also waits for the held keys.

Workers may be threads (:meth:`WorkQueue.get`) or asyncio tasks (``await`` :meth:`WorkQueue.get_async`), even on
one queue: both take keys under the same lock with the same rules; only how a worker waits differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from informers.clock import Clock, RealClock
from informers.controller.metrics import MetricsRecorder, NullRecorder, QueueStats
from informers.controller.ratelimiter import RateLimiter, default_controller_rate_limiter

K = TypeVar("K", bound=Hashable)

_DELAY_POLL = 0.05


class WorkQueue(Generic[K]):
    """A client-go work queue of hashable keys (``None`` is not a key).

    Delayed keys join the queue when a worker looks for work and the queue's clock says they are due: a test with
    a :class:`~informers.FakeClock` advances it and the next :meth:`get` hands the key out; the queue has no
    thread of its own.

    Thread-safety: thread-safe, for threads and for tasks of any event loops; the metrics recorder is called without
    the queue's lock held.
    """

    def __init__(
        self,
        name: str = "",
        *,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        """Create an empty queue.

        Args:
            name: the queue's name in metrics and thread names.
            rate_limiter: the delays of :meth:`add_rate_limited`; default :func:`default_controller_rate_limiter`.
            clock: the time source of delays and latencies.
            metrics: where adds, retries and latencies are reported.
        """
        self.name = name
        self._clock: Clock = clock or RealClock()
        self._rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter(clock=self._clock)
        self._metrics: MetricsRecorder = metrics or NullRecorder()
        self._cond = threading.Condition()
        self._async_getters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: dict[K, float] = {}
        self._added_at: dict[K, float] = {}
        self._delayed: list[tuple[float, int, K]] = []
        self._ready_at: dict[K, float] = {}
        self._sequence = itertools.count()
        self._shutting_down = False
        self._draining = False
        self._adds = 0
        self._retries = 0

    def __repr__(self) -> str:
        with self._cond:
            return (
                f"<WorkQueue {self.name!r} depth={len(self._queue)} delayed={len(self._ready_at)} "
                f"processing={len(self._processing)}{' shut down' if self._shutting_down else ''}>"
            )

    def __len__(self) -> int:
        """Return how many keys wait for a worker (held and delayed keys are not counted)."""
        with self._cond:
            released = self._release_due_locked()
            depth = len(self._queue)
        self._report_adds(released)
        return depth

    # -- the queue ---------------------------------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Queue ``key`` unless it is already waiting; a held key is queued again when its worker is done.

        Raises:
            TypeError: ``key`` is ``None``.
        """
        if key is None:
            raise TypeError("None cannot be a work queue key")
        with self._cond:
            added = self._add_locked(key)
        if added:
            self._metrics.queue_added(self.name)

    def _add_locked(self, key: K) -> bool:
        if self._shutting_down or key in self._dirty:
            return False
        self._adds += 1
        self._dirty.add(key)
        self._added_at.setdefault(key, self._clock.monotonic())
        if key not in self._processing:
            self._queue.append(key)
            self._notify_locked(everyone=False)
        return True

    def get(self, timeout: float | None = None) -> K | None:
        """Hand the next key to the calling worker, blocking until one waits.

        Args:
            timeout: real seconds to wait at most; ``None``: until a key or shutdown.

        Returns:
            The key, which the worker must pass to :meth:`done`; ``None`` once the queue is shut down and empty,
            or when ``timeout`` passed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        released = 0
        with self._cond:
            while True:
                released += self._release_due_locked()
                if self._queue or self._shutting_down:
                    break
                wait = self._wait_locked(deadline)
                if wait is not None and wait <= 0:
                    break
                self._cond.wait(wait)
            taken = self._take_locked()
        return self._handed_out(taken, released)

    async def get_async(self, timeout: float | None = None) -> K | None:
        """Hand the next key to the calling task, waiting on its event loop (never blocking it) until one waits.

        The same as :meth:`get` for an asyncio worker: the same keys, rules and shutdown. Cancelling the caller
        while it waits takes no key (a key it was woken for stays queued for the next worker).

        Args:
            timeout: real seconds to wait at most; ``None``: until a key or shutdown.

        Returns:
            The key, which the worker must pass to :meth:`done`; ``None`` once the queue is shut down and empty,
            or when ``timeout`` passed.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else time.monotonic() + timeout
        released = 0
        while True:
            with self._cond:
                released += self._release_due_locked()
                wait = None if self._queue or self._shutting_down else self._wait_locked(deadline)
                if (wait is not None and wait <= 0) or self._queue or self._shutting_down:
                    taken = self._take_locked()
                    break
                getter = (loop, loop.create_future())
                self._async_getters.append(getter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await getter[1]
            finally:
                with self._cond, contextlib.suppress(ValueError):
                    self._async_getters.remove(getter)
        return self._handed_out(taken, released)

    def _take_locked(self) -> tuple[K, float, float] | None:
        if not self._queue:
            return None
        key = self._queue.popleft()
        now = self._clock.monotonic()
        self._processing[key] = now
        self._dirty.discard(key)
        return key, now, self._added_at.pop(key, now)

    def _handed_out(self, taken: tuple[K, float, float] | None, released: int) -> K | None:
        self._report_adds(released)
        if taken is None:
            return None
        key, now, added_at = taken
        self._metrics.queue_latency(self.name, now - added_at)
        return key

    def _notify_locked(self, *, everyone: bool = True) -> None:
        # Threads wait on the condition; tasks on a future each, resolved on their own loop. Every task getter is
        # woken (it re-checks under the lock and waits again if another took the key): waking one that is being
        # cancelled must not strand a key, and controllers run a handful of workers.
        if everyone:
            self._cond.notify_all()
        else:
            self._cond.notify()
        if not self._async_getters:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, future in self._async_getters:
            if loop is running:
                _wake(future)
            else:
                with contextlib.suppress(RuntimeError):  # its loop closed: the getter is gone with it
                    loop.call_soon_threadsafe(_wake, future)
        self._async_getters.clear()

    def _wait_locked(self, deadline: float | None) -> float | None:
        # How long a getter sleeps: until its deadline, or until the next delayed key is due. A fake clock does not
        # move by itself, so that second wait is capped and re-checked (a blocked getter notices an advance within
        # _DELAY_POLL real seconds; a getter called after the advance releases the key at once).
        waits = [] if deadline is None else [deadline - time.monotonic()]
        if self._delayed:
            waits.append(min(_DELAY_POLL, self._delayed[0][0] - self._clock.monotonic()))
        return min(waits, default=None)

    def done(self, key: K) -> None:
        """Release ``key`` after processing; queue it again if it was added meanwhile."""
        with self._cond:
            started = self._processing.pop(key, None)
            if key in self._dirty:
                self._queue.append(key)
                self._notify_locked(everyone=False)
            elif not self._processing:
                self._notify_locked()  # a drain may be waiting for the last held key
            now = self._clock.monotonic()
        if started is not None:
            self._metrics.work_duration(self.name, now - started)

    def shut_down(self) -> None:
        """Drop further adds and delays; workers still get the waiting keys. Cancels a drain in progress."""
        with self._cond:
            self._shut_down_locked()
            self._draining = False

    def shut_down_with_drain(self, timeout: float | None = None) -> bool:
        """Shut down, then wait until workers have handed back every key (client-go ``ShutDownWithDrain``).

        Workers keep taking the waiting keys, including keys added again while held. :meth:`shut_down` from another
        thread ends the wait early.

        Args:
            timeout: real seconds to wait at most; ``None``: no limit.

        Returns:
            Whether every key was handed back.
        """
        with self._cond:
            self._shut_down_locked()
            self._draining = True
            self._cond.wait_for(lambda: not self._draining or (not self._processing and not self._queue), timeout)
            drained = not self._processing and not self._queue
            self._draining = False
            return drained

    def _shut_down_locked(self) -> None:
        self._shutting_down = True
        self._delayed.clear()
        self._ready_at.clear()
        self._notify_locked()

    def shutting_down(self) -> bool:
        """Return whether the queue was shut down."""
        with self._cond:
            return self._shutting_down

    # -- delays and rate limiting ------------------------------------------------------------------------------

    def add_after(self, key: K, delay: float) -> None:
        """Add ``key`` after ``delay`` seconds of the queue's clock; a key already delayed keeps the earlier time.

        Raises:
            TypeError: ``key`` is ``None``.
        """
        if key is None:
            raise TypeError("None cannot be a work queue key")
        with self._cond:
            if self._shutting_down:
                return
            self._retries += 1
            added = False
            if delay <= 0:
                added = self._add_locked(key)
            else:
                self._delay_locked(key, self._clock.monotonic() + delay)
        self._metrics.queue_retried(self.name)
        if added:
            self._metrics.queue_added(self.name)

    def add_rate_limited(self, key: K) -> None:
        """Add ``key`` after the delay its rate limiter gives (one more failure on its record)."""
        self.add_after(key, self._rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """Clear ``key``'s failure history: its next rate-limited add waits the shortest delay again."""
        self._rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        """Return how many rate-limited adds of ``key`` happened since it was last forgotten."""
        return self._rate_limiter.num_requeues(key)

    def _delay_locked(self, key: K, ready_at: float) -> None:
        previous = self._ready_at.get(key)
        if previous is not None and previous <= ready_at:
            return  # client-go delaying_queue.go insert: the earlier time wins
        self._ready_at[key] = ready_at
        heapq.heappush(self._delayed, (ready_at, next(self._sequence), key))
        self._notify_locked()  # blocked getters recompute their wait

    def _report_adds(self, count: int) -> None:
        for _ in range(count):
            self._metrics.queue_added(self.name)

    def _release_due_locked(self) -> int:
        now, added = self._clock.monotonic(), 0
        while self._delayed and self._delayed[0][0] <= now:
            ready_at, _, key = heapq.heappop(self._delayed)
            if self._ready_at.get(key) == ready_at:  # otherwise a stale entry superseded by an earlier time
                del self._ready_at[key]
                added += self._add_locked(key)
        return added

    # -- metrics -----------------------------------------------------------------------------------------------

    def stats(self) -> QueueStats:
        """Return a snapshot of the queue's levels and counters (due delayed keys count as waiting)."""
        with self._cond:
            released = self._release_due_locked()
            now = self._clock.monotonic()
            held = [now - started for started in self._processing.values()]
            stats = QueueStats(
                name=self.name,
                depth=len(self._queue),
                delayed=len(self._ready_at),
                processing=len(self._processing),
                adds=self._adds,
                retries=self._retries,
                unfinished_seconds=sum(held),
                longest_running_seconds=max(held, default=0.0),
                shutting_down=self._shutting_down,
                next_delayed_in=min(self._ready_at.values(), default=now) - now if self._ready_at else None,
            )
        self._report_adds(released)
        return stats

    def wait_until(self, condition: Callable[[QueueStats], bool], timeout: float = 10.0) -> bool:
        """Block until ``condition(self.stats())`` holds, or ``timeout`` real seconds pass; return whether it held.

        For tests and tools: "the timer released the key" without sleeping a guessed time.
        """
        deadline = time.monotonic() + timeout
        while not condition(self.stats()):
            if time.monotonic() >= deadline:
                return False
            with self._cond:
                self._cond.wait(0.001)
        return True


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


__all__ = ["WorkQueue"]

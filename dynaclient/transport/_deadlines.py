"""One daemon thread that runs callbacks at deadlines: a request read whole is aborted when its time is up.

A per-read socket timeout does not bound a whole response: a server sending one byte a second never lets a read
time out. The HTTP transport schedules an abort of the connection at the request's deadline instead; one shared
thread serves every request, so a request costs a heap push, not a thread.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

_PRUNE_AT = 1024
"""Cancelled entries tolerated in the heap before it is rebuilt without them."""


class DeadlineScheduler:
    """Runs each scheduled callback once at its deadline, unless cancelled first.

    Thread-safety: thread-safe. Callbacks run on the scheduler's thread, outside its lock; they must be quick.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, list[Callable[[], None] | None]]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._cancelled = 0  # cancelled entries still in the heap

    def schedule(self, deadline: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` at ``deadline`` (on the clock); return a function that cancels it."""
        entry: list[Callable[[], None] | None] = [callback]
        with self._changed:
            heapq.heappush(self._heap, (deadline, next(self._order), entry))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dynaclient-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is entry:  # only a new earliest deadline needs the thread awake sooner
                self._changed.notify()

        def cancel() -> None:
            with self._changed:
                if entry[0] is not None:
                    entry[0] = None
                    self._cancelled += 1
                    self._prune_locked()

        return cancel

    def _prune_locked(self) -> None:
        """Drop cancelled entries once they are most of the heap (requests end long before their deadlines)."""
        if self._cancelled > _PRUNE_AT and self._cancelled * 2 > len(self._heap):
            self._heap = [item for item in self._heap if item[2][0] is not None]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._heap:
                    self._changed.wait()
                deadline, _, entry = self._heap[0]
                delay = deadline - self._clock()
                if delay > 0 and entry[0] is not None:
                    self._changed.wait(delay)
                    continue
                heapq.heappop(self._heap)
                callback, entry[0] = entry[0], None
                if callback is None:
                    self._cancelled -= 1
            if callback is not None:
                callback()


DEADLINES = DeadlineScheduler()
"""The scheduler the HTTP transport shares."""

__all__ = ["DEADLINES", "DeadlineScheduler"]

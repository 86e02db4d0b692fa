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

    def schedule(self, deadline: float, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` at ``deadline`` (on the clock); return a function that cancels it."""
        entry: list[Callable[[], None] | None] = [callback]
        with self._changed:
            heapq.heappush(self._heap, (deadline, next(self._order), entry))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dynaclient-deadlines", daemon=True)
                self._thread.start()
            self._changed.notify()

        def cancel() -> None:
            entry[0] = None

        return cancel

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
            if callback is not None:
                callback()


DEADLINES = DeadlineScheduler()
"""The scheduler the HTTP transport shares."""

__all__ = ["DEADLINES", "DeadlineScheduler"]

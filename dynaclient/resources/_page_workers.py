"""The daemon threads that fetch a list's pages ahead, kept from one page to the next.

A thread started per page cost its start each time: the clone, its stack faulted in again (glibc advises the
kernel to drop a cached stack's pages when a thread ends), the interpreter's thread state and the first frames'
memory. A list keeps its workers instead: one reads a page while another may already fetch the page after it,
so a list never has more than two, and a worker idle for a while (``linger`` seconds) ends by itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]
_Task = tuple[Job, Job]

LINGER = 1.0
"""Seconds an idle worker waits for its next page before it ends (a list asks for the next page within
milliseconds; a list abandoned without being closed leaves no thread for longer)."""


class PageWorkers:
    """Daemon threads (so an abandoned list never delays the exit) that run the jobs given to them, reused.

    Thread-safety: thread-safe. Jobs must not raise: a job hands its outcome on itself, and its ``then`` tells it.
    """

    def __init__(self, name: str, linger: float = LINGER) -> None:
        self._name = name
        self._linger = linger
        self._idle: list[_Worker] = []
        self._closed = False
        self._lock = threading.Lock()

    def run(self, job: Job, then: Job) -> None:
        """Run ``job`` in an idle worker (a new one when none is idle), then ``then`` once the worker is idle again.

        So whoever learns from ``then`` that the job is done can give the next job to the same worker.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the page workers are closed")
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self._linger, self._rest, self._leave)
            worker.inbox.put((job, then))
            threading.Thread(target=worker.work, name=self._name, daemon=True).start()
        else:
            worker.inbox.put((job, then))  # a worker whose wait just ended finds itself taken, and waits on

    def close(self) -> None:
        """End the idle workers now, and each busy one when its job is done."""
        with self._lock:
            self._closed, idle, self._idle = True, self._idle, []
        for worker in idle:
            worker.inbox.put(None)

    def _rest(self, worker: _Worker) -> bool:
        """Take ``worker`` back as idle after a job; ``False`` when it should end instead."""
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
            return not self._closed

    def _leave(self, worker: _Worker) -> bool:
        """Let a worker whose wait ran out end, unless it was taken for a job meanwhile (``False`` then)."""
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
            return False


class _Worker:
    """One worker's inbox and loop.

    Thread-safety: the inbox is thread-safe; :meth:`work` runs in the worker's own thread.
    """

    def __init__(self, linger: float, rest: Callable[[_Worker], bool], leave: Callable[[_Worker], bool]) -> None:
        self.inbox: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._linger, self._rest, self._leave = linger, rest, leave

    def work(self) -> None:
        """Run jobs until closed, or until idle for the linger time."""
        while True:
            try:
                task = self.inbox.get(timeout=self._linger)
            except queue.Empty:
                if self._leave(self):
                    return
                continue
            if task is None:
                return
            job, then = task
            job()
            resting = self._rest(self)
            then()
            del task, job, then  # an idle worker keeps nothing of the page it fetched
            if not resting:
                return


__all__ = ["LINGER", "PageWorkers"]

"""How long each callback of an event loop held it, with the machine's load taken out.

asyncio's debug mode logs a callback whose *wall* time passes ``slow_callback_duration``. On a shared, loaded machine
a callback's wall time also holds the time the process waited for a CPU, and that wait is the scheduler's, not the
code's: the same run logs 70 ms callbacks under load and none when idle. :class:`LoopBlockingMonitor` times every
callback the loop runs (``asyncio.Handle._run``, where debug mode times them) from the kernel's accounting of each
thread of the process (``/proc/self/task/<tid>/schedstat``: time on a CPU, time waiting in a run queue):

* ``wall``: what debug mode measures;
* ``cpu``: time the loop's thread ran on a CPU;
* ``held``: ``wall`` minus the time the loop's thread, and the process's other threads, waited in a run queue
  (another thread preempted while it holds the GIL keeps the loop waiting for the GIL), but never less than
  ``cpu``: the time the callback kept the loop running, blocked in a system call (a ``time.sleep``, a synchronous
  read) or waiting for a GIL another thread held while running (a long C call that does not release it).

A callback blocks the loop when its ``held`` time reaches the threshold.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CallbackTime:
    """One callback that ran for at least the monitor's threshold (``wall`` or ``held``), in seconds.

    Thread-safety: immutable.
    """

    what: str
    wall: float
    cpu: float
    held: float

    def __str__(self) -> str:
        return f"{self.what}: held {self.held * 1e3:.1f} ms, cpu {self.cpu * 1e3:.1f} ms, wall {self.wall * 1e3:.1f} ms"


@dataclass
class LoopBlockingMonitor:
    """Collects the callbacks of the loops on the monitored thread that ran at least ``threshold`` seconds.

    Thread-safety: written by the monitored thread only; read after :meth:`watch` ends.
    """

    threshold: float = 0.05
    callbacks: int = 0
    longest_held: float = 0.0
    slow: list[CallbackTime] = field(default_factory=list)

    @property
    def blocking(self) -> list[CallbackTime]:
        """The callbacks that held the loop for the threshold or more (run-queue waits excluded)."""
        return [callback for callback in self.slow if callback.held >= self.threshold]

    @property
    def preempted(self) -> list[CallbackTime]:
        """The callbacks slow on the wall clock only: the machine's load, which debug mode would have logged."""
        return [callback for callback in self.slow if callback.held < self.threshold]

    @contextlib.contextmanager
    def watch(self) -> Iterator[LoopBlockingMonitor]:
        """Time every callback run on the calling thread while the block runs."""
        thread, native = threading.get_ident(), threading.get_native_id()
        original = asyncio.Handle._run

        def timed_run(handle: asyncio.Handle) -> None:
            if threading.get_ident() != thread:
                original(handle)
                return
            ran, waited, others_waited = _schedstat(native)
            started = time.perf_counter()
            try:
                original(handle)
            finally:
                wall = time.perf_counter() - started
                ran_after, waited_after, others_waited_after = _schedstat(native)
                self.callbacks += 1
                cpu = ran_after - ran
                preempted = waited_after - waited + _waited_meanwhile(others_waited, others_waited_after)
                held = min(wall, max(cpu, wall - preempted))
                self.longest_held = max(self.longest_held, held)
                if wall >= self.threshold or held >= self.threshold:
                    self.slow.append(CallbackTime(_describe(handle), wall, cpu, held))

        asyncio.Handle._run = timed_run  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            asyncio.Handle._run = original  # type: ignore[method-assign]


def _schedstat(loop_thread: int) -> tuple[float, float, dict[str, float]]:
    """Return the loop thread's CPU and run-queue seconds, and each other thread's run-queue seconds."""
    ran = waited = 0.0
    others: dict[str, float] = {}
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/schedstat", "rb") as stats:
                running, waiting, _ = stats.read().split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
        if int(task) == loop_thread:
            ran, waited = int(running) / 1e9, int(waiting) / 1e9
        else:
            others[task] = int(waiting) / 1e9
    return ran, waited, others


def _waited_meanwhile(before: dict[str, float], after: dict[str, float]) -> float:
    """Run-queue seconds of the threads alive at both readings, between them."""
    return sum(after[task] - before[task] for task in before.keys() & after.keys())


def _describe(handle: asyncio.Handle) -> str:
    text = repr(handle)
    return text if len(text) <= 300 else text[:297] + "..."


__all__ = ["CallbackTime", "LoopBlockingMonitor"]

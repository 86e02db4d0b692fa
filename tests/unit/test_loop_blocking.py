"""The loop-blocking monitor of the no-slow-callback check: it catches blocking code and forgives the machine's load."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.loop_blocking import LoopBlockingMonitor

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/schedstat"), reason="needs Linux schedstat")


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _run(monitor: LoopBlockingMonitor, *steps: object) -> None:
    async def scenario() -> None:
        for step in steps:
            if step == "await":
                await asyncio.sleep(0.08)  # waiting on the loop: never blocking
            elif step == "sleep":
                time.sleep(0.25)  # blocks the loop without using a CPU
            else:
                _burn(0.25)  # blocks the loop with CPU work
            await asyncio.sleep(0)

    with monitor.watch():
        asyncio.run(scenario())


def test_cpu_work_and_blocking_calls_on_the_loop_are_caught_awaiting_is_not() -> None:
    monitor = LoopBlockingMonitor(threshold=0.05)
    _run(monitor, "await", "burn", "await", "sleep", "await")
    assert len(monitor.blocking) == 2, [str(c) for c in monitor.slow]
    burn, sleep = monitor.blocking  # each held the loop for the threshold or more: that is what blocking means
    assert burn.cpu >= 0.2
    assert sleep.cpu < 0.02
    # 250 ms, five times the threshold: on a loaded machine the other threads' run-queue waits meanwhile are taken
    # out of a callback's time as well (an 80 ms sleep once counted as 63 ms, and under a load of 10 below 50 ms).
    assert min(burn.held, sleep.held) >= monitor.threshold
    assert monitor.callbacks >= 10


@pytest.fixture
def one_contended_cpu() -> Iterator[None]:
    """Pin this thread and two busy processes to one CPU: every callback waits for it about two thirds of the time."""
    cpu = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for hog in hogs:
            os.sched_setaffinity(hog.pid, {cpu})
        os.sched_setaffinity(0, {cpu})
        yield
    finally:
        os.sched_setaffinity(0, before)
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.mark.usefixtures("one_contended_cpu")
def test_a_short_callback_slowed_by_a_busy_cpu_is_preemption_not_blocking() -> None:
    monitor = LoopBlockingMonitor(threshold=0.05)

    async def scenario() -> None:
        for _ in range(3):
            _burn(0.02)  # 20 ms of work, about 60 ms on the wall with two busy neighbours
            await asyncio.sleep(0)

    with monitor.watch():
        asyncio.run(scenario())
    assert not monitor.blocking, [str(c) for c in monitor.blocking]
    assert monitor.preempted, "the neighbours never slowed a callback down: the test proved nothing"

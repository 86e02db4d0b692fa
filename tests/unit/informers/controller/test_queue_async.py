"""The work queue's awaitable get: the same keys and rules as ``get``, for asyncio tasks, with a fake clock."""

from __future__ import annotations

import asyncio
import threading

import pytest

from informers import FakeClock
from informers.controller import ItemExponentialFailureRateLimiter, WorkQueue

WAIT = 10.0


def _queue(clock: FakeClock | None = None, **kwargs: object) -> WorkQueue[str]:
    return WorkQueue("async", clock=clock or FakeClock(), **kwargs)  # type: ignore[arg-type]


def test_tasks_process_every_key_and_never_one_key_twice_at_once() -> None:
    queue: WorkQueue[int] = WorkQueue("basic", clock=FakeClock())
    processed: list[int] = []
    holding: set[int] = set()
    overlaps: list[int] = []

    async def consume() -> None:
        while (key := await queue.get_async()) is not None:
            if key in holding:
                overlaps.append(key)
            holding.add(key)
            await asyncio.sleep(0)  # let the other workers run while the key is held
            if key % 7 == 0 and processed.count(key) == 0:
                queue.add(key)  # re-added while held: handed out again after done, never to a second worker
            processed.append(key)
            holding.discard(key)
            queue.done(key)

    async def scenario() -> None:
        workers = [asyncio.create_task(consume()) for _ in range(8)]
        for key in range(200):
            queue.add(key)
            if key % 10 == 0:
                await asyncio.sleep(0)
        for key in range(0, 200, 3):
            queue.add(key)  # already waiting or done: waiting ones are not duplicated
        while queue.stats().depth or queue.stats().processing:
            await asyncio.sleep(0.001)
        queue.shut_down()
        await asyncio.wait_for(asyncio.gather(*workers), WAIT)

    asyncio.run(scenario())
    assert not overlaps
    assert set(processed) == set(range(200))
    assert all(processed.count(key) >= 2 for key in range(0, 200, 7))  # the add while held was not lost


def test_a_waiting_task_is_woken_by_an_add_from_another_thread() -> None:
    queue = _queue()

    async def scenario() -> str | None:
        getter = asyncio.create_task(queue.get_async())
        await asyncio.sleep(0.01)
        assert not getter.done()
        threading.Thread(target=queue.add, args=("foo",)).start()
        return await asyncio.wait_for(getter, WAIT)

    assert asyncio.run(scenario()) == "foo"
    assert queue.stats().processing == 1


def test_shutdown_hands_out_waiting_keys_then_none_to_every_task() -> None:
    queue = _queue()
    queue.add("a")

    async def scenario() -> list[str | None]:
        first = await queue.get_async()
        waiting = [asyncio.create_task(queue.get_async()) for _ in range(3)]
        await asyncio.sleep(0.01)
        queue.shut_down()
        queue.add("dropped")
        return [first, *await asyncio.wait_for(asyncio.gather(*waiting), WAIT)]

    assert asyncio.run(scenario()) == ["a", None, None, None]


def test_a_cancelled_getter_takes_no_key() -> None:
    queue = _queue()

    async def scenario() -> str | None:
        cancelled = asyncio.create_task(queue.get_async())
        other = asyncio.create_task(queue.get_async())
        await asyncio.sleep(0.01)
        queue.add("foo")  # both are woken; the first is cancelled before it runs
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        return await asyncio.wait_for(other, WAIT)

    assert asyncio.run(scenario()) == "foo"
    assert queue.stats().processing == 1


def test_get_async_times_out_with_none() -> None:
    queue = _queue()
    assert asyncio.run(queue.get_async(timeout=0.01)) is None


def test_delayed_and_rate_limited_keys_come_when_the_fake_clock_reaches_them() -> None:
    clock = FakeClock()
    limiter = ItemExponentialFailureRateLimiter(1.0, 60.0)
    queue = _queue(clock, rate_limiter=limiter)

    async def scenario() -> list[str | None]:
        queue.add_after("later", 5.0)
        queue.add_rate_limited("retry")  # 1 s
        getter = asyncio.create_task(queue.get_async())
        await asyncio.sleep(0.1)
        assert not getter.done()  # nothing is due on the fake clock
        clock.advance(1.0)
        first = await asyncio.wait_for(getter, WAIT)
        assert first is not None
        queue.done(first)
        getter = asyncio.create_task(queue.get_async())
        await asyncio.sleep(0.1)
        assert not getter.done()
        clock.advance(4.0)
        return [first, await asyncio.wait_for(getter, WAIT)]

    assert asyncio.run(scenario()) == ["retry", "later"]
    assert queue.num_requeues("retry") == 1


def test_threads_and_tasks_share_one_queue() -> None:
    queue: WorkQueue[int] = WorkQueue("mixed", clock=FakeClock())
    by_thread: list[int] = []
    by_task: list[int] = []

    def thread_worker() -> None:
        while (key := queue.get()) is not None:
            by_thread.append(key)
            queue.done(key)

    async def task_worker() -> None:
        while (key := await queue.get_async()) is not None:
            by_task.append(key)
            await asyncio.sleep(0)
            queue.done(key)

    async def scenario() -> None:
        tasks = [asyncio.create_task(task_worker()) for _ in range(2)]
        for key in range(500):
            queue.add(key)
            if key % 50 == 0:
                await asyncio.sleep(0.001)
        while queue.stats().depth or queue.stats().processing:
            await asyncio.sleep(0.001)
        queue.shut_down()
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT)

    thread = threading.Thread(target=thread_worker)
    thread.start()
    asyncio.run(scenario())
    thread.join(WAIT)
    assert sorted(by_thread + by_task) == list(range(500))
    assert by_task

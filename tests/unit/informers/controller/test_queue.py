"""The work queue against client-go's util/workqueue tests (queue_test.go, delaying_queue_test.go,
rate_limiting_queue_test.go), with a fake clock: no test sleeps to synchronise."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from informers import FakeClock
from informers.controller import ItemExponentialFailureRateLimiter, QueueStats, WorkQueue


def _queue(clock: FakeClock | None = None, **kwargs: object) -> WorkQueue[str]:
    return WorkQueue("test", clock=clock or FakeClock(), **kwargs)  # type: ignore[arg-type]


def _produce(queue: WorkQueue[int], producer: int) -> None:
    for i in range(50):
        queue.add(producer * 100 + i)


def test_basic_producers_and_consumers_process_every_key() -> None:
    # queue_test.go TestBasic: 50 producers, 10 consumers, every key processed.
    queue: WorkQueue[int] = WorkQueue("basic", clock=FakeClock())
    processed: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        while (key := queue.get()) is not None:
            with lock:
                processed.append(key)
            queue.done(key)

    with ThreadPoolExecutor(60) as pool:
        consumers = [pool.submit(consume) for _ in range(10)]
        producers = [pool.submit(_produce, queue, p) for p in range(50)]
        for producer in producers:
            producer.result()
        queue.shut_down()
        for consumer in consumers:
            consumer.result()
    assert sorted(processed) == sorted(p * 100 + i for p in range(50) for i in range(50))


def test_len_counts_each_key_once() -> None:
    # TestLen
    queue = _queue()
    queue.add("foo")
    assert len(queue) == 1
    queue.add("bar")
    assert len(queue) == 2
    queue.add("foo")  # already there
    assert len(queue) == 2


def test_reinsert_while_processing_comes_back_after_done() -> None:
    # TestReinsert
    queue = _queue()
    queue.add("foo")
    assert queue.get() == "foo"
    queue.add("foo")
    assert len(queue) == 0  # held: not handed out again yet
    queue.done("foo")
    assert len(queue) == 1
    assert queue.get() == "foo"
    queue.done("foo")
    assert len(queue) == 0


def test_collapse_while_waiting_and_while_processing() -> None:
    # TestCollapse, TestCollapseWhileProcessing
    queue = _queue()
    queue.add("foo")
    queue.add("foo")
    assert len(queue) == 1
    assert queue.get() == "foo"
    queue.add("foo")
    queue.add("foo")
    assert len(queue) == 0
    queue.done("foo")
    assert len(queue) == 1
    assert queue.get() == "foo"
    queue.done("foo")
    assert queue.get(timeout=0) is None


def test_add_while_processing_is_not_handed_to_a_second_worker() -> None:
    # TestAddWhileProcessing: a second get does not return the held key even though it was re-added.
    queue = _queue()
    queue.add("foo")
    assert queue.get() == "foo"
    queue.add("foo")
    assert queue.get(timeout=0) is None
    queue.done("foo")
    assert queue.get(timeout=0) == "foo"


def test_shutdown_hands_out_waiting_keys_then_none_and_drops_adds() -> None:
    queue = _queue()
    queue.add("foo")
    queue.add("bar")
    queue.shut_down()
    queue.add("baz")
    assert queue.shutting_down()
    assert [queue.get(), queue.get(), queue.get()] == ["foo", "bar", None]


def test_shutdown_with_drain_waits_for_held_keys() -> None:
    # TestQueueDrainageUsingShutDownWithDrain
    queue = _queue()
    queue.add("foo")
    queue.add("bar")
    first, second = queue.get(), queue.get()
    assert first is not None
    assert second is not None
    result: list[bool] = []
    drain = threading.Thread(target=lambda: result.append(queue.shut_down_with_drain()))
    drain.start()
    assert queue.wait_until(lambda stats: stats.shutting_down)
    queue.done(first)
    assert drain.is_alive()
    queue.done(second)
    drain.join(10)
    assert result == [True]


def test_shutdown_with_drain_processes_a_key_dirtied_while_held() -> None:
    # TestQueueDrainageUsingShutDownWithDrainWithDirtyItem: the key added while held is handed out again and drained.
    queue = _queue()
    queue.add("foo")
    assert queue.get() == "foo"
    queue.add("foo")
    result: list[bool] = []
    drain = threading.Thread(target=lambda: result.append(queue.shut_down_with_drain()))
    drain.start()
    assert queue.wait_until(lambda stats: stats.shutting_down)
    queue.done("foo")
    assert queue.get() == "foo"
    assert drain.is_alive()
    queue.done("foo")
    drain.join(10)
    assert result == [True]
    assert queue.get() is None


def test_shutdown_does_not_wait_and_cancels_a_drain() -> None:
    # TestNoQueueDrainageUsingShutDown, TestForceQueueShutdownUsingShutDown
    queue = _queue()
    queue.add("foo")
    assert queue.get() == "foo"
    result: list[bool] = []
    drain = threading.Thread(target=lambda: result.append(queue.shut_down_with_drain()))
    drain.start()
    assert queue.wait_until(lambda stats: stats.shutting_down)
    queue.shut_down()
    drain.join(10)
    assert result == [False]


def test_shutdown_with_drain_times_out_with_a_held_key() -> None:
    queue = _queue()
    queue.add("foo")
    queue.get()
    assert queue.shut_down_with_drain(timeout=0.01) is False


def test_none_is_not_a_key() -> None:
    queue: WorkQueue[str | None] = WorkQueue(clock=FakeClock())
    with pytest.raises(TypeError, match="None"):
        queue.add(None)
    with pytest.raises(TypeError, match="None"):
        queue.add_after(None, 1.0)


# -- delaying queue -------------------------------------------------------------------------------------------


def _delayed(stats: QueueStats) -> int:
    return stats.delayed


def test_add_after_releases_the_key_when_the_clock_reaches_it() -> None:
    # delaying_queue_test.go TestSimpleQueue
    clock = FakeClock()
    queue = _queue(clock)
    queue.add_after("foo", 0.05)
    assert len(queue) == 0
    clock.advance(0.04)
    assert queue.get(timeout=0) is None
    clock.advance(0.02)
    assert queue.get(timeout=10) == "foo"
    queue.done("foo")
    clock.advance(10)
    assert queue.get(timeout=0) is None


def test_add_after_keeps_the_earlier_time() -> None:
    # TestDeduping
    clock = FakeClock()
    queue = _queue(clock)
    queue.add_after("foo", 0.05)
    queue.add_after("foo", 0.07)
    assert queue.stats().delayed == 1
    clock.advance(0.06)
    assert queue.get(timeout=10) == "foo"
    queue.done("foo")
    clock.advance(0.02)
    assert queue.wait_until(lambda stats: stats.delayed == 0)
    assert queue.get(timeout=0) is None
    # the other order: the second, earlier time wins
    queue.add_after("foo", 0.07)
    queue.add_after("foo", 0.05)
    clock.advance(0.06)
    assert queue.get(timeout=10) == "foo"


def test_add_two_fire_early() -> None:
    # TestAddTwoFireEarly
    clock = FakeClock()
    queue = _queue(clock)
    queue.add_after("foo", 1.0)
    queue.add_after("bar", 0.05)
    clock.advance(0.06)
    assert queue.get(timeout=10) == "bar"
    queue.done("bar")
    queue.add_after("foo", 0.1)  # earlier than the 1s already scheduled
    clock.advance(0.1)
    assert queue.get(timeout=10) == "foo"


def test_delayed_keys_come_out_in_time_order() -> None:
    # TestCopyShifting
    clock = FakeClock()
    queue = _queue(clock)
    queue.add_after("foo", 1.0)
    queue.add_after("bar", 2.0)
    queue.add_after("baz", 3.0)
    clock.advance(2.0)
    assert [queue.get(timeout=10), queue.get(timeout=10)] == ["foo", "bar"]
    assert queue.stats().delayed == 1


def test_add_after_zero_adds_now_and_shutdown_drops_delays() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    queue.add_after("now", 0)
    assert len(queue) == 1
    queue.add_after("later", 5.0)
    queue.shut_down()
    assert queue.wait_until(lambda stats: stats.delayed == 0)
    queue.add_after("ignored", 1.0)
    assert queue.stats().retries == 2


# -- rate limiting --------------------------------------------------------------------------------------------


def test_rate_limited_adds_back_off_and_forget_resets() -> None:
    # rate_limiting_queue_test.go TestRateLimitingQueue
    clock = FakeClock()
    queue = _queue(clock, rate_limiter=ItemExponentialFailureRateLimiter(0.001, 1.0))
    queue.add_rate_limited("one")
    queue.add_rate_limited("one")  # 2 ms, later than the 1 ms already scheduled: keeps 1 ms
    assert queue.num_requeues("one") == 2
    clock.advance(0.001)
    assert queue.get(timeout=10) == "one"
    queue.done("one")
    queue.add_rate_limited("one")  # third failure: 4 ms
    clock.advance(0.003)
    assert queue.stats().delayed == 1
    clock.advance(0.001)
    assert queue.get(timeout=10) == "one"
    queue.done("one")
    queue.forget("one")
    assert queue.num_requeues("one") == 0
    queue.add_rate_limited("one")
    clock.advance(0.001)
    assert queue.get(timeout=10) == "one"


# -- metrics --------------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, float]] = []

    def queue_added(self, queue: str) -> None:
        self.events.append(("add", 0))

    def queue_retried(self, queue: str) -> None:
        self.events.append(("retry", 0))

    def queue_latency(self, queue: str, seconds: float) -> None:
        self.events.append(("latency", seconds))

    def work_duration(self, queue: str, seconds: float) -> None:
        self.events.append(("work", seconds))

    def reconciled(self, controller: str, result: str, seconds: float) -> None:
        self.events.append((result, seconds))


def test_metrics_depth_adds_retries_latencies_and_longest_running() -> None:
    # client-go queue metrics (metrics_test.go TestMetrics): latency from add to get, work from get to done.
    clock = FakeClock()
    recorder = Recorder()
    queue = _queue(clock, metrics=recorder)
    queue.add("foo")
    queue.add("foo")  # deduplicated: not an add
    clock.advance(5)
    assert queue.stats().depth == 1
    assert queue.get() == "foo"
    clock.advance(2)
    stats = queue.stats()
    assert (stats.depth, stats.processing, stats.adds) == (0, 1, 1)
    assert stats.unfinished_seconds == stats.longest_running_seconds == 2
    clock.advance(1)
    queue.done("foo")
    queue.add_after("bar", 1)
    clock.advance(1)
    assert queue.get(timeout=10) == "bar"
    assert recorder.events == [("add", 0), ("latency", 5), ("work", 3), ("retry", 0), ("add", 0), ("latency", 0)]
    assert queue.stats().retries == 1

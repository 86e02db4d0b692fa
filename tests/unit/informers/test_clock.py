from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest

from informers import Clock, FakeClock, RealClock


def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(target()), name="clock-test", daemon=True)
    thread.start()
    return thread, results


def test_fake_time_moves_only_when_advanced() -> None:
    clock = FakeClock(start=5.0)
    assert clock.monotonic() == 5.0
    clock.advance(1.5)
    clock.advance(0)
    assert clock.monotonic() == 6.5


def test_a_fake_clock_cannot_go_backwards() -> None:
    with pytest.raises(ValueError, match="cannot go backwards"):
        FakeClock().advance(-1)


def test_sleep_blocks_until_time_is_advanced_past_its_deadline() -> None:
    clock = FakeClock()
    thread, results = in_thread(lambda: clock.sleep(10))
    assert clock.block_until_waiters(1)
    clock.advance(9.5)
    assert clock.block_until_waiters(1)
    assert thread.is_alive()
    clock.advance(0.5)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert results == [None]
    assert clock.waiters() == 0


def test_sleep_of_zero_returns_at_once() -> None:
    clock = FakeClock()
    clock.sleep(0)
    assert clock.waiters() == 0


def test_wait_returns_false_when_its_timeout_passes() -> None:
    clock, event = FakeClock(), threading.Event()
    thread, results = in_thread(lambda: clock.wait(event, 3))
    assert clock.block_until_waiters(1)
    clock.advance(3)
    thread.join(timeout=10)
    assert results == [False]


def test_wait_returns_true_when_the_event_is_set_before_the_timeout() -> None:
    clock, event = FakeClock(), threading.Event()
    thread, results = in_thread(lambda: clock.wait(event, None))
    assert clock.block_until_waiters(1)
    event.set()
    thread.join(timeout=10)
    assert results == [True]
    assert clock.monotonic() == 0


def test_wait_on_a_set_event_returns_true_without_blocking() -> None:
    event = threading.Event()
    event.set()
    assert FakeClock().wait(event, 0) is True


def test_waiters_counts_every_blocked_thread() -> None:
    clock = FakeClock()
    threads = [in_thread(partial(clock.sleep, seconds))[0] for seconds in (1, 2, 3)]
    assert clock.block_until_waiters(3)
    assert clock.waiters() == 3
    clock.advance(2)
    for thread in threads[:2]:
        thread.join(timeout=10)
    assert clock.waiters() == 1
    clock.advance(1)
    threads[2].join(timeout=10)
    assert clock.waiters() == 0


def test_block_until_waiters_gives_up_after_its_timeout() -> None:
    assert FakeClock().block_until_waiters(1, timeout=0.01) is False


def test_real_clock_waits_on_events_and_reads_monotonic_time() -> None:
    clock: Clock = RealClock()
    event = threading.Event()
    before = clock.monotonic()
    assert clock.wait(event, 0) is False
    event.set()
    assert clock.wait(event, None) is True
    clock.sleep(0)
    assert clock.monotonic() >= before

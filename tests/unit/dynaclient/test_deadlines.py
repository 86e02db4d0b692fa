"""The deadline scheduler behind whole-response timeouts: fires at deadlines, skips cancelled ones, stays small."""

from __future__ import annotations

import threading

from dynaclient.transport._deadlines import DeadlineScheduler


def test_due_callbacks_fire_in_deadline_order_and_cancelled_ones_never() -> None:
    now = [98.95]  # every deadline ahead while scheduling: the scheduler's thread may run at any moment
    scheduler = DeadlineScheduler(clock=lambda: now[0])
    fired: list[str] = []
    done = threading.Event()

    scheduler.schedule(99.0, lambda: fired.append("first"))
    cancel = scheduler.schedule(99.5, lambda: fired.append("cancelled"))
    cancel()

    def last() -> None:
        fired.append("last")
        done.set()

    scheduler.schedule(99.9, last)
    now[0] = 100.0  # all due: the thread sees it when its wait for the first deadline (50 ms) ends

    assert done.wait(10)
    assert fired == ["first", "last"]


def test_cancelled_entries_do_not_pile_up() -> None:
    # Requests end long before their deadlines: without pruning, 100,000 requests left 100,000 entries behind.
    scheduler = DeadlineScheduler(clock=lambda: 0.0)
    for _ in range(100_000):
        scheduler.schedule(120.0, lambda: None)()

    assert len(scheduler._heap) <= 2048

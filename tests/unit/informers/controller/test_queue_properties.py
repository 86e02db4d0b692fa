"""Properties of the work queue: a key is never held by two workers at once, and no add is lost."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from informers import FakeClock
from informers.controller import WorkQueue

KEYS = st.sampled_from(["a", "b", "c", "d"])


class QueueModel(RuleBasedStateMachine):
    """Single-threaded: any interleaving of add, get and done, checked against client-go's dirty/processing model."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: WorkQueue[str] = WorkQueue("model", clock=FakeClock())
        self.held: set[str] = set()
        self.waiting: list[str] = []  # the expected order of the queue
        self.dirty_while_held: set[str] = set()

    @rule(key=KEYS)
    def add(self, key: str) -> None:
        self.queue.add(key)
        if key in self.held:
            self.dirty_while_held.add(key)
        elif key not in self.waiting:
            self.waiting.append(key)

    @rule()
    def get(self) -> None:
        key = self.queue.get(timeout=0)
        if not self.waiting:
            assert key is None
            return
        assert key == self.waiting.pop(0)
        assert key not in self.held, f"{key} handed to a second worker"
        self.held.add(key)

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def done(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.held)))
        self.held.discard(key)
        self.queue.done(key)
        if key in self.dirty_while_held:
            self.dirty_while_held.discard(key)
            self.waiting.append(key)

    @invariant()
    def depth_matches(self) -> None:
        assert len(self.queue) == len(self.waiting)


TestQueueModel = QueueModel.TestCase
TestQueueModel.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)


@settings(max_examples=30, deadline=None)
@given(
    adds=st.lists(KEYS, min_size=1, max_size=40),
    readds=st.lists(st.lists(KEYS, max_size=3), min_size=1, max_size=40),
    workers=st.integers(2, 4),
)
def test_threads_never_hold_one_key_twice_and_lose_no_add(
    adds: list[str], readds: list[list[str]], workers: int
) -> None:
    queue: WorkQueue[str] = WorkQueue("threads", clock=FakeClock())
    lock = threading.Lock()
    held: set[str] = set()
    violations: list[str] = []
    last_add: dict[str, int] = {}  # key -> sequence number of its last add
    last_start: dict[str, int] = {}  # key -> sequence number of the last time a worker took it
    sequence = [0]
    plan = iter(readds * 3)

    def tick() -> int:
        sequence[0] += 1
        return sequence[0]

    def add(key: str) -> None:
        with lock:
            last_add[key] = tick()
        queue.add(key)

    def work() -> None:
        while (key := queue.get()) is not None:
            with lock:
                if key in held:
                    violations.append(key)
                held.add(key)
                last_start[key] = tick()
                more = next(plan, [])
            for other in more:  # adds while processing, the same key included
                add(other)
            with lock:
                held.discard(key)
            queue.done(key)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for key in adds:
        add(key)
    assert queue.wait_until(lambda stats: stats.depth == 0 and stats.processing == 0, timeout=30)
    queue.shut_down()
    for thread in threads:
        thread.join(10)
    assert violations == []
    # every add was followed by a worker taking the key
    assert all(last_start.get(key, 0) > added for key, added in last_add.items())

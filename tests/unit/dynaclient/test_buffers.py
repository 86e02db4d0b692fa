from __future__ import annotations

import threading

from dynaclient._buffers import BufferPool


def test_a_pool_keeps_at_most_its_count_and_nothing_longer_than_its_largest() -> None:
    pool = BufferPool(keep=2, largest=10, size=4)
    taken = [pool.take() for _ in range(3)]
    assert [len(buffer) for buffer in taken] == [4, 4, 4]
    too_long = bytearray(11)
    for buffer in (too_long, *taken):
        pool.give(buffer)
    kept = {id(pool.take()), id(pool.take())}
    assert kept == {id(taken[0]), id(taken[1])}  # the long one was dropped, the third given found the pool full
    assert all(pool.take() is not buffer for buffer in (too_long, *taken))


def test_a_buffer_is_never_lent_to_two_threads_at_once() -> None:
    pool = BufferPool(keep=2, largest=64, size=64)
    clashes: list[int] = []

    def borrow(mark: int) -> None:
        for _ in range(2000):
            buffer = pool.take()
            buffer[:] = bytes([mark]) * 64
            if buffer != bytes([mark]) * 64:  # another thread wrote into the buffer lent to this one
                clashes.append(mark)
            pool.give(buffer)

    threads = [threading.Thread(target=borrow, args=(mark,)) for mark in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clashes == []

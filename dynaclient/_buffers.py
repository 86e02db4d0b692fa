"""Byte buffers kept from one response body to the next, so a list's pages do not each map fresh memory.

glibc serves an allocation of more than 128 KiB (its threshold rises to the largest freed so far) from pages
mapped for it, and gives them back when it is freed or, at the top of its heap, when more than twice that is
free. A 10,000-object list read into fresh buffers page after page faulted in some 3,600 pages (14 MiB) more
than it kept, each fault a few microseconds of kernel time, and unmapping in a threaded process interrupts the
other cores too. A pooled buffer is faulted in once and written over after that.
"""

from __future__ import annotations


class BufferPool:
    """A few ``bytearray`` buffers kept for reuse: at most ``keep`` of them, none longer than ``largest`` bytes.

    A buffer taken belongs to its taker until given back; one never given back (an abandoned read) is simply
    collected. The pool never shrinks a buffer: its length is its capacity, and its users keep their own count of
    the bytes in use.

    Thread-safety: thread-safe without a lock (``list.pop`` and ``list.append`` are atomic), so a process forked
    while another thread used the pool finds it usable; two threads giving back at once may keep one buffer more
    than ``keep``.

    >>> pool = BufferPool(keep=1, largest=8, size=4)
    >>> first = pool.take()
    >>> pool.give(first)
    >>> pool.take() is first, len(pool.take())
    (True, 4)
    """

    def __init__(self, *, keep: int, largest: int, size: int = 0) -> None:
        self._keep, self._largest, self._size = keep, largest, size
        self._free: list[bytearray] = []

    def take(self) -> bytearray:
        """Return a kept buffer, or a new one of the pool's size (its contents are whatever was written last)."""
        try:
            return self._free.pop()
        except IndexError:
            return bytearray(self._size)

    def give(self, buffer: bytearray) -> None:
        """Keep ``buffer`` for a later :meth:`take`, unless the pool is full or it is too long to keep."""
        if len(buffer) <= self._largest and len(self._free) < self._keep:
            self._free.append(buffer)


__all__ = ["BufferPool"]

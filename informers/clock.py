"""Time for informers: the ``Clock`` protocol, the real clock, and a fake clock that tests advance by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Where informers read time and wait (client-go ``ReflectorOptions.Clock``, k8s.io/utils/clock).

    Thread-safety: implementations are thread-safe.
    """

    def monotonic(self) -> float:
        """Return seconds from an arbitrary origin that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        ...

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Block until ``event`` is set or ``timeout`` seconds pass (``None``: no limit); return whether it is set."""
        ...


class RealClock:
    """The system's monotonic clock.

    Thread-safety: thread-safe (stateless).
    """

    def monotonic(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Call :func:`time.sleep`."""
        time.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Call :meth:`threading.Event.wait`."""
        return event.wait(timeout)


class FakeClock:
    """A clock that stands still until a test calls :meth:`advance`.

    :meth:`sleep` and :meth:`wait` block the calling thread until another thread advances time to their deadline
    (or, for :meth:`wait`, sets the event). :meth:`waiters` and :meth:`block_until_waiters` let a test wait for
    "the reflector is now backing off" and then advance, with no real sleep.

    A waiting thread notices :meth:`advance` at once, but notices ``event.set()`` within ``poll_interval`` real
    seconds: :class:`threading.Event` cannot notify a foreign condition.

    Thread-safety: thread-safe.

    >>> clock = FakeClock(start=100.0)
    >>> clock.advance(2.5)
    >>> clock.monotonic()
    102.5
    """

    def __init__(self, start: float = 0.0, *, poll_interval: float = 0.001) -> None:
        """Create a clock reading ``start``; ``poll_interval`` is how often waiters check their event."""
        self._now = start
        self._poll_interval = poll_interval
        self._waiters = 0
        self._condition = threading.Condition()

    def monotonic(self) -> float:
        """Return the fake time."""
        with self._condition:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake the threads whose deadline has come.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards: advance({seconds}) is negative")
        with self._condition:
            self._now += seconds
            self._condition.notify_all()

    def sleep(self, seconds: float) -> None:
        """Block until the fake time has advanced by ``seconds``."""
        self._block(None, seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Block until ``event`` is set or the fake time has advanced by ``timeout`` (``None``: only the event)."""
        return self._block(event, timeout)

    def waiters(self) -> int:
        """Return how many threads are blocked in :meth:`sleep` or :meth:`wait`."""
        with self._condition:
            return self._waiters

    def block_until_waiters(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least ``count`` threads are blocked on this clock, or ``timeout`` real seconds pass.

        Returns:
            Whether the count was reached.
        """
        with self._condition:
            return self._condition.wait_for(lambda: self._waiters >= count, timeout)

    def _block(self, event: threading.Event | None, timeout: float | None) -> bool:
        with self._condition:
            deadline = None if timeout is None else self._now + timeout
            self._waiters += 1
            self._condition.notify_all()
            try:
                while not (event is not None and event.is_set()):
                    if deadline is not None and self._now >= deadline:
                        return False
                    self._condition.wait(self._poll_interval if event is not None else None)
                return True
            finally:
                self._waiters -= 1
                self._condition.notify_all()


__all__ = ["Clock", "FakeClock", "RealClock"]

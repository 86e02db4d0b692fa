"""The reflector's watchdog: what a reflector has open or in flight, and the thread that watches over it.

A :class:`Watchdog` tracks the reflector's open watch (and when it last heard from it) and its list or watch request
in flight (and when it started). Its thread, :meth:`Watchdog.run`, closes a watch silent for the stall timeout,
cancels a request unanswered that long, and, once the reflector is told to stop, cancels the request in flight and
closes the open watch so that the reflector's thread returns promptly.
"""

from __future__ import annotations

import logging
import threading

from dynaclient import Cancellation
from informers.clock import Clock
from informers.reflector.listwatch import WatchStream

logger = logging.getLogger("informers.reflector")


class Watchdog:
    """Watches over one reflector's open watch and request in flight.

    Thread-safety: thread-safe; :meth:`run` is the watchdog's own thread, the other methods are called by the
    reflector's thread (and :meth:`check` by tests).
    """

    def __init__(self, clock: Clock, stall_timeout: float) -> None:
        """Watch with ``clock``: a watch silent, or a request unanswered, for ``stall_timeout`` seconds stalled."""
        self._clock = clock
        self._stall_timeout = stall_timeout
        self._lock = threading.Lock()
        self._stream: WatchStream | None = None
        self._last_activity = 0.0
        self._call: tuple[Cancellation, float] | None = None  # the request in flight: its cancellation, its start
        self._stalled_for: float | None = None
        self._stopping = False
        self._finished = False

    def begin_call(self) -> Cancellation:
        """Return the cancellation of a request about to start (cancelled already if the reflector is stopping)."""
        cancellation = Cancellation()
        with self._lock:
            self._call, self._stalled_for = (cancellation, self._clock.monotonic()), None
            stopping = self._stopping
        if stopping:
            cancellation.cancel()
        return cancellation

    def end_call(self) -> None:
        """Record that the request in flight has returned or raised."""
        with self._lock:
            self._call = None

    def take_stall(self) -> float | None:
        """Return how long the watch or request it stopped had been stalled, once; ``None`` if it stopped none."""
        with self._lock:
            stalled, self._stalled_for = self._stalled_for, None
            return stalled

    def opened(self, stream: WatchStream, at: float) -> None:
        """Watch over ``stream``, opened at clock time ``at``."""
        with self._lock:
            self._stream, self._last_activity, self._stalled_for = stream, at, None

    def touch(self) -> None:
        """Record news from the open watch (an event or a bookmark)."""
        now = self._clock.monotonic()
        with self._lock:
            self._last_activity = now

    def held(self) -> WatchStream | None:
        """Return the open watch watched over, if any."""
        with self._lock:
            return self._stream

    def release(self, stream: WatchStream | None) -> None:
        """Stop watching over ``stream`` (if it is the one watched over) and close it."""
        with self._lock:
            if self._stream is stream:
                self._stream, self._stalled_for = None, None
        close(stream)

    def finish(self) -> None:
        """Tell :meth:`run` that the reflector has returned."""
        with self._lock:
            self._finished = True

    def check(self) -> bool:
        """Close a watch silent for the stall timeout, or cancel a request unanswered that long.

        A watch is silent when it sent no event and no bookmark. A list page takes the API server at most its
        request timeout (60 s by default) and a watch request's response comes at once: a request still waiting
        past the stall timeout went to a dead or frozen connection.

        Returns:
            Whether a watch was closed or a request cancelled.
        """
        now = self._clock.monotonic()
        with self._lock:
            stream, call = self._stream, self._call
            if self._stalled_for is not None:
                return False
            if stream is not None and now - self._last_activity >= self._stall_timeout:
                self._stalled_for = now - self._last_activity
            elif stream is None and call is not None and now - call[1] >= self._stall_timeout:
                self._stalled_for = now - call[1]
            else:
                return False
        if stream is not None:
            close(stream)
        elif call is not None:
            call[0].cancel()
        return True

    def run(self, stop: threading.Event) -> None:
        """Check at each deadline until ``stop`` is set, then cancel the request in flight and close the watch."""
        while not self._clock.wait(stop, self.until_next()):
            with self._lock:
                if self._finished:
                    return
            self.check()
        with self._lock:
            self._stopping = True
            call = self._call
        if call is not None:
            call[0].cancel()
        close(self.held())

    def until_next(self) -> float:
        """Return the seconds until the next check is due (the watchdog thread waits that long)."""
        now = self._clock.monotonic()
        with self._lock:
            if self._stalled_for is not None:
                return self._stall_timeout
            if self._stream is not None:
                return max(self._last_activity + self._stall_timeout - now, 0.0)
            if self._call is not None:
                return max(self._call[1] + self._stall_timeout - now, 0.0)
            # Nothing to watch over yet: look again soon, as a request may start at any moment.
            return min(self._stall_timeout, 1.0)


def close(stream: WatchStream | None) -> None:
    """Close ``stream`` if there is one; a failure to close is logged at DEBUG, never raised."""
    if stream is None:
        return
    try:
        stream.close()
    except Exception:
        logger.debug("closing a watch failed", exc_info=True)


__all__ = ["Watchdog", "close"]

"""A client-side token bucket limiting how many requests a client sends per second (client-go ``flowcontrol``).

client-go gives every REST client a token bucket (``flowcontrol.NewTokenBucketRateLimiter(qps, burst)``, over
``golang.org/x/time/rate``): ``burst`` requests may go at once, then ``qps`` per second. A request whose token is
further away than its deadline fails at once instead of waiting (``rate: Wait(n=1) would exceed context deadline``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucketRateLimiter:
    """Hands out one token per request: ``burst`` at once, refilled at ``qps`` tokens per second.

    Args:
        qps: the sustained requests per second; must be positive.
        burst: the most requests sent back to back after an idle period; at least 1.
        clock: monotonic seconds.

    Thread-safety: thread-safe; :meth:`reserve` only computes, the caller waits.

    Example:
        >>> now = [0.0]
        >>> bucket = TokenBucketRateLimiter(qps=2, burst=2, clock=lambda: now[0])
        >>> [bucket.reserve() for _ in range(4)]
        [0.0, 0.0, 0.5, 1.0]
        >>> bucket.reserve(max_wait=1.0) is None  # 1.5 s away: not taken
        True
        >>> now[0] = 10.0
        >>> bucket.reserve()
        0.0
    """

    def __init__(self, qps: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not qps > 0:
            raise ValueError(f"qps must be positive, got {qps!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self.qps = float(qps)
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def __repr__(self) -> str:
        return f"TokenBucketRateLimiter(qps={self.qps:g}, burst={self.burst})"

    def reserve(self, max_wait: float | None = None) -> float | None:
        """Take the next token; return the seconds to wait before sending, or ``None`` if over ``max_wait``.

        A ``None`` answer takes no token, so a request that gives up does not slow the others.
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.qps)
            self._updated = now
            wait = max(0.0, (1.0 - self._tokens) / self.qps)
            if max_wait is not None and wait > max_wait:
                return None
            self._tokens -= 1.0
            return wait


__all__ = ["TokenBucketRateLimiter"]

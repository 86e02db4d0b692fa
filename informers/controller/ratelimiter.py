"""Rate limiters that decide how long a failed key waits before it is retried (client-go util/workqueue).

``when(key)`` returns the delay in seconds and records one more failure; ``forget(key)`` clears the key's history
(call it when the key succeeds); ``num_requeues(key)`` tells how many failures are on record. The semantics and
defaults follow client-go util/workqueue/default_rate_limiters.go.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Protocol

from informers.clock import Clock, RealClock


class RateLimiter(Protocol):
    """How long a key waits before its next retry.

    Thread-safety: implementations are thread-safe.
    """

    def when(self, key: Hashable) -> float:
        """Return the delay in seconds before ``key`` is retried, and count one more failure of it."""
        ...

    def forget(self, key: Hashable) -> None:
        """Clear the failure history of ``key``."""
        ...

    def num_requeues(self, key: Hashable) -> int:
        """Return how many failures of ``key`` are on record."""
        ...


class _FailureCounts:
    """Per-key failure counts shared by the per-key limiters: :meth:`forget` and :meth:`num_requeues`.

    Thread-safety: thread-safe.
    """

    def __init__(self) -> None:
        self._failures: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def _count(self, key: Hashable) -> int:
        """Count one more failure of ``key``; return how many were on record before it."""
        with self._lock:
            before = self._failures.get(key, 0)
            self._failures[key] = before + 1
            return before

    def forget(self, key: Hashable) -> None:
        """Clear the failures of ``key``."""
        with self._lock:
            self._failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        """Return the failures of ``key`` since it was last forgotten."""
        with self._lock:
            return self._failures.get(key, 0)


class ItemExponentialFailureRateLimiter(_FailureCounts):
    """Per key: ``base * 2**failures`` seconds, capped at ``max_delay`` (``ItemExponentialFailureRateLimiter``).

    Thread-safety: thread-safe.

    >>> limiter = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    >>> [limiter.when("a") for _ in range(4)], limiter.when("b"), limiter.num_requeues("a")
    ([0.005, 0.01, 0.02, 0.04], 0.005, 4)
    >>> limiter.forget("a"); limiter.when("a")
    0.005
    """

    def __init__(self, base: float = 0.005, max_delay: float = 1000.0) -> None:
        """Start every key at ``base`` seconds and double up to ``max_delay``.

        Raises:
            ValueError: ``base`` is negative or ``max_delay`` is below ``base``.
        """
        if base < 0 or max_delay < base:
            raise ValueError(f"need 0 <= base <= max_delay, got base={base}, max_delay={max_delay}")
        super().__init__()
        self._base = base
        self._max_delay = max_delay

    def when(self, key: Hashable) -> float:
        """Return ``base * 2**failures`` (at most ``max_delay``) and count the failure."""
        exponent = self._count(key)
        # Python integers do not overflow; a huge exponent simply exceeds the cap (client-go checks for overflow).
        if exponent > 1023:
            return self._max_delay
        return min(self._base * 2.0**exponent, self._max_delay)


class ItemFastSlowRateLimiter(_FailureCounts):
    """Per key: ``fast`` seconds for the first ``max_fast_attempts`` failures, ``slow`` after (``ItemFastSlow``).

    Thread-safety: thread-safe.

    >>> limiter = ItemFastSlowRateLimiter(0.005, 10.0, 2)
    >>> [limiter.when("a") for _ in range(3)]
    [0.005, 0.005, 10.0]
    """

    def __init__(self, fast: float, slow: float, max_fast_attempts: int) -> None:
        """Wait ``fast`` for ``max_fast_attempts`` failures of a key, then ``slow``."""
        super().__init__()
        self._fast = fast
        self._slow = slow
        self._max_fast_attempts = max_fast_attempts

    def when(self, key: Hashable) -> float:
        """Return ``fast`` or ``slow`` and count the failure."""
        return self._fast if self._count(key) < self._max_fast_attempts else self._slow


class BucketRateLimiter:
    """One token bucket for all keys: ``qps`` tokens a second, at most ``burst`` saved (``BucketRateLimiter``).

    Each :meth:`when` reserves a token and returns how long until it is available, as golang.org/x/time/rate
    ``Limiter.Reserve().Delay()`` does; the bucket keeps no per-key history.

    Thread-safety: thread-safe.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        """Start with a full bucket of ``burst`` tokens refilled at ``qps`` a second.

        Raises:
            ValueError: ``qps`` is not positive or ``burst`` is below 1.
        """
        if qps <= 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got qps={qps}, burst={burst}")
        self._qps = qps
        self._burst = float(burst)
        self._clock: Clock = clock or RealClock()
        self._tokens = float(burst)
        self._last = self._clock.monotonic()
        self._lock = threading.Lock()

    def when(self, key: Hashable) -> float:
        """Reserve a token and return the seconds until it is available (``0`` while the bucket has tokens)."""
        with self._lock:
            now = self._clock.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self._qps

    def forget(self, key: Hashable) -> None:
        """Do nothing: the bucket is shared by all keys."""

    def num_requeues(self, key: Hashable) -> int:
        """Return ``0``: the bucket counts no failures."""
        return 0


class MaxOfRateLimiter:
    """The longest delay of several limiters (``MaxOfRateLimiter``); :meth:`forget` forgets in each.

    Thread-safety: thread-safe if its limiters are.
    """

    def __init__(self, *limiters: RateLimiter) -> None:
        """Combine ``limiters``.

        Raises:
            ValueError: no limiter was given.
        """
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self._limiters = limiters

    def when(self, key: Hashable) -> float:
        """Return the longest delay; every limiter counts the failure."""
        return max(limiter.when(key) for limiter in self._limiters)

    def forget(self, key: Hashable) -> None:
        """Forget ``key`` in every limiter."""
        for limiter in self._limiters:
            limiter.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        """Return the highest failure count of the limiters."""
        return max(limiter.num_requeues(key) for limiter in self._limiters)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> MaxOfRateLimiter:
    """Return client-go's ``DefaultControllerRateLimiter``: per key 5 ms doubling to 1000 s, overall 10 qps burst 100.

    controller-runtime since v0.23 uses only the per-key part with its priority queue; this runtime keeps the
    classic client-go pair, so a storm of failures cannot retry faster than 10 a second overall.
    """
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.005, 1000.0), BucketRateLimiter(10.0, 100, clock=clock))


__all__ = [
    "BucketRateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "default_controller_rate_limiter",
]

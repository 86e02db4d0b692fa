"""Exponential backoff with jitter that resets after a quiet period, for the reflector's list-and-watch loop."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from informers.clock import Clock, RealClock

# The defaults are client-go's reflector defaults (tools/cache/reflector.go NewReflectorWithOptions:
# wait.Backoff{Duration: 800ms, Cap: 30s, Steps: 38, Factor: 2.0, Jitter: 1.0}.DelayWithReset(clock, 2min)):
# - 800 ms initial: a broken watch is retried quickly, but not in a hot loop;
# - factor 2 up to a 30 s cap: a down apiserver sees each client back off to one attempt per 30-60 s;
# - jitter 1.0: each delay is d * (1 + rand), between d and 2d, so many clients restarting together spread out
#   (apimachinery pkg/util/wait/backoff.go Jitter; the jitter applies on top of the cap, as in client-go);
# - reset after 2 min: a reflector whose watch ran for a while starts again from 800 ms.
DEFAULT_INITIAL = 0.8
DEFAULT_CAP = 30.0
DEFAULT_FACTOR = 2.0
DEFAULT_JITTER = 1.0
DEFAULT_RESET_AFTER = 120.0


class Backoff:
    """Delays that grow ``initial * factor**n`` up to ``cap``, each jittered, back to ``initial`` after quiet.

    The sequence with the defaults is 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, then 30 s forever, each multiplied by
    ``1 + jitter * rand()``. The backoff resets when more than ``reset_after`` seconds have passed since the
    previous delay ended, that is, when the thing being retried ran quietly for that long. client-go's
    backoffManager (apimachinery pkg/util/wait/backoff.go ``Step``) measures instead from its last reset, which
    also resets it every 2 min under continuous failure; measuring quiet time keeps the cap while failures
    continue, as kube-rs' ``ResetTimerBackoff`` does.

    Thread-safety: thread-safe.

    >>> from informers.clock import FakeClock
    >>> backoff = Backoff(clock=FakeClock(), rand=lambda: 0.0)
    >>> [backoff.next_delay() for _ in range(8)]
    [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]
    """

    def __init__(
        self,
        *,
        initial: float = DEFAULT_INITIAL,
        cap: float = DEFAULT_CAP,
        factor: float = DEFAULT_FACTOR,
        jitter: float = DEFAULT_JITTER,
        reset_after: float = DEFAULT_RESET_AFTER,
        clock: Clock | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """Create a backoff at its initial delay.

        Args:
            initial: the first delay, in seconds.
            cap: the largest delay before jitter, in seconds.
            factor: the growth factor per step.
            jitter: the largest extra fraction added to a delay (``0`` for none).
            reset_after: the quiet time, in seconds, after which the next delay is ``initial`` again.
            clock: where time comes from; the real clock by default.
            rand: a source of floats in ``[0, 1)``, injectable for deterministic tests.

        Raises:
            ValueError: a parameter is out of range; the message names it.
        """
        _require(initial > 0, "initial", initial, "must be positive")
        _require(cap >= initial, "cap", cap, f"must be at least initial ({initial})")
        _require(factor >= 1, "factor", factor, "must be at least 1")
        _require(jitter >= 0, "jitter", jitter, "must not be negative")
        _require(reset_after > 0, "reset_after", reset_after, "must be positive")
        self._initial = initial
        self._cap = cap
        self._factor = factor
        self._jitter = jitter
        self._reset_after = reset_after
        self._clock: Clock = clock or RealClock()
        self._rand = rand
        self._lock = threading.Lock()
        self._base = initial
        self._quiet_since: float | None = None

    def next_delay(self) -> float:
        """Return the next delay in seconds and advance the backoff (apimachinery ``Backoff.Step``)."""
        with self._lock:
            now = self._clock.monotonic()
            if self._quiet_since is not None and now - self._quiet_since > self._reset_after:
                self._base = self._initial
            delay = self._base * (1 + self._jitter * self._rand())
            self._base = min(self._base * self._factor, self._cap)
            self._quiet_since = now + delay
            return delay

    def reset(self) -> None:
        """Start again from the initial delay."""
        with self._lock:
            self._base = self._initial
            self._quiet_since = None

    def __repr__(self) -> str:
        return (
            f"Backoff(initial={self._initial}, cap={self._cap}, factor={self._factor}, jitter={self._jitter}, "
            f"reset_after={self._reset_after})"
        )


def _require(condition: bool, name: str, value: float, rule: str) -> None:
    if not condition:
        raise ValueError(f"backoff {name}={value!r} {rule}")


__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_FACTOR",
    "DEFAULT_INITIAL",
    "DEFAULT_JITTER",
    "DEFAULT_RESET_AFTER",
    "Backoff",
]

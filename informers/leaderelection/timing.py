"""Lease timing: the three durations and their rule, and expiry judged by when a record was seen to change."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from informers.leaderelection.lease import LeaderElectionRecord


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """How long a lease lasts, how long its holder keeps trying to renew, and how often candidates try.

    client-go's rule (tools/leaderelection/leaderelection.go ``NewLeaderElector``):
    ``lease_duration > renew_deadline > 1.2 * retry_period > 0``. A holder that cannot renew within
    ``renew_deadline`` of its last successful write stops its work; the others wait at least ``lease_duration``
    from when they saw that write, so ``lease_duration - renew_deadline`` is the time the holder has to stop.
    ``lease_duration`` is a whole number of seconds: the Lease stores ``leaseDurationSeconds`` as an integer.

    Attributes:
        lease_duration: seconds a lease stays valid without renewal (client-go default 15).
        renew_deadline: seconds the holder keeps retrying a renewal before giving up (default 10).
        retry_period: seconds between attempts (default 2).

    Thread-safety: immutable.

    >>> LeaseTiming(15, 10, 2)
    LeaseTiming(lease_duration=15, renew_deadline=10, retry_period=2)
    >>> LeaseTiming(10, 10, 2)
    Traceback (most recent call last):
    ...
    ValueError: lease_duration (10s) must be greater than renew_deadline (10s)
    """

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if self.retry_period <= 0:
            raise ValueError(f"retry_period ({self.retry_period}s) must be positive")
        if self.lease_duration != int(self.lease_duration) or self.lease_duration < 1:
            raise ValueError(f"lease_duration ({self.lease_duration}s) must be a whole number of seconds, at least 1")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"lease_duration ({self.lease_duration}s) must be greater than renew_deadline ({self.renew_deadline}s)"
            )
        if self.renew_deadline <= 1.2 * self.retry_period:
            raise ValueError(
                f"renew_deadline ({self.renew_deadline}s) must be greater than 1.2 * retry_period "
                f"({self.retry_period}s)"
            )


@dataclass(frozen=True, slots=True)
class Observation:
    """A lease record as a candidate last saw it, and when (its own monotonic clock) it saw it change.

    Thread-safety: immutable.

    >>> seen = Observation(LeaderElectionRecord("a", 15), observed_at=100.0)
    >>> seen.expired(114.9), seen.expired(115.0)
    (False, True)
    >>> Observation(LeaderElectionRecord("", 15), observed_at=100.0).expired(100.0)
    True
    """

    record: LeaderElectionRecord
    observed_at: float
    annotations: tuple[tuple[str, str], ...] = ()

    def expires_at(self) -> float:
        """The local time from which the lease counts as expired."""
        return self.observed_at + self.record.lease_duration_seconds

    def expired(self, now: float) -> bool:
        """Whether nobody holds the lease at ``now``: released (no holder), or not renewed in its duration."""
        return not self.record.holder_identity or now >= self.expires_at()

    def seen(self, record: LeaderElectionRecord, annotations: tuple[tuple[str, str], ...], now: float) -> Observation:
        """Return the observation after reading ``record`` at ``now``: the time moves only if the record changed."""
        if record == self.record and annotations == self.annotations:
            return self
        return Observation(record, now, annotations)


def relay_stop(outside: threading.Event, stop: Callable[[], object]) -> threading.Event:
    """Call ``stop`` once ``outside`` is set; return an event that ends the relay when set.

    An outside :class:`threading.Event` cannot wake a wait on another event: a daemon thread polls it.
    """
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if outside.wait(0.05):  # real time: relaying a user's event, not synchronising a test
                stop()
                return

    threading.Thread(target=watch, name="leaderelection/stop-relay", daemon=True).start()
    return finished


def default_identity() -> str:
    """Return a unique candidate identity: the host name, the process id and a random suffix."""
    return f"{socket.gethostname()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


__all__ = ["LeaseTiming", "Observation", "default_identity", "relay_stop"]

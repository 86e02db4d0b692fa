"""What a leader-election candidate decides and reports, without I/O or threads.

client-go tools/leaderelection/leaderelection.go ``tryAcquireOrRenew`` and ``release``: the record a candidate
writes next (keeping or counting ``leaseTransitions``), whether another holder's lease still bars it, how long to
wait before the next attempt, and the record of a release. :class:`~informers.leaderelection.LeaderElection` runs
these against the Lease (:mod:`informers.leaderelection.election`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from informers.leaderelection.lease import LeaderElectionRecord, micro_time
from informers.leaderelection.timing import Observation

Work = Callable[[threading.Event], object]
"""The leader's work: called in its own thread when leadership starts; must return soon after the event is set."""


@dataclass(frozen=True, slots=True)
class LeaderElectionHealth:
    """A snapshot of a candidate.

    Attributes:
        name: the Lease, ``namespace/name``.
        identity: this candidate.
        state: ``"new"``, ``"candidate"``, ``"leading"``, ``"stopped"`` or ``"lost"`` (leadership ended without a
            stop being asked for).
        leader: the holder this candidate last saw (``""``: none).
        leader_transitions: the Lease's ``leaseTransitions`` as last seen.
        seconds_since_renewal: for the leader, seconds since its last successful write was sent; else ``None``.
        failed_attempts: attempts in a row that failed (409s, errors, a lease held by another).
        last_error: the last error of a request as ``"Type: message"``, or ``None``.

    Thread-safety: immutable.
    """

    name: str
    identity: str
    state: str
    leader: str
    leader_transitions: int
    seconds_since_renewal: float | None
    failed_attempts: int
    last_error: str | None

    @property
    def leading(self) -> bool:
        """Whether this candidate leads."""
        return self.state == "leading"


def successor(record: LeaderElectionRecord, current: LeaderElectionRecord) -> LeaderElectionRecord:
    """Return ``record`` (the candidate's own, fresh) as written over ``current``, the Lease's record.

    A renewal keeps the acquire time and the transition count; a takeover counts one more transition.

    >>> mine = LeaderElectionRecord("a", 15, "t2", "t2")
    >>> renewal = successor(mine, LeaderElectionRecord("a", 15, "t1", "t1", 3))
    >>> renewal.acquire_time, renewal.renew_time, renewal.lease_transitions
    ('t1', 't2', 3)
    >>> successor(mine, LeaderElectionRecord("b", 15, "t1", "t1", 3)).lease_transitions
    4
    """
    if current.holder_identity == record.holder_identity:
        return LeaderElectionRecord(
            record.holder_identity,
            record.lease_duration_seconds,
            current.acquire_time or record.acquire_time,
            record.renew_time,
            current.lease_transitions,
        )
    return LeaderElectionRecord(
        record.holder_identity,
        record.lease_duration_seconds,
        record.acquire_time,
        record.renew_time,
        current.lease_transitions + 1,
    )


def held_by_another(identity: str, observed: Observation, now: float) -> bool:
    """Whether another holder's lease, as ``identity`` observed it, is unexpired at ``now`` (no attempt then).

    >>> seen = Observation(LeaderElectionRecord("b", 15), observed_at=100.0)
    >>> held_by_another("a", seen, 110.0), held_by_another("a", seen, 115.0), held_by_another("b", seen, 110.0)
    (True, False, False)
    """
    holder = observed.record.holder_identity
    return bool(holder) and holder != identity and not observed.expired(now)


def retry_delay(retry_period: float, observed: Observation | None, now: float) -> float:
    """Return the seconds a follower waits before its next attempt.

    The retry period, or less when the holder's lease expires sooner: it wakes then, not up to a period later.

    >>> seen = Observation(LeaderElectionRecord("b", 15), observed_at=100.0)
    >>> retry_delay(2.0, seen, 110.0), round(retry_delay(2.0, seen, 114.5), 3), retry_delay(2.0, None, 0.0)
    (2.0, 0.501, 2.0)
    """
    if observed is None or not observed.record.holder_identity:
        return retry_period
    return min(retry_period, max(observed.expires_at() - now, 0.0) + 0.001)


def released(current: LeaderElectionRecord) -> LeaderElectionRecord:
    """Return the record that releases a lease (client-go ``release``): no holder, a duration of 1 second.

    >>> released(LeaderElectionRecord("a", 15, lease_transitions=2)).holder_identity
    ''
    """
    return LeaderElectionRecord("", 1, micro_time(), micro_time(), current.lease_transitions)


__all__ = ["LeaderElectionHealth", "Work", "held_by_another", "released", "retry_delay", "successor"]

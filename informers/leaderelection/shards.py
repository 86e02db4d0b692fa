"""Sharded controllers: replicas split the keys, each reconciling only its own, with a safe handover.

Membership: each replica holds a Lease of its own (labelled with the ring's name), renewed like a leader's; a
replica whose Lease is unexpired by the local observation time (as in leader election) is live. Assignment:
rendezvous hashing of the key over the live members (:mod:`informers.leaderelection.assignment`), so every
replica computes the same owners.

Handover: a replica's Lease also carries, in an annotation, the member list it acts on (its *view*); the keys it
may reconcile are the keys it owns under that published view. A replica reconciles a key only if

1. it owns the key under its published view (and under the view it is about to publish, if any);
2. no other live member owns the key under *that member's* published view (read after our own last publish);
3. its own Lease was renewed within ``renew_deadline``.

A replica changes its view only after the keys it gives up have finished their reconciles, then publishes, then
reads the others again before taking any key the new view gives it. So a key gained from a live replica starts
only after that replica published a view without it (its release), and a key of a dead replica only after its
Lease expired by our observation, which is after the dead replica stopped (3). No key is reconciled by two
replicas at once, while reconciles end within ``lease_duration - renew_deadline`` of a replica's last renewal.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dynaclient import ConflictError, DynaclientError, DynamicClient, NotFoundError, Preconditions
from informers.clock import Clock, RealClock
from informers.exceptions import AlreadyStartedError
from informers.leaderelection.assignment import owner
from informers.leaderelection.lease import LeaderElectionRecord, LeaseLock, micro_time
from informers.leaderelection.timing import LeaseTiming, Observation, default_identity, relay_stop

logger = logging.getLogger(__name__)

RING_LABEL = "shards.dynaclient.dev/ring"
"""The label naming the ring a member Lease belongs to."""
MEMBERS_ANNOTATION = "shards.dynaclient.dev/members"
"""The annotation of a member Lease listing the members its holder acts on (comma-separated)."""


@dataclass(frozen=True, slots=True)
class _State:
    valid: bool
    published: tuple[str, ...] | None
    pending: tuple[str, ...] | None
    others: tuple[tuple[str, tuple[str, ...]], ...]

    def allows(self, identity: str, key: str) -> bool:
        if not self.valid or self.published is None or owner(key, self.published) != identity:
            return False
        if self.pending is not None and owner(key, self.pending) != identity:
            return False
        return all(owner(key, view) != member for member, view in self.others)


def _gained(identity: str, previous: _State, current: _State, key: str) -> bool:
    return current.allows(identity, key) and not previous.allows(identity, key)


@dataclass(frozen=True, slots=True)
class ShardHealth:
    """A snapshot of one replica of a ring.

    Attributes:
        ring: the ring's name.
        identity: this replica.
        state: ``"new"``, ``"active"`` (its Lease is renewed), ``"lapsed"`` (no renewal within the renew deadline:
            it reconciles nothing), ``"stopping"`` or ``"stopped"``.
        members: the live members it sees, itself included.
        view: the member list it acts on (published in its Lease), or ``None`` before the first publish.
        reconciling: keys it is reconciling now.
        view_changes: views published so far.
        failed_attempts: Lease writes or reads in a row that failed.
        last_error: the last error of a request as ``"Type: message"``, or ``None``.

    Thread-safety: immutable.
    """

    ring: str
    identity: str
    state: str
    members: tuple[str, ...]
    view: tuple[str, ...] | None
    reconciling: int
    view_changes: int
    failed_attempts: int
    last_error: str | None


class Shards:
    """One replica's membership in a ring of replicas that split a controller's keys.

    ``Controller.run(shards=Shards(client, "sawtooth-operator"))`` runs a replica; :meth:`begin` and :meth:`end`
    bracket each reconcile, :meth:`owns` says which keys to enqueue again when keys are gained.

    Thread-safety: thread-safe; :meth:`run` is called once, and the ``on_gained`` callback with no lock held.
    """

    def __init__(
        self,
        client: DynamicClient,
        name: str,
        *,
        namespace: str = "default",
        identity: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: Clock | None = None,
    ) -> None:
        """Describe the replica; nothing is sent until :meth:`run`.

        Args:
            client: reads and writes the member Leases.
            name: the ring's name (the label value of every member Lease).
            namespace: where the member Leases live.
            identity: this replica's unique identity; default: host name, process id and a random suffix.
            lease_duration: see :class:`~informers.leaderelection.LeaseTiming`.
            renew_deadline: see :class:`~informers.leaderelection.LeaseTiming`.
            retry_period: see :class:`~informers.leaderelection.LeaseTiming`.
            clock: the time source of renewals and expiry.

        Raises:
            ValueError: the timing breaks the rule, or the identity is empty or contains a comma.
        """
        self.timing = LeaseTiming(lease_duration, renew_deadline, retry_period)
        self.ring = name
        self.identity = default_identity() if identity is None else identity
        if not self.identity or "," in self.identity:
            raise ValueError(f"a shard identity must be non-empty and without commas, got {self.identity!r}")
        suffix = hashlib.blake2b(self.identity.encode(), digest_size=5).hexdigest()
        self._lease = LeaseLock(client, f"{name}-{suffix}", namespace, labels={RING_LABEL: name})
        self._clock: Clock = clock or RealClock()
        self._lock = threading.Condition()
        self._wake = threading.Event()
        self._state_name = "new"
        self._closing = False
        self._renewed_at: float | None = None
        self._published: tuple[str, ...] | None = None
        self._written: tuple[str, ...] | None = None
        self._pending: tuple[str, ...] | None = None
        self._others: dict[str, tuple[str, ...]] = {}
        self._members: tuple[str, ...] = ()
        self._observed: dict[str, Observation] = {}
        self._in_flight: set[str] = set()
        self._view_changes = 0
        self._failed = 0
        self._last_error: str | None = None

    def __repr__(self) -> str:
        return f"<Shards {self.ring} identity={self.identity!r} state={self._state_name}>"

    # -- the key filter the controller uses ---------------------------------------------------------------------

    def _state_locked(self, now: float) -> _State:
        valid = not self._closing and self._renewed_at is not None
        valid = valid and now < (self._renewed_at or 0.0) + self.timing.renew_deadline
        return _State(valid, self._published, self._pending, tuple(sorted(self._others.items())))

    def owns(self, key: str) -> bool:
        """Whether this replica may reconcile ``key`` now."""
        with self._lock:
            return self._state_locked(self._clock.monotonic()).allows(self.identity, key)

    def begin(self, key: str) -> bool:
        """Start a reconcile of ``key`` if this replica may; a ``True`` must be followed by :meth:`end`."""
        with self._lock:
            if not self._state_locked(self._clock.monotonic()).allows(self.identity, key):
                return False
            self._in_flight.add(key)
            return True

    def end(self, key: str) -> None:
        """A reconcile begun with :meth:`begin` ended."""
        with self._lock:
            self._in_flight.discard(key)
            self._lock.notify_all()
        self._wake.set()

    def health(self) -> ShardHealth:
        """Return a snapshot of this replica."""
        with self._lock:
            state = self._state_name
            if state == "active" and not self._state_locked(self._clock.monotonic()).valid:
                state = "lapsed"
            return ShardHealth(
                self.ring,
                self.identity,
                state,
                self._members,
                self._published,
                len(self._in_flight),
                self._view_changes,
                self._failed,
                self._last_error,
            )

    def stop(self) -> None:
        """Ask :meth:`run` to end: admit no key, wait for the reconciles running, then delete the member Lease."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._wake.set()

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(
        self,
        on_gained: Callable[[Callable[[str], bool]], object] | None = None,
        *,
        stop: threading.Event | None = None,
    ) -> None:
        """Join the ring and keep this replica's membership until :meth:`stop` (or ``stop`` set).

        Args:
            on_gained: called with a predicate of the keys this replica just gained, to enqueue them again (keys
                dropped while they belonged to no one must be reconciled by their new owner).
            stop: an event that, once set, stops the replica like :meth:`stop`.

        Raises:
            AlreadyStartedError: ``run`` was called before.
        """
        with self._lock:
            if self._state_name != "new":
                raise AlreadyStartedError(f"shard {self.identity} of ring {self.ring} already ran")
            self._state_name = "active"
        logger.info("ring %s: %s joining", self.ring, self.identity)
        relay = None if stop is None else relay_stop(stop, self.stop)
        try:
            self._refresh()
            while not self._closing_requested():
                previous = self._snapshot()
                wrote = self._write()
                read = self._refresh()
                current = self._snapshot()
                if on_gained is not None and current != previous:
                    on_gained(functools.partial(_gained, self.identity, previous, current))
                if wrote and read and self._publishable():
                    continue  # a new view is ready: publish it now rather than a retry period later
                self._clock.wait(self._wake, self.timing.retry_period)
                self._wake.clear()
            self._leave()
        finally:
            if relay is not None:
                relay.set()
            with self._lock:
                self._state_name = "stopped"
                self._renewed_at = None

    def _closing_requested(self) -> bool:
        with self._lock:
            if self._closing:
                self._state_name = "stopping"
            return self._closing

    def _snapshot(self) -> _State:
        with self._lock:
            return self._state_locked(self._clock.monotonic())

    def _timeout(self) -> float:
        with self._lock:
            if self._renewed_at is None:
                return self.timing.renew_deadline
            return max(self._renewed_at + self.timing.renew_deadline - self._clock.monotonic(), 0.001)

    def _failed_attempt(self, error: BaseException) -> bool:
        with self._lock:
            self._failed += 1
            self._last_error = f"{type(error).__name__}: {error}"
        logger.debug("ring %s: %s: %s", self.ring, self.identity, error)
        return False

    def _publishable(self) -> bool:
        """Whether a new view waits and every key it gives up has finished its reconcile."""
        with self._lock:
            pending = self._pending
            return pending is not None and all(owner(key, pending) == self.identity for key in self._in_flight)

    def _write(self) -> bool:
        """Renew this replica's Lease, publishing the pending view once its lost keys are done; return success."""
        view = self._pending if self._publishable() else self._published
        if view is None:
            return False  # members not read yet
        sent = self._clock.monotonic()
        now_text = micro_time()
        record = LeaderElectionRecord(self.identity, int(self.timing.lease_duration), now_text, now_text)
        annotations = {MEMBERS_ANNOTATION: ",".join(view)}
        timeout = self._timeout()
        try:
            created = False
            if self._lease.lease is None:
                try:
                    self._lease.get(timeout)
                except NotFoundError:
                    self._lease.create(record, timeout, annotations)
                    created = True
            if not created:
                acquired = LeaderElectionRecord.from_lease(self._lease.lease or {}).acquire_time
                self._lease.update(dataclasses.replace(record, acquire_time=acquired or now_text), timeout, annotations)
        except (ConflictError, NotFoundError) as error:
            self._lease.forget()  # changed or deleted under us (taken for gone): read or create it next time
            return self._failed_attempt(error)
        except DynaclientError as error:
            return self._failed_attempt(error)
        with self._lock:
            self._renewed_at = sent
            self._written = view
            self._failed = 0
        return True

    def _refresh(self) -> bool:
        """Read every member Lease; commit the view just written; choose the next view from the live members."""
        try:
            leases = self._lease.leases(self._timeout()).list(label_selector={RING_LABEL: self.ring})
        except DynaclientError as error:
            return self._failed_attempt(error)
        now = self._clock.monotonic()
        others: dict[str, tuple[str, ...]] = {}
        seen: dict[str, Observation] = {}
        for lease in leases:
            name = str((lease.get("metadata") or {}).get("name") or "")
            if name == self._lease.name:
                continue
            record = LeaderElectionRecord.from_lease(lease)
            annotations = dict((lease.get("metadata") or {}).get("annotations") or {})
            view_text = annotations.get(MEMBERS_ANNOTATION, "")
            previous = self._observed.get(name)
            observation = Observation(record, now, ((MEMBERS_ANNOTATION, view_text),))
            if previous is not None:
                observation = previous.seen(record, observation.annotations, now)
            seen[name] = observation
            if not observation.expired(now) and record.holder_identity != self.identity:
                others[record.holder_identity] = tuple(member for member in view_text.split(",") if member)
            elif now >= observation.expires_at() + self.timing.lease_duration:
                self._delete_stale(lease)
        desired = tuple(sorted({self.identity, *others}))
        with self._lock:
            self._observed = seen
            if self._written is not None and self._written != self._published:
                self._published = self._written
                self._view_changes += 1
                logger.info("ring %s: %s acts on %s", self.ring, self.identity, ",".join(self._published))
            self._others = others
            self._members = desired
            self._pending = None if desired == self._published else desired
        return True

    def _delete_stale(self, lease: dict[str, object]) -> None:
        metadata = lease.get("metadata") or {}
        assert isinstance(metadata, dict)
        try:
            self._lease.leases(self._timeout()).delete(
                str(metadata.get("name")), preconditions=Preconditions(resource_version=metadata.get("resourceVersion"))
            )
        except (ConflictError, NotFoundError):
            pass  # renewed meanwhile, or already gone
        except DynaclientError as error:
            self._failed_attempt(error)

    def _leave(self) -> None:
        """Wait for the running reconciles (renewing meanwhile), then delete this replica's Lease."""
        while True:
            with self._lock:
                if not self._in_flight:
                    break
            self._write()
            with self._lock:
                self._lock.wait(self.timing.retry_period)  # woken by end(); real time, as the workers run in it
        lease = self._lease.lease
        if lease is None:
            return
        try:
            resource_version = (lease.get("metadata") or {}).get("resourceVersion")
            self._lease.leases(self.timing.renew_deadline).delete(
                self._lease.name, preconditions=Preconditions(resource_version=resource_version)
            )
            logger.info("ring %s: %s left", self.ring, self.identity)
        except DynaclientError as error:
            self._failed_attempt(error)
            logger.warning(
                "ring %s: %s could not delete its Lease; it expires in %ss",
                self.ring,
                self.identity,
                self.timing.lease_duration,
            )


__all__ = ["MEMBERS_ANNOTATION", "RING_LABEL", "ShardHealth", "Shards"]

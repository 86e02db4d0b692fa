"""Leader election on a Lease, with client-go's semantics (tools/leaderelection/leaderelection.go).

One candidate at a time leads. A candidate tries every ``retry_period``; it takes the Lease when nobody holds it,
or when the holder has not changed it for ``leaseDurationSeconds`` *as this candidate observed* (its own clock,
never the ``renewTime`` another host wrote). Writes carry the Lease's resourceVersion: of two candidates racing,
one gets 409 Conflict and stays a follower. The leader renews every ``retry_period``; when no renewal succeeds
within ``renew_deadline`` of the last successful one, it stops: its work is cancelled and waited for, and this
happens before any other candidate can see the lease expire (``lease_duration > renew_deadline``).

Two differences from client-go, both on the safe side: the leader's deadline counts from when its last successful
write was *sent*, not from when the answer came back; and ``release_on_cancel`` releases only after the leader's
work has returned (client-go releases at once, and warns that this is unsafe unless the process exits).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dynaclient import AlreadyExistsError, ConflictError, DynaclientError, DynamicClient, NotFoundError
from informers.clock import Clock, RealClock
from informers.exceptions import AlreadyStartedError, LeaderElectionLostError
from informers.leaderelection.candidate import (
    LeaderElectionHealth,
    Work,
    held_by_another,
    released,
    retry_delay,
    successor,
)
from informers.leaderelection.lease import LeaderElectionRecord, LeaseLock, micro_time
from informers.leaderelection.timing import LeaseTiming, Observation, default_identity, relay_stop

logger = logging.getLogger(__name__)


class LeaderElection:
    """A candidate for the leadership of one Lease.

    ``run()`` blocks: it campaigns, and while leading runs ``on_started_leading(leading)`` (and the ``lead`` work
    given to :meth:`run`) in threads, each handed an event that is set when leadership ends; they must return soon
    after. ``run`` returns after :meth:`stop` (releasing the Lease first with ``release_on_cancel``), and raises
    :class:`~informers.LeaderElectionLostError` when a leader could not renew in time. ``on_stopped_leading`` is
    called when ``run`` ends, even if this candidate never led; ``on_new_leader(identity)`` whenever the holder it
    sees changes (in a thread of its own).

    Thread-safety: thread-safe; ``run`` is called once; callbacks are called with no lock held.
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
        release_on_cancel: bool = False,
        on_started_leading: Work | None = None,
        on_stopped_leading: Callable[[], object] | None = None,
        on_new_leader: Callable[[str], object] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Describe the candidate; nothing is sent until :meth:`run`.

        Args:
            client: writes the Lease (any transport that can create and update Leases).
            name: the Lease's name.
            namespace: the Lease's namespace.
            identity: this candidate's unique identity; default: host name, process id and a random suffix.
            lease_duration: see :class:`LeaseTiming`.
            renew_deadline: see :class:`LeaseTiming`.
            retry_period: see :class:`LeaseTiming`.
            release_on_cancel: on :meth:`stop`, once the leader's work has returned, write the Lease with no holder
                and a duration of 1 second, so another candidate takes over at its next attempt.
            on_started_leading: work to run while leading (client-go ``OnStartedLeading``).
            on_stopped_leading: called when :meth:`run` ends (client-go ``OnStoppedLeading``).
            on_new_leader: called with each new holder seen (client-go ``OnNewLeader``); a release is not reported.
            clock: the time source of attempts, deadlines and expiry.

        Raises:
            ValueError: the timing breaks ``lease_duration > renew_deadline > 1.2 * retry_period``, or the identity
                is empty.
        """
        self.timing = LeaseTiming(lease_duration, renew_deadline, retry_period)
        self.identity = default_identity() if identity is None else identity
        if not self.identity:
            raise ValueError("a leader election candidate needs a non-empty identity")
        self.release_on_cancel = release_on_cancel
        self._lock_object = LeaseLock(client, name, namespace)
        self._on_started_leading = on_started_leading
        self._on_stopped_leading = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._clock: Clock = clock or RealClock()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._state = "new"
        self._observed: Observation | None = None
        self._renewed_at: float | None = None
        self._reported_leader = ""
        self._failed = 0
        self._last_error: str | None = None

    def __repr__(self) -> str:
        return f"<LeaderElection {self.name} identity={self.identity!r} state={self._state}>"

    @property
    def name(self) -> str:
        """The Lease, as ``namespace/name``."""
        return f"{self._lock_object.namespace}/{self._lock_object.name}"

    @property
    def leader(self) -> str:
        """The holder this candidate last saw (``""``: none seen)."""
        with self._lock:
            return self._observed.record.holder_identity if self._observed else ""

    def is_leader(self) -> bool:
        """Whether this candidate holds the lease and its last renewal is within the renew deadline."""
        with self._lock:
            return self._is_leader_locked(self._clock.monotonic())

    def _is_leader_locked(self, now: float) -> bool:
        return self._renewed_at is not None and now < self._renewed_at + self.timing.renew_deadline

    def check(self, max_tolerable_expired: float = 0.0) -> bool:
        """Health check (client-go ``Check``): false when this leader's lease lapsed more than the tolerance ago.

        A follower is always healthy. A leader whose renewals stalled (a deadlock, say) should have stopped; past
        ``lease_duration + max_tolerable_expired`` since its last renewal it reports unhealthy.
        """
        with self._lock:
            if self._state != "leading" or self._renewed_at is None:
                return True
            return self._clock.monotonic() - self._renewed_at <= self.timing.lease_duration + max_tolerable_expired

    def health(self) -> LeaderElectionHealth:
        """Return a snapshot of this candidate."""
        with self._lock:
            now = self._clock.monotonic()
            record = self._observed.record if self._observed else LeaderElectionRecord()
            since = None if self._state != "leading" or self._renewed_at is None else now - self._renewed_at
            return LeaderElectionHealth(
                self.name,
                self.identity,
                self._state,
                record.holder_identity,
                record.lease_transitions,
                since,
                self._failed,
                self._last_error,
            )

    def stop(self) -> None:
        """Ask :meth:`run` to end: leadership work is cancelled, then the Lease released (``release_on_cancel``)."""
        self._stop.set()
        self._wake.set()

    # -- one attempt -------------------------------------------------------------------------------------------

    def try_acquire_or_renew(self, timeout: float | None = None) -> bool:
        """Make one attempt to acquire or renew the lease (client-go ``tryAcquireOrRenew``); return success.

        The fast path: a leader whose lease is valid updates the Lease it last wrote; on a conflict it falls
        back to reading. Otherwise: read (create when absent); fail while another holder's lease is unexpired by
        this candidate's observation; else write, conditional on the resourceVersion read.

        Args:
            timeout: seconds each request may take.
        """
        sent = self._clock.monotonic()
        record = LeaderElectionRecord(self.identity, int(self.timing.lease_duration), micro_time(), micro_time())
        with self._lock:
            observed, leading = self._observed, self._is_leader_locked(sent)
        try:
            if leading and observed is not None and self._lock_object.lease is not None:
                try:
                    renewal = successor(record, observed.record)
                    self._lock_object.update(renewal, timeout)
                    return self._succeeded(renewal, sent)
                except ConflictError:
                    pass  # someone else wrote it: read it and judge again
            try:
                current, _ = self._lock_object.get(timeout)
            except NotFoundError:
                self._lock_object.create(record, timeout)
                return self._succeeded(record, sent)
            now = self._clock.monotonic()
            with self._lock:
                # client-go: the observation time moves only when the record changed (compared whole).
                seen = Observation(current, now) if self._observed is None else self._observed.seen(current, (), now)
                self._observed = observed = seen
            if held_by_another(self.identity, observed, now):
                return self._failed_attempt(None)
            write = successor(record, current)
            self._lock_object.update(write, timeout)
            return self._succeeded(write, sent)
        except (ConflictError, AlreadyExistsError) as error:
            return self._failed_attempt(error)  # a 409: another candidate won this round
        except DynaclientError as error:
            return self._failed_attempt(error)
        finally:
            self._report_new_leader()

    def _succeeded(self, record: LeaderElectionRecord, sent: float) -> bool:
        with self._lock:
            # Our own write: we count from when it was sent, so our deadline ends before anyone's observation does.
            self._observed = Observation(record, sent)
            self._renewed_at = sent
            self._failed = 0
        return True

    def _failed_attempt(self, error: BaseException | None) -> bool:
        with self._lock:
            self._failed += 1
            if error is not None:
                self._last_error = f"{type(error).__name__}: {error}"
        if error is not None:
            logger.debug("lease %s: attempt failed: %s", self.name, error)
        return False

    def _report_new_leader(self) -> None:
        with self._lock:
            holder = self._observed.record.holder_identity if self._observed else ""
            if not holder or holder == self._reported_leader:
                return
            self._reported_leader = holder
        logger.info("lease %s: new leader %s", self.name, holder)
        if self._on_new_leader is not None:
            threading.Thread(
                target=self._on_new_leader, args=(holder,), name=f"leaderelection[{self.name}]/new-leader", daemon=True
            ).start()

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(self, lead: Work | None = None, *, stop: threading.Event | None = None) -> None:
        """Campaign; while leading run the work; return after :meth:`stop` (or ``stop`` set).

        Args:
            lead: more work to run while leading, next to ``on_started_leading`` (``Controller.run`` uses it).
            stop: an event that, once set, stops the candidate like :meth:`stop`.

        Raises:
            AlreadyStartedError: ``run`` was called before.
            LeaderElectionLostError: leadership was lost (renewals failed for ``renew_deadline``).
        """
        with self._lock:
            if self._state != "new":
                raise AlreadyStartedError(f"leader election {self.name} ({self.identity}) already ran")
            self._state = "candidate"
        relay = None if stop is None else relay_stop(stop, self.stop)
        lost = False
        try:
            if self._acquire():
                lost = self._lead(lead)
        finally:
            with self._lock:
                self._state = "lost" if lost else "stopped"
                self._renewed_at = None
            self._stop.set()
            if relay is not None:
                relay.set()
            if self._on_stopped_leading is not None:
                self._on_stopped_leading()
        if lost:
            raise LeaderElectionLostError(f"lease {self.name}: {self.identity} could not renew its leadership")

    def _acquire(self) -> bool:
        logger.info("lease %s: %s campaigning", self.name, self.identity)
        while not self._stop.is_set():
            if self.try_acquire_or_renew(timeout=self.timing.renew_deadline):
                logger.info("lease %s: %s acquired it", self.name, self.identity)
                return True
            with self._lock:
                observed = self._observed
            self._clock.wait(self._wake, retry_delay(self.timing.retry_period, observed, self._clock.monotonic()))
            self._wake.clear()
        return False

    def _lead(self, lead: Work | None) -> bool:
        """Run the work and renew; return whether leadership was lost."""
        leading = threading.Event()
        with self._lock:
            self._state = "leading"
        workers = [self._start_work(work, leading) for work in (self._on_started_leading, lead) if work is not None]
        next_attempt = self._clock.monotonic() + self.timing.retry_period
        lost = False
        while True:
            if self._stop.is_set():
                leading.set()
            if leading.is_set() and not any(worker.is_alive() for worker in workers):
                break
            now = self._clock.monotonic()
            with self._lock:
                deadline = (self._renewed_at or now) + self.timing.renew_deadline
            if now >= deadline:
                lost = True
                break
            if now >= next_attempt:
                if self.try_acquire_or_renew(timeout=max(deadline - now, 0.001)):
                    with self._lock:
                        deadline = (self._renewed_at or now) + self.timing.renew_deadline
                next_attempt = self._clock.monotonic() + self.timing.retry_period
                continue
            self._clock.wait(self._wake, min(next_attempt, deadline) - now)
            self._wake.clear()
        if lost:
            logger.error(
                "lease %s: %s lost leadership (no renewal within %ss)",
                self.name,
                self.identity,
                self.timing.renew_deadline,
            )
        leading.set()
        self._join(workers)
        if not lost and self.release_on_cancel and not any(worker.is_alive() for worker in workers):
            self._release()
        return lost

    def _start_work(self, work: Work, leading: threading.Event) -> threading.Thread:
        def run_work() -> None:
            try:
                work(leading)
            except Exception:
                logger.exception("lease %s: the leader's work failed", self.name)
            finally:
                self._wake.set()

        thread = threading.Thread(target=run_work, name=f"leaderelection[{self.name}]/work", daemon=True)
        thread.start()
        return thread

    def _join(self, workers: list[threading.Thread]) -> None:
        # Others may acquire lease_duration after our last write was sent: that is how long the work may take.
        with self._lock:
            renewed_at = self._renewed_at or self._clock.monotonic()
        margin = renewed_at + self.timing.lease_duration - self._clock.monotonic()
        for worker in workers:
            worker.join(max(margin, 0.0))  # real threads end in real time
        if any(worker.is_alive() for worker in workers):
            logger.error(
                "lease %s: the leader's work is still running after leadership ended; another candidate may lead now",
                self.name,
            )

    def _release(self) -> None:
        """Write the lease with no holder and a 1 s duration (client-go ``release``), retrying on conflict."""
        deadline = self._clock.monotonic() + self.timing.renew_deadline
        while self._clock.monotonic() < deadline:
            with self._lock:
                observed = self._observed
            if observed is None or observed.record.holder_identity != self.identity:
                return  # not ours (any more): nothing to release
            release = released(observed.record)
            timeout = max(deadline - self._clock.monotonic(), 0.001)
            try:
                self._lock_object.update(release, timeout)
            except ConflictError:
                try:
                    current, _ = self._lock_object.get(timeout)
                except DynaclientError as error:
                    self._failed_attempt(error)
                    continue
                with self._lock:
                    self._observed = Observation(current, self._clock.monotonic())
                continue
            except DynaclientError as error:
                self._failed_attempt(error)
                self._clock.sleep(self.timing.retry_period)
                continue
            with self._lock:
                self._observed = Observation(release, self._clock.monotonic())
            logger.info("lease %s: %s released it", self.name, self.identity)
            return
        logger.warning(
            "lease %s: %s could not release it; it expires in %ss", self.name, self.identity, self.timing.lease_duration
        )


__all__ = ["LeaderElection", "LeaderElectionHealth", "Work"]

"""Leader election over the in-memory fake API server and a fake clock: client-go's leaderelection_test.go cases.

The cases of ``TestTryAcquireOrRenewLeases`` (acquire from no object, from an empty Lease, from an unled one, after
the holder's lease duration, never from an unexpired holder, renew our own), ``TestReleaseOnCancellation``,
``TestReleaseRetriesOnConflict``, ``TestFastPathLeaderElection``, ``TestLeaderElectionConfigValidation``, and the
``OnStoppedLeading`` callback when leadership was never won.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from dynaclient import ConflictError, JSONObject
from dynaclient.testing.fake import FakeDynamicClient
from informers import FakeClock, LeaderElectionLostError
from informers.leaderelection import LEASES, LeaderElection, LeaderElectionRecord

WAIT = 10.0
NAME = "operator"
LONG_AGO = "2000-01-01T00:00:00.000000Z"


def _lease(client: FakeDynamicClient) -> JSONObject:
    return client.resource(LEASES).namespace("default").get(NAME)


def _record(client: FakeDynamicClient) -> LeaderElectionRecord:
    return LeaderElectionRecord.from_lease(_lease(client))


def _put_lease(client: FakeDynamicClient, spec: JSONObject | None) -> None:
    body: JSONObject = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": NAME}}
    if spec is not None:
        body["spec"] = spec
    client.resource(LEASES).namespace("default").create(body)


def _write_lease(client: FakeDynamicClient, **spec: Any) -> None:
    lease = _lease(client)
    lease["spec"] = {**lease.get("spec", {}), **spec}
    client.resource(LEASES).namespace("default").update(lease)


def _candidate(client: FakeDynamicClient, clock: FakeClock, identity: str = "baz", **options: Any) -> LeaderElection:
    timing = {"lease_duration": 10, "renew_deadline": 5, "retry_period": 1}
    return LeaderElection(client, NAME, identity=identity, clock=clock, **{**timing, **options})


@pytest.fixture
def client() -> FakeDynamicClient:
    return FakeDynamicClient()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


# -- configuration (TestLeaderElectionConfigValidation) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ({"lease_duration": 10, "renew_deadline": 10, "retry_period": 2}, "greater than renew_deadline"),
        ({"lease_duration": 15, "renew_deadline": 2.4, "retry_period": 2}, "1.2 \\* retry_period"),
        ({"lease_duration": 15, "renew_deadline": 10, "retry_period": 0}, "retry_period .* positive"),
        ({"lease_duration": 15.5, "renew_deadline": 10, "retry_period": 2}, "whole number of seconds"),
    ],
)
def test_timing_is_validated(client: FakeDynamicClient, timing: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LeaderElection(client, NAME, identity="a", **timing)


def test_identity_must_not_be_empty(client: FakeDynamicClient) -> None:
    with pytest.raises(ValueError, match="identity"):
        LeaderElection(client, NAME, identity="")


def test_default_identity_is_unique(client: FakeDynamicClient) -> None:
    assert LeaderElection(client, NAME).identity != LeaderElection(client, NAME).identity


# -- tryAcquireOrRenew (TestTryAcquireOrRenewLeases) -----------------------------------------------------------


def test_acquire_from_no_object(client: FakeDynamicClient, clock: FakeClock) -> None:
    candidate = _candidate(client, clock)
    assert candidate.try_acquire_or_renew()
    record = _record(client)
    assert (record.holder_identity, record.lease_duration_seconds, record.lease_transitions) == ("baz", 10, 0)
    assert candidate.is_leader()
    assert candidate.leader == "baz"


def test_acquire_from_object_without_spec(client: FakeDynamicClient, clock: FakeClock) -> None:
    _put_lease(client, None)
    assert _candidate(client, clock).try_acquire_or_renew()
    assert (_record(client).holder_identity, _record(client).lease_transitions) == ("baz", 1)


def test_acquire_from_unled_object(client: FakeDynamicClient, clock: FakeClock) -> None:
    _put_lease(client, {"holderIdentity": "", "leaseDurationSeconds": 10})
    assert _candidate(client, clock).try_acquire_or_renew()
    assert (_record(client).holder_identity, _record(client).lease_transitions) == ("baz", 1)


def test_acquire_from_led_object_after_its_lease_duration(client: FakeDynamicClient, clock: FakeClock) -> None:
    # The record's own leaseDurationSeconds (3) counts, from when this candidate first saw the record.
    _put_lease(
        client, {"holderIdentity": "bing", "leaseDurationSeconds": 3, "renewTime": "2000-01-01T00:00:00.000000Z"}
    )
    candidate = _candidate(client, clock)
    assert not candidate.try_acquire_or_renew()
    clock.advance(2.9)
    assert not candidate.try_acquire_or_renew()
    clock.advance(0.1)
    assert candidate.try_acquire_or_renew()
    assert (_record(client).holder_identity, _record(client).lease_transitions) == ("baz", 1)


def test_do_not_acquire_from_led_acked_object(client: FakeDynamicClient, clock: FakeClock) -> None:
    # A renewTime far in the past does not matter: expiry is judged by when the record was seen to change.
    _put_lease(
        client, {"holderIdentity": "bing", "leaseDurationSeconds": 10, "renewTime": "2000-01-01T00:00:00.000000Z"}
    )
    candidate = _candidate(client, clock)
    assert not candidate.try_acquire_or_renew()
    clock.advance(9)
    _write_lease(client, renewTime="2000-01-01T00:00:09.000000Z")  # the holder renews
    clock.advance(9)
    assert not candidate.try_acquire_or_renew()  # seen changed 9 s ago: still held
    assert candidate.leader == "bing"
    assert not candidate.is_leader()
    assert candidate.health().failed_attempts == 2


def test_renew_already_acquired_object(client: FakeDynamicClient, clock: FakeClock) -> None:
    _put_lease(
        client, {"holderIdentity": "baz", "leaseDurationSeconds": 10, "acquireTime": "2000-01-01T00:00:00.000000Z"}
    )
    candidate = _candidate(client, clock)
    assert candidate.try_acquire_or_renew()
    record = _record(client)
    assert (record.holder_identity, record.lease_transitions, record.acquire_time) == ("baz", 0, LONG_AGO)


def test_on_new_leader_reports_each_new_holder(client: FakeDynamicClient, clock: FakeClock) -> None:
    seen: list[str] = []
    reported = threading.Semaphore(0)

    def on_new_leader(identity: str) -> None:
        seen.append(identity)
        reported.release()

    _put_lease(client, {"holderIdentity": "bing", "leaseDurationSeconds": 10})
    candidate = _candidate(client, clock, on_new_leader=on_new_leader)
    candidate.try_acquire_or_renew()
    assert reported.acquire(timeout=WAIT)
    candidate.try_acquire_or_renew()  # same holder: not reported again
    clock.advance(10)
    assert candidate.try_acquire_or_renew()
    assert reported.acquire(timeout=WAIT)
    assert seen == ["bing", "baz"]


# -- conflicts and the fast path (TestFastPathLeaderElection) --------------------------------------------------


def test_fast_path_renews_without_reading(client: FakeDynamicClient, clock: FakeClock) -> None:
    candidate = _candidate(client, clock)
    assert candidate.try_acquire_or_renew()
    requests: list[str] = []
    send = client.api_client.transport.send

    def counting(request: Any) -> Any:
        requests.append(request.method)
        return send(request)

    client.api_client.transport.send = counting  # type: ignore[method-assign]
    clock.advance(1)
    assert candidate.try_acquire_or_renew()
    assert requests == ["PUT"]


def test_a_conflict_means_someone_else_won(client: FakeDynamicClient, clock: FakeClock) -> None:
    leader = _candidate(client, clock)
    assert leader.try_acquire_or_renew()
    _write_lease(client, holderIdentity="other")  # another candidate wrote the Lease meanwhile
    clock.advance(1)
    assert not leader.try_acquire_or_renew()  # the fast path's PUT gets 409; the read shows an unexpired holder
    assert leader.leader == "other"
    assert leader.health().failed_attempts == 1
    clock.advance(5)
    assert not leader.is_leader()  # no renewal within renew_deadline


def test_two_candidates_racing_for_an_empty_lease(client: FakeDynamicClient, clock: FakeClock) -> None:
    _put_lease(client, {"holderIdentity": "", "leaseDurationSeconds": 10})
    first, second = _candidate(client, clock, "a"), _candidate(client, clock, "b")
    # second read the Lease before first wrote it: its update carries a stale resourceVersion.
    second._lock_object.get(None)
    assert first.try_acquire_or_renew()
    with pytest.raises(ConflictError):
        second._lock_object.update(LeaderElectionRecord("b", 10), None)
    assert not second.try_acquire_or_renew()
    assert _record(client).holder_identity == "a"


# -- run: leading, losing, releasing ---------------------------------------------------------------------------


class _Run:
    """A candidate's run() in a thread, with events for its callbacks."""

    def __init__(self, make: Callable[..., LeaderElection]) -> None:
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.stopped = threading.Event()
        self.error: BaseException | None = None
        self.cancelled_at: float | None = None
        self.election = make(on_started_leading=self._work, on_stopped_leading=self.stopped.set)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _work(self, leading: threading.Event) -> None:
        self.started.set()
        leading.wait()
        self.cancelled.set()

    def _run(self) -> None:
        try:
            self.election.run()
        except BaseException as error:
            self.error = error


def test_release_on_cancel_hands_over_at_once(client: FakeDynamicClient, clock: FakeClock) -> None:
    leader = _Run(lambda **callbacks: _candidate(client, clock, "a", release_on_cancel=True, **callbacks))
    assert leader.started.wait(WAIT)
    leader.election.stop()
    leader.thread.join(WAIT)
    assert leader.cancelled.is_set()
    assert leader.stopped.is_set()
    assert leader.error is None
    record = _record(client)
    assert (record.holder_identity, record.lease_duration_seconds) == ("", 1)
    assert leader.election.health().state == "stopped"
    follower = _candidate(client, clock, "b")
    assert follower.try_acquire_or_renew()  # no wait: a released lease is free
    assert _record(client).lease_transitions == 1


def test_without_release_the_lease_stays_until_it_expires(client: FakeDynamicClient, clock: FakeClock) -> None:
    leader = _Run(lambda **callbacks: _candidate(client, clock, "a", **callbacks))
    assert leader.started.wait(WAIT)
    leader.election.stop()
    leader.thread.join(WAIT)
    assert _record(client).holder_identity == "a"
    follower = _candidate(client, clock, "b")
    assert not follower.try_acquire_or_renew()
    clock.advance(10)
    assert follower.try_acquire_or_renew()


def test_release_retries_on_conflict(client: FakeDynamicClient, clock: FakeClock) -> None:
    leader = _candidate(client, clock, "a", release_on_cancel=True)
    assert leader.try_acquire_or_renew()
    lease = _lease(client)
    lease["metadata"]["labels"] = {"touched": "yes"}  # someone changed the Lease: our cached copy is stale
    client.resource(LEASES).namespace("default").update(lease)
    leader._release()
    record = _record(client)
    assert (record.holder_identity, record.lease_duration_seconds) == ("", 1)


def test_stopped_leading_is_called_when_never_leading(client: FakeDynamicClient, clock: FakeClock) -> None:
    _put_lease(client, {"holderIdentity": "other", "leaseDurationSeconds": 10})
    follower = _Run(lambda **callbacks: _candidate(client, clock, "b", **callbacks))
    assert clock.block_until_waiters(1, WAIT)  # it tried, and waits for the lease to expire
    follower.election.stop()
    follower.thread.join(WAIT)
    assert follower.stopped.is_set()
    assert not follower.started.is_set()
    assert follower.error is None
    assert follower.election.health().state == "stopped"


def test_losing_leadership_cancels_the_work_before_the_lease_can_expire(
    client: FakeDynamicClient, clock: FakeClock
) -> None:
    leader = _Run(lambda **callbacks: _candidate(client, clock, "a", **callbacks))
    assert leader.started.wait(WAIT)
    acquired_at = clock.monotonic()
    _write_lease(client, holderIdentity="other")  # every renewal now gets 409, then sees another holder
    for _ in range(5):
        assert clock.block_until_waiters(1, WAIT)
        clock.advance(1)
    leader.thread.join(WAIT)
    assert isinstance(leader.error, LeaderElectionLostError)
    assert leader.cancelled.is_set()
    assert leader.stopped.is_set()
    # Cancelled at renew_deadline (5 s) after the last successful write: before anyone sees it expire (10 s).
    assert clock.monotonic() - acquired_at < 10
    assert leader.election.health().state == "lost"


def test_a_follower_takes_over_when_the_leader_stops_renewing(client: FakeDynamicClient, clock: FakeClock) -> None:
    _put_lease(client, {"holderIdentity": "dead", "leaseDurationSeconds": 10})
    follower = _Run(lambda **callbacks: _candidate(client, clock, "b", **callbacks))
    assert clock.block_until_waiters(1, WAIT)
    clock.advance(9.9)
    assert not follower.started.is_set()
    assert clock.block_until_waiters(1, WAIT)
    clock.advance(0.2)  # it wakes when the observed lease expires, not a retry period later
    assert follower.started.wait(WAIT)
    assert follower.election.health().leading
    assert follower.election.leader == "b"
    follower.election.stop()
    follower.thread.join(WAIT)


def test_check_reports_a_stalled_leader(client: FakeDynamicClient, clock: FakeClock) -> None:
    candidate = _candidate(client, clock)
    assert candidate.check()
    assert candidate.try_acquire_or_renew()
    candidate._state = "leading"  # as run() sets it; renewals then stall
    clock.advance(10)
    assert candidate.check()
    assert not candidate.check(max_tolerable_expired=-1)
    clock.advance(1.1)
    assert not candidate.check(max_tolerable_expired=1)


def test_run_twice_is_refused(client: FakeDynamicClient, clock: FakeClock) -> None:
    from informers import AlreadyStartedError

    candidate = _candidate(client, clock)
    candidate.stop()
    candidate.run()
    with pytest.raises(AlreadyStartedError):
        candidate.run()

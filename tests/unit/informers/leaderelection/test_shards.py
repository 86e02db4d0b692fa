"""Shards over the in-memory fake API server and a fake clock: assignment, and the handover protocol step by step.

Each replica's loop is driven by hand (``_write`` publishes, ``_refresh`` reads the ring), so the order of writes
and reads between replicas is the test's.
"""

from __future__ import annotations

import pytest

from dynaclient.testing.fake import FakeDynamicClient
from informers import FakeClock
from informers.leaderelection import Shards, assign, owner

KEYS = [f"default/saw-{index:03d}" for index in range(300)]


def _replica(client: FakeDynamicClient, clock: FakeClock, identity: str) -> Shards:
    return Shards(client, "ring", identity=identity, lease_duration=10, renew_deadline=5, retry_period=1, clock=clock)


def _step(*replicas: Shards) -> None:
    for replica in replicas:
        replica._write()
        replica._refresh()


def _owned(replica: Shards) -> set[str]:
    return {key for key in KEYS if replica.owns(key)}


@pytest.fixture
def client() -> FakeDynamicClient:
    return FakeDynamicClient()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


def test_rendezvous_moves_only_what_it_must() -> None:
    three = assign(KEYS, ["a", "b", "c"])
    assert all(80 <= len(keys) <= 120 for keys in three.values())
    four = assign(KEYS, ["a", "b", "c", "d"])
    moved = [key for key in KEYS if owner(key, ("a", "b", "c")) != owner(key, ("a", "b", "c", "d"))]
    assert set(moved) == set(four["d"])  # adding d moves keys only to d, about a quarter
    assert 50 <= len(moved) <= 100
    two = {key for key in KEYS if owner(key, ("a", "b")) != owner(key, ("a", "b", "c"))}
    assert two == set(three["c"])  # removing c moves only c's keys


def test_identity_must_not_hold_a_comma(client: FakeDynamicClient) -> None:
    with pytest.raises(ValueError, match="comma"):
        Shards(client, "ring", identity="a,b")


def test_a_lone_replica_owns_every_key(client: FakeDynamicClient, clock: FakeClock) -> None:
    a = _replica(client, clock, "a")
    a._refresh()
    assert not _owned(a)  # nothing before its view is published and read back
    _step(a)
    assert _owned(a) == set(KEYS)
    assert a.health().view == ("a",)


def test_a_joining_replica_waits_until_the_owner_gives_the_key_up(client: FakeDynamicClient, clock: FakeClock) -> None:
    a, b = _replica(client, clock, "a"), _replica(client, clock, "b")
    a._refresh()
    _step(a)
    key = next(key for key in KEYS if owner(key, ("a", "b")) == "b")
    assert a.begin(key)  # a is reconciling a key that b will own

    b._refresh()
    _step(b)
    assert _owned(b) == set()  # a's published view (a alone) still claims every key
    _step(a)  # a sees b, but cannot publish (a, b) while it reconciles b's key
    assert a.health().view == ("a",)
    assert not a.owns(key)  # a gives the key up: no new reconcile of it starts
    _step(b)
    assert _owned(b) == set()

    a.end(key)
    _step(a, b)
    assert a.health().view == ("a", "b")
    assert _owned(b) == {k for k in KEYS if owner(k, ("a", "b")) == "b"}
    assert _owned(a) == {k for k in KEYS if owner(k, ("a", "b")) == "a"}
    assert not (_owned(a) & _owned(b))


def test_keys_of_a_dead_replica_move_only_after_its_lease_expires(client: FakeDynamicClient, clock: FakeClock) -> None:
    a, b = _replica(client, clock, "a"), _replica(client, clock, "b")
    a._refresh()
    b._refresh()
    for _ in range(3):
        _step(a, b)
    assert _owned(a) | _owned(b) == set(KEYS)
    b_keys = _owned(b)
    # b dies: it writes no more. a waits for b's lease to expire by a's own observation.
    clock.advance(9)
    _step(a)  # a sees b's last write only now: expiry counts from here (observation time, not b's clock)
    assert not (_owned(a) & b_keys)
    assert not b.owns(next(iter(b_keys)))  # b itself stopped: no renewal within its renew deadline
    clock.advance(9.9)
    _step(a)
    assert not (_owned(a) & b_keys)
    clock.advance(0.1)
    _step(a)  # b expired: a publishes (a) ...
    _step(a)  # ... and reads the ring again before taking b's keys
    assert _owned(a) == set(KEYS)
    assert b.health().state == "new"


def test_a_stopped_replica_admits_nothing(client: FakeDynamicClient, clock: FakeClock) -> None:
    a = _replica(client, clock, "a")
    a._refresh()
    _step(a)
    a.stop()
    assert not _owned(a)

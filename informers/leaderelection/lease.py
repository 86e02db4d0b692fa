"""A ``coordination.k8s.io/v1`` Lease as a lock: the election record, and writes guarded by its resourceVersion.

client-go tools/leaderelection/resourcelock (leaselock.go, interface.go): the record lives in the Lease's spec
(``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime``, ``renewTime``, ``leaseTransitions``); an update
sends the Lease as last read or written, so its ``resourceVersion`` makes the write conditional and the API server
answers 409 Conflict when another candidate wrote in between.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from dynaclient import DynamicClient, JSONObject, ResourceClient

LEASES = "leases.coordination.k8s.io"


def micro_time(now: datetime.datetime | None = None) -> str:
    """Format a ``MicroTime`` (RFC 3339 with microseconds, UTC), as Lease times are written.

    >>> micro_time(datetime.datetime(2026, 12, 7, 1, 2, 3, 45, tzinfo=datetime.timezone.utc))
    '2026-12-07T01:02:03.000045Z'
    """
    now = now or datetime.datetime.now(datetime.UTC)
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaderElectionRecord:
    """What a Lease says about its holder (client-go ``LeaderElectionRecord``).

    The times are informational: expiry is judged by when a candidate *saw* the record change, never by
    ``renew_time``, so clocks of other hosts do not matter.

    Attributes:
        holder_identity: who holds the lease; ``""``: nobody (released, or never held).
        lease_duration_seconds: how long the holder may go without renewing.
        acquire_time: when the holder acquired it (``MicroTime``), or ``None``.
        renew_time: when the holder last renewed it (``MicroTime``), or ``None``.
        lease_transitions: how many times the holder changed.

    Thread-safety: immutable.

    >>> record = LeaderElectionRecord.from_lease({"spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}})
    >>> record.holder_identity, record.lease_duration_seconds, record.renew_time
    ('a', 15, None)
    """

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: str | None = None
    renew_time: str | None = None
    lease_transitions: int = 0

    @classmethod
    def from_lease(cls, lease: JSONObject) -> LeaderElectionRecord:
        """Read the record from a Lease's spec (absent fields are empty, as client-go reads them)."""
        spec = lease.get("spec") or {}
        return cls(
            holder_identity=str(spec.get("holderIdentity") or ""),
            lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=spec.get("acquireTime"),
            renew_time=spec.get("renewTime"),
            lease_transitions=int(spec.get("leaseTransitions") or 0),
        )

    def to_spec(self) -> JSONObject:
        """Return the Lease spec holding this record.

        >>> LeaderElectionRecord("a", 15, lease_transitions=2).to_spec()
        {'holderIdentity': 'a', 'leaseDurationSeconds': 15, 'leaseTransitions': 2}
        """
        spec: JSONObject = {
            "holderIdentity": self.holder_identity,
            "leaseDurationSeconds": self.lease_duration_seconds,
            "leaseTransitions": self.lease_transitions,
        }
        if self.acquire_time is not None:
            spec["acquireTime"] = self.acquire_time
        if self.renew_time is not None:
            spec["renewTime"] = self.renew_time
        return spec


class LeaseLock:
    """One Lease, read and written by one candidate; every update is conditional on the last Lease it saw.

    Each call takes the request timeout to use, so an elector never waits on the API server past its renew
    deadline.

    Thread-safety: not thread-safe; one elector thread owns it.
    """

    def __init__(
        self, client: DynamicClient, name: str, namespace: str, *, labels: Mapping[str, str] | None = None
    ) -> None:
        """Address the Lease ``namespace/name``; ``labels`` are set on it when this lock creates or updates it."""
        self.name = name
        self.namespace = namespace
        self._client = client
        self._labels = dict(labels or {})
        self._resource = client.resource(LEASES).api_resource
        self._lease: JSONObject | None = None

    def __repr__(self) -> str:
        return f"<LeaseLock {self.namespace}/{self.name}>"

    def leases(self, timeout: float | None) -> ResourceClient:
        """Return a client of the Leases in this lock's namespace whose requests give up after ``timeout``."""
        return ResourceClient(self._client.api_client, self._resource, namespace=self.namespace, timeout=timeout)

    @property
    def lease(self) -> JSONObject | None:
        """The Lease as last read or written, or ``None``."""
        return self._lease

    def forget(self) -> None:
        """Drop the cached Lease (after it was deleted, say), so the next write reads or creates it afresh."""
        self._lease = None

    def get(self, timeout: float | None) -> tuple[LeaderElectionRecord, Mapping[str, str]]:
        """Read the Lease; return its record and annotations.

        Raises:
            NotFoundError: the Lease does not exist.
        """
        self._lease = self.leases(timeout).get(self.name)
        return LeaderElectionRecord.from_lease(self._lease), self._annotations(self._lease)

    def create(
        self, record: LeaderElectionRecord, timeout: float | None, annotations: Mapping[str, str] | None = None
    ) -> None:
        """Create the Lease holding ``record``.

        Raises:
            AlreadyExistsError: someone created it first (a 409).
        """
        metadata: JSONObject = {"name": self.name, "namespace": self.namespace}
        if self._labels:
            metadata["labels"] = dict(self._labels)
        if annotations:
            metadata["annotations"] = dict(annotations)
        body: JSONObject = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": record.to_spec(),
        }
        self._lease = self.leases(timeout).create(body)

    def update(
        self, record: LeaderElectionRecord, timeout: float | None, annotations: Mapping[str, str] | None = None
    ) -> None:
        """Write ``record`` over the Lease last read or written, conditional on its resourceVersion.

        Raises:
            ConflictError: the Lease changed since (someone else wrote it).
            NotFoundError: it was deleted.
            RuntimeError: nothing was read or written yet.
        """
        if self._lease is None:
            raise RuntimeError(f"lease {self.namespace}/{self.name}: update before get or create")
        metadata = dict(self._lease.get("metadata") or {})
        if self._labels:
            metadata["labels"] = {**(metadata.get("labels") or {}), **self._labels}
        if annotations is not None:
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
        body = {**self._lease, "metadata": metadata, "spec": record.to_spec()}
        self._lease = self.leases(timeout).update(body)

    @staticmethod
    def _annotations(lease: JSONObject) -> Mapping[str, str]:
        return dict((lease.get("metadata") or {}).get("annotations") or {})


__all__ = ["LEASES", "LeaderElectionRecord", "LeaseLock", "micro_time"]

"""Export leader election and shard state to Prometheus (needs the ``metrics`` extra).

Gauges are read from :meth:`LeaderElection.health() <informers.leaderelection.LeaderElection.health>` and
:meth:`Shards.health() <informers.leaderelection.Shards.health>` at scrape time. ``leader_election_master_status``
is client-go's and controller-runtime's name.

>>> from prometheus_client import CollectorRegistry, generate_latest
>>> from dynaclient.testing.fake import FakeDynamicClient
>>> from informers.leaderelection import LeaderElection
>>> registry = CollectorRegistry()
>>> watch_leader_election(LeaderElection(FakeDynamicClient(), "operator", identity="a"), registry)
>>> b'leader_election_master_status{identity="a",name="default/operator"} 0.0' in generate_latest(registry)
True
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from informers.leaderelection.election import LeaderElection
from informers.leaderelection.shards import Shards


def watch_leader_election(election: LeaderElection, registry: CollectorRegistry | None = None) -> None:
    """Export ``election``'s state: whether it leads, failed attempts in a row, seconds since its renewal."""
    (registry if registry is not None else REGISTRY).register(_ElectionCollector(election))


def watch_shards(shards: Shards, registry: CollectorRegistry | None = None) -> None:
    """Export ``shards``' state: live members, whether its membership is current, view changes, keys in flight."""
    (registry if registry is not None else REGISTRY).register(_ShardsCollector(shards))


def _gauge(name: str, documentation: str, labels: dict[str, str], value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


class _ElectionCollector(Collector):
    def __init__(self, election: LeaderElection) -> None:
        self._election = election

    def collect(self) -> Iterator[Metric]:
        health = self._election.health()
        labels = {"name": health.name, "identity": health.identity}
        yield _gauge("leader_election_master_status", "1 while this candidate leads.", labels, float(health.leading))
        yield _gauge(
            "leader_election_failed_attempts",
            "Acquire or renew attempts in a row that failed.",
            labels,
            health.failed_attempts,
        )
        since = health.seconds_since_renewal
        yield _gauge(
            "leader_election_seconds_since_renewal",
            "Seconds since the leader's last renewal (-1: not leading).",
            labels,
            -1.0 if since is None else since,
        )


class _ShardsCollector(Collector):
    def __init__(self, shards: Shards) -> None:
        self._shards = shards

    def collect(self) -> Iterator[Metric]:
        health = self._shards.health()
        labels = {"ring": health.ring, "identity": health.identity}
        yield _gauge("shard_members", "Live members of the ring this replica sees.", labels, len(health.members))
        yield _gauge("shard_active", "1 while this replica's membership is renewed.", labels, health.state == "active")
        yield _gauge("shard_view_changes", "Member lists this replica has acted on.", labels, health.view_changes)
        yield _gauge("shard_reconciling", "Keys this replica is reconciling now.", labels, health.reconciling)
        yield _gauge(
            "shard_failed_attempts", "Lease writes or reads in a row that failed.", labels, health.failed_attempts
        )


__all__ = ["watch_leader_election", "watch_shards"]

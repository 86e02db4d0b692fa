"""High availability and scale-out over ``coordination.k8s.io/v1`` Leases: leader election and sharded replicas.

* :class:`LeaderElection`: one active replica (client-go tools/leaderelection semantics);
  ``Controller.run(leader_election=LeaderElection(client, "my-operator"))`` reconciles only while leading.
* :class:`Shards`: N active replicas splitting the keys by rendezvous hashing over the live members, handing keys
  over only once their previous owner stopped; ``Controller.run(shards=Shards(client, "my-operator"))``.
"""

from __future__ import annotations

from informers.leaderelection.assignment import assign, owner
from informers.leaderelection.candidate import LeaderElectionHealth, Work
from informers.leaderelection.election import LeaderElection
from informers.leaderelection.lease import LEASES, LeaderElectionRecord, LeaseLock, micro_time
from informers.leaderelection.shards import MEMBERS_ANNOTATION, RING_LABEL, ShardHealth, Shards
from informers.leaderelection.timing import LeaseTiming, Observation

__all__ = [
    "LEASES",
    "MEMBERS_ANNOTATION",
    "RING_LABEL",
    "LeaderElection",
    "LeaderElectionHealth",
    "LeaderElectionRecord",
    "LeaseLock",
    "LeaseTiming",
    "Observation",
    "ShardHealth",
    "Shards",
    "Work",
    "assign",
    "micro_time",
    "owner",
]

"""Controller.run with leader election and with shards, over the in-memory fake API server (real time, short leases)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from dynaclient import JSONObject
from dynaclient.testing.fake import FakeDynamicClient
from informers import Controller, LeaderElection, Request, Shards
from informers.leaderelection import LEASES, LeaderElectionRecord

WAIT = 30.0
TIMING: dict[str, Any] = {"lease_duration": 2, "renew_deadline": 1.5, "retry_period": 0.25}


def _configmaps(count: int) -> list[JSONObject]:
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{index:02d}", "namespace": "default"}}
        for index in range(count)
    ]


class _Recorder:
    def __init__(self, expected: int) -> None:
        self.seen: Counter[str] = Counter()
        self.expected = expected
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> None:
        with self._lock:
            self.seen[str(request)] += 1
            if len(self.seen) >= self.expected:
                self.done.set()


def test_run_with_leader_election_reconciles_only_while_leading() -> None:
    client = FakeDynamicClient(_configmaps(3))
    recorder = _Recorder(3)
    controller = Controller(client, for_="configmaps", reconcile=recorder, namespace="default")
    election = LeaderElection(client, "operator", identity="a", release_on_cancel=True, **TIMING)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(election,), kwargs={"stop": stop}, daemon=True)
    thread.start()
    assert recorder.done.wait(WAIT)
    assert election.health().leading
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    lease = client.resource(LEASES).namespace("default").get("operator")
    assert LeaderElectionRecord.from_lease(lease).holder_identity == ""  # released after the controller stopped


def test_run_with_shards_splits_the_keys() -> None:
    client = FakeDynamicClient(_configmaps(40))
    recorders = {identity: _Recorder(1) for identity in ("a", "b")}
    stop = threading.Event()
    threads = []
    for identity, recorder in recorders.items():
        controller = Controller(client, for_="configmaps", reconcile=recorder, namespace="default", workers=2)
        shards = Shards(client, "ring", identity=identity, **TIMING)
        thread = threading.Thread(target=controller.run, kwargs={"shards": shards, "stop": stop}, daemon=True)
        thread.start()
        threads.append(thread)

    def covered() -> bool:
        return len(set(recorders["a"].seen) | set(recorders["b"].seen)) == 40

    deadline = time.monotonic() + WAIT
    while not (covered() and recorders["a"].seen and recorders["b"].seen) and time.monotonic() < deadline:
        time.sleep(0.05)  # observing worker threads from outside
    stop.set()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()
    assert covered()
    leases = client.resource(LEASES).namespace("default").list()
    assert not list(leases)  # each replica deleted its member Lease when it stopped

"""Leader election and sharded replicas against the real API server, each candidate or replica its own process.

Replicas are ``tests/integration/replica.py`` processes with short leases (4 s, renew deadline 3 s, retry 0.5 s);
they log to a JSON-lines file that the tests read: ``leading`` for candidates, ``begin``/``end`` around each
reconcile for shard replicas. Figures are printed (``-s`` shows them).
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dynaclient import APIClient, ConflictError, Discovery, DynamicClient, NotFoundError, RESTMapper
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.kubectl import KubectlRawTransport
from informers import LeaderElection, Shards
from informers.leaderelection import LEASES, RING_LABEL, LeaderElectionRecord

EXAMPLES = Path(__file__).parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
from sawtooth_operator import GROUP, SAWTOOTHS, install_crd  # noqa: E402 - the example lives outside the package

REPLICA = Path(__file__).with_name("replica.py")
LEASE_DURATION, RETRY_PERIOD = 4.0, 0.5


def _eventually(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s")
        time.sleep(0.05)  # observing other processes from outside


def _read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


class Replicas:
    """Replica processes of one test, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, mode: str, cluster: ControlPlane | ExistingCluster, namespace: str, tmp_path: Path) -> None:
        self.mode, self.cluster, self.namespace = mode, cluster, namespace
        self.log = tmp_path / "log.jsonl"
        self.records = tmp_path / "records"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.killed: dict[str, float] = {}

    def start(self, identity: str) -> None:
        command = [sys.executable, str(REPLICA), self.mode, "--kubeconfig", str(self.cluster.kubeconfig_path)]
        command += ["--namespace", self.namespace, "--identity", identity, "--log", str(self.log)]
        command += ["--records", str(self.records)]
        self.processes[identity] = subprocess.Popen(command)

    def kill(self, identity: str) -> float:
        self.processes[identity].send_signal(signal.SIGKILL)
        killed_at = time.time()
        self.processes.pop(identity).wait(30)
        self.killed[identity] = killed_at
        return killed_at

    def terminate(self, identity: str) -> float:
        process = self.processes.pop(identity)
        stopped_at = time.time()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        return stopped_at

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        return [entry for entry in _read_log(self.log) if event is None or entry["event"] == event]

    def close(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def _replicas(mode: str, cluster: ControlPlane | ExistingCluster, namespace: str, tmp_path: Path) -> Iterator[Replicas]:
    replicas = Replicas(mode, cluster, namespace, tmp_path)
    try:
        yield replicas
    finally:
        replicas.close()


# -- leader election -------------------------------------------------------------------------------------------


def test_two_candidates_one_leads_and_the_other_takes_over(
    kube_apiserver: ControlPlane | ExistingCluster, namespace: str, tmp_path: Path
) -> None:
    with _replicas("lead", kube_apiserver, namespace, tmp_path) as candidates:
        candidates.start("a")
        candidates.start("b")
        _eventually("one leads", lambda: bool(candidates.events("leading")), 30)
        time.sleep(2 * LEASE_DURATION)  # both campaign for a while: still exactly one leads
        leaders = [entry["replica"] for entry in candidates.events("leading")]
        assert len(leaders) == 1, leaders
        first = leaders[0]
        second = "b" if first == "a" else "a"

        killed_at = candidates.kill(first)
        _eventually("the other leads", lambda: len(candidates.events("leading")) == 2, 30)
        takeover = candidates.events("leading")[1]["t"] - killed_at
        print(f"\nSIGKILL of the leader: {second} led {takeover:.2f}s later (bound {LEASE_DURATION + RETRY_PERIOD}s)")  # noqa: T201
        assert candidates.events("leading")[1]["replica"] == second
        assert takeover <= LEASE_DURATION + RETRY_PERIOD + 0.5  # + request and process-start latency

        candidates.start("c")
        _eventually("c campaigns", lambda: any(e["replica"] == "c" for e in candidates.events("candidate")), 30)
        stopped_at = candidates.terminate(second)  # graceful: release_on_cancel
        _eventually("c leads", lambda: len(candidates.events("leading")) == 3, 30)
        handover = candidates.events("leading")[2]["t"] - stopped_at
        print(f"graceful stop with release_on_cancel: c led {handover:.2f}s later")  # noqa: T201
        assert candidates.events("leading")[2]["replica"] == "c"
        assert handover < 2.0


def test_leases_over_the_kubectl_transport(kube_apiserver: ControlPlane | ExistingCluster, namespace: str) -> None:
    """kubectl can create, replace (conditionally), list and delete: election and membership work over it."""
    transport = KubectlRawTransport(shutil.which("kubectl") or "kubectl", kubeconfig=kube_apiserver.kubeconfig_path)
    api_client = APIClient(transport)
    # kubectl cannot ask for aggregated discovery (an Accept with parameters): walk the groups instead.
    discovery = Discovery(api_client, use_legacy_discovery=True, cache_dir=False)
    with DynamicClient(api_client, RESTMapper(discovery)) as client:
        timing: dict[str, Any] = {"lease_duration": 4, "renew_deadline": 3, "retry_period": 0.5}
        a = LeaderElection(client, "over-kubectl", namespace=namespace, identity="a", **timing)
        b = LeaderElection(client, "over-kubectl", namespace=namespace, identity="b", **timing)
        assert a.try_acquire_or_renew()
        assert not b.try_acquire_or_renew()  # held, unexpired
        b._lock_object.get(None)
        assert a.try_acquire_or_renew()  # renewed: b's copy is stale now
        with pytest.raises(ConflictError):
            b._lock_object.update(LeaderElectionRecord("b", 4), None)

        shards = Shards(client, "over-kubectl", namespace=namespace, identity="x", **timing)
        shards._refresh()
        assert shards._write()
        shards._refresh()
        assert shards.owns(f"{namespace}/anything")
        shards.stop()
        shards._leave()
        assert not list(client.resource(LEASES).namespace(namespace).list(label_selector={RING_LABEL: "over-kubectl"}))


# -- shards ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sawtooth_crd(dynamic_client: DynamicClient) -> None:
    install_crd(dynamic_client)  # left installed: other modules share it, and deleting it waits for every object


@dataclass
class Reconcile:
    replica: str
    key: str
    start: float
    end: float


def _reconciles(replicas: Replicas) -> list[Reconcile]:
    """Pair each begin with its end; a begin of a killed replica without an end lasts until the kill."""
    open_: dict[tuple[str, str], float] = {}
    done: list[Reconcile] = []
    for entry in replicas.events():
        if entry["event"] == "begin":
            open_[(entry["replica"], entry["key"])] = entry["t"]
        elif entry["event"] == "end":
            start = open_.pop((entry["replica"], entry["key"]))
            done.append(Reconcile(entry["replica"], entry["key"], start, entry["t"]))
    for (replica, key), start in open_.items():
        done.append(Reconcile(replica, key, start, replicas.killed.get(replica, time.time())))
    return done


def _overlaps(reconciles: list[Reconcile]) -> list[tuple[Reconcile, Reconcile]]:
    by_key: dict[str, list[Reconcile]] = defaultdict(list)
    for reconcile in reconciles:
        by_key[reconcile.key].append(reconcile)
    overlaps = []
    for runs in by_key.values():
        runs.sort(key=lambda run: run.start)
        for index, run in enumerate(runs):
            for later in runs[index + 1 :]:
                if later.start >= run.end:
                    break
                if later.replica != run.replica:
                    overlaps.append((run, later))
    return overlaps


class Sawtooths:
    def __init__(self, client: DynamicClient, namespace: str, count: int) -> None:
        self.client = client.resource(SAWTOOTHS).namespace(namespace)
        self.names = [f"saw-{index:03d}" for index in range(count)]
        self.keys = {f"{namespace}/{name}" for name in self.names}

    def _each(self, action: Callable[[str], object], names: list[str] | None = None) -> None:
        with ThreadPoolExecutor(8) as pool:  # the writer: 8 requests at a time
            list(pool.map(action, names or self.names))

    def create(self, size: int) -> None:
        body = {"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "spec": {"size": size}}
        self._each(lambda name: self.client.create({**body, "metadata": {"name": name}}))

    def resize(self, size: int, names: list[str] | None = None) -> None:
        self._each(lambda name: self.client.patch(name, {"spec": {"size": size}}), names)

    def observed(self) -> dict[str, int | None]:
        return {s["metadata"]["name"]: (s.get("status") or {}).get("observedSize") for s in self.client.list()}

    def converged(self, size: int) -> bool:
        return self.observed() == dict.fromkeys(self.names, size)

    def delete_all(self) -> None:
        def delete(name: str) -> None:
            with contextlib.suppress(NotFoundError):
                self.client.delete(name)

        self._each(delete)
        _eventually("Sawtooths deleted", lambda: not list(self.client.list()), 120)


def _owners_after(reconciles: list[Reconcile], since: float) -> dict[str, str]:
    owners: dict[str, str] = {}
    for reconcile in sorted(reconciles, key=lambda run: run.start):
        if reconcile.start >= since:
            owners[reconcile.key] = reconcile.replica
    return owners


@pytest.mark.timeout(420)
def test_three_replicas_split_300_sawtooths_and_hand_over_safely(
    kube_apiserver: ControlPlane | ExistingCluster,
    dynamic_client: DynamicClient,
    sawtooth_crd: None,
    namespace: str,
    tmp_path: Path,
) -> None:
    sawtooths = Sawtooths(dynamic_client, namespace, 300)
    with _replicas("shard", kube_apiserver, namespace, tmp_path) as replicas:
        for identity in ("r1", "r2", "r3"):
            replicas.start(identity)
        sawtooths.create(1)
        _eventually("every Sawtooth reconciled", lambda: sawtooths.converged(1), 180)
        settled = time.time()
        sawtooths.resize(2)
        _eventually("size 2 everywhere", lambda: sawtooths.converged(2), 180)
        before = _owners_after(_reconciles(replicas), settled)
        assert set(before) == sawtooths.keys
        split = {replica: sum(1 for owner in before.values() if owner == replica) for replica in ("r1", "r2", "r3")}

        killed_at = replicas.kill("r1")
        sawtooths.resize(3)
        _eventually("size 3 everywhere after the kill", lambda: sawtooths.converged(3), 180)
        after_kill = _owners_after(_reconciles(replicas), killed_at)
        assert set(after_kill) == sawtooths.keys  # every key reconciled after the change
        moved_from_r1 = [key for key, owner in before.items() if owner == "r1"]
        assert all(after_kill[key] in ("r2", "r3") for key in moved_from_r1)
        assert all(after_kill[key] == before[key] for key in before if before[key] != "r1")  # nothing else moved
        taken_over = [r for r in _reconciles(replicas) if r.key in set(moved_from_r1) and r.start >= killed_at]
        first_runs = [min(r.start for r in taken_over if r.key == key) for key in moved_from_r1]
        # Each survivor gains its share of r1's keys at one moment (when its new view is published and read back);
        # the last of them is reconciled when its queue gets to it.
        handover = max(min(r.start for r in taken_over if r.replica == survivor) for survivor in ("r2", "r3"))
        handover -= killed_at
        last = max(first_runs) - killed_at

        replicas.start("r4")
        _eventually("r4 reconciles", lambda: any(r.replica == "r4" for r in _reconciles(replicas)), 60)
        time.sleep(4 * RETRY_PERIOD)  # let the others publish their views with r4
        resized_at = time.time()  # every key is reconciled after this by its owner (the last run wins a tie-break)
        sawtooths.resize(4)
        _eventually("size 4 everywhere after the join", lambda: sawtooths.converged(4), 180)
        after_join = _owners_after(_reconciles(replicas), resized_at)
        assert set(after_join) == sawtooths.keys
        moved_to_r4 = [key for key, owner in after_join.items() if owner == "r4"]
        assert all(after_join[key] == after_kill[key] for key in after_join if after_join[key] != "r4")

        reconciles = _reconciles(replicas)
        overlaps = _overlaps(reconciles)
        print(  # noqa: T201
            f"\n300 Sawtooths over r1,r2,r3: {split}; SIGKILL r1: {len(moved_from_r1)} keys moved, both "
            f"survivors reconciling theirs {handover:.2f}s after the kill, the last of them reconciled at {last:.2f}s "
            f"(lease {LEASE_DURATION}s); r4 joined: {len(moved_to_r4)} keys moved to it; {len(reconciles)} "
            f"reconciles, overlapping reconciles of one key: {len(overlaps)}"
        )
        assert not overlaps, overlaps[:5]
        # Expected: the lease + about two retry periods (observation lag, publish); the bound allows for a loaded host.
        assert handover <= 2 * LEASE_DURATION
        assert 50 <= len(moved_to_r4) <= 150  # about a third of the keys
        sawtooths.delete_all()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_chaos_replicas_killed_and_restarted_under_a_writer(
    kube_apiserver: ControlPlane | ExistingCluster,
    dynamic_client: DynamicClient,
    sawtooth_crd: None,
    namespace: str,
    tmp_path: Path,
) -> None:
    sawtooths = Sawtooths(dynamic_client, namespace, 100)
    chance = random.Random(13)
    desired = dict.fromkeys(sawtooths.names, 1)
    with _replicas("shard", kube_apiserver, namespace, tmp_path) as replicas:
        generation = 0
        for _ in range(3):
            generation += 1
            replicas.start(f"g{generation}")
        sawtooths.create(1)
        end = time.monotonic() + 120
        kills = restarts = 0
        while time.monotonic() < end:
            for name in chance.sample(sawtooths.names, 10):  # the writer
                desired[name] = chance.randint(1, 50)
                sawtooths.resize(desired[name], [name])
            if chance.random() < 0.15 and len(replicas.processes) > 1:
                replicas.kill(chance.choice(sorted(replicas.processes)))
                kills += 1
            if chance.random() < 0.15 or not replicas.processes:
                generation += 1
                replicas.start(f"g{generation}")
                restarts += 1
            time.sleep(0.5)
        _eventually(
            "the end state equals the desired state",
            lambda: sawtooths.observed() == {name: desired[name] for name in sawtooths.names},
            180,
        )
        overlaps = _overlaps(_reconciles(replicas))
        total = len(_reconciles(replicas))
        print(f"\nchaos: {kills} kills, {restarts} starts, {total} reconciles, {len(overlaps)} overlaps")  # noqa: T201
        assert not overlaps, overlaps[:5]
        sawtooths.delete_all()

"""The Sawtooth operator example against the real API server: create, scale, break, delete, and its command."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dynaclient import DynamicClient, JSONObject, NotFoundError, ResourceClient, get_controller_of
from dynaclient.testing import ControlPlane
from informers.controller import ControllerStats
from tests.integration.flavours import BlockingClient, LoopThread

EXAMPLES = Path(__file__).parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
from sawtooth_operator import (  # noqa: E402 - the example lives outside the package
    FINALIZER,
    GROUP,
    SAWTOOTHS,
    ExternalRecords,
    SawtoothOperator,
    install_crd,
)
from sawtooth_operator_async import AsyncSawtoothOperator  # noqa: E402


def _eventually(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout}s")
        time.sleep(0.05)  # waiting on the server and the operator's threads, observed from outside


@pytest.fixture(scope="module")
def sawtooth_crd(dynamic_client: DynamicClient) -> Iterator[None]:
    install_crd(dynamic_client)
    yield
    # A Sawtooth left by a failed test elsewhere (its operator gone) would hold the CRD's deletion forever.
    sawtooths = dynamic_client.resource(SAWTOOTHS)
    for leftover in sawtooths.list():
        metadata = leftover["metadata"]
        if metadata.get("finalizers"):
            with contextlib.suppress(NotFoundError):
                sawtooths.namespace(metadata["namespace"]).patch(metadata["name"], {"metadata": {"finalizers": None}})
    crds = dynamic_client.resource("customresourcedefinitions.apiextensions.k8s.io")
    crds.delete(SAWTOOTHS)

    def gone() -> bool:
        try:
            crds.get(SAWTOOTHS)
        except NotFoundError:
            return True
        return False

    _eventually("CRD deleted", gone)


@dataclass
class Running:
    """A running Sawtooth operator of either flavour, as the scenarios see it from the test's thread.

    Thread-safety: as its parts (the clients and records are thread-safe; ``stats`` runs on the operator's loop).
    """

    sawtooths: ResourceClient
    configmaps: ResourceClient
    records: ExternalRecords
    stats: Callable[[], ControllerStats]


@pytest.fixture
def operator(
    request: pytest.FixtureRequest,
    flavour: str,
    dynamic_client: DynamicClient,
    namespace: str,
    tmp_path: Path,
) -> Iterator[Running]:
    """The threaded operator, or the ``async def reconcile`` one on the flavour's event loop (same scenarios)."""
    request.getfixturevalue("sawtooth_crd")
    records = ExternalRecords(tmp_path / "records")
    stop: Callable[[], bool]
    if flavour == "sync":
        threaded = SawtoothOperator(dynamic_client, records, namespace=namespace)
        threaded.controller.start(sync_timeout=30)
        stats, stop = threaded.controller.stats, lambda: threaded.controller.stop(30)
    else:
        async_client: BlockingClient = request.getfixturevalue("async_client")
        event_loop_thread: LoopThread = request.getfixturevalue("event_loop_thread")
        on_loop = AsyncSawtoothOperator(async_client.client, records, namespace=namespace)
        event_loop_thread.run(on_loop.controller.start(sync_timeout=30))
        stats = lambda: event_loop_thread.call(on_loop.controller.stats)  # noqa: E731
        stop = lambda: event_loop_thread.run(on_loop.controller.stop(30))  # noqa: E731
    running = Running(dynamic_client.resource(SAWTOOTHS), dynamic_client.resource("configmaps"), records, stats)
    yield running
    # Leave no finalizer behind: the CRD's deletion waits for every Sawtooth.
    for sawtooth in running.sawtooths.namespace(namespace).list():
        running.sawtooths.namespace(namespace).delete(sawtooth["metadata"]["name"])
    _eventually("Sawtooths deleted", lambda: not list(running.sawtooths.namespace(namespace).list()))
    assert stop()


def _create(operator: SawtoothOperator | Running, namespace: str, name: str, size: int) -> None:
    body = {"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "metadata": {"name": name}, "spec": {"size": size}}
    operator.sawtooths.namespace(namespace).create(body)


def _state(operator: SawtoothOperator | Running, namespace: str) -> dict[str, tuple[int | None, str | None]]:
    """Per Sawtooth: (status.observedSize, its ConfigMap's data.size)."""
    configmaps = {cm["metadata"]["name"]: cm for cm in operator.configmaps.namespace(namespace).list()}
    state: dict[str, tuple[int | None, str | None]] = {}
    for sawtooth in operator.sawtooths.namespace(namespace).list():
        name = sawtooth["metadata"]["name"]
        configmap: JSONObject = configmaps.get(name) or {}
        state[name] = ((sawtooth.get("status") or {}).get("observedSize"), (configmap.get("data") or {}).get("size"))
    return state


def test_create_writes_configmap_status_record_and_finalizer(operator: Running, namespace: str) -> None:
    for name, size in (("a", 1), ("b", 2), ("c", 3)):
        _create(operator, namespace, name, size)
    expected = {"a": (1, "1"), "b": (2, "2"), "c": (3, "3")}
    _eventually("converged", lambda: _state(operator, namespace) == expected)
    assert operator.records.all() == {f"{namespace}/a": 1, f"{namespace}/b": 2, f"{namespace}/c": 3}
    sawtooth = operator.sawtooths.namespace(namespace).get("a")
    assert sawtooth["metadata"]["finalizers"] == [FINALIZER]
    owner = get_controller_of(operator.configmaps.namespace(namespace).get("a"))
    assert owner is not None
    assert (owner["kind"], owner["name"], owner["uid"]) == ("Sawtooth", "a", sawtooth["metadata"]["uid"])
    assert operator.stats().reconciles["error"] == 0


def test_scale_updates_configmap_status_and_record(operator: Running, namespace: str) -> None:
    _create(operator, namespace, "a", 1)
    _eventually("created", lambda: _state(operator, namespace) == {"a": (1, "1")})
    operator.sawtooths.namespace(namespace).patch("a", {"spec": {"size": 4}})
    _eventually("scaled", lambda: _state(operator, namespace) == {"a": (4, "4")})
    assert operator.records.all() == {f"{namespace}/a": 4}


def test_a_configmap_deleted_by_hand_comes_back_and_one_edited_is_restored(operator: Running, namespace: str) -> None:
    _create(operator, namespace, "a", 2)
    _eventually("created", lambda: _state(operator, namespace) == {"a": (2, "2")})
    configmaps = operator.configmaps.namespace(namespace)
    uid = configmaps.get("a")["metadata"]["uid"]
    configmaps.delete("a")

    def recreated() -> bool:
        try:
            return bool(configmaps.get("a")["metadata"]["uid"] != uid)
        except NotFoundError:
            return False

    _eventually("recreated", recreated)
    _eventually("restored", lambda: _state(operator, namespace) == {"a": (2, "2")})
    configmaps.patch("a", {"data": {"size": "99"}})
    _eventually("edit reverted", lambda: _state(operator, namespace) == {"a": (2, "2")})


def test_delete_runs_cleanup_then_removes_the_finalizer(operator: Running, namespace: str) -> None:
    _create(operator, namespace, "a", 1)
    _create(operator, namespace, "b", 2)
    _eventually("created", lambda: len(operator.records.all()) == 2)
    operator.sawtooths.namespace(namespace).delete("a")
    _eventually("deleted", lambda: set(_state(operator, namespace)) == {"b"})
    assert operator.records.all() == {f"{namespace}/b": 2}


def test_the_example_runs_its_demo_on_the_local_plane(
    kube_apiserver: ControlPlane, sawtooth_crd: None, namespace: str, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(kube_apiserver.kubeconfig_path)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "sawtooth_operator.py"), "--demo", "--namespace", namespace],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok: it comes back" in done.stdout
    assert "ok: small is gone, its record cleaned" in done.stdout


def test_the_async_example_runs_its_demo_on_the_local_plane(
    kube_apiserver: ControlPlane, sawtooth_crd: None, namespace: str, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(kube_apiserver.kubeconfig_path)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "sawtooth_operator_async.py"), "--demo", "--namespace", namespace],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok: it comes back" in done.stdout
    assert "ok: all gone, their records cleaned" in done.stdout
    assert "'error': 0" in done.stdout


@pytest.fixture(scope="module")
def cluster_client(kube_cluster: ControlPlane) -> Iterator[DynamicClient]:
    with DynamicClient.from_kubeconfig(kube_cluster.kubeconfig_path) as client:
        install_crd(client)
        yield client


# kube-controller-manager's garbage collector re-reads discovery every 30 s: a CRD installed by this module may
# take that long to be followed, on top of the cluster's start.
@pytest.mark.timeout(240)
def test_deleting_a_sawtooth_deletes_its_configmap_through_the_garbage_collector(
    cluster_client: DynamicClient, cluster_namespace: str, tmp_path: Path
) -> None:
    # The plane with controllers: kube-controller-manager's garbage collector follows the owner reference.
    operator = SawtoothOperator(cluster_client, ExternalRecords(tmp_path / "records"), namespace=cluster_namespace)
    operator.controller.start(sync_timeout=30)
    try:
        _create(operator, cluster_namespace, "a", 3)
        _eventually("created", lambda: _state(operator, cluster_namespace) == {"a": (3, "3")})
        configmaps = operator.configmaps.namespace(cluster_namespace)
        operator.sawtooths.namespace(cluster_namespace).delete("a")

        def collected() -> bool:
            return not any(cm["metadata"]["name"] == "a" for cm in configmaps.list())

        _eventually("the ConfigMap collected", collected, timeout=120)
        assert set(_state(operator, cluster_namespace)) == set()
        assert operator.records.all() == {}
    finally:
        assert operator.controller.stop(30)

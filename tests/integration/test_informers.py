"""Informers against the real control plane: sync, exact handler calls, recovery with tombstones, isolation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import pytest

from dynaclient import DynamicClient, JSONObject, ResourceClient
from dynaclient.testing import ControlPlane
from informers import (
    DeletedFinalStateUnknown,
    ListerWatcher,
    ListPage,
    ResourceListWatch,
    SharedIndexInformer,
    SharedInformerFactory,
    WatchStream,
    label_index,
)
from informers.aio import AsyncEventStream, AsyncListerWatcher, AsyncResourceListWatch, AsyncSharedInformerFactory
from tests.integration.flavours import BlockingClient, BlockingFactory

EXAMPLES = Path(__file__).parents[2] / "examples"


class Recorder:
    """Records handler calls as (event, name, data) and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self._changed = threading.Condition()

    def _record(self, call: tuple[str, str, Any]) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def on_add(self, obj: JSONObject, is_initial: bool) -> None:
        self._record(("add-initial" if is_initial else "add", obj["metadata"]["name"], obj.get("data")))

    def on_update(self, old: JSONObject, new: JSONObject) -> None:
        self._record(("update", new["metadata"]["name"], (old.get("data"), new.get("data"))))

    def on_delete(self, obj: JSONObject | DeletedFinalStateUnknown) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            self._record(("tombstone", obj.obj["metadata"]["name"], obj.obj.get("data")))
        else:
            self._record(("delete", obj["metadata"]["name"], obj.get("data")))

    def wait_for(self, predicate: Callable[[list[tuple[str, str, Any]]], bool], timeout: float = 30.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.calls), timeout):
                raise AssertionError(f"handler calls never satisfied the condition: {self.calls}")

    def by_name(self) -> dict[str, list[tuple[str, Any]]]:
        per_key: dict[str, list[tuple[str, Any]]] = {}
        for event, name, data in self.calls:
            per_key.setdefault(name, []).append((event, data))
        return per_key


def _snapshot(objects: list[JSONObject]) -> dict[str, tuple[str, str]]:
    return {o["metadata"]["name"]: (o["metadata"]["uid"], o["metadata"]["resourceVersion"]) for o in objects}


def _wait_until_cache_equals_server(informer: SharedIndexInformer, resource: ResourceClient) -> None:
    deadline = time.monotonic() + 30
    while (cached := _snapshot(informer.store.list())) != (server := _snapshot(list(resource.list()))):
        if time.monotonic() > deadline:
            raise AssertionError(f"cache != server:\ncache  {cached}\nserver {server}")
        time.sleep(0.1)  # the cache catches up with events already on the wire; the loop has a deadline


@pytest.fixture
def configmaps(dynamic_client: DynamicClient, namespace: str) -> ResourceClient:
    return dynamic_client.resource("configmaps").namespace(namespace)


@pytest.fixture
def factory(
    flavour: str, dynamic_client: DynamicClient, async_client: BlockingClient, namespace: str
) -> Iterator[SharedInformerFactory]:
    """The threaded factory, or the asyncio one seen from the test's thread (tests/integration/flavours.py)."""
    if flavour == "async":
        loop = async_client.loop
        with BlockingFactory(loop, AsyncSharedInformerFactory(async_client.client, namespace=namespace)) as shared:
            yield cast(SharedInformerFactory, shared)
        return
    with SharedInformerFactory(dynamic_client, namespace=namespace) as shared:
        yield shared


def test_after_sync_the_cache_equals_a_fresh_list_of_2000_objects(
    factory: SharedInformerFactory, configmaps: ResourceClient
) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: configmaps.create({"metadata": {"name": f"cm-{i:04d}"}, "data": {"i": str(i)}}), range(2000)
            )
        )
    informer = factory.for_resource("configmaps")
    factory.start()
    assert all(factory.wait_for_cache_sync(timeout=60).values())
    fresh = configmaps.list(limit=0).to_list()
    assert len(fresh["items"]) == 2000
    assert _snapshot(informer.store.list()) == _snapshot(fresh["items"])
    assert informer.health().lists == 1


def test_a_scripted_sequence_yields_exactly_the_expected_handler_calls_in_order_per_key(
    factory: SharedInformerFactory, configmaps: ResourceClient
) -> None:
    configmaps.create({"metadata": {"name": "before"}, "data": {"v": "0"}})
    recorder = Recorder()
    informer = factory.for_resource("configmaps")
    informer.add_event_handler(on_add=recorder.on_add, on_update=recorder.on_update, on_delete=recorder.on_delete)
    factory.start()
    factory.wait_for_cache_sync(timeout=30)

    configmaps.create({"metadata": {"name": "a"}, "data": {"v": "1"}})
    configmaps.create({"metadata": {"name": "b"}, "data": {"v": "1"}})
    configmaps.patch("a", {"data": {"v": "2"}})
    configmaps.delete("b")
    configmaps.patch("a", {"data": {"v": "3"}})
    configmaps.patch("before", {"data": {"v": "1"}})
    configmaps.create({"metadata": {"name": "c"}})
    configmaps.delete("a")
    recorder.wait_for(lambda calls: ("delete", "a", {"v": "3"}) in calls)

    assert recorder.by_name() == {
        "before": [("add-initial", {"v": "0"}), ("update", ({"v": "0"}, {"v": "1"}))],
        "a": [
            ("add", {"v": "1"}),
            ("update", ({"v": "1"}, {"v": "2"})),
            ("update", ({"v": "2"}, {"v": "3"})),
            ("delete", {"v": "3"}),
        ],
        "b": [("add", {"v": "1"}), ("delete", {"v": "1"})],
        "c": [("add", None)],
    }
    _wait_until_cache_equals_server(informer, configmaps)


def test_restart_mid_watch_the_informer_resumes_and_sees_later_changes(
    kube_apiserver: ControlPlane, factory: SharedInformerFactory, configmaps: ResourceClient
) -> None:
    recorder = Recorder()
    informer = factory.for_resource("configmaps")
    informer.add_event_handler(on_add=recorder.on_add, on_update=recorder.on_update, on_delete=recorder.on_delete)
    factory.start()
    factory.wait_for_cache_sync(timeout=30)
    kube_apiserver.restart_apiserver()
    configmaps.create({"metadata": {"name": "after-restart"}})
    recorder.wait_for(lambda calls: any(name == "after-restart" for _, name, _ in calls))
    _wait_until_cache_equals_server(informer, configmaps)
    assert informer.health().watch_restarts >= 1


class GatedListWatch:
    """A ListerWatcher whose calls block while the gate is closed: the informer is cut off from the server."""

    def __init__(self, inner: ListerWatcher) -> None:
        self.inner = inner
        self.open = threading.Event()
        self.open.set()
        self.blocked = threading.Event()
        self.streams: list[WatchStream] = []

    def _pass(self) -> None:
        if not self.open.is_set():
            self.blocked.set()
            self.open.wait()

    def list_page(self, **options: Any) -> ListPage:
        self._pass()
        return self.inner.list_page(**options)

    def watch(self, **options: Any) -> WatchStream:
        self._pass()
        stream = self.inner.watch(**options)
        self.streams.append(stream)
        return stream


class AsyncGatedListWatch:
    """The same gate for the asyncio informer: a closed gate holds the reflector's task, not the loop."""

    def __init__(self, inner: AsyncListerWatcher) -> None:
        self.inner = inner
        self.open = threading.Event()
        self.open.set()
        self.blocked = threading.Event()

    async def _pass(self) -> None:
        if not self.open.is_set():
            self.blocked.set()
            await asyncio.to_thread(self.open.wait)

    async def list_page(self, **options: Any) -> ListPage:
        await self._pass()
        return await self.inner.list_page(**options)

    async def watch(self, **options: Any) -> AsyncEventStream:
        await self._pass()
        return await self.inner.watch(**options)


@pytest.fixture
def gated(
    flavour: str, configmaps: ResourceClient, async_client: BlockingClient, namespace: str
) -> Iterator[tuple[GatedListWatch | AsyncGatedListWatch, SharedInformerFactory]]:
    """A gate between an informer factory (threaded or asyncio) and the server, and the factory."""
    if flavour == "async":
        resource = async_client.resource("configmaps").namespace(namespace).resource
        async_gate = AsyncGatedListWatch(AsyncResourceListWatch(resource))
        async_factory = AsyncSharedInformerFactory(None, lister_watcher_factory=lambda *_: async_gate)
        with BlockingFactory(async_client.loop, async_factory) as blocking:
            yield async_gate, cast(SharedInformerFactory, blocking)
        return
    gate = GatedListWatch(ResourceListWatch(configmaps))
    with SharedInformerFactory(None, lister_watcher_factory=lambda *_: gate) as factory:
        yield gate, factory


def test_changes_while_disconnected_arrive_as_tombstones_updates_and_adds_after_compaction(
    kube_apiserver: ControlPlane,
    gated: tuple[GatedListWatch | AsyncGatedListWatch, SharedInformerFactory],
    configmaps: ResourceClient,
) -> None:
    for name in ("keep", "change", "vanish", "recreate"):
        configmaps.create({"metadata": {"name": name}, "data": {"v": "1"}})
    gate, factory = gated
    recorder = Recorder()
    informer = factory.for_resource("configmaps")
    informer.add_event_handler(on_add=recorder.on_add, on_update=recorder.on_update, on_delete=recorder.on_delete)
    factory.start()
    assert all(factory.wait_for_cache_sync(timeout=30).values())
    recorder.wait_for(lambda calls: len(calls) == 4)  # the initial adds are delivered asynchronously
    synced = len(recorder.calls)

    gate.open.clear()
    kube_apiserver.restart_apiserver()  # ends the watch; the reflector's next call waits at the gate
    assert gate.blocked.wait(30), "the reflector never tried to reconnect"
    configmaps.patch("change", {"data": {"v": "2"}})
    configmaps.delete("vanish")
    configmaps.create({"metadata": {"name": "new"}, "data": {"v": "1"}})
    configmaps.delete("recreate")  # deleted and created again under the same name: another uid
    configmaps.create({"metadata": {"name": "recreate"}, "data": {"v": "2"}})
    kube_apiserver.compact_etcd()
    gate.open.set()

    recorder.wait_for(lambda calls: len(calls) >= synced + 5)
    _wait_until_cache_equals_server(informer, configmaps)
    after = recorder.calls[synced:]
    assert sorted(after) == [
        ("add", "new", {"v": "1"}),
        ("add", "recreate", {"v": "2"}),
        ("tombstone", "recreate", {"v": "1"}),
        ("tombstone", "vanish", {"v": "1"}),
        ("update", "change", ({"v": "1"}, {"v": "2"})),
    ]
    # The old object's delete comes first, as a tombstone, never an update from the old uid to the new one.
    recreated = [call for call in after if call[1] == "recreate"]
    assert recreated == [("tombstone", "recreate", {"v": "1"}), ("add", "recreate", {"v": "2"})]
    assert informer.health().lists >= 2, "the informer relisted after 410 Gone"


def test_a_slow_handler_does_not_delay_another_and_a_raising_one_does_not_stop_delivery(
    factory: SharedInformerFactory, configmaps: ResourceClient
) -> None:
    release = threading.Event()
    slow_seen: list[str] = []
    fast = Recorder()

    def slow(obj: JSONObject, is_initial: bool) -> None:
        release.wait(30)
        slow_seen.append(obj["metadata"]["name"])

    def broken(obj: JSONObject, is_initial: bool) -> None:
        raise RuntimeError("handler bug")

    informer = factory.for_resource("configmaps")
    slow_registration = informer.add_event_handler(on_add=slow)
    broken_registration = informer.add_event_handler(on_add=broken)
    informer.add_event_handler(on_add=fast.on_add)
    factory.start()
    for i in range(5):
        configmaps.create({"metadata": {"name": f"cm-{i}"}})
    fast.wait_for(lambda calls: len(calls) == 5)  # while the slow handler is still stuck on its first object
    assert slow_seen == []
    release.set()
    deadline = time.monotonic() + 30
    while len(slow_seen) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(slow_seen) == [f"cm-{i}" for i in range(5)]
    health = {h.name: h for h in informer.health().handlers}
    assert health[broken_registration.name].errors == 5
    assert health[slow_registration.name].errors == 0


def test_shutdown_returns_within_two_seconds_and_leaves_no_thread(
    dynamic_client: DynamicClient, namespace: str, configmaps: ResourceClient
) -> None:
    configmaps.create({"metadata": {"name": "one"}})
    before = set(threading.enumerate())
    factory = SharedInformerFactory(dynamic_client, namespace=namespace)
    for resource in ("configmaps", "secrets"):
        factory.for_resource(resource).add_event_handler(on_add=lambda obj, initial: None)
    factory.start()
    assert all(factory.wait_for_cache_sync(timeout=30).values())
    started = time.monotonic()
    assert factory.shutdown(timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def test_label_index_finds_all_objects_with_a_label_value(
    factory: SharedInformerFactory, configmaps: ResourceClient
) -> None:
    for i, app in enumerate(["web", "db", "web", "web", "cache"]):
        configmaps.create({"metadata": {"name": f"cm-{i}", "labels": {"app": app}}})
    informer = factory.for_resource("configmaps")
    informer.add_indexers({"app": label_index("app")})
    factory.start()
    factory.wait_for_cache_sync(timeout=30)
    assert [o["metadata"]["name"] for o in informer.by_index("app", "web")] == ["cm-0", "cm-2", "cm-3"]
    selected = informer.lister().list(label_selector={"app": ["db", "cache"]})
    assert [o["metadata"]["name"] for o in selected] == ["cm-1", "cm-4"]


@pytest.mark.parametrize("example", ["informer_delete_handler.py", "label_index.py", "demo.py", "cache_endpoint.py"])
def test_examples_run_against_the_local_control_plane(
    kube_apiserver: ControlPlane, example: str, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(kube_apiserver.kubeconfig_path)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / example)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "using kubeconfig" in done.stdout

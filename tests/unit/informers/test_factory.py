from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest

from dynaclient import DynamicClient, GroupVersionResource, NotFoundError
from informers import (
    FakeClock,
    InformerKey,
    ListerWatcher,
    ResourceListWatch,
    SharedInformerFactory,
    client_lister_watcher_factory,
    strip_managed_fields,
)
from informers.testing import IdleReflectorFactory, RecordingHandler, make_object

WAIT = 10.0
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")
PODS = GroupVersionResource("", "v1", "pods")


class ListerWatchers:
    """A lister-watcher factory that records what it was asked for."""

    def __init__(self) -> None:
        self.requests: list[tuple[object, str | None, str | None, str | None]] = []

    def __call__(
        self, resource: object, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> ListerWatcher:
        self.requests.append((resource, namespace, label_selector, field_selector))
        return cast(ListerWatcher, object())


class Setup:
    def __init__(self, **options: Any) -> None:
        self.lister_watchers = ListerWatchers()
        self.reflectors = IdleReflectorFactory()
        self.clock = FakeClock()
        self.factory = SharedInformerFactory(
            None,
            lister_watcher_factory=self.lister_watchers,
            reflector_factory=self.reflectors,
            clock=self.clock,
            **options,
        )


@pytest.fixture
def setup() -> Iterator[Setup]:
    setup = Setup(namespace="prod", label_selector={"app": "web"})
    yield setup
    assert setup.factory.shutdown(WAIT)


def test_for_resource_returns_one_informer_per_resource_namespace_and_selectors(setup: Setup) -> None:
    factory = setup.factory
    deployments = factory.for_resource(DEPLOYMENTS)

    assert factory.for_resource(DEPLOYMENTS) is deployments
    assert factory.for_resource(DEPLOYMENTS, namespace="prod", label_selector="app=web") is deployments
    others = [
        factory.for_resource(PODS),
        factory.for_resource(DEPLOYMENTS, namespace=None),
        factory.for_resource(DEPLOYMENTS, namespace="dev"),
        factory.for_resource(DEPLOYMENTS, label_selector=None),
        factory.for_resource(DEPLOYMENTS, field_selector={"metadata.name": "web"}),
    ]
    assert len({id(informer) for informer in [deployments, *others]}) == 6
    assert setup.lister_watchers.requests == [
        (DEPLOYMENTS, "prod", "app=web", None),
        (PODS, "prod", "app=web", None),
        (DEPLOYMENTS, None, "app=web", None),
        (DEPLOYMENTS, "dev", "app=web", None),
        (DEPLOYMENTS, "prod", None, None),
        (DEPLOYMENTS, "prod", "app=web", "metadata.name=web"),
    ]
    assert deployments.name == "deployments.v1.apps@prod[app=web]"
    assert InformerKey(DEPLOYMENTS, "prod", "app=web") in factory.informers()


def test_the_informers_share_the_factory_resync_and_transform_and_name_their_resource(setup: Setup) -> None:
    factory = SharedInformerFactory(
        None,
        resync=30.0,
        transform=strip_managed_fields,
        lister_watcher_factory=setup.lister_watchers,
        reflector_factory=setup.reflectors,
    )
    informer = factory.for_resource(DEPLOYMENTS)
    informer.add_event_handler(RecordingHandler())
    informer.on_replace([{"metadata": {"name": "web", "namespace": "prod", "managedFields": [{}]}}], "1")

    assert informer.health().handlers[0].resync_period == 30.0
    assert informer.lister().get("web", "prod")["metadata"] == {"name": "web", "namespace": "prod"}
    with pytest.raises(NotFoundError, match=r'deployments\.apps "api" not found'):
        informer.lister().get("api", "prod")
    assert factory.shutdown(WAIT)


def test_start_is_idempotent_and_starts_informers_created_since(setup: Setup) -> None:
    deployments = setup.factory.for_resource(DEPLOYMENTS)
    setup.factory.start()
    setup.factory.start()
    pods = setup.factory.for_resource(PODS)
    assert [reflector.name for reflector in setup.reflectors.built] == [deployments.name]
    assert not pods.is_started

    setup.factory.start()
    assert [reflector.name for reflector in setup.reflectors.built] == [deployments.name, pods.name]
    assert pods.is_started


def test_wait_for_cache_sync_reports_each_started_informer(setup: Setup) -> None:
    synced, unsynced = setup.factory.for_resource(DEPLOYMENTS), setup.factory.for_resource(PODS)
    setup.factory.start()
    setup.factory.for_resource(DEPLOYMENTS, namespace="never-started")
    synced.on_replace([make_object("web", "prod")], "5")

    result: list[dict[InformerKey, bool]] = []
    waiter = threading.Thread(target=lambda: result.append(setup.factory.wait_for_cache_sync(timeout=5)))
    waiter.start()
    assert setup.clock.block_until_waiters(1)
    setup.clock.advance(5)
    waiter.join(WAIT)

    assert result == [
        {
            InformerKey(DEPLOYMENTS, "prod", "app=web"): True,
            InformerKey(PODS, "prod", "app=web"): False,
        }
    ]
    unsynced.on_replace([], "6")
    assert set(setup.factory.wait_for_cache_sync(timeout=0).values()) == {True}


def test_shutdown_stops_and_joins_every_thread_within_the_timeout_and_leaves_none() -> None:
    before = set(threading.enumerate())
    setup = Setup(resync=10.0)
    informers = [setup.factory.for_resource(resource) for resource in (DEPLOYMENTS, PODS)]
    for informer in informers:
        informer.add_event_handler(RecordingHandler())
        informer.add_event_handler(RecordingHandler())
    setup.factory.start()
    assert all(reflector.running.wait(WAIT) for reflector in setup.reflectors.built)
    assert len(set(threading.enumerate()) - before) == 2 * 4

    started = time.monotonic()
    assert setup.factory.shutdown(timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert set(threading.enumerate()) - before == set()
    assert all(informer.is_stopped for informer in informers)

    setup.factory.start()
    assert len(setup.reflectors.built) == 2
    assert setup.factory.shutdown(WAIT)


def test_shutdown_reports_a_handler_that_does_not_return_in_time() -> None:
    gate = threading.Event()
    entered = threading.Event()

    def stuck(obj: object, is_initial: bool) -> None:
        entered.set()
        gate.wait(WAIT)

    setup = Setup()
    informer = setup.factory.for_resource(PODS)
    informer.add_event_handler(on_add=stuck)
    setup.factory.start()
    informer.on_replace([make_object("a")], "1")
    assert entered.wait(WAIT)

    assert not setup.factory.shutdown(timeout=0.05)
    gate.set()
    assert setup.factory.shutdown(WAIT)


def test_the_factory_is_a_context_manager_that_shuts_down() -> None:
    before = set(threading.enumerate())
    setup = Setup()
    with setup.factory as factory:
        factory.for_resource(PODS).add_event_handler(RecordingHandler())
        factory.start()
    assert set(threading.enumerate()) - before == set()


def test_a_factory_needs_a_client_or_a_lister_watcher_factory() -> None:
    with pytest.raises(TypeError, match="needs a client or a lister_watcher_factory"):
        SharedInformerFactory(None)


def test_the_client_lister_watcher_factory_scopes_the_resource_client_and_applies_the_selectors() -> None:
    calls: list[tuple[str, object]] = []

    class FakeResourceClient:
        def namespace(self, namespace: str) -> FakeResourceClient:
            calls.append(("namespace", namespace))
            return self

    class FakeClient:
        def resource(self, resource: object) -> FakeResourceClient:
            calls.append(("resource", resource))
            return FakeResourceClient()

    new_lister_watcher = client_lister_watcher_factory(cast(DynamicClient, FakeClient()))
    namespaced = new_lister_watcher(DEPLOYMENTS, "prod", "app=web", "metadata.name=web")
    everywhere = new_lister_watcher("nodes", None, None, None)

    assert calls == [("resource", DEPLOYMENTS), ("namespace", "prod"), ("resource", "nodes")]
    assert isinstance(namespaced, ResourceListWatch)
    assert isinstance(everywhere, ResourceListWatch)
    assert "labels='app=web' fields='metadata.name=web'" in repr(namespaced)

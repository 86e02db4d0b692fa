from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest

from dynaclient import APIClient, APIResource, DynamicClient, GroupVersionResource, NotFoundError, ResourceNotFoundError
from informers import (
    FakeClock,
    InformerKey,
    ListerWatcher,
    ResourceListWatch,
    SharedInformerFactory,
    client_lister_watcher_factory,
    strip_managed_fields,
)
from informers.testing import IdleReflector, IdleReflectorFactory, RecordingHandler, make_object

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


CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")


class FakeMapper:
    """Resolves the spellings of ConfigMaps (namespaced) and Namespaces (cluster-scoped), as discovery would."""

    def __init__(self) -> None:
        self.lookups: list[object] = []

    def resource_for(self, resource: object) -> APIResource:
        self.lookups.append(resource)
        if resource in ("cm", "configmaps", "configmaps.v1.", CONFIGMAPS):
            return APIResource("", "v1", "configmaps", "ConfigMap", namespaced=True)
        if resource in ("ns", "namespaces"):
            return APIResource("", "v1", "namespaces", "Namespace", namespaced=False)
        raise ResourceNotFoundError(f"no resource {resource!r}")


def test_informers_are_keyed_by_the_resolved_resource_so_every_spelling_shares_one() -> None:
    mapper = FakeMapper()
    client = DynamicClient(cast(APIClient, object()), mapper)
    lister_watchers = ListerWatchers()
    factory = SharedInformerFactory(
        client, namespace="prod", lister_watcher_factory=lister_watchers, reflector_factory=IdleReflectorFactory()
    )
    short = factory.for_resource("cm")
    assert factory.for_resource("configmaps") is short
    assert factory.for_resource(CONFIGMAPS) is short
    assert factory.for_resource("configmaps.v1.", namespace="prod") is short
    assert factory.for_resource("configmaps", namespace="dev") is not short
    assert factory.for_resource("ns") is factory.for_resource("namespaces", namespace="other")  # cluster-scoped
    assert lister_watchers.requests == [
        (CONFIGMAPS, "prod", None, None),
        (CONFIGMAPS, "dev", None, None),
        (GroupVersionResource("", "v1", "namespaces"), None, None, None),
    ]
    assert short.name == "cm@prod"
    assert set(factory.informers()) == {
        InformerKey(CONFIGMAPS, "prod"),
        InformerKey(CONFIGMAPS, "dev"),
        InformerKey(GroupVersionResource("", "v1", "namespaces")),
    }
    with pytest.raises(ResourceNotFoundError):
        factory.for_resource("nothing")
    assert factory.shutdown(WAIT)


class SlowToStopReflector(IdleReflector):
    """Sees the stop at once, then keeps running until the test releases it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saw_stop = threading.Event()
        self.release = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.running.set()
        stop.wait()
        self.saw_stop.set()
        self.release.wait(WAIT)


def test_shutdown_tells_every_informer_to_stop_before_waiting_for_any() -> None:
    built: list[SlowToStopReflector] = []

    def reflector_factory(*args: Any, **kwargs: Any) -> SlowToStopReflector:
        built.append(SlowToStopReflector(*args, **kwargs))
        return built[-1]

    factory = SharedInformerFactory(None, lister_watcher_factory=ListerWatchers(), reflector_factory=reflector_factory)
    factory.for_resource(PODS)
    factory.for_resource(DEPLOYMENTS)
    factory.start()
    assert all(reflector.running.wait(WAIT) for reflector in built)
    shutdown = threading.Thread(target=factory.shutdown)
    shutdown.start()
    try:
        # The first informer is stuck stopping; the second was told to stop all the same.
        assert all(reflector.saw_stop.wait(WAIT) for reflector in built)
    finally:
        for reflector in built:
            reflector.release.set()
        shutdown.join(WAIT)
    assert not shutdown.is_alive()

"""RESTMapper: resolving names, kinds and GVRs; priority and ambiguity rules; refresh on a miss."""

from __future__ import annotations

import json

import pytest

from dynaclient.client import APIClient
from dynaclient.discovery.discovery import APIResource, Discovery
from dynaclient.discovery.restmapper import ResourceArg, RESTMapper
from dynaclient.exceptions import AmbiguousResourceError, ResourceNotFoundError
from dynaclient.gvr import GroupResource, GroupVersionKind, GroupVersionResource
from dynaclient.request import Request, Response
from dynaclient.transport.base import BaseTransport


def res(group: str, version: str, plural: str, kind: str, *short_names: str, singular: str = "") -> APIResource:
    return APIResource(group, version, plural, kind, True, singular or kind.lower(), ("get",), short_names)


CLUSTER = [
    res("", "v1", "pods", "Pod", "po"),
    res("", "v1", "events", "Event", "ev"),
    res("", "v1", "configmaps", "ConfigMap", "cm"),
    res("", "v1", "endpoints", "Endpoints", "ep", singular="endpoints"),
    res("apps", "v1", "deployments", "Deployment", "deploy"),
    res("events.k8s.io", "v1", "events", "Event", "ev"),
    res("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", "hpa"),
    res("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", "hpa"),
    res("networking.k8s.io", "v1", "ingresses", "Ingress", "ing"),
    res("storage.k8s.io", "v1", "storageclasses", "StorageClass", "sc"),
    res("stable.example.com", "v1", "crontabs", "CronTab", "ct"),
    res("stable.example.com", "v1beta1", "crontabs", "CronTab", "ct"),
    res("stable.example.com", "v1beta1", "oldthings", "OldThing"),
    res("a.example.com", "v1", "widgets", "Widget", "wd"),
    res("a.example.com", "v1", "ingresses", "Ingress", "ing"),
    res("a.example.com", "v1", "configmaps", "ConfigMap", "cm"),
    res("b.example.com", "v1", "widgets", "Widget", "wd"),
    res("zoo.example.com", "v1", "mice", "Mouse", singular="mouse"),
    res("dup.example.com", "v1", "things", "Thing", "th"),
    res("dup.example.com", "v1", "stuffs", "Stuff", "th"),
]


class FakeAPIServer(BaseTransport):
    """Serves aggregated discovery for ``resources`` (version order = list order); ``stale`` g/vs are Stale.

    Thread-safety: confined to the test.
    """

    server = "https://mapper.test:6443"

    def __init__(self, resources: list[APIResource]) -> None:
        self.resources = list(resources)
        self.stale: list[tuple[str, str]] = []
        self.requests = 0

    def send(self, request: Request) -> Response:
        self.requests += 1
        core = request.path == "/api"
        groups = dict.fromkeys(r.group for r in self.resources if (r.group == "") == core)
        items = [{"metadata": {"name": g}, "versions": self._versions(g)} for g in groups]
        items += [{"metadata": {"name": g}, "versions": [{"version": v, "freshness": "Stale"}]} for g, v in self.stale]
        body = json.dumps({"kind": "APIGroupDiscoveryList", "items": items}).encode()
        media_type = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        return Response.from_bytes(200, body, {"Content-Type": media_type})

    def _versions(self, group: str) -> list[object]:
        in_group = [r for r in self.resources if r.group == group]
        return [
            {"version": v, "resources": [self._resource(r) for r in in_group if r.version == v]}
            for v in dict.fromkeys(r.version for r in in_group)
        ]

    @staticmethod
    def _resource(r: APIResource) -> dict[str, object]:
        return {
            "resource": r.resource,
            "singularResource": r.singular,
            "responseKind": {"kind": r.kind},
            "scope": "Namespaced",
            "verbs": list(r.verbs),
            "shortNames": list(r.short_names),
        }


class FakeClock:
    """A clock the test moves by hand.

    Thread-safety: confined to the test.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> FakeAPIServer:
    return FakeAPIServer(CLUSTER)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mapper(server: FakeAPIServer, clock: FakeClock) -> RESTMapper:
    return RESTMapper(Discovery(APIClient(server), cache_dir=False, ttl=600, clock=clock), min_refresh_interval=5)


RESOLVED: list[tuple[ResourceArg, str]] = [
    ("pods", "pods.v1"),
    ("pod", "pods.v1"),
    ("Pod", "pods.v1"),
    ("POD", "pods.v1"),
    ("po", "pods.v1"),
    (" pods ", "pods.v1"),
    ("endpoints", "endpoints.v1"),
    ("deployments", "deployments.v1.apps"),
    ("deploy", "deployments.v1.apps"),
    ("Deployment", "deployments.v1.apps"),
    ("deployments.apps", "deployments.v1.apps"),
    ("deployment.apps", "deployments.v1.apps"),
    ("deploy.apps", "deployments.v1.apps"),
    ("deployments.v1.apps", "deployments.v1.apps"),
    ("Deployment.v1.apps", "deployments.v1.apps"),
    ("hpa", "horizontalpodautoscalers.v2.autoscaling"),
    ("horizontalpodautoscalers.v1.autoscaling", "horizontalpodautoscalers.v1.autoscaling"),
    ("events", "events.v1"),
    ("ev", "events.v1"),
    ("Event", "events.v1"),
    ("events.events.k8s.io", "events.v1.events.k8s.io"),
    ("ingresses", "ingresses.v1.networking.k8s.io"),
    ("ing", "ingresses.v1.networking.k8s.io"),
    ("ingresses.a.example.com", "ingresses.v1.a.example.com"),
    ("configmaps", "configmaps.v1"),
    ("cm", "configmaps.v1"),
    ("storageclasses.storage", "storageclasses.v1.storage.k8s.io"),
    ("crontabs", "crontabs.v1.stable.example.com"),
    ("ct", "crontabs.v1.stable.example.com"),
    ("CronTab", "crontabs.v1.stable.example.com"),
    ("crontabs.v1beta1.stable.example.com", "crontabs.v1beta1.stable.example.com"),
    ("oldthings", "oldthings.v1beta1.stable.example.com"),
    ("widgets.a.example.com", "widgets.v1.a.example.com"),
    ("wd.b.example.com", "widgets.v1.b.example.com"),
    ("Widget.v1.b.example.com", "widgets.v1.b.example.com"),
    ("mice", "mice.v1.zoo.example.com"),
    ("mouse", "mice.v1.zoo.example.com"),
    ("Mouse", "mice.v1.zoo.example.com"),
    ("things", "things.v1.dup.example.com"),
    (GroupVersionResource("apps", "v1", "deployments"), "deployments.v1.apps"),
    (GroupVersionResource("", "v1", "pods"), "pods.v1"),
    (GroupVersionResource("apps", "", "deployments"), "deployments.v1.apps"),
    (GroupVersionResource("", "", "deployments"), "deployments.v1.apps"),
    (GroupVersionResource("autoscaling", "", "horizontalpodautoscalers"), "horizontalpodautoscalers.v2.autoscaling"),
    (GroupResource("stable.example.com", "crontabs"), "crontabs.v1.stable.example.com"),
    (GroupVersionKind("apps", "v1", "Deployment"), "deployments.v1.apps"),
    (GroupVersionKind("", "v1", "Pod"), "pods.v1"),
    (GroupVersionKind("zoo.example.com", "v1", "Mouse"), "mice.v1.zoo.example.com"),
    (GroupVersionKind("autoscaling", "", "HorizontalPodAutoscaler"), "horizontalpodautoscalers.v2.autoscaling"),
    (GroupVersionKind("stable.example.com", "v1beta1", "CronTab"), "crontabs.v1beta1.stable.example.com"),
    (GroupVersionKind("", "", "CronTab"), "crontabs.v1.stable.example.com"),
]


@pytest.mark.parametrize(("arg", "expected"), RESOLVED, ids=[str(arg) for arg, _ in RESOLVED])
def test_names_kinds_and_gvrs_resolve_to_the_served_resource(
    mapper: RESTMapper, arg: ResourceArg, expected: str
) -> None:
    assert str(mapper.resource_for(arg).gvr) == expected


NOT_FOUND: list[ResourceArg] = [
    "nosuch",
    "",
    "pods.apps",
    "deployments.v2.apps",
    "deployments.app",
    "Mouses",
    GroupVersionResource("apps", "v2", "deployments"),
    GroupVersionResource("", "v1", "deployments"),
    GroupVersionKind("", "v1", "Deployment"),
    GroupVersionKind("pods", "", "Pod"),
    GroupVersionKind("apps", "v1", "deployments"),
]


@pytest.mark.parametrize("arg", NOT_FOUND, ids=[repr(arg) for arg in NOT_FOUND])
def test_unknown_names_raise_resource_not_found(mapper: RESTMapper, arg: ResourceArg) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        mapper.resource_for(arg)

    assert not isinstance(caught.value, AmbiguousResourceError)
    assert "doesn't have a resource type" in str(caught.value)


AMBIGUOUS: list[tuple[ResourceArg, list[str]]] = [
    ("widgets", ["widgets.v1.a.example.com", "widgets.v1.b.example.com"]),
    ("wd", ["widgets.v1.a.example.com", "widgets.v1.b.example.com"]),
    ("Widget", ["widgets.v1.a.example.com", "widgets.v1.b.example.com"]),
    (GroupVersionKind("", "", "Widget"), ["widgets.v1.a.example.com", "widgets.v1.b.example.com"]),
    ("th", ["things.v1.dup.example.com", "stuffs.v1.dup.example.com"]),
]


@pytest.mark.parametrize(("arg", "candidates"), AMBIGUOUS, ids=[str(arg) for arg, _ in AMBIGUOUS])
def test_a_name_served_by_two_groups_that_no_rule_orders_is_ambiguous(
    mapper: RESTMapper, server: FakeAPIServer, arg: ResourceArg, candidates: list[str]
) -> None:
    with pytest.raises(AmbiguousResourceError) as caught:
        mapper.resource_for(arg)

    assert caught.value.candidates == candidates
    assert all(candidate in str(caught.value) for candidate in candidates)
    assert server.requests == 2  # ambiguity is an answer, not a miss: no refresh


def test_kind_for_returns_the_kind_at_the_resolved_version(mapper: RESTMapper) -> None:
    assert mapper.kind_for(GroupVersionResource("apps", "v1", "deployments")) == GroupVersionKind(
        "apps", "v1", "Deployment"
    )
    assert mapper.kind_for(GroupVersionResource("autoscaling", "", "hpa")) == GroupVersionKind(
        "autoscaling", "v2", "HorizontalPodAutoscaler"
    )


def test_a_miss_refreshes_discovery_at_once_so_that_a_new_crd_is_found(
    mapper: RESTMapper, server: FakeAPIServer, clock: FakeClock
) -> None:
    # Before: a miss refreshed only a discovery result at least 5 s old, so a new CRD was "not found" for 5 s.
    mapper.resource_for("pods")
    server.resources.append(res("new.example.com", "v1", "gadgets", "Gadget", "gd"))
    clock.now += 0.01

    assert str(mapper.resource_for("Gadget").gvr) == "gadgets.v1.new.example.com"
    assert server.requests == 4
    assert str(mapper.resource_for("gd").gvr) == "gadgets.v1.new.example.com"
    assert server.requests == 4


def test_a_storm_of_misses_refreshes_a_burst_then_once_per_interval(
    mapper: RESTMapper, server: FakeAPIServer, clock: FakeClock
) -> None:
    requests = []
    for step in (0, 0.01, 0.01, 0.01, 0.01, 0.01, 4.9, 0.1, 1):
        clock.now += step
        with pytest.raises(ResourceNotFoundError):
            mapper.resource_for("nosuch")
        requests.append(server.requests)

    # The first lookup fetches (2 requests) and is fresh; 3 refreshes at once; then one per 5 s interval.
    assert requests == [2, 4, 6, 8, 8, 8, 8, 10, 10]


def test_misses_that_overlap_a_refresh_share_it(mapper: RESTMapper, server: FakeAPIServer, clock: FakeClock) -> None:
    mapper.resource_for("pods")
    started = clock.now + 1
    clock.now += 2
    mapper.discovery.refresh()
    assert server.requests == 4

    assert mapper.discovery.refresh(unless_fetched_since=started) is mapper.discovery.snapshot()
    assert server.requests == 4


def test_a_deleted_crd_disappears_when_discovery_expires_or_is_reset(
    mapper: RESTMapper, server: FakeAPIServer, clock: FakeClock
) -> None:
    assert mapper.resource_for("mice").kind == "Mouse"
    server.resources = [r for r in server.resources if r.group != "zoo.example.com"]
    assert mapper.resource_for("mice").kind == "Mouse"  # still cached

    clock.now += 600
    with pytest.raises(ResourceNotFoundError):
        mapper.resource_for("mice")

    server.resources.append(res("zoo.example.com", "v1", "mice", "Mouse", singular="mouse"))
    mapper.reset()
    assert mapper.resource_for("Mouse").resource == "mice"


def test_the_not_found_message_names_group_versions_that_failed_discovery(
    mapper: RESTMapper, server: FakeAPIServer
) -> None:
    server.stale.append(("metrics.k8s.io", "v1beta1"))

    with pytest.raises(ResourceNotFoundError, match=r"'nodemetrics' \(discovery failed for metrics.k8s.io/v1beta1\)"):
        mapper.resource_for("nodemetrics")

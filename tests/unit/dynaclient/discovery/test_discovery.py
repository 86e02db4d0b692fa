"""Discovery: aggregated and legacy documents, partial failures and the memory TTL.

The disk cache is tested in test_discovery_disk_cache.py.
"""

from __future__ import annotations

import logging

import pytest

from dynaclient.discovery.discovery import DISCOVERY_TIMEOUT, APIGroup
from dynaclient.discovery.documents import AGGREGATED_ACCEPT, is_aggregated
from dynaclient.exceptions import DecodeError, ForbiddenError, ResourceNotFoundError
from tests.unit.dynaclient.discovery.scripted_server import (
    AGGREGATED_TYPE,
    CLUSTER,
    PODS,
    FakeClock,
    ScriptedTransport,
    Served,
    aggregated_item,
    by_gvr,
    discovery_for,
    serve,
)


def test_aggregated_discovery_reads_everything_from_two_requests(transport: ScriptedTransport) -> None:
    discovery = discovery_for(transport)

    resources = by_gvr(discovery.resources())

    assert [(r.path, r.accept) for r in transport.requests] == [
        ("/api", AGGREGATED_ACCEPT),
        ("/apis", AGGREGATED_ACCEPT),
    ]
    assert discovery.requests_made == 2
    assert all(DISCOVERY_TIMEOUT - 1 < (r.timeout or 0) <= DISCOVERY_TIMEOUT for r in transport.requests)
    assert discovery.snapshot().aggregated
    assert resources["pods.v1"] == PODS
    assert not resources["namespaces.v1"].namespaced
    assert resources["deployments.v1.apps"].subresources == ("scale", "status")
    assert discovery.failed_group_versions == {}


def test_the_legacy_walk_is_used_when_the_server_answers_plain_json() -> None:
    transport = serve(ScriptedTransport(), aggregated=False)
    discovery = discovery_for(transport)

    resources = discovery.resources()

    group_versions = sum(len(versions) for versions in CLUSTER.values())
    assert discovery.requests_made == 2 + group_versions
    assert not discovery.snapshot().aggregated
    assert by_gvr(resources)["pods.v1"] == PODS
    assert resources == discovery_for(serve(ScriptedTransport())).resources()


def test_legacy_discovery_can_be_forced(transport: ScriptedTransport) -> None:
    discovery = discovery_for(transport, use_legacy_discovery=True)

    discovery.resources()

    assert transport.requests[0].accept == "application/json"
    assert not discovery.snapshot().aggregated


def test_resources_are_ordered_by_group_then_version_preference(transport: ScriptedTransport) -> None:
    order = [(r.group, r.version, r.resource) for r in discovery_for(transport).resources()]

    assert order[:3] == [("", "v1", "pods"), ("", "v1", "namespaces"), ("", "v1", "endpoints")]
    assert order[-3:] == [
        ("stable.example.com", "v1", "crontabs"),
        ("stable.example.com", "v1beta1", "crontabs"),
        ("stable.example.com", "v1beta1", "oldthings"),
    ]


def test_groups_and_preferred_versions(transport: ScriptedTransport) -> None:
    discovery = discovery_for(transport)

    assert discovery.server_groups()[:3] == [
        APIGroup("", ("v1",), "v1"),
        APIGroup("apps", ("v1",), "v1"),
        APIGroup("autoscaling", ("v2", "v1"), "v2"),
    ]
    assert discovery.preferred_version("autoscaling") == "v2"
    with pytest.raises(ResourceNotFoundError, match=r"nosuch\.example\.com"):
        discovery.preferred_version("nosuch.example.com")


def test_preferred_resources_take_the_preferred_version_else_the_first_serving_one(
    transport: ScriptedTransport,
) -> None:
    preferred = {(r.group, r.resource): r.version for r in discovery_for(transport).preferred_resources()}

    assert preferred[("autoscaling", "horizontalpodautoscalers")] == "v2"
    assert preferred[("stable.example.com", "crontabs")] == "v1"
    assert preferred[("stable.example.com", "oldthings")] == "v1beta1"
    assert len(preferred) == 7


@pytest.mark.parametrize(
    ("content_type", "aggregated"),
    [
        (AGGREGATED_TYPE, True),
        ("application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io;charset=utf-8", True),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2", False),
        ("application/json", False),
        ("", False),
    ],
    ids=["v2", "v2beta1-any-order", "unknown-version", "no-as", "plain", "missing"],
)
def test_only_the_aggregated_media_type_counts_as_aggregated(content_type: str, aggregated: bool) -> None:
    assert is_aggregated(content_type) is aggregated


def test_a_resource_without_a_kind_is_dropped_from_aggregated_discovery(transport: ScriptedTransport) -> None:
    item = aggregated_item("x.example.com", [("v1", [Served("things", "Thing"), Served("kindless", "")])])
    body = {"kind": "APIGroupDiscoveryList", "items": [item]}
    transport.route("/apis", body, accept=AGGREGATED_ACCEPT, ctype=AGGREGATED_TYPE)

    names = [r.resource for r in discovery_for(transport).resources() if r.group == "x.example.com"]

    assert names == ["things"]


def test_a_server_without_the_core_group_is_tolerated(transport: ScriptedTransport) -> None:
    del transport.routes["GET", "/api", AGGREGATED_ACCEPT], transport.routes["GET", "/api", None]
    transport.route("/api", {"kind": "Status", "code": 404}, status=404)

    discovery = discovery_for(transport)

    assert "" not in {r.group for r in discovery.resources()}
    assert "deployments.v1.apps" in by_gvr(discovery.resources())


def test_a_failing_group_list_fails_discovery(transport: ScriptedTransport) -> None:
    transport.route(
        "/apis", {"kind": "Status", "code": 403, "reason": "Forbidden"}, status=403, accept=AGGREGATED_ACCEPT
    )

    with pytest.raises(ForbiddenError):
        discovery_for(transport).resources()


def test_a_malformed_document_is_a_decode_error_naming_the_field(transport: ScriptedTransport) -> None:
    body = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {"name": "x.io"}, "versions": "v1"}]}
    transport.route("/apis", body, accept=AGGREGATED_ACCEPT, ctype=AGGREGATED_TYPE)

    with pytest.raises(DecodeError, match=r"items\[0\]\.versions: expected list"):
        discovery_for(transport).resources()


# -- partial failure -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aggregated", "reason"), [(True, "stale GroupVersion discovery"), (False, "503")], ids=["aggregated", "legacy"]
)
def test_a_broken_group_version_is_recorded_and_logged_and_the_rest_works(
    aggregated: bool, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    transport = serve(ScriptedTransport(), aggregated=aggregated, broken=("broken.example.com", "v1alpha1"))
    discovery = discovery_for(transport)

    with caplog.at_level(logging.WARNING, logger="dynaclient.discovery"):
        resources = by_gvr(discovery.resources())

    assert list(discovery.failed_group_versions) == ["broken.example.com/v1alpha1"]
    assert reason in discovery.failed_group_versions["broken.example.com/v1alpha1"]
    assert "broken.example.com/v1alpha1" in caplog.text
    assert resources["pods.v1"] == PODS
    assert len(resources) == 9


# -- memory cache ----------------------------------------------------------------------------------------------


def test_the_memory_cache_serves_until_the_ttl_expires(transport: ScriptedTransport, clock: FakeClock) -> None:
    discovery = discovery_for(transport, clock, ttl=60)
    discovery.resources()

    clock.now += 59.9
    discovery.resources()
    discovery.preferred_resources()
    assert discovery.requests_made == 2
    assert discovery.age() == pytest.approx(59.9)

    clock.now += 0.1
    discovery.resources()
    assert discovery.requests_made == 4
    assert discovery.age() == 0


def test_invalidate_and_refresh_fetch_again(transport: ScriptedTransport, clock: FakeClock) -> None:
    discovery = discovery_for(transport, clock)
    assert discovery.age() == float("inf")
    discovery.resources()

    discovery.invalidate()
    assert discovery.requests_made == 2
    discovery.resources()
    assert discovery.requests_made == 4

    discovery.refresh()
    assert discovery.requests_made == 6

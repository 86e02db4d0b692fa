"""Discovery and the RESTMapper against a real kube-apiserver."""

from __future__ import annotations

import contextlib
import json
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dynaclient._types import JSONObject
from dynaclient.client import APIClient
from dynaclient.discovery.discovery import APIResource, Discovery
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.exceptions import NotFoundError, ResourceNotFoundError
from dynaclient.objects import nested_get
from dynaclient.request import Request

APISERVICES = "/apis/apiregistration.k8s.io/v1/apiservices"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
BROKEN_GROUP_VERSION = "broken.example.com/v1alpha1"


class FakeClock:
    """A monotonic clock the test moves by hand.

    Thread-safety: confined to the test.
    """

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resource_map(resources: list[APIResource]) -> set[tuple[Any, ...]]:
    return {
        (r.group, r.version, r.resource, r.kind, r.namespaced, r.singular, *map(frozenset, lists))
        for r in resources
        for lists in [(r.verbs, r.short_names, r.categories, r.subresources)]
    }


def wait_until(client: APIClient, collection: str, name: str, done: Callable[[JSONObject | None], bool]) -> None:
    """List then watch ``name`` until ``done(object)`` holds; ``None`` stands for "deleted"."""
    selector = ("fieldSelector", f"metadata.name={name}")
    listing = client.request("GET", collection, query=(selector,))
    if done(listing["items"][0] if listing["items"] else None):
        return
    query = (selector, ("watch", "1"), ("resourceVersion", listing["metadata"]["resourceVersion"]))
    request = Request("GET", collection, query=(*query, ("timeoutSeconds", "30")), expect="stream", timeout=40)
    with client.send(request) as response:
        for line in response.iter_lines():
            event = json.loads(line)
            if done(None if event["type"] == "DELETED" else event["object"]):
                return
    pytest.fail(f"{collection}/{name} did not reach the expected state within 30s")


def has_condition(kind: str) -> Callable[[JSONObject | None], bool]:
    def check(obj: JSONObject | None) -> bool:
        conditions = nested_get(obj or {}, "status", "conditions") or []
        return any(c["type"] == kind for c in conditions)

    return check


def condition_true(kind: str) -> Callable[[JSONObject | None], bool]:
    def check(obj: JSONObject | None) -> bool:
        conditions = nested_get(obj or {}, "status", "conditions") or []
        return any(c["type"] == kind and c["status"] == "True" for c in conditions)

    return check


def delete_quietly(client: APIClient, path: str) -> None:
    with contextlib.suppress(NotFoundError):
        client.request("DELETE", path)


@pytest.fixture
def broken_apiservice(api_client: APIClient) -> Iterator[str]:
    name = "v1alpha1.broken.example.com"
    body = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name},
        "spec": {
            "group": "broken.example.com",
            "version": "v1alpha1",
            "service": {"name": "nowhere", "namespace": "default"},
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
        },
    }
    api_client.request("POST", APISERVICES, body=body)
    try:
        wait_until(api_client, APISERVICES, name, has_condition("Available"))
        yield name
    finally:
        delete_quietly(api_client, f"{APISERVICES}/{name}")


def widget_crd(group: str) -> JSONObject:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wdg"]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def test_aggregated_and_legacy_discovery_report_the_same_resources(api_client: APIClient) -> None:
    aggregated = Discovery(api_client, cache_dir=False)
    legacy = Discovery(api_client, cache_dir=False, use_legacy_discovery=True)

    assert aggregated.snapshot().aggregated
    assert not legacy.snapshot().aggregated
    assert resource_map(aggregated.resources()) == resource_map(legacy.resources())
    assert [g.name for g in aggregated.server_groups()] == [g.name for g in legacy.server_groups()]
    assert aggregated.preferred_version("autoscaling") == legacy.preferred_version("autoscaling") == "v2"
    assert legacy.requests_made > len(legacy.server_groups())


def test_cold_aggregated_discovery_takes_at_most_two_requests(api_client: APIClient) -> None:
    discovery = Discovery(api_client, cache_dir=False)

    pods = next(r for r in discovery.preferred_resources() if r.resource == "pods")

    assert discovery.requests_made <= 2
    assert pods.kind == "Pod"
    assert {"status", "log", "exec"} <= set(pods.subresources)


def test_a_warm_disk_cache_makes_zero_requests(api_client: APIClient, tmp_path: Path) -> None:
    first = Discovery(api_client, cache_dir=tmp_path)
    expected = first.resources()

    second = Discovery(api_client, cache_dir=tmp_path)

    assert second.resources() == expected
    assert second.requests_made == 0
    assert first.cache_path is not None
    assert stat.S_IMODE(first.cache_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.cache_path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("legacy", [False, True], ids=["aggregated", "legacy"])
@pytest.mark.usefixtures("broken_apiservice")
def test_a_broken_apiservice_is_reported_and_the_rest_is_discovered(api_client: APIClient, legacy: bool) -> None:
    discovery = Discovery(api_client, cache_dir=False, use_legacy_discovery=legacy)

    resources = discovery.resources()

    assert BROKEN_GROUP_VERSION in discovery.failed_group_versions
    assert not [r for r in resources if r.group == "broken.example.com"]
    assert RESTMapper(discovery).resource_for("deploy").gvr.api_version == "apps/v1"


def test_a_crd_created_later_is_found_after_a_refresh_and_gone_after_deletion(api_client: APIClient) -> None:
    clock = FakeClock()
    discovery = Discovery(api_client, cache_dir=False, clock=clock)
    mapper = RESTMapper(discovery, min_refresh_interval=5)
    assert mapper.resource_for("pods").kind == "Pod"
    group = f"disc-{uuid.uuid4().hex[:8]}.example.com"
    crd = widget_crd(group)
    name = crd["metadata"]["name"]
    api_client.request("POST", CRDS, body=crd)
    try:
        wait_until(api_client, CRDS, name, condition_true("Established"))
        # The server publishes the new group in discovery shortly after Established; each lookup miss past the
        # refresh interval refreshes discovery once.
        by_kind = _resolve_eventually(mapper, clock, "Widget")
        by_plural = mapper.resource_for(f"widgets.{group}")

        assert by_kind == by_plural
        assert (by_kind.group, by_kind.version, by_kind.resource, by_kind.subresources) == (
            group,
            "v1",
            "widgets",
            ("status",),
        )
        assert mapper.resource_for("wdg") == by_kind
    finally:
        delete_quietly(api_client, f"{CRDS}/{name}")
    wait_until(api_client, CRDS, name, lambda obj: obj is None)
    clock.now += discovery.ttl
    _gone_eventually(mapper, clock, "Widget")
    with pytest.raises(ResourceNotFoundError):
        mapper.resource_for(f"widgets.{group}")


def _resolve_eventually(mapper: RESTMapper, clock: FakeClock, name: str) -> APIResource:
    deadline = time.monotonic() + 30
    while True:
        clock.now += 5
        try:
            return mapper.resource_for(name)
        except ResourceNotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # the server's discovery catches up; the loop has a deadline


def _gone_eventually(mapper: RESTMapper, clock: FakeClock, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        clock.now += 5
        try:
            mapper.resource_for(name)
        except ResourceNotFoundError:
            return
        time.sleep(0.1)  # the server's discovery catches up; the loop has a deadline
    raise AssertionError(f"{name} still resolves 30 s after its CRD was deleted")


def test_a_crd_is_usable_the_moment_it_is_established_with_the_default_mapper(api_client: APIClient) -> None:
    # Before: a miss refreshed only a discovery result 5 s old, so the new resource was "not found" for 5 s.
    mapper = RESTMapper(Discovery(api_client, cache_dir=False))
    assert mapper.resource_for("pods").kind == "Pod"  # discovery fetched just now
    group = f"now-{uuid.uuid4().hex[:8]}.example.com"
    crd = widget_crd(group)
    api_client.request("POST", CRDS, body=crd)
    try:
        wait_until(api_client, CRDS, crd["metadata"]["name"], condition_true("Established"))

        assert mapper.resource_for(f"widgets.{group}").kind == "Widget"
    finally:
        delete_quietly(api_client, f"{CRDS}/{crd['metadata']['name']}")
